/**
 * Where paperboy's keyword search spends its time, for bench/search.ts's query set on one built
 * database (run `npm run bench:search` first so the database and query file exist).
 *
 *   node --import tsx bench/search-profile.ts --size 100000 [--seed 1] [--category claim] [--plans]
 *
 * Wraps the Sql handle so every statement searchKeyword runs is timed, and prints the time per
 * statement kind (ranking, count, df look-up, papers, snippets, facets) over the 200 queries, for
 * the full API path and the ranking-only path; with --plans, EXPLAIN QUERY PLAN of each kind.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Param, Sql } from '../src/db/sql.ts';
import { openSqlite } from '../src/db/sqlite.ts';
import { searchKeyword } from '../src/search/service.ts';
import { DfCache } from '../src/search/terms.ts';
import type { BenchQuery } from './corpus.ts';
import { databasePaths } from './search-build.ts';
import { childArgs, round, stats } from './search-lib.ts';

function kindOf(sql: string): string {
  if (sql.includes('papers_fts_vocab')) return 'df look-up (fts5vocab)';
  if (sql.includes('snippet(')) return 'snippets';
  if (sql.includes('COUNT(*)') && sql.includes('papers_fts')) return sql.includes('JOIN papers') ? 'count (filtered)' : 'count';
  if (sql.includes('bm25(') && sql.includes('JOIN papers')) return 'ranking (filtered)';
  if (sql.includes('bm25(')) return 'ranking';
  if (sql.includes('has_code FROM papers WHERE id IN')) return 'facets';
  if (sql.includes('FROM papers WHERE id IN')) return 'papers by id';
  if (sql.includes('MAX(id)')) return 'corpus size';
  if (sql.includes('ORDER BY p.submitted_at')) return 'filters only';
  return sql.slice(0, 40);
}

interface Timing {
  ms: number[];
  sql: string;
  params: readonly Param[];
}

function timedSql(inner: Sql, into: Map<string, Timing>): Sql {
  const wrap =
    <K extends 'all' | 'get'>(k: K) =>
    async (sql: string, params: readonly Param[] = []) => {
      const t = performance.now();
      const r = await (inner[k] as (s: string, p: readonly Param[]) => Promise<unknown>)(sql, params);
      const kind = kindOf(sql);
      const e = into.get(kind) ?? { ms: [], sql, params };
      e.ms.push(performance.now() - t);
      if ((e.ms.at(-1) ?? 0) >= Math.max(...e.ms)) Object.assign(e, { sql, params });
      into.set(kind, e);
      return r;
    };
  return {
    dialect: inner.dialect,
    all: wrap('all') as Sql['all'],
    get: wrap('get') as Sql['get'],
    run: (s, p) => inner.run(s, p),
    exec: (s) => inner.exec(s),
    tx: (fn) => inner.tx(fn),
  };
}

async function main(): Promise<void> {
  const args = childArgs(process.argv.slice(2));
  const size = Number(args.get('size') ?? 100_000);
  const seed = Number(args.get('seed') ?? 1);
  const { file } = databasePaths(size, seed);
  const { queries: all, warmup } = JSON.parse(readFileSync(`bench/out/search/queries-s${seed}.json`, 'utf8')) as { queries: BenchQuery[]; warmup: BenchQuery[] };
  const category = args.get('category');
  const queries = category ? all.filter((q) => q.category === category) : all;
  const db = openSqlite(file);
  for (const q of warmup) await searchKeyword(db, q.text, { limit: 20 });

  for (const full of [false, true]) {
    const timings = new Map<string, Timing>();
    const sql = timedSql(db, timings);
    const dfCache = new DfCache();
    const total: number[] = [];
    for (const q of queries) {
      const t = performance.now();
      await searchKeyword(sql, q.text, full ? { limit: 20, dfCache } : { limit: 20, facets: false, snippets: false, dfCache });
      total.push(performance.now() - t);
    }
    const sum = total.reduce((a, b) => a + b, 0);
    console.log(`\n${full ? 'full API path' : 'ranking only'} — ${queries.length} queries at ${size.toLocaleString('en-US')}: total ${round(sum, 0)} ms, p95 ${stats(total).p95} ms`);
    const rows = [...timings].sort((a, b) => b[1].ms.reduce((x, y) => x + y, 0) - a[1].ms.reduce((x, y) => x + y, 0));
    let inSql = 0;
    for (const [kind, t] of rows) {
      const s = t.ms.reduce((a, b) => a + b, 0);
      inSql += s;
      const st = stats(t.ms);
      console.log(`  ${kind.padEnd(24)} ${String(t.ms.length).padStart(4)} calls  ${String(round(s, 0)).padStart(6)} ms (${String(round((100 * s) / sum, 0)).padStart(3)}%)  p50 ${st.p50}  p95 ${st.p95}  max ${st.max}`);
    }
    console.log(`  ${'outside SQL'.padEnd(24)}             ${String(round(sum - inSql, 0)).padStart(6)} ms (${round((100 * (sum - inSql)) / sum, 0)}%)`);
    if (args.has('plans') && full) {
      for (const [kind, t] of rows) {
        const plan = await db.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${t.sql}`, t.params);
        console.log(`\n  ${kind} (slowest call ${round(Math.max(...t.ms), 1)} ms): ${t.sql.replace(/\s+/g, ' ').slice(0, 220)}`);
        console.log(`    params: ${JSON.stringify(t.params).slice(0, 200)}`);
        for (const p of plan) console.log(`    plan: ${p.detail}`);
      }
    }
  }
  await db.close();
}

await main();
