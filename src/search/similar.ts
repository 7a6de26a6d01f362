import type { Sql } from '../db/sql.ts';
import { countPapers, getPaper, papersByIds, type StoredPaper } from '../store/papers.ts';
import { cachedSimilar, moreLikeThis, storeSimilar, type Neighbour } from '../store/similar.ts';
import { anyWordMatch } from './fts-expr.ts';
import { wordsOf } from './query.ts';
import { STOPWORDS } from './stopwords.ts';
import type { SemanticIndex } from './semantic.ts';
import { defaultBudget } from './service.ts';
import { DfCache } from './terms.ts';

const dfCache = new DfCache();

export interface SimilarAnswer {
  paper: StoredPaper;
  method: 'more-like-this' | 'vector';
  cached: boolean;
  results: (StoredPaper & { score: number })[];
}

/** A cached list is reused until the corpus has grown by more than this fraction, or for a week. */
const STALE_GROWTH = 0.01;
const STALE_MS = 7 * 86_400_000;
const MAX_TERMS = 24;

/**
 * The words that best tell a paper apart: TF-IDF over title (weighted) and
 * abstract, document frequencies from the FTS index itself.
 */
export async function distinctiveTerms(sql: Sql, p: StoredPaper, corpusSize: number): Promise<string[]> {
  const tf = new Map<string, number>();
  const add = (text: string, weight: number) => {
    for (const w of wordsOf(text)) {
      if (w.length < 3 || STOPWORDS.has(w) || /^\d+$/.test(w)) continue;
      tf.set(w, (tf.get(w) ?? 0) + weight);
    }
  };
  add(p.title, 3);
  add(p.abstract, 1);
  const words = [...tf.keys()];
  const df = await dfCache.get(sql, words);
  const scored = words.map((w) => {
    const d = Math.max(1, df.get(w) ?? 0);
    return { w, s: (tf.get(w) ?? 0) * Math.log(1 + corpusSize / d) };
  });
  const top = scored.sort((a, b) => b.s - a.s).slice(0, MAX_TERMS);
  // Scoring is per posting: past the budget, the commonest of the chosen words go first.
  const budget = defaultBudget(corpusSize);
  const byDf = [...top].sort((a, b) => (df.get(a.w) ?? 0) - (df.get(b.w) ?? 0));
  let sum = byDf.reduce((a, x) => a + (df.get(x.w) ?? 0), 0);
  while (byDf.length > 1 && sum > budget) sum -= df.get(byDf.pop()!.w) ?? 0;
  const kept = new Set(byDf.map((x) => x.w));
  return top.filter((x) => kept.has(x.w)).map((x) => x.w);
}

/** The neighbours of a paper, before their papers are read: ids and scores, best first. */
export interface SimilarNeighbours {
  paper: StoredPaper;
  method: 'more-like-this' | 'vector';
  cached: boolean;
  neighbours: Neighbour[];
}

export interface SimilarOptions {
  k?: number;
  now?: Date;
  semantic?: SemanticIndex | null | undefined;
  /** The paper, when the caller has it already. */
  paper?: StoredPaper;
}

/**
 * The papers most like one paper, as ids and scores: its nearest vectors when search by meaning
 * is on and the paper has been embedded (fast enough to need no cache), otherwise BM25
 * more-like-this, cached.
 */
export async function similarNeighbours(sql: Sql, key: string, opts: SimilarOptions = {}): Promise<SimilarNeighbours | undefined> {
  const k = Math.max(1, Math.min(opts.k ?? 10, 50));
  const now = opts.now ?? new Date();
  const paper = opts.paper?.key === key ? opts.paper : await getPaper(sql, key);
  if (!paper) return undefined;
  const near = opts.semantic ? await opts.semantic.neighbours(sql, paper.id, k) : undefined;
  if (near?.length) return { paper, method: 'vector', cached: false, neighbours: near };
  const size = await countPapers(sql);
  const cached = await cachedSimilar(sql, paper.id);
  let neighbours: Neighbour[];
  let fresh = false;
  if (
    cached &&
    cached.neighbours.length >= Math.min(k, size - 1) &&
    Math.abs(size - cached.corpusSize) <= cached.corpusSize * STALE_GROWTH &&
    now.getTime() - Date.parse(cached.computedAt) < STALE_MS
  ) {
    neighbours = cached.neighbours;
  } else {
    const terms = await distinctiveTerms(sql, paper, size);
    const match = anyWordMatch(terms);
    neighbours = match ? await moreLikeThis(sql, paper.id, match, Math.max(k, 10)) : [];
    await storeSimilar(sql, paper.id, { method: 'more-like-this', corpusSize: size, computedAt: now.toISOString(), neighbours });
    fresh = true;
  }
  return { paper, method: 'more-like-this', cached: !fresh, neighbours: neighbours.slice(0, k) };
}

/**
 * The papers most like one paper, read in full with their scores (the API and the CLI). Pages that
 * only link to them read cards instead: `similarNeighbours` with `paperCards`.
 */
export async function similarPapers(sql: Sql, key: string, opts: SimilarOptions = {}): Promise<SimilarAnswer | undefined> {
  const near = await similarNeighbours(sql, key, opts);
  if (!near) return undefined;
  const papers = await papersByIds(sql, near.neighbours.map((n) => n.id));
  const results = near.neighbours.flatMap((n) => {
    const p = papers.get(n.id);
    return p ? [{ ...p, score: Math.round(n.score * 1e4) / 1e4 }] : [];
  });
  return { paper: near.paper, method: near.method, cached: near.cached, results };
}
