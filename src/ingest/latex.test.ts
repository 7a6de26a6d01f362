import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { latexToUnicode } from './latex.ts';

test('accents in author names', () => {
  const cases: [string, string][] = [
    ["Bal\\'azs", 'Balázs'],
    ["C. Bal\\'azs", 'C. Balázs'],
    ['M\\"uller', 'Müller'],
    ['M\\"{u}ller', 'Müller'],
    ['{M\\"u}ller', 'Müller'],
    ['{\\"O}', 'Ö'],
    ['{\\"O}zg{\\"u}r', 'Özgür'],
    ['Erd\\H{o}s', 'Erdős'],
    ['Erd\\H os', 'Erdős'],
    ['Fran\\c{c}ois', 'François'],
    ['Fran\\c cois', 'François'],
    ['\\c{S}ahin', 'Şahin'],
    ['\\v{S}koda', 'Škoda'],
    ['Dvo\\v{r}\\\'ak', 'Dvořák'],
    ['Gau\\ss', 'Gauß'],
    ['Gau{\\ss}', 'Gauß'],
    ['Stra\\ss{}e', 'Straße'],
    ['\\o', 'ø'],
    ['Bj{\\o}rn', 'Bjørn'],
    ['S\\o ren', 'Søren'],
    ['{\\O}stergaard', 'Østergaard'],
    ["{\\'E}mile", 'Émile'],
    ["\\'{E}mile", 'Émile'],
    ["Jos\\'e", 'José'],
    ['\\`a la', 'à la'],
    ['Ant\\^onio', 'Antônio'],
    ['Ma\\~nas', 'Mañas'],
    ['Ma\\~{n}as', 'Mañas'],
    ['\\={a}', 'ā'],
    ['\\.{Z}ebrowski', 'Żebrowski'],
    ['\\u{g}', 'ğ'],
    ['\\k{a}', 'ą'],
    ['\\r{A}ngstr\\"om', 'Ångström'],
    ['\\AA{}ngstr\\"om', 'Ångström'],
    ['Ko\\l{}odziej', 'Kołodziej'],
    ['\\L ukasz', 'Łukasz'],
    ["\\'\\i", 'í'],
    ["\\'{\\i}", 'í'],
    ['Ca\\~{n}ete \\& Sons', 'Cañete & Sons'],
  ];
  for (const [input, want] of cases) assert.equal(latexToUnicode(input), want, input);
});

test('output is NFC: one code point per accented letter', () => {
  const out = latexToUnicode("Bal\\'azs");
  assert.equal(out, out.normalize('NFC'));
  assert.equal(out.length, 6);
});

test('plain names are untouched', () => {
  for (const name of ['C. Balázs', 'E. L. Berger', 'C.-P. Yuan', "O'Brien", 'Jean-Luc Picard', 'Søren Ørsted', '李 小龙', 'Ann Lee Jr.', '']) {
    assert.equal(latexToUnicode(name), name);
  }
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(...'abcXYZ éøß.-\' ,'.split('')) }), (s) => {
      assert.equal(latexToUnicode(s), s);
    }),
  );
});

test('dotless i and j as letters', () => {
  assert.equal(latexToUnicode('Y{\\i}lmaz'), 'Yılmaz');
});

test('~ is a space whether or not the name has other LaTeX', () => {
  assert.equal(latexToUnicode('M\\"uller~Jr'), 'Müller Jr');
  assert.equal(latexToUnicode('Smith~Jr'), 'Smith Jr');
});

test('property: never throws', () => {
  const latexish = fc
    .array(fc.constantFrom('\\', '{', '}', "'", '"', '`', '^', '~', '=', '.', 'u', 'v', 'H', 'c', 'k', 'r', 'ss', 'o', 'i', 'a', ' ', '&', 'é'), { maxLength: 20 })
    .map((p) => p.join(''));
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), latexish), (s) => {
      assert.equal(typeof latexToUnicode(s), 'string');
    }),
    { numRuns: 500 },
  );
});

const base = fc.constantFrom(...'aeiouAEIOUcnsSzZgrRy'.split(''));
const symbolAccent = fc.constantFrom("'", '`', '^', '"', '~', '=', '.');
const letterAccent = fc.constantFrom('u', 'v', 'H', 'c', 'k', 'r');
const special = fc.constantFrom('ss', 'ae', 'AE', 'oe', 'OE', 'aa', 'AA', 'o', 'O', 'l', 'L');

/** One accented letter in any of the spellings arXiv authors use. */
const accented = fc.oneof(
  fc.tuple(symbolAccent, base, fc.integer({ min: 0, max: 3 })).map(([acc, ch, form]) =>
    [`\\${acc}${ch}`, `\\${acc}{${ch}}`, `{\\${acc}${ch}}`, `{\\${acc}{${ch}}}`][form]!,
  ),
  fc.tuple(letterAccent, base, fc.integer({ min: 0, max: 2 })).map(([acc, ch, form]) => [`\\${acc}{${ch}}`, `{\\${acc}{${ch}}}`, `\\${acc} ${ch}`][form]!),
  fc.tuple(special, fc.integer({ min: 0, max: 2 })).map(([name, form]) => [`{\\${name}}`, `\\${name}{}`, `\\${name} `][form]!),
);

const plain = fc.string({ unit: fc.constantFrom(...'abcdefghXYZ .-'.split('')), maxLength: 6 });

const name = fc.array(fc.oneof(accented, plain), { minLength: 1, maxLength: 6 }).map((parts) => parts.join(''));

test('property: generated accent inputs leave no backslash sequences behind', () => {
  fc.assert(
    fc.property(name, (s) => {
      const out = latexToUnicode(s);
      assert.doesNotMatch(out, /\\/, `${s} → ${out}`);
      assert.doesNotMatch(out, /[{}]/, `${s} → ${out}`);
      assert.equal(out, out.normalize('NFC'));
      assert.equal(latexToUnicode(out), out); // idempotent
    }),
    { numRuns: 1_000 },
  );
});
