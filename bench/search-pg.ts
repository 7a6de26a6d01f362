/**
 * `node --import tsx bench/search-pg.ts [--size 100000] [--seed 1] [--url postgres://…] [--reload]`:
 * keyword search latency on PostgreSQL next to SQLite, in one process, on the same papers and
 * queries as bench/search.ts (the cached SQLite database of bench/search-build.ts, copied once into
 * the PostgreSQL schema `bench_search_<size>_s<seed>`; the triggers build the index, then VACUUM
 * ANALYZE). Reports p50/p95 of the ranking path (no facets, no snippets) and the full API path,
 * per query category, and more-like-this. Results also go to bench/out/search-pg.json.
 */
import BetterSqlite3 from 'better-sqlite3';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { migrate } from '../src/db/migrations.ts';
import { openPostgres } from '../src/db/postgres.ts';
import { openSqlite } from '../src/db/sqlite.ts';
import type { Database, Param } from '../src/db/sql.ts';
import { anyWordMatch } from '../src/search/fts-expr.ts';
import { searchKeyword } from '../src/search/service.ts';
import { distinctiveTerms } from '../src/search/similar.ts';
import { DfCache } from '../src/search/terms.ts';
import { getPaper } from '../src/store/papers.ts';
import { moreLikeThis } from '../src/store/similar.ts';
import { CorpusGenerator, loadSources, makeQueries, type BenchQuery } from './corpus.ts';
import { databasePaths, ensureDatabase } from './search-build.ts';
import { OUT, round, stats } from './search-lib.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const size = Number(arg('size', '100000'));
const seed = Number(arg('seed', '1'));
const url = arg('url', process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:55432/postgres');
const reload = process.argv.includes('--reload');
const log = (s: string) => console.log(s);

function queriesOf(): { queries: BenchQuery[]; warmup: BenchQuery[] } {
  const file = path.join(OUT, 'search', `queries-s${seed}.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as { queries: BenchQuery[]; warmup: BenchQuery[] };
  const sources = loadSources();
  return { queries: makeQueries(new CorpusGenerator(sources, seed), seed, 200), warmup: makeQueries(new CorpusGenerator(sources, seed), seed + 99, 20) };
}

/** Copies the papers of the cached SQLite database into a PostgreSQL schema (once). */
async function ensurePostgres(file: string): Promise<Database> {
  const schema = `bench_search_${size}_s${seed}`;
  const u = new URL(url);
  u.searchParams.set('schema', schema);
  let pg = openPostgres(u.toString(), { poolSize: 2 });
  const have = await pg
    .get<{ n: number }>('SELECT COUNT(*) AS n FROM search_docs')
    .then((r) => r?.n ?? 0)
    .catch(() => 0);
  if (have === size && !reload) return pg;
  await pg.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await pg.close();
  pg = openPostgres(u.toString(), { poolSize: 2 });
  await migrate(pg);
  log(`copying ${size.toLocaleString('en-US')} papers into PostgreSQL schema ${schema} …`);
  const started = performance.now();
  const lite = new BetterSqlite3(file, { readonly: true });
  const cols = (lite.prepare('PRAGMA table_info(papers)').all() as { name: string }[]).map((c) => c.name).filter((c) => c !== 'has_code');
  const read = lite.prepare(`SELECT ${cols.join(', ')} FROM papers WHERE id > ? ORDER BY id LIMIT 500`);
  let last = 0;
  let n = 0;
  for (;;) {
    const rows = read.all(last) as Record<string, Param>[];
    if (!rows.length) break;
    await pg.run(
      `INSERT INTO papers (${cols.join(', ')}) VALUES ${rows.map(() => `(${cols.map(() => '?').join(', ')})`).join(', ')}`,
      rows.flatMap((r) => cols.map((c) => r[c] ?? null)),
    );
    last = Number(rows[rows.length - 1]!.id);
    n += rows.length;
    if (n % 10_000 === 0) log(`  ${n.toLocaleString('en-US')} papers, ${round((performance.now() - started) / 1000, 0)} s`);
  }
  lite.close();
  await pg.get("SELECT setval(pg_get_serial_sequence('papers', 'id'), (SELECT MAX(id) FROM papers))");
  for (const t of ['papers', 'search_docs', 'search_postings']) await pg.exec(`VACUUM ANALYZE ${t}`);
  const sz = await pg.get<{ docs: string; postings: string }>(
    "SELECT pg_size_pretty(pg_total_relation_size('search_docs')) AS docs, pg_size_pretty(pg_total_relation_size('search_postings')) AS postings",
  );
  log(`  copied in ${round((performance.now() - started) / 1000, 1)} s; search_docs ${sz?.docs}, search_postings ${sz?.postings}`);
  return pg;
}

interface Pass {
  ranking: number[];
  full: number[];
  byCategory: Map<string, number[]>;
  similar: number[];
}

async function run(db: Database, queries: BenchQuery[], warmup: BenchQuery[]): Promise<Pass> {
  for (const q of warmup) await searchKeyword(db, q.text, { limit: 20 });
  const out: Pass = { ranking: [], full: [], byCategory: new Map(), similar: [] };
  for (const full of [false, true]) {
    const dfCache = new DfCache();
    for (const q of queries) {
      const t0 = performance.now();
      await searchKeyword(db, q.text, full ? { limit: 20, dfCache } : { limit: 20, facets: false, snippets: false, dfCache });
      const ms = performance.now() - t0;
      (full ? out.full : out.ranking).push(ms);
      if (!full) out.byCategory.set(q.category, [...(out.byCategory.get(q.category) ?? []), ms]);
    }
  }
  for (let i = 0; i < 50; i++) {
    const id = 1 + Math.floor(((i + 0.5) * size) / 50);
    const t0 = performance.now();
    const row = await db.get<{ key: string }>('SELECT key FROM papers WHERE id = ?', [id]);
    const paper = row && (await getPaper(db, row.key));
    if (!paper) continue;
    const m = anyWordMatch(await distinctiveTerms(db, paper, size));
    if (m) await moreLikeThis(db, paper.id, m, 10);
    out.similar.push(performance.now() - t0);
  }
  return out;
}

async function main(): Promise<void> {
  const { file } = databasePaths(size, seed);
  if (!existsSync(file)) await ensureDatabase(size, seed, loadSources(), log);
  const { queries, warmup } = queriesOf();
  const pg = await ensurePostgres(file);
  const lite = openSqlite(file);
  const results: Record<string, unknown> = { size, seed, date: new Date().toISOString() };
  const rows: string[] = [];
  for (const [name, db] of [['sqlite', lite], ['postgres', pg]] as const) {
    const r = await run(db, queries, warmup);
    const s = (ms: number[]) => stats(ms);
    results[name] = { ranking: s(r.ranking), full: s(r.full), similar: s(r.similar), byCategory: Object.fromEntries([...r.byCategory].map(([k, v]) => [k, s(v)])) };
    const f = (x: { p50: number; p95: number }) => `p50 ${round(x.p50, 1)} ms, p95 ${round(x.p95, 1)} ms`;
    rows.push(`${name.padEnd(8)} ranking ${f(s(r.ranking))} | full ${f(s(r.full))} | similar ${f(s(r.similar))}`);
    for (const [k, v] of r.byCategory) rows.push(`${''.padEnd(8)}   ${k.padEnd(7)} ${f(s(v))}`);
  }
  await lite.close();
  await pg.close();
  log(`keyword search at ${size.toLocaleString('en-US')} papers (${queries.length} queries):`);
  for (const r of rows) log(r);
  writeFileSync(path.join(OUT, 'search-pg.json'), JSON.stringify(results, null, 1) + '\n');
}

await main();
