import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { BIN, childEnv, lastJson, removeDir, ROOT, runCli, tempDir } from './helpers/app.ts';

/** A port nothing listens on right now: bind port 0, read it, close. */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  assert.ok(addr && typeof addr === 'object');
  return addr.port;
}

interface Served {
  child: ChildProcess;
  base: string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `paperboy start` (web and worker) and resolves once GET /healthz answers (20 s cap). */
async function serve(dataDir: string): Promise<Served> {
  const port = await freePort();
  const env = childEnv({
    PAPERBOY_DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    PAPERBOY_DEMO: '1',
    PAPERBOY_SCHEDULER: '0',
    LOG_LEVEL: 'info',
  });
  const child = spawn(process.execPath, [BIN, 'start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stdout?.resume();
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  let exited = false;
  void exit.then(() => (exited = true));
  for (;;) {
    try {
      const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) break;
    } catch {
      // not up yet
    }
    if (exited || Date.now() > deadline) {
      if (!exited) child.kill('SIGKILL');
      throw new Error(`serve did not come up on ${base} (exited: ${exited})\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, base, stderr: () => err, exit };
}

/** Sends a signal and waits for the exit, at most `ms`. */
async function stop(s: Served, signal: NodeJS.Signals, ms = 5000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  s.child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`serve did not exit within ${ms} ms of ${signal}\n${s.stderr()}`)), ms);
  });
  try {
    return await Promise.race([s.exit, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function paperCount(page: string): number {
  const m = /Newest first: ([\d,]+) papers/.exec(page);
  assert.ok(m?.[1], 'paper count on the home page');
  return Number(m[1].replace(/,/g, ''));
}

test('serve: loads the demo into an empty database, serves it, stops cleanly; a restart keeps the data', async (t) => {
  const dir = tempDir('paperboy-serve-');
  const running: Served[] = [];
  try {
    let count = 0;

    await t.test('first start loads the demo papers', async () => {
      const s = await serve(dir);
      running.push(s);
      const res = await fetch(`${s.base}/?window=new`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      const page = await res.text();
      count = paperCount(page);
      assert.ok(count > 119, `demo papers: ${count}`);

      const api = (await (await fetch(`${s.base}/api/papers?limit=5`)).json()) as { total: number; papers: unknown[] };
      assert.equal(api.total, count);
      assert.equal(api.papers.length, 5);
      // A known seed paper is on the site (newest first, 30 a page: follow the pages).
      let found = false;
      for (let pageNo = 1; !found && (pageNo - 1) * 30 < count; pageNo++) {
        const html = pageNo === 1 ? page : await (await fetch(`${s.base}/?window=new&page=${pageNo}`)).text();
        found = html.includes('MELTing point: Mobile Evaluation of Language Transformers');
      }
      assert.ok(found, 'seed paper "MELTing point" shown');
      assert.match(s.stderr(), /demo: loaded/);
      assert.match(s.stderr(), /web: listening on/);
    });

    await t.test('SIGTERM stops it with exit code 0', async () => {
      const s = running.pop();
      assert.ok(s);
      const r = await stop(s, 'SIGTERM');
      assert.deepEqual(r, { code: 0, signal: null }, s.stderr());
      assert.match(s.stderr(), /SIGTERM received/);
    });

    await t.test('a second start does not load the demo again; SIGINT stops it too', async () => {
      const s = await serve(dir);
      running.push(s);
      const page = await (await fetch(`${s.base}/?window=new`)).text();
      assert.equal(paperCount(page), count);
      assert.ok(!/demo: /.test(s.stderr()), s.stderr());
      const r = await stop(s, 'SIGINT');
      running.pop();
      assert.deepEqual(r, { code: 0, signal: null }, s.stderr());
    });

    await t.test('stats --json agrees after the restarts', async () => {
      const r = await runCli(['stats', '--json'], { PAPERBOY_DATA_DIR: dir });
      assert.equal(r.code, 0, r.stderr);
      const st = lastJson<{ papers: number; sources: { source: string; papers: number }[] }>(r.stdout);
      assert.equal(st.papers, count);
      assert.equal(st.sources.find((x) => x.source === 'jsonl')?.papers, 119);
      assert.ok((st.sources.find((x) => x.source === 'hf-daily')?.papers ?? 0) > 0);
    });
  } finally {
    for (const s of running) s.child.kill('SIGKILL');
    removeDir(dir);
  }
});

test('worker: keeps running with nothing to do (SQLite holds no socket open), stops on SIGTERM with exit 0', async () => {
  const dir = tempDir('paperboy-worker-');
  try {
    const env = childEnv({ PAPERBOY_DATA_DIR: dir, PAPERBOY_INGEST_SOURCES: 'none', LOG_LEVEL: 'info', PAPERBOY_SCHEDULER_TICK_SECONDS: '1' });
    const child = spawn(process.execPath, [BIN, 'worker'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
    const deadline = Date.now() + 30_000;
    while (!err.includes('this worker now runs the scheduler')) {
      assert.equal(child.exitCode, null, `the worker exited early: ${err}`);
      assert.ok(Date.now() < deadline, `no scheduler after 30 s: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(child.exitCode, null, `still running after its first ticks: ${err}`);
    child.kill('SIGTERM');
    const r = await exited;
    assert.equal(r.code, 0, err);
    assert.match(err, /worker: SIGTERM received, stopping/);
  } finally {
    removeDir(dir);
  }
});
