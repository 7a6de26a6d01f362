import type { Param, Sql } from '../db/sql.ts';
import { pgMatchSql, pgQuery, pgRank } from './search-pg.ts';

/**
 * What a keyword query matches, for either database: the FTS5 MATCH expression (SQLite) and the
 * same query as items (PostgreSQL builds its tsquery and BM25 items from them).
 */
export interface KeywordMatch {
  fts: string;
  spec: MatchSpec;
}

export interface MatchSpec {
  /** 'and': every positive item is required; 'or': any one (when there are two or more). */
  mode: 'and' | 'or';
  terms: readonly string[];
  phrases: readonly (readonly string[])[];
  prefixes: readonly string[];
  /** Names (lower-case words joined by one space), in the authors column; always required. */
  authors: readonly string[];
  /** Words and phrases (as their words) a match must not have. */
  excludes: readonly (readonly string[])[];
}

export interface SearchFilters {
  /** Exact categories (`cs.CV`) or prefixes ending in a dot (`cs.`). */
  categories?: readonly string[] | undefined;
  /** YYYY-MM-DD, inclusive. */
  since?: string | undefined;
  until?: string | undefined;
  hasCode?: boolean | undefined;
  /** Papers matching it are left out (a query of exclusions only). */
  exclude?: KeywordMatch | undefined;
}

export interface Hit {
  id: number;
  /** Higher is better. */
  score: number;
}

/** Field weights for BM25: title, abstract, authors (tuned on SciFact training claims). */
export const BM25_WEIGHTS = [3, 1, 2] as const;

/** Snippet markers: private-use characters, replaced by the renderer after escaping. */
export const MARK_START = '\uE000';
export const MARK_END = '\uE001';

async function filterSql(sql: Sql, f: SearchFilters, alias: string): Promise<{ where: string; params: Param[] }> {
  const parts: string[] = [];
  const params: Param[] = [];
  if (f.categories?.length) {
    // `cs.CV` exactly; `cs.` means the archive itself or any subject under it.
    const ors: string[] = [];
    for (const c of f.categories) {
      if (c.endsWith('.')) {
        ors.push(`${alias}.categories LIKE ?`, `${alias}.categories LIKE ?`);
        params.push(`%"${c.slice(0, -1)}"%`, `%"${c}%`);
      } else {
        ors.push(`${alias}.categories LIKE ?`);
        params.push(`%"${c}"%`);
      }
    }
    parts.push(`(${ors.join(' OR ')})`);
  }
  if (f.since) {
    parts.push(`${alias}.submitted_at >= ?`);
    params.push(f.since);
  }
  if (f.until) {
    parts.push(`${alias}.submitted_at < ?`);
    params.push(nextDay(f.until));
  }
  if (f.hasCode !== undefined) parts.push(`${alias}.has_code = ${f.hasCode ? 1 : 0}`);
  if (f.exclude && sql.dialect === 'sqlite') {
    parts.push(`${alias}.id NOT IN (SELECT rowid FROM papers_fts WHERE papers_fts MATCH ?)`);
    params.push(f.exclude.fts);
  } else if (f.exclude) {
    const q = await pgQuery(sql, f.exclude.spec);
    if (q.tsquery !== null) {
      parts.push(`${alias}.id NOT IN (SELECT paper_id FROM search_docs WHERE tsv @@ ?::tsquery)`);
      params.push(q.tsquery);
    }
  }
  return { where: parts.join(' AND '), params };
}

function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

const hasFilters = (f: SearchFilters) => Boolean(f.categories?.length || f.since || f.until || f.hasCode !== undefined || f.exclude);

/** Where ranking looks: every match, or only papers with rowid above `afterRowid` (the newest). */
export interface Scope {
  afterRowid?: number | undefined;
}

const FILTER_CHUNK = 500;

/**
 * BM25 top-k inside FTS5, then joined: ranking happens in the subquery with a LIMIT, and only the
 * winners are read. With filters, a pool of ranked ids is filtered in rank order, a chunk at a
 * time, until there are enough.
 */
export async function keywordHits(sql: Sql, match: KeywordMatch, filters: SearchFilters, limit: number, offset = 0, scope: Scope = {}): Promise<Hit[]> {
  const want = limit + offset;
  let rank: (n: number) => Promise<Hit[]>;
  if (sql.dialect === 'postgres') {
    const q = await pgQuery(sql, match.spec);
    rank = (n) => pgRank(sql, q, n, { scope });
  } else {
    const [wt, wa, wu] = BM25_WEIGHTS;
    const inScope = scope.afterRowid !== undefined ? ' AND rowid > ?' : '';
    const scopeParams = scope.afterRowid !== undefined ? [scope.afterRowid] : [];
    rank = async (n) =>
      (
        await sql.all<{ id: number; s: number }>(
          `SELECT rowid AS id, bm25(papers_fts, ${wt}, ${wa}, ${wu}) AS s FROM papers_fts WHERE papers_fts MATCH ?${inScope} ORDER BY s LIMIT ?`,
          [match.fts, ...scopeParams, n],
        )
      ).map((r) => ({ id: r.id, score: -r.s }));
  }
  if (!hasFilters(filters)) return (await rank(want)).slice(offset);
  const ranked = await rank(Math.max(want * 20, 2000));
  const f = await filterSql(sql, filters, 'p');
  const out: Hit[] = [];
  for (let i = 0; i < ranked.length && out.length < want; i += FILTER_CHUNK) {
    const chunk = ranked.slice(i, i + FILTER_CHUNK);
    const pass = await sql.all<{ id: number }>(
      `SELECT p.id FROM papers p WHERE p.id IN (${chunk.map(() => '?').join(',')}) AND ${f.where}`,
      [...chunk.map((r) => r.id), ...f.params],
    );
    const ok = new Set(pass.map((r) => r.id));
    for (const r of chunk) if (ok.has(r.id)) out.push(r);
  }
  return out.slice(offset, want);
}

/**
 * How many papers match, counted up to `cap`. With filters, only the first `scan` matches are
 * looked at (reading papers rows is the cost); `capped` says the figure is a lower bound.
 */
export async function keywordCount(sql: Sql, match: KeywordMatch, filters: SearchFilters, cap = 10_000, scan = 2_000): Promise<{ total: number; capped: boolean }> {
  const m = await matchSql(sql, match);
  if (!m) return { total: 0, capped: false };
  if (!hasFilters(filters)) {
    const r = await sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM (${m.sql} LIMIT ?) m`, [...m.params, cap]);
    const total = r?.n ?? 0;
    return { total, capped: total >= cap };
  }
  const f = await filterSql(sql, filters, 'p');
  const r = await sql.get<{ n: number; seen: number }>(
    `SELECT COUNT(*) AS seen, SUM(CASE WHEN ${f.where} THEN 1 ELSE 0 END) AS n FROM (${m.sql} LIMIT ?) m JOIN papers p ON p.id = m.id`,
    [...f.params, ...m.params, scan],
  );
  const total = Math.min(r?.n ?? 0, cap);
  return { total, capped: (r?.seen ?? 0) >= scan || total >= cap };
}

/**
 * The ids of the papers matching, as a subquery (`id`), or null when nothing can match. On
 * PostgreSQL `few` asks for the form that checks a few given papers (the tsquery, `paper_id`);
 * otherwise the one that reads the postings of the query's items.
 */
async function matchSql(sql: Sql, match: KeywordMatch, few = false): Promise<{ sql: string; params: Param[] } | null> {
  if (sql.dialect === 'sqlite') return { sql: 'SELECT rowid AS id FROM papers_fts WHERE papers_fts MATCH ?', params: [match.fts] };
  const q = await pgQuery(sql, match.spec);
  if (!few) return pgMatchSql(sql, q);
  return q.tsquery === null ? null : { sql: 'SELECT paper_id AS id FROM search_docs WHERE tsv @@ ?::tsquery', params: [q.tsquery] };
}

/**
 * After a bulk load (eval's temporary corpus): fresh planner statistics and visibility maps, so
 * PostgreSQL plans the postings with index-only scans at once instead of after autovacuum.
 * Nothing to do on SQLite.
 */
export async function settleSearchIndex(sql: Sql): Promise<void> {
  if (sql.dialect !== 'postgres') return;
  for (const t of ['papers', 'search_docs', 'search_postings']) await sql.exec(`VACUUM ANALYZE ${t}`);
}

/** The highest paper rowid (papers are numbered in the order they arrived). */
export async function maxPaperId(sql: Sql): Promise<number> {
  const r = await sql.get<{ n: number | null }>('SELECT MAX(id) AS n FROM papers');
  return r?.n ?? 0;
}

/** Papers by filters alone (no words), newest first. */
export async function filteredHits(sql: Sql, filters: SearchFilters, limit: number, offset = 0): Promise<{ hits: Hit[]; total: number }> {
  const f = await filterSql(sql, filters, 'p');
  const where = f.where ? `WHERE ${f.where}` : '';
  const rows = await sql.all<{ id: number }>(
    `SELECT p.id FROM papers p ${where} ORDER BY p.submitted_at DESC NULLS LAST, p.id DESC LIMIT ? OFFSET ?`,
    [...f.params, limit, offset],
  );
  const total = await sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM papers p ${where} LIMIT 10000) x`, f.params);
  return { hits: rows.map((r, i) => ({ id: r.id, score: 1 / (offset + i + 1) })), total: total?.n ?? 0 };
}

export interface Facets {
  categories: { value: string; count: number }[];
  years: { value: string; count: number }[];
  hasCode: number;
}

/** Facet counts over a set of papers (the top of a result set). */
export async function facets(sql: Sql, ids: readonly number[]): Promise<Facets> {
  const out: Facets = { categories: [], years: [], hasCode: 0 };
  if (!ids.length) return out;
  const cats = new Map<string, number>();
  const years = new Map<string, number>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const rows = await sql.all<{ categories: string; submitted_at: string | null; has_code: number }>(
      `SELECT categories, submitted_at, has_code FROM papers WHERE id IN (${chunk.map(() => '?').join(',')})`,
      chunk,
    );
    for (const r of rows) {
      for (const c of JSON.parse(r.categories) as string[]) cats.set(c, (cats.get(c) ?? 0) + 1);
      if (r.submitted_at) years.set(r.submitted_at.slice(0, 4), (years.get(r.submitted_at.slice(0, 4)) ?? 0) + 1);
      out.hasCode += r.has_code ? 1 : 0;
    }
  }
  out.categories = [...cats].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count || a.value.localeCompare(b.value)).slice(0, 20);
  out.years = [...years].map(([value, count]) => ({ value, count })).sort((a, b) => b.value.localeCompare(a.value));
  return out;
}

/** Ids of papers matching, newest first (author and category pages, feeds). */
export async function newestMatching(sql: Sql, match: KeywordMatch, limit: number, offset = 0): Promise<number[]> {
  const m = await matchSql(sql, match);
  if (!m) return [];
  const rows = await sql.all<{ id: number }>(
    `SELECT p.id FROM papers p WHERE p.id IN (${m.sql})
     ORDER BY p.submitted_at DESC NULLS LAST, p.id DESC LIMIT ? OFFSET ?`,
    [...m.params, limit, offset],
  );
  return rows.map((r) => r.id);
}

/** Which of these papers match. */
export async function matchingAmong(sql: Sql, match: KeywordMatch, ids: readonly number[]): Promise<Set<number>> {
  const out = new Set<number>();
  const m = await matchSql(sql, match, true);
  if (!m) return out;
  const idCol = sql.dialect === 'sqlite' ? 'rowid' : 'paper_id';
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const rows = await sql.all<{ id: number }>(`${m.sql} AND ${idCol} IN (${chunk.map(() => '?').join(',')})`, [...m.params, ...chunk]);
    for (const r of rows) out.add(r.id);
  }
  return out;
}
