/**
 * `npm run bench:ingest [-- --records N]`: papers/s and peak RSS of `paperboy ingest arxiv-snapshot`
 * on a synthetic snapshot of N records (default 1,000,000), against bare better-sqlite3 inserts
 * of the same rows (bench/bare-ingest.ts) in the same run.
 *
 * Goal: paperboy ≥ 50% of the bare rate with all indexes maintained; peak RSS < 300 MB.
 *
 * Flags (env in brackets):
 *   --records N      records in the synthetic file [BENCH_RECORDS]            default 1000000
 *   --seed S         PRNG seed of the synthetic file [BENCH_SEED]             default 1
 *   --sample FILE    real snapshot lines to resample [BENCH_SAMPLE]           default ../shared/data/arxiv-kaggle/snapshot-first200.jsonl
 *   --only WHICH     run only `paperboy` or only `bare`
 *   --runs R         rounds of both runs, order alternating [BENCH_RUNS]     default 1; the median rate
 *                    is reported, and the highest peak RSS
 *   --cpu-prof       also write a V8 CPU profile of the paperboy process to bench/out/prof/
 *   --keep           keep the databases (their paths are printed)
 *   --no-compare     skip the row-by-row comparison of the two databases
 *
 * Each measured process is a fresh `node` child, so the two never share a heap or a page cache
 * of SQLite. Peak RSS is the child's ru_maxrss (the high-water mark of its resident set, VmHWM)
 * as the kernel hands it to wait4(), read through GNU time (`/usr/bin/time -f %M`); without
 * /usr/bin/time, the figure the child reads itself in its exit hook (bench/rss-preload.mjs, which
 * also gives the CPU time). Both are cross-checked by sampling /proc/<pid>/status every 100 ms.
 * The synthetic file is generated once per (records, seed, generator version) and cached in
 * bench/out/ (git-ignored). Results go to bench/out/ingest.json.
 */
import BetterSqlite3 from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { prng } from './corpus.ts';
import { flags } from './search-lib.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'bench', 'out');
/** Bump when the generator's output changes, so cached files are not reused. */
const GENERATOR_VERSION = 2;
const GOAL_RATIO = 0.5;
const GOAL_RSS_MB = 300;

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  records: number;
  seed: number;
  sample: string;
  only: 'paperboy' | 'bare' | undefined;
  runs: number;
  cpuProf: boolean;
  keep: boolean;
  compare: boolean;
}

function parseOptions(argv: string[]): Options {
  const o: Options = {
    records: Number(process.env.BENCH_RECORDS ?? 1_000_000),
    seed: Number(process.env.BENCH_SEED ?? 1),
    sample: process.env.BENCH_SAMPLE ?? path.resolve(ROOT, '../shared/data/arxiv-kaggle/snapshot-first200.jsonl'),
    only: undefined,
    runs: Number(process.env.BENCH_RUNS ?? 1),
    cpuProf: false,
    keep: false,
    compare: true,
  };
  for (const { arg: a, flag, value } of flags(argv)) {
    switch (flag) {
      case '--records':
        o.records = Number(value().replace(/[_,]/g, ''));
        break;
      case '--seed':
        o.seed = Number(value());
        break;
      case '--sample':
        o.sample = path.resolve(value());
        break;
      case '--only': {
        const v = value();
        if (v !== 'paperboy' && v !== 'bare') throw new Error('bench: --only takes paperboy or bare');
        o.only = v;
        break;
      }
      case '--runs':
        o.runs = Number(value());
        break;
      case '--cpu-prof':
        o.cpuProf = true;
        break;
      case '--keep':
        o.keep = true;
        break;
      case '--no-compare':
        o.compare = false;
        break;
      default:
        throw new Error(`bench: unknown argument ${JSON.stringify(a)}`);
    }
  }
  if (!Number.isInteger(o.records) || o.records < 1) throw new Error(`bench: --records must be a whole number ≥ 1`);
  if (!Number.isInteger(o.runs) || o.runs < 1) throw new Error(`bench: --runs must be a whole number ≥ 1`);
  if (!Number.isInteger(o.seed)) throw new Error(`bench: --seed must be a whole number`);
  return o;
}

// ---------------------------------------------------------------------------------------------
// The synthetic snapshot


interface SnapshotVersion {
  version: string;
  created: string;
}

type SnapshotRecord = Record<string, unknown> & {
  id: string;
  title: string;
  doi: string | null;
  versions: SnapshotVersion[];
  update_date: string;
};

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number) => String(n).padStart(2, '0');

/** arXiv's version date format: `Mon, 2 Apr 2007 19:18:42 GMT` (day not zero-padded). */
function arxivDate(t: number): string {
  const d = new Date(t);
  return (
    `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} GMT`
  );
}

/** New-style ids, 5 digits from 1501 on, this many per month (arXiv gets ~20k a month). */
const PER_MONTH = 20_000;

function idFor(i: number): { id: string; monthStart: number } {
  const m = Math.floor(i / PER_MONTH);
  const year = 15 + Math.floor(m / 12);
  const month = (m % 12) + 1;
  if (year > 99) throw new Error('bench: too many records for YYMM.NNNNN ids');
  return { id: `${pad2(year)}${pad2(month)}.${String((i % PER_MONTH) + 1).padStart(5, '0')}`, monthStart: Date.UTC(2000 + year, month - 1, 1) };
}

/** Swaps two words of a title, keeping its white space (line breaks and all) where it was. */
function swapTwoWords(title: string, rnd: () => number): string {
  const parts = title.split(/(\s+)/);
  const words: number[] = [];
  for (let j = 0; j < parts.length; j++) if (parts[j] !== '' && !/^\s+$/.test(parts[j]!)) words.push(j);
  if (words.length < 4) return title;
  const a = words[Math.floor(rnd() * words.length)]!;
  let b = words[Math.floor(rnd() * words.length)]!;
  if (a === b) b = words[(words.indexOf(a) + 1) % words.length]!;
  [parts[a], parts[b]] = [parts[b]!, parts[a]!];
  return parts.join('');
}

/** Like Python's json.dumps(ensure_ascii=True), as in the real snapshot: non-ASCII as \uXXXX. */
function asciiJson(v: unknown): string {
  return JSON.stringify(v).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function syntheticRecord(i: number, src: SnapshotRecord, occurrence: number, rnd: () => number): string {
  const { id, monthStart } = idFor(i);
  // Move the version history into the id's month, keeping the gaps between versions.
  const times = src.versions.map((v) => Date.parse(v.created));
  const first = times[0] ?? monthStart;
  const v1 = monthStart + Math.floor(rnd() * 27) * 86_400_000 + (((first % 86_400_000) + 86_400_000) % 86_400_000);
  const shift = v1 - first;
  const versions = src.versions.map((v, j) => ({ version: v.version, created: arxivDate((times[j] ?? first) + shift) }));
  const updated = Date.parse(src.update_date);
  const lastVersion = (times.at(-1) ?? first) + shift;
  const updateDate = new Date(Number.isFinite(updated) ? Math.max(updated + shift, lastVersion) : lastVersion).toISOString().slice(0, 10);
  // Spread keeps the real key order; the overwritten keys stay in place.
  const rec: SnapshotRecord = {
    ...src,
    id,
    title: `${swapTwoWords(src.title, rnd)}${occurrence ? ` ${occurrence + 1}` : ''}`,
    // DOIs are (nearly) unique per paper in the real snapshot; keep them unique here too. Some
    // records list several DOIs separated by spaces (paperboy keeps the first): suffix each one.
    doi: src.doi ? src.doi.replace(/\S+/g, (d) => `${d}.${i}`) : src.doi,
    versions,
    update_date: updateDate,
  };
  return asciiJson(rec);
}

function loadSample(file: string): SnapshotRecord[] {
  const out: SnapshotRecord[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const o = JSON.parse(line) as SnapshotRecord;
    if (typeof o.id !== 'string' || typeof o.title !== 'string' || !Array.isArray(o.versions)) continue;
    out.push(o);
  }
  if (!out.length) throw new Error(`bench: no records in ${file}`);
  return out;
}

/** Writes the synthetic file once (streaming, constant memory) and returns its path. */
function ensureSnapshot(o: Options): string {
  const file = path.join(OUT, `snapshot-${o.records}-s${o.seed}-g${GENERATOR_VERSION}.jsonl`);
  if (existsSync(file)) return file;
  mkdirSync(OUT, { recursive: true });
  const sample = loadSample(o.sample);
  const rnd = prng(o.seed);
  const seen = new Array<number>(sample.length).fill(0);
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  const started = performance.now();
  try {
    let chunk: string[] = [];
    let size = 0;
    for (let i = 0; i < o.records; i++) {
      const k = Math.floor(rnd() * sample.length);
      const line = syntheticRecord(i, sample[k]!, seen[k]!++, rnd) + '\n';
      chunk.push(line);
      size += line.length;
      if (size >= 1 << 22) {
        writeSync(fd, chunk.join(''));
        chunk = [];
        size = 0;
      }
    }
    if (chunk.length) writeSync(fd, chunk.join(''));
    // On disk before anything is measured: no write-back of this file competes with the runs.
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  console.log(`generated ${file} (${mb(statSync(file).size)} MB) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return file;
}

// ---------------------------------------------------------------------------------------------
// Measuring a child process

interface Measured {
  exitCode: number | null;
  wallSeconds: number;
  /**
   * Peak resident set size over the child's whole life: ru_maxrss as the kernel reports it to
   * wait4() (through GNU time when /usr/bin/time exists), else as the child saw it in its exit hook.
   */
  peakRssMb: number | null;
  /** How peakRssMb was measured. */
  rssMethod: 'wait4 (GNU time)' | 'exit hook';
  /** ru_maxrss read by the child itself in its 'exit' hook (bench/rss-preload.mjs); misses teardown. */
  exitHookRssMb: number | null;
  /** Highest VmHWM/VmRSS seen sampling /proc every 100 ms (a cross-check; may miss the last 100 ms). */
  sampledPeakRssMb: number | null;
  cpuSeconds: number | null;
  /** VmRSS at 10%, 20%, … of the run, to show whether memory grows with the input. */
  rssTimelineMb: number[];
  stdout: string;
  stderr: string;
}

const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

function procStatus(pid: number): { rssKb: number; hwmKb: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+)/.exec(s);
    const hwm = /VmHWM:\s+(\d+)/.exec(s);
    return rss ? { rssKb: Number(rss[1]), hwmKb: hwm ? Number(hwm[1]) : Number(rss[1]) } : undefined;
  } catch {
    return undefined;
  }
}

/** The node process to sample: the child itself, or the one GNU time started. */
function nodePid(childPid: number): number | undefined {
  if (!GNU_TIME) return childPid;
  try {
    const kids = readFileSync(`/proc/${childPid}/task/${childPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return kids.length ? Number(kids[0]) : undefined;
  } catch {
    return undefined;
  }
}

function measure(args: string[], env: NodeJS.ProcessEnv, tmp: string): Promise<Measured> {
  const tag = Math.random().toString(36).slice(2);
  const rssFile = path.join(tmp, `rss-${tag}.json`);
  const timeFile = path.join(tmp, `time-${tag}.txt`);
  const preload = path.join(ROOT, 'bench', 'rss-preload.mjs');
  const nodeArgs = [process.execPath, '--import', preload, ...args];
  const [cmd, ...argv] = GNU_TIME ? [GNU_TIME, '-f', '%M', '-o', timeFile, ...nodeArgs] : nodeArgs;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd!, argv, {
      cwd: ROOT,
      env: { ...env, BENCH_RSS_FILE: rssFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (stderr.length > 1 << 20) stderr = stderr.slice(-(1 << 19));
    });
    const samples: { t: number; rssKb: number }[] = [];
    let sampledPeakKb = 0;
    let pid: number | undefined;
    const timer = setInterval(() => {
      pid ??= child.pid ? nodePid(child.pid) : undefined;
      const s = pid ? procStatus(pid) : undefined;
      if (!s) return;
      sampledPeakKb = Math.max(sampledPeakKb, s.hwmKb, s.rssKb);
      samples.push({ t: performance.now() - started, rssKb: s.rssKb });
    }, 100);
    child.on('error', (err) => {
      clearInterval(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearInterval(timer);
      const wall = (performance.now() - started) / 1000;
      let exitHookRssMb: number | null = null;
      let cpuSeconds: number | null = null;
      try {
        const r = JSON.parse(readFileSync(rssFile, 'utf8')) as { maxRssKb: number; userCpuUs: number; systemCpuUs: number };
        exitHookRssMb = r.maxRssKb / 1024;
        cpuSeconds = (r.userCpuUs + r.systemCpuUs) / 1e6;
      } catch {
        // The child died before its exit hook ran.
      }
      let waitRssMb: number | null = null;
      if (GNU_TIME) {
        try {
          // "Command exited with non-zero status N" may come first; the figure is the last line.
          const kb = Number(readFileSync(timeFile, 'utf8').trim().split('\n').at(-1));
          if (Number.isFinite(kb) && kb > 0) waitRssMb = kb / 1024;
        } catch {
          // GNU time could not write its report; fall back to the exit hook's figure.
        }
      }
      const timeline: number[] = [];
      for (let d = 1; d <= 10; d++) {
        const at = (wall * 1000 * d) / 10;
        let best: { t: number; rssKb: number } | undefined;
        for (const s of samples) if (s.t <= at) best = s;
        if (best) timeline.push(Math.round(best.rssKb / 1024));
      }
      resolve({
        exitCode: code,
        wallSeconds: wall,
        peakRssMb: waitRssMb ?? exitHookRssMb,
        rssMethod: waitRssMb !== null ? 'wait4 (GNU time)' : 'exit hook',
        exitHookRssMb,
        sampledPeakRssMb: sampledPeakKb ? sampledPeakKb / 1024 : null,
        cpuSeconds,
        rssTimelineMb: timeline,
        stdout,
        stderr,
      });
    });
  });
}

function lastJson<T>(stdout: string): T {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`bench: expected a JSON line on stdout, got ${JSON.stringify(stdout.slice(-500))}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The two runs

interface CliResult {
  read: number;
  new: number;
  updated: number;
  unchanged: number;
  skipped: number;
  seconds: number;
  errors: unknown[];
  failures: unknown[];
}

interface BareResult {
  read: number;
  rows: number;
  skipped: number;
  seconds: number;
  loopSeconds: number;
  parseSeconds: number;
  insertSeconds: number;
  readSeconds: number;
}

interface RunFigures {
  records: number;
  seconds: number;
  perSecond: number;
  peakRssMb: number | null;
  rssMethod: Measured['rssMethod'];
  exitHookRssMb: number | null;
  sampledPeakRssMb: number | null;
  cpuSeconds: number | null;
  rssTimelineMb: number[];
  database: string;
}

function childEnv(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PAPERBOY_DATA_DIR: dataDir, PAPERBOY_DEMO: '0', PAPERBOY_SCHEDULER: '0' };
  delete env.DATABASE_URL; // always the fresh data dir's own SQLite file
  delete env.LOG_LEVEL;
  delete env.NODE_OPTIONS;
  return env;
}

function figures(m: Measured, records: number, database: string): RunFigures {
  return {
    records,
    seconds: round(m.wallSeconds, 3),
    perSecond: Math.round(records / m.wallSeconds),
    peakRssMb: m.peakRssMb === null ? null : round(m.peakRssMb, 1),
    rssMethod: m.rssMethod,
    exitHookRssMb: m.exitHookRssMb === null ? null : round(m.exitHookRssMb, 1),
    sampledPeakRssMb: m.sampledPeakRssMb === null ? null : round(m.sampledPeakRssMb, 1),
    cpuSeconds: m.cpuSeconds === null ? null : round(m.cpuSeconds, 2),
    rssTimelineMb: m.rssTimelineMb,
    database,
  };
}

async function runPaperboy(o: Options, file: string, tmp: string): Promise<{ figures: RunFigures; cli: CliResult; profile?: string }> {
  const dataDir = path.join(tmp, 'paperboy-data');
  const profDir = path.join(OUT, 'prof');
  const prof = o.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-name', `paperboy-${o.records}-${Date.now()}.cpuprofile`] : [];
  if (o.cpuProf) mkdirSync(profDir, { recursive: true });
  console.log(`paperboy: node bin/paperboy.js ingest arxiv-snapshot ${path.relative(ROOT, file)} --json --no-progress …`);
  const m = await measure([...prof, 'bin/paperboy.js', 'ingest', 'arxiv-snapshot', file, '--json', '--no-progress'], childEnv(dataDir), tmp);
  if (m.exitCode !== 0) throw new Error(`bench: paperboy exited with ${m.exitCode}\n${m.stderr.slice(-4000)}`);
  const cli = lastJson<CliResult>(m.stdout);
  const database = path.join(dataDir, 'paperboy.db');
  return {
    figures: figures(m, cli.new, database),
    cli,
    ...(o.cpuProf ? { profile: profDir } : {}),
  };
}

async function runBare(file: string, tmp: string): Promise<{ figures: RunFigures; bare: BareResult }> {
  const database = path.join(tmp, 'bare', 'bare.db');
  console.log(`bare:     node bench/bare-ingest.ts ${path.relative(ROOT, file)} …`);
  const m = await measure(['--import', 'tsx', 'bench/bare-ingest.ts', file, database], childEnv(path.join(tmp, 'bare')), tmp);
  if (m.exitCode !== 0) throw new Error(`bench: bare-ingest exited with ${m.exitCode}\n${m.stderr.slice(-4000)}`);
  const bare = lastJson<BareResult>(m.stdout);
  return { figures: figures(m, bare.rows, database), bare };
}

// ---------------------------------------------------------------------------------------------
// Checks on the databases

interface Checks {
  papers: number;
  paperSources: number;
  ok: boolean;
  /** Papers whose stored columns differ between the paperboy and the bare database (null: not compared). */
  rowsDiffering: number | null;
}

const CONTENT_COLUMNS =
  'key, arxiv_id, doi, title_key, title, abstract, authors, categories, primary_category, submitted_at, updated_at, version, versions, journal_ref, comments, links';

function check(records: number, database: string, bareDatabase: string | undefined): Checks {
  const db = new BetterSqlite3(database);
  try {
    const papers = (db.prepare('SELECT COUNT(*) AS n FROM papers').get() as { n: number }).n;
    const paperSources = (db.prepare('SELECT COUNT(*) AS n FROM paper_sources').get() as { n: number }).n;
    let rowsDiffering: number | null = null;
    if (bareDatabase) {
      db.prepare('ATTACH DATABASE ? AS bare').run(bareDatabase);
      rowsDiffering = (
        db
          .prepare(
            `SELECT COUNT(*) AS n FROM (SELECT ${CONTENT_COLUMNS} FROM main.papers EXCEPT SELECT ${CONTENT_COLUMNS} FROM bare.papers)`,
          )
          .get() as { n: number }
      ).n;
    }
    return { papers, paperSources, rowsDiffering, ok: papers === records && paperSources === records && (rowsDiffering ?? 0) === 0 };
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
const fmt = (n: number | null, digits = 0) =>
  n === null ? '—' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   ')).join('\n');
}

type PaperboyRun = Awaited<ReturnType<typeof runPaperboy>>;
type BareRun = Awaited<ReturnType<typeof runBare>>;

/** The run with the median rate (the lower middle one for an even count). */
function median<T extends { figures: RunFigures }>(runs: T[]): T | undefined {
  return [...runs].sort((a, b) => a.figures.perSecond - b.figures.perSecond)[Math.floor((runs.length - 1) / 2)];
}

function worstRss(runs: { figures: RunFigures }[]): number | null {
  const xs = runs.map((r) => r.figures.peakRssMb).filter((x): x is number => x !== null);
  return xs.length ? Math.max(...xs) : null;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const file = ensureSnapshot(o);
  const fileBytes = statSync(file).size;
  console.log(`input: ${path.relative(ROOT, file)} — ${fmt(o.records)} records, ${mb(fileBytes)} MB; ${os.cpus().length} CPUs, node ${process.version}`);

  const pbRuns: PaperboyRun[] = [];
  const bareRuns: BareRun[] = [];
  let checks: Checks | undefined;
  const kept: string[] = [];
  for (let round = 0; round < o.runs; round++) {
    if (o.runs > 1) console.log(`round ${round + 1} of ${o.runs}`);
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'paperboy-bench-'));
    try {
      // Alternate the order, so neither side always runs on a warmer (or busier) machine.
      let bare: BareRun | undefined;
      let pb: PaperboyRun | undefined;
      if (round % 2 === 0) {
        if (o.only !== 'paperboy') bare = await runBare(file, tmp);
        if (o.only !== 'bare') pb = await runPaperboy(o, file, tmp);
      } else {
        if (o.only !== 'bare') pb = await runPaperboy(o, file, tmp);
        if (o.only !== 'paperboy') bare = await runBare(file, tmp);
      }
      if (bare) bareRuns.push(bare);
      if (pb) {
        pbRuns.push(pb);
        if (round === 0) checks = check(o.records, pb.figures.database, o.compare && bare ? bare.figures.database : undefined);
      }
    } finally {
      if (o.keep) kept.push(tmp);
      else rmSync(tmp, { recursive: true, force: true });
    }
  }
  const pb = median(pbRuns);
  const bare = median(bareRuns);

  const rows: string[][] = [['', 'records', 'seconds', 'papers/s', 'peak RSS MB', 'exit hook', '/proc max', 'CPU s']];
  const line = (name: string, f: RunFigures) => [
    name,
    fmt(f.records),
    fmt(f.seconds, 1),
    fmt(f.perSecond),
    fmt(f.peakRssMb, 0),
    fmt(f.exitHookRssMb, 0),
    fmt(f.sampledPeakRssMb, 0),
    fmt(f.cpuSeconds, 1),
  ];
  for (const [i, r] of pbRuns.entries()) rows.push(line(`paperboy${o.runs > 1 ? ` #${i + 1}` : ''}`, r.figures));
  for (const [i, r] of bareRuns.entries()) rows.push(line(`bare better-sqlite3${o.runs > 1 ? ` #${i + 1}` : ''}`, r.figures));
  console.log('\n' + table(rows));
  const method = (pb ?? bare)?.figures.rssMethod;
  if (method) console.log(`(peak RSS MB: ru_maxrss via ${method}; exit hook: ru_maxrss read in the child's exit hook; /proc max: VmHWM sampled every 100 ms)`);

  const ratio = pb && bare ? pb.figures.perSecond / bare.figures.perSecond : undefined;
  const pbPeak = worstRss(pbRuns);
  const goals = {
    ratio: ratio === undefined ? null : ratio >= GOAL_RATIO,
    rss: pbPeak === null ? null : pbPeak < GOAL_RSS_MB,
  };
  const of = o.runs > 1 ? ` (median of ${o.runs})` : '';
  if (pb && bare && ratio !== undefined) {
    console.log(
      `\npaperboy ${fmt(pb.figures.perSecond)} papers/s vs bare ${fmt(bare.figures.perSecond)} rows/s${of}: ` +
        `${(ratio * 100).toFixed(1)}% of the bare rate (goal ≥ ${GOAL_RATIO * 100}%: ${goals.ratio ? 'met' : 'NOT met'})`,
    );
  }
  if (pb) {
    console.log(`paperboy peak RSS: ${fmt(pbPeak, 0)} MB${o.runs > 1 ? ' (highest of the runs)' : ''} (goal < ${GOAL_RSS_MB} MB: ${goals.rss ? 'met' : 'NOT met'})`);
    console.log(`paperboy RSS over the run (MB, each 10%): ${pb.figures.rssTimelineMb.join(' ')}`);
    console.log(`paperboy CLI: ${fmt(pb.cli.read)} read, ${fmt(pb.cli.new)} new, ${fmt(pb.cli.skipped)} skipped, ${pb.cli.seconds} s inside the command`);
  }
  if (bare) {
    const b = bare.bare;
    console.log(
      `bare breakdown: parse+normalise ${b.parseSeconds} s, inserts+commits ${b.insertSeconds} s, reading ${b.readSeconds} s, ` +
        `startup+migrate+close ${round(bare.figures.seconds - b.loopSeconds, 2)} s`,
    );
    console.log(`bare RSS over the run (MB, each 10%): ${bare.figures.rssTimelineMb.join(' ')}`);
  }
  if (checks) {
    console.log(
      `check: papers ${fmt(checks.papers)}, paper_sources ${fmt(checks.paperSources)} (expected ${fmt(o.records)})` +
        (checks.rowsDiffering === null ? '' : `, rows differing from bare ${fmt(checks.rowsDiffering)}`) +
        ` — ${checks.ok ? 'ok' : 'FAILED'}`,
    );
  }
  if (pb?.profile) console.log(`CPU profile written to ${path.relative(ROOT, pb.profile)}/`);

  const result = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    input: { file: path.relative(ROOT, file), records: o.records, bytes: fileBytes, seed: o.seed, generator: GENERATOR_VERSION },
    runs: o.runs,
    paperboy: pb ? { ...pb.figures, worstPeakRssMb: pbPeak, cli: pb.cli } : null,
    bare: bare ? { ...bare.figures, worstPeakRssMb: worstRss(bareRuns), breakdown: bare.bare } : null,
    ratio: ratio === undefined ? null : round(ratio, 4),
    goals: { ratioAtLeast: GOAL_RATIO, peakRssMbBelow: GOAL_RSS_MB, ratioMet: goals.ratio, rssMet: goals.rss },
    checks: checks ?? null,
    allRuns: { paperboy: pbRuns.map((r) => r.figures), bare: bareRuns.map((r) => r.figures) },
  };
  mkdirSync(OUT, { recursive: true });
  writeFileSync(path.join(OUT, 'ingest.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(`\nwrote ${path.relative(ROOT, path.join(OUT, 'ingest.json'))}`);
  if (kept.length) console.log(`databases kept in ${kept.join(', ')}`);
  if (checks && !checks.ok) process.exitCode = 1;
}

await main();
