/**
 * `paperboy migrate-data`: a real SQLite instance (the demo corpus ingested, subscribers, votes,
 * digests sent, bounces, vectors, hostile values) copied SQLite → SQLite, and (with
 * PAPERBOY_TEST_DATABASE_URL) SQLite → PostgreSQL → a fresh SQLite file. Every copy is checked
 * independently of the command's own report: counts and checksums per table, whole rows
 * byte-for-byte, keyword search answering the same, ids continuing after the copy.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createApp, type App } from '../src/app.ts';
import { loadConfig } from '../src/config/config.ts';
import { canonicalRow, checksumTable, copyDatabase, countRows, dataTables, RowSum, type CopyReport } from '../src/db/copy.ts';
import { openPostgres } from '../src/db/postgres.ts';
import type { Database } from '../src/db/sql.ts';
import { openSqlite } from '../src/db/sqlite.ts';
import { loadDemoIfEmpty } from '../src/demo.ts';
import { runIngest } from '../src/ingest/run.ts';
import { searchKeyword } from '../src/search/service.ts';
import { DfCache } from '../src/search/terms.ts';
import { ensureJob } from '../src/store/jobs.ts';
import { storeSimilar } from '../src/store/similar.ts';
import { insertSubscriber, DEFAULT_PREFERENCES, recordBounce, suppress } from '../src/store/subscribers.ts';
import { castVote, recomputeTrending } from '../src/store/trending.ts';
import { saveVectors } from '../src/store/vectors.ts';
import { lastJson, pgUrl, removeDir, runCli, TEST_PG_URL, tempDir } from './helpers/app.ts';

const NOW = new Date('2026-08-15T09:00:00Z');
const ISSUE = '2026-08-15';

/** Every kind of awkward text: CR/LF, quotes of all sorts, backslashes, SQL and JSON syntax, emoji (astral), combining marks, RTL, a BOM. */
const NASTY = `line one\r\nline two\rthree\n'single' "double" \`back\` \\ \\\\ ?, $1, :name, -- not a comment /* nor this */ ; DROP TABLE papers; {"json": [1, 2]} 😀👩‍👩‍👧‍👦 🇺🇳 e\u0301 \u202Eevil\u202C \uFEFFbom \u00A0nbsp \t tab`;
const BIG = (NASTY + '\r\n').repeat(Math.ceil(100_000 / (NASTY.length + 2))).slice(0, 100_000) + ' end 😀';
const BLOB = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
const QUERIES = ['language models', 'jetson', 'diffusion image', 'graph neural network', 'quantization', 'zzzzqqq'];

let dir: string;
let srcUrl: string;
let hostilePaperId: number;

async function openApp(url: string, dataDir: string): Promise<App> {
  const config = loadConfig({ PAPERBOY_DATA_DIR: dataDir, DATABASE_URL: url, LOG_LEVEL: 'silent', PAPERBOY_DEMO: '0', SECRET_KEY: 'x'.repeat(32) });
  return createApp(config, { now: () => NOW });
}

function openUrl(url: string): Database {
  return url.startsWith('sqlite:') ? openSqlite(url.slice('sqlite:'.length)) : openPostgres(url, { poolSize: 2 });
}

before(async () => {
  dir = tempDir('paperboy-migrate-data-');
  srcUrl = `sqlite:${path.join(dir, 'source.db')}`;
  const app = await openApp(srcUrl, dir);
  try {
    assert.ok(await loadDemoIfEmpty(app), 'the demo corpus loaded');
    // A paper through the ingest path with hostile text, and hostile values straight into columns the ingest would tidy.
    const file = path.join(dir, 'hostile.jsonl');
    writeFileSync(file, JSON.stringify({ title: `Hostile "title" 'quoted' 😀 zzzzqqq`, abstract: BIG, authors: ['Zoë O\'Brien', 'Jürgen "JJ" Müller'], id: '2608.99999' }) + '\n');
    const r = await runIngest(app, 'jsonl', { inputs: [file] });
    assert.equal(r.summary.new, 1);
    const hostile = await app.db.get<{ id: number }>("SELECT id FROM papers WHERE arxiv_id = '2608.99999'");
    assert.ok(hostile);
    hostilePaperId = hostile.id;
    await app.db.run('UPDATE papers SET comments = ?, journal_ref = NULL, doi = NULL WHERE id = ?', [BIG, hostilePaperId]);
    await app.db.run("UPDATE papers SET comments = '' WHERE id = (SELECT MIN(id) FROM papers)");

    const ids = (await app.db.all<{ id: number }>('SELECT id FROM papers ORDER BY id LIMIT 40')).map((x) => x.id);
    for (const [i, id] of ids.entries()) {
      for (let v = 0; v <= i % 4; v++) await castVote(app.db, id, `voter-${v}-${'😀'.repeat(v)}`, NOW);
    }
    await recomputeTrending(app.db, 'all', app.config.trending, NOW);
    await saveVectors(
      app.db,
      'test/model "v1"',
      ids.slice(0, 10).map((id, i) => ({ paperId: id, dims: i === 0 ? 0 : BLOB.length, vector: i === 0 ? Buffer.alloc(0) : Buffer.concat([BLOB.subarray(i), BLOB.subarray(0, i)]), textHash: `h${i}` })),
      NOW.toISOString(),
    );
    await storeSimilar(app.db, ids[0]!, { method: 'mlt', corpusSize: 451, computedAt: NOW.toISOString(), neighbours: ids.slice(1, 6).map((id, i) => ({ id, score: 1 / (i + 3) })) });
    await ensureJob(app.db, 'ingest:hf-daily', NOW.toISOString());
    await ensureJob(app.db, `job with 'quotes' 😀`, NOW.toISOString());

    const subs = [
      ['ada@example.com', ['language models', 'cat:cs.CV']],
      ['bob+tag@example.org', []],
      ['zoë@例え.jp', [`"exact phrase" -noise 😀`]],
      ['carol@example.net', ['jetson']],
    ] as const;
    for (const [email, topics] of subs) {
      await insertSubscriber(app.db, { email, emailKey: email.toLowerCase(), status: 'confirmed', prefs: { ...DEFAULT_PREFERENCES, topics: [...topics] }, source: 'test', now: NOW.toISOString() });
    }
    await insertSubscriber(app.db, { email: 'pending@example.com', emailKey: 'pending@example.com', status: 'pending', prefs: DEFAULT_PREFERENCES, source: 'site', now: NOW.toISOString() });
    await app.digests.scheduleDate(ISSUE, NOW);
    const sent = await app.digests.sendDue({ date: ISSUE });
    assert.ok(sent.sent >= 1, `digests sent: ${JSON.stringify(sent)}`);
    await suppress(app.db, 'gone@example.com', `550 5.1.1 "no such user"\r\nsecond line 😀`, NOW.toISOString());
    await recordBounce(app.db, 'carol@example.net', 'hard', NASTY, NOW.toISOString());
    await recordBounce(app.db, 'bob+tag@example.org', 'soft', '', NOW.toISOString());
  } finally {
    await app.close();
  }
});

after(() => {
  if (dir) removeDir(dir);
});

/** Every table's rows and checksum, computed here, independently of the command. */
async function fingerprint(url: string): Promise<Map<string, { rows: number; checksum: string }>> {
  const db = openUrl(url);
  try {
    const out = new Map<string, { rows: number; checksum: string }>();
    for (const t of await dataTables()) out.set(t.name, await checksumTable(db, t));
    return out;
  } finally {
    await db.close();
  }
}

/** Whole rows of the tables holding the hostile values, in key order, as the driver returns them. */
async function hostileRows(url: string): Promise<Record<string, unknown[]>> {
  const db = openUrl(url);
  try {
    const specs = new Map((await dataTables()).map((t) => [t.name, t] as const));
    const rows = async (table: string, where = '') => {
      const t = specs.get(table)!;
      const q = (c: string) => `"${c}"`;
      return db.all<Record<string, unknown>>(`SELECT ${t.columns.map(q).join(', ')} FROM ${table} ${where} ORDER BY ${t.key.map(q).join(', ')}`);
    };
    return {
      paper: await rows('papers', `WHERE id = ${hostilePaperId}`),
      vectors: await rows('paper_vectors'),
      subscribers: await rows('subscribers'),
      suppressions: await rows('suppressions'),
      bounces: await rows('bounces'),
      jobs: await rows('jobs'),
      votes: await rows('votes'),
    };
  } finally {
    await db.close();
  }
}

/** Keyword search in this process (a fresh document-frequency cache per database): the ids of the top 20. */
async function searchIds(url: string, q: string): Promise<string[]> {
  const db = openUrl(url);
  try {
    const a = await searchKeyword(db, q, { limit: 20, dfCache: new DfCache(), facets: false });
    return a.results.map((x) => x.id);
  } finally {
    await db.close();
  }
}

async function migrateData(from: string, to: string, ...extra: string[]) {
  const r = await runCli(['migrate-data', '--from', from, '--to', to, '--json', ...extra], {}, 60_000);
  return { ...r, report: r.code === 0 || r.code === 1 ? lastJson<CopyReport>(r.stdout) : undefined };
}

function assertCopied(report: CopyReport | undefined, expected: Map<string, { rows: number; checksum: string }>): void {
  assert.ok(report);
  assert.equal(report.ok, true);
  assert.deepEqual(report.tables.map((t) => t.table), [...expected.keys()]);
  for (const t of report.tables) {
    const e = expected.get(t.table)!;
    assert.equal(t.match, true, t.table);
    assert.equal(t.sourceRows, e.rows, t.table);
    assert.equal(t.targetRows, e.rows, t.table);
    assert.equal(t.sourceChecksum, e.checksum, `${t.table}: the command's checksum is the one computed here`);
  }
}

async function assertSameInstance(a: string, b: string): Promise<void> {
  assert.deepEqual(await fingerprint(b), await fingerprint(a));
  const [ra, rb] = [await hostileRows(a), await hostileRows(b)];
  assert.deepEqual(rb, ra);
  // And the values are the hostile ones, not something both sides mangled the same way.
  const paper = rb.paper![0] as Record<string, unknown>;
  assert.equal(paper.comments, BIG);
  assert.equal(Buffer.byteLength(paper.comments as string), Buffer.byteLength(BIG));
  assert.equal(paper.journal_ref, null);
  const vectors = rb.vectors as { vector: Buffer }[];
  assert.equal(vectors.length, 10);
  assert.ok(vectors.some((v) => Buffer.isBuffer(v.vector) && v.vector.length === 0), 'an empty blob stays an empty blob');
  assert.ok(vectors.some((v) => Buffer.isBuffer(v.vector) && v.vector.equals(Buffer.concat([BLOB.subarray(1), BLOB.subarray(0, 1)]))), 'every byte value survives');
  assert.ok((rb.bounces as { detail: string }[]).some((x) => x.detail === NASTY));
  assert.ok((rb.suppressions as { reason: string }[]).some((x) => x.reason.includes('\r\nsecond line 😀')));
}

async function assertSameSearch(a: string, b: string): Promise<void> {
  for (const q of QUERIES) assert.deepEqual(await searchIds(b, q), await searchIds(a, q), `search ${JSON.stringify(q)}`);
  assert.ok((await searchIds(a, 'language models')).length > 0, 'the queries find something');
  assert.deepEqual(await searchIds(b, 'zzzzqqq'), ['2608.99999'], 'the hostile paper is found by a word of its title');
}

test('checksums: order-independent, and tell types, NULL, empty and blobs apart', () => {
  const cols = ['a', 'b'];
  const sum = (rows: Record<string, unknown>[]) => {
    const s = new RowSum();
    for (const r of rows) s.add(canonicalRow(r, cols));
    return s.hex();
  };
  const rows = [
    { a: 1, b: 'x' },
    { a: 2, b: null },
    { a: 3, b: Buffer.from([0, 255]) },
  ];
  assert.equal(sum(rows), sum([...rows].reverse()));
  const distinct = [null, '', 0, '0', 1.5, Buffer.alloc(0), Buffer.from('x'), 'x', 'x\r\n', 'x\n'].map((b) => canonicalRow({ a: 1, b }, cols));
  assert.equal(new Set(distinct).size, distinct.length);
  assert.equal(canonicalRow({ a: -0, b: 1 }, cols), canonicalRow({ a: 0, b: 1n }, cols));
  // Length prefixes: no two splits of the same characters collide.
  assert.notEqual(canonicalRow({ a: 'ab', b: 'c' }, cols), canonicalRow({ a: 'a', b: 'bc' }, cols));
});

test('the tables copied: every data table of the schema, parents first, no FTS or generated columns', async () => {
  const tables = await dataTables();
  const names = tables.map((t) => t.name);
  for (const n of ['papers', 'paper_sources', 'signals', 'ingest_runs', 'jobs', 'similar_cache', 'paper_vectors', 'votes', 'trending', 'subscribers', 'digests', 'digest_papers', 'suppressions', 'bounces']) {
    assert.ok(names.includes(n), n);
  }
  assert.ok(!names.some((n) => n.startsWith('papers_fts') || n === 'schema_migrations' || n.startsWith('search_')), names.join(', '));
  assert.ok(!tables.find((t) => t.name === 'papers')!.columns.includes('has_code'));
  const at = (n: string) => names.indexOf(n);
  assert.ok(at('papers') < at('signals') && at('papers') < at('digest_papers') && at('subscribers') < at('digests') && at('subscribers') < at('digest_papers'));
});

test('migrate-data --help: usage with an example', async () => {
  const r = await runCli(['migrate-data', '--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Usage: paperboy migrate-data/);
  assert.match(r.stdout, /paperboy migrate-data --from sqlite:\S+ --to postgres:\/\//);
  assert.match(r.stdout, /--force/);
  assert.match(r.stdout, /--dry-run/);
});

test('SQLite → SQLite: copied, verified, searchable; a populated target is refused unless --force', async () => {
  const expected = await fingerprint(srcUrl);
  assert.ok(expected.get('papers')!.rows > 400 && expected.get('digest_papers')!.rows > 0 && expected.get('votes')!.rows > 0);
  const to = `sqlite:${path.join(dir, 'copy.db')}`;

  const dry = await migrateData(srcUrl, to, '--dry-run');
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(dry.report?.dryRun, true);
  assert.equal(dry.report?.rows, [...expected.values()].reduce((a, x) => a + x.rows, 0));

  // Small pages: every table of more than a few rows takes several, so keyset pagination is exercised.
  const r = await migrateData(srcUrl, to, '--batch-size', '37');
  assert.equal(r.code, 0, r.stderr);
  assertCopied(r.report, expected);
  await assertSameInstance(srcUrl, to);
  await assertSameSearch(srcUrl, to);

  // Not a second time into the same target: exit 2, nothing touched.
  const again = await migrateData(srcUrl, to);
  assert.equal(again.code, 2, again.stderr);
  assert.match(again.stderr, /migrate-data: the target .* already holds data: papers \(\d+\)/);
  const dryAgain = await migrateData(srcUrl, to, '--dry-run');
  assert.equal(dryAgain.code, 2);
  assert.ok(dryAgain.report === undefined || dryAgain.report.ok === false);
  assert.deepEqual(await fingerprint(to), expected);

  // --force empties it first: the same copy again, not a merge.
  const db = openUrl(to);
  await db.run("UPDATE subscribers SET email = 'tampered@example.com' WHERE id = (SELECT MIN(id) FROM subscribers)");
  await db.close();
  assert.notDeepEqual(await fingerprint(to), expected, 'a changed value changes the checksum');
  const forced = await migrateData(srcUrl, to, '--force');
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(forced.report?.replaced, true);
  assertCopied(forced.report, expected);
  assert.deepEqual(await fingerprint(to), expected);
});

test('refusals exit 2 with the reason: a missing source, the same database, a bad URL, an outdated source', async () => {
  const missing = await migrateData(`sqlite:${path.join(dir, 'nope.db')}`, `sqlite:${path.join(dir, 'x.db')}`);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /migrate-data: the source sqlite:\S+nope\.db does not exist/);
  const same = await migrateData(srcUrl, `sqlite:${path.join(dir, '.', 'source.db')}`);
  assert.equal(same.code, 2);
  assert.match(same.stderr, /same database/);
  const bad = await migrateData('mysql://x', `sqlite:${path.join(dir, 'x.db')}`);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /not a database URL/);
  const old = openSqlite(path.join(dir, 'old.db'));
  await old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  await old.run("INSERT INTO schema_migrations VALUES (1, 'x', 'y')");
  await old.close();
  const outdated = await migrateData(`sqlite:${path.join(dir, 'old.db')}`, `sqlite:${path.join(dir, 'x.db')}`);
  assert.equal(outdated.code, 2);
  assert.match(outdated.stderr, /schema version 1.*paperboy migrate/);
});

test('a source written to during the copy is reported as a mismatch of that table', async () => {
  const source = openUrl(`sqlite:${path.join(dir, 'moving.db')}`);
  const target = openUrl(`sqlite:${path.join(dir, 'moving-copy.db')}`);
  const origin = openUrl(srcUrl);
  try {
    assert.equal((await copyDatabase(origin, source)).ok, true);
    let poked = false;
    const r = await copyDatabase(source, target, {
      batchSize: 100,
      onProgress: (p) => {
        if (p.phase === 'verify' && !poked) {
          poked = true;
          void source.run("INSERT INTO bounces (email_key, kind, detail, created_at) VALUES ('late@example.com', 'soft', '', 'now')");
        }
      },
    });
    assert.equal(r.ok, false);
    const bad = r.tables.filter((t) => !t.match);
    assert.deepEqual(bad.map((t) => t.table), ['bounces']);
    assert.equal(bad[0]!.sourceRows, bad[0]!.targetRows! + 1);
  } finally {
    await Promise.all([source.close(), target.close(), origin.close()]);
  }
});

test(
  'SQLite → PostgreSQL → SQLite: nothing lost, byte for byte; search answers the same; ids continue',
  { skip: TEST_PG_URL ? false : 'PAPERBOY_TEST_DATABASE_URL is not set: the PostgreSQL round trip runs on the CI PostgreSQL pass' },
  async () => {
    const schema = `mdtest_${process.pid}_${Date.now().toString(36)}`;
    const pg = pgUrl(schema);
    const back = `sqlite:${path.join(dir, 'back.db')}`;
    try {
      const expected = await fingerprint(srcUrl);
      const there = await migrateData(srcUrl, pg, '--batch-size', '23', '--writers', '3');
      assert.equal(there.code, 0, there.stderr);
      assertCopied(there.report, expected);
      assert.deepEqual(await fingerprint(pg), expected, 'PostgreSQL holds the same rows');
      const [srcRows, pgRows] = [await hostileRows(srcUrl), await hostileRows(pg)];
      assert.deepEqual(pgRows, srcRows, 'whole rows, byte for byte, as PostgreSQL returns them');

      const home = await migrateData(pg, back, '--batch-size', '41');
      assert.equal(home.code, 0, home.stderr);
      assertCopied(home.report, expected);
      await assertSameInstance(srcUrl, back);
      await assertSameSearch(srcUrl, back);
      await assertSameSearch(srcUrl, pg);

      // PostgreSQL refuses a second copy, and its identity sequences continue after the copied ids.
      const again = await migrateData(srcUrl, pg);
      assert.equal(again.code, 2);
      assert.match(again.stderr, /already holds data/);
      const db = openUrl(pg);
      try {
        const max = await db.get<{ n: number }>('SELECT MAX(id) AS n FROM subscribers');
        const id = await insertSubscriber(db, { email: 'new@example.com', emailKey: 'new@example.com', status: 'pending', prefs: DEFAULT_PREFERENCES, source: 'test', now: NOW.toISOString() });
        assert.equal(id, (max?.n ?? 0) + 1);
        const b = await db.get<{ id: number }>("INSERT INTO bounces (email_key, kind, created_at) VALUES ('x', 'soft', 'now') RETURNING id");
        assert.equal(b?.id, expected.get('bounces')!.rows + 1);
        assert.equal(await countRows(db, 'papers'), expected.get('papers')!.rows);
      } finally {
        await db.close();
      }
    } finally {
      const admin = openPostgres(TEST_PG_URL!, { poolSize: 1 });
      await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
      await admin.close();
    }
  },
);
