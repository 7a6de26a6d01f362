/**
 * bench/web.ts's tools: autocannon (typed here, for the few options used), the long-running
 * server children, and their CPU time from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { ROOT, round } from './search-lib.ts';

// ---------------------------------------------------------------------------------------------
// autocannon (CommonJS, no types of its own)

export interface AcRequest {
  path: string;
  method?: string;
  headers?: Record<string, string>;
}

export interface AcClient {
  setRequests(requests: AcRequest[]): void;
}

export interface AcOptions {
  url: string;
  connections: number;
  duration: number;
  pipelining?: number;
  timeout?: number;
  headers?: Record<string, string>;
  setupClient?: (client: AcClient) => void;
}

export interface AcInstance extends Promise<unknown> {
  on(event: 'response', fn: (client: AcClient, statusCode: number, resBytes: number, responseTime: number) => void): this;
  on(event: 'reqError', fn: (err: Error) => void): this;
  stop(): void;
}

export const autocannon = createRequire(import.meta.url)('autocannon') as (opts: AcOptions) => AcInstance;

export interface LoadResult {
  /** 2xx responses per second over the measured window. */
  rps: number;
  /** Latency of 2xx responses, ms (request written → response complete, as autocannon times it). */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  ok: number;
  non2xx: number;
  errors: number;
  statusCodes: Record<string, number>;
  /** The measured window, s. */
  seconds: number;
  /** Response bytes per second (MB/s). */
  mbPerS: number;
  /** The slowest response of the warm-up (it includes opening the connections). */
  warmupMax: number;
  /** Seconds until every connection had its first response (null: not within the cap). */
  rampS: number | null;
  /** CPU of the server child over the window, as a share of one core (1 = one core busy). */
  serverCpu: number | null;
  /** CPU of this (the load-generating) process over the window, as a share of one core. */
  loadCpu: number;
  /** CPU used by everything else on the machine over the window (other processes, the kernel's share not charged to ours), in cores. */
  otherCpu: number | null;
}

export interface LoadOptions {
  port: number;
  /** Request paths; each connection goes through them from its own starting point. */
  paths: readonly string[];
  connections: number;
  /** Seconds measured, after the warm-up. */
  seconds: number;
  /** Seconds first, on the same connections, not measured (longer while some connection has had no response yet). */
  warmup: number;
  headers?: Record<string, string>;
  /** Give every request its own client address (x-forwarded-for), through a pool of this many. */
  addresses?: number;
  /** The server process, for its CPU time. */
  serverPid?: number;
}

/** Nearest-rank percentile of sorted values. */
const pct = (sorted: Float64Array, p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]! : NaN);

/** The warm-up ends at the latest this long after the start, whether every connection was answered or not. */
const RAMP_CAP_S = 60;

/**
 * One autocannon run over the paths, the connections spread evenly over the list. The measured
 * window starts once the warm-up time has passed and every connection has had a response, and
 * lasts `seconds`: the steady state at that many open connections. (A saturated Node server
 * accepts new connections a few per event-loop turn, so with a slow route the last of 50
 * connections opened at once can wait many seconds for its first response: that is `rampS`.)
 */
export async function load(o: LoadOptions): Promise<LoadResult> {
  let next = 0;
  const step = Math.max(1, Math.floor(o.paths.length / o.connections));
  const started = performance.now();
  const instance = autocannon({
    url: `http://127.0.0.1:${o.port}`,
    connections: o.connections,
    duration: RAMP_CAP_S + o.warmup + o.seconds + 10,
    timeout: 60,
    ...(o.headers ? { headers: o.headers } : {}),
    setupClient: (client) => {
      const c = next++;
      const start = (c * step) % o.paths.length;
      const requests: AcRequest[] = [];
      for (let i = 0; i < o.paths.length; i++) {
        const req: AcRequest = { path: o.paths[(start + i) % o.paths.length]! };
        if (o.addresses) {
          const a = (c * o.paths.length + i) % o.addresses;
          req.headers = { ...o.headers, 'x-forwarded-for': `10.${(a >> 16) & 255}.${(a >> 8) & 255}.${a & 255}` };
        }
        requests.push(req);
      }
      client.setRequests(requests);
    },
  });
  type Phase = 'warmup' | 'measuring' | 'done';
  let phase: Phase = 'warmup';
  const answered = new Set<AcClient>();
  let rampS: number | null = null;
  let latencies = new Float64Array(1 << 16);
  let ok = 0;
  let bytes = 0;
  let errors = 0;
  let warmupMax = 0;
  const statusCodes: Record<string, number> = {};
  let t0 = 0;
  let t1 = 0;
  let cpu0: number | null = null;
  let cpu1: number | null = null;
  let busy0: number | null = null;
  let busy1: number | null = null;
  let self0 = process.cpuUsage();
  let self = self0;
  const timers: NodeJS.Timeout[] = [];
  const finish = () => {
    if (phase !== 'measuring') return;
    phase = 'done';
    t1 = performance.now();
    self = process.cpuUsage(self0);
    cpu1 = o.serverPid ? cpuSeconds(o.serverPid) : null;
    busy1 = machineBusySeconds();
    instance.stop();
  };
  const begin = () => {
    if (phase !== 'warmup') return;
    phase = 'measuring';
    t0 = performance.now();
    cpu0 = o.serverPid ? cpuSeconds(o.serverPid) : null;
    busy0 = machineBusySeconds();
    self0 = process.cpuUsage();
    timers.push(setTimeout(finish, o.seconds * 1000));
  };
  const warmedUp = () => performance.now() - started >= o.warmup * 1000;
  instance.on('response', (client, status, resBytes, ms) => {
    if (phase === 'warmup') {
      warmupMax = Math.max(warmupMax, ms);
      answered.add(client);
      if (rampS === null && answered.size === o.connections) rampS = round((performance.now() - started) / 1000, 2);
      if (rampS !== null && warmedUp()) begin();
      return;
    }
    if (phase !== 'measuring') return;
    statusCodes[status] = (statusCodes[status] ?? 0) + 1;
    if (status < 200 || status > 299) return;
    if (ok === latencies.length) {
      const bigger = new Float64Array(latencies.length * 2);
      bigger.set(latencies);
      latencies = bigger;
    }
    latencies[ok++] = ms;
    bytes += resBytes;
  });
  instance.on('reqError', () => {
    if (phase === 'measuring') errors++;
  });
  timers.push(setTimeout(() => rampS !== null && begin(), o.warmup * 1000));
  timers.push(setTimeout(begin, (RAMP_CAP_S + o.warmup) * 1000));
  await instance;
  for (const t of timers) clearTimeout(t);
  if ((phase as Phase) !== 'done') throw new Error(`bench: the load run on port ${o.port} ended before its measured window did`);
  const wall = (t1 - t0) / 1000;
  const sorted = latencies.slice(0, ok).sort();
  const total = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  const serverCpu = cpu0 !== null && cpu1 !== null ? (cpu1 - cpu0) / wall : null;
  const loadCpu = (self.user + self.system) / 1e6 / wall;
  const otherCpu = busy0 !== null && busy1 !== null ? Math.max(0, (busy1 - busy0) / wall - (serverCpu ?? 0) - loadCpu) : null;
  return {
    rps: round(ok / wall, 1),
    p50: round(pct(sorted, 50), 2),
    p90: round(pct(sorted, 90), 2),
    p99: round(pct(sorted, 99), 2),
    max: round(sorted.at(-1) ?? NaN, 2),
    mean: round(sorted.reduce((a, b) => a + b, 0) / (ok || 1), 2),
    ok,
    non2xx: total - ok,
    errors,
    statusCodes,
    seconds: round(wall, 2),
    mbPerS: round(bytes / wall / 2 ** 20, 1),
    warmupMax: round(warmupMax, 1),
    rampS,
    serverCpu: serverCpu === null ? null : round(serverCpu, 2),
    loadCpu: round(loadCpu, 2),
    otherCpu: otherCpu === null ? null : round(otherCpu, 2),
  };
}

export interface PacedResult {
  /** Requests per second asked for, and answered (2xx). */
  rate: number;
  rps: number;
  /** Latency from each request's scheduled time (open loop: waiting for a free connection counts). */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  ok: number;
  failed: number;
  seconds: number;
  serverCpu: number | null;
  /** CPU of this process (the load generator) over the window, as a share of one core. */
  loadCpu: number;
}

/**
 * An open-loop load: requests sent at a steady rate whatever the answers (node:http, keep-alive,
 * at most `connections` sockets), each timed from when it was due. Unlike a closed loop that keeps
 * every connection busy, this shows latency below saturation. (autocannon's own rate option sends
 * each connection's quota in a burst at the start of every second.) The first second is not counted.
 */
export async function paced(o: { port: number; paths: readonly string[]; connections: number; rate: number; seconds: number; headers?: Record<string, string>; serverPid?: number }): Promise<PacedResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.connections });
  const warm = 1000;
  const total = o.seconds * 1000 + warm;
  const latencies: number[] = [];
  let failed = 0;
  let sent = 0;
  let pending = 0;
  const start = performance.now();
  let cpu0: number | null = null;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  let stopped = false;
  const send = (due: number, measured: boolean) => {
    pending++;
    const req = http.get({ host: '127.0.0.1', port: o.port, path: o.paths[sent % o.paths.length], agent, headers: o.headers ?? {} }, (res) => {
      res.resume();
      res.on('end', () => {
        if (measured) {
          if (res.statusCode === 200) latencies.push(performance.now() - due);
          else failed++;
        }
        if (--pending === 0 && stopped) done();
      });
    });
    req.on('error', () => {
      if (measured) failed++;
      if (--pending === 0 && stopped) done();
    });
    sent++;
  };
  let self0 = process.cpuUsage();
  let self = self0;
  setTimeout(() => {
    cpu0 = o.serverPid ? cpuSeconds(o.serverPid) : null;
    self0 = process.cpuUsage();
  }, warm);
  let cpu1: number | null = null;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const now = performance.now() - start;
      // Request k is due at k / rate: by now, requests 0 … floor(now · rate) are.
      const due = Math.min(Math.floor((now * o.rate) / 1000) + 1, Math.floor((total * o.rate) / 1000));
      while (sent < due) {
        const at = start + (sent * 1000) / o.rate;
        send(at, at - start >= warm);
      }
      if (now >= total) {
        clearInterval(tick);
        cpu1 = o.serverPid ? cpuSeconds(o.serverPid) : null;
        self = process.cpuUsage(self0);
        resolve();
      }
    }, 1);
  });
  stopped = true;
  if (pending > 0) await Promise.race([finished, new Promise((r) => setTimeout(r, 30_000))]);
  agent.destroy();
  const sorted = Float64Array.from(latencies).sort();
  return {
    rate: o.rate,
    rps: round(latencies.length / o.seconds, 1),
    p50: round(pct(sorted, 50), 2),
    p90: round(pct(sorted, 90), 2),
    p99: round(pct(sorted, 99), 2),
    max: round(sorted.at(-1) ?? NaN, 2),
    ok: latencies.length,
    failed,
    seconds: o.seconds,
    serverCpu: cpu0 !== null && cpu1 !== null ? round((cpu1 - cpu0) / o.seconds, 2) : null,
    loadCpu: round((self.user + self.system) / 1e6 / o.seconds, 2),
  };
}

// ---------------------------------------------------------------------------------------------
// /proc

const CLK_TCK = 100;

/** User + system CPU seconds of a process (Linux), or null. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** CPU seconds the whole machine spent busy since boot (Linux: /proc/stat, all but idle and iowait), or null. */
export function machineBusySeconds(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return (total - f[3]! - f[4]!) / CLK_TCK;
  } catch {
    return null;
  }
}

/** Resident set now and its high-water mark, MB (Linux), or null. */
export function rssOf(pid: number): { rssMb: number; hwmMb: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    return { rssMb: round(Number(/VmRSS:\s+(\d+)/.exec(s)?.[1]) / 1024, 1), hwmMb: round(Number(/VmHWM:\s+(\d+)/.exec(s)?.[1]) / 1024, 1) };
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Server children

export interface Served<T> {
  pid: number;
  /** The child's first stdout line, parsed: it carries `port`. */
  hello: T & { port: number };
  stop(): Promise<void>;
  stderrTail(): string;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) if (c.exitCode === null) c.kill('SIGKILL');
});

/**
 * Starts `node --import tsx script args…` and waits for its first stdout line (JSON with the
 * port it listens on). The child exits when its stdin closes, so it never outlives this process.
 */
export function serve<T>(script: string, args: string[], timeoutS: number): Promise<Served<T>> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-20_000);
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(t);
        running.delete(child);
        resolve();
      });
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`bench: ${script} did not start within ${timeoutS} s\n${stderr.slice(-3000)}`));
    }, timeoutS * 1000);
    const onData = (d: string) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      child.stdout!.off('data', onData);
      clearTimeout(timer);
      try {
        const hello = JSON.parse(out.slice(0, nl)) as T & { port: number };
        resolve({ pid: child.pid!, hello, stop, stderrTail: () => stderr.slice(-3000) });
      } catch {
        void stop();
        reject(new Error(`bench: ${script} said ${JSON.stringify(out.slice(0, 300))}\n${stderr.slice(-3000)}`));
      }
    };
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      reject(new Error(`bench: ${script} exited with ${code ?? signal}\n${stderr.slice(-3000)}`));
    });
  });
}

/** For the children: exit when the parent goes (stdin closes) or asks (SIGTERM). */
export function exitWithParent(cleanup: () => Promise<void>): void {
  let closing = false;
  const bye = () => {
    if (closing) return;
    closing = true;
    cleanup().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.stdin.on('end', bye).on('close', bye).resume();
  process.on('SIGTERM', bye);
  process.on('SIGINT', bye);
}
