/**
 * The measured paperboy of bench/digest.ts (a child of its own, for its peak RSS): createApp on a
 * fresh copy of the prepared database with the clock at NOW; `app.digests.scheduleDate(date)` (one
 * outbox row per confirmed subscriber, as `paperboy digest run --date` schedules), then
 * `app.digests.sendDue()` as the daemon's digest job calls it, timed until nothing is left. Every
 * row is claimed with a lease, selected, rendered, handed to the mailer and marked sent in SQLite.
 *
 * The mailer is paperboy's own SmtpMailer from the config (SMTP_URL = the sink), or with
 * `--smtp null` a mailer that accepts at once (paperboy's own cost per digest, no SMTP).
 *
 * Args: --db FILE --data DIR --smtp URL|null --pool N --concurrency N [--limit N]
 * Progress on stderr (`send-start`, `sending`, `send-end`); the result (PaperboyResult) on stdout.
 */
import { performance } from 'node:perf_hooks';
import { createApp } from '../src/app.ts';
import { compileTemplate } from '../src/digest/render.ts';
import { digestCounts } from '../src/store/digests.ts';
import { benchConfig, cpuSeconds, gcTimer, ISSUE_DATE, NOW, NullMailer } from './digest-lib.ts';
import { childArgs, need, progress, round, rssNow } from './search-lib.ts';

export interface PaperboyResult {
  mailer: 'smtp' | 'null';
  poolSize: number;
  concurrency: number;
  /** Seconds to compile the MJML template (once per process, before the timed run). */
  templateSeconds: number;
  scheduled: number;
  scheduleSeconds: number;
  due: number;
  sent: number;
  failed: number;
  skipped: number;
  retried: number;
  /** sendDue's wall time. */
  sendSeconds: number;
  messagesPerSecond: number;
  /** CPU seconds this process used during sendDue (on a 2-core machine, ≤ 1 of them is JS). */
  cpuSeconds: number;
  /** Garbage collection during the timed part: milliseconds and collections. */
  gc: { ms: number; count: number };
  /** Rows marked sent in SQLite for the date, and papers recorded as sent, after the run. */
  counted: { sent: number; sending: number; pending: number; digestPapers: number };
  rss: { beforeMb: number; afterScheduleMb: number; hwmMb: number };
  /** [seconds, sent] every ~2 s, for the shape of the run. */
  timeline: [number, number][];
}

const args = childArgs(process.argv.slice(2));
const smtp = need(args, 'smtp');
const nullMailer = smtp === 'null' ? new NullMailer() : undefined;
const poolSize = Number(need(args, 'pool'));
const concurrency = Number(need(args, 'concurrency'));
const limit = args.has('limit') ? Number(args.get('limit')) : undefined;
const config = benchConfig({ dataDir: need(args, 'data'), dbFile: need(args, 'db'), smtpUrl: nullMailer ? undefined : smtp, poolSize, concurrency });
const app = await createApp(config, { now: () => NOW, ...(nullMailer ? { mailer: nullMailer } : {}) });
const before = rssNow().rssMb;

let t = performance.now();
await compileTemplate();
const templateSeconds = (performance.now() - t) / 1000;

t = performance.now();
const scheduled = await app.digests.scheduleDate(ISSUE_DATE);
const scheduleSeconds = (performance.now() - t) / 1000;
const afterSchedule = rssNow().rssMb;
progress({ phase: 'scheduled', scheduled, seconds: round(scheduleSeconds, 2) });

const timeline: [number, number][] = [];
let lastMark = 0;
progress({ phase: 'send-start' });
const cpu = process.cpuUsage();
const gc = gcTimer();
const started = performance.now();
// As the daemon's digest job calls it (src/jobs/digest-jobs.ts): no date, everything claimable.
const summary = await app.digests.sendDue({
  limit,
  onProgress: (s) => {
    const now = performance.now();
    if (now - lastMark < 2000) return;
    lastMark = now;
    const secs = round((now - started) / 1000, 2);
    timeline.push([secs, s.sent]);
    progress({ phase: 'sending', sent: s.sent, seconds: secs });
  },
});
const sendSeconds = (performance.now() - started) / 1000;
const usedCpu = cpuSeconds(cpu);
const gcUsed = gc.stop();
progress({ phase: 'send-end', sent: summary.sent, seconds: round(sendSeconds, 2) });
timeline.push([round(sendSeconds, 2), summary.sent]);

const counts = await digestCounts(app.db, ISSUE_DATE);
const digestPapers = Number((await app.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM digest_papers'))?.n ?? 0);
const hwm = rssNow().hwmMb;
await app.close();

const result: PaperboyResult = {
  mailer: nullMailer ? 'null' : 'smtp',
  poolSize,
  concurrency,
  templateSeconds: round(templateSeconds, 3),
  scheduled,
  scheduleSeconds: round(scheduleSeconds, 2),
  ...summary,
  sendSeconds: round(sendSeconds, 2),
  messagesPerSecond: round(summary.sent / sendSeconds, 1),
  cpuSeconds: round(usedCpu, 2),
  gc: gcUsed,
  counted: { sent: counts.sent, sending: counts.sending, pending: counts.pending, digestPapers },
  rss: { beforeMb: before, afterScheduleMb: afterSchedule, hwmMb: hwm },
  timeline,
};
process.stdout.write(JSON.stringify(result) + '\n');
