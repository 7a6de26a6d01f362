import type { Sql } from '../db/sql.ts';
import { papersByIds, type StoredPaper } from '../store/papers.ts';
import type { SemanticState } from './runtime.ts';
import { parseQuery } from './query.ts';
import { item, searchKeyword, type SearchAnswer, type SearchOptions } from './service.ts';

export type RequestedMode = 'auto' | 'keyword' | 'vector' | 'hybrid';

export interface HybridOptions extends SearchOptions {
  mode?: RequestedMode | undefined;
  /** Weight of the vector score (keyword gets 1 − w). */
  weight?: number | undefined;
  /** Candidates taken from each side before fusion. */
  pool?: number | undefined;
}

/** Min–max normalised scores, so BM25 and cosine can be added. */
function normalised(scores: Map<string, number>): Map<string, number> {
  const v = [...scores.values()];
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  return new Map([...scores].map(([k, s]) => [k, hi > lo ? (s - lo) / (hi - lo) : 1]));
}

/** Normalised-score fusion: w·vector + (1 − w)·keyword, each min–max scaled over its own candidates. */
export function fuse(keyword: Map<string, number>, vector: Map<string, number>, w: number): [string, number][] {
  const k = normalised(keyword);
  const v = normalised(vector);
  const keys = new Set([...k.keys(), ...v.keys()]);
  return [...keys].map((key) => [key, (1 - w) * (k.get(key) ?? 0) + w * (v.get(key) ?? 0)] as [string, number]).sort((a, b) => b[1] - a[1]);
}

function passes(p: StoredPaper, q: ReturnType<typeof parseQuery>): boolean {
  if (q.categories.length && !p.categories.some((c) => q.categories.some((f) => (f.endsWith('.') ? c === f.slice(0, -1) || c.startsWith(f) : c === f)))) return false;
  const d = p.submittedAt?.slice(0, 10);
  if (q.since && (!d || d < q.since)) return false;
  if (q.until && (!d || d > q.until)) return false;
  if (q.hasCode !== undefined && p.links.some((l) => l.kind === 'code') !== q.hasCode) return false;
  return true;
}

/**
 * Search by keyword, by meaning, or both fused. `auto` is hybrid when an
 * embedder and vectors are there, else keyword — and the answer says why.
 */
export async function search(sql: Sql, semantic: SemanticState, query: string, opts: HybridOptions = {}): Promise<SearchAnswer> {
  const requested = opts.mode ?? 'auto';
  const limit = Math.max(1, Math.min(opts.limit ?? 20, 100));
  const offset = Math.max(0, Math.min(opts.offset ?? 0, 10_000));
  const s = semantic.semantic;
  let reason = semantic.reason ?? 'no embedder';
  if (s && requested !== 'keyword') {
    await s.load(sql);
    if (s.size === 0) reason = 'no vectors yet: run paperboy reindex';
  }
  if (requested === 'keyword' || !s || s.size === 0) {
    const a = await searchKeyword(sql, query, opts);
    if (requested !== 'keyword') a.vector = { available: false, reason };
    if (requested === 'vector' || requested === 'hybrid') a.ignored.push(`search by meaning is unavailable (${reason}): keyword results`);
    return a;
  }
  const pool = Math.max(opts.pool ?? 100, limit + offset);
  const kw = await searchKeyword(sql, query, { ...opts, limit: Math.min(pool, 100), offset: 0 });
  if (kw.mode === 'id' || kw.mode === 'filters') return kw;
  const parsed = parseQuery(query);
  const text = [...parsed.terms, ...parsed.phrases.map((p) => p.join(' '))].join(' ') || query;
  let vectorHits: { id: number; score: number }[];
  try {
    vectorHits = await s.search(sql, text, pool * 2);
  } catch (err) {
    kw.vector = { available: false, reason: `the embedder failed: ${(err as Error).message}` };
    kw.ignored.push('search by meaning failed for this query: keyword results');
    kw.results = kw.results.slice(offset, offset + limit);
    return kw;
  }
  const papers = await papersByIds(sql, vectorHits.map((h) => h.id));
  const vec = new Map<string, number>();
  for (const h of vectorHits) {
    const p = papers.get(h.id);
    if (p && passes(p, parsed)) vec.set(p.key, h.score);
    if (vec.size >= pool) break;
  }
  const kwScores = new Map(kw.results.map((r) => [r.id, r.score]));
  const w = requested === 'vector' ? 1 : (opts.weight ?? 0.5);
  const ranked = requested === 'vector' ? [...vec].sort((a, b) => b[1] - a[1]) : fuse(kwScores, vec, w);
  const byKey = new Map(kw.results.map((r) => [r.id, r]));
  const vecPapers = new Map([...papers.values()].map((p) => [p.key, p]));
  const results = ranked.slice(offset, offset + limit).flatMap(([key, score]) => {
    const r = byKey.get(key) ?? (vecPapers.get(key) ? item(vecPapers.get(key)!, score, undefined) : undefined);
    return r ? [{ ...r, score: Math.round(score * 1e4) / 1e4 }] : [];
  });
  return {
    ...kw,
    mode: requested === 'vector' ? 'vector' : 'hybrid',
    limit,
    offset,
    results,
    total: requested === 'vector' ? vec.size : Math.max(kw.total, ranked.length),
    vector: { available: true, model: s.embedder.id, candidates: vec.size },
  };
}
