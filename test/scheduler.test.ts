import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createApp, createLogger, type App } from '../src/app.ts';
import { ingestJobs } from '../src/jobs/ingest-jobs.ts';
import { Scheduler, type JobDefinition } from '../src/jobs/scheduler.ts';
import { stats } from '../src/store/ingest-runs.ts';
import { claimJob, ensureJob, finishJob, listJobs, type JobRow } from '../src/store/jobs.ts';
import { countPapers } from '../src/store/papers.ts';
import { startReplayServer } from './helpers/replay-server.ts';
import { SHARED, tempApp } from './helpers/app.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

/** A clock the test moves by hand. */
function clock(startIso: string) {
  let t = Date.parse(startIso);
  return {
    now: () => new Date(t),
    set(iso: string | number) {
      t = typeof iso === 'number' ? iso : Date.parse(iso);
    },
    advance(ms: number) {
      t += ms;
    },
    get ms() {
      return t;
    },
  };
}

/** Our own test job: counts its runs, and fails while `fail` is set. */
function countingJob(name: string, intervalMs = MIN, leaseMs = 30_000) {
  const job = {
    runs: 0,
    keys: [] as string[],
    fail: undefined as string | undefined,
    def: {
      name,
      intervalMs,
      leaseMs,
      async run(_app: App, key: string): Promise<string> {
        job.runs++;
        job.keys.push(key);
        if (job.fail !== undefined) throw new Error(job.fail);
        return `run ${job.runs}`;
      },
    } satisfies JobDefinition,
  };
  return job;
}

async function jobRow(app: App, name: string): Promise<JobRow> {
  const row = (await listJobs(app.db)).find((j) => j.name === name);
  assert.ok(row, `no jobs row for ${name}`);
  return row;
}

/** Makes every job due at the clock's current time (what Scheduler.start() does first). */
async function ensureJobs(app: App, jobs: readonly JobDefinition[]): Promise<void> {
  for (const j of jobs) await ensureJob(app.db, j.name, app.now().toISOString());
}

test('a job runs once per interval', async () => {
  const c = clock('2026-08-21T10:00:20.000Z');
  const app = await tempApp({}, { now: c.now });
  try {
    const job = countingJob('count');
    const s = new Scheduler(app, [job.def]);
    await ensureJobs(app, [job.def]);

    assert.deepEqual(await s.tick(), ['count']);
    assert.equal(job.runs, 1);
    assert.equal(job.keys[0], 'count:2026-08-21T10:00:00.000Z');

    assert.deepEqual(await s.tick(), [], 'a second tick at the same time');
    assert.equal(job.runs, 1);

    c.advance(30_000);
    assert.deepEqual(await s.tick(), [], 'a tick later in the same interval');
    assert.equal(job.runs, 1);

    c.set('2026-08-21T10:01:20.000Z'); // t0 + interval
    assert.deepEqual(await s.tick(), ['count']);
    assert.equal(job.runs, 2);
    assert.equal(job.keys[1], 'count:2026-08-21T10:01:00.000Z');

    const row = await jobRow(app, 'count');
    assert.equal(row.last_status, 'ok');
    assert.equal(row.last_message, 'run 2');
    assert.equal(row.locked_by, null);
    assert.equal(row.locked_until, null);
    assert.equal(row.next_run_at, '2026-08-21T10:02:00.000Z');
    assert.equal(row.last_started_at, '2026-08-21T10:01:20.000Z');
    assert.equal(row.last_finished_at, '2026-08-21T10:01:20.000Z');

    // A long gap: one catch-up run, not one per missed interval.
    c.advance(10 * MIN);
    assert.deepEqual(await s.tick(), ['count']);
    assert.deepEqual(await s.tick(), []);
    assert.equal(job.runs, 3);
  } finally {
    await app.close();
  }
});

test('start() makes the jobs due, runs them on its timer, and stop() ends it', async () => {
  const c = clock('2026-08-21T10:00:00.000Z');
  const app = await tempApp({}, { now: c.now });
  try {
    const job = countingJob('timer');
    const s = new Scheduler(app, [job.def], 5);
    await s.start();
    const deadline = Date.now() + 5000;
    while (job.runs === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50)); // several more ticks at the same (fake) time
    await s.stop();
    assert.equal(job.runs, 1);
    c.advance(MIN);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(job.runs, 1, 'no ticks after stop()');
    assert.deepEqual(await s.tick(), [], 'a stopped scheduler claims nothing');
  } finally {
    await app.close();
  }
});

test('two schedulers ticking at the same time run the job once', async () => {
  const c = clock('2026-08-21T10:00:00.000Z');
  const app = await tempApp({}, { now: c.now });
  // A second connection to the same database file, like a second process.
  const other = await createApp(app.config, { log: createLogger('silent'), now: c.now });
  try {
    const job = countingJob('shared');
    const schedulers = [new Scheduler(app, [job.def]), new Scheduler(app, [job.def]), new Scheduler(other, [job.def])];
    assert.notEqual(schedulers[0]?.owner, schedulers[1]?.owner);
    await ensureJobs(app, [job.def]);

    for (let round = 0; round < 3; round++) {
      const ran = await Promise.all(schedulers.map((s) => s.tick()));
      assert.equal(ran.flat().length, 1, `round ${round}: ${JSON.stringify(ran)}`);
      assert.equal(job.runs, round + 1);
      assert.deepEqual((await Promise.all(schedulers.map((s) => s.tick()))).flat(), [], 'nothing more in this interval');
      c.advance(MIN);
    }
  } finally {
    await other.close();
    await app.close();
  }
});

test('a job that throws is recorded as failed and retried the next interval', async () => {
  const c = clock('2026-08-21T10:00:00.000Z');
  const app = await tempApp({}, { now: c.now });
  try {
    const bad = countingJob('flaky');
    const good = countingJob('steady');
    bad.fail = 'boom: the upstream said no';
    const s = new Scheduler(app, [bad.def, good.def]);
    await ensureJobs(app, [bad.def, good.def]);

    assert.deepEqual(await s.tick(), ['flaky', 'steady'], 'a failing job does not stop the others');
    const row = await jobRow(app, 'flaky');
    assert.equal(row.last_status, 'failed');
    assert.equal(row.last_message, 'boom: the upstream said no');
    assert.equal(row.locked_by, null, 'the lease is released after a failure');
    assert.equal((await jobRow(app, 'steady')).last_status, 'ok');

    assert.deepEqual(await s.tick(), [], 'not retried within the same interval');
    assert.equal(bad.runs, 1);

    c.advance(MIN);
    assert.deepEqual(await s.tick(), ['flaky', 'steady']);
    assert.equal(bad.runs, 2);
    assert.equal((await jobRow(app, 'flaky')).last_status, 'failed');

    bad.fail = undefined;
    c.advance(MIN);
    assert.deepEqual(await s.tick(), ['flaky', 'steady']);
    const healed = await jobRow(app, 'flaky');
    assert.equal(healed.last_status, 'ok');
    assert.equal(healed.last_message, 'run 3');
  } finally {
    await app.close();
  }
});

test("a dead owner's lease blocks others until it expires, then another scheduler takes over", async () => {
  const c = clock('2026-08-21T10:00:00.000Z');
  const app = await tempApp({}, { now: c.now });
  try {
    const job = countingJob('leased', MIN, 30_000);
    const s = new Scheduler(app, [job.def]);
    await ensureJobs(app, [job.def]);

    const t0 = c.ms;
    const dead = 'deadhost:4242:deadbeef';
    assert.equal(await claimJob(app.db, 'leased', dead, new Date(t0).toISOString(), new Date(t0 + 30_000).toISOString()), true);
    assert.equal(
      await claimJob(app.db, 'leased', 'someone-else', new Date(t0).toISOString(), new Date(t0 + 30_000).toISOString()),
      false,
      'a held lease cannot be claimed twice',
    );

    assert.deepEqual(await s.tick(), []);
    c.set(t0 + 29_999);
    assert.deepEqual(await s.tick(), [], 'still within the lease');
    c.set(t0 + 30_000);
    assert.deepEqual(await s.tick(), [], 'the lease runs until its end');
    assert.equal(job.runs, 0);
    assert.equal((await jobRow(app, 'leased')).locked_by, dead);

    c.set(t0 + 30_001);
    assert.deepEqual(await s.tick(), ['leased'], 'taken over once the lease expired');
    assert.equal(job.runs, 1);
    const row = await jobRow(app, 'leased');
    assert.equal(row.last_status, 'ok');
    assert.equal(row.locked_by, null);

    // The dead owner waking up cannot overwrite the outcome.
    const late = await finishJob(app.db, 'leased', dead, {
      finishedAt: new Date(c.ms).toISOString(),
      nextRunAt: new Date(t0).toISOString(),
      status: 'failed',
      message: 'zombie',
    });
    assert.equal(late, false);
    assert.equal((await jobRow(app, 'leased')).last_status, 'ok');
  } finally {
    await app.close();
  }
});

const HF_DAY = '2026-08-21';
const HF_FILE = path.join(SHARED, 'hf-daily-papers', `${HF_DAY}.json`);

test('the real hf-daily ingest job against a replay server: ingests once per interval', async () => {
  const body = readFileSync(HF_FILE);
  const expected = (JSON.parse(body.toString('utf8')) as unknown[]).length;
  const replay = await startReplayServer(({ url }) =>
    url.pathname === '/api/daily_papers' && url.searchParams.get('date') === HF_DAY
      ? { body, headers: { 'content-type': 'application/json' } }
      : { status: 404, body: '{"error":"not found"}' },
  );
  const c = clock(`${HF_DAY}T12:34:56.000Z`);
  const app = await tempApp(
    {
      HF_API_URL: `${replay.url}/api/daily_papers`,
      PAPERBOY_INGEST_SOURCES: 'hf-daily',
      PAPERBOY_HTTP_RETRIES: '0',
      PAPERBOY_HTTP_TIMEOUT_MS: '5000',
    },
    { now: c.now },
  );
  try {
    const jobs = ingestJobs(app.config);
    assert.deepEqual(
      jobs.map((j) => j.name),
      ['ingest:hf-daily'],
    );
    const job = jobs[0];
    assert.ok(job);
    assert.equal(job.intervalMs, HOUR);
    const s = new Scheduler(app, jobs);
    await ensureJobs(app, jobs);

    assert.deepEqual(await s.tick(), ['ingest:hf-daily']);
    assert.deepEqual(
      replay.requests.map((r) => r.url),
      [`/api/daily_papers?date=${HF_DAY}`],
    );
    assert.equal(await countPapers(app.db), expected);
    const row = await jobRow(app, 'ingest:hf-daily');
    assert.equal(row.last_status, 'ok', String(row.last_message));
    assert.match(String(row.last_message), new RegExp(`^${expected} read, ${expected} new`));

    const st = await stats(app.db);
    assert.equal(st.ingestRuns, 1);
    const hf = st.sources.find((x) => x.source === 'hf-daily');
    assert.ok(hf);
    assert.equal(hf.papers, expected);
    assert.equal(hf.lastStatus, 'ok');
    assert.equal(hf.lastRunAt, `${HF_DAY}T12:34:56.000Z`);
    const run = await app.db.get<{ idempotency_key: string; status: string; read: number; new: number }>(
      'SELECT idempotency_key, status, read, new FROM ingest_runs',
    );
    assert.deepEqual({ ...run }, { idempotency_key: `ingest:hf-daily:${HF_DAY}T12:00:00.000Z`, status: 'ok', read: expected, new: expected });

    // Same interval: the scheduler does not claim it, and the job itself is idempotent on its key.
    c.advance(10 * MIN);
    assert.deepEqual(await s.tick(), []);
    assert.equal(await job.run(app, `ingest:hf-daily:${HF_DAY}T12:00:00.000Z`), 'already done for this interval');
    assert.equal(replay.requests.length, 1, 'no second fetch in the same interval');
    assert.equal((await stats(app.db)).ingestRuns, 1);

    // The next interval fetches again; nothing new, nothing duplicated.
    c.set(`${HF_DAY}T13:00:01.000Z`);
    assert.deepEqual(await s.tick(), ['ingest:hf-daily']);
    assert.equal(replay.requests.length, 2);
    assert.equal(await countPapers(app.db), expected);
    assert.equal((await jobRow(app, 'ingest:hf-daily')).last_status, 'ok');
    assert.equal((await stats(app.db)).ingestRuns, 2);
  } finally {
    await app.close();
    await replay.close();
  }
});

test('the real ingest job with nothing listening: recorded as failed, the scheduler keeps going', async () => {
  const c = clock(`${HF_DAY}T08:00:00.000Z`);
  const dead = 'http://127.0.0.1:9/api/daily_papers';
  const app = await tempApp(
    {
      HF_API_URL: dead,
      PAPERBOY_INGEST_SOURCES: 'hf-daily',
      PAPERBOY_HTTP_RETRIES: '1',
      PAPERBOY_HTTP_BACKOFF_MS: '10',
      PAPERBOY_HTTP_TIMEOUT_MS: '3000',
    },
    { now: c.now },
  );
  try {
    const counter = countingJob('after', HOUR, HOUR);
    const jobs = [...ingestJobs(app.config), counter.def];
    const s = new Scheduler(app, jobs);
    await ensureJobs(app, jobs);

    assert.deepEqual(await s.tick(), ['ingest:hf-daily', 'after']);
    const row = await jobRow(app, 'ingest:hf-daily');
    assert.equal(row.last_status, 'failed');
    assert.ok(row.last_message?.includes(`${dead}?date=${HF_DAY}`), String(row.last_message));
    assert.equal(row.locked_by, null);
    assert.equal(counter.runs, 1, 'the next job in the same tick still ran');

    const st = await stats(app.db);
    assert.equal(st.sources.find((x) => x.source === 'hf-daily')?.lastStatus, 'failed');
    assert.equal(await countPapers(app.db), 0);

    assert.deepEqual(await s.tick(), [], 'not retried within the interval');

    c.advance(HOUR);
    assert.deepEqual(await s.tick(), ['ingest:hf-daily', 'after'], 'retried the next interval');
    assert.equal(counter.runs, 2);
    const again = await jobRow(app, 'ingest:hf-daily');
    assert.equal(again.last_status, 'failed');
    assert.equal((await stats(app.db)).ingestRuns, 2);
  } finally {
    await app.close();
  }
});

test('a run longer than its lease keeps the lease alive, so no one else takes the job over', async () => {
  const app = await tempApp();
  const other = await createApp(app.config, { log: createLogger('silent') });
  try {
    let release!: () => void;
    const running = new Promise<void>((r) => (release = r));
    const slow: JobDefinition = {
      name: 'slow',
      intervalMs: HOUR,
      leaseMs: 1500,
      async run() {
        await running;
        return 'done';
      },
    };
    await ensureJobs(app, [slow]);
    const first = new Scheduler(app, [slow]);
    const second = new Scheduler(other, [slow]);
    const firstTick = first.tick();
    // Past the original lease (1.5 s): the heartbeat has renewed it, so the second scheduler must not claim.
    await new Promise((r) => setTimeout(r, 2500));
    assert.deepEqual(await second.tick(), []);
    release();
    assert.deepEqual(await firstTick, ['slow']);
    const row = await jobRow(app, 'slow');
    assert.equal(row.last_status, 'ok');
    assert.equal(row.locked_by, null);
  } finally {
    await other.close();
    await app.close();
  }
});
