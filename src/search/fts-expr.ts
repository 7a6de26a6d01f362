import type { KeywordMatch } from '../store/search.ts';
import type { ParsedQuery } from './query.ts';

/**
 * FTS5 MATCH expressions from a ParsedQuery, for a table with columns `title`, `abstract`, `authors`.
 *
 * Every user word goes out inside an FTS5 string (`"…"`, with `"` doubled), so operators,
 * column filters, `*`, `^`, `NEAR(` and friends typed by the user are only ever words.
 * The only syntax in the output is ours: AND, OR, NOT, `*`, parentheses and `authors :`.
 */

/** An FTS5 string literal: the text in double quotes, inner double quotes doubled. */
export function ftsString(text: string): string {
  return `"${text.replaceAll('"', '""')}"`;
}

function excludedStrings(p: ParsedQuery): string[] {
  return [...p.excludes.map(ftsString), ...p.excludePhrases.map((ws) => ftsString(ws.join(' ')))];
}

/** More than this many terms, phrases and prefixes → a natural-language query, run in OR mode. */
export const OR_THRESHOLD = 4;

/**
 * Long natural-language queries (more than 4 terms, phrases and prefixes together) should run in
 * OR mode with BM25 ranking; short ones in AND mode, falling back to OR when AND finds nothing.
 */
export function needsOr(p: ParsedQuery): boolean {
  return p.terms.length + p.phrases.length + p.prefixes.length > OR_THRESHOLD;
}

/**
 * The MATCH expression, or null when there is nothing for FTS5 to match (only non-FTS filters,
 * only exclusions — FTS5 has no stand-alone NOT — or nothing at all); the caller then lists by
 * filters. Authors are always required, whatever the mode; exclusions always apply.
 *
 *   AND: `"a" AND "b c" AND "tr" * AND authors : "song han" NOT "x"`
 *   OR:  `("a" OR "b c" OR "tr" *) AND authors : "song han" NOT "x"`
 */
export function ftsMatch(p: ParsedQuery, opts: { mode: 'and' | 'or' }): string | null {
  const positives = [
    ...p.terms.map(ftsString),
    ...p.phrases.map((ws) => ftsString(ws.join(' '))),
    ...p.prefixes.map((w) => `${ftsString(w)} *`),
  ];
  // A name is a phrase in the authors column (`Song Han` must not match `Song Li, Wei Han`);
  // a two-word name also matches in the other order (`Han Song`), as name conventions differ.
  const authors = p.authors.map((a) => {
    const w = a.split(' ');
    return w.length === 2 ? `authors : (${ftsString(a)} OR ${ftsString(`${w[1]} ${w[0]}`)})` : `authors : ${ftsString(a)}`;
  });
  const required =
    opts.mode === 'and' || positives.length < 2
      ? [...positives, ...authors]
      : [authors.length > 0 ? `(${positives.join(' OR ')})` : positives.join(' OR '), ...authors];
  if (required.length === 0) return null;
  const excluded = excludedStrings(p);
  if (excluded.length === 0) return required.join(' AND ');
  // NOT binds tighter than AND and OR in FTS5, so a compound left side needs parentheses.
  const compound = required.length > 1 || (opts.mode === 'or' && positives.length > 1);
  const left = compound ? `(${required.join(' AND ')})` : required.join(' AND ');
  return [left, ...excluded].join(' NOT ');
}

/**
 * The exclusions alone as `"x" OR "state space"`, or null when there are none: for a query that
 * is only exclusions, the caller can list by filters with
 * `rowid NOT IN (SELECT rowid FROM fts WHERE fts MATCH ?)`.
 */
export function ftsExcluded(p: ParsedQuery): string | null {
  const excluded = excludedStrings(p);
  return excluded.length === 0 ? null : excluded.join(' OR ');
}

/** ftsMatch with the same query as items, for the store (PostgreSQL matches and ranks from those). */
export function keywordMatch(p: ParsedQuery, opts: { mode: 'and' | 'or' }): KeywordMatch | null {
  const fts = ftsMatch(p, opts);
  if (fts === null) return null;
  const spec = {
    mode: opts.mode,
    terms: p.terms,
    phrases: p.phrases,
    prefixes: p.prefixes,
    authors: p.authors,
    excludes: [...p.excludes.map((w) => [w]), ...p.excludePhrases],
  };
  return { fts, spec };
}

/** ftsExcluded as a KeywordMatch: the papers having any of the exclusions. */
export function keywordExcluded(p: ParsedQuery): KeywordMatch | null {
  const fts = ftsExcluded(p);
  if (fts === null) return null;
  const spec = { mode: 'or' as const, terms: [], phrases: [...p.excludes.map((w) => [w]), ...p.excludePhrases], prefixes: [], authors: [], excludes: [] };
  return { fts, spec };
}

/** Any of these words (more-like-this), or null when there are none. */
export function anyWordMatch(words: readonly string[]): KeywordMatch | null {
  if (!words.length) return null;
  return { fts: words.map(ftsString).join(' OR '), spec: { mode: 'or', terms: words, phrases: [], prefixes: [], authors: [], excludes: [] } };
}
