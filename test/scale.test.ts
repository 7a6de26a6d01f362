/**
 * Scale-out, as issue 6 states it:
 * - two schedulers at once, over an hour of simulated time, create each digest row once (both
 *   databases: two apps with their own connections on one database);
 * - on PostgreSQL, 3 worker processes and 2 web processes (the real CLI) with 20,000 subscribers
 *   due at once; one worker, the scheduler's leader, is SIGKILLed mid-run and a new one started:
 *   every subscriber gets exactly one digest at a real SMTP server except at most the messages the
 *   killed worker had in flight, none is lost, and the scheduler fails over within its lease.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { App } from '../src/app.ts';
import { DEMO_DIR } from '../src/demo.ts';
import { Digests } from '../src/digest/service.ts';
import { runIngest } from '../src/ingest/run.ts';
import { DEFAULT_PREFERENCES } from '../src/store/subscribers.ts';
import { BIN, childEnv, ROOT, TEST_PG_URL, tempApp } from './helpers/app.ts';
import { SmtpSink } from './helpers/smtp.ts';
import path from 'node:path';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Inserts `n` confirmed subscribers in one statement per thousand (fast on both databases). */
async function addSubscribers(app: App, n: number, opts: { timezones?: readonly string[]; hours?: readonly number[] } = {}): Promise<void> {
  const now = new Date().toISOString();
  for (let i = 0; i < n; i += 1000) {
    const rows: (string | number)[] = [];
    const marks: string[] = [];
    for (let j = i; j < Math.min(n, i + 1000); j++) {
      const tz = opts.timezones?.[j % opts.timezones.length] ?? 'UTC';
      const hour = opts.hours?.[j % opts.hours.length] ?? DEFAULT_PREFERENCES.deliveryHour;
      marks.push("(?, ?, 'confirmed', ?, ?, ?, 0, 'test', ?, ?)");
      rows.push(`reader${j}@example.org`, `reader${j}@example.org`, `n${j}`, tz, hour, now, now);
    }
    await app.db.run(
      `INSERT INTO subscribers (email, email_key, status, nonce, timezone, delivery_hour, skip_empty, source, created_at, confirmed_at) VALUES ${marks.join(', ')}`,
      rows,
    );
  }
}

test('two schedulers at once for an hour of simulated time: each digest row is created once', async (t) => {
  const clock = { ms: Date.parse('2026-09-01T06:30:00Z') };
  const a = await tempApp({}, { now: () => new Date(clock.ms) });
  // On PostgreSQL, a second app with its own connection pool: two schedulers truly at once. On
  // SQLite, two connections in one process would block each other's thread (better-sqlite3 is
  // synchronous), as two processes never do; there the second scheduler shares the connection and
  // the two interleave at every await.
  const b = TEST_PG_URL ? await tempApp({ PAPERBOY_DATA_DIR: a.dir }, { now: () => new Date(clock.ms) }) : { digests: new Digests(a, a.digests.mailer), close: async () => {} };
  try {
    // 2,000 subscribers whose local hour falls at different minutes of the hour: whole-hour and
    // half-hour and quarter-hour zones, local 7:00–9:00.
    const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Adelaide', 'America/St_Johns', 'Pacific/Chatham'];
    await addSubscribers(a, 2000, { timezones: zones, hours: [7, 8, 9] });
    let created = 0;
    for (let minute = 0; minute <= 60; minute++) {
      clock.ms = Date.parse('2026-09-01T06:30:00Z') + minute * 60_000;
      const [x, y] = await Promise.all([a.digests.schedule(), b.digests.schedule()]);
      created += x.created + y.created;
    }
    const rows = await a.db.all<{ subscriber_id: number; issue_date: string; n: number }>(
      'SELECT subscriber_id, issue_date, COUNT(*) AS n FROM digests GROUP BY subscriber_id, issue_date HAVING COUNT(*) > 1',
    );
    assert.deepEqual(rows, [], 'no (subscriber, issue) has two rows');
    const total = Number((await a.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM digests'))!.n);
    assert.equal(created, total, 'each row counted as created by exactly one scheduler');
    // Whoever was due in that hour has exactly one row, and nobody else has any.
    const due = await a.db.all<{ id: number; last: string | null }>(
      `SELECT s.id, (SELECT MAX(d.issue_date) FROM digests d WHERE d.subscriber_id = s.id) AS last FROM subscribers s`,
    );
    const withRow = due.filter((r) => r.last !== null).length;
    assert.equal(withRow, total, 'one row per subscriber due within the hour');
    assert.ok(total > 100, `some subscribers were due within the hour (${total})`);
    t.diagnostic(`${total} digest rows created over 61 simulated minutes by two schedulers, none twice`);
  } finally {
    await b.close();
    await a.close();
  }
});

// ---------------------------------------------------------------- many processes on PostgreSQL

const SUBSCRIBERS = 20_000;
const LEASE_S = 6;

interface Proc {
  child: ChildProcess;
  name: string;
  log: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const procs: Proc[] = [];

function start(name: string, args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'ignore', 'pipe'] });
  const log: string[] = [];
  let buf = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    buf += c;
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines) log.push(l);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  const p = { child, name, log, exited };
  procs.push(p);
  return p;
}

const leads = (p: Proc) => p.log.some((l) => l.includes('this worker now runs the scheduler'));

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${procs.map((p) => `${p.name}:\n  ${p.log.slice(-6).join('\n  ')}`).join('\n')}`);
    await sleep(50);
  }
}

let sink: SmtpSink | undefined;

before(async () => {
  if (TEST_PG_URL) sink = await new SmtpSink({ parse: false }).start();
});

after(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await sink?.stop();
});

test('PostgreSQL: 3 workers and 2 web processes, 20,000 digests due at once, the leader SIGKILLed mid-run', { skip: TEST_PG_URL ? false : 'needs PostgreSQL (PAPERBOY_TEST_DATABASE_URL; npm run test:pg)', timeout: 300_000 }, async (t) => {
  const app = await tempApp();
  try {
    const daily = path.join(DEMO_DIR, 'hf-daily');
    await runIngest(app, 'hf-daily', { inputs: [path.join(daily, '2026-08-20.json'), path.join(daily, '2026-08-21.json')] });
    await addSubscribers(app, SUBSCRIBERS);
    const today = new Date().toISOString().slice(0, 10);
    // All due a minute ago, for today's issue.
    await app.db.run("UPDATE subscribers SET next_due_at = ?, next_issue_date = ? WHERE status = 'confirmed'", [new Date(Date.now() - 60_000).toISOString(), today]);

    const env = {
      PAPERBOY_DATA_DIR: app.dir,
      SMTP_URL: `smtp://127.0.0.1:${sink!.port}`,
      SMTP_POOL_SIZE: '4',
      PAPERBOY_DIGEST_CONCURRENCY: '8',
      PAPERBOY_DIGEST_LEASE_SECONDS: String(LEASE_S),
      PAPERBOY_SCHEDULER_TICK_SECONDS: '1',
      PAPERBOY_SEND_POLL_SECONDS: '0.5',
      PAPERBOY_INGEST_SOURCES: 'none',
      PAPERBOY_DB_POOL: '4',
      LOG_LEVEL: 'info',
      SECRET_KEY: 'scale-test-secret-0123456789',
    };
    const workers = [0, 1, 2].map((i) => start(`worker${i}`, ['worker'], env));
    const webs = [0, 1].map((i) => start(`web${i}`, ['serve', '--no-demo'], { ...env, PORT: '0' }));

    const sentCount = async () => Number((await app.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM digests WHERE status = 'sent'"))!.n);
    await until('a leader', () => workers.some(leads), 30_000);
    const leader = workers.find(leads)!;
    assert.equal(workers.filter(leads).length, 1, 'exactly one worker runs the scheduler');

    // Mid-run: a third of the messages are at the server.
    await until('a third of the messages', () => sink!.accepted.length >= SUBSCRIBERS / 3, 120_000);
    const pid = leader.child.pid!;
    leader.child.kill('SIGKILL');
    const killedAt = Date.now();
    assert.equal((await leader.exited).signal, 'SIGKILL');
    // What the dead worker held: claimed and not marked sent.
    const held = await app.db.all<{ message_id: string }>("SELECT message_id FROM digests WHERE status = 'sending' AND locked_by LIKE ?", [`%:${pid}:%`]);
    const heldIds = new Set(held.map((r) => r.message_id));

    // Failover: another worker leads within the lease.
    const survivors = workers.filter((w) => w !== leader);
    await until('a new leader', () => survivors.some(leads), LEASE_S * 1000 * 3);
    const failoverMs = Date.now() - killedAt;
    // And a replacement worker joins.
    workers.push(start('worker3', ['worker'], env));

    // The web processes serve meanwhile.
    for (const w of webs) {
      const line = w.log.find((l) => l.includes('web: listening on'));
      const url = /listening on (http:\/\/[^\s]+?) \(/.exec(line ?? '')?.[1];
      assert.ok(url, `${w.name} is listening`);
      const r = await fetch(`${url}/healthz`);
      assert.equal(r.status, 200);
    }

    await until('every digest sent', async () => (await sentCount()) === SUBSCRIBERS, 240_000);
    const totalMs = Date.now() - killedAt;

    // Exactly one row per subscriber, all sent.
    const rows = await app.db.get<{ n: number; subs: number }>("SELECT COUNT(*) AS n, COUNT(DISTINCT subscriber_id) AS subs FROM digests WHERE issue_date = ?", [today]);
    assert.equal(Number(rows!.n), SUBSCRIBERS);
    assert.equal(Number(rows!.subs), SUBSCRIBERS);
    // Every subscriber received it; duplicates only among the killed worker's messages in flight.
    assert.equal(new Set(sink!.accepted.flatMap((m) => m.to)).size, SUBSCRIBERS, 'every subscriber received the digest');
    const seen = new Map<string, number>();
    for (const { messageId: id } of sink!.accepted) seen.set(id, (seen.get(id) ?? 0) + 1);
    const dups = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
    assert.equal(seen.size, SUBSCRIBERS, 'one distinct message per subscriber');
    for (const id of dups) assert.ok(heldIds.has(id), `${id} duplicated but was not in flight at the killed worker`);
    assert.ok(dups.length <= heldIds.size);
    t.diagnostic(
      `killed the leader (pid ${pid}) holding ${heldIds.size} claimed rows; new leader after ${failoverMs} ms (lease ${LEASE_S} s); ${dups.length} duplicates; all ${SUBSCRIBERS} sent ${totalMs} ms after the kill`,
    );

    // SIGTERM: every process stops cleanly.
    for (const p of [...workers.filter((w) => w !== leader), ...webs]) p.child.kill('SIGTERM');
    for (const p of [...workers.filter((w) => w !== leader), ...webs]) assert.equal((await p.exited).code, 0, `${p.name} exits 0 on SIGTERM\n${p.log.slice(-5).join('\n')}`);
  } finally {
    await app.close();
  }
});
