import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { App } from '../app.ts';
import { claimJob, ensureJob, finishJob, releaseOtherLeases, renewJob } from '../store/jobs.ts';
import type { Leadership } from './leader.ts';

export interface JobDefinition {
  name: string;
  intervalMs: number;
  /** How long a claim holds before another process may take the job over. */
  leaseMs: number;
  /** Runs the job; `key` is an idempotency key for this interval's slot. Throws or returns a status line. */
  run(app: App, key: string): Promise<string>;
}

export interface SchedulerOptions {
  /** How often to look for due jobs (default 15 s). */
  tickMs?: number;
  /** When given, only the leader runs jobs (one scheduler at a time across processes). */
  leader?: Leadership;
}

/**
 * Durable scheduling: the `jobs` table is the queue. Each tick claims due jobs
 * with a lease, runs them one at a time, and records the outcome and the next
 * run. A job never overlaps itself, and a restart picks up where it left off.
 * With a `leader`, a process that does not lead skips its ticks; the job leases
 * still hold if two ever think they lead.
 */
export class Scheduler {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Map<string, Promise<void>>();
  private stopped = false;

  private readonly tickMs: number;
  private readonly leader: Leadership | undefined;

  constructor(
    private readonly app: App,
    private readonly jobs: readonly JobDefinition[],
    opts: SchedulerOptions | number = {},
  ) {
    const o = typeof opts === 'number' ? { tickMs: opts } : opts;
    this.tickMs = o.tickMs ?? 15_000;
    this.leader = o.leader;
  }

  async start(): Promise<void> {
    const now = this.app.now().toISOString();
    for (const j of this.jobs) await ensureJob(this.app.db, j.name, now);
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      // The next tick does not wait for this one's jobs: a long ingest never delays the digests.
      this.tick().catch((err: Error) => this.app.log.error(`jobs: tick failed: ${err.message}`));
      this.schedule(this.tickMs);
    }, ms);
    this.timer.unref();
  }

  /**
   * One pass over the jobs: claims every due job this process can (none it is already running)
   * and runs them side by side; resolves when they have finished.
   */
  async tick(): Promise<string[]> {
    const ran: string[] = [];
    if (this.leader && !(await this.leader.isLeader())) return ran;
    if (this.leader?.takeOver()) {
      const n = await releaseOtherLeases(this.app.db, this.owner);
      if (n) this.app.log.info(`jobs: took over ${n} job lease(s) of the previous scheduler`);
    }
    const started: Promise<void>[] = [];
    for (const job of this.jobs) {
      if (this.stopped) break;
      if (this.inFlight.has(job.name)) continue;
      const start = this.app.now();
      const claimed = await claimJob(this.app.db, job.name, this.owner, start.toISOString(), new Date(start.getTime() + job.leaseMs).toISOString());
      if (!claimed) continue;
      ran.push(job.name);
      const run = this.runClaimed(job, start).finally(() => this.inFlight.delete(job.name));
      this.inFlight.set(job.name, run);
      started.push(run);
    }
    await Promise.all(started);
    return ran;
  }

  private async runClaimed(job: JobDefinition, start: Date): Promise<void> {
    const slot = Math.floor(start.getTime() / job.intervalMs);
    const key = `${job.name}:${new Date(slot * job.intervalMs).toISOString()}`;
    let status: 'ok' | 'failed' = 'ok';
    let message: string | null;
    // Keep the lease alive while the job runs, so a long run is never taken over.
    const heartbeat = setInterval(() => {
      const until = new Date(this.app.now().getTime() + job.leaseMs).toISOString();
      renewJob(this.app.db, job.name, this.owner, until).catch((err: Error) =>
        this.app.log.warn({ job: job.name }, `jobs: unable to renew the lease: ${err.message}`),
      );
    }, Math.max(1000, job.leaseMs / 3));
    heartbeat.unref();
    try {
      message = await job.run(this.app, key);
    } catch (err) {
      status = 'failed';
      message = (err as Error).message;
      this.app.log.error({ job: job.name }, `jobs: ${job.name} failed: ${message}`);
    } finally {
      clearInterval(heartbeat);
    }
    const end = this.app.now();
    const next = new Date((slot + 1) * job.intervalMs);
    try {
      await finishJob(this.app.db, job.name, this.owner, {
        finishedAt: end.toISOString(),
        nextRunAt: (next > end ? next : new Date(end.getTime() + job.intervalMs)).toISOString(),
        status,
        message,
      });
    } catch (err) {
      // The lease runs out and the job is claimed again: nothing is lost.
      this.app.log.error({ job: job.name }, `jobs: unable to record the end of ${job.name}: ${(err as Error).message}`);
    }
  }

  /** Stops claiming; waits for the jobs in progress to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.all(this.inFlight.values());
    await this.leader?.release();
  }
}
