/**
 * `npm run bench:web [-- --seconds 10 --connections 50 …]`: paperboy's web server under load at
 * 100,000 papers, against a ceiling.
 *
 * The database: bench/search.ts's cached corpus database (bench/search-build.ts), copied, migrated
 * and given Daily-Papers-like activity and trending scores (bench/web-prepare.ts; cached too), so
 * the home page lists real trending papers. Each run serves a fresh copy of it.
 *
 * Two child processes, so that autocannon's own CPU does not share their event loop:
 *   - paperboy (bench/web-server.ts): createApp + buildServer as `paperboy serve` builds them,
 *     without scheduler or embedder, the global rate limit lifted (PAPERBOY_RATE_LIMIT=0; with
 *     --rate-limit N it stays on and every request comes from its own x-forwarded-for address);
 *   - the ceiling (bench/web-ceiling.ts): bare Fastify answering each route with one real response
 *     of paperboy's, byte for byte, with the same content type.
 * Routes, each hit with varied requests spread over the connections: `/`, `/search?q=` and
 * `/api/search?q=` (a shuffled stream of 20,000 queries in bench/search.ts's mix, with the repeats
 * that mix has: paperboy caches answers for 30 s), `/paper/:id` (1,000 papers, half of them
 * trending, their similar lists cached as the server's similar job leaves them), plus `/` as a
 * first visit (no cookie: the server mints one). Other requests come as a returning visitor (the
 * cookie the first page set) who has voted for none of the listed papers. Per route, paperboy first, then its ceiling: one autocannon run
 * whose first seconds (the warm-up) are not counted, so the figures are the steady state on open
 * connections: a saturated Node server accepts 50 new connections only a few per event-loop turn,
 * which puts a second or more on the first responses (reported apart, as the ramp). Then an open-
 * loop run at half the saturated requests/s (bench/web-load.ts paced): the latency below
 * saturation, since at 50 busy connections a one-core server's latency is 50 × its time per
 * request whatever else it does.
 *
 * Also the server-side render time in-process (server.inject, no sockets): 200 home pages and
 * the other routes (search: bench/search.ts's 200 queries, each asked once, so uncached), before
 * the server starts listening.
 *
 * Goals: `/` at ≥ 50% of its ceiling's requests/s; p99 < 50 ms at 50 connections on every route;
 * home page render p95 < 20 ms at 100k.
 *
 * Flags:
 *   --size N            papers                                   default 100000
 *   --seed S            corpus and activity seed                 default 1
 *   --seconds S         measured seconds per route and server    default 10
 *   --warmup S          warm-up seconds before each measurement  default 2
 *   --connections N                                              default 50
 *   --render N          in-process renders per route             default 200
 *   --routes LIST       home,first-visit,search,paper,api-search default all
 *   --rate-limit N      keep the per-address limit at N/min (requests then rotate addresses)
 *   --data DIR          the shared data folder                   default ../shared/data
 * Results: tables on stdout, everything in bench/out/web.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { paperHref } from '../src/web/views/components.ts';
import { CorpusGenerator, DEFAULT_DATA_DIR, loadSources, makeQueries, prng } from './corpus.ts';
import type { CeilingRoute } from './web-ceiling.ts';
import { load, paced, rssOf, serve, type LoadResult, type PacedResult } from './web-load.ts';
import { ensurePrepared, prepareRun } from './web-prepare.ts';
import type { RenderSpec, ServerHello } from './web-server.ts';
import { ensureDatabase } from './search-build.ts';
import { OUT, round, stats, type Stats, flags } from './search-lib.ts';

const GOALS = { homeShareOfCeiling: 0.5, p99Ms: 50, homeRenderP95Ms: 20 };
/** Search queries under load (with the repeats of the query mix). */
const STREAM = 20_000;
/** The open-loop run goes at this share of the saturated requests/s. */
const PACED_SHARE = 0.5;

const ROUTE_NAMES = ['home', 'first-visit', 'search', 'paper', 'api-search'] as const;
type RouteName = (typeof ROUTE_NAMES)[number];

interface Route {
  name: RouteName;
  label: string;
  /** Its ceiling's Fastify route (the first visit shares the home page's). */
  ceiling: string | null;
  /** The saturated runs' requests, the open-loop run's (disjoint, for search: answers are cached), the in-process ones and their warm-up. */
  paths: string[];
  pacedPaths: string[];
  renderPaths: string[];
  renderWarmup: string[];
  cookie: boolean;
}

interface Options {
  size: number;
  seed: number;
  seconds: number;
  warmupS: number;
  connections: number;
  render: number;
  routes: RouteName[];
  rateLimit: number;
  data: string;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { size: 100_000, seed: 1, seconds: 10, warmupS: 2, connections: 50, render: 200, routes: [...ROUTE_NAMES], rateLimit: 0, data: DEFAULT_DATA_DIR };
  for (const { arg: a, flag, value, num } of flags(argv)) {
    switch (flag) {
      case '--size':
        o.size = num();
        break;
      case '--seed':
        o.seed = num();
        break;
      case '--seconds':
        o.seconds = num();
        break;
      case '--warmup':
        o.warmupS = num();
        break;
      case '--connections':
        o.connections = num();
        break;
      case '--render':
        o.render = num();
        break;
      case '--routes':
        o.routes = value().split(',') as RouteName[];
        break;
      case '--rate-limit':
        o.rateLimit = num();
        break;
      case '--data':
        o.data = path.resolve(value());
        break;
      default:
        throw new Error(`bench: unknown argument ${JSON.stringify(a)}`);
    }
  }
  for (const r of o.routes) if (!ROUTE_NAMES.includes(r)) throw new Error(`bench: unknown route ${r} (${ROUTE_NAMES.join(', ')})`);
  for (const [k, v] of Object.entries({ size: o.size, seconds: o.seconds, connections: o.connections, render: o.render })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`bench: --${k} takes a whole number ≥ 1`);
  }
  if (!(o.warmupS >= 0) || !Number.isInteger(o.rateLimit) || o.rateLimit < 0) throw new Error('bench: --warmup and --rate-limit take numbers ≥ 0');
  return o;
}

// ---------------------------------------------------------------------------------------------
// Report

const fmt = (n: number | null | undefined, digits = 1) =>
  n === null || n === undefined || Number.isNaN(n) ? '—' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

interface RouteResult {
  route: RouteName;
  label: string;
  paths: number;
  bodyBytes: number;
  contentType: string;
  paperboy: LoadResult;
  /** Open loop at PACED_SHARE of paperboy's saturated requests/s, and the ceiling at the same rate (the load generator's floor). */
  paced: PacedResult;
  pacedCeiling: PacedResult | null;
  ceiling: LoadResult | null;
  /** paperboy's requests/s as a share of its ceiling's. */
  share: number | null;
  /** The same from server CPU per request (ceiling's / paperboy's): what the share would be were both servers CPU-bound. */
  cpuShare: number | null;
}

/** Server CPU microseconds per answered request. */
const usPerRequest = (r: LoadResult | null | undefined) => (r && r.serverCpu !== null && r.rps > 0 ? (r.serverCpu / r.rps) * 1e6 : null);

function loadTable(results: RouteResult[]): string {
  const rows = [['route', 'KB', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'server CPU', 'µs/req', 'ramp s', 'ceiling req/s', 'p50 ms', 'p99 ms', 'CPU srv/gen', 'µs/req', 'of ceiling', 'by CPU', 'non-2xx/err', 'other CPU']];
  const pc = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${fmt(x * 100, 0)}%`);
  for (const r of results) {
    const p = r.paperboy;
    const c = r.ceiling;
    rows.push([
      r.label,
      fmt(r.bodyBytes / 1024, 1),
      fmt(p.rps, 0),
      fmt(p.p50, 1),
      fmt(p.p90, 1),
      fmt(p.p99, 1),
      pc(p.serverCpu),
      fmt(usPerRequest(p), 0),
      p.rampS === null ? '>60' : fmt(p.rampS, 1),
      fmt(c?.rps, 0),
      fmt(c?.p50, 1),
      fmt(c?.p99, 1),
      c ? `${pc(c.serverCpu)}/${pc(c.loadCpu)}` : '—',
      fmt(usPerRequest(c), 0),
      r.share === null ? '—' : `${fmt(r.share * 100, 0)}%`,
      r.cpuShare === null ? '—' : `${fmt(r.cpuShare * 100, 0)}%`,
      `${p.non2xx + p.errors}${c ? `/${c.non2xx + c.errors}` : ''}`,
      fmt(Math.max(p.otherCpu ?? 0, c?.otherCpu ?? 0), 2),
    ]);
  }
  return table(rows);
}

function pacedTable(results: RouteResult[]): string {
  const rows = [[`open loop at ${PACED_SHARE * 100}% of the saturated req/s`, 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'CPU srv/gen', 'ceiling p50', 'p99', 'max', 'failed']];
  for (const r of results) {
    const h = r.paced;
    const c = r.pacedCeiling;
    rows.push([
      r.label,
      fmt(h.rps, 0),
      fmt(h.p50, 1),
      fmt(h.p90, 1),
      fmt(h.p99, 1),
      fmt(h.max, 1),
      `${h.serverCpu === null ? '—' : `${fmt(h.serverCpu * 100, 0)}%`}/${fmt(h.loadCpu * 100, 0)}%`,
      fmt(c?.p50, 1),
      fmt(c?.p99, 1),
      fmt(c?.max, 1),
      `${h.failed}${c ? `/${c.failed}` : ''}`,
    ]);
  }
  return table(rows);
}

interface RenderRow {
  name: string;
  stats: Stats;
  statuses: Record<string, number>;
  bytes: number;
}

function renderTable(rows: RenderRow[]): string {
  const out = [['in-process render (server.inject)', 'n', 'p50 ms', 'p95 ms', 'p99 ms', 'mean ms', 'max ms', 'KB', 'statuses']];
  for (const r of rows) {
    const s = r.stats;
    const statuses = Object.entries(r.statuses).map(([k, v]) => `${k}×${v}`).join(' ');
    out.push([r.name, String(s.n), fmt(s.p50, 2), fmt(s.p95, 2), fmt(s.p99, 2), fmt(s.mean, 2), fmt(s.max, 1), fmt(r.bytes / 1024, 1), statuses]);
  }
  return table(out);
}

interface Goal {
  goal: string;
  met: boolean | null;
  value: string;
}

function goalChecks(results: RouteResult[], render: RenderRow[], size: number, connections: number): Goal[] {
  const goals: Goal[] = [];
  const home = results.find((r) => r.route === 'home');
  goals.push({
    goal: `/ at ≥ ${GOALS.homeShareOfCeiling * 100}% of its ceiling's requests/s`,
    met: home?.share === null || home?.share === undefined ? null : home.share >= GOALS.homeShareOfCeiling,
    value: home?.ceiling
      ? `${fmt(home.paperboy.rps, 0)} vs ${fmt(home.ceiling.rps, 0)} req/s (${fmt((home.share ?? 0) * 100, 0)}%; by server CPU per request ${home.cpuShare === null ? '—' : `${fmt(home.cpuShare * 100, 0)}%`}${home.ceiling.loadCpu >= 0.9 ? '; the ceiling run was bound by the load generator' : ''})`
      : '—',
  });
  for (const r of results) {
    const clean = r.paperboy.non2xx + r.paperboy.errors === 0;
    goals.push({
      goal: `p99 < ${GOALS.p99Ms} ms at ${connections} connections on ${r.label}`,
      met: r.paperboy.p99 < GOALS.p99Ms && clean,
      value: `${fmt(r.paperboy.p99, 0)} ms${clean ? '' : ` (with ${r.paperboy.non2xx} non-2xx, ${r.paperboy.errors} errors)`} (saturated, ${fmt(r.paperboy.rps, 0)} req/s; at ${fmt(r.paced.rate, 0)} req/s open loop: ${fmt(r.paced.p99, 1)} ms)`,
    });
  }
  const h = render.find((r) => r.name === '/');
  goals.push({
    goal: `home page render p95 < ${GOALS.homeRenderP95Ms} ms at ${size.toLocaleString('en-US')} papers (in-process)`,
    met: h ? h.stats.p95 < GOALS.homeRenderP95Ms : null,
    value: h ? `${fmt(h.stats.p95, 2)} ms (p50 ${fmt(h.stats.p50, 2)} ms)` : '—',
  });
  return goals;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = performance.now();
  const o = parseOptions(process.argv.slice(2));
  const log = (s: string) => console.log(s);
  const cpus = os.cpus();
  log(`bench:web — ${o.size.toLocaleString('en-US')} papers, ${o.connections} connections, ${o.seconds} s per route after ${o.warmupS} s of warm-up; ${cpus.length} CPUs (${cpus[0]?.model ?? '?'}), node ${process.version}`);
  const dir = path.join(OUT, 'web');
  mkdirSync(dir, { recursive: true });

  const sources = loadSources(o.data);
  const database = await ensureDatabase(o.size, o.seed, sources, log);
  const prepared = await ensurePrepared(database.file, o.size, o.seed, log);
  const t = performance.now();
  const runDb = prepareRun(prepared);
  log(`database: ${path.relative(process.cwd(), prepared.file)} (${Math.round(prepared.bytes / 2 ** 20)} MB; ${prepared.info.featured.toLocaleString('en-US')} featured papers, ${prepared.info.trending.toLocaleString('en-US')} with a trending score), served from a fresh copy (${round((performance.now() - t) / 1000, 1)} s)`);

  // Search: in-process, bench/search.ts's 200 queries, each asked once (so never answered from the
  // server's answer cache), after 20 other ones; under load, a stream of 20,000 queries in the same
  // mix, shuffled, with the repeats that mix has (the 30 common phrases, SciFact claims…), half for
  // the saturated runs and half for the open-loop one.
  const gen = new CorpusGenerator(sources, o.seed);
  const queries = makeQueries(gen, o.seed, 200);
  const warmQueries = makeQueries(gen, o.seed + 99, 20);
  const stream = makeQueries(gen, o.seed + 1, STREAM).map((x) => x.text);
  const rnd = prng(o.seed * 31 + 7);
  for (let i = stream.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [stream[i], stream[j]] = [stream[j]!, stream[i]!];
  }
  const seen = new Set<string>();
  const repeats = stream.filter((t) => seen.has(t) || (seen.add(t), false)).length;
  const half = stream.length / 2;
  const q = (prefix: string, texts: readonly string[]) => texts.map((x) => `${prefix}?q=${encodeURIComponent(x)}`);
  const search = (name: RouteName, label: string, prefix: string): Route => ({
    name,
    label,
    ceiling: prefix,
    paths: q(prefix, stream.slice(0, half)),
    pacedPaths: q(prefix, stream.slice(half)),
    renderPaths: q(prefix, queries.map((x) => x.text)),
    renderWarmup: q(prefix, warmQueries.map((x) => x.text)),
    cookie: true,
  });
  const same = (name: RouteName, label: string, ceiling: string | null, paths: string[], cookie: boolean): Route => ({ name, label, ceiling, paths, pacedPaths: paths, renderPaths: paths, renderWarmup: paths, cookie });
  const openedPaths = prepared.info.opened.map(paperHref);
  const allRoutes: Route[] = [
    same('home', '/', '/', ['/'], true),
    same('first-visit', '/ (first visit, no cookie)', null, ['/'], false),
    search('search', '/search?q=…', '/search'),
    same('paper', '/paper/:id', '/paper/*', openedPaths, true),
    search('api-search', '/api/search?q=…', '/api/search'),
  ];
  const routes = allRoutes.filter((r) => o.routes.includes(r.name));
  const repeatShare = round(repeats / stream.length, 3);
  if (routes.some((r) => r.name === 'search' || r.name === 'api-search')) {
    log(`search under load: a stream of ${STREAM.toLocaleString('en-US')} queries in bench/search.ts's mix, ${fmt(repeatShare * 100, 0)}% of them repeats of an earlier one (paperboy caches answers for 30 s)`);
  }

  // ------------------------------------------------------------------ paperboy, in-process first
  const specs: RenderSpec[] = [];
  const warmup = Math.min(20, o.render);
  for (const r of routes) {
    specs.push({ name: r.label.replace('?q=…', ''), paths: r.renderPaths, n: Math.min(o.render, r.renderPaths.length > 1 ? r.renderPaths.length : o.render), warmup, warmupPaths: r.renderWarmup, cookie: r.cookie });
    if (r.name === 'paper') {
      specs.push({ name: '/paper/:id (first view: similar papers computed)', paths: prepared.info.uncached.map(paperHref), n: prepared.info.uncached.length, warmup: 0, cookie: true });
    }
  }
  const specFile = path.join(dir, 'render-spec.json');
  writeFileSync(specFile, JSON.stringify(specs));
  // The server's data folder (it only keeps its secret key there).
  const dataDir = path.join(dir, 'data');
  log('starting paperboy (and timing in-process renders) …');
  const pb = await serve<ServerHello>('bench/web-server.ts', ['--db', runDb, '--data', dataDir, '--spec', specFile, '--rate-limit', String(o.rateLimit)], 600);
  const cookie = pb.hello.cookie;
  const render: RenderRow[] = pb.hello.render.map((r) => ({ name: r.name, stats: stats(r.ms), statuses: r.statuses, bytes: r.bytes }));
  log(`paperboy listening on ${pb.hello.port} (started in ${fmt(pb.hello.startMs, 0)} ms, first home page ${fmt(pb.hello.firstHomeMs, 0)} ms)\n`);
  log(renderTable(render));

  // ------------------------------------------------------------------ one real body per route, for the ceiling
  const accept = 'text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8';
  const bodies = new Map<RouteName, { file: string; contentType: string; bytes: number }>();
  const ceilingRoutes: CeilingRoute[] = [];
  for (const r of routes) {
    if (!r.ceiling) continue;
    const res = await fetch(`http://127.0.0.1:${pb.hello.port}${r.paths[0]}`, { headers: { accept, cookie }, redirect: 'manual' });
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) throw new Error(`bench: ${r.paths[0]} answered ${res.status}: ${body.toString('utf8', 0, 300)}`);
    const contentType = res.headers.get('content-type') ?? 'application/octet-stream';
    const file = path.join(dir, `body-${r.name}.bin`);
    writeFileSync(file, body);
    bodies.set(r.name, { file, contentType, bytes: body.byteLength });
    ceilingRoutes.push({ route: r.ceiling, file, contentType });
  }
  const ceilingSpec = path.join(dir, 'ceiling-spec.json');
  writeFileSync(ceilingSpec, JSON.stringify(ceilingRoutes));
  const ceiling = await serve<{ port: number }>('bench/web-ceiling.ts', ['--spec', ceilingSpec], 60);

  // ------------------------------------------------------------------ load
  log(`\nload: ${o.connections} connections${o.rateLimit ? `, rate limit ${o.rateLimit}/min kept on, requests from rotating x-forwarded-for addresses` : ', rate limit lifted (PAPERBOY_RATE_LIMIT=0)'}`);
  const results: RouteResult[] = [];
  let serverRss: ReturnType<typeof rssOf> | undefined;
  try {
    for (const r of routes) {
      const headers = { accept, ...(r.cookie ? { cookie } : {}) };
      const common = { paths: r.paths, connections: o.connections, headers, ...(o.rateLimit ? { addresses: 65_536 } : {}) };
      const body = bodies.get(r.name) ?? bodies.get('home');
      const paperboy = await load({ ...common, port: pb.hello.port, seconds: o.seconds, warmup: o.warmupS, serverPid: pb.pid });
      const rate = Math.max(1, Math.round(paperboy.rps * PACED_SHARE));
      const pacedSeconds = Math.max(3, Math.round(o.seconds / 2));
      const half = await paced({ port: pb.hello.port, paths: r.pacedPaths, connections: o.connections, headers, rate, seconds: pacedSeconds, serverPid: pb.pid });
      const halfCeiling = r.ceiling ? await paced({ port: ceiling.hello.port, paths: r.pacedPaths, connections: o.connections, headers, rate, seconds: pacedSeconds, serverPid: ceiling.pid }) : null;
      let ceilingRun: LoadResult | null = null;
      const home = results.find((x) => x.route === 'home');
      if (r.ceiling) ceilingRun = await load({ ...common, port: ceiling.hello.port, seconds: o.seconds, warmup: Math.min(1, o.warmupS), serverPid: ceiling.pid });
      else if (r.name === 'first-visit' && home) ceilingRun = home.ceiling;
      const share = ceilingRun && ceilingRun.rps > 0 ? round(paperboy.rps / ceilingRun.rps, 3) : null;
      const pbUs = usPerRequest(paperboy);
      const ceilUs = usPerRequest(ceilingRun);
      const cpuShare = pbUs && ceilUs ? round(ceilUs / pbUs, 3) : null;
      results.push({ route: r.name, label: r.label, paths: r.paths.length, bodyBytes: body?.bytes ?? 0, contentType: body?.contentType ?? '', paperboy, paced: half, pacedCeiling: halfCeiling, ceiling: ceilingRun, share, cpuShare });
      const c = ceilingRun ? ` | ceiling ${fmt(ceilingRun.rps, 0)} req/s, p99 ${fmt(ceilingRun.p99, 1)} ms${share !== null ? ` (${fmt(share * 100, 0)}%)` : ''}` : '';
      log(`  ${r.label.padEnd(28)} ${fmt(paperboy.rps, 0).padStart(7)} req/s, p50 ${fmt(paperboy.p50, 1)} ms, p99 ${fmt(paperboy.p99, 1)} ms, server CPU ${fmt((paperboy.serverCpu ?? NaN) * 100, 0)}%, ramp ${paperboy.rampS ?? '>60'} s${c}; at ${fmt(half.rate, 0)} req/s: p50 ${fmt(half.p50, 1)} ms, p99 ${fmt(half.p99, 1)} ms`);
      const bad = Object.entries(paperboy.statusCodes).filter(([k]) => !k.startsWith('2'));
      if (bad.length || paperboy.errors) log(`    non-2xx: ${bad.map(([k, v]) => `${k}×${v}`).join(' ') || 'none'}; errors ${paperboy.errors}`);
    }
  } finally {
    serverRss = rssOf(pb.pid);
    await Promise.all([pb.stop(), ceiling.stop()]);
  }

  // ------------------------------------------------------------------ summary
  const seconds = (performance.now() - started) / 1000;
  log(`\n==== Summary (${round(seconds / 60, 1)} min) ====\n`);
  log(loadTable(results));
  log(
    `\nreq/s: 2xx responses per second, and their latency, over ${o.seconds} s measured after ${o.warmupS} s of warm-up on the same ` +
      `${o.connections} open connections. Server CPU: the server process over that window (100% = one core of ${cpus.length}). ` +
      'Ceiling: bare Fastify sending one real response of that route byte for byte; CPU srv/gen: its server and the load ' +
      'generator (autocannon, one thread, in this process). Other CPU: cores used by anything else meanwhile (should be ~0).',
  );
  const busy = results.filter((r) => Math.max(r.paperboy.otherCpu ?? 0, r.ceiling?.otherCpu ?? 0) > 0.15);
  if (busy.length) {
    log(`WARNING: other work used the machine during ${busy.map((r) => `${r.label} (${fmt(Math.max(r.paperboy.otherCpu ?? 0, r.ceiling?.otherCpu ?? 0), 2)} cores)`).join(', ')}: those figures are low.`);
  }
  const genBound = results.filter((r) => r.ceiling && r.ceiling.loadCpu >= 0.9 && (r.ceiling.serverCpu ?? 0) < 0.9);
  if (genBound.length) {
    log(
      `The ceiling of ${genBound.map((r) => r.label).join(', ')} is bounded by the load generator (its one core is busy, the bare server's is not): ` +
        'a lower bound, so "of ceiling" there is an upper bound. "By CPU" compares server CPU per request instead (bare route\'s µs / paperboy\'s µs): ' +
        'the share paperboy would reach were both servers the bottleneck.',
    );
  }
  log(
    `Ramp: seconds until each of the ${o.connections} connections, opened at once, had paperboy's first response (the measured window ` +
      'starts after it): a saturated Node server accepts new connections a few per event-loop turn. Slowest response during the ' +
      `warm-ups: ${fmt(Math.max(...results.map((r) => r.paperboy.warmupMax)), 0)} ms.`,
  );
  log('\n' + pacedTable(results));
  log(
    `Open loop: requests sent at a steady rate whatever the answers (keep-alive, ≤ ${o.connections} sockets), latency from when each ` +
      `was due; ${Math.max(3, Math.round(o.seconds / 2))} s after 1 s. The ceiling columns: the same requests at the same rate to the bare server, i.e. ` +
      `the load generator's own floor. At ${o.connections} busy connections a one-core server's latency is ${o.connections} × its time per ` +
      "request (Little's law), so the saturated p99 mostly measures throughput; this is the latency below saturation.",
  );
  log('\n' + renderTable(render));
  log(`\npaperboy RSS at the end: ${fmt(serverRss?.rssMb, 0)} MB (peak ${fmt(serverRss?.hwmMb, 0)} MB)`);
  const goals = goalChecks(results, render, o.size, o.connections);
  log('\nGoals:');
  for (const g of goals) log(`  ${g.met === null ? 'n/a ' : g.met ? 'met ' : 'MISS'}  ${g.goal}: ${g.value}`);

  const { opened, uncached, ...preparedInfo } = prepared.info;
  const json = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model,
    memoryGb: round(os.totalmem() / 2 ** 30, 1),
    seconds: round(seconds, 1),
    options: { ...o, data: path.relative(process.cwd(), o.data) },
    database: {
      source: path.relative(process.cwd(), database.file),
      prepared: path.relative(process.cwd(), prepared.file),
      bytes: prepared.bytes,
      preparedSeconds: prepared.builtSeconds,
      ...preparedInfo,
      openedPapers: opened.length,
      uncachedPapers: uncached.length,
    },
    searchStream: { queries: STREAM, repeatShare },
    server: { startMs: pb.hello.startMs, firstHomeMs: pb.hello.firstHomeMs, rssMb: serverRss?.rssMb ?? null, peakRssMb: serverRss?.hwmMb ?? null, rateLimit: o.rateLimit },
    goals,
    load: results,
    render: render.map((r) => ({ name: r.name, ...r.stats, statuses: r.statuses, bytes: r.bytes })),
  };
  writeFileSync(path.join(OUT, 'web.json'), JSON.stringify(json, null, 2) + '\n');
  log(`\nwrote ${path.relative(process.cwd(), path.join(OUT, 'web.json'))} in ${round(seconds / 60, 1)} min`);
}

await main();
