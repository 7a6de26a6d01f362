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
const TOKEN_RE = /[\p{L}\p{N}\p{Co}][\p{L}\p{N}\p{Co}\p{M}]*/gu;

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
  const tokenised = texts.map((t) => [...t.matchAll(TOKEN_RE)].map((m) => ({ at: m.index, end: m.index + m[0].length, word: m[0].toLowerCase() })));
  // Only words that could stem to a marked term are stemmed: Porter rewrites suffixes only, so a
  // word shares its first three letters with the query word it matches (or with its stem).
  const candidate = (w: string) => h.heads.has(w.slice(0, 3)) || h.prefixes.some((x) => w.startsWith(x));
  const all = [...new Set(tokenised.flatMap((ts) => ts.map((t) => t.word)))].filter(candidate);
  const stemmed = stems(all);
  const stemOf = new Map(all.map((w, i) => [w, stemmed[i] ?? '']));
  return texts.map((text, k) => {
    const toks = tokenised[k]!;
    const key = toks.map((t) => {
      const s = stemOf.get(t.word) ?? '';
      if (h.terms.has(s)) return s;
      const p = h.prefixes.find((x) => s.startsWith(x) || t.word.startsWith(x));
      return p === undefined ? null : `${p}*`;
    });
    if (!key.some((x) => x !== null)) return undefined;
    const [start, end] = bestWindow(key, size);
    let out = start > 0 ? '…' : '';
    let pos = toks[start]!.at;
    for (let i = start; i < end; i++) {
      const t = toks[i]!;
      out += text.slice(pos, t.at);
      out += key[i] === null ? text.slice(t.at, t.end) : `${MARK_START}${text.slice(t.at, t.end)}${MARK_END}`;
      pos = t.end;
    }
    if (end < toks.length) out += '…';
    else out += text.slice(pos).replace(/\s+$/, '');
    return out;
  });
}

/** [start, end) of the window with the most distinct keys, then the most keyed tokens. */
function bestWindow(key: readonly (string | null)[], size: number): [number, number] {
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
