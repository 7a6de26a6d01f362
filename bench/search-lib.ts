/**
 * Helpers shared by bench/search.ts and the child processes it measures
 * (bench/search-paperboy.ts, bench/search-peer.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const OUT = path.join(ROOT, 'bench', 'out');

export interface Stats {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

export const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

export function stats(ms: readonly number[]): Stats {
  const s = [...ms].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return {
    n: s.length,
    p50: round(percentile(s, 50), 3),
    p95: round(percentile(s, 95), 3),
    p99: round(percentile(s, 99), 3),
    mean: round(mean, 3),
    max: round(s.at(-1) ?? NaN, 3),
  };
}

/** The process's resident set now and its high-water mark (VmRSS, VmHWM), in MB. */
export function rssNow(): { rssMb: number; hwmMb: number } {
  try {
    const s = readFileSync('/proc/self/status', 'utf8');
    const rss = Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0) / 1024;
    const hwm = Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0) / 1024;
    return { rssMb: round(rss, 1), hwmMb: round(hwm, 1) };
  } catch {
    const rss = process.memoryUsage().rss / 1024 / 1024;
    return { rssMb: round(rss, 1), hwmMb: round(process.resourceUsage().maxRSS / 1024, 1) };
  }
}

/** Milliseconds taken by fn. */
export async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

/** Child messages: progress on stderr as `@progress {json}`, the result as the last stdout line. */
export function progress(o: Record<string, unknown>): void {
  process.stderr.write(`@progress ${JSON.stringify(o)}\n`);
}

export interface ChildRun<T> {
  ok: boolean;
  /** The result; when !ok, the last partial result the child reported (`@progress {"phase":"partial"}`), if any. */
  result?: T;
  /** Why it did not finish: a time budget, the heap limit, a crash. */
  reason?: string;
  exitCode: number | null;
  signal: string | null;
  wallSeconds: number;
  /** ru_maxrss of the child through GNU time (wait4), when available. */
  peakRssMb: number | null;
  /** The last progress message. */
  last?: Record<string, unknown>;
  stderrTail: string;
}

const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

export interface ChildOptions {
  /** Kill the child when it has not reported `{phase: 'built'}` after this many seconds. */
  buildBudgetS?: number;
  /** Kill the child when it runs longer than this in total. */
  totalBudgetS: number;
  /** Kill the child when it runs longer than this after reporting `{phase: 'built'}`. */
  afterBuildBudgetS?: number;
  nodeFlags?: string[];
  onProgress?: (p: Record<string, unknown>) => void;
}

/**
 * Runs `node [flags] --import tsx script args…` as a child in its own process group, under GNU
 * time for its peak RSS; kills the whole group when a budget runs out.
 */
export function runChild<T>(script: string, args: string[], o: ChildOptions): Promise<ChildRun<T>> {
  const tag = Math.random().toString(36).slice(2);
  const timeFile = path.join(OUT, `.time-${process.pid}-${tag}.txt`);
  const nodeArgs = [process.execPath, ...(o.nodeFlags ?? []), '--import', 'tsx', script, ...args];
  const [cmd, ...argv] = GNU_TIME ? [GNU_TIME, '-f', '%M', '-o', timeFile, ...nodeArgs] : nodeArgs;
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd!, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let last: Record<string, unknown> | undefined;
    let partial: T | undefined;
    let built = false;
    let builtAt = 0;
    let killedFor: string | undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    let pending = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('@progress ')) {
          try {
            const msg = JSON.parse(line.slice(10)) as Record<string, unknown>;
            if (msg.phase === 'partial') {
              partial = msg.result as T;
              continue;
            }
            last = msg;
            if (last.phase === 'built' && !built) {
              built = true;
              builtAt = performance.now();
            }
            o.onProgress?.(last);
          } catch {
            // not ours
          }
        } else {
          stderr += line + '\n';
          if (stderr.length > 1 << 16) stderr = stderr.slice(-(1 << 15));
        }
      }
    });
    // The node process itself (under GNU time, its child): killing only it lets GNU time report its peak RSS.
    let nodePid: number | undefined;
    let sampledHwmKb = 0;
    const findNode = () => {
      if (nodePid !== undefined || !child.pid) return;
      if (!GNU_TIME) nodePid = child.pid;
      else {
        try {
          const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
          if (kids.length) nodePid = Number(kids[0]);
        } catch {
          // not started yet, or gone
        }
      }
    };
    const kill = (why: string) => {
      if (killedFor) return;
      killedFor = why;
      findNode();
      for (const target of [nodePid, child.pid ? -child.pid : undefined]) {
        try {
          if (target !== undefined) process.kill(target, 'SIGKILL');
        } catch {
          // already gone
        }
        if (target === nodePid && nodePid !== undefined) break;
      }
      // Whatever is left of the group (GNU time exits by itself once node is gone).
      setTimeout(() => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }, 5000).unref();
    };
    const timer = setInterval(() => {
      const s = (performance.now() - started) / 1000;
      findNode();
      if (nodePid !== undefined) {
        try {
          const hwm = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${nodePid}/status`, 'utf8'))?.[1] ?? 0);
          sampledHwmKb = Math.max(sampledHwmKb, hwm);
        } catch {
          // gone
        }
      }
      if (o.buildBudgetS !== undefined && !built && s > o.buildBudgetS) {
        const done = last?.docs !== undefined ? ` after ${Number(last.docs).toLocaleString('en-US')} documents` : '';
        kill(`index build exceeded the ${fmtBudget(o.buildBudgetS)} budget${done}`);
      } else if (s > o.totalBudgetS || (built && o.afterBuildBudgetS !== undefined && (performance.now() - builtAt) / 1000 > o.afterBuildBudgetS)) {
        const budget = s > o.totalBudgetS ? o.totalBudgetS : (o.afterBuildBudgetS as number);
        const where = last?.done !== undefined ? `${String(last.phase)}: ${String(last.done)} of ${String(last.of)} done, ${String(last.meanMs)} ms each on average` : String(last?.phase ?? '');
        kill(`exceeded the ${fmtBudget(budget)} ${s > o.totalBudgetS ? 'total' : 'query'} time budget${where ? ` (${where})` : ''}`);
      }
    }, 250);
    child.on('error', (err) => {
      clearInterval(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearInterval(timer);
      const wallSeconds = (performance.now() - started) / 1000;
      let peakRssMb: number | null = null;
      if (GNU_TIME) {
        try {
          const text = readFileSync(timeFile, 'utf8').trim();
          const kb = Number(text.split('\n').at(-1));
          if (Number.isFinite(kb) && kb > 0) peakRssMb = round(kb / 1024, 1);
          if (/signal 9/i.test(text) && !killedFor) killedFor = 'killed by signal 9 (the system ran out of memory?)';
        } catch {
          // no report
        }
        rmSync(timeFile, { force: true });
      }
      if (peakRssMb === null && sampledHwmKb > 0) peakRssMb = round(sampledHwmKb / 1024, 1);
      const base = { exitCode: code, signal, wallSeconds: round(wallSeconds, 2), peakRssMb, stderrTail: stderr.slice(-3000), ...(last ? { last } : {}) };
      const oom = /heap out of memory|Reached heap limit|Allocation failed/i.test(stderr);
      if (killedFor || oom || code !== 0) {
        const at = last?.docs !== undefined && last.phase === 'building' ? ` after ${Number(last.docs).toLocaleString('en-US')} documents` : '';
        const reason = oom
          ? `out of memory: V8 heap limit${heapFlag(o.nodeFlags)} reached${at}`
          : (killedFor ?? `exited with ${code ?? signal}${at}: ${lastLine(stderr)}`);
        resolve({ ok: false, reason, ...base, ...(partial !== undefined ? { result: partial } : {}) });
        return;
      }
      try {
        const line = stdout.trim().split('\n').at(-1) ?? '';
        resolve({ ok: true, result: JSON.parse(line) as T, ...base });
      } catch {
        resolve({ ok: false, reason: `no result on stdout: ${stdout.slice(-300)}`, ...base });
      }
    });
  });
}

function lastLine(s: string): string {
  return s.trim().split('\n').filter((l) => l.trim()).slice(-3).join(' | ').slice(0, 300);
}

function heapFlag(flags: readonly string[] | undefined): string {
  const f = flags?.find((x) => x.startsWith('--max-old-space-size='));
  return f ? ` ${Math.round(Number(f.split('=')[1]) / 1024)} GB` : '';
}

export function fmtBudget(s: number): string {
  return s >= 60 ? `${round(s / 60, 1)} min` : `${round(s, 1)} s`;
}

/** `--flag value` / `--flag=value` arguments of a child script. */
export function childArgs(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    if (eq > 0) out.set(a.slice(2, eq), a.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) out.set(a.slice(2), argv[++i]!);
    else out.set(a.slice(2), '1');
  }
  return out;
}

export function need(args: Map<string, string>, key: string): string {
  const v = args.get(key);
  if (v === undefined) throw new Error(`bench: missing --${key}`);
  return v;
}

/** One command-line flag: `--name value` or `--name=value`; `value()` takes the value (`num()` as a number). */
export interface Flag {
  arg: string;
  flag: string;
  value(): string;
  num(): number;
}

/** The benchmarks' command lines, a flag at a time. A number may be written 1_000_000 or 1,000,000. */
export function* flags(argv: readonly string[]): Generator<Flag> {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`bench: ${flag} needs a value`);
      return v;
    };
    yield { arg, flag, value, num: () => Number(value().replace(/[_,\s]/g, '')) };
  }
}
