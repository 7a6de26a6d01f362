import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { lastJson, removeDir, ROOT, runCli, SHARED, tempDir, TEST_PG_URL } from './helpers/app.ts';

const SEED = path.join(SHARED, 'seed', 'papers.jsonl');

interface IngestJson {
  source: string;
  read: number;
  new: number;
  updated: number;
  unchanged: number;
  skipped: number;
  filtered: number;
  errors: { where: string; reason: string }[];
  failures: { where: string; reason: string }[];
}

interface StatsJson {
  papers: number;
  signals: number;
  ingestRuns: number;
  sources: { source: string; papers: number; lastRunAt: string | null; lastStatus: string | null; lastOkAt: string | null }[];
}

/** A data dir for one test, removed afterwards. */
async function withDataDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = tempDir('paperboy-cli-test-');
  try {
    await fn(dir);
  } finally {
    removeDir(dir);
  }
}

const COMMANDS = ['serve', 'ingest', 'migrate', 'stats', 'start', 'worker', 'backup', 'migrate-data'] as const;

test('--help on the program and every command exits 0 and describes it', async () => {
  // Generous timeouts: nine processes at once, each compiling the TypeScript on a cold cache.
  const [top, ...commands] = await Promise.all([runCli(['--help'], {}, 90_000), ...COMMANDS.map((c) => runCli([c, '--help'], {}, 90_000))]);
  assert.ok(top);
  assert.equal(top.code, 0, top.stderr);
  assert.match(top.stdout, /Usage: paperboy/);
  assert.match(top.stdout, /Exit status/);
  for (const c of COMMANDS) assert.match(top.stdout, new RegExp(`^\\s+${c}\\b`, 'm'), `${c} listed in the program help`);
  for (const [i, c] of COMMANDS.entries()) {
    const r = commands[i];
    assert.ok(r);
    assert.equal(r.code, 0, `${c} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`Usage: paperboy ${c}\\b`), c);
    assert.equal(r.stderr, '', `${c} --help wrote to stderr`);
  }
  // ingest's help names every source.
  for (const s of ['hf-daily', 'arxiv-api', 'arxiv-oai', 'arxiv-snapshot', 'jsonl']) assert.ok(commands[1]?.stdout.includes(s), s);
});

test('--help works with a broken environment', async () => {
  const r = await runCli(['ingest', '--help'], { PORT: 'abc', LOG_LEVEL: 'loud' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Usage: paperboy ingest/);
});

test('usage errors exit 2', async () => {
  const [cmd, opt, subOpt] = await Promise.all([
    runCli(['nosuchcommand']),
    runCli(['--nosuchoption']),
    runCli(['stats', '--nosuchoption']),
  ]);
  assert.equal(cmd.code, 2, cmd.stderr);
  assert.match(cmd.stderr, /unknown command 'nosuchcommand'/);
  assert.equal(opt.code, 2, opt.stderr);
  assert.match(opt.stderr, /unknown option '--nosuchoption'/);
  assert.equal(subOpt.code, 2, subOpt.stderr);
  assert.match(subOpt.stderr, /unknown option/);
  assert.equal(cmd.stdout, '');
});

test('ingest: an unknown source exits 2 naming the valid ones', async () => {
  const r = await runCli(['ingest', 'nosuchsource']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /nosuchsource/);
  for (const s of ['hf-daily', 'arxiv-api', 'arxiv-oai', 'arxiv-snapshot', 'jsonl']) assert.ok(r.stderr.includes(s), `${s} in ${r.stderr}`);
});

test('ingest: bad option values and missing inputs exit 2', async () => {
  const [since, max, jsonl] = await Promise.all([
    runCli(['ingest', 'hf-daily', '--since', 'notadate']),
    runCli(['ingest', 'arxiv-api', '--max', '0']),
    runCli(['ingest', 'jsonl']),
  ]);
  assert.equal(since.code, 2, since.stderr);
  assert.match(since.stderr, /--since/);
  assert.match(since.stderr, /notadate/);
  assert.equal(max.code, 2, max.stderr);
  assert.match(max.stderr, /--max/);
  assert.equal(jsonl.code, 2, jsonl.stderr);
  assert.match(jsonl.stderr, /jsonl needs a file/);
});

test('ingest: a missing file exits 1 with a clear message', async () => {
  const missing = path.join(SHARED, 'no-such-file.jsonl');
  const r = await runCli(['ingest', 'jsonl', missing]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /no such file or directory/);
  assert.ok(r.stderr.includes(missing), r.stderr);
  assert.ok(!/^\s+at /m.test(r.stderr), 'no stack trace without LOG_LEVEL=debug');
});

test('a bad environment value exits 1 and names the variable', async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: 'abc' }, /PORT/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL/],
  ];
  const results = await Promise.all(cases.map(([env]) => runCli(['stats'], env)));
  for (const [i, [env, re]] of cases.entries()) {
    const r = results[i];
    assert.ok(r);
    assert.equal(r.code, 1, `${JSON.stringify(env)}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.match(r.stderr, /^paperboy: config/m);
  }
});

test('a data dir over several runs: migrate, ingest, re-ingest, stats, secret key', async (t) => {
  await withDataDir(async (dir) => {
    const env = { PAPERBOY_DATA_DIR: dir };
    const secretFile = path.join(dir, 'secret.key');
    let secret = '';

    await t.test('migrate on a fresh data dir applies the migrations', async () => {
      const r = await runCli(['migrate', '--json'], env);
      assert.equal(r.code, 0, r.stderr);
      const m = lastJson<{ from: number; to: number; applied: unknown[] }>(r.stdout);
      assert.equal(m.from, 0);
      assert.ok(m.to >= 1);
      assert.ok(m.applied.length >= 1);
      secret = readFileSync(secretFile, 'utf8');
      assert.ok(secret.trim().length >= 32, 'a long random secret');
    });

    await t.test('ingest jsonl: read = new = 119 and the counts add up', async () => {
      const r = await runCli(['ingest', 'jsonl', SEED, '--json'], env);
      assert.equal(r.code, 0, r.stderr);
      const a = lastJson<IngestJson>(r.stdout);
      assert.equal(a.source, 'jsonl');
      assert.equal(a.read, 119);
      assert.equal(a.new, 119);
      assert.equal(a.read, a.new + a.updated + a.unchanged + a.skipped);
      assert.deepEqual(a.failures, []);
    });

    await t.test('ingest jsonl again: all 119 unchanged', async () => {
      const r = await runCli(['ingest', 'jsonl', SEED, '--json'], env);
      assert.equal(r.code, 0, r.stderr);
      const b = lastJson<IngestJson>(r.stdout);
      assert.equal(b.read, 119);
      assert.equal(b.unchanged, 119);
      assert.equal(b.new, 0);
      assert.equal(b.updated, 0);
      assert.equal(b.read, b.new + b.updated + b.unchanged + b.skipped);
    });

    await t.test('stats --json: 119 papers and the jsonl source with its last run', async () => {
      const r = await runCli(['stats', '--json'], env);
      assert.equal(r.code, 0, r.stderr);
      const s = lastJson<StatsJson>(r.stdout);
      assert.equal(s.papers, 119);
      assert.equal(s.ingestRuns, 2);
      const jsonl = s.sources.find((x) => x.source === 'jsonl');
      assert.ok(jsonl, JSON.stringify(s.sources));
      assert.equal(jsonl.papers, 119);
      assert.ok(jsonl.lastRunAt && Number.isFinite(Date.parse(jsonl.lastRunAt)), `lastRunAt ${jsonl.lastRunAt}`);
      assert.equal(jsonl.lastStatus, 'ok');
      assert.ok(jsonl.lastOkAt);
    });

    await t.test('migrate again: up to date', async () => {
      const r = await runCli(['migrate', '--json'], env);
      assert.equal(r.code, 0, r.stderr);
      const m = lastJson<{ from: number; to: number; applied: unknown[] }>(r.stdout);
      assert.equal(m.from, m.to);
      assert.deepEqual(m.applied, []);
    });

    await t.test('the secret key was generated once and reused by every run', () => {
      assert.equal(readFileSync(secretFile, 'utf8'), secret);
    });
  });
});

test('processes starting together on a new data dir agree on one secret key', async () => {
  await withDataDir(async (dir) => {
    const config = path.join(ROOT, 'src/config/config.ts');
    const script = `const { loadConfig } = await import(${JSON.stringify(config)}); console.log(loadConfig({ PAPERBOY_DATA_DIR: ${JSON.stringify(dir)} }).secretKey);`;
    const run = () =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT }, (error, out, err) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out, err }),
        );
      });
    const results = await Promise.all(Array.from({ length: 8 }, run));
    for (const r of results) assert.equal(r.code, 0, r.err);
    const secrets = new Set(results.map((r) => r.out.trim()));
    assert.equal(secrets.size, 1, [...secrets].join(' / '));
    assert.equal(readFileSync(path.join(dir, 'secret.key'), 'utf8').trim(), [...secrets][0]);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no candidate left behind');
  });
});

test('ingest: skipped records are reported, not fatal', async () => {
  await withDataDir(async (dir) => {
    const file = path.join(dir, 'mixed.jsonl');
    writeFileSync(file, ['{"title":"A perfectly fine paper title","abstract":"x"}', 'not json', '{"abstract":"no title"}', '', '[1,2]'].join('\n'));
    const r = await runCli(['ingest', 'jsonl', file, '--json'], { PAPERBOY_DATA_DIR: dir });
    assert.equal(r.code, 0, r.stderr);
    const j = lastJson<IngestJson>(r.stdout);
    assert.equal(j.read, 4);
    assert.equal(j.new, 1);
    assert.equal(j.skipped, 3);
    assert.equal(j.read, j.new + j.updated + j.unchanged + j.skipped);
    assert.deepEqual(
      j.errors.map((e) => e.where),
      [`${file}:2`, `${file}:3`, `${file}:5`],
    );
  });
});

test('paperboy ingest hf-daily ../shared/data/hf-daily-papers --json accounts for every entry', async () => {
  const dir = path.join(SHARED, 'hf-daily-papers');
  // Counted independently of the ingester: each file is an array of entries, or one {status,date,count,data} wrapper.
  let entries = 0;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    const j = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as unknown;
    entries += (Array.isArray(j) ? j : (j as { data: unknown[] }).data).length;
  }
  const data = tempDir();
  try {
    // PostgreSQL keeps its search index with triggers on every insert: a slower bulk load.
    const r = await runCli(['ingest', 'hf-daily', path.relative(ROOT, dir), '--json'], { PAPERBOY_DATA_DIR: data }, TEST_PG_URL ? 240_000 : 60_000);
    assert.equal(r.code, 0, r.stderr);
    const s = lastJson<{ read: number; new: number; updated: number; unchanged: number; skipped: number; errors: unknown[] }>(r.stdout);
    assert.equal(s.read, entries);
    assert.equal(s.new + s.updated + s.unchanged + s.skipped, s.read);
    assert.equal(s.skipped, 0);
    const stats = lastJson<{ signals: number; papers: number }>((await runCli(['stats', '--json'], { PAPERBOY_DATA_DIR: data })).stdout);
    assert.equal(stats.papers, s.new);
    assert.ok(stats.signals > stats.papers, 'upvotes, comments and stars are kept as observations');
  } finally {
    removeDir(data);
  }
});
