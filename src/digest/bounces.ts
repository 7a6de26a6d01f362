import type { App } from '../app.ts';
import { recordBounce, setStatus, subscriberByKey, suppress } from '../store/subscribers.ts';
import { maskAddress, normaliseAddress } from './address.ts';

export interface BounceEvent {
  kind: 'hard' | 'soft' | 'complaint';
  email: string;
  detail: string;
}

const text = (v: unknown, max = 300): string => (typeof v === 'string' ? v.slice(0, max) : '');
const MAX_DEPTH = 8;
/** The objects in a list (an SES recipient list may hold anything, `null` included). */
const objects = (v: unknown): Record<string, unknown>[] =>
  Array.isArray(v) ? v.filter((x): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x)) : [];

/**
 * Bounce and complaint reports from a webhook, in two shapes:
 *
 * - generic JSON: `{"type": "bounce" | "complaint", "email": "…", "hard": true, "detail": "…"}`,
 *   an array of those, or `{"events": [...]}`;
 * - Amazon SES notifications delivered by SNS (`{"Type": "Notification", "Message": "<json>"}`
 *   with `notificationType` Bounce or Complaint).
 *
 * Anything else yields no events (the caller answers 400).
 */
export function parseBounceReport(body: unknown, depth = 0): { events: BounceEvent[]; note?: string } {
  // Real reports nest two or three levels (a list, `events`, an SNS envelope); a body nested deeper
  // is not a report, and recursing into it would overflow the stack.
  if (depth > MAX_DEPTH) return { events: [] };
  if (Array.isArray(body)) return { events: body.flatMap((b) => parseBounceReport(b, depth + 1).events) };
  if (!body || typeof body !== 'object') return { events: [] };
  const o = body as Record<string, unknown>;
  if (Array.isArray(o['events'])) return parseBounceReport(o['events'], depth + 1);
  if (o['Type'] === 'SubscriptionConfirmation') {
    // Never fetched from here (no outbound requests on behalf of a webhook): confirm it by hand.
    return { events: [], note: 'SNS subscription confirmation received: confirm it in the AWS console or by opening its SubscribeURL yourself' };
  }
  if (o['Type'] === 'Notification' && typeof o['Message'] === 'string') {
    try {
      return parseBounceReport(JSON.parse(o['Message']), depth + 1);
    } catch {
      return { events: [] };
    }
  }
  if (o['notificationType'] === 'Bounce' || o['eventType'] === 'Bounce') {
    const b = (o['bounce'] && typeof o['bounce'] === 'object' ? o['bounce'] : {}) as Record<string, unknown>;
    const hard = b['bounceType'] === 'Permanent';
    const recipients = objects(b['bouncedRecipients']);
    return { events: recipients.map((r) => ({ kind: hard ? 'hard' : 'soft', email: text(r['emailAddress']), detail: text(r['diagnosticCode']) || text(b['bounceSubType']) })) };
  }
  if (o['notificationType'] === 'Complaint' || o['eventType'] === 'Complaint') {
    const c = (o['complaint'] && typeof o['complaint'] === 'object' ? o['complaint'] : {}) as Record<string, unknown>;
    const recipients = objects(c['complainedRecipients']);
    return { events: recipients.map((r) => ({ kind: 'complaint', email: text(r['emailAddress']), detail: text(c['complaintFeedbackType']) })) };
  }
  if ((o['type'] === 'bounce' || o['type'] === 'complaint') && typeof o['email'] === 'string') {
    const kind = o['type'] === 'complaint' ? 'complaint' : o['hard'] === false ? 'soft' : 'hard';
    return { events: [{ kind, email: o['email'], detail: text(o['detail']) }] };
  }
  return { events: [] };
}

/**
 * Applies one event: every event is recorded; a hard bounce marks the subscriber failing and, after
 * PAPERBOY_SUPPRESS_AFTER_BOUNCES of them, suppresses the address; a complaint unsubscribes and
 * suppresses at once.
 */
export async function applyBounce(app: App, e: BounceEvent): Promise<'recorded' | 'suppressed' | 'ignored'> {
  const a = normaliseAddress(e.email);
  if (!a.ok) return 'ignored';
  const now = app.now().toISOString();
  const hard = await recordBounce(app.db, a.key, e.kind, e.detail, now);
  const s = await subscriberByKey(app.db, a.key);
  if (e.kind === 'complaint') {
    if (s) await setStatus(app.db, s.id, 'unsubscribed', now);
    await suppress(app.db, a.key, `complaint: ${e.detail}`, now);
    app.log.warn({ to: maskAddress(a.address) }, 'bounces: complaint, address suppressed');
    return 'suppressed';
  }
  if (e.kind === 'hard') {
    if (s && s.status === 'confirmed') await setStatus(app.db, s.id, 'failing', now);
    if (hard >= app.config.digest.suppressAfterBounces) {
      await suppress(app.db, a.key, `hard bounces: ${e.detail}`, now);
      return 'suppressed';
    }
  }
  return 'recorded';
}
