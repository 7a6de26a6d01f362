/**
 * The ceiling of bench/digest.ts, and the per-subscriber selection + rendering time.
 *
 * 1. On a fresh copy of the prepared database (nothing sent yet, so exactly the messages paperboy
 *    sends), the first N subscribers' digests are built one after another with
 *    `app.digests.render(s, date, selector)` — one Selector for the run, as sendDue shares one —
 *    each call timed, then turned into paperboy's OutgoingMail (`app.digests.mail`).
 * 2. Those N pre-rendered messages are sent by nodemailer alone to the sink, over a pool built with
 *    the options SmtpMailer uses (src/digest/mailer.ts: pool, maxConnections = SMTP_POOL_SIZE,
 *    maxMessages 1000, maxRequeues 1, the same timeouts) and the same sendMail fields, `--window`
 *    messages in flight at once (default 4 per pool connection, which keeps every connection busy;
 *    0 hands all N to the pool at once, which only adds the heap of N messages in flight).
 *    Only this second step is timed as the ceiling.
 *
 * Args: --db FILE --data DIR --smtp URL --pool N --count N [--window N]
 * Progress on stderr (`rendered`, `send-start`, `send-end`); the result (CeilingResult) on stdout.
 */
import { performance } from 'node:perf_hooks';
import nodemailer, { type TransportOptions } from 'nodemailer';
import { createApp } from '../src/app.ts';
import type { OutgoingMail } from '../src/digest/mailer.ts';
import { compileTemplate } from '../src/digest/render.ts';
import { Selector } from '../src/digest/select.ts';
import { subscriberById } from '../src/store/subscribers.ts';
import { benchConfig, cpuSeconds, gcTimer, ISSUE_DATE, NOW, NullMailer } from './digest-lib.ts';
import { childArgs, need, progress, round, rssNow, stats, type Stats } from './search-lib.ts';

export interface CeilingResult {
  count: number;
  window: number;
  poolSize: number;
  render: {
    /** app.digests.render per subscriber, ms. */
    ms: Stats;
    /** The first 500 calls (the run's caches filling) and the rest. */
    firstMs: Stats;
    restMs: Stats;
    /** Subscribers with topics and without, ms. */
    withTopicsMs: Stats;
    trendingOnlyMs: Stats;
    totalSeconds: number;
    /** Papers per digest: mean, and digests with none. */
    papersMean: number;
    empty: number;
    /** Characters of HTML + text per message (mean). */
    charsMean: number;
  };
  sent: number;
  errors: number;
  firstError?: string;
  sendSeconds: number;
  messagesPerSecond: number;
  cpuSeconds: number;
  /** Garbage collection during the timed part: milliseconds and collections. */
  gc: { ms: number; count: number };
  rss: { hwmMb: number };
}

const args = childArgs(process.argv.slice(2));
const smtpUrl = need(args, 'smtp');
const poolSize = Number(need(args, 'pool'));
const count = Number(need(args, 'count'));
const config = benchConfig({ dataDir: need(args, 'data'), dbFile: need(args, 'db'), smtpUrl, poolSize, concurrency: 1 });
// paperboy's own mailer is never used here: the messages go through the bare transport below.
const app = await createApp(config, { now: () => NOW, mailer: new NullMailer() });
await compileTemplate();

// ------------------------------------------------------------------ 1. render
const ids = (await app.db.all<{ id: number }>("SELECT id FROM subscribers WHERE status = 'confirmed' ORDER BY id LIMIT ?", [count])).map((r) => r.id);
const selector = new Selector(app.db);
/** The bodies as UTF-8 bytes, off the V8 heap: 20,000 digests as strings would put ~1.3 GB on it,
 * and the collector's work on that heap would be the ceiling's, not nodemailer's. */
type Kept = Omit<OutgoingMail, 'html' | 'text'> & { html: Buffer; text: Buffer };
const mails: Kept[] = [];
const ms: number[] = [];
const topicMs: number[] = [];
const trendingMs: number[] = [];
let papers = 0;
let empty = 0;
let chars = 0;
const renderStarted = performance.now();
for (const id of ids) {
  const s = (await subscriberById(app.db, id))!;
  const t = performance.now();
  const r = await app.digests.render(s, ISSUE_DATE, selector);
  const took = performance.now() - t;
  ms.push(took);
  (s.topics.length ? topicMs : trendingMs).push(took);
  papers += r.papers.length;
  if (!r.papers.length) empty++;
  const m = app.digests.mail(s, ISSUE_DATE, r.rendered);
  chars += m.html.length + m.text.length;
  mails.push({ ...m, html: Buffer.from(m.html), text: Buffer.from(m.text) });
}
const renderSeconds = (performance.now() - renderStarted) / 1000;
progress({ phase: 'rendered', count: mails.length, seconds: round(renderSeconds, 2) });
await app.close();

// ------------------------------------------------------------------ 2. send
const u = new URL(smtpUrl);
// The options of SmtpMailer (src/digest/mailer.ts), for an smtp:// URL without auth, rate or DKIM.
const transport = nodemailer.createTransport({
  pool: true,
  host: u.hostname,
  port: Number(u.port),
  secure: false,
  maxConnections: poolSize,
  maxMessages: 1000,
  maxRequeues: 1,
  connectionTimeout: 30_000,
  greetingTimeout: 30_000,
  socketTimeout: 60_000,
  tls: { rejectUnauthorized: true },
} as TransportOptions);

// Messages handed to the pool at once: 4 per connection keeps every connection busy (0: all at once).
const wanted = args.has('window') ? Number(args.get('window')) : 4 * poolSize;
const inFlight = Math.min(mails.length, wanted > 0 ? wanted : mails.length);
let next = 0;
let sent = 0;
let errors = 0;
let firstError: string | undefined;
const lane = async () => {
  while (next < mails.length) {
    const m = mails[next++]!;
    try {
      // Strings again, as SmtpMailer hands them over.
      const text = m.text.toString();
      const html = m.html.toString();
      await transport.sendMail({ from: m.from, to: m.to, subject: m.subject, text, html, messageId: `<${m.messageId}>`, headers: m.headers });
      sent++;
    } catch (err) {
      errors++;
      firstError ??= String(err);
    }
  }
};
progress({ phase: 'send-start' });
const cpu = process.cpuUsage();
const gc = gcTimer();
const started = performance.now();
await Promise.all(Array.from({ length: inFlight }, lane));
const sendSeconds = (performance.now() - started) / 1000;
const usedCpu = cpuSeconds(cpu);
const gcUsed = gc.stop();
progress({ phase: 'send-end', sent, seconds: round(sendSeconds, 2) });
transport.close();

const result: CeilingResult = {
  count: mails.length,
  window: inFlight,
  poolSize,
  render: {
    ms: stats(ms),
    firstMs: stats(ms.slice(0, 500)),
    restMs: stats(ms.slice(500)),
    withTopicsMs: stats(topicMs),
    trendingOnlyMs: stats(trendingMs),
    totalSeconds: round(renderSeconds, 2),
    papersMean: round(papers / (mails.length || 1), 2),
    empty,
    charsMean: Math.round(chars / (mails.length || 1)),
  },
  sent,
  errors,
  ...(firstError ? { firstError } : {}),
  sendSeconds: round(sendSeconds, 2),
  messagesPerSecond: round(sent / sendSeconds, 1),
  cpuSeconds: round(usedCpu, 2),
  gc: gcUsed,
  rss: { hwmMb: rssNow().hwmMb },
};
process.stdout.write(JSON.stringify(result) + '\n');
