/**
 * A small, safe parser for Python literal reprs: what `repr()` prints for
 * dicts, lists, tuples, strings, numbers, True/False/None.
 *
 * Dicts become plain objects (string keys only), lists and tuples become
 * arrays. Nothing is evaluated. Errors are thrown as PyLiteralError with the
 * offending position; nesting deeper than `maxDepth` is an error, never a
 * stack overflow.
 */

export type PyValue = null | boolean | number | string | PyValue[] | { [key: string]: PyValue };

export class PyLiteralError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} at position ${position}`);
    this.name = 'PyLiteralError';
  }
}

export interface PyLiteralOptions {
  /** Maximum nesting of containers; default 200. */
  maxDepth?: number | undefined;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\n': '',
};
const HEX_ESCAPES: Record<string, number> = { x: 2, u: 4, U: 8 };
const WORDS: Record<string, PyValue> = { True: true, False: false, None: null, inf: Infinity, nan: NaN };
const NUMBER_RE = /[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const WORD_RE = /[+-]?[A-Za-z_]\w*/y;

export function parsePyLiteral(text: string, opts: PyLiteralOptions = {}): PyValue {
  if (typeof text !== 'string') throw new PyLiteralError('input is not a string', 0);
  const maxDepth = opts.maxDepth ?? 200;
  let pos = 0;

  function fail(message: string, at = pos): never {
    throw new PyLiteralError(message, at);
  }
  const describe = (at: number): string => (at >= text.length ? 'end of input' : `character ${JSON.stringify(text[at])}`);

  function skipSpace(): void {
    while (pos < text.length && ' \t\n\r\f\v'.includes(text.charAt(pos))) pos++;
  }

  function expect(ch: string): void {
    skipSpace();
    if (text[pos] !== ch) fail(`expected '${ch}' but found ${describe(pos)}`);
    pos++;
  }

  /** After an element: consumes ',' and reports whether another element may follow before `close`. */
  function more(close: string): boolean {
    skipSpace();
    if (text[pos] === ',') {
      pos++;
      skipSpace();
      return text[pos] !== close;
    }
    if (text[pos] !== close) fail(`expected ',' or '${close}' but found ${describe(pos)}`);
    return false;
  }

  function value(depth: number): PyValue {
    skipSpace();
    const ch = text[pos];
    if (ch === "'" || ch === '"') return str();
    if (ch === '[' || ch === '(' || ch === '{') {
      if (depth >= maxDepth) fail(`nesting deeper than ${maxDepth}`);
      pos++;
      if (ch === '[') return list(']', depth + 1);
      if (ch === '{') return dict(depth + 1);
      return tuple(depth + 1);
    }
    return scalar();
  }

  function list(close: string, depth: number): PyValue[] {
    const out: PyValue[] = [];
    skipSpace();
    if (text[pos] !== close) {
      do out.push(value(depth));
      while (more(close));
    }
    expect(close);
    return out;
  }

  /** `()` and `(a, b)` are tuples (arrays); `(a)` is just a parenthesised value. */
  function tuple(depth: number): PyValue {
    skipSpace();
    if (text[pos] === ')') {
      pos++;
      return [];
    }
    const first = value(depth);
    skipSpace();
    if (text[pos] === ')') {
      pos++;
      return first;
    }
    expect(',');
    return [first, ...list(')', depth)];
  }

  function dict(depth: number): { [key: string]: PyValue } {
    const out: { [key: string]: PyValue } = {};
    skipSpace();
    if (text[pos] !== '}') {
      do {
        skipSpace();
        const at = pos;
        if (text[pos] !== "'" && text[pos] !== '"') fail(`expected a string key but found ${describe(pos)}`, at);
        const key = str();
        expect(':');
        // defineProperty keeps keys such as "__proto__" as ordinary own properties
        Object.defineProperty(out, key, { value: value(depth), enumerable: true, writable: true, configurable: true });
      } while (more('}'));
    }
    expect('}');
    return out;
  }

  function str(): string {
    const start = pos;
    const quote = text[pos];
    pos++;
    let out = '';
    let run = pos;
    for (;;) {
      if (pos >= text.length) fail('unterminated string', start);
      const c = text[pos];
      if (c === quote) {
        out += text.slice(run, pos);
        pos++;
        return out;
      }
      if (c === '\n' || c === '\r') fail('newline in string', pos);
      if (c !== '\\') {
        pos++;
        continue;
      }
      out += text.slice(run, pos);
      out += escape();
      run = pos;
    }
  }

  /** Decodes the escape sequence at `pos` (which is a backslash) and moves past it. */
  function escape(): string {
    const at = pos;
    const c = text.charAt(pos + 1);
    if (c === '') fail('unterminated string', at);
    pos += 2;
    const simple = SIMPLE_ESCAPES[c];
    if (simple !== undefined) return simple;
    const width = HEX_ESCAPES[c];
    if (width !== undefined) {
      const digits = text.slice(pos, pos + width);
      if (digits.length !== width || !/^[0-9a-fA-F]+$/.test(digits)) fail(`invalid \\${c} escape`, at);
      const code = parseInt(digits, 16);
      if (code > 0x10ffff) fail(`invalid \\${c} escape (code point out of range)`, at);
      pos += width;
      return String.fromCodePoint(code);
    }
    if (c >= '0' && c <= '7') {
      const digits = /^[0-7]{1,3}/.exec(text.slice(pos - 1, pos + 2))?.[0] ?? c;
      pos += digits.length - 1;
      return String.fromCodePoint(parseInt(digits, 8));
    }
    return `\\${c}`; // Python keeps unknown escapes as written
  }

  function scalar(): PyValue {
    const start = pos;
    WORD_RE.lastIndex = pos;
    const word = WORD_RE.exec(text)?.[0];
    if (word !== undefined) {
      const sign = word[0] === '-' ? -1 : 1;
      const bare = word.replace(/^[+-]/, '');
      const known = WORDS[bare];
      const signable = bare === 'inf' || bare === 'nan';
      if (known === undefined || (bare !== word && !signable)) fail(`unknown name '${word.slice(0, 40)}'`, start);
      pos += word.length;
      return typeof known === 'number' ? sign * known : known;
    }
    NUMBER_RE.lastIndex = pos;
    const num = NUMBER_RE.exec(text)?.[0];
    if (num === undefined) fail(`unexpected ${describe(pos)}`, start);
    pos += num.length;
    if (/^[\w.]/.test(text.charAt(pos))) fail(`invalid number '${text.slice(start, pos + 1).slice(0, 40)}'`, start);
    return Number(num);
  }

  const result = value(0);
  skipSpace();
  if (pos < text.length) fail(`unexpected ${describe(pos)} after the value`);
  return result;
}
