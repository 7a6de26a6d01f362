/**
 * The digest sender under crashes, as the issue states it: "a SIGKILL at any moment loses no digest
 * and duplicates at most the messages in flight at that moment; SIGTERM finishes in-flight sends and
 * stops claiming", and two schedulers at once create each row once. The worker is the real CLI
 * (`node bin/paperboy.js digest run`) in a child process, killed mid-run; the mail server is a real
 * SMTP server in this process (test/helpers/smtp.ts) that answers each message ~20 ms late, so a run
 * of 300 subscribers takes long enough to be interrupted; the database is the real, migrated SQLite
 * file the child writes, read here between runs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { SMTPServer } from 'smtp-server';
import type { App } from '../src/app.ts';
import { DEMO_DIR } from '../src/demo.ts';
import { runIngest } from '../src/ingest/run.ts';
import { DEFAULT_PREFERENCES, insertSubscriber, setSchedule, subscriberById } from '../src/store/subscribers.ts';
import { BIN, childEnv, lastJson, ROOT, tempApp } from './helpers/app.ts';
import { SmtpSink } from './helpers/smtp.ts';

const SUBSCRIBERS = 300;
/** How late the server answers each message's DATA. */
const REPLY_DELAY_MS = 20;
const CONCURRENCY = '8';
const POOL = '4';

let sink: SmtpSink;
let app: App & { dir: string };
let workerEnv: Record<string, string>;

before(async () => {
  sink = await new SmtpSink().start();
  // A reach into the helper's server (no option for it there): reply late, and ignore the connection
  // resets of a client killed in the middle of a message (smtp-server emits them as 'error').
  const server = (sink as unknown as { server: SMTPServer }).server;
  server.on('error', () => {});
  const onData = server.onData.bind(server);
  server.onData = (stream, session, callback) => onData(stream, session, (err) => setTimeout(() => callback(err), REPLY_DELAY_MS));

  app = await tempApp();
  const daily = path.join(app.dir, 'daily');
  mkdirSync(daily);
  for (const d of ['2026-08-20.json', '2026-08-21.json']) copyFileSync(path.join(DEMO_DIR, 'hf-daily', d), path.join(daily, d));
  await runIngest(app, 'hf-daily', { inputs: [daily] });
  const now = new Date().toISOString();
  await app.db.tx(async (tx) => {
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const email = `reader${i}@example.org`;
      // skipEmpty off: every subscriber gets a mail, whatever is left to pick on later dates.
      await insertSubscriber(tx, { email, emailKey: email, status: 'confirmed', prefs: { ...DEFAULT_PREFERENCES, skipEmpty: false }, source: 'test', now });
    }
  });
  workerEnv = { PAPERBOY_DATA_DIR: app.dir, SMTP_URL: sink.url, SMTP_POOL_SIZE: POOL, PAPERBOY_DIGEST_CONCURRENCY: CONCURRENCY, LOG_LEVEL: 'silent' };
});

after(async () => {
  await app?.close();
  await sink?.stop();
});

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `node bin/paperboy.js …args` as a child we can signal; `exit` settles when it is gone. */
function worker(args: string[], timeoutMs = 30_000) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: childEnv(workerEnv), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exit = new Promise<Exit>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, exit };
}

/** Runs a worker to the end; fails on a non-zero exit. Resolves to its `--json` summary. */
async function runToEnd(args: string[]): Promise<{ due: number; sent: number; failed: number }> {
  const r = await worker([...args, '--json']).exit;
  assert.equal(r.code, 0, `paperboy ${args.join(' ')}: ${r.signal ?? r.code}\n${r.stderr}`);
  return lastJson(r.stdout);
}

async function until(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Message-IDs the server received for an issue date, in order (a duplicate appears twice). */
const receivedFor = (date: string) => sink.received.filter((m) => m.messageId.endsWith(`-${date}@localhost`)).map((m) => m.messageId);

interface Outbox {
  id: number;
  subscriber_id: number;
  status: string;
  message_id: string;
}
const rowsFor = (date: string) => app.db.all<Outbox>('SELECT id, subscriber_id, status, message_id FROM digests WHERE issue_date = ? ORDER BY id', [date]);
const byStatus = (rows: readonly Outbox[], status: string) => new Set(rows.filter((r) => r.status === status).map((r) => r.message_id));

function duplicates(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  const dup: string[] = [];
  for (const id of ids) {
    if (seen.has(id)) dup.push(id);
    seen.add(id);
  }
  return dup;
}

/** Every subscriber has exactly one row for the date, sent, and the server got it (once, or more). */
async function assertAllSentOnce(date: string): Promise<void> {
  const rows = await rowsFor(date);
  assert.equal(rows.length, SUBSCRIBERS);
  assert.equal(new Set(rows.map((r) => r.subscriber_id)).size, SUBSCRIBERS, 'one row per subscriber');
  assert.deepEqual(rows.filter((r) => r.status !== 'sent'), [], 'every row sent, none left pending or sending');
  const got = new Set(receivedFor(date));
  for (const r of rows) assert.ok(got.has(r.message_id), `${r.message_id} reached the server`);
  const addressed = new Set(sink.received.filter((m) => m.messageId.endsWith(`-${date}@localhost`)).flatMap((m) => m.to));
  for (let i = 0; i < SUBSCRIBERS; i++) assert.ok(addressed.has(`reader${i}@example.org`), `reader${i} received the ${date} digest`);
}

test('SIGKILL mid-run, then restarts: every subscriber gets the digest, duplicates only the messages in flight', async (t) => {
  const date = '2026-08-22';
  // "At any moment": somewhere between a fifth and three fifths of the way, a little after a reply.
  const killAt = Math.round(SUBSCRIBERS * (0.2 + 0.4 * Math.random()));
  const w = worker(['digest', 'run', '--date', date, '--json']);
  await until(`${killAt} messages`, () => receivedFor(date).length >= killAt);
  await sleep(Math.floor(Math.random() * REPLY_DELAY_MS * 2));
  w.child.kill('SIGKILL');
  const killed = await w.exit;
  assert.equal(killed.signal, 'SIGKILL', killed.stderr);
  await sleep(200); // anything the server still had in its socket buffers is in

  // The database as the dead worker left it, and what the server got until then.
  const atKill = await rowsFor(date);
  const gotAtKill = receivedFor(date);
  const sentAtKill = byStatus(atKill, 'sent');
  const sendingAtKill = byStatus(atKill, 'sending');
  assert.equal(atKill.length, SUBSCRIBERS, 'every row was created before sending began');
  assert.ok(sentAtKill.size > 0 && sentAtKill.size < SUBSCRIBERS, `killed mid-run (${sentAtKill.size} sent)`);
  // Sent only after the server accepted: no row is marked sent that the server does not have.
  for (const id of sentAtKill) assert.ok(gotAtKill.includes(id), `${id} marked sent but never received`);
  // Nothing is sent unclaimed: what the server has is sent or still held by the dead worker.
  for (const id of gotAtKill) assert.ok(sentAtKill.has(id) || sendingAtKill.has(id), `${id} received but its row is neither sent nor sending`);
  assert.deepEqual(duplicates(gotAtKill), [], 'no duplicate before the kill');
  // In flight at the kill: received, but the worker died before it could mark the row sent.
  const inFlight = new Set(gotAtKill.filter((id) => !sentAtKill.has(id)));

  // A restart at once: the dead worker's rows are still leased (LEASE_MS, 5 minutes) and are left
  // alone, as they would be if that worker were alive and slow. Everything else is sent.
  const first = await runToEnd(['digest', 'run', '--date', date]);
  assert.equal(first.due, SUBSCRIBERS - sentAtKill.size - sendingAtKill.size);
  const afterFirst = await rowsFor(date);
  assert.deepEqual(byStatus(afterFirst, 'sending'), sendingAtKill, 'leased rows untouched');
  assert.deepEqual(duplicates(receivedFor(date)), [], 'no duplicate while the leases hold');

  // Five minutes later the leases have run out. Simulated by moving them into the past, which is
  // all the passing of time changes for a row: claimDigests takes 'sending' rows whose
  // locked_until < now.
  await app.db.run("UPDATE digests SET locked_until = ? WHERE issue_date = ? AND status = 'sending'", [new Date(Date.now() - 1000).toISOString(), date]);
  const second = await runToEnd(['digest', 'run', '--date', date]);
  assert.equal(second.due, sendingAtKill.size, 'the restarted worker takes over exactly the expired leases');

  await assertAllSentOnce(date);
  const all = receivedFor(date);
  const dup = duplicates(all);
  assert.equal(all.length, SUBSCRIBERS + dup.length);
  assert.ok(dup.length <= sendingAtKill.size, `${dup.length} duplicates, ${sendingAtKill.size} rows in flight`);
  // The duplicates are exactly the messages the server had but the dead worker had not marked sent.
  assert.deepEqual(new Set(dup), inFlight);
  t.diagnostic(`SIGKILL after ${gotAtKill.length} received: ${sentAtKill.size} sent, ${sendingAtKill.size} rows sending (leased), ${inFlight.size} received but unmarked; ${dup.length} duplicates in the end`);
});

test('SIGTERM mid-run: the messages in flight are sent and marked, no more are claimed, exit 0', async (t) => {
  const date = '2026-08-23';
  const w = worker(['digest', 'run', '--date', date, '--json']);
  await until('a third of the messages', () => receivedFor(date).length >= SUBSCRIBERS / 3);
  const signalled = Date.now();
  w.child.kill('SIGTERM');
  const r = await w.exit;
  const stopMs = Date.now() - signalled;
  assert.equal(r.code, 0, `${r.signal ?? r.code}\n${r.stderr}`);
  assert.ok(stopMs < 5000, `stopped ${stopMs} ms after SIGTERM`);
  const summary = lastJson<{ sent: number }>(r.stdout);

  const rows = await rowsFor(date);
  const sent = byStatus(rows, 'sent');
  assert.equal(byStatus(rows, 'sending').size, 0, 'nothing left in flight');
  assert.ok(byStatus(rows, 'pending').size > 0, 'stopped claiming: some rows are left for the next run');
  // Everything the server accepted is marked sent, and the reverse.
  assert.deepEqual(new Set(receivedFor(date)), sent);
  assert.deepEqual(duplicates(receivedFor(date)), []);
  assert.equal(summary.sent, sent.size);

  // The next run sends the rest; nothing twice.
  await runToEnd(['digest', 'run', '--date', date]);
  await assertAllSentOnce(date);
  assert.equal(receivedFor(date).length, SUBSCRIBERS, 'no duplicates');
  t.diagnostic(`SIGTERM after ${summary.sent} sent; stopped in ${stopMs} ms`);
});

test('two schedulers at once create each digest once, and two workers send each once', async (t) => {
  // In one process: two schedule() calls racing over the same due subscribers.
  const now = new Date();
  const dueAt = new Date(now.getTime() - 60_000).toISOString();
  const ids = (await app.db.all<{ id: number }>('SELECT id FROM subscribers ORDER BY id')).map((r) => r.id);
  await app.db.tx(async (tx) => {
    for (const id of ids) await setSchedule(tx, id, { dueAt, issueDate: '2026-08-24' });
  });
  const [a, b] = await Promise.all([app.digests.schedule(now), app.digests.schedule(now)]);
  assert.equal(a.created + b.created, SUBSCRIBERS);
  const rows = await rowsFor('2026-08-24');
  assert.equal(rows.length, SUBSCRIBERS);
  assert.equal(new Set(rows.map((r) => r.subscriber_id)).size, SUBSCRIBERS);
  for (const id of ids.slice(0, 5)) assert.ok((await subscriberById(app.db, id))!.nextIssueDate! > '2026-08-24', 'moved to the next issue');
  // Only the creation was under test: these rows go, so the workers below have 300 to send, not 600.
  await app.db.run("DELETE FROM digests WHERE issue_date = '2026-08-24'");

  // In two processes: both schedule the subscribers due now (issue 2026-08-25) and send what is
  // claimable, each row by one of them.
  await app.db.tx(async (tx) => {
    for (const id of ids) await setSchedule(tx, id, { dueAt, issueDate: '2026-08-25' });
  });
  const [x, y] = await Promise.all([runToEnd(['digest', 'run']), runToEnd(['digest', 'run'])]);
  assert.equal(x.sent + y.sent, SUBSCRIBERS, 'each row sent by one of them');
  assert.ok(x.sent > 0 && y.sent > 0, `both workers sent (${x.sent} + ${y.sent})`);
  await assertAllSentOnce('2026-08-25');
  assert.equal(receivedFor('2026-08-25').length, SUBSCRIBERS, 'each message once');
  t.diagnostic(`two workers: ${x.sent} + ${y.sent} sent`);
});
