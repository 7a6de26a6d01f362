import type { Sql } from '../db/sql.ts';

/** Figures for /metrics and /readyz, read from the database (the same whichever process asks). */
export interface DbFigures {
  ingest: { source: string; read: number; new: number; updated: number; unchanged: number; skipped: number }[];
  ingestRuns: { source: string; status: string; n: number }[];
  digests: { status: string; n: number }[];
  /** Pending or being sent now. */
  queueDepth: number;
  /** Seconds the oldest due pending digest has waited (0 when none is late). */
  queueLagSeconds: number;
  sentLastDay: number;
  bounces: { kind: string; total: number; lastDay: number }[];
  subscribers: { status: string; n: number }[];
  jobs: { name: string; lagSeconds: number; lastStatus: string | null; running: boolean }[];
}

const n = (v: unknown) => Number(v ?? 0);

export async function dbFigures(sql: Sql, now: Date): Promise<DbFigures> {
  const iso = now.toISOString();
  const dayAgo = new Date(now.getTime() - 86_400_000).toISOString();
  const [ingest, runs, digests, queue, sent, bounces, subscribers, jobs] = await Promise.all([
    sql.all<Record<string, unknown>>(
      'SELECT source, SUM(read) AS read, SUM(new) AS new, SUM(updated) AS updated, SUM(unchanged) AS unchanged, SUM(skipped) AS skipped FROM ingest_runs GROUP BY source',
    ),
    sql.all<{ source: string; status: string; n: number }>('SELECT source, status, COUNT(*) AS n FROM ingest_runs GROUP BY source, status'),
    sql.all<{ status: string; n: number }>('SELECT status, COUNT(*) AS n FROM digests GROUP BY status'),
    sql.get<{ depth: number; oldest: string | null }>(
      "SELECT COUNT(*) AS depth, MIN(CASE WHEN status = 'pending' THEN next_attempt_at END) AS oldest FROM digests WHERE status IN ('pending', 'sending')",
    ),
    sql.get<{ n: number }>("SELECT COUNT(*) AS n FROM digests WHERE status = 'sent' AND issue_date >= ? AND sent_at >= ?", [dayAgo.slice(0, 10), dayAgo]),
    sql.all<{ kind: string; total: number; last_day: number }>(
      'SELECT kind, COUNT(*) AS total, SUM(CASE WHEN created_at >= ? THEN 1 ELSE 0 END) AS last_day FROM bounces GROUP BY kind',
      [dayAgo],
    ),
    sql.all<{ status: string; n: number }>('SELECT status, COUNT(*) AS n FROM subscribers GROUP BY status'),
    sql.all<{ name: string; next_run_at: string; locked_until: string | null; last_status: string | null }>(
      'SELECT name, next_run_at, locked_until, last_status FROM jobs ORDER BY name',
    ),
  ]);
  const oldest = queue?.oldest ? Date.parse(queue.oldest) : NaN;
  return {
    ingest: ingest.map((r) => ({ source: String(r.source), read: n(r.read), new: n(r.new), updated: n(r.updated), unchanged: n(r.unchanged), skipped: n(r.skipped) })),
    ingestRuns: runs.map((r) => ({ source: r.source, status: r.status, n: n(r.n) })),
    digests: digests.map((r) => ({ status: r.status, n: n(r.n) })),
    queueDepth: n(queue?.depth),
    queueLagSeconds: Number.isFinite(oldest) ? Math.max(0, (now.getTime() - oldest) / 1000) : 0,
    sentLastDay: n(sent?.n),
    bounces: bounces.map((r) => ({ kind: r.kind, total: n(r.total), lastDay: n(r.last_day) })),
    subscribers: subscribers.map((r) => ({ status: r.status, n: n(r.n) })),
    jobs: jobs.map((j) => {
      const running = j.locked_until !== null && j.locked_until > iso;
      return { name: j.name, running, lastStatus: j.last_status, lagSeconds: running ? 0 : Math.max(0, (now.getTime() - Date.parse(j.next_run_at)) / 1000) };
    }),
  };
}

/** True when the database answers. */
export async function ping(sql: Sql): Promise<void> {
  await sql.get('SELECT 1 AS ok');
}
