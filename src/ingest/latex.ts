/** Turns the LaTeX accents used in arXiv author names into Unicode: `Bal\'azs` → `Balázs`. */
const ACCENTS: Record<string, string> = {
  "'": '\u0301', '`': '\u0300', '^': '\u0302', '"': '\u0308', '~': '\u0303', '=': '\u0304', '.': '\u0307',
  u: '\u0306', v: '\u030C', H: '\u030B', c: '\u0327', k: '\u0328', r: '\u030A',
};

const LETTERS: Record<string, string> = {
  ss: 'ß', o: 'ø', O: 'Ø', l: 'ł', L: 'Ł', ae: 'æ', AE: 'Æ', oe: 'œ', OE: 'Œ', aa: 'å', AA: 'Å', i: 'ı', j: 'ȷ',
};

export function latexToUnicode(s: string): string {
  if (!s.includes('\\') && !s.includes('{') && !s.includes('~')) return s;
  let out = s
    // \'{a}, {\'a}, \'a, \c{c}, \v{s}
    .replace(/\{?\\(['`^"~=.])\s*\{?([A-Za-z]|\\[ij])\}?\}?/g, (_m, acc: string, ch: string) => compose(ch, acc))
    .replace(/\{?\\([uvHckr])\s*\{([A-Za-z]|\\[ij])\}\}?/g, (_m, acc: string, ch: string) => compose(ch, acc))
    .replace(/\{?\\([uvHckr]) ([A-Za-z])\}?/g, (_m, acc: string, ch: string) => compose(ch, acc))
    .replace(/\{?\\(ss|ae|AE|oe|OE|aa|AA|o|O|l|L|i|j)(?![A-Za-z])\s?\}?/g, (_m, name: string) => LETTERS[name] ?? name);
  out = out.replace(/[{}]/g, '');
  return out.replace(/\\&/g, '&').replace(/~/g, ' ');
}

function compose(ch: string, acc: string): string {
  const base = ch === '\\i' ? 'i' : ch === '\\j' ? 'j' : ch;
  return (base + (ACCENTS[acc] ?? '')).normalize('NFC');
}
