/**
 * `npm run bench:scale [-- --quick | --subscribers N --papers N --pg URL …]`: how paperboy scales
 * out over processes (GitHub issue 6), every figure from one run on this machine:
 *
 * Digests — N subscribers (default 10,000) due at once, the same papers and subscribers in every
 * run (bench/digest-prepare.ts's database: the bundled demo's 450 papers, subscribers with 0–3
 * topics, 5–10 papers each). Each run starts from the same state (a fresh copy on SQLite; on
 * PostgreSQL the outbox emptied, the subscribers reset and VACUUM ANALYZE), starts the real CLI's
 * `paperboy worker` processes (leader-elected scheduler + a sender in each), waits until every one
 * is up and one leads, then makes the scheduler's `digest-schedule` job due: the leader creates one
 * outbox row per subscriber and every worker claims and sends them. digests/s = N ÷ (the newest
 * `sent_at` − the rows' `created_at`), both stamped by the workers: end to end, from the
 * scheduler creating the rows to the last one marked sent. Runs: SQLite × 1 process, PostgreSQL ×
 * 1, 2 and 4 processes, with the same settings (SMTP pool, sending lanes, DB pool) everywhere,
 * repeated `--repeat` times interleaved (the best run of each is the figure; all are kept).
 * Each run checks that every subscriber got the digest exactly once: rows sent = N, and at the
 * SMTP sink N messages with N distinct Message-IDs.
 * The SMTP sink (bench/digest-sink.ts) is a process of its own, so the bench process (which only
 * polls the database twice a second) takes no CPU from the workers; the sink's CPU is reported.
 *
 * Web — requests/s and latency of `paperboy serve` under autocannon (`--connections`, default 50,
 * closed loop, `--seconds` measured after `--warmup` on the same open connections) on two routes:
 * `/` (a returning visitor's home page) and `/api/search?q=…` (a shuffled stream of 20,000
 * queries in bench/search.ts's mix, with its repeats). At `--papers` papers (default 100,000:
 * bench/web.ts's prepared database, with trending activity), served by 1 process on SQLite (the
 * reference), then 1 and 2 processes on PostgreSQL (the same database copied with
 * `paperboy migrate-data`). With 2 processes each listens on its own port and the load is spread
 * by running two autocannon instances at once, half the connections each; requests/s are summed
 * and latency percentiles taken over every response of both. autocannon runs in this process.
 *
 * PostgreSQL: a throwaway PostgreSQL 15 (scripts/pg-temp.sh; fsync off), stopped at the end, also
 * on failure or Ctrl-C; or `--pg URL` (schemas scale_digests and scale_web are created, emptied
 * and dropped at the end). CPU is reported per party (workers / servers, PostgreSQL, sink, this
 * process, everything else on the machine), and the load average before each run: other work on
 * the machine skews the figures, and the output says how much there was.
 *
 * Flags:
 *   --subscribers N   digests per run                                  default 10000 (quick 3000)
 *   --workers LIST    PostgreSQL worker counts                         default 1,2,4
 *   --repeat K        runs of each digest configuration (best counts)  default 1
 *   --pool N          SMTP_POOL_SIZE per worker                        default 5
 *   --concurrency N   PAPERBOY_DIGEST_CONCURRENCY per worker           default 10
 *   --db-pool N       PAPERBOY_DB_POOL (PostgreSQL connections/process) default 10
 *   --papers N        papers for the web part                          default 100000 (quick 10000)
 *   --web LIST        PostgreSQL web process counts                    default 1,2
 *   --seconds S       measured seconds per web run                     default 10 (quick 5)
 *   --warmup S        warm-up seconds per web run                      default 3 (quick 2)
 *   --connections N   autocannon connections in all                    default 50
 *   --pg URL          use this PostgreSQL instead of a throwaway one
 *   --skip-digests / --skip-web
 *   --quick           the short run (~3 min)
 *   --data DIR        the shared data folder (corpus sources)          default ../shared/data
 * Results: tables on stdout (also bench/out/scale.log), everything in bench/out/scale.json
 * (a --quick run: scale-quick.log / scale-quick.json).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { scheduledJobs } from '../src/cli/serve.ts';
import { loadConfig } from '../src/config/config.ts';
import { openDatabase } from '../src/db/connect.ts';
import type { Database } from '../src/db/sql.ts';
import { CorpusGenerator, DEFAULT_DATA_DIR, loadSources, makeQueries, prng } from './corpus.ts';
import { ensurePrepared as ensureDigestData } from './digest-prepare.ts';
import { ensureDatabase } from './search-build.ts';
import { OUT, ROOT, round, flags } from './search-lib.ts';
import { autocannon, cpuSeconds, machineBusySeconds, type AcClient, type AcInstance, type AcRequest } from './web-load.ts';
import { ensurePrepared as ensureWebData } from './web-prepare.ts';
import { Sink } from './sink-client.ts';

const BIN = path.join(ROOT, 'bin', 'paperboy.js');
const SECRET = 'bench-scale-secret-0123456789abcdef';
const BASE_URL = 'https://papers.example.org';
/** A process count "adds throughput" when it gives at least this much more than the one before. */
const GAIN = 1.1;
const STREAM = 20_000;

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  quick: boolean;
  subscribers: number;
  workers: number[];
  repeat: number;
  pool: number;
  concurrency: number;
  dbPool: number;
  papers: number;
  web: number[];
  seconds: number;
  warmup: number;
  connections: number;
  pg: string | undefined;
  digests: boolean;
  webPart: boolean;
  data: string;
  seed: number;
}

function parseOptions(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const o: Options = {
    quick,
    subscribers: quick ? 3000 : 10_000,
    workers: [1, 2, 4],
    repeat: 1,
    pool: 5,
    concurrency: 10,
    dbPool: 10,
    papers: quick ? 10_000 : 100_000,
    web: [1, 2],
    seconds: quick ? 5 : 10,
    warmup: quick ? 2 : 3,
    connections: 50,
    pg: undefined,
    digests: true,
    webPart: true,
    data: DEFAULT_DATA_DIR,
    seed: 1,
  };
  for (const { arg: a, flag, value, num } of flags(argv)) {
    const list = () => value().split(',').map((x) => Number(x.trim()));
    switch (flag) {
      case '--quick':
        break;
      case '--subscribers':
        o.subscribers = num();
        break;
      case '--workers':
        o.workers = list();
        break;
      case '--repeat':
        o.repeat = num();
        break;
      case '--pool':
        o.pool = num();
        break;
      case '--concurrency':
        o.concurrency = num();
        break;
      case '--db-pool':
        o.dbPool = num();
        break;
      case '--papers':
        o.papers = num();
        break;
      case '--web':
        o.web = list();
        break;
      case '--seconds':
        o.seconds = num();
        break;
      case '--warmup':
        o.warmup = num();
        break;
      case '--connections':
        o.connections = num();
        break;
      case '--pg':
        o.pg = value();
        break;
      case '--skip-digests':
        o.digests = false;
        break;
      case '--skip-web':
        o.webPart = false;
        break;
      case '--data':
        o.data = path.resolve(value());
        break;
      case '--help': {
        // The comment at the top of this file is the help.
        const text = readFileSync(new URL(import.meta.url), 'utf8');
        process.stdout.write(`${(/^\/\*\*\n([\s\S]*?)\n \*\//.exec(text)?.[1] ?? '').replace(/^ \* ?/gm, '')}\n`);
        return process.exit(0);
      }
      default:
        throw new Error(`bench: unknown argument ${JSON.stringify(a)} (see --help)`);
    }
  }
  const whole = { subscribers: o.subscribers, repeat: o.repeat, pool: o.pool, concurrency: o.concurrency, 'db-pool': o.dbPool, papers: o.papers, seconds: o.seconds, connections: o.connections };
  for (const [k, v] of Object.entries(whole)) if (!Number.isInteger(v) || v < 1) throw new Error(`bench: --${k} takes a whole number ≥ 1`);
  for (const [k, v] of Object.entries({ workers: o.workers, web: o.web })) {
    if (!v.length || v.some((x) => !Number.isInteger(x) || x < 1 || x > 32)) throw new Error(`bench: --${k} takes a list of process counts from 1 to 32`);
    v.sort((a, b) => a - b);
  }
  if (!(o.warmup >= 0)) throw new Error('bench: --warmup takes a number ≥ 0');
  if (o.pg && !/^postgres(ql)?:\/\//.test(o.pg)) throw new Error('bench: --pg takes a postgres:// URL');
  return o;
}

// ---------------------------------------------------------------------------------------------
// Logging, formatting

const logName = (quick: boolean) => path.join(OUT, quick ? 'scale-quick.log' : 'scale.log');
let logLines: string[] = [];
let logFile = '';
function log(s: string): void {
  console.log(s);
  logLines.push(s);
  if (logFile) writeFileSync(logFile, logLines.join('\n') + '\n');
}

const fmt = (n: number | null | undefined, digits = 1) =>
  n === null || n === undefined || Number.isNaN(n) ? '—' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function table(rows: string[][], left = 1): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c < left ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function uptime(): string {
  try {
    return execFileSync('uptime', [], { encoding: 'utf8' }).trim();
  } catch {
    return `load average: ${os.loadavg().map((x) => x.toFixed(2)).join(', ')}`;
  }
}

const load1 = () => round(os.loadavg()[0]!, 2);

function gitState(): { head: string | null; changedSrc: string[] } {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const changed = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return { head, changedSrc: changed.split('\n').filter(Boolean).map((l) => l.slice(3)) };
  } catch {
    return { head: null, changedSrc: [] };
  }
}

// ---------------------------------------------------------------------------------------------
// Children: every process this bench starts, killed on the way out whatever happens

const children = new Set<ChildProcess>();
let pgDir: string | undefined;
const runRoot = path.join(OUT, `scale-run-${process.pid}`);

function cleanupSync(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
  if (pgDir) {
    try {
      execFileSync('bash', [path.join(ROOT, 'scripts', 'pg-temp.sh'), 'stop', pgDir], { stdio: 'ignore' });
    } catch {
      // already gone
    }
    pgDir = undefined;
  }
  rmSync(runRoot, { recursive: true, force: true });
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    console.error(`\nbench: ${sig}: stopping every child and the throwaway PostgreSQL …`);
    cleanupSync();
    process.exit(130);
  });
}
process.on('exit', cleanupSync);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  log: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `node bin/paperboy.js …args` with only the given environment (plus PATH, HOME, TMPDIR). */
function startPaperboy(name: string, args: string[], env: Record<string, string>): Proc {
  const base: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR']) if (process.env[k] !== undefined) base[k] = process.env[k]!;
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...base, PAPERBOY_DEMO: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const lines: string[] = [];
  const collect = (stream: NodeJS.ReadableStream) => {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => {
      buf += c;
      const parts = buf.split('\n');
      buf = parts.pop()!;
      for (const l of parts) {
        lines.push(l);
        if (lines.length > 400) lines.splice(0, 200);
      }
    });
  };
  collect(child.stdout!);
  collect(child.stderr!);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  return { name, child, pid: child.pid!, log: lines, exited };
}

async function stopProcs(procs: readonly Proc[]): Promise<void> {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await Promise.all(
    procs.map(async (p) => {
      const t = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
      await p.exited;
      clearTimeout(t);
    }),
  );
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number, procs: readonly Proc[] = []): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    const dead = procs.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    if (dead) throw new Error(`bench: ${dead.name} exited while waiting for ${what}\n  ${dead.log.slice(-10).join('\n  ')}`);
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}\n${procs.map((p) => `${p.name}:\n  ${p.log.slice(-6).join('\n  ')}`).join('\n')}`);
    await sleep(50);
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

interface Pg {
  url: string;
  /** The postmaster's pid (a throwaway server of ours): PostgreSQL's CPU is its and its children's. */
  postmaster: number | null;
  own: boolean;
}

async function startPg(o: Options): Promise<Pg> {
  if (o.pg) return { url: o.pg, postmaster: null, own: false };
  const dir = path.join(os.tmpdir(), `paperboy-scale-pg-${process.pid}`);
  const port = await freePort();
  pgDir = dir;
  const url = execFileSync('bash', [path.join(ROOT, 'scripts', 'pg-temp.sh'), 'start', dir, String(port)], { encoding: 'utf8' }).trim().split('\n').at(-1)!;
  let postmaster: number | null;
  try {
    postmaster = Number(readFileSync(path.join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    postmaster = null;
  }
  return { url, postmaster, own: true };
}

function withSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('schema', schema);
  return u.toString();
}

/** CPU seconds of the postmaster and its children, those that have exited included (Linux /proc). */
function pgCpuSeconds(postmaster: number | null): number | null {
  if (postmaster === null) return null;
  const parse = (pid: string) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    } catch {
      return null;
    }
  };
  const own = parse(String(postmaster));
  if (!own) return null;
  // utime, stime, cutime, cstime (children waited for: the connections that have closed).
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || e === String(postmaster)) continue;
    const f = parse(e);
    if (f && Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / 100;
}

/** `paperboy migrate-data` from a SQLite file into a PostgreSQL schema (emptied first). */
async function migrateInto(from: string, to: string, what: string): Promise<{ seconds: number; rows: number | null }> {
  const t = performance.now();
  const p = startPaperboy(`migrate-data ${what}`, ['migrate-data', '--from', `sqlite:${from}`, '--to', to, '--force', '--no-progress', '--json'], { PAPERBOY_DATA_DIR: path.join(runRoot, 'migrate'), LOG_LEVEL: 'warn', SECRET_KEY: SECRET });
  let shown = performance.now();
  const timer = setInterval(() => {
    if (performance.now() - shown > 20_000) {
      shown = performance.now();
      log(`  … ${round((performance.now() - t) / 1000, 0)} s`);
    }
  }, 1000);
  const r = await p.exited;
  clearInterval(timer);
  if (r.code !== 0) throw new Error(`bench: migrate-data (${what}) failed (${r.code ?? r.signal})\n  ${p.log.slice(-20).join('\n  ')}`);
  let rows: number | null = null;
  const last = p.log.filter((l) => l.trim().startsWith('{')).at(-1);
  if (last) {
    try {
      rows = Number((JSON.parse(last) as { rows?: number }).rows ?? NaN);
    } catch {
      rows = null;
    }
  }
  return { seconds: round((performance.now() - t) / 1000, 1), rows };
}

// ---------------------------------------------------------------------------------------------
// The SMTP sink


// ---------------------------------------------------------------------------------------------
// CPU shares over a window

interface CpuMark {
  at: number;
  pids: Map<number, number | null>;
  pg: number | null;
  sink: number;
  self: NodeJS.CpuUsage;
  machine: number | null;
}

interface CpuShare {
  /** Average cores busy over the window: the measured processes (workers or servers), together. */
  measured: number | null;
  /** Per measured process. */
  perProcess: (number | null)[];
  postgres: number | null;
  sink: number | null;
  /** This process (polling; for web runs it is the load generator). */
  bench: number;
  /** Everything else on the machine (other work, the kernel's share not charged to these). */
  others: number | null;
  /** The whole machine. */
  machine: number | null;
}

function cpuMark(pids: readonly number[], pg: Pg | null, sinkCpu = 0): CpuMark {
  return {
    at: performance.now(),
    pids: new Map(pids.map((p) => [p, cpuSeconds(p)])),
    pg: pg ? pgCpuSeconds(pg.postmaster) : null,
    sink: sinkCpu,
    self: process.cpuUsage(),
    machine: machineBusySeconds(),
  };
}

function cpuShare(a: CpuMark, b: CpuMark, withSink: boolean): CpuShare {
  const wall = (b.at - a.at) / 1000;
  const per = [...a.pids.keys()].map((pid) => {
    const x = a.pids.get(pid);
    const y = b.pids.get(pid);
    return x === null || x === undefined || y === null || y === undefined ? null : (y - x) / wall;
  });
  const measured = per.some((x) => x === null) ? null : per.reduce<number>((s, x) => s + x!, 0);
  const postgres = a.pg !== null && b.pg !== null ? (b.pg - a.pg) / wall : null;
  const sink = withSink ? (b.sink - a.sink) / wall : null;
  const bench = (b.self.user + b.self.system - a.self.user - a.self.system) / 1e6 / wall;
  const machine = a.machine !== null && b.machine !== null ? (b.machine - a.machine) / wall : null;
  const others = machine === null ? null : Math.max(0, machine - (measured ?? 0) - (postgres ?? 0) - (sink ?? 0) - bench);
  const r2 = (x: number | null) => (x === null ? null : round(x, 2));
  return { measured: r2(measured), perProcess: per.map(r2), postgres: r2(postgres), sink: r2(sink), bench: round(bench, 2), others: r2(others), machine: r2(machine) };
}

const coresLine = (c: CpuShare, label: string) =>
  `${label} ${fmt(c.measured, 2)} · PG ${fmt(c.postgres, 2)}${c.sink !== null ? ` · sink ${fmt(c.sink, 2)}` : ''} · bench ${fmt(c.bench, 2)} · others ${fmt(c.others, 2)}`;

// ---------------------------------------------------------------------------------------------
// Digests

type DigestConfig = { db: 'sqlite' | 'postgres'; processes: number };
const configLabel = (c: DigestConfig) => `${c.db === 'sqlite' ? 'SQLite' : 'PostgreSQL'} × ${c.processes}`;

interface DigestRun {
  label: string;
  db: 'sqlite' | 'postgres';
  processes: number;
  repeat: number;
  ok: boolean;
  error?: string;
  subscribers: number;
  /** Seconds from the rows' created_at (the scheduler's run) to the newest sent_at. */
  seconds: number | null;
  digestsPerSecond: number | null;
  /** From the moment this bench made the job due to the last row seen sent (polled, ±0.25 s). */
  releaseToDoneSeconds: number | null;
  /** Seconds from making the job due to the rows' created_at (the leader's next tick). */
  scheduleDelaySeconds: number | null;
  /** Seconds the processes took to start (all up, one leading). */
  startSeconds: number;
  /** The CLI command line of each process. */
  command: string;
  rows: { total: number; sent: number; other: number; distinctSubscribers: number; distinctMessageIds: number } | null;
  sink: { messages: number; distinctMessageIds: number; withoutId: number; kbPerMessage: number | null } | null;
  exactlyOnce: boolean;
  cpu: CpuShare | null;
  load1Before: number;
  /** Digests each worker reported sending (its "sent a batch" log lines), when they could be read. */
  perWorker: (number | null)[];
}

interface DigestEnv {
  sink: Sink;
  pg: Pg | null;
  prepared: string;
  jobNames: string[];
  o: Options;
}

const FAR_FUTURE = '2999-01-01T00:00:00.000Z';
/** How a SQLite worker process is started (see digestRun). */
let sqliteWorkerArgs = ['worker'];
let sqliteWorkerNote: string | null = null;

/** Puts a database in the run's starting state: no digests, every confirmed subscriber due a minute ago, every job far off. */
async function resetDigestState(db: Database, jobNames: readonly string[]): Promise<void> {
  const now = Date.now();
  const today = new Date(now).toISOString().slice(0, 10);
  if (db.dialect === 'postgres') await db.exec('TRUNCATE digest_papers, digests');
  else {
    await db.run('DELETE FROM digest_papers');
    await db.run('DELETE FROM digests');
  }
  // Everyone in UTC, due a minute ago for today's (UTC) issue: their next issue is then tomorrow,
  // hours away, so each gets exactly one digest (in a zone already past midnight, tomorrow's local
  // issue would be due too, and rightly sent as a second digest).
  await db.run("UPDATE subscribers SET timezone = 'UTC', last_issue_date = NULL, next_due_at = ?, next_issue_date = ? WHERE status = 'confirmed'", [new Date(now - 60_000).toISOString(), today]);
  await db.run('DELETE FROM jobs');
  for (const name of jobNames) await db.run('INSERT INTO jobs (name, next_run_at) VALUES (?, ?)', [name, FAR_FUTURE]);
  if (db.dialect === 'postgres') for (const t of ['subscribers', 'digests', 'digest_papers', 'jobs']) await db.run(`VACUUM ANALYZE ${t}`);
  else await db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
}

function sentFromLogs(p: Proc): number | null {
  let n = 0;
  let seen = false;
  for (const l of p.log) {
    if (!l.includes('sent a batch')) continue;
    const m = /"sent":(\d+)/.exec(l) ?? /sent[=: ]+(\d+)/.exec(l);
    if (m) {
      n += Number(m[1]);
      seen = true;
    }
  }
  return seen ? n : null;
}

async function digestRun(env: DigestEnv, c: DigestConfig, repeat: number): Promise<DigestRun> {
  const { o, sink, pg } = env;
  const label = configLabel(c);
  const dir = path.join(runRoot, `digest-${c.db}-${c.processes}-${repeat}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let dbUrl: string | undefined;
  let database: Config['database'];
  if (c.db === 'sqlite') {
    const file = path.join(dir, 'paperboy.db');
    copyFileSync(env.prepared, file);
    database = { kind: 'sqlite', path: file };
  } else {
    dbUrl = withSchema(pg!.url, 'scale_digests');
    database = { kind: 'postgres', url: dbUrl, poolSize: 2 };
  }
  const db = openDatabase(database);
  const procs: Proc[] = [];
  const base: DigestRun = {
    label,
    db: c.db,
    processes: c.processes,
    repeat,
    ok: false,
    subscribers: o.subscribers,
    seconds: null,
    digestsPerSecond: null,
    releaseToDoneSeconds: null,
    scheduleDelaySeconds: null,
    startSeconds: 0,
    command: '',
    rows: null,
    sink: null,
    exactlyOnce: false,
    cpu: null,
    load1Before: load1(),
    perWorker: [],
  };
  try {
    await resetDigestState(db, env.jobNames);
    await sink.reset();
    const workerEnv: Record<string, string> = {
      PAPERBOY_DATA_DIR: dir,
      ...(dbUrl ? { DATABASE_URL: dbUrl } : {}),
      SMTP_URL: sink.url,
      SMTP_POOL_SIZE: String(o.pool),
      PAPERBOY_DIGEST_CONCURRENCY: String(o.concurrency),
      PAPERBOY_DB_POOL: String(o.dbPool),
      PAPERBOY_SCHEDULER_TICK_SECONDS: '0.5',
      PAPERBOY_SEND_POLL_SECONDS: '0.5',
      PAPERBOY_INGEST_SOURCES: 'none',
      PAPERBOY_EMBEDDER: 'none',
      LOG_LEVEL: 'info',
      SECRET_KEY: SECRET,
      BASE_URL,
    };
    const t0 = performance.now();
    const ready = () =>
      until(
        `${c.processes} worker(s) up and a leader`,
        () => procs.every((p) => p.log.some((l) => l.includes('worker:') && l.includes('started'))) && procs.some((p) => p.log.some((l) => l.includes('now runs the scheduler'))),
        120_000,
        procs,
      );
    const args = c.db === 'sqlite' ? sqliteWorkerArgs : ['worker'];
    for (let i = 0; i < c.processes; i++) procs.push(startPaperboy(`worker${i}`, args, { ...workerEnv, ...(args[0] === 'start' ? { HOST: '127.0.0.1', PORT: '0' } : {}) }));
    const exited13 = () => procs.some((p) => p.child.exitCode === 13);
    try {
      await ready();
      await sleep(1000);
      if (exited13()) throw new Error('a worker exited with code 13');
    } catch (err) {
      // `paperboy worker` on SQLite alone has nothing that holds Node's event loop open (its
      // timers are unref'd, SQLite has no sockets): it exits 13 at once. Same worker code with an
      // idle web role beside it, then.
      if (c.db !== 'sqlite' || args[0] !== 'worker' || !exited13()) throw err;
      sqliteWorkerArgs = ['start', '--roles', 'web,worker', '--no-demo'];
      sqliteWorkerNote = '`paperboy worker` on SQLite exited at once with code 13 (nothing keeps its event loop alive); the SQLite runs use `paperboy start --roles web,worker --no-demo` instead (the same worker, plus an idle web server)';
      log(`    note: ${sqliteWorkerNote}`);
      await stopProcs(procs);
      procs.length = 0;
      for (let i = 0; i < c.processes; i++) procs.push(startPaperboy(`worker${i}`, sqliteWorkerArgs, { ...workerEnv, HOST: '127.0.0.1', PORT: '0' }));
      await ready();
      await sleep(1000);
    }
    base.startSeconds = round((performance.now() - t0) / 1000 - 1, 1);
    base.command = `paperboy ${(c.db === 'sqlite' ? sqliteWorkerArgs : ['worker']).join(' ')}`;
    base.load1Before = load1();
    const before = cpuMark(
      procs.map((p) => p.pid),
      pg && c.db === 'postgres' ? pg : null,
      (await sink.stats()).cpuSeconds,
    );
    const releasedAt = Date.now();
    const released = performance.now();
    await db.run("UPDATE jobs SET next_run_at = ? WHERE name = 'digest-schedule'", [new Date(releasedAt).toISOString()]);
    const limitMs = Math.max(180_000, o.subscribers * 50);
    let lastShown = performance.now();
    let done = 0;
    for (;;) {
      const r = await db.get<{ n: number | string; sent: number | string | null; open: number | string | null }>(
        "SELECT COUNT(*) AS n, SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END) AS sent, SUM(CASE WHEN status IN ('pending', 'sending') THEN 1 ELSE 0 END) AS open FROM digests",
      );
      const n = Number(r?.n ?? 0);
      const sent = Number(r?.sent ?? 0);
      const open = Number(r?.open ?? 0);
      if (n >= o.subscribers && open === 0) {
        done = performance.now();
        break;
      }
      if (performance.now() - released > limitMs) throw new Error(`timed out: ${sent} of ${o.subscribers} sent after ${limitMs / 1000} s`);
      const dead = procs.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
      if (dead) throw new Error(`${dead.name} exited during the run (${dead.child.exitCode ?? dead.child.signalCode})\n  ${dead.log.slice(-10).join('\n  ')}`);
      if (performance.now() - lastShown > 10_000) {
        lastShown = performance.now();
        log(`    ${sent.toLocaleString('en-US')} of ${o.subscribers.toLocaleString('en-US')} sent (${round((performance.now() - released) / 1000, 0)} s)`);
      }
      await sleep(250);
    }
    const after = cpuMark(
      procs.map((p) => p.pid),
      pg && c.db === 'postgres' ? pg : null,
      (await sink.stats()).cpuSeconds,
    );
    base.cpu = cpuShare(before, after, true);
    base.releaseToDoneSeconds = round((done - released) / 1000, 2);

    const t = await db.get<{ created: string; last: string | null; total: number | string; sent: number | string | null; subs: number | string; ids: number | string }>(
      "SELECT MIN(created_at) AS created, MAX(sent_at) AS last, COUNT(*) AS total, SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END) AS sent, COUNT(DISTINCT subscriber_id) AS subs, COUNT(DISTINCT message_id) AS ids FROM digests",
    );
    const total = Number(t!.total);
    const sentRows = Number(t!.sent ?? 0);
    base.rows = { total, sent: sentRows, other: total - sentRows, distinctSubscribers: Number(t!.subs), distinctMessageIds: Number(t!.ids) };
    const created = Date.parse(t!.created);
    const last = t!.last ? Date.parse(t!.last) : NaN;
    base.seconds = round((last - created) / 1000, 2);
    base.digestsPerSecond = round(sentRows / ((last - created) / 1000), 1);
    base.scheduleDelaySeconds = round((created - releasedAt) / 1000, 2);
    // The sink counted each message before answering it, so by now it has them all.
    const s = await sink.stats();
    base.sink = { messages: s.messages, distinctMessageIds: s.distinct, withoutId: s.withoutId, kbPerMessage: s.messages ? round(s.bytes / s.messages / 1024, 1) : null };
    base.exactlyOnce = sentRows === o.subscribers && base.rows.distinctSubscribers === o.subscribers && s.messages === o.subscribers && s.distinct === o.subscribers;
    base.ok = true;
  } catch (err) {
    base.error = (err as Error).message;
  } finally {
    await stopProcs(procs);
    base.perWorker = procs.map(sentFromLogs);
    await db.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
  return base;
}

type Config = ReturnType<typeof loadConfig>;

async function digestPart(o: Options, pg: Pg | null): Promise<{ runs: DigestRun[]; data: Record<string, unknown> }> {
  log(`\n==== Digests: ${o.subscribers.toLocaleString('en-US')} subscribers due at once ====`);
  const prepared = await ensureDigestData(o.subscribers, o.seed, log);
  log(`data: ${path.relative(ROOT, prepared.file)} (${prepared.info.papers} papers, ${prepared.info.subscribers.toLocaleString('en-US')} subscribers, ${prepared.info.withTopics.toLocaleString('en-US')} with topics)`);
  const config = loadConfig({ PAPERBOY_DATA_DIR: runRoot, SECRET_KEY: SECRET, PAPERBOY_INGEST_SOURCES: 'none' });
  const jobNames = scheduledJobs(config).map((j) => j.name);
  const configs: DigestConfig[] = [{ db: 'sqlite', processes: 1 }];
  let migrated: { seconds: number; rows: number | null } | null = null;
  if (pg) {
    log('copying it to PostgreSQL (paperboy migrate-data) …');
    migrated = await migrateInto(prepared.file, withSchema(pg.url, 'scale_digests'), 'digests');
    log(`  ${migrated.rows?.toLocaleString('en-US') ?? '?'} rows in ${migrated.seconds} s`);
    for (const n of o.workers) configs.push({ db: 'postgres', processes: n });
  }
  const sink = await Sink.start((c) => children.add(c));
  log(
    `settings everywhere: SMTP_POOL_SIZE=${o.pool}, PAPERBOY_DIGEST_CONCURRENCY=${o.concurrency}, PAPERBOY_DB_POOL=${o.dbPool} (PostgreSQL), scheduler tick 0.5 s, send poll 0.5 s; SMTP sink: its own process (pid ${sink.pid})`,
  );
  const runs: DigestRun[] = [];
  try {
    for (let r = 1; r <= o.repeat; r++) {
      for (const c of configs) {
        log(`  ${configLabel(c)}${o.repeat > 1 ? ` (run ${r} of ${o.repeat})` : ''} … (load ${fmt(load1(), 2)})`);
        const run = await digestRun({ sink, pg, prepared: prepared.file, jobNames, o }, c, r);
        runs.push(run);
        if (!run.ok) log(`    FAILED: ${run.error}`);
        else
          log(
            `    ${fmt(run.digestsPerSecond, 0)} digests/s (${fmt(run.seconds, 2)} s from the rows' creation to the last sent; started in ${fmt(run.startSeconds, 1)} s); ` +
              `${run.exactlyOnce ? 'each sent exactly once' : 'NOT exactly once'} (${run.sink!.messages} messages, ${run.sink!.distinctMessageIds} distinct Message-IDs); cores: ${coresLine(run.cpu!, 'workers')}`,
          );
      }
    }
  } finally {
    await sink.stop();
  }
  return {
    runs,
    data: { file: path.relative(ROOT, prepared.file), papers: prepared.info.papers, subscribers: prepared.info.subscribers, withTopics: prepared.info.withTopics, migrateSeconds: migrated?.seconds ?? null, migratedRows: migrated?.rows ?? null },
  };
}

// ---------------------------------------------------------------------------------------------
// Web


interface WebLoad {
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  ok: number;
  non2xx: number;
  errors: number;
  seconds: number;
  /** Requests/s each server answered. */
  perServer: number[];
  rampS: number | null;
  cpu: CpuShare;
}

const pct = (sorted: Float64Array, p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]! : NaN);

/**
 * Closed-loop load on one or more servers at once: one autocannon instance per server, the
 * connections split between them, each connection going through the paths from its own starting
 * point. The measured window starts for all of them together once the warm-up has passed and every
 * connection has had an answer, and lasts `seconds`.
 */
async function loadServers(o: { servers: { port: number; pid: number }[]; paths: readonly string[]; connections: number; warmup: number; seconds: number; headers: Record<string, string>; pg: Pg | null }): Promise<WebLoad> {
  const RAMP_CAP_S = 60;
  const n = o.servers.length;
  const step = Math.max(1, Math.floor(o.paths.length / o.connections));
  const started = performance.now();
  type Phase = 'warmup' | 'measuring' | 'done';
  let phase = 'warmup' as Phase;
  let latencies = new Float64Array(1 << 16);
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  const perServer = new Array<number>(n).fill(0);
  const answered = new Set<AcClient>();
  let rampS: number | null = null;
  let t0 = 0;
  let t1 = 0;
  let before: CpuMark | undefined;
  let after: CpuMark | undefined;
  const pids = o.servers.map((s) => s.pid);
  const timers: NodeJS.Timeout[] = [];
  const instances: AcInstance[] = [];
  const finish = () => {
    if (phase !== 'measuring') return;
    phase = 'done';
    t1 = performance.now();
    after = cpuMark(pids, o.pg);
    for (const i of instances) i.stop();
  };
  const begin = () => {
    if (phase !== 'warmup') return;
    phase = 'measuring';
    t0 = performance.now();
    before = cpuMark(pids, o.pg);
    timers.push(setTimeout(finish, o.seconds * 1000));
  };
  const warmedUp = () => performance.now() - started >= o.warmup * 1000;
  let nextConn = 0;
  o.servers.forEach((server, si) => {
    const conns = Math.floor(o.connections / n) + (si < o.connections % n ? 1 : 0);
    const instance = autocannon({
      url: `http://127.0.0.1:${server.port}`,
      connections: conns,
      duration: RAMP_CAP_S + o.warmup + o.seconds + 10,
      timeout: 60,
      headers: o.headers,
      setupClient: (client) => {
        const c = nextConn++;
        const start = (c * step) % o.paths.length;
        const requests: AcRequest[] = [];
        for (let i = 0; i < o.paths.length; i++) requests.push({ path: o.paths[(start + i) % o.paths.length]! });
        client.setRequests(requests);
      },
    });
    instance.on('response', (client, status, _bytes, ms) => {
      if (phase === 'warmup') {
        answered.add(client);
        if (rampS === null && answered.size === o.connections) rampS = round((performance.now() - started) / 1000, 2);
        if (rampS !== null && warmedUp()) begin();
        return;
      }
      if (phase !== 'measuring') return;
      if (status < 200 || status > 299) {
        non2xx++;
        return;
      }
      if (ok === latencies.length) {
        const bigger = new Float64Array(latencies.length * 2);
        bigger.set(latencies);
        latencies = bigger;
      }
      latencies[ok++] = ms;
      perServer[si]!++;
    });
    instance.on('reqError', () => {
      if (phase === 'measuring') errors++;
    });
    instances.push(instance);
  });
  timers.push(setTimeout(() => rampS !== null && begin(), o.warmup * 1000));
  timers.push(setTimeout(begin, (RAMP_CAP_S + o.warmup) * 1000));
  await Promise.all(instances);
  for (const t of timers) clearTimeout(t);
  if ((phase as Phase) !== 'done' || !before || !after) throw new Error('bench: a load run ended before its measured window did');
  const wall = (t1 - t0) / 1000;
  const sorted = latencies.slice(0, ok).sort();
  return {
    rps: round(ok / wall, 1),
    p50: round(pct(sorted, 50), 2),
    p90: round(pct(sorted, 90), 2),
    p99: round(pct(sorted, 99), 2),
    max: round(sorted.at(-1) ?? NaN, 2),
    ok,
    non2xx,
    errors,
    seconds: round(wall, 2),
    perServer: perServer.map((x) => round(x / wall, 1)),
    rampS,
    cpu: cpuShare(before, after, false),
  };
}

type WebConfig = { db: 'sqlite' | 'postgres'; processes: number };
const ROUTES = [
  { name: 'home', label: '/' },
  { name: 'api-search', label: '/api/search?q=…' },
] as const;

interface WebRun {
  label: string;
  db: 'sqlite' | 'postgres';
  processes: number;
  route: string;
  ok: boolean;
  error?: string;
  load1Before: number;
  result: WebLoad | null;
}

async function webPart(o: Options, pg: Pg | null): Promise<{ runs: WebRun[]; data: Record<string, unknown> }> {
  log(`\n==== Web: ${o.papers.toLocaleString('en-US')} papers, ${o.connections} connections, ${o.seconds} s measured after ${o.warmup} s of warm-up ====`);
  const sources = loadSources(o.data);
  const built = await ensureDatabase(o.papers, o.seed, sources, log);
  const prepared = await ensureWebData(built.file, o.papers, o.seed, log);
  log(`data: ${path.relative(ROOT, prepared.file)} (${Math.round(prepared.bytes / 2 ** 20)} MB; ${prepared.info.featured.toLocaleString('en-US')} featured papers, ${prepared.info.trending.toLocaleString('en-US')} with a trending score)`);
  const dir = path.join(runRoot, 'web');
  mkdirSync(dir, { recursive: true });
  const sqliteFile = path.join(dir, 'paperboy.db');
  copyFileSync(prepared.file, sqliteFile);
  let migrated: { seconds: number; rows: number | null } | null = null;
  const pgUrl = pg ? withSchema(pg.url, 'scale_web') : undefined;
  if (pg) {
    log(`copying it to PostgreSQL (paperboy migrate-data; the search index triggers make this slow) …`);
    migrated = await migrateInto(sqliteFile, pgUrl!, 'web');
    log(`  ${migrated.rows?.toLocaleString('en-US') ?? '?'} rows in ${migrated.seconds} s`);
    const db = openDatabase({ kind: 'postgres', url: pgUrl!, poolSize: 1 });
    await db.exec('ANALYZE').finally(() => db.close());
  }

  // The search stream, as bench/web.ts builds it (same mix, same repeats), shuffled.
  const gen = new CorpusGenerator(sources, o.seed);
  const stream = makeQueries(gen, o.seed + 1, STREAM).map((x) => x.text);
  const rnd = prng(o.seed * 31 + 7);
  for (let i = stream.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [stream[i], stream[j]] = [stream[j]!, stream[i]!];
  }
  const paths: Record<string, string[]> = { home: ['/'], 'api-search': stream.map((q) => `/api/search?q=${encodeURIComponent(q)}`) };

  const configs: WebConfig[] = [{ db: 'sqlite', processes: 1 }];
  if (pg) for (const n of o.web) configs.push({ db: 'postgres', processes: n });
  const runs: WebRun[] = [];
  const accept = 'text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8';
  for (const c of configs) {
    const label = `${c.db === 'sqlite' ? 'SQLite' : 'PostgreSQL'} × ${c.processes}`;
    const env: Record<string, string> = {
      PAPERBOY_DATA_DIR: dir,
      DATABASE_URL: c.db === 'sqlite' ? `sqlite:${sqliteFile}` : pgUrl!,
      HOST: '127.0.0.1',
      PORT: '0',
      BASE_URL,
      LOG_LEVEL: 'info',
      PAPERBOY_EMBEDDER: 'none',
      PAPERBOY_RATE_LIMIT: '0',
      PAPERBOY_DB_POOL: String(o.dbPool),
      SECRET_KEY: SECRET,
    };
    const procs: Proc[] = [];
    log(`  ${label}: starting ${c.processes} \`paperboy serve\` …`);
    try {
      for (let i = 0; i < c.processes; i++) procs.push(startPaperboy(`web${i}`, ['serve', '--no-demo'], env));
      const portOf = (p: Proc) => {
        const line = p.log.find((l) => l.includes('web: listening on'));
        const m = /listening on http:\/\/[^\s:]+:(\d+)/.exec(line ?? '');
        return m ? Number(m[1]) : null;
      };
      await until('the web processes to listen', () => procs.every((p) => portOf(p) !== null), 120_000, procs);
      const servers = procs.map((p) => ({ port: portOf(p)!, pid: p.pid }));
      // A returning visitor: the cookie the first page set (signed with the shared SECRET_KEY: good on every process).
      const first = await fetch(`http://127.0.0.1:${servers[0]!.port}/`, { headers: { accept } });
      await first.arrayBuffer();
      if (first.status !== 200) throw new Error(`/ answered ${first.status}`);
      const cookie = (first.headers.getSetCookie?.() ?? []).map((x) => x.split(';')[0]).join('; ');
      for (const route of ROUTES) {
        const l1 = load1();
        try {
          const dead = procs.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
          if (dead) throw new Error(`${dead.name} has exited (${dead.child.exitCode ?? dead.child.signalCode}):\n      ${dead.log.slice(-15).join('\n      ')}`);
          const r = await loadServers({ servers, paths: paths[route.name]!, connections: o.connections, warmup: o.warmup, seconds: o.seconds, headers: { accept, ...(cookie ? { cookie } : {}) }, pg: c.db === 'postgres' ? pg : null });
          const died = procs.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
          if (died) throw new Error(`${died.name} exited during the run (${died.child.exitCode ?? died.child.signalCode}):\n      ${died.log.slice(-15).join('\n      ')}`);
          runs.push({ label, db: c.db, processes: c.processes, route: route.label, ok: true, load1Before: l1, result: r });
          log(
            `    ${route.label.padEnd(16)} ${fmt(r.rps, 0).padStart(6)} req/s (${r.perServer.map((x) => fmt(x, 0)).join(' + ')}), p50 ${fmt(r.p50, 1)} ms, p99 ${fmt(r.p99, 1)} ms` +
              `${r.non2xx + r.errors ? `, ${r.non2xx} non-2xx, ${r.errors} errors` : ''}; cores: ${coresLine(r.cpu, 'servers')} (load ${fmt(l1, 2)})`,
          );
        } catch (err) {
          runs.push({ label, db: c.db, processes: c.processes, route: route.label, ok: false, error: (err as Error).message, load1Before: l1, result: null });
          log(`    ${route.label}: FAILED: ${(err as Error).message}`);
        }
      }
    } catch (err) {
      for (const route of ROUTES) if (!runs.some((r) => r.label === label && r.route === route.label)) runs.push({ label, db: c.db, processes: c.processes, route: route.label, ok: false, error: (err as Error).message, load1Before: load1(), result: null });
      log(`    FAILED: ${(err as Error).message}`);
    } finally {
      await stopProcs(procs);
    }
  }
  return {
    runs,
    data: { file: path.relative(ROOT, prepared.file), papers: o.papers, bytes: prepared.bytes, featured: prepared.info.featured, trending: prepared.info.trending, migrateSeconds: migrated?.seconds ?? null, migratedRows: migrated?.rows ?? null, searchStream: STREAM },
  };
}

// ---------------------------------------------------------------------------------------------
// Summary

interface Figure {
  label: string;
  processes: number;
  value: number | null;
}

/** Where adding processes stops adding throughput: the first count whose successor gives < GAIN× more. */
function saturation(figures: Figure[], unit: string): { at: number | null; note: string; gains: { from: number; to: number; ratio: number | null }[] } {
  const gains: { from: number; to: number; ratio: number | null }[] = [];
  for (let i = 1; i < figures.length; i++) {
    const a = figures[i - 1]!;
    const b = figures[i]!;
    gains.push({ from: a.processes, to: b.processes, ratio: a.value && b.value !== null ? round(b.value / a.value, 2) : null });
  }
  const steps = gains.map((g) => `${g.from}→${g.to}: ×${fmt(g.ratio, 2)}`).join(', ');
  const stop = gains.find((g) => g.ratio !== null && g.ratio < GAIN);
  if (!gains.length) return { at: null, note: 'one process count only', gains };
  if (gains.some((g) => g.ratio === null)) return { at: null, note: `a run failed (${steps})`, gains };
  if (!stop) {
    const last = figures.at(-1)!;
    return { at: null, note: `still scaling at ${last.processes} processes (${steps}; ${fmt(last.value, 0)} ${unit})`, gains };
  }
  const best = figures.find((f) => f.processes === stop.from)!;
  return {
    at: stop.from,
    note: `saturates at ${stop.from} process${stop.from > 1 ? 'es' : ''} (${fmt(best.value, 0)} ${unit}): going ${stop.from}→${stop.to} gives ×${fmt(stop.ratio, 2)} (< ×${GAIN}); steps ${steps}`,
    gains,
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  const o = parseOptions(process.argv.slice(2));
  mkdirSync(OUT, { recursive: true });
  logFile = logName(o.quick);
  logLines = [];
  const cpus = os.cpus();
  const git = gitState();
  const upStart = uptime();
  log(`bench:scale${o.quick ? ' --quick' : ''} — ${new Date().toISOString()}; ${cpus.length} CPUs (${cpus[0]?.model ?? '?'}), ${round(os.totalmem() / 2 ** 30, 1)} GB, node ${process.version}, ${os.hostname()}`);
  log(`git ${git.head ?? '?'}${git.changedSrc.length ? ` (+ uncommitted changes in src/: ${git.changedSrc.join(', ')})` : ''}`);
  log(`uptime at start: ${upStart}`);
  rmSync(runRoot, { recursive: true, force: true });
  mkdirSync(runRoot, { recursive: true });

  let pg: Pg | null = null;
  let digests: Awaited<ReturnType<typeof digestPart>> | null = null;
  let web: Awaited<ReturnType<typeof webPart>> | null = null;
  try {
    log(o.pg ? `PostgreSQL: ${new URL(o.pg).host} (given; schemas scale_digests and scale_web)` : 'PostgreSQL: starting a throwaway PostgreSQL 15 (scripts/pg-temp.sh) …');
    try {
      pg = await startPg(o);
      if (pg.own) log(`  ${pg.url} (postmaster pid ${pg.postmaster ?? '?'})`);
      const probe = openDatabase({ kind: 'postgres', url: pg.url, poolSize: 1 });
      const v = await probe.get<{ v: string }>("SELECT current_setting('server_version') AS v");
      await probe.close();
      log(`  server ${v?.v ?? '?'}`);
    } catch (err) {
      log(`PostgreSQL unavailable (${(err as Error).message.split('\n')[0]}): only the SQLite figures`);
      pg = null;
    }
    if (o.digests) digests = await digestPart(o, pg);
    if (o.webPart) web = await webPart(o, pg);
  } finally {
    if (pg && !pg.own) {
      const db = openDatabase({ kind: 'postgres', url: pg.url, poolSize: 1 });
      await db.exec('DROP SCHEMA IF EXISTS scale_digests CASCADE; DROP SCHEMA IF EXISTS scale_web CASCADE').catch(() => {});
      await db.close().catch(() => {});
    }
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    cleanupSync();
  }
  const upEnd = uptime();

  // ------------------------------------------------------------------ digests summary
  const seconds = round((performance.now() - started) / 1000, 0);
  log(`\n==== Summary (${round(seconds / 60, 1)} min; uptime at start: ${upStart.replace(/^.*load average/, 'load average')}; at the end: ${upEnd.replace(/^.*load average/, 'load average')}) ====`);
  const summary: Record<string, unknown> = {};
  let anyContended = false;
  /** Other work on the machine took more than this many cores during a run. */
  const CONTENDED = 0.25;
  const contended = (c: CpuShare) => c.others !== null && c.others > CONTENDED;
  /** Work per busy core-second of paperboy's side: its processes, PostgreSQL and (digests) the sink. */
  const perCore = (rate: number | null | undefined, c: CpuShare | null | undefined, sink: boolean): number | null => {
    if (!rate || !c || c.measured === null) return null;
    const cores = c.measured + (c.postgres ?? 0) + (sink ? (c.sink ?? 0) : 0);
    return cores > 0 ? rate / cores : null;
  };
  /** What the whole machine would do at that efficiency, less what the load generator needs. */
  const bound = (pc: number | null, reserved: number): number | null => (pc === null ? null : pc * Math.max(0, cpus.length - reserved));
  if (digests) {
    const configs = [...new Map(digests.runs.map((r) => [r.label, r])).values()];
    const best = (label: string) => {
      const ok = digests!.runs.filter((r) => r.label === label && r.ok && r.digestsPerSecond !== null);
      return ok.length ? ok.reduce((a, b) => (b.digestsPerSecond! > a.digestsPerSecond! ? b : a)) : undefined;
    };
    const sqlite = best('SQLite × 1');
    const rows = [['digests', 'processes', 'digests/s', '× SQLite', 'all runs (digests/s)', 'seconds', 'exactly once', 'cores: workers · PG · sink · others', 'per core-s', `${cpus.length}-core bound`, 'load before']];
    const figures: Figure[] = [];
    const perConfig: Record<string, unknown>[] = [];
    for (const c of configs) {
      const b = best(c.label);
      const all = digests.runs.filter((r) => r.label === c.label);
      const ratio = b && sqlite ? round(b.digestsPerSecond! / sqlite.digestsPerSecond!, 2) : null;
      const once = all.every((r) => r.ok && r.exactlyOnce);
      rows.push([
        c.db === 'sqlite' ? 'SQLite' : 'PostgreSQL',
        String(c.processes),
        fmt(b?.digestsPerSecond, 0),
        ratio === null ? '—' : `×${fmt(ratio, 2)}`,
        all.map((r) => (r.ok ? fmt(r.digestsPerSecond, 0) : 'failed')).join(', '),
        fmt(b?.seconds, 1),
        all.every((r) => r.ok) ? (once ? `yes ×${all.length}` : 'NO') : 'failed',
        b?.cpu ? `${fmt(b.cpu.measured, 2)} · ${fmt(b.cpu.postgres, 2)} · ${fmt(b.cpu.sink, 2)} · ${fmt(b.cpu.others, 2)}${contended(b.cpu) ? ' *' : ''}` : '—',
        fmt(perCore(b?.digestsPerSecond, b?.cpu, true), 0),
        fmt(bound(perCore(b?.digestsPerSecond, b?.cpu, true), 0), 0),
        fmt(b?.load1Before, 2),
      ]);
      if (b?.cpu && contended(b.cpu)) anyContended = true;
      if (c.db === 'postgres') figures.push({ label: c.label, processes: c.processes, value: b?.digestsPerSecond ?? null });
      const pc = perCore(b?.digestsPerSecond, b?.cpu, true);
      perConfig.push({ label: c.label, db: c.db, processes: c.processes, digestsPerSecond: b?.digestsPerSecond ?? null, ratioToSqlite: ratio, perCoreSecond: pc === null ? null : round(pc, 1), idleMachineBound: pc === null ? null : round(bound(pc, 0)!, 0), contended: b?.cpu ? contended(b.cpu) : null, runs: all.map((r) => r.digestsPerSecond), exactlyOnce: once, bestRun: b ? { seconds: b.seconds, cpu: b.cpu, repeat: b.repeat } : null });
    }
    log('');
    log(table(rows, 1));
    const sat = saturation(figures, 'digests/s');
    const bestPg = figures.filter((f) => f.value !== null).reduce<Figure | undefined>((a, b) => (!a || b.value! > a.value! ? b : a), undefined);
    const coreUse = configs
      .filter((c) => c.db === 'postgres')
      .map((c) => {
        const b = best(c.label);
        return b?.cpu ? `×${c.processes}: ${fmt((b.cpu.measured ?? 0) + (b.cpu.postgres ?? 0) + (b.cpu.sink ?? 0), 2)} (others ${fmt(b.cpu.others, 2)})` : `×${c.processes}: —`;
      })
      .join(', ');
    (sat as { cores?: string }).cores = coreUse;
    log(`cores used by paperboy's side (workers + PostgreSQL + sink) of ${cpus.length}: ${coreUse}`);
    log(`PostgreSQL digests: ${sat.note}${bestPg && sqlite ? `; best ${fmt(bestPg.value, 0)} digests/s with ${bestPg.processes} (×${fmt(bestPg.value! / sqlite.digestsPerSecond!, 2)} the single SQLite process)` : ''}`);
    summary.digests = { subscribers: o.subscribers, settings: { smtpPoolSize: o.pool, digestConcurrency: o.concurrency, dbPool: o.dbPool, schedulerTickSeconds: 0.5, sendPollSeconds: 0.5 }, sqliteDigestsPerSecond: sqlite?.digestsPerSecond ?? null, configs: perConfig, saturation: sat };
  }
  if (web) {
    const rows = [['web', 'processes', 'route', 'req/s', 'per process', '× 1 process', '× SQLite', 'p50 ms', 'p99 ms', 'non-2xx/err', 'cores: servers · PG · autocannon · others', 'per core-s', `${cpus.length}-core bound`, 'load before']];
    const webSummary: Record<string, unknown>[] = [];
    const sats: Record<string, unknown> = {};
    for (const route of ROUTES) {
      const of = (db: string, n: number) => web!.runs.find((r) => r.db === db && r.processes === n && r.route === route.label);
      const sqlite = of('sqlite', 1);
      const pg1 = of('postgres', Math.min(...o.web));
      const figures: Figure[] = [];
      for (const r of web.runs.filter((x) => x.route === route.label)) {
        const v = r.result;
        const vs1 = r.db === 'postgres' && v && pg1?.result?.rps ? round(v.rps / pg1.result.rps, 2) : null;
        const vsSqlite = v && sqlite?.result?.rps ? round(v.rps / sqlite.result.rps, 2) : null;
        rows.push([
          r.db === 'sqlite' ? 'SQLite' : 'PostgreSQL',
          String(r.processes),
          route.label,
          v ? fmt(v.rps, 0) : 'failed',
          v ? v.perServer.map((x) => fmt(x, 0)).join(' + ') : '—',
          vs1 === null ? '—' : `×${fmt(vs1, 2)}`,
          vsSqlite === null ? '—' : `×${fmt(vsSqlite, 2)}`,
          fmt(v?.p50, 1),
          fmt(v?.p99, 1),
          v ? `${v.non2xx}/${v.errors}` : '—',
          v ? `${fmt(v.cpu.measured, 2)} · ${fmt(v.cpu.postgres, 2)} · ${fmt(v.cpu.bench, 2)} · ${fmt(v.cpu.others, 2)}${contended(v.cpu) ? ' *' : ''}` : '—',
          fmt(perCore(v?.rps, v?.cpu, false), 0),
          fmt(bound(perCore(v?.rps, v?.cpu, false), v?.cpu.bench ?? 0), 0),
          fmt(r.load1Before, 2),
        ]);
        if (v && contended(v.cpu)) anyContended = true;
        if (r.db === 'postgres') figures.push({ label: r.label, processes: r.processes, value: v?.rps ?? null });
        const pcw = perCore(v?.rps, v?.cpu, false);
        webSummary.push({ perCoreSecond: pcw === null ? null : round(pcw, 1), idleMachineBound: pcw === null ? null : round(bound(pcw, v?.cpu.bench ?? 0)!, 0), contended: v ? contended(v.cpu) : null, cpu: v?.cpu ?? null, db: r.db, processes: r.processes, route: route.label, rps: v?.rps ?? null, p50: v?.p50 ?? null, p99: v?.p99 ?? null, ratioToOneProcess: vs1, ratioToSqlite: vsSqlite, ok: r.ok, error: r.error ?? null });
      }
      sats[route.label] = saturation(figures, 'req/s');
    }
    log('');
    log(table(rows, 3));
    for (const [route, s] of Object.entries(sats)) log(`PostgreSQL web ${route}: ${(s as { note: string }).note}`);
    summary.web = { papers: o.papers, connections: o.connections, seconds: o.seconds, warmup: o.warmup, loadGenerator: 'autocannon in the bench process; with N processes, N instances at once (connections split), one per port', runs: webSummary, saturation: sats };
  }
  const notes = [
    ...(sqliteWorkerNote ? [sqliteWorkerNote] : []),
    ...(anyContended
      ? [
          `* other work on the machine took more than ${CONTENDED} cores during that run: its throughput (and the ratios built on it) measure the leftover CPU as much as paperboy. "per core-s" (throughput ÷ the cores paperboy's processes, PostgreSQL and the sink actually used) and the "${cpus.length}-core bound" (that × ${cpus.length} cores, less the load generator's share for web) hold up better under contention.`,
        ]
      : []),
    `digests/s: N ÷ (newest sent_at − the rows' created_at), both stamped by the workers; best of ${o.repeat} interleaved run(s) per configuration (all listed). Exactly once: N rows sent, N distinct subscribers, and N messages with N distinct Message-IDs at the SMTP sink.`,
    'cores: average cores busy over the measured window — the paperboy processes together, the PostgreSQL server (postmaster and its backends), the SMTP sink (its own process), this process (web: autocannon), and everything else on the machine.',
    `${cpus.length} cores: the workers, PostgreSQL, the sink (and for web, autocannon) share them, so more processes can only help until the cores are busy.`,
  ];
  log('');
  for (const n of notes) log(n);
  const file = path.join(OUT, o.quick ? 'scale-quick.json' : 'scale.json');
  writeFileSync(
    file,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: { hostname: os.hostname(), cpus: cpus.length, cpuModel: cpus[0]?.model ?? null, memoryGb: round(os.totalmem() / 2 ** 30, 1), platform: `${os.platform()} ${os.release()}` },
        node: process.version,
        git,
        uptime: { start: upStart, end: upEnd },
        seconds,
        options: { ...o, pg: o.pg ? new URL(o.pg).host : null },
        postgres: pg ? { own: pg.own } : null,
        summary,
        digests: digests ? { data: digests.data, runs: digests.runs } : null,
        web: web ? { data: web.data, runs: web.runs } : null,
        notes,
      },
      null,
      1,
    ) + '\n',
  );
  log(`\nwritten: ${path.relative(ROOT, file)}, ${path.relative(ROOT, logFile)}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    cleanupSync();
    process.exit(1);
  },
);
