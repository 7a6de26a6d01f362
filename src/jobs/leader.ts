import type { Database, HeldLock } from '../db/sql.ts';

/**
 * One scheduler at a time across every worker process: the leader holds a database lock
 * (a PostgreSQL session advisory lock). Every other worker asks again on each tick, so when the
 * leader dies its lock goes with its connection and the next tick elsewhere takes over.
 */
export class Leadership {
  private lock: HeldLock | null = null;
  private pending: Promise<boolean> | undefined;
  /** Set when leadership was just taken; read (and cleared) by `takeOver()`. */
  private elected = false;

  constructor(
    private readonly db: Database,
    private readonly name = 'scheduler',
    private readonly onChange: (leader: boolean) => void = () => {},
  ) {}

  /** True when this process leads now: it held the lock and still does, or it just took it. */
  isLeader(): Promise<boolean> {
    this.pending ??= this.check().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async check(): Promise<boolean> {
    if (this.lock) {
      if (await this.lock.alive()) return true;
      await this.lock.release().catch(() => {});
      this.lock = null;
      this.onChange(false);
    }
    this.lock = await this.db.tryLock(this.name);
    if (this.lock) {
      this.elected = true;
      this.onChange(true);
    }
    return this.lock !== null;
  }

  /**
   * True once after this process became the only leader (an exclusive lock): what earlier
   * leaders held, they held as leaders, and they no longer lead, so their job leases may be
   * taken over at once instead of waiting for them to run out.
   */
  takeOver(): boolean {
    const yes = this.elected && this.lock?.exclusive === true;
    this.elected = false;
    return yes;
  }

  async release(): Promise<void> {
    await this.pending?.catch(() => false);
    const lock = this.lock;
    this.lock = null;
    if (lock) {
      await lock.release();
      this.onChange(false);
    }
  }
}
