/**
 * `paperboy backup` and `paperboy restore` (issue 7): a round trip under load — the real CLI backs up
 * a demo instance in a child process while this process keeps committing votes and subscribers to the
 * same SQLite file; the backup holds every row committed before it started (and, being one snapshot,
 * a prefix of the writes); restored into a fresh data dir it passes integrity_check and the app
 * searches and lists trending papers on it. Then the refusals: not a database, not paperboy's, a newer
 * schema, a database that holds data (without --force), one a running `paperboy serve` has open;
 * and PostgreSQL, where both commands exit 2 with the pg_dump / pg_restore lines.
 *
 * The round trip is about SQLite files, so its apps use an explicit `DATABASE_URL=sqlite:…` and run
 * on the PostgreSQL pass as well; that pass also checks the guidance against its real server.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { App } from '../src/app.ts';
import { latestVersion, migrations } from '../src/db/migrations.ts';
import { openSqlite } from '../src/db/sqlite.ts';
import { loadDemoIfEmpty } from '../src/demo.ts';
import { castVote } from '../src/store/trending.ts';
import { DEFAULT_PREFERENCES, insertSubscriber } from '../src/store/subscribers.ts';
import { BIN, childEnv, lastJson, removeDir, ROOT, runCli, tempApp, tempDir, TEST_PG_URL } from './helpers/app.ts';
import type { BackupReport, RestoreReport, TableCount } from '../src/db/backup.ts';

/** A data dir whose database is SQLite whatever the pass. */
const sqliteEnv = (dir: string) => ({ PAPERBOY_DATA_DIR: dir, DATABASE_URL: `sqlite:${path.join(dir, 'paperboy.db')}` });

/** The commands' --json summaries: the reports themselves. */
type BackupJson = BackupReport;
type RestoreJson = RestoreReport;

/** One write the load made: committed somewhere between `began` and `done` (ms since the epoch). */
interface Write {
  seq: number;
  kind: 'vote' | 'subscriber';
  key: string;
  began: number;
  done: number;
}

const rows = (tables: TableCount[], t: string) => tables.find((x) => x.table === t)?.rows ?? -1;

const FILLER = 40_000;
let dataDir: string;
let app: App & { dir: string };
let paperIds: number[];
const dirs: string[] = [];
const dir = () => {
  const d = tempDir('paperboy-backup-');
  dirs.push(d);
  return d;
};

before(async () => {
  dataDir = dir();
  app = await tempApp(sqliteEnv(dataDir));
  await loadDemoIfEmpty(app);
  paperIds = (await app.db.all<{ id: number }>('SELECT id FROM papers ORDER BY id')).map((r) => r.id);
  // Rows that must survive by name.
  await castVote(app.db, paperIds[0]!, 'voter-before', new Date());
  await insertSubscriber(app.db, { email: 'before@example.org', emailKey: 'before@example.org', status: 'confirmed', prefs: DEFAULT_PREFERENCES, source: 'test', now: new Date().toISOString() });
  // Bulk, so that the copy takes long enough for many writes to land while it runs.
  await app.db.tx(async (tx) => {
    const now = new Date().toISOString();
    for (let i = 0; i < FILLER; i++) {
      const email = `filler${i}@example.org`;
      await insertSubscriber(tx, { email, emailKey: email, status: 'confirmed', prefs: { ...DEFAULT_PREFERENCES, topics: [`topic ${i} ${'x'.repeat(200)}`] }, source: 'filler', now });
    }
  });
});

after(async () => {
  await app?.close();
  for (const d of dirs) removeDir(d);
});

/** Commits a vote or a subscriber, one transaction each, until stopped; yields to the event loop between writes. */
function startLoad(): { stop: () => Promise<Write[]>; errors: Error[] } {
  const writes: Write[] = [];
  const errors: Error[] = [];
  let running = true;
  const loop = (async () => {
    for (let seq = 0; running; seq++) {
      const began = Date.now();
      const kind = seq % 2 === 0 ? 'vote' : 'subscriber';
      const key = kind === 'vote' ? `load-${seq}` : `load${seq}@example.org`;
      try {
        if (kind === 'vote') await castVote(app.db, paperIds[seq % paperIds.length]!, key, new Date());
        else await insertSubscriber(app.db, { email: key, emailKey: key, status: 'pending', prefs: DEFAULT_PREFERENCES, source: 'load', now: new Date().toISOString() });
        writes.push({ seq, kind, key, began, done: Date.now() });
      } catch (err) {
        errors.push(err as Error);
      }
      await new Promise((r) => setImmediate(r));
    }
  })();
  return {
    errors,
    stop: async () => {
      running = false;
      await loop;
      return writes;
    },
  };
}

test('round trip under load: backup while writes continue, restore into a fresh data dir, the app works on it', async () => {
  const before = await app.db.get<{ papers: number; signals: number; votes: number; subscribers: number }>(
    'SELECT (SELECT COUNT(*) FROM papers) AS papers, (SELECT COUNT(*) FROM signals) AS signals, (SELECT COUNT(*) FROM votes) AS votes, (SELECT COUNT(*) FROM subscribers) AS subscribers',
  );
  assert.ok(before && before.papers > 100, 'the demo is loaded');

  const load = startLoad();
  await new Promise((r) => setTimeout(r, 200)); // writes already flowing when the backup starts
  const file = path.join(dataDir, 'backups', 'under-load.db');
  const spawned = Date.now();
  const res = await runCli(['backup', file, '--json'], sqliteEnv(dataDir), 60_000);
  const exited = Date.now();
  await new Promise((r) => setTimeout(r, 100));
  const writes = await load.stop();
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(load.errors, [], 'no write failed or timed out while the backup ran');

  const report = lastJson<BackupJson>(res.stdout);
  assert.equal(report.ok, true);
  assert.deepEqual(report.integrity, ['ok']);
  assert.equal(report.schemaVersion, latestVersion);
  assert.equal(report.file, file);
  assert.equal(statSync(file).size, report.bytes);
  assert.deepEqual(
    readdirSync(path.dirname(file)).filter((f) => f.includes('.partial')),
    [],
    'no partial file left behind',
  );
  const started = Date.parse(report.startedAt);
  const copied = Date.parse(report.copiedAt);
  assert.ok(started >= spawned - 1000 && copied <= exited + 1000, 'the copy ran inside the child');
  const during = writes.filter((w) => w.began >= spawned && w.done <= exited);
  assert.ok(during.length > 20, `writes continued while the backup ran (${during.length} committed while the child ran)`);
  const slowest = Math.max(...during.map((w) => w.done - w.began));
  assert.ok(slowest < 2000, `no write waited for the backup (slowest ${slowest} ms)`);

  // What the backup holds: everything committed before it started, and a prefix of the writes.
  const bk = openSqlite(file, { readonly: true });
  let present: Set<string>;
  try {
    const votes = await bk.all<{ voter: string }>("SELECT voter FROM votes WHERE voter LIKE 'load-%'");
    const subs = await bk.all<{ email_key: string }>("SELECT email_key FROM subscribers WHERE source = 'load'");
    present = new Set([...votes.map((v) => v.voter), ...subs.map((s) => s.email_key)]);
  } finally {
    await bk.close();
  }
  const committedBefore = writes.filter((w) => w.done < started);
  assert.ok(committedBefore.length > 0, 'writes were committed before the backup started');
  for (const w of committedBefore) assert.ok(present.has(w.key), `the ${w.kind} ${w.key}, committed before the backup started, is in it`);
  const last = Math.max(-1, ...writes.filter((w) => present.has(w.key)).map((w) => w.seq));
  assert.equal(present.size, last + 1, 'the backup holds writes 0…n and none after: one consistent snapshot');
  for (const w of writes.filter((x) => x.began > copied)) assert.ok(!present.has(w.key), `${w.key}, begun after the copy ended, is not in it`);
  // Committed while the copy ran: after its snapshot (so not in it), before it ended.
  const whileCopying = writes.filter((w) => w.done <= copied && !present.has(w.key));
  console.log(
    `# backup: ${report.pages} pages, ${(report.bytes / 1024 / 1024).toFixed(1)} MiB in ${report.copySeconds.toFixed(3)} s; ${writes.length} writes in all, ${during.length} while the child ran, ${whileCopying.length} while it copied; slowest ${slowest} ms; ${present.size} in the backup`,
  );
  assert.ok(whileCopying.length > 0, 'writes were committed while the pages were being copied');

  // Restore into a fresh data dir: no database there yet, so no --force needed.
  const fresh = dir();
  const rr = await runCli(['restore', file, '--json'], sqliteEnv(fresh), 60_000);
  assert.equal(rr.code, 0, rr.stderr);
  const restored = lastJson<RestoreJson>(rr.stdout);
  assert.equal(restored.ok, true);
  assert.equal(restored.replaced, null);
  assert.equal(restored.schemaVersion, latestVersion);
  assert.ok(rows(restored.tables, 'papers') >= before.papers);
  assert.ok(rows(restored.tables, 'signals') >= before.signals);
  assert.ok(rows(restored.tables, 'votes') >= before.votes + committedBefore.filter((w) => w.kind === 'vote').length);
  assert.ok(rows(restored.tables, 'subscribers') >= before.subscribers + committedBefore.filter((w) => w.kind === 'subscriber').length);

  const db = openSqlite(path.join(fresh, 'paperboy.db'), { readonly: true });
  try {
    assert.deepEqual(await db.all('PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
    assert.ok(await db.get("SELECT 1 AS x FROM votes WHERE voter = 'voter-before' AND paper_id = ?", [paperIds[0]!]), 'the named vote is there');
    assert.ok(await db.get("SELECT 1 AS x FROM subscribers WHERE email_key = 'before@example.org' AND status = 'confirmed'"), 'the named subscriber is there');
    const counts = await db.get<{ papers: number; signals: number }>('SELECT (SELECT COUNT(*) FROM papers) AS papers, (SELECT COUNT(*) FROM signals) AS signals');
    assert.ok(counts && counts.papers >= before.papers && counts.signals >= before.signals);
  } finally {
    await db.close();
  }

  const search = await runCli(['search', 'quantization', '--json'], sqliteEnv(fresh));
  assert.equal(search.code, 0, search.stderr);
  const answer = lastJson<{ total: number; results: { title: string }[] }>(search.stdout);
  assert.ok(answer.total > 0 && answer.results.length > 0, 'search finds papers in the restored database');
  const trending = await runCli(['trending', '--json'], sqliteEnv(fresh));
  assert.equal(trending.code, 0, trending.stderr);
  assert.ok(lastJson<{ results: unknown[] }>(trending.stdout).results.length > 0, 'trending lists papers');
});

test('backup: default file name, refuses an existing file without --force, human output', async () => {
  const first = await runCli(['backup'], sqliteEnv(dataDir), 60_000);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /integrity_check ok, schema version \d+/);
  assert.match(first.stdout, /^\s+papers\s+[\d,]+$/m);
  const made = readdirSync(path.join(dataDir, 'backups')).filter((f) => /^paperboy-\d{8}-\d{6}(-\d+)?\.db$/.test(f));
  assert.ok(made.length >= 1, `a backup named paperboy-YYYYMMDD-HHMMSS.db (${readdirSync(path.join(dataDir, 'backups')).join(', ')})`);

  const file = path.join(dataDir, 'backups', made[0]!);
  const again = await runCli(['backup', file], sqliteEnv(dataDir));
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already exists \(--force replaces it\)/);
  const forced = await runCli(['backup', file, '--force', '--quick', '--json'], sqliteEnv(dataDir), 60_000);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(lastJson<BackupJson>(forced.stdout).ok, true);

  const none = await runCli(['backup'], sqliteEnv(dir()));
  assert.equal(none.code, 2);
  assert.match(none.stderr, /backup: there is no database at/);
});

test('restore refuses garbage, a non-paperboy database, a newer schema, a non-empty database without --force', async () => {
  const backups = path.join(dataDir, 'backups');
  const good = path.join(backups, 'under-load.db');
  assert.ok(existsSync(good), 'made by the round trip');
  const target = dir();

  const garbage = path.join(target, 'garbage.db');
  writeFileSync(garbage, randomBytes(64 * 1024));
  const text = path.join(target, 'notes.txt');
  writeFileSync(text, 'these are not the papers you are looking for\n'.repeat(100));
  const empty = path.join(target, 'empty.db');
  writeFileSync(empty, '');
  const other = path.join(target, 'other.db');
  const o = openSqlite(other);
  await o.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('hello')");
  await o.close();
  const newer = path.join(target, 'newer.db');
  copyFileSync(good, newer);
  const n = openSqlite(newer);
  await n.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [latestVersion + 1, 'from the future', new Date().toISOString()]);
  await n.close();

  const refusals: [string, RegExp][] = [
    [garbage, /is not a SQLite database/],
    [text, /is not a SQLite database/],
    [empty, /is a SQLite database, but not a paperboy database/],
    [other, /is a SQLite database, but not a paperboy database/],
    [newer, new RegExp(`schema version ${latestVersion + 1}, newer than this paperboy \\(${latestVersion}\\)`)],
    [path.join(target, 'missing.db'), /restore: there is no file/],
  ];
  const results = await Promise.all(refusals.map(([f]) => runCli(['restore', f], sqliteEnv(target), 60_000)));
  results.forEach((r, i) => {
    assert.equal(r.code, 2, `${refusals[i]![0]}: ${r.stderr}`);
    assert.match(r.stderr, refusals[i]![1]);
  });
  assert.ok(!existsSync(path.join(target, 'paperboy.db')), 'no refusal created a database');
  assert.deepEqual(readdirSync(target).filter((f) => f.includes('.restoring-')), [], 'no temp copy left behind');

  // An older paperboy database (every migration but the last) is migrated forward.
  const older = path.join(target, 'older.db');
  const od = openSqlite(older);
  await od.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  for (const m of migrations.filter((x) => x.version < latestVersion)) {
    if (m.sqlite.trim()) await od.exec(m.sqlite);
    await od.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, new Date().toISOString()]);
  }
  await od.close();
  let r = await runCli(['restore', older, '--json'], sqliteEnv(target), 60_000);
  assert.equal(r.code, 0, r.stderr);
  const first = lastJson<RestoreJson>(r.stdout);
  assert.equal(first.fromVersion, latestVersion - 1);
  assert.deepEqual(first.applied, [latestVersion]);
  assert.equal(first.replaced, null);

  // That one is empty: replacing it needs no --force (it is kept all the same).
  r = await runCli(['restore', good, '--json'], sqliteEnv(target), 60_000);
  assert.equal(r.code, 0, r.stderr);
  assert.match(lastJson<RestoreJson>(r.stdout).replaced ?? '', /paperboy\.db\.before-restore-\d{8}-\d{6}/);

  // Now the target holds papers: replacing it needs --force, and the old one is kept.
  r = await runCli(['restore', good], sqliteEnv(target));
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /is not empty \([\d]+ papers/);
  r = await runCli(['restore', good, '--force', '--json'], sqliteEnv(target), 60_000);
  assert.equal(r.code, 0, r.stderr);
  const forced = lastJson<RestoreJson>(r.stdout);
  assert.ok(forced.replaced && /paperboy\.db\.before-restore-\d{8}-\d{6}/.test(forced.replaced), String(forced.replaced));
  const kept = openSqlite(forced.replaced, { readonly: true });
  try {
    assert.ok(((await kept.get<{ n: number }>('SELECT COUNT(*) AS n FROM papers'))?.n ?? 0) > 0, 'the replaced database is kept whole');
  } finally {
    await kept.close();
  }
});

test('restore refuses a database a running paperboy has open, unless --force', async () => {
  const target = dir();
  const good = path.join(dataDir, 'backups', 'under-load.db');
  const r0 = await runCli(['restore', good], sqliteEnv(target), 60_000);
  assert.equal(r0.code, 0, r0.stderr);

  const serve = spawn(process.execPath, [BIN, 'serve', '--no-demo'], {
    cwd: ROOT,
    env: childEnv({ ...sqliteEnv(target), PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => serve.once('exit', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => reject(new Error(`serve did not start:\n${log}`)), 30_000);
      serve.stderr.setEncoding('utf8').on('data', (c: string) => {
        log += c;
        if (log.includes('web: listening')) {
          clearTimeout(timer);
          resolve();
        }
      });
      serve.once('exit', (code) => reject(new Error(`serve exited (${code}):\n${log}`)));
    });
    const refused = await runCli(['restore', good], sqliteEnv(target));
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /is in use by another process .*stop it first/);
  } finally {
    serve.kill('SIGTERM');
    await exited;
  }
  const after = await runCli(['restore', good, '--force', '--json'], sqliteEnv(target), 60_000);
  assert.equal(after.code, 0, after.stderr);
  assert.equal(lastJson<RestoreJson>(after.stdout).inUse, false);
});

test('--help of both commands', async () => {
  const [b, r, missing] = await Promise.all([runCli(['backup', '--help']), runCli(['restore', '--help']), runCli(['restore'])]);
  assert.equal(b.code, 0);
  assert.match(b.stdout, /Usage: paperboy backup \[options\] \[file\]/);
  assert.match(b.stdout, /consistent snapshot/);
  assert.match(b.stdout, /pg_dump/);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage: paperboy restore \[options\] <file>/);
  assert.match(r.stdout, /--force/);
  assert.match(r.stdout, /before-restore/);
  assert.equal(missing.code, 2);
});

const PG_DUMP = 'pg_dump --format=custom --no-owner "$DATABASE_URL" > paperboy.dump';
const PG_RESTORE = 'pg_restore --clean --if-exists --no-owner -d "$DATABASE_URL" paperboy.dump';

test('on PostgreSQL both commands exit 2 with the pg_dump / pg_restore lines', async () => {
  const url = 'postgres://paperboy:s3cret@db.invalid:5432/paperboy?schema=prod';
  const runs = [['backup'], ['restore', 'paperboy.dump'], ['backup', '--json']];
  const results = await Promise.all(runs.map((args) => runCli(args, { DATABASE_URL: url })));
  for (const [i, args] of runs.entries()) {
    const r = results[i]!;
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.includes(PG_DUMP), r.stderr);
    assert.ok(r.stderr.includes(PG_RESTORE), r.stderr);
    assert.match(r.stderr, /\?schema=prod, which pg_dump and pg_restore do not accept: .*--schema \(-n\)/);
    assert.ok(r.stderr.includes('pg_restore --clean --if-exists --no-owner -d "$URL_WITHOUT_SCHEMA" paperboy.dump'), r.stderr);
    assert.ok(r.stderr.includes('pg_dump --format=custom --no-owner --schema=prod'), r.stderr);
    assert.ok(!r.stderr.includes('s3cret'), 'the password is never printed');
    if (args.includes('--json')) assert.equal(lastJson<{ ok: boolean; dialect: string }>(r.stdout).dialect, 'postgres');
  }
});

test('on the PostgreSQL pass, its own database gets the same guidance', { skip: TEST_PG_URL ? false : 'needs PAPERBOY_TEST_DATABASE_URL (the PostgreSQL pass)' }, async () => {
  const d = dir();
  for (const args of [['backup'], ['restore', 'paperboy.dump', '--force']]) {
    const r = await runCli(args, { PAPERBOY_DATA_DIR: d }); // childEnv points it at a schema on the test server
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.includes(PG_DUMP) && r.stderr.includes(PG_RESTORE), r.stderr);
  }
});
