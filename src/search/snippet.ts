import { MARK_END, MARK_START } from '../store/search.ts';
import { stems } from './stemmer.ts';

/** The words a snippet marks: indexed terms (stemmed) and prefixes, as FTS5 matches them. */
export interface Highlight {
  terms: ReadonlySet<string>;
  prefixes: readonly string[];
  /** First three letters of each word and term: a word can only stem to a term it shares them with. */
  heads: ReadonlySet<string>;
}

/** Tokens as FTS5's unicode61 tokeniser sees them (same pattern as the query parser). */
export const TOKEN_RE = /[\p{L}\p{N}\p{Co}][\p{L}\p{N}\p{Co}\p{M}]*/gu;

export function highlightOf(words: readonly string[], prefixes: readonly string[]): Highlight {
  const terms = new Set(stems(words).filter(Boolean));
  return { terms, prefixes: stems(prefixes).filter(Boolean), heads: new Set([...words, ...terms].map((w) => w.slice(0, 3))) };
}

/**
 * Snippets of many texts at once (one stemming pass): the window of `size` words with the most
 * distinct matched terms (then the most matches), each match between MARK_START and MARK_END,
 * `…` where the text was cut. Undefined for a text with no match.
 */
export function snippetsOf(texts: readonly string[], h: Highlight, size = 40): (string | undefined)[] {
  // Only words that could stem to a marked term are stemmed (and lower-cased): Porter rewrites
  // suffixes only, so a word shares its first three letters with the query word it matches (or
  // with its stem). Token offsets go into flat arrays: no object per token.
  const first = new Uint8Array(0x10000);
  for (const w of [...h.heads, ...h.prefixes]) first[w.charCodeAt(0)] = 1;
  const candidate = (w: string) => first[w.charCodeAt(0)] === 1 && (h.heads.has(w.slice(0, 3)) || h.prefixes.some((x) => w.startsWith(x)));
  const words = new Set<string>();
  const tokenised = texts.map((text) => {
    const at: number[] = [];
    const end: number[] = [];
    const word: (string | null)[] = [];
    tokenOffsets(text, at, end);
    // Lower-casing the whole text at once is cheaper, when it keeps every offset.
    const whole = text.toLowerCase();
    const lower = whole.length === text.length ? whole : null;
    for (let i = 0; i < at.length; i++) {
      // The first letter rules out most words before any string is made.
      if (lower && first[lower.charCodeAt(at[i]!)] === 0) {
        word.push(null);
        continue;
      }
      const w = lower ? lower.slice(at[i], end[i]) : text.slice(at[i], end[i]).toLowerCase();
      if (candidate(w)) {
        word.push(w);
        words.add(w);
      } else word.push(null);
    }
    return { at, end, word };
  });
  const all = [...words];
  const stemmed = stems(all);
  const stemOf = new Map(all.map((w, i) => [w, stemmed[i] ?? '']));
  return texts.map((text, k) => {
    const t = tokenised[k]!;
    let any = false;
    const key = t.word.map((w) => {
      if (w === null) return null;
      const s = stemOf.get(w) ?? '';
      if (h.terms.has(s)) return ((any = true), s);
      const p = h.prefixes.find((x) => s.startsWith(x) || w.startsWith(x));
      if (p === undefined) return null;
      any = true;
      return `${p}*`;
    });
    if (!any) return undefined;
    const [start, stop] = bestWindow(key, size);
    let out = start > 0 ? '…' : '';
    // Unmarked stretches are copied whole; the text is cut only around marked words.
    let pos = t.at[start]!;
    for (let i = start; i < stop; i++) {
      if (key[i] === null) continue;
      const a = t.at[i]!;
      const e = t.end[i]!;
      out += `${text.slice(pos, a)}${MARK_START}${text.slice(a, e)}${MARK_END}`;
      pos = e;
    }
    if (stop < key.length) out += `${text.slice(pos, t.end[stop - 1])}…`;
    else out += text.slice(pos).replace(/\s+$/, '');
    return out;
  });
}

/**
 * Character classes of UTF-16 code units, filled on first sight from the token pattern:
 * 1 starts or continues a token (letter, number, private use), 2 only continues one (mark),
 * 3 neither; 0 not seen yet.
 */
const CLASS = new Uint8Array(0x10000);
const START_RE = /^[\p{L}\p{N}\p{Co}]$/u;
const MARK_RE = /^\p{M}$/u;

function classOf(c: number): number {
  let k = CLASS[c]!;
  if (k === 0) {
    const ch = String.fromCharCode(c);
    k = START_RE.test(ch) ? 1 : MARK_RE.test(ch) ? 2 : 3;
    CLASS[c] = k;
  }
  return k;
}

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * Token start and end offsets, as TOKEN_RE finds them: a loop over a table of code units, or the
 * pattern itself for text with characters beyond the BMP (surrogate pairs).
 */
export function tokenOffsets(text: string, at: number[], end: number[]): void {
  if (SURROGATE.test(text)) {
    TOKEN_RE.lastIndex = 0;
    for (let m = TOKEN_RE.exec(text); m !== null; m = TOKEN_RE.exec(text)) {
      at.push(m.index);
      end.push(m.index + m[0].length);
    }
    return;
  }
  const n = text.length;
  let i = 0;
  while (i < n) {
    while (i < n && classOf(text.charCodeAt(i)) !== 1) i++;
    if (i === n) break;
    at.push(i);
    for (i++; i < n; i++) {
      const k = classOf(text.charCodeAt(i));
      if (k !== 1 && k !== 2) break;
    }
    end.push(i);
  }
}

/** [start, end) of the window with the most distinct keys, then the most keyed tokens. */
export function bestWindow(key: readonly (string | null)[], size: number): [number, number] {
  const n = key.length;
  if (n <= size) return [0, n];
  const counts = new Map<string, number>();
  let distinct = 0;
  let hits = 0;
  const add = (k: string | null, d: 1 | -1) => {
    if (k === null) return;
    hits += d;
    const c = (counts.get(k) ?? 0) + d;
    if (c === 0 && d < 0) distinct--;
    if (c === 1 && d > 0) distinct++;
    counts.set(k, c);
  };
  for (let i = 0; i < size; i++) add(key[i]!, 1);
  let best = 0;
  let bestScore = distinct * 1000 + hits;
  for (let s = 1; s + size <= n; s++) {
    add(key[s - 1]!, -1);
    add(key[s + size - 1]!, 1);
    const score = distinct * 1000 + hits;
    if (score > bestScore) {
      best = s;
      bestScore = score;
    }
  }
  // Start a little before the first match, so it has some context.
  const first = key.findIndex((k, i) => i >= best && k !== null);
  const start = Math.max(0, Math.min(best, first - 3));
  return [start, Math.min(n, start + size)];
}
