import type { Sql } from '../db/sql.ts';

export interface JobRow {
  name: string;
  next_run_at: string;
  locked_by: string | null;
  locked_until: string | null;
  last_started_at: string | null;
  last_finished_at: string | null;
  last_status: string | null;
  last_message: string | null;
}

/** Makes sure a job has a row; a new job is due at `firstRunAt`. */
export async function ensureJob(sql: Sql, name: string, firstRunAt: string): Promise<void> {
  await sql.run('INSERT INTO jobs (name, next_run_at) VALUES (?, ?) ON CONFLICT DO NOTHING', [name, firstRunAt]);
}

/**
 * Claims a due job with a lease. Exactly one claimer wins; an expired lease
 * (its holder died) can be taken over.
 */
export async function claimJob(sql: Sql, name: string, owner: string, now: string, leaseUntil: string): Promise<boolean> {
  const r = await sql.run(
    `UPDATE jobs SET locked_by = ?, locked_until = ?, last_started_at = ?
     WHERE name = ? AND next_run_at <= ? AND (locked_until IS NULL OR locked_until < ?)`,
    [owner, leaseUntil, now, name, now, now],
  );
  return r.changes === 1;
}

/** Releases a claimed job and schedules its next run. Does nothing if the lease was lost. */
export async function finishJob(
  sql: Sql,
  name: string,
  owner: string,
  result: { finishedAt: string; nextRunAt: string; status: 'ok' | 'failed'; message: string | null },
): Promise<boolean> {
  const r = await sql.run(
    `UPDATE jobs SET locked_by = NULL, locked_until = NULL, next_run_at = ?, last_finished_at = ?, last_status = ?, last_message = ?
     WHERE name = ? AND locked_by = ?`,
    [result.nextRunAt, result.finishedAt, result.status, result.message, name, owner],
  );
  return r.changes === 1;
}

export async function listJobs(sql: Sql): Promise<JobRow[]> {
  return sql.all<JobRow>('SELECT * FROM jobs ORDER BY name');
}

/** Extends a held lease; false when this owner no longer holds it. */
export async function renewJob(sql: Sql, name: string, owner: string, leaseUntil: string): Promise<boolean> {
  const r = await sql.run('UPDATE jobs SET locked_until = ? WHERE name = ? AND locked_by = ?', [leaseUntil, name, owner]);
  return r.changes === 1;
}

/** Clears every job lease not held by `owner` (a new sole scheduler taking over); returns how many. */
export async function releaseOtherLeases(sql: Sql, owner: string): Promise<number> {
  const r = await sql.run('UPDATE jobs SET locked_by = NULL, locked_until = NULL WHERE locked_by IS NOT NULL AND locked_by <> ?', [owner]);
  return r.changes;
}
