import { randomBytes } from 'node:crypto';
import type { Sql } from '../db/sql.ts';

export type SubscriberStatus = 'pending' | 'confirmed' | 'unsubscribed' | 'failing';
export type Frequency = 'daily' | 'weekly' | 'paused';

export interface Preferences {
  timezone: string;
  deliveryHour: number;
  frequency: Frequency;
  weekday: number;
  perDigest: number;
  includeNew: boolean;
  skipEmpty: boolean;
  /** Saved searches in the query language (`edge inference`, `cat:cs.CV`); none = all trending. */
  topics: string[];
}

export const DEFAULT_PREFERENCES: Readonly<Preferences> = Object.freeze({
  timezone: 'UTC',
  deliveryHour: 7,
  frequency: 'daily',
  weekday: 1,
  perDigest: 10,
  includeNew: true,
  skipEmpty: true,
  topics: [],
});

export interface Subscriber extends Preferences {
  id: number;
  email: string;
  emailKey: string;
  status: SubscriberStatus;
  nonce: string;
  source: string;
  createdAt: string;
  confirmedAt: string | null;
  unsubscribedAt: string | null;
  lastIssueDate: string | null;
  nextDueAt: string | null;
  nextIssueDate: string | null;
  hardBounces: number;
  lastSignUpMailAt: string | null;
}

interface Row {
  id: number;
  email: string;
  email_key: string;
  status: SubscriberStatus;
  nonce: string;
  timezone: string;
  delivery_hour: number;
  frequency: Frequency;
  weekday: number;
  per_digest: number;
  include_new: number;
  skip_empty: number;
  topics: string;
  source: string;
  created_at: string;
  confirmed_at: string | null;
  unsubscribed_at: string | null;
  last_issue_date: string | null;
  next_due_at: string | null;
  next_issue_date: string | null;
  hard_bounces: number;
  last_sign_up_mail_at: string | null;
}

const COLUMNS =
  'id, email, email_key, status, nonce, timezone, delivery_hour, frequency, weekday, per_digest, include_new, skip_empty, topics, source, created_at, confirmed_at, unsubscribed_at, last_issue_date, next_due_at, next_issue_date, hard_bounces, last_sign_up_mail_at';

function fromRow(r: Row): Subscriber {
  return {
    id: r.id,
    email: r.email,
    emailKey: r.email_key,
    status: r.status,
    nonce: r.nonce,
    timezone: r.timezone,
    deliveryHour: r.delivery_hour,
    frequency: r.frequency,
    weekday: r.weekday,
    perDigest: r.per_digest,
    includeNew: r.include_new === 1,
    skipEmpty: r.skip_empty === 1,
    topics: JSON.parse(r.topics) as string[],
    source: r.source,
    createdAt: r.created_at,
    confirmedAt: r.confirmed_at,
    unsubscribedAt: r.unsubscribed_at,
    lastIssueDate: r.last_issue_date,
    nextDueAt: r.next_due_at,
    nextIssueDate: r.next_issue_date,
    hardBounces: r.hard_bounces,
    lastSignUpMailAt: r.last_sign_up_mail_at,
  };
}

export const newNonce = (): string => randomBytes(9).toString('base64url');

export async function subscriberById(sql: Sql, id: number): Promise<Subscriber | undefined> {
  const r = await sql.get<Row>(`SELECT ${COLUMNS} FROM subscribers WHERE id = ?`, [id]);
  return r && fromRow(r);
}

export async function subscriberByKey(sql: Sql, emailKey: string): Promise<Subscriber | undefined> {
  const r = await sql.get<Row>(`SELECT ${COLUMNS} FROM subscribers WHERE email_key = ?`, [emailKey]);
  return r && fromRow(r);
}

export interface NewSubscriber {
  email: string;
  emailKey: string;
  status: 'pending' | 'confirmed';
  prefs: Preferences;
  source: string;
  now: string;
}

/** Inserts a subscriber; returns the id, or undefined when the address is already there. */
export async function insertSubscriber(sql: Sql, s: NewSubscriber): Promise<number | undefined> {
  const p = s.prefs;
  const r = await sql.get<{ id: number }>(
    `INSERT INTO subscribers (email, email_key, status, nonce, timezone, delivery_hour, frequency, weekday, per_digest, include_new, skip_empty, topics, source, created_at, confirmed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (email_key) DO NOTHING RETURNING id`,
    [
      s.email,
      s.emailKey,
      s.status,
      newNonce(),
      p.timezone,
      p.deliveryHour,
      p.frequency,
      p.weekday,
      p.perDigest,
      p.includeNew ? 1 : 0,
      p.skipEmpty ? 1 : 0,
      JSON.stringify(p.topics),
      s.source,
      s.now,
      s.status === 'confirmed' ? s.now : null,
    ],
  );
  return r?.id;
}

export async function updatePreferences(sql: Sql, id: number, p: Preferences): Promise<void> {
  await sql.run(
    `UPDATE subscribers SET timezone = ?, delivery_hour = ?, frequency = ?, weekday = ?, per_digest = ?, include_new = ?, skip_empty = ?, topics = ? WHERE id = ?`,
    [p.timezone, p.deliveryHour, p.frequency, p.weekday, p.perDigest, p.includeNew ? 1 : 0, p.skipEmpty ? 1 : 0, JSON.stringify(p.topics), id],
  );
}

export async function setStatus(sql: Sql, id: number, status: SubscriberStatus, now: string): Promise<void> {
  const extra = status === 'confirmed' ? ', confirmed_at = COALESCE(confirmed_at, ?), unsubscribed_at = NULL' : status === 'unsubscribed' ? ', unsubscribed_at = ?' : '';
  await sql.run(`UPDATE subscribers SET status = ?${extra}${status === 'confirmed' ? '' : ', next_due_at = NULL'} WHERE id = ?`, [status, ...(extra ? [now] : []), id]);
}

export async function setSchedule(sql: Sql, id: number, next: { dueAt: string; issueDate: string } | null): Promise<void> {
  await sql.run('UPDATE subscribers SET next_due_at = ?, next_issue_date = ? WHERE id = ?', [next?.dueAt ?? null, next?.issueDate ?? null, id]);
}

export async function touchSignUpMail(sql: Sql, id: number, now: string): Promise<void> {
  await sql.run('UPDATE subscribers SET last_sign_up_mail_at = ? WHERE id = ?', [now, id]);
}

/** Voids every link sent so far (a new nonce). */
export async function rotateNonce(sql: Sql, id: number): Promise<void> {
  await sql.run('UPDATE subscribers SET nonce = ? WHERE id = ?', [newNonce(), id]);
}

export async function deleteSubscriber(sql: Sql, id: number): Promise<boolean> {
  return (await sql.run('DELETE FROM subscribers WHERE id = ?', [id])).changes > 0;
}

/** Pending sign-ups older than `before` are removed (never confirmed). */
export async function expirePending(sql: Sql, before: string): Promise<number> {
  return (await sql.run("DELETE FROM subscribers WHERE status = 'pending' AND created_at < ?", [before])).changes;
}

export interface ListQuery {
  status?: SubscriberStatus | undefined;
  limit: number;
  afterId?: number | undefined;
}

export async function listSubscribers(sql: Sql, q: ListQuery): Promise<Subscriber[]> {
  const rows = await sql.all<Row>(`SELECT ${COLUMNS} FROM subscribers WHERE id > ? ${q.status ? 'AND status = ?' : ''} ORDER BY id LIMIT ?`, [
    q.afterId ?? 0,
    ...(q.status ? [q.status] : []),
    q.limit,
  ]);
  return rows.map(fromRow);
}

export async function countSubscribers(sql: Sql): Promise<Record<SubscriberStatus, number>> {
  const rows = await sql.all<{ status: SubscriberStatus; n: number }>('SELECT status, COUNT(*) AS n FROM subscribers GROUP BY status');
  const out: Record<SubscriberStatus, number> = { pending: 0, confirmed: 0, unsubscribed: 0, failing: 0 };
  for (const r of rows) out[r.status] = Number(r.n);
  return out;
}

/** Confirmed subscribers whose next digest is due at or before `now`. */
export async function dueSubscribers(sql: Sql, now: string, limit: number): Promise<Subscriber[]> {
  const rows = await sql.all<Row>(`SELECT ${COLUMNS} FROM subscribers WHERE status = 'confirmed' AND next_due_at <= ? ORDER BY next_due_at LIMIT ?`, [now, limit]);
  return rows.map(fromRow);
}

/** Confirmed subscribers with no schedule yet (just confirmed, imported, or resumed). */
export async function unscheduledSubscribers(sql: Sql, limit: number): Promise<Subscriber[]> {
  const rows = await sql.all<Row>(`SELECT ${COLUMNS} FROM subscribers WHERE status = 'confirmed' AND next_due_at IS NULL AND frequency != 'paused' LIMIT ?`, [limit]);
  return rows.map(fromRow);
}

// ------------------------------------------------------------------ suppressions and bounces

export async function isSuppressed(sql: Sql, emailKey: string): Promise<boolean> {
  return Boolean(await sql.get('SELECT 1 AS x FROM suppressions WHERE email_key = ?', [emailKey]));
}

export async function suppress(sql: Sql, emailKey: string, reason: string, now: string): Promise<void> {
  await sql.run('INSERT INTO suppressions (email_key, reason, created_at) VALUES (?, ?, ?) ON CONFLICT (email_key) DO UPDATE SET reason = excluded.reason', [emailKey, reason, now]);
}

export async function unsuppress(sql: Sql, emailKey: string): Promise<boolean> {
  return (await sql.run('DELETE FROM suppressions WHERE email_key = ?', [emailKey])).changes > 0;
}

export async function listSuppressions(sql: Sql, limit: number): Promise<{ emailKey: string; reason: string; createdAt: string }[]> {
  const rows = await sql.all<{ email_key: string; reason: string; created_at: string }>('SELECT email_key, reason, created_at FROM suppressions ORDER BY created_at DESC LIMIT ?', [limit]);
  return rows.map((r) => ({ emailKey: r.email_key, reason: r.reason, createdAt: r.created_at }));
}

export async function recordBounce(sql: Sql, emailKey: string, kind: 'hard' | 'soft' | 'complaint', detail: string, now: string): Promise<number> {
  await sql.run('INSERT INTO bounces (email_key, kind, detail, created_at) VALUES (?, ?, ?, ?)', [emailKey, kind, detail.slice(0, 500), now]);
  if (kind === 'soft') return 0;
  const r = await sql.get<{ hard_bounces: number }>('UPDATE subscribers SET hard_bounces = hard_bounces + 1 WHERE email_key = ? RETURNING hard_bounces', [emailKey]);
  return r?.hard_bounces ?? 0;
}

export async function listBounces(sql: Sql, limit: number): Promise<{ emailKey: string; kind: string; detail: string; createdAt: string }[]> {
  const rows = await sql.all<{ email_key: string; kind: string; detail: string; created_at: string }>('SELECT email_key, kind, detail, created_at FROM bounces ORDER BY id DESC LIMIT ?', [limit]);
  return rows.map((r) => ({ emailKey: r.email_key, kind: r.kind, detail: r.detail, createdAt: r.created_at }));
}

export async function clearBounces(sql: Sql, emailKey: string): Promise<number> {
  const n = (await sql.run('DELETE FROM bounces WHERE email_key = ?', [emailKey])).changes;
  await sql.run("UPDATE subscribers SET hard_bounces = 0, status = CASE WHEN status = 'failing' THEN 'confirmed' ELSE status END WHERE email_key = ?", [emailKey]);
  return n;
}

// ------------------------------------------------------------------ the admin area (read only)

/** Per UTC day (`YYYY-MM-DD`), how many subscribers signed up, confirmed, and unsubscribed (split by whether they had confirmed). */
export interface SubscriberDayEvents {
  day: string;
  created: number;
  confirmed: number;
  unsubscribedConfirmed: number;
  unsubscribedPending: number;
}

/**
 * The subscribers table as events per day, oldest first: enough to draw confirmed, pending and
 * unsubscribed over time (cumulative sums). Sign-ups deleted since (expired, removed) are not in it.
 */
export async function subscriberEventsByDay(sql: Sql): Promise<SubscriberDayEvents[]> {
  const [created, confirmed, unsubscribed] = await Promise.all([
    sql.all<{ day: string; n: number }>('SELECT substr(created_at, 1, 10) AS day, COUNT(*) AS n FROM subscribers GROUP BY substr(created_at, 1, 10)'),
    sql.all<{ day: string; n: number }>('SELECT substr(confirmed_at, 1, 10) AS day, COUNT(*) AS n FROM subscribers WHERE confirmed_at IS NOT NULL GROUP BY substr(confirmed_at, 1, 10)'),
    sql.all<{ day: string; was_confirmed: number; n: number }>(
      `SELECT substr(unsubscribed_at, 1, 10) AS day, CASE WHEN confirmed_at IS NULL THEN 0 ELSE 1 END AS was_confirmed, COUNT(*) AS n
       FROM subscribers WHERE unsubscribed_at IS NOT NULL GROUP BY substr(unsubscribed_at, 1, 10), CASE WHEN confirmed_at IS NULL THEN 0 ELSE 1 END`,
    ),
  ]);
  const days = new Map<string, SubscriberDayEvents>();
  const at = (day: string): SubscriberDayEvents => {
    let e = days.get(day);
    if (!e) days.set(day, (e = { day, created: 0, confirmed: 0, unsubscribedConfirmed: 0, unsubscribedPending: 0 }));
    return e;
  };
  for (const r of created) at(r.day).created += Number(r.n);
  for (const r of confirmed) at(r.day).confirmed += Number(r.n);
  for (const r of unsubscribed) {
    if (Number(r.was_confirmed) === 1) at(r.day).unsubscribedConfirmed += Number(r.n);
    else at(r.day).unsubscribedPending += Number(r.n);
  }
  return [...days.values()].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
}

/** How many bounce records there are of each kind. */
export async function bounceCounts(sql: Sql): Promise<{ hard: number; soft: number; complaint: number }> {
  const rows = await sql.all<{ kind: 'hard' | 'soft' | 'complaint'; n: number }>('SELECT kind, COUNT(*) AS n FROM bounces GROUP BY kind');
  const out = { hard: 0, soft: 0, complaint: 0 };
  for (const r of rows) if (r.kind in out) out[r.kind] = Number(r.n);
  return out;
}

export async function suppressionCount(sql: Sql): Promise<number> {
  return Number((await sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM suppressions'))?.n ?? 0);
}
