import type { Sql } from '../db/sql.ts';

/**
 * The digest outbox: one row per (subscriber, issue date), unique, so a digest can be created any
 * number of times and exists once. A row is claimed with a lease (status 'sending', locked_until);
 * a lease that expires (the worker died) makes the row claimable again. A row is 'sent' only after
 * the mail server accepted the message.
 */
export type DigestStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'skipped';

export interface DigestRow {
  id: number;
  subscriberId: number;
  issueDate: string;
  status: DigestStatus;
  attempts: number;
  messageId: string;
  /** The selection, kept at the first attempt: [paper id, reason] pairs. */
  picks: [number, string][] | null;
  lastError: string | null;
}

interface Row {
  id: number;
  subscriber_id: number;
  issue_date: string;
  status: DigestStatus;
  attempts: number;
  message_id: string;
  paper_ids: string | null;
  last_error: string | null;
}

const fromRow = (r: Row): DigestRow => ({
  id: r.id,
  subscriberId: r.subscriber_id,
  issueDate: r.issue_date,
  status: r.status,
  attempts: r.attempts,
  messageId: r.message_id,
  picks: r.paper_ids ? (JSON.parse(r.paper_ids) as [number, string][]) : null,
  lastError: r.last_error,
});

const COLUMNS = 'id, subscriber_id, issue_date, status, attempts, message_id, paper_ids, last_error';

/** Creates the row for a subscriber's issue (idempotent); true when it was created now. */
export async function createDigest(sql: Sql, subscriberId: number, issueDate: string, messageId: string, now: string): Promise<boolean> {
  const r = await sql.run(
    `INSERT INTO digests (subscriber_id, issue_date, status, next_attempt_at, message_id, created_at) VALUES (?, ?, 'pending', ?, ?, ?)
     ON CONFLICT (subscriber_id, issue_date) DO NOTHING`,
    [subscriberId, issueDate, now, messageId, now],
  );
  return r.changes > 0;
}

/**
 * Claims up to `limit` rows ready to send (pending and due, or sending with an expired lease) for
 * `worker` until `leaseUntil`. One statement, so two workers never claim the same row: on
 * PostgreSQL the candidates are locked with `FOR UPDATE SKIP LOCKED`, so concurrent workers take
 * disjoint batches without waiting on each other; SQLite has one writer at a time.
 *
 * (`status IN (…)` lets the database use the partial index `digests_claim`, so a claim reads only
 * the rows still to send, never the history; on SQLite `+issue_date` keeps the planner on it.)
 */
export async function claimDigests(sql: Sql, worker: string, now: string, leaseUntil: string, limit: number, issueDate?: string): Promise<DigestRow[]> {
  const pg = sql.dialect === 'postgres';
  const day = issueDate ? (pg ? ' AND issue_date = ?' : ' AND +issue_date = ?') : '';
  const rows = await sql.all<Row>(
    `UPDATE digests SET status = 'sending', locked_by = ?, locked_until = ?, attempts = attempts + 1
     WHERE id IN (
       SELECT id FROM digests
       WHERE status IN ('pending', 'sending') AND ((status = 'pending' AND next_attempt_at <= ?) OR (status = 'sending' AND locked_until < ?))${day}
       ORDER BY next_attempt_at LIMIT ?${pg ? ' FOR UPDATE SKIP LOCKED' : ''}
     )
     RETURNING ${COLUMNS}`,
    [worker, leaseUntil, now, now, ...(issueDate ? [issueDate] : []), limit],
  );
  return rows.map(fromRow);
}

/** Extends the lease of rows still being worked on. */
export async function renewDigests(sql: Sql, ids: readonly number[], worker: string, leaseUntil: string): Promise<void> {
  if (!ids.length) return;
  await sql.run(`UPDATE digests SET locked_until = ? WHERE locked_by = ? AND status = 'sending' AND id IN (${ids.map(() => '?').join(',')})`, [leaseUntil, worker, ...ids]);
}

/** Keeps the selection, so a retry sends the same papers. */
export async function setDigestPapers(sql: Sql, id: number, picks: readonly (readonly [number, string])[]): Promise<void> {
  await sql.run('UPDATE digests SET paper_ids = ? WHERE id = ?', [JSON.stringify(picks), id]);
}

/** Marks a digest sent and records its papers as sent to the subscriber (never sent again). */
export async function markSent(sql: Sql, d: DigestRow, paperIds: readonly number[], now: string): Promise<void> {
  await sql.tx(async (tx) => {
    await tx.run("UPDATE digests SET status = 'sent', sent_at = ?, locked_by = NULL, locked_until = NULL, last_error = NULL WHERE id = ?", [now, d.id]);
    // One statement for all the papers (a round trip each would dominate on PostgreSQL).
    for (let i = 0; i < paperIds.length; i += 200) {
      const chunk = paperIds.slice(i, i + 200);
      await tx.run(
        `INSERT INTO digest_papers (subscriber_id, paper_id, issue_date) VALUES ${chunk.map(() => '(?, ?, ?)').join(', ')} ON CONFLICT DO NOTHING`,
        chunk.flatMap((p) => [d.subscriberId, p, d.issueDate]),
      );
    }
    await tx.run('UPDATE subscribers SET last_issue_date = CASE WHEN last_issue_date IS NULL OR last_issue_date < ? THEN ? ELSE last_issue_date END WHERE id = ?', [d.issueDate, d.issueDate, d.subscriberId]);
  });
}

export async function markRetry(sql: Sql, id: number, error: string, nextAttemptAt: string): Promise<void> {
  await sql.run("UPDATE digests SET status = 'pending', next_attempt_at = ?, last_error = ?, locked_by = NULL, locked_until = NULL WHERE id = ?", [nextAttemptAt, error.slice(0, 500), id]);
}

export async function markFinal(sql: Sql, id: number, status: 'failed' | 'skipped', note: string): Promise<void> {
  await sql.run('UPDATE digests SET status = ?, last_error = ?, locked_by = NULL, locked_until = NULL WHERE id = ?', [status, note.slice(0, 500), id]);
}

/** Papers already sent to a subscriber, among candidates. */
export async function alreadySent(sql: Sql, subscriberId: number, paperIds: readonly number[]): Promise<Set<number>> {
  if (!paperIds.length) return new Set();
  const out = new Set<number>();
  for (let i = 0; i < paperIds.length; i += 500) {
    const chunk = paperIds.slice(i, i + 500);
    const rows = await sql.all<{ paper_id: number }>(
      `SELECT paper_id FROM digest_papers WHERE subscriber_id = ? AND paper_id IN (${chunk.map(() => '?').join(',')})`,
      [subscriberId, ...chunk],
    );
    for (const r of rows) out.add(r.paper_id);
  }
  return out;
}

export async function digestsOf(sql: Sql, subscriberId: number): Promise<DigestRow[]> {
  const rows = await sql.all<Row>(`SELECT ${COLUMNS} FROM digests WHERE subscriber_id = ? ORDER BY issue_date`, [subscriberId]);
  return rows.map(fromRow);
}

export async function digestCounts(sql: Sql, issueDate?: string): Promise<Record<DigestStatus, number>> {
  const rows = await sql.all<{ status: DigestStatus; n: number }>(
    `SELECT status, COUNT(*) AS n FROM digests ${issueDate ? 'WHERE issue_date = ?' : ''} GROUP BY status`,
    issueDate ? [issueDate] : [],
  );
  const out: Record<DigestStatus, number> = { pending: 0, sending: 0, sent: 0, failed: 0, skipped: 0 };
  for (const r of rows) out[r.status] = Number(r.n);
  return out;
}

/** Per issue date since `sinceDate`: how many digests are in each state (the admin chart). */
export async function digestsByDay(sql: Sql, sinceDate: string): Promise<{ date: string; counts: Record<DigestStatus, number> }[]> {
  const rows = await sql.all<{ issue_date: string; status: DigestStatus; n: number }>(
    'SELECT issue_date, status, COUNT(*) AS n FROM digests WHERE issue_date >= ? GROUP BY issue_date, status ORDER BY issue_date',
    [sinceDate],
  );
  const byDay = new Map<string, Record<DigestStatus, number>>();
  for (const r of rows) {
    const c = byDay.get(r.issue_date) ?? { pending: 0, sending: 0, sent: 0, failed: 0, skipped: 0 };
    c[r.status] = Number(r.n);
    byDay.set(r.issue_date, c);
  }
  return [...byDay].map(([date, counts]) => ({ date, counts }));
}

/** Gives claimed rows back untouched (a worker stopping before it started them). */
export async function releaseDigests(sql: Sql, ids: readonly number[], worker: string): Promise<void> {
  if (!ids.length) return;
  await sql.run(
    `UPDATE digests SET status = 'pending', locked_by = NULL, locked_until = NULL, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END
     WHERE locked_by = ? AND status = 'sending' AND id IN (${ids.map(() => '?').join(',')})`,
    [worker, ...ids],
  );
}

/** A digest row as the admin area's outbox lists it, with the subscriber's address. */
export interface OutboxRow {
  id: number;
  email: string;
  issueDate: string;
  status: DigestStatus;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
}

/** The newest digest rows first (optionally one status), `limit` from `offset`. */
export async function recentDigests(sql: Sql, q: { limit: number; offset?: number; status?: DigestStatus | undefined; issueDate?: string | undefined }): Promise<OutboxRow[]> {
  const where = [...(q.status ? ['d.status = ?'] : []), ...(q.issueDate ? ['d.issue_date = ?'] : [])];
  const rows = await sql.all<{
    id: number; email: string; issue_date: string; status: DigestStatus; attempts: number; next_attempt_at: string; last_error: string | null; created_at: string; sent_at: string | null;
  }>(
    `SELECT d.id, s.email, d.issue_date, d.status, d.attempts, d.next_attempt_at, d.last_error, d.created_at, d.sent_at
     FROM digests d JOIN subscribers s ON s.id = d.subscriber_id
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY d.issue_date DESC, d.id DESC LIMIT ? OFFSET ?`,
    [...(q.status ? [q.status] : []), ...(q.issueDate ? [q.issueDate] : []), q.limit, q.offset ?? 0],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    email: r.email,
    issueDate: r.issue_date,
    status: r.status,
    attempts: Number(r.attempts),
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    createdAt: r.created_at,
    sentAt: r.sent_at,
  }));
}
