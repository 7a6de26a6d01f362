/**
 * The digest scheduler with an injectable clock: catching up after downtime within the grace
 * period, never a stale day after it; weekly and paused subscribers; unconfirmed sign-ups expiring;
 * the JSON sign-up endpoint; and `digest run --to`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { App } from '../src/app.ts';
import { DEMO_DIR } from '../src/demo.ts';
import { runIngest } from '../src/ingest/run.ts';
import { SendLoop } from '../src/jobs/send-loop.ts';
import { digestJobs } from '../src/jobs/digest-jobs.ts';
import { DEFAULT_PREFERENCES, insertSubscriber, subscriberByKey } from '../src/store/subscribers.ts';
import { buildServer } from '../src/web/server.ts';
import { lastJson, runCli, tempApp } from './helpers/app.ts';

type TestApp = App & { dir: string };
const clock = { ms: Date.parse('2026-08-22T00:00:00Z') };
let app: TestApp;

before(async () => {
  app = await tempApp({ PAPERBOY_DIGEST_GRACE_HOURS: '6', PAPERBOY_PENDING_EXPIRY_HOURS: '72' }, { now: () => new Date(clock.ms) });
  const daily = path.join(app.dir, 'daily');
  mkdirSync(daily);
  for (const d of ['2026-08-20.json', '2026-08-21.json']) copyFileSync(path.join(DEMO_DIR, 'hf-daily', d), path.join(daily, d));
  await runIngest(app, 'hf-daily', { inputs: [daily] });
});

after(async () => {
  await app.close();
});

async function add(email: string, prefs: Partial<typeof DEFAULT_PREFERENCES> = {}): Promise<void> {
  await insertSubscriber(app.db, { email, emailKey: email, status: 'confirmed', prefs: { ...DEFAULT_PREFERENCES, skipEmpty: false, ...prefs }, source: 'test', now: new Date(clock.ms).toISOString() });
}

const rows = (email: string) =>
  app.db.all<{ issue_date: string; status: string }>('SELECT d.issue_date, d.status FROM digests d JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email_key = ? ORDER BY d.issue_date', [email]);

test('after downtime: a digest within the grace period still goes out; a staler day is skipped, never sent late', async () => {
  await add('late@example.org', { timezone: 'UTC', deliveryHour: 7 });
  clock.ms = Date.parse('2026-08-22T01:00:00Z');
  await app.digests.schedule();
  assert.equal((await subscriberByKey(app.db, 'late@example.org'))?.nextIssueDate, '2026-08-22');
  // Down from 06:00 to 11:00: four hours late, within the six-hour grace.
  clock.ms = Date.parse('2026-08-22T11:00:00Z');
  assert.equal((await app.digests.schedule()).created, 1);
  // Down for two days: 2026-08-23 07:00 is 30 hours stale, 2026-08-24 07:00 not yet due.
  clock.ms = Date.parse('2026-08-24T13:00:00Z');
  const r = await app.digests.schedule();
  assert.equal(r.created, 1, 'only the 24th (6 hours late, inside the grace)');
  assert.deepEqual((await rows('late@example.org')).map((x) => x.issue_date), ['2026-08-22', '2026-08-24']);
  assert.equal((await subscriberByKey(app.db, 'late@example.org'))?.nextIssueDate, '2026-08-25');
});

test('weekly subscribers get one digest a week on their day; paused ones none', async () => {
  await add('weekly@example.org', { frequency: 'weekly', weekday: 3, timezone: 'Europe/Berlin' });
  await add('paused@example.org', { frequency: 'paused' });
  for (let h = 0; h < 14 * 24; h += 1) {
    clock.ms = Date.parse('2026-08-25T00:00:00Z') + h * 3_600_000;
    await app.digests.schedule();
  }
  const weekly = await rows('weekly@example.org');
  assert.deepEqual(weekly.map((x) => x.issue_date), ['2026-08-26', '2026-09-02']);
  assert.deepEqual(await rows('paused@example.org'), []);
});

test('the digest jobs run through the scheduler interface; unconfirmed sign-ups expire', async () => {
  await insertSubscriber(app.db, { email: 'pending@example.org', emailKey: 'pending@example.org', status: 'pending', prefs: DEFAULT_PREFERENCES, source: 'test', now: new Date(clock.ms).toISOString() });
  const jobs = Object.fromEntries(digestJobs().map((j) => [j.name, j]));
  assert.equal(jobs['digest-send'], undefined, 'every worker sends (SendLoop); sending is no scheduled job');
  const sent = await new SendLoop(app).once();
  assert.ok(sent.due > 0, 'there were scheduled digests to send');
  assert.equal(sent.sent, sent.due, 'the scheduled digests are sent by the worker loop');
  assert.match(await jobs['subscribers-expire']!.run(app, 'test'), /^0 unconfirmed/);
  clock.ms += 73 * 3_600_000;
  assert.match(await jobs['subscribers-expire']!.run(app, 'test'), /^1 unconfirmed/);
  assert.equal(await subscriberByKey(app.db, 'pending@example.org'), undefined);
});

test('POST /api/subscribe: JSON in, 202 and the same answer for any valid address; clear 400s', async () => {
  const server = await buildServer(app);
  try {
    for (const email of ['json@example.org', 'json@example.org', 'late@example.org']) {
      const r = await server.inject({ method: 'POST', url: '/api/subscribe', payload: { email, topics: ['agent'], timezone: 'Asia/Tokyo' } });
      assert.equal(r.statusCode, 202, r.body);
      assert.deepEqual(r.json(), { status: 'check-your-inbox' });
    }
    const s = await subscriberByKey(app.db, 'json@example.org');
    assert.equal(s?.status, 'pending');
    assert.equal(s?.timezone, 'Asia/Tokyo');
    for (const payload of [{ email: 'nope' }, { email: 'a@example.org', timezone: 'Mars/Base' }, { email: 'a@example.org', topics: Array(11).fill('x').map((x, i) => x + i) }]) {
      const r = await server.inject({ method: 'POST', url: '/api/subscribe', payload });
      assert.equal(r.statusCode, 400, JSON.stringify(payload));
      assert.equal(r.json<{ error: { code: string } }>().error.code, 'invalid');
    }
  } finally {
    await server.close();
  }
});

test('digest run --to sends the due digests to one address and marks nothing', async () => {
  const env = { PAPERBOY_DATA_DIR: app.dir };
  const before = await app.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM digests WHERE status = 'sent'");
  const r = await runCli(['digest', 'run', '--date', '2026-08-22', '--to', 'ops@example.org', '--json'], env, 60_000);
  assert.equal(r.code, 0, r.stderr);
  const out = lastJson<{ due: number; sent: number; dryRun: boolean }>(r.stdout);
  assert.ok(out.sent > 0 && out.sent <= 20);
  assert.equal(out.dryRun, false);
  const files = readdirSync(path.join(app.dir, 'outbox', '2026-08-22')).filter((f) => f.endsWith('.eml'));
  assert.ok(files.length > 0);
  assert.deepEqual(await app.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM digests WHERE status = 'sent'"), before);
});
