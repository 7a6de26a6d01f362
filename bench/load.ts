/**
 * `npm run bench:load`: abuse under work. Two minutes of autocannon at 200 connections on a mix of
 * routes (home and its windows, search pages and the search API, paper pages, trending API, feeds,
 * about), in three rounds, against the real `paperboy serve` on the 100k-paper bench database, while
 * `paperboy ingest hf-daily` (all 580 recorded days) and `paperboy digest run` (N subscribers, to an
 * SMTP sink in its own process) run on the same database, restarted whenever they finish so both
 * are always in progress.
 *
 * Reported per round: requests, responses by status class, 5xx (goal: none), p50/p99, the server's
 * RSS after the round (goal: flat across rounds, no leak), and the ingest and digest runs completed.
 * Writes bench/out/load.json.
 *
 *   --size N            papers (default 100000; bench/search-build.ts's cached corpus)
 *   --connections N     default 200
 *   --rounds N          default 3
 *   --seconds N         per round (default 40: 2 minutes in all)
 *   --subscribers N     default 5000
 *   --quick             1 round of 15 s, 1,000 subscribers
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CorpusGenerator, DEFAULT_DATA_DIR, loadSources, makeQueries } from './corpus.ts';
import { ensureDatabase } from './search-build.ts';
import { flags, OUT, round } from './search-lib.ts';
import { load, rssOf, type LoadResult } from './web-load.ts';
import { ensurePrepared, prepareRun } from './web-prepare.ts';
import { paperHref } from '../src/web/views/components.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'paperboy.js');

interface Options {
  size: number;
  connections: number;
  rounds: number;
  seconds: number;
  subscribers: number;
  data: string;
  /** Run ingest and digest during the rounds (off: the same load on an idle instance, for comparison). */
  work: boolean;
}

function parse(argv: string[]): Options {
  const o: Options = { size: 100_000, connections: 200, rounds: 3, seconds: 40, subscribers: 5000, data: DEFAULT_DATA_DIR, work: true };
  for (const { arg, flag, value, num } of flags(argv)) {
    if (flag === '--size') o.size = num();
    else if (flag === '--connections') o.connections = num();
    else if (flag === '--rounds') o.rounds = num();
    else if (flag === '--seconds') o.seconds = num();
    else if (flag === '--subscribers') o.subscribers = num();
    else if (flag === '--data') o.data = value();
    else if (flag === '--no-work') o.work = false;
    else if (flag === '--quick') Object.assign(o, { rounds: 1, seconds: 15, subscribers: 1000 });
    else if (flag === '--help') {
      process.stdout.write('usage: npm run bench:load -- [--size N] [--connections N] [--rounds N] [--seconds N] [--subscribers N] [--quick] [--no-work]\n(see the comment at the top of bench/load.ts)\n');
      process.exit(0);
    } else throw new Error(`bench:load: unknown option ${arg}`);
  }
  return o;
}

const log = (s: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function run(args: string[], env: Record<string, string>): { child: ChildProcess; done: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-2000)));
  const done = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      if (code !== 0 && code !== null) log(`paperboy ${args.slice(0, 2).join(' ')} exited ${code}: ${err.trim().split('\n').at(-1)}`);
      resolve(code);
    }),
  );
  return { child, done };
}

/** Keeps a command running (restarted when it ends) until stopped; counts completed runs. */
function keepRunning(name: string, args: (n: number) => string[], env: Record<string, string>) {
  let stopped = false;
  let current: ReturnType<typeof run> | undefined;
  const stats = { name, completed: 0, failed: 0 };
  const loop = (async () => {
    for (let n = 0; !stopped; n++) {
      current = run(args(n), env);
      const code = await current.done;
      if (stopped) break;
      if (code === 0) stats.completed++;
      else stats.failed++;
    }
  })();
  return {
    stats,
    async stop() {
      stopped = true;
      current?.child.kill('SIGTERM');
      await loop;
    },
  };
}

/** Nothing in the background (`--no-work`): the same load on an idle instance. */
function idle(name: string) {
  return { stats: { name, completed: 0, failed: 0 }, stop: async () => {} };
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const sources = loadSources(o.data);
  const db = await ensureDatabase(o.size, 1, sources, log);
  const prepared = await ensurePrepared(db.file, o.size, 1, log);
  const runDb = prepareRun(prepared);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'paperboy-load-'));
  const cleanup: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })];
  try {
    // The SMTP sink, in a process of its own.
    const sink = fork(path.join(import.meta.dirname, 'digest-sink.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    cleanup.push(() => void sink.send({ type: 'stop' }));
    const sinkPort = await new Promise<number>((resolve) => sink.on('message', (m: { type: string; port: number }) => m.type === 'ready' && resolve(m.port)));
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const env = {
      PAPERBOY_DATA_DIR: dir,
      DATABASE_URL: `sqlite:${runDb}`,
      PAPERBOY_DEMO: '0',
      PAPERBOY_RATE_LIMIT: '0',
      PAPERBOY_SCHEDULER: '0',
      SECRET_KEY: 'bench-load-secret-0123456789',
      SMTP_URL: `smtp://127.0.0.1:${sinkPort}`,
      LOG_LEVEL: 'warn',
      PORT: String(port),
      HOST: '127.0.0.1',
    };

    // Subscribers, confirmed, through the real import command.
    const csv = path.join(dir, 'subscribers.csv');
    writeFileSync(csv, `email,topics,timezone,hour\n${Array.from({ length: o.subscribers }, (_, i) => `reader${i}@example.org,${i % 3 === 0 ? 'quantization' : ''},UTC,7`).join('\n')}\n`);
    const imported = await run(['subscribers', 'import', csv, '--confirmed'], env).done;
    if (imported !== 0) throw new Error('bench:load: subscribers import failed');
    log(`${o.subscribers.toLocaleString('en-US')} subscribers imported`);

    const server = run(['serve', '--no-demo'], env);
    cleanup.push(async () => {
      server.child.kill('SIGTERM');
      await server.done;
    });
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
      } catch {
        /* not yet */
      }
      if (i > 600) throw new Error('bench:load: the server did not come up');
      await sleep(100);
    }
    const pid = server.child.pid!;
    log(`paperboy serve up (pid ${pid}), RSS ${rssOf(pid)?.rssMb} MB`);

    const gen = new CorpusGenerator(sources, 1);
    const queries = makeQueries(gen, 7, 300).map((q) => encodeURIComponent(q.text));
    const papers = prepared.info.opened.map(paperHref);
    const paths: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const r = i % 20;
      if (r < 4) paths.push(['/', '/?window=week', '/?window=new', '/?window=top'][i % 4]!);
      else if (r < 8) paths.push(`/search?q=${queries[i % queries.length]}`);
      else if (r < 10) paths.push(`/api/search?q=${queries[(i * 7) % queries.length]}`);
      else if (r < 15) paths.push(papers[i % papers.length]!);
      else if (r < 16) paths.push('/api/trending?window=week');
      else if (r < 17) paths.push(['/feeds/trending.rss', '/feeds/trending.atom', '/feeds/trending.json'][i % 3]!);
      else if (r < 18) paths.push('/about');
      else if (r < 19) paths.push(`/api/papers?limit=20&offset=${(i * 13) % 500}`);
      else paths.push(`/category/cs.${['CV', 'CL', 'LG', 'AI'][i % 4]}`);
    }

    const rounds: {
      round: number;
      load: LoadResult;
      fivexx: number;
      rssMb: number | null;
      ingestRuns: number;
      digestRuns: number;
    }[] = [];
    const shared = path.join(o.data, 'hf-daily-papers');
    for (let r = 1; r <= o.rounds; r++) {
      const ingest = o.work ? keepRunning('ingest', () => ['ingest', 'hf-daily', shared, '--no-progress'], env) : idle('ingest');
      // A new issue date each time, so every run has every subscriber's digest to send.
      const digest = o.work ? keepRunning('digest', (n) => ['digest', 'run', '--date', new Date(Date.UTC(2026, 0, 1) + (r * 100 + n) * 86_400_000).toISOString().slice(0, 10)], env) : idle('digest');
      await sleep(1500); // both under way
      log(`round ${r}: ${o.connections} connections for ${o.seconds} s while an ingest and a digest run are in progress`);
      const res = await load({ port, paths, connections: o.connections, seconds: o.seconds, warmup: 3, serverPid: pid });
      const ing = ingest.stats;
      const dig = digest.stats;
      await Promise.all([ingest.stop(), digest.stop()]);
      const fivexx = Object.entries(res.statusCodes).filter(([c]) => c.startsWith('5')).reduce((s, [, n]) => s + n, 0);
      const rss = rssOf(pid)?.rssMb ?? null;
      rounds.push({ round: r, load: res, fivexx, rssMb: rss, ingestRuns: ing.completed, digestRuns: dig.completed });
      log(
        `round ${r}: ${Math.round(res.rps * res.seconds).toLocaleString('en-US')} ok responses, ${round(res.rps, 0)} req/s, p50 ${round(res.p50, 1)} ms, p99 ${round(res.p99, 1)} ms, ` +
          `non-2xx ${res.non2xx} (5xx ${fivexx}), errors ${res.errors}, status ${JSON.stringify(res.statusCodes)}; server RSS ${rss} MB; ` +
          `runs finished meanwhile: ingest ${ing.completed} (+${ing.failed} failed), digest ${dig.completed} (+${dig.failed} failed)`,
      );
    }
    const rss = rounds.map((x) => x.rssMb ?? 0);
    const growth = rss.length > 1 && rss[0] ? rss.at(-1)! / rss[0] : 1;
    const summary = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: os.cpus().length,
      load: os.loadavg().map((x) => round(x, 2)),
      options: o,
      database: { papers: o.size, file: path.relative(ROOT, prepared.file) },
      rounds: rounds.map((x) => ({
        round: x.round,
        requests: Math.round(x.load.rps * x.load.seconds) + x.load.non2xx,
        rps: round(x.load.rps, 1),
        p50: round(x.load.p50, 1),
        p99: round(x.load.p99, 1),
        max: round(x.load.max, 1),
        statusCodes: x.load.statusCodes,
        fivexx: x.fivexx,
        errors: x.load.errors,
        serverCpu: x.load.serverCpu,
        rssMb: x.rssMb,
        ingestRunsFinished: x.ingestRuns,
        digestRunsFinished: x.digestRuns,
      })),
      goals: {
        no5xx: rounds.every((x) => x.fivexx === 0),
        rssGrowthLastOverFirst: round(growth, 3),
        memoryFlat: growth < 1.15,
      },
    };
    mkdirSync(OUT, { recursive: true });
    writeFileSync(path.join(OUT, 'load.json'), `${JSON.stringify(summary, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(summary.goals)}\n`);
    log(`wrote ${path.relative(ROOT, path.join(OUT, 'load.json'))}; no 5xx: ${summary.goals.no5xx}; RSS last/first round ${summary.goals.rssGrowthLastOverFirst}`);
  } finally {
    for (const c of cleanup.reverse()) await c();
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
