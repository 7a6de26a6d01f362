/**
 * `npm run bench:search [-- --sizes 10000,100000,1000000 | --quick]`: search latency and memory
 * of paperboy against MiniSearch and Orama holding the same papers, at several corpus sizes.
 *
 * For each size: a paperboy database of synthetic papers resampled from real abstracts
 * (bench/corpus.ts; built once and cached under bench/out/search/, bench/search-build.ts), then
 * one child process per engine (so RSS is per engine):
 *   - paperboy (bench/search-paperboy.ts): 200 keyword queries through `searchKeyword`, ranking
 *     only and the full API path; exact vector search (float32 FloatIndex, int8 VectorIndex,
 *     384 dims) with recall@10 of int8 against float32; hybrid (keyword + int8, min-max fusion).
 *   - MiniSearch and Orama (bench/search-peer.ts): the same papers and queries (plain words);
 *     Orama also holds the vectors and answers the vector and hybrid queries.
 * Each child gets 20 warm-up queries first. Peers run with a heap cap and a time budget, and are
 * reported as "did not finish (reason)" when they exceed either.
 *
 * Queries (200, fixed by the seed; bench/corpus.ts makeQueries): 60 SciFact claims (long,
 * any-word ranked), 60 short title-word queries, 30 common-word queries (the hard case), 20 with
 * the query language (phrases, prefixes, cat:, since:, author:, exclusions), 30 single rare words.
 *
 * Goals: keyword p95 ≤ 20 ms at 100k and ≤ 100 ms at 1M; exact vector p95 < 150 ms (float32) and
 * < 50 ms (int8) at 1M; ahead of both peers on every figure.
 *
 * Flags (env in brackets):
 *   --sizes A,B,C        corpus sizes [BENCH_SIZES]                      default 10000,100000,1000000
 *   --quick              10000,100000 only
 *   --seed S             corpus, vector and query seed [BENCH_SEED]      default 1
 *   --engines LIST       paperboy,minisearch,orama                       default all three
 *   --build-budget MIN   per peer index build, minutes [BENCH_BUILD_BUDGET]  default 10
 *   --query-budget MIN   per peer, after the build, minutes              default 7
 *   --heap MB            peers' --max-old-space-size                     default 16384
 *   --no-peer-vectors    Orama without vectors (keyword only)
 *   --skip-vectors       paperboy keyword only
 *   --cpu-prof           V8 CPU profile of each paperboy child into bench/out/prof/
 *   --data DIR           the shared data folder                          default ../shared/data
 * Results: a table per size on stdout, everything in bench/out/search.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CorpusGenerator, DEFAULT_DATA_DIR, loadSources, makeQueries, QUERY_MIX, type BenchQuery, type QueryCategory } from './corpus.ts';
import { ensureDatabase, type BuiltDatabase } from './search-build.ts';
import { OUT, round, runChild, stats, type ChildRun, type Stats, flags } from './search-lib.ts';
import type { PaperboyResult } from './search-paperboy.ts';
import type { PeerResult } from './search-peer.ts';

const GOALS = {
  keywordP95Ms: { 100_000: 20, 1_000_000: 100 } as Record<number, number>,
  floatP95MsAt1M: 150,
  int8P95MsAt1M: 50,
};

type EngineName = 'paperboy' | 'minisearch' | 'orama';

interface Options {
  sizes: number[];
  seed: number;
  engines: EngineName[];
  buildBudgetMin: number;
  queryBudgetMin: number;
  heapMb: number;
  peerVectors: boolean;
  skipVectors: boolean;
  cpuProf: boolean;
  data: string;
}

function parseOptions(argv: string[]): Options {
  const o: Options = {
    sizes: (process.env.BENCH_SIZES ?? '10000,100000,1000000').split(',').map((s) => Number(s.replace(/[_\s]/g, ''))),
    seed: Number(process.env.BENCH_SEED ?? 1),
    engines: ['paperboy', 'minisearch', 'orama'],
    buildBudgetMin: Number(process.env.BENCH_BUILD_BUDGET ?? 10),
    queryBudgetMin: 7,
    heapMb: 16384,
    peerVectors: true,
    skipVectors: false,
    cpuProf: false,
    data: DEFAULT_DATA_DIR,
  };
  for (const { arg: a, flag, value } of flags(argv)) {
    switch (flag) {
      case '--sizes':
        o.sizes = value().split(',').map((s) => Number(s.replace(/[_\s]/g, '')));
        break;
      case '--quick':
        o.sizes = [10_000, 100_000];
        break;
      case '--seed':
        o.seed = Number(value());
        break;
      case '--engines':
        o.engines = value().split(',') as EngineName[];
        break;
      case '--build-budget':
        o.buildBudgetMin = Number(value());
        break;
      case '--query-budget':
        o.queryBudgetMin = Number(value());
        break;
      case '--heap':
        o.heapMb = Number(value());
        break;
      case '--no-peer-vectors':
        o.peerVectors = false;
        break;
      case '--skip-vectors':
        o.skipVectors = true;
        break;
      case '--cpu-prof':
        o.cpuProf = true;
        break;
      case '--data':
        o.data = path.resolve(value());
        break;
      default:
        throw new Error(`bench: unknown argument ${JSON.stringify(a)}`);
    }
  }
  if (!o.sizes.length || o.sizes.some((n) => !Number.isInteger(n) || n < 100)) throw new Error('bench: --sizes takes whole numbers ≥ 100');
  for (const e of o.engines) if (!['paperboy', 'minisearch', 'orama'].includes(e)) throw new Error(`bench: unknown engine ${e}`);
  return o;
}

// ---------------------------------------------------------------------------------------------
// Report

interface Row {
  engine: string;
  what: string;
  buildS: number | null;
  stats: Stats | null;
  rssMb: number | null;
  note?: string;
}

const fmt = (n: number | null | undefined, digits = 1) =>
  n === null || n === undefined || Number.isNaN(n) ? '—' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c <= 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

function renderRows(rows: Row[]): string {
  const out = [['engine', 'search', 'build s', 'p50 ms', 'p95 ms', 'p99 ms', 'mean ms', 'RSS MB']];
  for (const r of rows) {
    if (!r.stats) {
      out.push([r.engine, r.what, fmt(r.buildS), 'DNF', 'DNF', 'DNF', 'DNF', fmt(r.rssMb, 0)]);
      continue;
    }
    out.push([r.engine, r.what, fmt(r.buildS), fmt(r.stats.p50, 2), fmt(r.stats.p95, 2), fmt(r.stats.p99, 2), fmt(r.stats.mean, 2), fmt(r.rssMb, 0)]);
  }
  const notes = [...new Set(rows.filter((r) => !r.stats).map((r) => `  DNF ${r.engine}: did not finish (${r.note ?? '?'})`))];
  return [table(out), ...notes].join('\n');
}

function byCategory(queries: BenchQuery[], ms: readonly number[]): Record<QueryCategory, Stats> {
  const out = {} as Record<QueryCategory, Stats>;
  for (const [c] of QUERY_MIX) out[c] = stats(ms.filter((_, i) => queries[i]?.category === c));
  return out;
}

// ---------------------------------------------------------------------------------------------

interface SizeResult {
  size: number;
  database: BuiltDatabase;
  paperboy?: ChildRun<PaperboyResult>;
  minisearch?: ChildRun<PeerResult>;
  orama?: ChildRun<PeerResult>;
}

async function main(): Promise<void> {
  const started = performance.now();
  const o = parseOptions(process.argv.slice(2));
  const log = (s: string) => console.log(s);
  log(`bench:search — sizes ${o.sizes.map((n) => n.toLocaleString('en-US')).join(', ')}; engines ${o.engines.join(', ')}; ${os.cpus().length} CPUs, node ${process.version}`);
  const sources = loadSources(o.data);
  log(`sources: ${sources.docs.length.toLocaleString('en-US')} real abstracts, ${sources.authors.length.toLocaleString('en-US')} author names, ${sources.claims.length} SciFact claims`);
  const queries = makeQueries(new CorpusGenerator(sources, o.seed), o.seed, 200);
  const warmup = makeQueries(new CorpusGenerator(sources, o.seed), o.seed + 99, 20);
  mkdirSync(path.join(OUT, 'search'), { recursive: true });
  const queriesFile = path.join(OUT, 'search', `queries-s${o.seed}.json`);
  writeFileSync(queriesFile, JSON.stringify({ queries, warmup }, null, 1) + '\n');
  const clusters = sources.docs.length;

  const results: SizeResult[] = [];
  const dbs = new Map<number, BuiltDatabase>();
  for (const size of o.sizes) dbs.set(size, await ensureDatabase(size, o.seed, sources, log));

  for (const size of o.sizes) {
    const database = dbs.get(size)!;
    const sr: SizeResult = { size, database };
    results.push(sr);
    const common = ['--db', database.file, '--meta', database.meta, '--size', String(size), '--seed', String(o.seed), '--clusters', String(clusters), '--queries', queriesFile];
    log(`\n== ${size.toLocaleString('en-US')} papers (database ${Math.round(database.bytes / 2 ** 20)} MB) ==`);
    if (o.engines.includes('paperboy')) {
      const prof = o.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', path.join(OUT, 'prof'), '--cpu-prof-name', `search-paperboy-${size}-${Date.now()}.cpuprofile`] : [];
      log('paperboy …');
      sr.paperboy = await runChild<PaperboyResult>('bench/search-paperboy.ts', [...common, ...(o.skipVectors ? ['--skip-vectors'] : [])], {
        totalBudgetS: 3600,
        nodeFlags: prof,
      });
      if (!sr.paperboy.ok) log(`  paperboy failed: ${sr.paperboy.reason}\n${sr.paperboy.stderrTail}`);
    }
    for (const engine of ['minisearch', 'orama'] as const) {
      if (!o.engines.includes(engine)) continue;
      log(`${engine} …`);
      let lastShown = 0;
      const run = await runChild<PeerResult>('bench/search-peer.ts', [...common, '--engine', engine, ...(o.peerVectors ? ['--vectors'] : [])], {
        buildBudgetS: o.buildBudgetMin * 60,
        totalBudgetS: (o.buildBudgetMin + o.queryBudgetMin) * 60 + 120,
        afterBuildBudgetS: o.queryBudgetMin * 60,
        nodeFlags: [`--max-old-space-size=${o.heapMb}`],
        onProgress: (p) => {
          const now = performance.now();
          if (now - lastShown > 30_000 && p.phase === 'building') {
            lastShown = now;
            log(`  ${Number(p.docs).toLocaleString('en-US')} documents indexed (${String(p.buildS)} s)`);
          }
        },
      });
      sr[engine] = run;
      if (!run.ok) log(`  ${engine} did not finish: ${run.reason} (${round(run.wallSeconds, 0)} s, peak RSS ${fmt(run.peakRssMb, 0)} MB)`);
    }
    log('\n' + renderRows(rowsFor(sr)));
  }
  const legend =
    'RSS MB — paperboy keyword rows: the process high-water mark after the keyword queries (node + SQLite page cache); ' +
    'vector rows: RSS growth while that index was filled; hybrid: the whole process peak (database + both vector indexes); ' +
    'peers: the whole child process peak (ru_maxrss via wait4). Build s — paperboy: the INSERT transactions into SQLite ' +
    '(FTS5 kept by triggers); vector rows: filling the index; peers: their own add/insert calls.';

  // ------------------------------------------------------------------ summary
  const seconds = (performance.now() - started) / 1000;
  log(`\n==== Summary (${round(seconds / 60, 1)} min) ====`);
  for (const sr of results) {
    log(`\n${sr.size.toLocaleString('en-US')} papers`);
    log(renderRows(rowsFor(sr)));
  }
  log(`\n${legend}`);
  log('\nKeyword p50 / p95 ms per query category (paperboy full API · ranking only · MiniSearch · Orama):');
  const catRows = [['size', 'category', 'n', 'paperboy full', 'paperboy ranking', 'MiniSearch', 'Orama']];
  for (const sr of results) {
    const pb = sr.paperboy?.result;
    const cat = {
      full: pb ? byCategory(queries, pb.keyword.full.map((s) => s.ms)) : undefined,
      ranking: pb ? byCategory(queries, pb.keyword.ranking.map((s) => s.ms)) : undefined,
      minisearch: sr.minisearch?.result ? byCategory(queries, sr.minisearch.result.keywordMs) : undefined,
      orama: sr.orama?.result ? byCategory(queries, sr.orama.result.keywordMs) : undefined,
    };
    const cell = (s: Stats | undefined) => (s ? `${fmt(s.p50, 2)} / ${fmt(s.p95, 2)}` : '—');
    for (const [c, n] of QUERY_MIX) {
      catRows.push([sr.size.toLocaleString('en-US'), c, String(n), cell(cat.full?.[c]), cell(cat.ranking?.[c]), cell(cat.minisearch?.[c]), cell(cat.orama?.[c])]);
    }
  }
  log(table(catRows));

  const goals = goalChecks(results);
  log('\nGoals:');
  for (const g of goals) log(`  ${g.met === null ? 'n/a ' : g.met ? 'met ' : 'MISS'}  ${g.goal}: ${g.value}`);

  const slowest = slowQueries(results, queries);
  if (slowest.length) {
    log('\nSlowest paperboy keyword queries (full API path) at the largest size:');
    for (const s of slowest) log(`  ${fmt(s.ms, 1)} ms  [${s.category}, ${s.mode}${s.match ? `/${s.match}` : ''}, total ${s.total}]  ${JSON.stringify(s.text).slice(0, 90)}`);
  }

  const json = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    seconds: round(seconds, 1),
    options: { ...o, data: path.relative(process.cwd(), o.data) },
    queries: { file: path.relative(process.cwd(), queriesFile), mix: Object.fromEntries(QUERY_MIX) },
    goals,
    sizes: results.map((sr) => ({
      size: sr.size,
      database: { file: path.relative(process.cwd(), sr.database.file), bytes: sr.database.bytes, loadSeconds: sr.database.builtSeconds, insertSeconds: sr.database.insertSeconds, cached: sr.database.loadSeconds === null },
      rows: rowsFor(sr),
      paperboy: sr.paperboy?.result ? summarisePaperboy(sr.paperboy, queries) : failure(sr.paperboy),
      minisearch: sr.minisearch?.result ? summarisePeer(sr.minisearch, queries) : failure(sr.minisearch),
      orama: sr.orama?.result ? summarisePeer(sr.orama, queries) : failure(sr.orama),
    })),
  };
  writeFileSync(path.join(OUT, 'search.json'), JSON.stringify(json, null, 2) + '\n');
  log(`\nwrote ${path.relative(process.cwd(), path.join(OUT, 'search.json'))} in ${round(seconds / 60, 1)} min`);
}

function failure(run: ChildRun<unknown> | undefined): unknown {
  return run ? { didNotFinish: run.reason, wallSeconds: run.wallSeconds, peakRssMb: run.peakRssMb, last: run.last } : null;
}

function rowsFor(sr: SizeResult): Row[] {
  const rows: Row[] = [];
  const pb = sr.paperboy;
  const dbBuild = sr.database.insertSeconds;
  if (pb?.result) {
    const r = pb.result;
    rows.push({ engine: 'paperboy', what: 'keyword (full API)', buildS: dbBuild, stats: stats(r.keyword.full.map((s) => s.ms)), rssMb: r.rss.hwmAfterKeyword });
    rows.push({ engine: 'paperboy', what: 'keyword (ranking only)', buildS: dbBuild, stats: stats(r.keyword.ranking.map((s) => s.ms)), rssMb: r.rss.hwmAfterKeyword });
  } else if (pb) rows.push({ engine: 'paperboy', what: 'keyword', buildS: dbBuild, stats: null, rssMb: pb.peakRssMb, note: pb.reason ?? '' });
  for (const engine of ['minisearch', 'orama'] as const) {
    const run = sr[engine];
    const name = engine === 'minisearch' ? 'MiniSearch' : 'Orama';
    if (run?.result) {
      const withVec = run.result.vectorMs ? ' (incl. vectors)' : '';
      rows.push({ engine: name, what: `keyword${withVec}`, buildS: run.result.buildS, stats: stats(run.result.keywordMs), rssMb: run.peakRssMb ?? run.result.rss.hwm });
    } else if (run) rows.push({ engine: name, what: 'keyword', buildS: null, stats: null, rssMb: run.peakRssMb, note: run.reason ?? '' });
  }
  const v = pb?.result?.vector;
  if (v && pb?.result) {
    const recall = v.recallAt10.reduce((a, b) => a + b, 0) / v.recallAt10.length;
    rows.push({ engine: 'paperboy', what: 'vector float32 exact', buildS: v.floatBuildS, stats: stats(v.floatMs), rssMb: v.floatRssMb, note: 'RSS: index only' });
    rows.push({ engine: 'paperboy', what: `vector int8 exact (recall@10 ${recall.toFixed(3)})`, buildS: v.int8BuildS, stats: stats(v.int8Ms), rssMb: v.int8RssMb });
  }
  const orun = sr.orama;
  const ov = orun?.result;
  const dnf = (what: string): Row => ({ engine: 'Orama', what, buildS: ov?.buildS ?? null, stats: null, rssMb: orun?.peakRssMb ?? null, note: orun?.reason ?? '' });
  if (ov?.vectorMs) rows.push({ engine: 'Orama', what: 'vector float32 exact', buildS: ov.buildS, stats: stats(ov.vectorMs), rssMb: orun?.peakRssMb ?? null });
  else if (orun && !orun.ok) rows.push(dnf('vector float32 exact'));
  if (v && pb?.result) {
    rows.push({ engine: 'paperboy', what: 'hybrid (keyword + int8)', buildS: null, stats: stats(v.hybridMs), rssMb: pb.peakRssMb ?? pb.result.rss.hwm });
  }
  if (ov?.hybridMs) rows.push({ engine: 'Orama', what: 'hybrid', buildS: ov.buildS, stats: stats(ov.hybridMs), rssMb: orun?.peakRssMb ?? null });
  else if (orun && !orun.ok) rows.push(dnf('hybrid'));
  if (pb?.result?.similarMs.length) rows.push({ engine: 'paperboy', what: 'similar papers: more-like-this, uncached', buildS: null, stats: stats(pb.result.similarMs), rssMb: null });
  if (pb?.result?.vector) rows.push({ engine: 'paperboy', what: 'similar papers: int8 vector neighbours', buildS: null, stats: stats(pb.result.vector.similarMs), rssMb: null });
  return rows;
}

function summarisePaperboy(run: ChildRun<PaperboyResult>, queries: BenchQuery[]): unknown {
  const r = run.result!;
  const v = r.vector;
  return {
    wallSeconds: run.wallSeconds,
    peakRssMb: run.peakRssMb,
    rss: r.rss,
    openMs: r.openMs,
    keyword: {
      full: { ...stats(r.keyword.full.map((s) => s.ms)), byCategory: byCategory(queries, r.keyword.full.map((s) => s.ms)) },
      ranking: { ...stats(r.keyword.ranking.map((s) => s.ms)), byCategory: byCategory(queries, r.keyword.ranking.map((s) => s.ms)) },
      perQuery: queries.map((q, i) => ({
        text: q.text,
        category: q.category,
        fullMs: round(r.keyword.full[i]?.ms ?? NaN, 3),
        rankingMs: round(r.keyword.ranking[i]?.ms ?? NaN, 3),
        mode: r.keyword.full[i]?.mode,
        match: r.keyword.full[i]?.match,
        total: r.keyword.full[i]?.total,
        results: r.keyword.full[i]?.results,
      })),
    },
    vector: v
      ? {
          backend: v.backend,
          int8: { ...stats(v.int8Ms), buildS: v.int8BuildS, rssMb: v.int8RssMb },
          float32: { ...stats(v.floatMs), buildS: v.floatBuildS, rssMb: v.floatRssMb },
          recallAt10: { mean: round(v.recallAt10.reduce((a, b) => a + b, 0) / v.recallAt10.length, 4), min: Math.min(...v.recallAt10) },
          hybrid: { ...stats(v.hybridMs), meanResults: round(v.hybridResults.reduce((a, b) => a + b, 0) / v.hybridResults.length, 1) },
        }
      : null,
  };
}

function summarisePeer(run: ChildRun<PeerResult>, queries: BenchQuery[]): unknown {
  const r = run.result!;
  return {
    ...(run.ok ? {} : { didNotFinish: run.reason, partial: true }),
    wallSeconds: run.wallSeconds,
    peakRssMb: run.peakRssMb,
    rss: r.rss,
    buildS: r.buildS,
    readS: r.readS,
    keyword: { ...stats(r.keywordMs), byCategory: byCategory(queries, r.keywordMs), meanResults: round(r.keywordResults.reduce((a, b) => a + b, 0) / r.keywordResults.length, 1) },
    vector: r.vectorMs ? { ...stats(r.vectorMs), meanResults: round(r.vectorResults!.reduce((a, b) => a + b, 0) / r.vectorResults!.length, 1) } : null,
    hybrid: r.hybridMs ? stats(r.hybridMs) : null,
  };
}

interface Goal {
  goal: string;
  met: boolean | null;
  value: string;
}

function goalChecks(results: SizeResult[]): Goal[] {
  const out: Goal[] = [];
  for (const sr of results) {
    const pb = sr.paperboy?.result;
    const limit = GOALS.keywordP95Ms[sr.size];
    if (limit !== undefined) {
      const full = pb ? stats(pb.keyword.full.map((s) => s.ms)).p95 : null;
      const ranking = pb ? stats(pb.keyword.ranking.map((s) => s.ms)).p95 : null;
      out.push({ goal: `keyword p95 ≤ ${limit} ms at ${sr.size.toLocaleString('en-US')} (full API path)`, met: full === null ? null : full <= limit, value: `${fmt(full, 2)} ms` });
      out.push({ goal: `keyword p95 ≤ ${limit} ms at ${sr.size.toLocaleString('en-US')} (ranking only)`, met: ranking === null ? null : ranking <= limit, value: `${fmt(ranking, 2)} ms` });
    }
    if (sr.size === 100_000 && pb?.similarMs.length) {
      const p = stats(pb.similarMs).p95;
      out.push({ goal: 'similar papers (more-like-this, uncached) p95 < 50 ms at 100,000', met: p < 50, value: `${fmt(p, 2)} ms` });
    }
    if (sr.size === 1_000_000 && pb?.vector) {
      const f = stats(pb.vector.floatMs).p95;
      const q = stats(pb.vector.int8Ms).p95;
      out.push({ goal: `float32 exact vector p95 < ${GOALS.floatP95MsAt1M} ms at 1,000,000`, met: f < GOALS.floatP95MsAt1M, value: `${fmt(f, 2)} ms` });
      out.push({ goal: `int8 exact vector p95 < ${GOALS.int8P95MsAt1M} ms at 1,000,000`, met: q < GOALS.int8P95MsAt1M, value: `${fmt(q, 2)} ms` });
    }
    // Ahead of both peers: paperboy's full API path against each peer's keyword search, and so on.
    if (pb) {
      const pbFull = stats(pb.keyword.full.map((s) => s.ms));
      const pbRank = stats(pb.keyword.ranking.map((s) => s.ms));
      const pbRss = pb.rss.hwmAfterKeyword;
      for (const engine of ['minisearch', 'orama'] as const) {
        const run = sr[engine];
        if (!run) continue;
        const name = engine === 'minisearch' ? 'MiniSearch' : 'Orama';
        const at = `at ${sr.size.toLocaleString('en-US')}`;
        if (!run.result) {
          out.push({ goal: `ahead of ${name} ${at}`, met: true, value: `${name} did not finish (${run.reason})` });
          continue;
        }
        const ps = stats(run.result.keywordMs);
        out.push({ goal: `keyword p50/p95 ahead of ${name} ${at} (full API path)`, met: pbFull.p50 < ps.p50 && pbFull.p95 < ps.p95, value: `${fmt(pbFull.p50, 2)}/${fmt(pbFull.p95, 2)} vs ${fmt(ps.p50, 2)}/${fmt(ps.p95, 2)} ms` });
        out.push({ goal: `keyword p50/p95 ahead of ${name} ${at} (ranking only)`, met: pbRank.p50 < ps.p50 && pbRank.p95 < ps.p95, value: `${fmt(pbRank.p50, 2)}/${fmt(pbRank.p95, 2)} vs ${fmt(ps.p50, 2)}/${fmt(ps.p95, 2)} ms` });
        const peerRss = run.peakRssMb ?? run.result.rss.hwm;
        out.push({ goal: `keyword RSS below ${name} ${at}`, met: pbRss < peerRss, value: `${fmt(pbRss, 0)} vs ${fmt(peerRss, 0)} MB` });
        if (run.result.vectorMs && pb.vector) {
          const ov = stats(run.result.vectorMs);
          const pf = stats(pb.vector.floatMs);
          const pq = stats(pb.vector.int8Ms);
          out.push({ goal: `vector p95 ahead of ${name} ${at} (float32 · int8)`, met: pf.p95 < ov.p95 && pq.p95 < ov.p95, value: `${fmt(pf.p95, 2)} · ${fmt(pq.p95, 2)} vs ${fmt(ov.p95, 2)} ms` });
        }
        if (!run.ok && pb.vector && (!run.result.vectorMs || !run.result.hybridMs)) {
          out.push({ goal: `vector/hybrid ahead of ${name} ${at}`, met: true, value: `${name} did not finish (${run.reason})` });
        }
        if (run.result.hybridMs && pb.vector) {
          const oh = stats(run.result.hybridMs);
          const ph = stats(pb.vector.hybridMs);
          out.push({ goal: `hybrid p50/p95 ahead of ${name} ${at}`, met: ph.p50 < oh.p50 && ph.p95 < oh.p95, value: `${fmt(ph.p50, 2)}/${fmt(ph.p95, 2)} vs ${fmt(oh.p50, 2)}/${fmt(oh.p95, 2)} ms` });
        }
        if (run.result.buildS !== undefined) {
          out.push({ goal: `build ahead of ${name} ${at}`, met: sr.database.insertSeconds < run.result.buildS, value: `${fmt(sr.database.insertSeconds, 1)} vs ${fmt(run.result.buildS, 1)} s` });
        }
      }
    }
  }
  return out;
}

function slowQueries(results: SizeResult[], queries: BenchQuery[]) {
  const last = [...results].reverse().find((r) => r.paperboy?.result);
  const pb = last?.paperboy?.result;
  if (!pb) return [];
  return pb.keyword.full
    .map((s, i) => ({ ...s, text: queries[i]!.text, category: queries[i]!.category }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 10);
}

await main();
