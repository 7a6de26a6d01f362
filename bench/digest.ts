/**
 * `npm run bench:digest [-- --send 20000 | --quick …]`: the daily digest at 100,000 subscribers —
 * selected, rendered and sent over SMTP — against nodemailer alone sending the same messages.
 *
 * The data (bench/digest-prepare.ts, cached): the bundled demo (450 papers, real Daily Papers
 * upvotes, the clock at 2026-08-22T12:00Z so trending is fresh) and 100,000 confirmed subscribers,
 * ~40% with no topics (all trending), the rest 1–3 of ~200 topics taken from the demo's titles,
 * perDigest 5–10, skipEmpty off. Every run works on a fresh copy.
 *
 * Processes (this machine may have 2 cores; the output says how they were shared):
 *   - the SMTP sink (bench/digest-sink.ts): smtp-server on 127.0.0.1, accepts and discards,
 *     counting messages and bytes — its own process, so its CPU is not in the measured one;
 *   - the ceiling (bench/digest-ceiling.ts): renders the first N subscribers' digests with
 *     `app.digests.render` (each call timed: the per-subscriber selection + rendering figures),
 *     then times nodemailer alone — a pool with SmtpMailer's options — sending those N
 *     pre-rendered messages to the sink; run before and after paperboy, the faster one counts;
 *   - paperboy (bench/digest-paperboy.ts): `app.digests.scheduleDate('2026-08-22')`, then
 *     `app.digests.sendDue()` timed to completion through its own SmtpMailer (SMTP_POOL_SIZE
 *     connections, PAPERBOY_DIGEST_CONCURRENCY lanes), each row marked sent in SQLite; its peak RSS
 *     is the child's ru_maxrss;
 *   - paperboy again with a mailer that accepts at once: its own cost per digest without SMTP
 *     (selection, rendering, the outbox writes).
 * The sink's counters check that every message arrived, and give the bytes per message of each run.
 *
 * Goals: paperboy ≥ 70% of the ceiling's messages/s; selection + rendering under 2 ms per
 * subscriber (p95 and mean of `app.digests.render`).
 *
 * Flags (env in brackets):
 *   --subscribers N      subscribers created [BENCH_SUBSCRIBERS]                 default 100000
 *   --send N             digests paperboy sends (sendDue's limit)               default all
 *   --ceiling N          messages rendered and sent by the ceiling              default 20000
 *   --ceiling-runs K     1: before paperboy only; 2: before and after           default 2
 *   --ceiling-window W   ceiling messages in flight at once (0: all)           default 4 × --pool
 *   --null N             digests of the null-mailer run (0: skip it)            default = --send
 *   --pool N             SMTP connections [SMTP_POOL_SIZE]                      default 5
 *   --concurrency N      sendDue lanes [PAPERBOY_DIGEST_CONCURRENCY]           default 10
 *   --seed S             subscribers' seed                                      default 1
 *   --quick              --send 5000 --ceiling 5000 --ceiling-runs 1 --null 5000 (for iterating)
 *   --cpu-prof           V8 CPU profile of the paperboy SMTP run into bench/out/prof/
 * Results: tables on stdout, everything in bench/out/digest.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { CeilingResult } from './digest-ceiling.ts';
import { DIGEST_OUT, ISSUE_DATE, NOW, type SinkStats } from './digest-lib.ts';
import type { PaperboyResult } from './digest-paperboy.ts';
import { ensurePrepared, prepareRun, type Prepared } from './digest-prepare.ts';
import { OUT, ROOT, round, runChild, type ChildRun, type Stats, flags } from './search-lib.ts';
import { Sink } from './sink-client.ts';

const GOALS = { shareOfCeiling: 0.7, renderMs: 2 };

interface Options {
  subscribers: number;
  send: number | undefined;
  ceiling: number;
  ceilingRuns: number;
  ceilingWindow: number | undefined;
  nullSend: number | undefined;
  pool: number;
  concurrency: number;
  seed: number;
  cpuProf: boolean;
}

function parseOptions(argv: string[]): Options {
  const env = process.env;
  const o: Options = {
    subscribers: Number(env.BENCH_SUBSCRIBERS ?? 100_000),
    send: undefined,
    ceiling: 20_000,
    ceilingRuns: 2,
    ceilingWindow: undefined,
    nullSend: undefined,
    pool: Number(env.SMTP_POOL_SIZE ?? 5),
    concurrency: Number(env.PAPERBOY_DIGEST_CONCURRENCY ?? 10),
    seed: 1,
    cpuProf: false,
  };
  for (const { arg: a, flag, num } of flags(argv)) {
    switch (flag) {
      case '--subscribers':
        o.subscribers = num();
        break;
      case '--send':
        o.send = num();
        break;
      case '--ceiling':
        o.ceiling = num();
        break;
      case '--ceiling-runs':
        o.ceilingRuns = num();
        break;
      case '--ceiling-window':
        o.ceilingWindow = num();
        break;
      case '--null':
        o.nullSend = num();
        break;
      case '--pool':
        o.pool = num();
        break;
      case '--concurrency':
        o.concurrency = num();
        break;
      case '--seed':
        o.seed = num();
        break;
      case '--quick':
        o.send = 5000;
        o.ceiling = 5000;
        o.ceilingRuns = 1;
        o.nullSend = 5000;
        break;
      case '--cpu-prof':
        o.cpuProf = true;
        break;
      default:
        throw new Error(`bench: unknown argument ${JSON.stringify(a)}`);
    }
  }
  const whole = { subscribers: o.subscribers, ceiling: o.ceiling, pool: o.pool, concurrency: o.concurrency, seed: o.seed, 'ceiling-runs': o.ceilingRuns };
  for (const [k, v] of Object.entries(whole)) if (!Number.isInteger(v) || v < 1) throw new Error(`bench: --${k} takes a whole number ≥ 1`);
  for (const [k, v] of Object.entries({ send: o.send, null: o.nullSend, 'ceiling-window': o.ceilingWindow })) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new Error(`bench: --${k} takes a whole number ≥ 0`);
  }
  o.send = Math.min(o.send ?? o.subscribers, o.subscribers);
  o.nullSend = Math.min(o.nullSend ?? o.send, o.subscribers);
  o.ceiling = Math.min(o.ceiling, o.subscribers);
  return o;
}

// ---------------------------------------------------------------------------------------------
// The sink, and what the machine's CPUs did meanwhile


/** Busy CPU seconds of the whole machine (all cores) from /proc/stat, or null. */
function machineBusySeconds(): number | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    return (user + nice + system + irq + softirq + steal) / 100;
  } catch {
    return null;
  }
}

interface Mark {
  at: number;
  sink: Promise<SinkStats>;
  machine: number | null;
  parentCpu: NodeJS.CpuUsage;
}

const mark = (sink: Sink): Mark => ({ at: performance.now(), sink: sink.stats(), machine: machineBusySeconds(), parentCpu: process.cpuUsage() });

/** How the cores were used during one timed phase: average cores busy per party. */
interface CoreShare {
  wallSeconds: number;
  /** The measured process (its own process.cpuUsage over the phase). */
  measured: number;
  sink: number;
  /** This orchestrator (idle but for progress lines). */
  harness: number;
  /** Everything else on the machine: other benchmarks, tests, the system. */
  others: number | null;
  cores: number;
}

interface Phase {
  messages: number;
  bytes: number;
  share: CoreShare;
}

async function phaseOf(start: Mark, end: Mark, measuredCpu: number): Promise<Phase> {
  const [a, b] = await Promise.all([start.sink, end.sink]);
  const wall = (end.at - start.at) / 1000;
  const sinkCpu = b.cpuSeconds - a.cpuSeconds;
  const parent = (end.parentCpu.user + end.parentCpu.system - start.parentCpu.user - start.parentCpu.system) / 1e6;
  const machine = start.machine !== null && end.machine !== null ? end.machine - start.machine : null;
  return {
    messages: b.messages - a.messages,
    bytes: b.bytes - a.bytes,
    share: {
      wallSeconds: round(wall, 2),
      measured: round(measuredCpu / wall, 2),
      sink: round(sinkCpu / wall, 2),
      harness: round(parent / wall, 2),
      others: machine === null ? null : round(Math.max(0, machine - measuredCpu - sinkCpu - parent) / wall, 2),
      cores: os.cpus().length,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Runs

interface Run<T> {
  label: string;
  child: ChildRun<T>;
  phase?: Phase;
}

async function runMeasured<T extends { cpuSeconds: number; gc: { ms: number } }>(
  label: string,
  script: string,
  args: string[],
  sink: Sink,
  log: (s: string) => void,
  nodeFlags: string[] = [],
): Promise<Run<T>> {
  let start: Mark | undefined;
  let end: Mark | undefined;
  let lastShown = 0;
  log(`${label} …`);
  const child = await runChild<T>(script, args, {
    totalBudgetS: 3600,
    nodeFlags,
    onProgress: (p) => {
      if (p.phase === 'send-start') start = mark(sink);
      else if (p.phase === 'send-end') end = mark(sink);
      else if (p.phase === 'rendered') log(`  rendered ${Number(p.count).toLocaleString('en-US')} digests in ${String(p.seconds)} s`);
      else if (p.phase === 'scheduled') log(`  scheduleDate: ${Number(p.scheduled).toLocaleString('en-US')} outbox rows in ${String(p.seconds)} s`);
      else if (p.phase === 'sending' && performance.now() - lastShown > 15_000) {
        lastShown = performance.now();
        log(`  ${Number(p.sent).toLocaleString('en-US')} sent (${String(p.seconds)} s)`);
      }
    },
  });
  if (!child.ok) {
    log(`  ${label} failed: ${child.reason}\n${child.stderrTail}`);
    return { label, child };
  }
  const phase = start && end && child.result ? await phaseOf(start, end, child.result.cpuSeconds) : undefined;
  return { label, child, ...(phase ? { phase } : {}) };
}

/** The commit measured, and the files of src/ changed since it (src/ moves while we measure). */
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
// Report

const fmt = (n: number | null | undefined, digits = 1) =>
  n === null || n === undefined || Number.isNaN(n) ? '—' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function table(rows: string[][], left = 1): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c < left ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

interface Sent {
  messages: number;
  seconds: number;
  perSecond: number;
}

function sentOf(run: Run<PaperboyResult> | Run<CeilingResult>): Sent | undefined {
  const r = run.child.result;
  if (!r) return undefined;
  return { messages: r.sent, seconds: r.sendSeconds, perSecond: r.messagesPerSecond };
}

function runRows(runs: (Run<PaperboyResult> | Run<CeilingResult>)[]): string {
  const rows = [['run', 'messages', 'wall s', 'msg/s', 'ms/msg', 'CPU s', 'GC s', 'cores: measured · sink · others', 'KB/msg', 'peak RSS MB']];
  for (const run of runs) {
    const s = sentOf(run);
    const p = run.phase;
    if (!s) {
      rows.push([run.label, 'failed', '', '', '', '', '', '', '', fmt(run.child.peakRssMb, 0)]);
      continue;
    }
    const cores = p ? `${fmt(p.share.measured, 2)} · ${fmt(p.share.sink, 2)} · ${fmt(p.share.others, 2)}` : '—';
    const kb = p && p.messages ? fmt(p.bytes / p.messages / 1024, 1) : '—';
    rows.push([
      run.label,
      s.messages.toLocaleString('en-US'),
      fmt(s.seconds, 1),
      fmt(s.perSecond, 0),
      fmt(1000 / s.perSecond, 2),
      fmt(run.child.result!.cpuSeconds, 1),
      fmt(run.child.result!.gc.ms / 1000, 1),
      cores,
      kb,
      fmt(run.child.peakRssMb, 0),
    ]);
  }
  return table(rows);
}

function renderRows(r: CeilingResult['render']): string {
  const rows = [['app.digests.render (select + render)', 'n', 'p50 ms', 'p95 ms', 'p99 ms', 'mean ms', 'max ms']];
  const line = (what: string, s: Stats) => rows.push([what, s.n.toLocaleString('en-US'), fmt(s.p50, 3), fmt(s.p95, 3), fmt(s.p99, 3), fmt(s.mean, 3), fmt(s.max, 1)]);
  line('all subscribers', r.ms);
  line('  first 500 (the run’s caches filling)', r.firstMs);
  line('  the rest', r.restMs);
  line('  with topics', r.withTopicsMs);
  line('  no topics (all trending)', r.trendingOnlyMs);
  return table(rows);
}

interface Goal {
  goal: string;
  met: boolean | null;
  value: string;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = performance.now();
  const o = parseOptions(process.argv.slice(2));
  const log = (s: string) => console.log(s);
  const cores = os.cpus().length;
  log(
    `bench:digest — ${o.subscribers.toLocaleString('en-US')} subscribers, paperboy sends ${o.send!.toLocaleString('en-US')}, ceiling ${o.ceiling.toLocaleString('en-US')} × ${o.ceilingRuns}; ` +
      `SMTP_POOL_SIZE=${o.pool}, PAPERBOY_DIGEST_CONCURRENCY=${o.concurrency}; ${cores} CPUs (${os.cpus()[0]?.model ?? '?'}), node ${process.version}, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`,
  );
  const git = gitState();
  log(`paperboy at ${git.head ?? '?'}${git.changedSrc.length ? ` with uncommitted changes in ${git.changedSrc.join(', ')}` : ''}`);
  const prepared: Prepared = await ensurePrepared(o.subscribers, o.seed, log);
  const info = prepared.info;
  log(
    `data: ${info.papers} demo papers; ${info.subscribers.toLocaleString('en-US')} confirmed subscribers (${round((100 * info.topicCounts[0]!) / info.subscribers, 1)}% no topics, ` +
      `${info.topicCounts.slice(1).map((n, i) => `${round((100 * n) / info.subscribers, 1)}% ${i + 1}`).join(', ')} topics of ${info.topics.length}); ` +
      `database ${Math.round(prepared.bytes / 2 ** 20)} MB${prepared.builtSeconds === null ? ' (cached)' : `, built in ${prepared.builtSeconds} s`}`,
  );

  const sink = await Sink.start();
  log(`SMTP sink: smtp-server in its own process (pid ${sink.pid}) on 127.0.0.1:${sink.port}`);
  const common = (dataDir: string, dbFile: string) => ['--db', dbFile, '--data', dataDir, '--pool', String(o.pool)];

  const ceilings: Run<CeilingResult>[] = [];
  const ceiling = async (n: number) => {
    const run = prepareRun(prepared, `ceiling-${n}`);
    try {
      const args = [...common(run.dataDir, run.dbFile), '--smtp', sink.url, '--count', String(o.ceiling), ...(o.ceilingWindow !== undefined ? ['--window', String(o.ceilingWindow)] : [])];
      ceilings.push(await runMeasured<CeilingResult>(`ceiling ${n}: nodemailer alone`, 'bench/digest-ceiling.ts', args, sink, log));
    } finally {
      run.remove();
    }
  };
  const paperboy = async (label: string, smtp: string, limit: number, nodeFlags: string[] = []) => {
    const run = prepareRun(prepared, smtp === 'null' ? 'paperboy-null' : 'paperboy');
    try {
      const args = [...common(run.dataDir, run.dbFile), '--smtp', smtp, '--concurrency', String(o.concurrency), ...(limit < o.subscribers ? ['--limit', String(limit)] : [])];
      return await runMeasured<PaperboyResult>(label, 'bench/digest-paperboy.ts', args, sink, log, nodeFlags);
    } finally {
      run.remove();
    }
  };

  let pb: Run<PaperboyResult> | undefined;
  let pbNull: Run<PaperboyResult> | undefined;
  try {
    await ceiling(1);
    const prof = o.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', path.join(OUT, 'prof'), '--cpu-prof-name', `digest-paperboy-${Date.now()}.cpuprofile`] : [];
    pb = await paperboy('paperboy: sendDue → SMTP sink', sink.url, o.send!, prof);
    if (o.ceilingRuns > 1) await ceiling(2);
    if (o.nullSend) pbNull = await paperboy('paperboy: sendDue, null mailer', 'null', o.nullSend);
  } finally {
    await sink.stop();
  }

  // ------------------------------------------------------------------ report
  const seconds = (performance.now() - started) / 1000;
  const runs = [...ceilings.slice(0, 1), ...(pb ? [pb] : []), ...ceilings.slice(1), ...(pbNull ? [pbNull] : [])];
  log(`\n==== Summary (${round(seconds / 60, 1)} min) ====\n`);
  log(runRows(runs));
  const best = ceilings.filter((c) => c.child.result).sort((a, b) => b.child.result!.messagesPerSecond - a.child.result!.messagesPerSecond)[0];
  const render = ceilings.find((c) => c.child.result)?.child.result?.render;
  if (render) {
    log(`\nPer subscriber, sequential, one Selector for the run (ceiling 1's ${render.ms.n.toLocaleString('en-US')} subscribers):`);
    log(renderRows(render));
    log(`  ${fmt(render.papersMean, 2)} papers per digest on average, ${render.empty.toLocaleString('en-US')} digests with none; ${fmt(render.charsMean / 1024, 1)} K characters of HTML + text per message`);
  }

  const goals: Goal[] = [];
  const pbRate = pb?.child.result?.messagesPerSecond;
  const ceilRate = best?.child.result?.messagesPerSecond;
  if (pbRate !== undefined && ceilRate !== undefined) {
    const ratio = pbRate / ceilRate;
    goals.push({ goal: `paperboy ≥ ${GOALS.shareOfCeiling * 100}% of the ceiling's messages/s`, met: ratio >= GOALS.shareOfCeiling, value: `${fmt(pbRate, 0)} vs ${fmt(ceilRate, 0)} msg/s (${best!.label.split(':')[0]}) = ${fmt(100 * ratio, 0)}%` });
  } else goals.push({ goal: `paperboy ≥ ${GOALS.shareOfCeiling * 100}% of the ceiling's messages/s`, met: null, value: 'a run failed' });
  if (render) {
    goals.push({ goal: `selection + rendering p95 < ${GOALS.renderMs} ms per subscriber`, met: render.ms.p95 < GOALS.renderMs, value: `p50 ${fmt(render.ms.p50, 3)} ms, p95 ${fmt(render.ms.p95, 3)} ms` });
    goals.push({ goal: `selection + rendering mean < ${GOALS.renderMs} ms per subscriber (caches filling included)`, met: render.ms.mean < GOALS.renderMs, value: `${fmt(render.ms.mean, 3)} ms` });
  }
  log('\nGoals:');
  for (const g of goals) log(`  ${g.met === null ? 'n/a ' : g.met ? 'met ' : 'MISS'}  ${g.goal}: ${g.value}`);

  const notes: string[] = [];
  const pbr = pb?.child.result;
  if (pbr) {
    notes.push(
      `paperboy: scheduleDate made ${pbr.scheduled.toLocaleString('en-US')} outbox rows in ${fmt(pbr.scheduleSeconds, 2)} s; sendDue ${pbr.sent.toLocaleString('en-US')} sent, ${pbr.failed} failed, ${pbr.retried} retried, ${pbr.skipped} skipped; ` +
        `SQLite afterwards: ${pbr.counted.sent.toLocaleString('en-US')} rows 'sent', ${(pbr.counted.pending + pbr.counted.sending).toLocaleString('en-US')} left, ${pbr.counted.digestPapers.toLocaleString('en-US')} papers recorded as sent.`,
    );
    const arrived = pb!.phase?.messages;
    if (arrived !== undefined && arrived !== pbr.sent) notes.push(`WARNING: the sink counted ${arrived.toLocaleString('en-US')} messages during paperboy's run, paperboy reported ${pbr.sent.toLocaleString('en-US')} sent.`);
    notes.push(`paperboy peak RSS ${fmt(pb!.child.peakRssMb, 0)} MB (ru_maxrss of the child: node, mjml, nodemailer, a 64 MiB SQLite page cache); ${fmt(pbr.rss.beforeMb, 0)} MB after createApp, ${fmt(pbr.rss.afterScheduleMb, 0)} MB after scheduling.`);
    if (o.send! < o.subscribers) notes.push(`paperboy sent ${o.send!.toLocaleString('en-US')} of the ${o.subscribers.toLocaleString('en-US')} subscribers' digests (--send).`);
  }
  if (pbNull?.child.result) {
    const r = pbNull.child.result;
    notes.push(`null mailer: paperboy's own cost per digest (select, render, SQLite writes, no SMTP) is ${fmt(1000 / r.messagesPerSecond, 3)} ms wall, ${fmt((1000 * r.cpuSeconds) / r.sent, 3)} ms CPU (${fmt(r.messagesPerSecond, 0)} msg/s).`);
  }
  for (const c of ceilings) {
    const r = c.child.result;
    if (r?.errors) notes.push(`WARNING: ${c.label}: ${r.errors} send errors (${r.firstError ?? ''})`);
    if (r && c.phase && c.phase.messages !== r.sent) notes.push(`WARNING: the sink counted ${c.phase.messages} messages during ${c.label}, it reported ${r.sent}.`);
  }
  notes.push(
    `Columns: wall s, CPU s and GC s cover the timed sending only (paperboy: sendDue, which also selects and renders; ceiling: sending the pre-rendered messages); ` +
      `KB/msg is what the sink received; peak RSS is each child's ru_maxrss (the ceiling's includes its ${o.ceiling.toLocaleString('en-US')} pre-rendered messages).`,
  );
  notes.push(
    `Cores: ${cores}. Each timed phase ran one measured process (one JS thread, plus libuv/SQLite threads) against the sink in another; the columns are average cores busy during the phase ` +
      `(measured: its own process.cpuUsage; sink: its own; others: the rest of the machine from /proc/stat — other benchmarks, tests, the system). ` +
      `Runs go one at a time; the sink stays up throughout.`,
  );
  log('\nNotes:');
  for (const n of notes) log(`  ${n}`);

  const json = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cores,
    cpuModel: os.cpus()[0]?.model,
    loadavgAtStart: os.loadavg(),
    git,
    seconds: round(seconds, 1),
    clock: NOW.toISOString(),
    issueDate: ISSUE_DATE,
    options: o,
    data: { file: path.relative(process.cwd(), prepared.file), bytes: prepared.bytes, builtSeconds: prepared.builtSeconds, ...info },
    goals,
    runs: runs.map((r) => ({
      label: r.label,
      ok: r.child.ok,
      ...(r.child.ok ? {} : { reason: r.child.reason }),
      wallSeconds: r.child.wallSeconds,
      peakRssMb: r.child.peakRssMb,
      phase: r.phase ? { ...r.phase, bytesPerMessage: r.phase.messages ? Math.round(r.phase.bytes / r.phase.messages) : null } : null,
      result: r.child.result,
    })),
    ceilingUsed: best?.label,
    notes,
  };
  mkdirSync(DIGEST_OUT, { recursive: true });
  writeFileSync(path.join(OUT, 'digest.json'), JSON.stringify(json, null, 2) + '\n');
  log(`\nwrote ${path.relative(process.cwd(), path.join(OUT, 'digest.json'))} in ${round(seconds / 60, 1)} min`);
}

await main();
