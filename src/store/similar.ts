import type { Sql } from '../db/sql.ts';
import { BM25_WEIGHTS, type KeywordMatch } from './search.ts';
import { pgQuery, pgRank } from './search-pg.ts';

export interface Neighbour {
  id: number;
  score: number;
}

export interface CachedNeighbours {
  method: string;
  corpusSize: number;
  computedAt: string;
  neighbours: Neighbour[];
}

export async function cachedSimilar(sql: Sql, paperId: number): Promise<CachedNeighbours | undefined> {
  const r = await sql.get<{ method: string; corpus_size: number; computed_at: string; neighbours: string }>(
    'SELECT method, corpus_size, computed_at, neighbours FROM similar_cache WHERE paper_id = ?',
    [paperId],
  );
  return r && { method: r.method, corpusSize: r.corpus_size, computedAt: r.computed_at, neighbours: JSON.parse(r.neighbours) as Neighbour[] };
}

export async function storeSimilar(sql: Sql, paperId: number, c: CachedNeighbours): Promise<void> {
  await sql.run(
    `INSERT INTO similar_cache (paper_id, method, corpus_size, computed_at, neighbours) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (paper_id) DO UPDATE SET method = excluded.method, corpus_size = excluded.corpus_size,
       computed_at = excluded.computed_at, neighbours = excluded.neighbours`,
    [paperId, c.method, c.corpusSize, c.computedAt, JSON.stringify(c.neighbours)],
  );
}

/** BM25 more-like-this: the paper's distinctive words as an any-word query, the paper itself left out. */
export async function moreLikeThis(sql: Sql, paperId: number, match: KeywordMatch, k: number): Promise<Neighbour[]> {
  if (sql.dialect === 'postgres') return pgRank(sql, await pgQuery(sql, match.spec), k, { notId: paperId });
  const [wt, wa, wu] = BM25_WEIGHTS;
  const rows = await sql.all<{ id: number; s: number }>(
    `SELECT rowid AS id, bm25(papers_fts, ${wt}, ${wa}, ${wu}) AS s FROM papers_fts WHERE papers_fts MATCH ? AND rowid != ? ORDER BY s LIMIT ?`,
    [match.fts, paperId, k],
  );
  return rows.map((r) => ({ id: r.id, score: -r.s }));
}

/** How many documents contain each term (FTS5's own counts, stemmed as indexed; SQLite). */
export async function documentFrequencies(sql: Sql, terms: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (!terms.length) return out;
  const rows = await sql.all<{ term: string; doc: number }>(
    `SELECT term, doc FROM papers_fts_vocab WHERE term IN (${terms.map(() => '?').join(',')})`,
    terms,
  );
  for (const r of rows) out.set(r.term, r.doc);
  return out;
}

/** Documents per term summed over every indexed term starting with `prefix` (an upper bound; SQLite). */
export async function prefixFrequency(sql: Sql, prefix: string): Promise<number> {
  const r = await sql.get<{ n: number | null }>('SELECT SUM(doc) AS n FROM papers_fts_vocab WHERE term >= ? AND term < ?', [prefix, `${prefix}\u{10FFFF}`]);
  return r?.n ?? 0;
}

/** Papers with no cached neighbours yet, newest first. */
export async function papersWithoutSimilar(sql: Sql, limit: number): Promise<string[]> {
  const rows = await sql.all<{ key: string }>(
    'SELECT p.key FROM papers p LEFT JOIN similar_cache c ON c.paper_id = p.id WHERE c.paper_id IS NULL ORDER BY p.id DESC LIMIT ?',
    [limit],
  );
  return rows.map((r) => r.key);
}
