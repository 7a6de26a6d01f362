import { randomBytes } from 'node:crypto';
import type { App } from '../app.ts';
import { claimDigests, createDigest, markFinal, markRetry, markSent, releaseDigests, renewDigests, setDigestPapers, type DigestRow } from '../store/digests.ts';
import {
  dueSubscribers,
  recordBounce,
  setSchedule,
  setStatus,
  subscriberById,
  suppress,
  unscheduledSubscribers,
  type Subscriber,
} from '../store/subscribers.ts';
import { escapeHtml } from '../web/html.ts';
import { maskAddress } from './address.ts';
import { SendError, type Mailer, type OutgoingMail } from './mailer.ts';
import { oneLine, renderDigest } from './render.ts';
import { localDate, nextIssue } from './schedule.ts';
import { Selector, type SelectedPaper } from './select.ts';
import { Tokens, type TokenPurpose } from './tokens.ts';

export interface RunSummary {
  due: number;
  sent: number;
  failed: number;
  skipped: number;
  retried: number;
}


const cadence = (s: Subscriber) => ({ timeZone: s.timezone, hour: s.deliveryHour, frequency: s.frequency, weekday: s.weekday });
const CONFIRM_TTL_S = 7 * 86_400;

/** Exponential backoff for a retry: 1, 2, 4 … minutes, at most an hour, with jitter. */
export function backoffMs(attempt: number): number {
  const base = Math.min(60, 2 ** Math.max(0, attempt - 1)) * 60_000;
  return base + Math.floor(Math.random() * 15_000);
}

/**
 * Subscriptions and the daily digest: signed links, the schedule (one outbox row per subscriber and
 * issue date, created when the subscriber's local hour arrives), and the sender, which claims rows
 * with a lease and marks one sent only after the server accepted it.
 */
export class Digests {
  readonly tokens: Tokens;
  private readonly host: string;
  private stopping = false;

  constructor(
    readonly app: App,
    readonly mailer: Mailer,
  ) {
    this.tokens = new Tokens([app.config.secretKey, ...app.config.oldSecrets]);
    this.host = new URL(app.config.baseUrl).hostname || 'localhost';
  }

  /** Stop claiming new work; what is in flight finishes (SIGTERM). */
  stop(): void {
    this.stopping = true;
  }

  link(purpose: TokenPurpose, s: Pick<Subscriber, 'id' | 'nonce'>, now = this.app.now()): string {
    const expires = purpose === 'confirm' ? Math.floor(now.getTime() / 1000) + CONFIRM_TTL_S : 0;
    const token = this.tokens.sign({ purpose, subscriberId: s.id, nonce: s.nonce, expires });
    const route = purpose === 'confirm' ? 'confirm' : purpose === 'prefs' ? 'prefs' : 'u';
    return `${this.app.config.baseUrl}/${route}/${token}`;
  }

  /** The subscriber a link is for, when the link is valid and current (nonce unchanged). */
  async fromToken(purpose: TokenPurpose, token: unknown): Promise<Subscriber | undefined> {
    const claims = this.tokens.verify(token, purpose, this.app.now().getTime());
    if (!claims) return undefined;
    const s = await subscriberById(this.app.db, claims.subscriberId);
    return s && s.nonce === claims.nonce ? s : undefined;
  }

  messageId(subscriberId: number, issueDate: string): string {
    return `digest-${subscriberId}-${issueDate}@${this.host}`;
  }

  private headers(s: Subscriber): Record<string, string> {
    return {
      'List-Unsubscribe': `<${this.link('unsubscribe', s)}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'List-Id': `paperboy daily digest <digest.${this.host}>`,
      'Auto-Submitted': 'auto-generated',
    };
  }

  // ---------------------------------------------------------------- sign-up mail

  private async sendNotice(s: Subscriber, subject: string, lead: string, button: string, url: string, after: string): Promise<void> {
    const site = this.app.config.baseUrl;
    const text = `${lead}\n\n${button}:\n${url}\n\n${after}\n`;
    const html = `<p>${escapeHtml(lead)}</p><p><a href="${escapeHtml(url)}" style="display:inline-block;padding:10px 16px;background:#b3261e;color:#fff;border-radius:6px;text-decoration:none">${escapeHtml(button)}</a></p><p style="color:#55555f">${escapeHtml(after)}</p><p style="color:#55555f;font-size:12px"><a href="${escapeHtml(site)}/">${escapeHtml(site.replace(/^https?:\/\//, ''))}</a></p>`;
    await this.mailer.send({
      from: this.app.config.mail.from,
      to: s.email,
      subject,
      text,
      html,
      messageId: `notice-${s.id}-${randomBytes(6).toString('hex')}@${this.host}`,
      headers: { 'Auto-Submitted': 'auto-generated' },
      day: localDate(this.app.now().getTime(), 'UTC'),
    });
  }

  async sendConfirmation(s: Subscriber): Promise<void> {
    await this.sendNotice(
      s,
      'Confirm your paperboy subscription',
      `Someone (hopefully you) asked to receive trending research papers from ${this.app.config.baseUrl} at this address once a day.`,
      'Confirm my subscription',
      this.link('confirm', s),
      'The link works for 7 days. If it was not you, ignore this email: nothing will be sent.',
    );
  }

  /** A sign-up for an address already subscribed: its preferences link instead (same answer on the site). */
  async sendAlreadySubscribed(s: Subscriber): Promise<void> {
    await this.sendNotice(
      s,
      'You are already subscribed to paperboy',
      'Someone (hopefully you) asked to subscribe this address, and it already receives the paperboy digest.',
      'Change my preferences',
      this.link('prefs', s),
      'If it was not you, ignore this email: nothing changes.',
    );
  }

  // ---------------------------------------------------------------- scheduling

  /** Gives newly confirmed (or resumed) subscribers their next issue. */
  async scheduleNew(now = this.app.now()): Promise<number> {
    let n = 0;
    for (;;) {
      const subs = await unscheduledSubscribers(this.app.db, 1000);
      if (!subs.length) return n;
      for (const s of subs) {
        const next = nextIssue(cadence(s), now.getTime(), s.lastIssueDate);
        await setSchedule(this.app.db, s.id, next ? { dueAt: new Date(next.dueMs).toISOString(), issueDate: next.date } : null);
        n++;
      }
      if (subs.length < 1000) return n;
    }
  }

  /**
   * Creates the outbox rows of every subscriber whose hour has come, and moves each to its next
   * issue. A due time older than the grace period is skipped (never a stale day's digest after
   * downtime). Idempotent: two schedulers at once create each row once.
   */
  async schedule(now = this.app.now()): Promise<{ created: number; stale: number; scheduled: number }> {
    const scheduled = await this.scheduleNew(now);
    const graceMs = this.app.config.digest.graceHours * 3_600_000;
    let created = 0;
    let stale = 0;
    for (;;) {
      const due = await dueSubscribers(this.app.db, now.toISOString(), 1000);
      if (!due.length) break;
      await this.app.db.tx(async (tx) => {
        for (const s of due) {
          let issue: { date: string; dueMs: number } | null = { date: s.nextIssueDate ?? localDate(Date.parse(s.nextDueAt!), s.timezone), dueMs: Date.parse(s.nextDueAt!) };
          // Issues too late to send are skipped; the first one inside the grace period goes out now.
          while (issue && issue.dueMs <= now.getTime()) {
            if (now.getTime() - issue.dueMs > graceMs) stale++;
            else if (await createDigest(tx, s.id, issue.date, this.messageId(s.id, issue.date), now.toISOString())) created++;
            issue = nextIssue(cadence(s), now.getTime(), issue.date);
          }
          await setSchedule(tx, s.id, issue ? { dueAt: new Date(issue.dueMs).toISOString(), issueDate: issue.date } : null);
        }
      });
      if (due.length < 1000) break;
    }
    return { created, stale, scheduled };
  }

  /** Creates rows for every confirmed subscriber for one date, whatever their hour (`digest run --date`). */
  async scheduleDate(issueDate: string, now = this.app.now()): Promise<number> {
    let created = 0;
    let after = 0;
    for (;;) {
      const rows = await this.app.db.all<{ id: number }>("SELECT id FROM subscribers WHERE status = 'confirmed' AND frequency != 'paused' AND id > ? ORDER BY id LIMIT 1000", [after]);
      if (!rows.length) return created;
      after = rows.at(-1)!.id;
      await this.app.db.tx(async (tx) => {
        for (const r of rows) if (await createDigest(tx, r.id, issueDate, this.messageId(r.id, issueDate), now.toISOString())) created++;
      });
    }
  }

  // ---------------------------------------------------------------- sending

  /** Renders one subscriber's digest for a date (preview, dry run). */
  async render(s: Subscriber, issueDate: string, selector = new Selector(this.app.db)) {
    const papers = await selector.select(s, issueDate);
    return { papers, rendered: await this.renderPapers(s, issueDate, papers) };
  }

  /** One subscriber's email for a date, from papers already chosen. */
  private renderPapers(s: Subscriber, issueDate: string, papers: readonly SelectedPaper[]) {
    return renderDigest({
      baseUrl: this.app.config.baseUrl,
      siteName: 'paperboy',
      issueDate,
      email: s.email,
      topics: s.topics,
      papers,
      prefsUrl: this.link('prefs', s),
      unsubscribeUrl: this.link('unsubscribe', s),
    });
  }

  mail(s: Subscriber, issueDate: string, r: { subject: string; html: string; text: string }, to = s.email): OutgoingMail {
    return {
      from: this.app.config.mail.from,
      to,
      subject: oneLine(r.subject, 200),
      html: r.html,
      text: r.text,
      messageId: this.messageId(s.id, issueDate),
      headers: this.headers(s),
      day: issueDate,
    };
  }

  /**
   * Sends every claimable digest (or only `date`'s): claims a batch with a lease, sends up to
   * `concurrency` at once, and loops until nothing is left or `stop()` is called.
   */
  async sendDue(opts: { worker?: string | undefined; date?: string | undefined; limit?: number | undefined; onProgress?: (s: RunSummary) => void } = {}): Promise<RunSummary> {
    const worker = opts.worker ?? `${process.pid}-${randomBytes(3).toString('hex')}`;
    const summary: RunSummary = { due: 0, sent: 0, failed: 0, skipped: 0, retried: 0 };
    const selector = new Selector(this.app.db);
    const concurrency = this.app.config.digest.concurrency;
    while (!this.stopping && (opts.limit === undefined || summary.due < opts.limit)) {
      const now = this.app.now();
      const batchSize = Math.min(concurrency * 4, opts.limit === undefined ? Infinity : opts.limit - summary.due);
      const leaseMs = this.app.config.digest.leaseMs;
      const rows = await claimDigests(this.app.db, worker, now.toISOString(), new Date(now.getTime() + leaseMs).toISOString(), batchSize, opts.date);
      if (!rows.length) break;
      summary.due += rows.length;
      const renew = setInterval(() => void renewDigests(this.app.db, rows.map((r) => r.id), worker, new Date(this.app.now().getTime() + leaseMs).toISOString()), leaseMs / 3);
      try {
        let next = 0;
        const lane = async () => {
          // On stop(), a lane finishes the message it is sending and starts no other.
          while (next < rows.length && !this.stopping) {
            const row = rows[next++]!;
            await this.sendOne(row, selector, summary);
          }
        };
        await Promise.all(Array.from({ length: Math.min(concurrency, rows.length) }, lane));
        if (next < rows.length) {
          const untouched = rows.slice(next);
          await releaseDigests(this.app.db, untouched.map((r) => r.id), worker);
          summary.due -= untouched.length;
        }
      } finally {
        clearInterval(renew);
      }
      opts.onProgress?.(summary);
    }
    return summary;
  }

  private async sendOne(row: DigestRow, selector: Selector, summary: RunSummary): Promise<void> {
    const { db, log } = this.app;
    const s = await subscriberById(db, row.subscriberId);
    if (!s || s.status !== 'confirmed') {
      await markFinal(db, row.id, 'skipped', s ? `subscriber is ${s.status}` : 'subscriber removed');
      summary.skipped++;
      return;
    }
    let picks = row.picks;
    let papers;
    if (picks) {
      papers = await selector.reload(picks.map((p) => p[0]), new Map(picks));
    } else {
      papers = await selector.select(s, row.issueDate);
      picks = papers.map((p) => [p.paper.id, p.reason]);
      await setDigestPapers(db, row.id, picks);
    }
    if (!papers.length && s.skipEmpty) {
      await markFinal(db, row.id, 'skipped', 'nothing new');
      summary.skipped++;
      return;
    }
    const rendered = await this.renderPapers(s, row.issueDate, papers);
    try {
      await this.mailer.send(this.mail(s, row.issueDate, rendered));
      await markSent(db, row, picks.map((p) => p[0]), this.app.now().toISOString());
      summary.sent++;
    } catch (err) {
      const e = err instanceof SendError ? err : new SendError(String(err), 'connection');
      const now = this.app.now();
      if (e.kind === 'permanent') {
        await markFinal(db, row.id, 'failed', e.message);
        const bounces = await recordBounce(db, s.emailKey, 'hard', e.message, now.toISOString());
        await setStatus(db, s.id, 'failing', now.toISOString());
        if (bounces >= this.app.config.digest.suppressAfterBounces) await suppress(db, s.emailKey, `hard bounces: ${e.message}`, now.toISOString());
        log.warn({ to: maskAddress(s.email), digest: row.id, code: e.code }, 'digest: address rejected, marked failing');
        summary.failed++;
      } else if (row.attempts >= this.app.config.digest.maxAttempts) {
        await markFinal(db, row.id, 'failed', `gave up after ${row.attempts} attempts: ${e.message}`);
        summary.failed++;
      } else {
        await markRetry(db, row.id, e.message, new Date(now.getTime() + backoffMs(row.attempts)).toISOString());
        log.info({ to: maskAddress(s.email), digest: row.id, attempt: row.attempts, kind: e.kind }, 'digest: will retry');
        summary.retried++;
      }
    }
  }
}
