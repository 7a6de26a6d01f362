import type { App } from '../app.ts';
import { digestsOf } from '../store/digests.ts';
import {
  DEFAULT_PREFERENCES,
  deleteSubscriber,
  insertSubscriber,
  isSuppressed,
  rotateNonce,
  setSchedule,
  setStatus,
  subscriberById,
  subscriberByKey,
  touchSignUpMail,
  updatePreferences,
  type Frequency,
  type Preferences,
  type Subscriber,
} from '../store/subscribers.ts';
import { domainBlocked, maskAddress, normaliseAddress } from './address.ts';
import { isTimeZone } from './schedule.ts';
import type { Digests } from './service.ts';

/** At most one sign-up email per address in this window (confirmation or "already subscribed"). */
const SIGN_UP_MAIL_EVERY_MS = 10 * 60_000;
export const MAX_TOPICS = 10;
const MAX_TOPIC_CHARS = 200;

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** Preferences from a form or JSON body, validated; anything absent keeps `base`. */
export function parsePreferences(input: Record<string, unknown>, base: Preferences = DEFAULT_PREFERENCES): Preferences {
  const str = (k: string) => (typeof input[k] === 'string' ? (input[k] as string).trim() : undefined);
  const num = (k: string) => {
    const v = input[k];
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : undefined;
    return n === undefined || Number.isNaN(n) ? undefined : n;
  };
  const bool = (k: string) => {
    const v = input[k];
    if (v === undefined) return undefined;
    return v === true || v === 'true' || v === 'on' || v === '1' || v === 1;
  };
  const p: Preferences = { ...base, topics: [...base.topics] };
  const tz = str('timezone');
  if (tz) {
    if (!isTimeZone(tz)) throw new InputError('Unknown time zone');
    p.timezone = tz;
  }
  const hour = num('deliveryHour') ?? num('hour');
  if (hour !== undefined) {
    if (!Number.isInteger(hour) || hour < 0 || hour > 23) throw new InputError('Delivery hour must be 0 to 23');
    p.deliveryHour = hour;
  }
  const freq = str('frequency');
  if (freq) {
    if (!['daily', 'weekly', 'paused'].includes(freq)) throw new InputError('Frequency must be daily, weekly or paused');
    p.frequency = freq as Frequency;
  }
  const wd = num('weekday');
  if (wd !== undefined) {
    if (!Number.isInteger(wd) || wd < 1 || wd > 7) throw new InputError('Weekday must be 1 (Monday) to 7 (Sunday)');
    p.weekday = wd;
  }
  const per = num('perDigest');
  if (per !== undefined) {
    if (!Number.isInteger(per) || per < 1 || per > 50) throw new InputError('Papers per digest must be 1 to 50');
    p.perDigest = per;
  }
  const inc = bool('includeNew');
  if (inc !== undefined) p.includeNew = inc;
  const skip = bool('skipEmpty');
  if (skip !== undefined) p.skipEmpty = skip;
  const topics = input['topics'] ?? input['topic'];
  if (topics !== undefined) p.topics = parseTopics(topics);
  return p;
}

/** Topics: saved searches, one per line (or an array), one-line, deduplicated, at most 10. */
export function parseTopics(v: unknown): string[] {
  const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(/\r?\n/) : [];
  const out: string[] = [];
  for (const t of list) {
    if (typeof t !== 'string') continue;
    // eslint-disable-next-line no-control-regex -- control characters never belong in a topic
    const clean = t.replace(/[\u0000-\u001F\u007F]+/g, ' ').replace(/\s+/g, ' ').trim();
    if (!clean) continue;
    if (clean.length > MAX_TOPIC_CHARS) throw new InputError(`A topic can be at most ${MAX_TOPIC_CHARS} characters`);
    if (!out.includes(clean)) out.push(clean);
  }
  if (out.length > MAX_TOPICS) throw new InputError(`At most ${MAX_TOPICS} topics`);
  return out;
}

export type SignUpOutcome = 'confirmation-sent' | 'reminder-sent' | 'throttled' | 'suppressed' | 'blocked';

/**
 * A sign-up. The caller shows the same answer whatever the outcome (no address enumeration); the
 * outcome is for logs and tests. New or unsubscribed addresses get a confirmation link; pending ones
 * get it again; subscribed ones get a link to their preferences. At most one such email per address
 * every ten minutes.
 */
export async function signUp(app: App, digests: Digests, email: unknown, prefs: Preferences, source = 'site'): Promise<SignUpOutcome> {
  const a = normaliseAddress(email);
  if (!a.ok) throw new InputError(a.reason ?? 'invalid address');
  if (domainBlocked(a.domain, app.config.digest.blockedDomains)) return 'blocked';
  if (await isSuppressed(app.db, a.key)) return 'suppressed';
  const now = app.now();
  let s = await subscriberByKey(app.db, a.key);
  if (!s) {
    const id = await insertSubscriber(app.db, { email: a.address, emailKey: a.key, status: 'pending', prefs, source, now: now.toISOString() });
    s = id === undefined ? await subscriberByKey(app.db, a.key) : await subscriberById(app.db, id);
    if (!s) throw new Error('digest: sign-up vanished');
  } else if (s.lastSignUpMailAt && now.getTime() - Date.parse(s.lastSignUpMailAt) < SIGN_UP_MAIL_EVERY_MS) {
    return 'throttled';
  } else if (s.status === 'unsubscribed') {
    // Back again: a fresh pending sign-up with the new preferences (old links stop working).
    await rotateNonce(app.db, s.id);
    await setStatus(app.db, s.id, 'pending', now.toISOString());
    await updatePreferences(app.db, s.id, prefs);
    s = (await subscriberById(app.db, s.id))!;
  }
  await touchSignUpMail(app.db, s.id, now.toISOString());
  if (s.status === 'confirmed' || s.status === 'failing') {
    await digests.sendAlreadySubscribed(s);
    app.log.info({ to: maskAddress(s.email) }, 'subscribe: already subscribed, sent the preferences link');
    return 'reminder-sent';
  }
  await digests.sendConfirmation(s);
  app.log.info({ to: maskAddress(s.email) }, 'subscribe: confirmation sent');
  return 'confirmation-sent';
}

export async function confirm(app: App, digests: Digests, s: Subscriber): Promise<Subscriber> {
  if (s.status === 'pending' || s.status === 'unsubscribed') {
    await setStatus(app.db, s.id, 'confirmed', app.now().toISOString());
    await setSchedule(app.db, s.id, null);
    await digests.scheduleNew();
  }
  return (await subscriberById(app.db, s.id))!;
}

export async function unsubscribe(app: App, s: Subscriber): Promise<void> {
  if (s.status !== 'unsubscribed') await setStatus(app.db, s.id, 'unsubscribed', app.now().toISOString());
}

export async function savePreferences(app: App, digests: Digests, s: Subscriber, p: Preferences): Promise<Subscriber> {
  await updatePreferences(app.db, s.id, p);
  // The schedule follows the new hour, zone or frequency.
  await setSchedule(app.db, s.id, null);
  if (s.status === 'confirmed') await digests.scheduleNew();
  return (await subscriberById(app.db, s.id))!;
}

/** Everything stored about a subscriber, for "export my data". */
export async function exportData(app: App, s: Subscriber): Promise<Record<string, unknown>> {
  const digests = await digestsOf(app.db, s.id);
  const { nonce: _nonce, ...rest } = s;
  return { subscriber: rest, digests: digests.map((d) => ({ issueDate: d.issueDate, status: d.status, papers: (d.picks ?? []).length })) };
}

export async function deleteData(app: App, s: Subscriber): Promise<void> {
  await deleteSubscriber(app.db, s.id);
}
