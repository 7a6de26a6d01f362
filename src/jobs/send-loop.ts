import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { App } from '../app.ts';
import type { RunSummary } from '../digest/service.ts';

/**
 * Every worker process sends: it claims batches of due digests (leases in the outbox rows; on
 * PostgreSQL with SKIP LOCKED, so workers never wait on each other), sends them, and when nothing
 * is claimable sleeps `pollMs` before it looks again. The outbox rows are the durable record:
 * a worker that dies leaves leases that expire, and any worker picks those rows up again.
 */
export class SendLoop {
  readonly worker = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private stopped = false;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly app: App,
    private readonly pollMs = 5_000,
  ) {}

  start(): void {
    this.running ??= this.loop();
  }

  /** One pass: sends everything claimable now. */
  async once(): Promise<RunSummary> {
    return this.app.digests.sendDue({ worker: this.worker });
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let summary: RunSummary | undefined;
      try {
        summary = await this.once();
        if (summary.due) this.app.log.info({ worker: this.worker, ...summary }, 'digest: sent a batch');
      } catch (err) {
        this.app.log.error({ worker: this.worker }, `digest: sending failed: ${(err as Error).message}`);
      }
      if (this.stopped) break;
      if (summary?.due) continue; // there may be more: look again at once
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, this.pollMs);
        this.timer.unref();
      });
    }
  }

  /** Stops claiming; the messages in flight finish (and are marked) first. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.app.digests.stop();
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    await this.running;
  }
}
