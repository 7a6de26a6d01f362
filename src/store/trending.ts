import type { Sql } from '../db/sql.ts';
import { growth, hotness, points, type Observation, type TrendingWeights } from '../ranking/score.ts';

/** One paper's stored trending figures. */
export interface TrendingRow {
  paperId: number;
  hot: number;
  points: number;
  trendingAt: string;
  votes: number;
  upvotes: number;
  comments: number;
  stars: number;
  starGrowth: number;
}

const BATCH = 500;

interface PaperFacts {
  id: number;
  submitted_at: string | null;
  created_at: string;
  votes: number;
  votes_24h: number;
}

/**
 * Recomputes and stores the trending figures of the given papers (with 'all': every paper with
 * signals, votes or a stored score, in id order and batches). Papers with none of those have no
 * points and need no row: they are never trending. Returns how many papers were scored.
 */
export async function recomputeTrending(
  sql: Sql,
  ids: readonly number[] | 'all',
  w: TrendingWeights,
  now: Date,
  onProgress?: (done: number, total: number) => void,
): Promise<number> {
  const stamp = now.toISOString();
  const dayAgo = new Date(now.getTime() - 86_400_000).toISOString();
  let done = 0;
  const scoreBatch = async (batch: readonly number[]) => {
    if (!batch.length) return;
    const marks = batch.map(() => '?').join(',');
    const facts = await sql.all<PaperFacts>(
      `SELECT p.id, p.submitted_at, p.created_at,
         (SELECT COUNT(*) FROM votes v WHERE v.paper_id = p.id) AS votes,
         (SELECT COUNT(*) FROM votes v WHERE v.paper_id = p.id AND v.created_at >= ?) AS votes_24h
       FROM papers p WHERE p.id IN (${marks})`,
      [dayAgo, ...batch],
    );
    const sig = await sql.all<{ paper_id: number; name: string; value: number; observed_at: string }>(
      `SELECT paper_id, name, value, observed_at FROM signals WHERE paper_id IN (${marks})`,
      batch,
    );
    const byPaper = new Map<number, Map<string, Observation[]>>();
    for (const s of sig) {
      const m = byPaper.get(s.paper_id) ?? new Map<string, Observation[]>();
      const list = m.get(s.name) ?? [];
      list.push({ value: s.value, at: s.observed_at });
      m.set(s.name, list);
      byPaper.set(s.paper_id, m);
    }
    await sql.tx(async (tx) => {
      for (const f of facts) {
        const m = byPaper.get(f.id);
        const upvotes = growth(m?.get('hf_upvotes') ?? []).latest;
        const comments = growth(m?.get('hf_comments') ?? []).latest;
        const stars = growth(m?.get('github_stars') ?? []);
        const firstSignal = [...(m?.values() ?? [])].flat().reduce<string | null>((a, o) => (a === null || o.at < a ? o.at : a), null);
        const trendingAt = firstSignal ?? f.submitted_at ?? f.created_at;
        const pts = points({ votes: f.votes, upvotes, comments, stars: stars.latest, starGrowth: stars.growth }, w);
        const hot = hotness(pts, Date.parse(trendingAt) || 0, w.halfLifeHours);
        await tx.run(
          `INSERT INTO trending (paper_id, hot, points, trending_at, votes, votes_24h, upvotes, comments, stars, star_growth, computed_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (paper_id) DO UPDATE SET hot = excluded.hot, points = excluded.points, trending_at = excluded.trending_at,
             votes = excluded.votes, votes_24h = excluded.votes_24h, upvotes = excluded.upvotes, comments = excluded.comments,
             stars = excluded.stars, star_growth = excluded.star_growth, computed_at = excluded.computed_at`,
          [f.id, hot, pts, trendingAt, f.votes, f.votes_24h, upvotes, comments, stars.latest, stars.growth, stamp],
        );
      }
    });
    done += facts.length;
  };
  if (ids !== 'all') {
    for (let i = 0; i < ids.length; i += BATCH) await scoreBatch(ids.slice(i, i + BATCH));
    return done;
  }
  // Only papers with something to score: signals, votes, or a stored score that may have to drop.
  const ACTIVE = 'SELECT paper_id AS id FROM signals UNION SELECT paper_id FROM votes UNION SELECT paper_id FROM trending';
  const total = Number((await sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM (${ACTIVE}) a`))?.n ?? 0);
  let after = 0;
  for (;;) {
    const rows = await sql.all<{ id: number }>(`SELECT id FROM (${ACTIVE}) a WHERE id > ? ORDER BY id LIMIT ?`, [after, BATCH]);
    if (!rows.length) break;
    after = rows.at(-1)!.id;
    await scoreBatch(rows.map((r) => r.id));
    onProgress?.(done, total);
  }
  return done;
}

export type TrendingOrder = 'hot' | 'points' | 'new';

export interface TrendingQuery {
  order: TrendingOrder;
  /** Only papers whose trending date is at or after this (ISO). */
  since?: string | undefined;
  limit: number;
  offset?: number | undefined;
}

interface Row {
  paper_id: number;
  hot: number;
  points: number;
  trending_at: string;
  votes: number;
  upvotes: number;
  comments: number;
  stars: number;
  star_growth: number;
}

const fromRow = (r: Row): TrendingRow => ({
  paperId: r.paper_id,
  hot: r.hot,
  points: r.points,
  trendingAt: r.trending_at,
  votes: r.votes,
  upvotes: r.upvotes,
  comments: r.comments,
  stars: r.stars,
  starGrowth: r.star_growth,
});

const SELECT = 'SELECT paper_id, hot, points, trending_at, votes, upvotes, comments, stars, star_growth FROM trending';
const ORDER: Record<TrendingOrder, string> = {
  // Exactly the indexes' order, so a page is read straight off an index.
  hot: 'hot DESC',
  points: 'points DESC, hot DESC',
  new: 'trending_at DESC',
};

function whereOf(order: TrendingOrder, since: string | undefined): string {
  const parts = [...(order === 'new' ? [] : ['points > 0']), ...(since ? ['trending_at >= ?'] : [])];
  return parts.length ? `WHERE ${parts.join(' AND ')}` : '';
}

/** Papers by hotness or points (only those with points: someone showed interest), or newest first (all). */
export async function listTrending(sql: Sql, q: TrendingQuery): Promise<TrendingRow[]> {
  const where = whereOf(q.order, q.since);
  const rows = await sql.all<Row>(`${SELECT} ${where} ORDER BY ${ORDER[q.order]} LIMIT ? OFFSET ?`, [
    ...(q.since ? [q.since] : []),
    q.limit,
    q.offset ?? 0,
  ]);
  return rows.map(fromRow);
}

export async function countTrending(sql: Sql, order: TrendingOrder, since?: string): Promise<number> {
  const r = await sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM trending ${whereOf(order, since)}`, since ? [since] : []);
  return Number(r?.n ?? 0);
}

export async function trendingOf(sql: Sql, ids: readonly number[]): Promise<Map<number, TrendingRow>> {
  if (!ids.length) return new Map();
  const rows = await sql.all<Row>(`${SELECT} WHERE paper_id IN (${ids.map(() => '?').join(',')})`, ids);
  return new Map(rows.map((r) => [r.paper_id, fromRow(r)]));
}

/** The latest trending date of a paper with points: windows ("today") end there when the collection is not current. */
export async function latestTrendingAt(sql: Sql): Promise<string | null> {
  const r = await sql.get<{ t: string | null }>('SELECT MAX(trending_at) AS t FROM trending WHERE points > 0');
  return r?.t ?? null;
}

// ------------------------------------------------------------------ votes

/** Casts a vote; false when this voter had already voted for the paper. */
export async function castVote(sql: Sql, paperId: number, voter: string, now: Date): Promise<boolean> {
  const r = await sql.run('INSERT INTO votes (paper_id, voter, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [paperId, voter, now.toISOString()]);
  return r.changes > 0;
}

/** Withdraws a vote; false when there was none. */
export async function withdrawVote(sql: Sql, paperId: number, voter: string): Promise<boolean> {
  const r = await sql.run('DELETE FROM votes WHERE paper_id = ? AND voter = ?', [paperId, voter]);
  return r.changes > 0;
}

/** Which of these papers the voter has voted for. */
export async function votedBy(sql: Sql, voter: string, ids: readonly number[]): Promise<Set<number>> {
  if (!ids.length) return new Set();
  const rows = await sql.all<{ paper_id: number }>(
    `SELECT paper_id FROM votes WHERE voter = ? AND paper_id IN (${ids.map(() => '?').join(',')})`,
    [voter, ...ids],
  );
  return new Set(rows.map((r) => r.paper_id));
}

/** Votes cast for a paper since a time (e.g. the last 24 hours), and in all. */
export async function voteCounts(sql: Sql, paperId: number, since: string): Promise<{ total: number; recent: number }> {
  const r = await sql.get<{ total: number; recent: number | null }>(
    'SELECT COUNT(*) AS total, SUM(CASE WHEN created_at >= ? THEN 1 ELSE 0 END) AS recent FROM votes WHERE paper_id = ?',
    [since, paperId],
  );
  return { total: Number(r?.total ?? 0), recent: Number(r?.recent ?? 0) };
}

/** A paper's signal history, oldest first, for its chart. */
export async function signalHistory(sql: Sql, paperId: number): Promise<{ name: string; value: number; observedAt: string }[]> {
  const rows = await sql.all<{ name: string; value: number; observed_at: string }>(
    'SELECT name, value, observed_at FROM signals WHERE paper_id = ? ORDER BY observed_at',
    [paperId],
  );
  return rows.map((r) => ({ name: r.name, value: r.value, observedAt: r.observed_at }));
}

/** The newest signal row id (signals arrive in id order). */
export async function maxSignalId(sql: Sql): Promise<number> {
  const r = await sql.get<{ n: number | null }>('SELECT MAX(id) AS n FROM signals');
  return r?.n ?? 0;
}

/** Papers that received a signal row after `signalId`. */
export async function papersWithSignalsAfter(sql: Sql, signalId: number): Promise<number[]> {
  const rows = await sql.all<{ paper_id: number }>('SELECT DISTINCT paper_id FROM signals WHERE id > ?', [signalId]);
  return rows.map((r) => r.paper_id);
}

/** Vote totals for these papers (papers without votes are absent). */
export async function voteTotals(sql: Sql, ids: readonly number[]): Promise<Map<number, number>> {
  if (!ids.length) return new Map();
  const rows = await sql.all<{ paper_id: number; n: number }>(
    `SELECT paper_id, COUNT(*) AS n FROM votes WHERE paper_id IN (${ids.map(() => '?').join(',')}) GROUP BY paper_id`,
    ids,
  );
  return new Map(rows.map((r) => [r.paper_id, Number(r.n)]));
}
