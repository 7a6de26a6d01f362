import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parsePyLiteral, PyLiteralError, type PyValue } from './pyliteral.ts';

test('scalars', () => {
  assert.equal(parsePyLiteral('True'), true);
  assert.equal(parsePyLiteral('False'), false);
  assert.equal(parsePyLiteral('None'), null);
  assert.equal(parsePyLiteral('42'), 42);
  assert.equal(parsePyLiteral('-7'), -7);
  assert.equal(parsePyLiteral('+3'), 3);
  assert.equal(parsePyLiteral('1.5'), 1.5);
  assert.equal(parsePyLiteral('-2.5e-05'), -2.5e-5);
  assert.equal(parsePyLiteral('1e+21'), 1e21);
  assert.equal(parsePyLiteral('.5'), 0.5);
  assert.equal(parsePyLiteral('inf'), Infinity);
  assert.equal(parsePyLiteral('-inf'), -Infinity);
  assert.ok(Number.isNaN(parsePyLiteral('nan')));
  assert.ok(Object.is(parsePyLiteral('-0.0'), -0));
  assert.equal(parsePyLiteral('  7\n'), 7);
});

test('strings and escapes', () => {
  assert.equal(parsePyLiteral("'it'"), 'it');
  assert.equal(parsePyLiteral(`"it's"`), "it's");
  assert.equal(parsePyLiteral(`'say "hi"'`), 'say "hi"');
  assert.equal(parsePyLiteral(String.raw`'a\nb\tc\\d\'e\"f'`), 'a\nb\tc\\d\'e"f');
  assert.equal(parsePyLiteral(String.raw`'\x41\u00e9\U0001F600'`), 'Aé😀');
  assert.equal(parsePyLiteral(String.raw`'\r\a\b\f\v\0\101'`), '\r\x07\b\f\v\0A');
  assert.equal(parsePyLiteral(String.raw`'\ud83d'`), '\ud83d');
  assert.equal(parsePyLiteral(String.raw`'\q'`), '\\q'); // unknown escapes are kept, as in Python
  assert.equal(parsePyLiteral("'naïve – 中文'"), 'naïve – 中文');
  assert.equal(parsePyLiteral("''"), '');
});

test('containers', () => {
  assert.deepEqual(parsePyLiteral('[]'), []);
  assert.deepEqual(parsePyLiteral('[1, [2, (3, 4)], ]'), [1, [2, [3, 4]]]);
  assert.deepEqual(parsePyLiteral('()'), []);
  assert.deepEqual(parsePyLiteral('(1,)'), [1]);
  assert.equal(parsePyLiteral('(1)'), 1);
  assert.deepEqual(parsePyLiteral(`{'a': 1, "b": [None, True], 'c': {}}`), { a: 1, b: [null, true], c: {} });
  assert.deepEqual(parsePyLiteral("{'a': 1, 'a': 2}"), { a: 2 });
  const proto = parsePyLiteral("{'__proto__': {'x': 1}}") as Record<string, PyValue>;
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);
  assert.deepEqual(Object.keys(proto), ['__proto__']);
});

test('a real Hugging Face entry repr', () => {
  const repr =
    "{'paper': {'id': '2412.07730', 'authors': [{'_id': '67590a', 'name': 'Zongyu Lin', 'hidden': False}], " +
    "'upvotes': 70, 'title': \"STIV: Scalable Text and Image Conditioned Video Generation\", 'githubStars': None}, 'numComments': 2}";
  assert.deepEqual(parsePyLiteral(repr), {
    paper: {
      id: '2412.07730',
      authors: [{ _id: '67590a', name: 'Zongyu Lin', hidden: false }],
      upvotes: 70,
      title: 'STIV: Scalable Text and Image Conditioned Video Generation',
      githubStars: null,
    },
    numComments: 2,
  });
});

test('errors carry a message and position', () => {
  const cases: [string, RegExp][] = [
    ['', /unexpected end of input at position 0/],
    ["'abc", /unterminated string at position 0/],
    ["'a\nb'", /newline in string at position 2/],
    ['[1, 2', /expected ',' or '\]' but found end of input at position 5/],
    ['[1 2]', /expected ',' or '\]'.* at position 3/],
    ['{1: 2}', /expected a string key .* at position 1/],
    ["{'a' 1}", /expected ':' .* at position 5/],
    ['true', /unknown name 'true' at position 0/],
    ['-None', /unknown name '-None'/],
    ['1.2.3', /invalid number '1.2.'/],
    [String.raw`'\x4'`, /invalid \\x escape at position 1/],
    [String.raw`'\U00110000'`, /out of range/],
    ['1 2', /after the value at position 2/],
    ['{1, 2}', /expected a string key/],
    ['@', /unexpected character "@" at position 0/],
  ];
  for (const [input, re] of cases) {
    assert.throws(() => parsePyLiteral(input), (err: unknown) => err instanceof PyLiteralError && re.test(err.message), input);
  }
});

test('deep nesting is an error, not a stack overflow', () => {
  assert.ok(Array.isArray(parsePyLiteral('['.repeat(200) + ']'.repeat(200))));
  assert.throws(() => parsePyLiteral('['.repeat(201) + ']'.repeat(201)), /nesting deeper than 200 at position 200/);
  for (const open of ['[', '(', "{'a': "]) {
    assert.throws(() => parsePyLiteral(open.repeat(100_000)), /nesting deeper than 200/);
  }
  assert.throws(() => parsePyLiteral('[[[1]]]', { maxDepth: 2 }), /nesting deeper than 2/);
});

test('a long string is fast', () => {
  const big = 'x'.repeat(5_000_000);
  assert.equal(parsePyLiteral(`'${big}\\n'`), `${big}\n`);
});

test('property: arbitrary input returns or throws an Error', () => {
  const input = fc.oneof(
    fc.string({ unit: 'binary' }),
    fc.string({ unit: fc.constantFrom(...`[](){},:'"\\ xuU01-.eTrueFalseNoneinf`.split('')) }),
  );
  fc.assert(
    fc.property(input, (s) => {
      try {
        parsePyLiteral(s);
      } catch (err) {
        assert.ok(err instanceof PyLiteralError, String(err));
      }
    }),
    { numRuns: 2000 },
  );
});

/** Python repr of a JSON-ish value: `ascii` escapes non-ASCII like Python's ascii(). */
function toPython(v: PyValue, ascii: boolean, tuples: boolean): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'nan';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
    return Object.is(v, -0) ? '-0.0' : String(v);
  }
  if (typeof v === 'string') return pyString(v, ascii);
  if (Array.isArray(v)) {
    const parts = v.map((x) => toPython(x, ascii, tuples));
    if (!tuples) return `[${parts.join(', ')}]`;
    return parts.length === 1 ? `(${parts[0]},)` : `(${parts.join(', ')})`;
  }
  return `{${Object.entries(v)
    .map(([k, x]) => `${pyString(k, ascii)}: ${toPython(x, ascii, tuples)}`)
    .join(', ')}}`;
}

function pyString(s: string, ascii: boolean): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    const hex = (width: number): string => code.toString(16).padStart(width, '0');
    if (ch === '\\' || ch === quote) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${hex(2)}`;
    else if (!ascii || code < 0x7f) out += ch;
    else if (code < 0x100) out += `\\x${hex(2)}`;
    else if (code < 0x10000) out += `\\u${hex(4)}`;
    else out += `\\U${hex(8)}`;
  }
  return quote + out + quote;
}

test('property: a Python repr parses back equal', () => {
  const text = fc.string({ unit: 'binary' });
  const { value } = fc.letrec<{ value: PyValue }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.double(),
      text,
      fc.array(tie('value'), { maxLength: 5 }),
      fc.dictionary(text, tie('value'), { maxKeys: 5, noNullPrototype: true }),
    ),
  }));
  fc.assert(
    fc.property(value, fc.boolean(), fc.boolean(), (v, ascii, tuples) => {
      assert.deepStrictEqual(parsePyLiteral(toPython(v, ascii, tuples)), v);
    }),
    { numRuns: 1000 },
  );
});
