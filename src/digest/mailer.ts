import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import nodemailer, { type Transporter, type TransportOptions } from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';

/** One message, fully rendered. Headers are set by us only, from values already made one-line. */
export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Without angle brackets: `digest-42-2026-08-22@example.org`. */
  messageId: string;
  headers: Record<string, string>;
  /** For the file outbox's folders: YYYY-MM-DD. */
  day: string;
}

export interface SendResult {
  /** The server's reply (e.g. `250 2.0.0 OK`) or where the file went. */
  response: string;
}

/**
 * Why a send failed, as the worker needs to know it: `transient` (4xx: try again later),
 * `permanent` (5xx: this address is failing), `connection` (no verdict: the message may or may not
 * have arrived; try again).
 */
export class SendError extends Error {
  constructor(
    message: string,
    readonly kind: 'transient' | 'permanent' | 'connection',
    readonly code?: number,
  ) {
    super(message);
    this.name = 'SendError';
  }
}

export interface Mailer {
  readonly kind: 'smtp' | 'file';
  send(mail: OutgoingMail): Promise<SendResult>;
  close(): Promise<void>;
}

export function classify(err: unknown): SendError {
  if (err instanceof SendError) return err;
  const e = err as { responseCode?: number; code?: string; message?: string; response?: string };
  const text = (e.response ?? e.message ?? String(err)).replace(/[\r\n]+/g, ' ').slice(0, 300);
  if (typeof e.responseCode === 'number') {
    if (e.responseCode >= 500) return new SendError(`mail: rejected: ${text}`, 'permanent', e.responseCode);
    if (e.responseCode >= 400) return new SendError(`mail: deferred: ${text}`, 'transient', e.responseCode);
  }
  return new SendError(`mail: ${e.code ?? 'error'}: ${text}`, 'connection');
}

export interface SmtpOptions {
  url: string;
  poolSize: number;
  /** Messages per second across the pool; 0 = no limit. */
  ratePerSecond: number;
  dkim?: { domainName: string; keySelector: string; privateKey: string } | undefined;
  /** How many times the pool may retry a message on a broken connection before we get the error. */
  maxRequeues?: number;
}

/** Header names DKIM signs: nodemailer's default list leaves List-Unsubscribe-Post out (RFC 8058 wants it signed). */
export const DKIM_HEADERS = 'From:Sender:Reply-To:Subject:Date:Message-ID:To:Cc:MIME-Version:Content-Type:Content-Transfer-Encoding:Content-ID:Content-Description:Resent-Date:Resent-From:Resent-Sender:Resent-To:Resent-Cc:Resent-Message-ID:In-Reply-To:References:List-Id:List-Help:List-Unsubscribe:List-Unsubscribe-Post:List-Subscribe:List-Post:List-Owner:List-Archive';

/** SMTP (smtp:// or smtps://, auth in the URL) through a pool of connections. */
export class SmtpMailer implements Mailer {
  readonly kind = 'smtp' as const;
  private readonly transport: Transporter;

  constructor(o: SmtpOptions) {
    const u = new URL(o.url);
    const secure = u.protocol === 'smtps:';
    this.transport = nodemailer.createTransport({
      pool: true,
      host: u.hostname,
      port: Number(u.port) || (secure ? 465 : 587),
      secure,
      auth: u.username ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : undefined,
      maxConnections: o.poolSize,
      maxMessages: 1000,
      ...(o.ratePerSecond > 0 ? { rateDelta: 1000, rateLimit: o.ratePerSecond } : {}),
      // nodemailer requeues a message without limit on a broken pooled connection by default.
      maxRequeues: o.maxRequeues ?? 1,
      connectionTimeout: 30_000,
      greetingTimeout: 30_000,
      socketTimeout: 60_000,
      tls: { rejectUnauthorized: u.searchParams.get('tls') !== 'insecure' },
      ...(o.dkim ? { dkim: { ...o.dkim, headerFieldNames: DKIM_HEADERS } } : {}),
    } as TransportOptions);
  }

  async send(m: OutgoingMail): Promise<SendResult> {
    try {
      const info = (await this.transport.sendMail({
        from: m.from,
        to: m.to,
        subject: m.subject,
        text: m.text,
        html: m.html,
        messageId: `<${m.messageId}>`,
        headers: m.headers,
        // Saves nodemailer a character-by-character scan of every body to choose an encoding.
        textEncoding: 'quoted-printable',
      })) as { response?: string };
      return { response: String(info.response ?? '250') };
    } catch (err) {
      throw classify(err);
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

/** The message as RFC 5322 bytes (for the file outbox and for tests). */
export async function buildMessage(m: OutgoingMail): Promise<Buffer> {
  const composer = new MailComposer({ from: m.from, to: m.to, subject: m.subject, text: m.text, html: m.html, messageId: `<${m.messageId}>`, headers: m.headers, textEncoding: 'quoted-printable' });
  return new Promise<Buffer>((resolve, reject) => composer.compile().build((err, msg) => (err ? reject(err) : resolve(msg))));
}

const safeName = (s: string) => s.replace(/[^A-Za-z0-9._@-]/g, '_').slice(0, 150);

/**
 * Mail as `.eml` files in `<dir>/<day>/`, for a newcomer with no mail server (the site shows them at
 * /admin/outbox). Written atomically; the same Message-ID overwrites, so a retry is one file.
 */
export class FileMailer implements Mailer {
  readonly kind = 'file' as const;
  constructor(readonly dir: string) {}

  async send(m: OutgoingMail): Promise<SendResult> {
    const day = /^\d{4}-\d{2}-\d{2}$/.test(m.day) ? m.day : 'other';
    const folder = path.join(this.dir, day);
    mkdirSync(folder, { recursive: true });
    const file = path.join(folder, `${safeName(m.messageId)}.eml`);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, await buildMessage(m));
    renameSync(tmp, file);
    // The HTML part beside it, for the outbox page to show.
    writeFileSync(`${tmp}.html`, m.html);
    renameSync(`${tmp}.html`, file.replace(/\.eml$/, '.html'));
    return { response: `250 written to ${path.relative(this.dir, file)}` };
  }

  async close(): Promise<void> {}
}

export interface OutboxEntry {
  day: string;
  name: string;
  bytes: number;
  modified: string;
}

/** The newest messages in a file outbox. */
export function listOutbox(dir: string, limit = 200): OutboxEntry[] {
  let days: string[];
  try {
    days = readdirSync(dir).filter((d) => /^(\d{4}-\d{2}-\d{2}|other)$/.test(d)).sort().reverse();
  } catch {
    return [];
  }
  const out: OutboxEntry[] = [];
  for (const day of days) {
    const files = readdirSync(path.join(dir, day)).filter((f) => f.endsWith('.eml'));
    const entries = files.map((name) => {
      const st = statSync(path.join(dir, day, name));
      return { day, name, bytes: st.size, modified: st.mtime.toISOString() };
    });
    out.push(...entries.sort((a, b) => b.modified.localeCompare(a.modified)));
    if (out.length >= limit) break;
  }
  return out.slice(0, limit);
}

/** One outbox message's bytes (`.eml`) or its HTML part (`.html`), or undefined (names are checked: no path tricks). */
export function readOutbox(dir: string, day: string, name: string): Buffer | undefined {
  if (!/^(\d{4}-\d{2}-\d{2}|other)$/.test(day) || !/^[A-Za-z0-9._@-]+\.(eml|html)$/.test(name) || name.includes('..')) return undefined;
  try {
    return readFileSync(path.join(dir, day, name));
  } catch {
    return undefined;
  }
}
