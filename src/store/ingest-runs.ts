import type { Sql } from '../db/sql.ts';
import type { IngestSummary } from '../ingest/pipeline.ts';

export interface IngestRun {
  id: number;
  source: string;
  idempotencyKey: string | null;
  status: 'running' | 'ok' | 'failed';
  startedAt: string;
  finishedAt: string | null;
}

/**
 * Starts a run. With an idempotency key, a key already used by a finished or
 * running run returns null: that work is done (or being done) elsewhere.
 */
export async function startRun(
  sql: Sql,
  source: string,
  args: unknown,
  startedAt: string,
  idempotencyKey: string | null = null,
): Promise<number | null> {
  if (idempotencyKey) {
    const prior = await sql.get<{ id: number; status: string }>('SELECT id, status FROM ingest_runs WHERE idempotency_key = ?', [idempotencyKey]);
    if (prior && prior.status !== 'failed') return null;
    if (prior) await sql.run('UPDATE ingest_runs SET idempotency_key = NULL WHERE id = ?', [prior.id]);
  }
  const row = await sql.get<{ id: number }>(
    `INSERT INTO ingest_runs (source, idempotency_key, args, status, started_at) VALUES (?, ?, ?, 'running', ?)
     ON CONFLICT DO NOTHING RETURNING id`,
    [source, idempotencyKey, JSON.stringify(args), startedAt],
  );
  return row?.id ?? null;
}

export async function finishRun(sql: Sql, id: number, s: IngestSummary, finishedAt: string, message: string | null = null): Promise<void> {
  const status = s.failures.length > 0 ? 'failed' : 'ok';
  await sql.run(
    `UPDATE ingest_runs SET status = ?, finished_at = ?, read = ?, new = ?, updated = ?, unchanged = ?, skipped = ?,
     errors = ?, message = ? WHERE id = ?`,
    [status, finishedAt, s.read, s.new, s.updated, s.unchanged, s.skipped, JSON.stringify([...s.failures, ...s.errors].slice(0, 50)),
      message ?? (s.failures[0] ? `${s.failures[0].where}: ${s.failures[0].reason}` : null), id],
  );
}

export async function failRun(sql: Sql, id: number, message: string, finishedAt: string): Promise<void> {
  await sql.run(`UPDATE ingest_runs SET status = 'failed', finished_at = ?, message = ? WHERE id = ?`, [finishedAt, message, id]);
}

export interface SourceStats {
  source: string;
  papers: number;
  lastRunAt: string | null;
  lastStatus: string | null;
  lastOkAt: string | null;
}

export interface Stats {
  papers: number;
  signals: number;
  sources: SourceStats[];
  ingestRuns: number;
}

export async function stats(sql: Sql): Promise<Stats> {
  const papers = (await sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM papers'))?.n ?? 0;
  const signals = (await sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM signals'))?.n ?? 0;
  const runs = (await sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM ingest_runs'))?.n ?? 0;
  const perSource = await sql.all<{ source: string; n: number }>('SELECT source, COUNT(*) AS n FROM paper_sources GROUP BY source');
  const last = await sql.all<{ source: string; started_at: string; status: string }>(
    `SELECT r.source, r.started_at, r.status FROM ingest_runs r
     WHERE r.id = (SELECT MAX(id) FROM ingest_runs x WHERE x.source = r.source)`,
  );
  const lastOk = await sql.all<{ source: string; at: string }>(
    `SELECT source, MAX(finished_at) AS at FROM ingest_runs WHERE status = 'ok' GROUP BY source`,
  );
  const names = new Set([...perSource.map((r) => r.source), ...last.map((r) => r.source)]);
  const sources = [...names].sort().map((source) => {
    const l = last.find((r) => r.source === source);
    return {
      source,
      papers: Number(perSource.find((r) => r.source === source)?.n ?? 0),
      lastRunAt: l?.started_at ?? null,
      lastStatus: l?.status ?? null,
      lastOkAt: lastOk.find((r) => r.source === source)?.at ?? null,
    };
  });
  return { papers: Number(papers), signals: Number(signals), sources, ingestRuns: Number(runs) };
}

/** One ingest run as the admin area lists it: counts, errors and the run's own message. */
export interface IngestRunDetail extends IngestRun {
  args: string;
  read: number;
  new: number;
  updated: number;
  unchanged: number;
  skipped: number;
  /** The first errors and failures (`{where, reason}`), as stored. */
  errors: { where: string; reason: string }[];
  message: string | null;
}

function parseErrors(raw: string | null): { where: string; reason: string }[] {
  try {
    const v: unknown = JSON.parse(raw ?? '[]');
    if (!Array.isArray(v)) return [];
    return v.map((e: unknown) => {
      const o = (e ?? {}) as { where?: unknown; reason?: unknown };
      return { where: String(o.where ?? ''), reason: String(o.reason ?? '') };
    });
  } catch {
    return [];
  }
}

/** The newest ingest runs first (optionally only one status), `limit` from `offset`. */
export async function listIngestRuns(sql: Sql, q: { limit: number; offset?: number; status?: IngestRun['status'] | undefined }): Promise<IngestRunDetail[]> {
  const rows = await sql.all<{
    id: number; source: string; idempotency_key: string | null; args: string; status: IngestRun['status']; started_at: string; finished_at: string | null;
    read: number; new: number; updated: number; unchanged: number; skipped: number; errors: string | null; message: string | null;
  }>(
    `SELECT id, source, idempotency_key, args, status, started_at, finished_at, read, new, updated, unchanged, skipped, errors, message
     FROM ingest_runs ${q.status ? 'WHERE status = ?' : ''} ORDER BY id DESC LIMIT ? OFFSET ?`,
    [...(q.status ? [q.status] : []), q.limit, q.offset ?? 0],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    source: r.source,
    idempotencyKey: r.idempotency_key,
    args: r.args,
    status: r.status,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    read: Number(r.read),
    new: Number(r.new),
    updated: Number(r.updated),
    unchanged: Number(r.unchanged),
    skipped: Number(r.skipped),
    errors: parseErrors(r.errors),
    message: r.message,
  }));
}

/** How many ingest runs there are in each status. */
export async function ingestRunCounts(sql: Sql): Promise<Record<IngestRun['status'], number>> {
  const rows = await sql.all<{ status: IngestRun['status']; n: number }>('SELECT status, COUNT(*) AS n FROM ingest_runs GROUP BY status');
  const out: Record<IngestRun['status'], number> = { running: 0, ok: 0, failed: 0 };
  for (const r of rows) out[r.status] = Number(r.n);
  return out;
}
