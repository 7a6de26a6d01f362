/**
 * The one database interface the store talks to. Implementations: SQLite
 * (better-sqlite3) now, PostgreSQL later; callers never know which.
 * Placeholders are `?`, positional.
 */
export type Param = string | number | bigint | null | Buffer;

export type Dialect = 'sqlite' | 'postgres';

export interface RunResult {
  changes: number;
}

export interface Sql {
  readonly dialect: Dialect;
  all<T>(sql: string, params?: readonly Param[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly Param[]): Promise<T | undefined>;
  run(sql: string, params?: readonly Param[]): Promise<RunResult>;
  /** Several statements, no parameters (migrations). */
  exec(sql: string): Promise<void>;
  /** Runs fn in one transaction: committed when it resolves, rolled back when it throws. */
  tx<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
}

/** A lock held for as long as the process keeps it (see `Database.tryLock`). */
export interface HeldLock {
  /** True when no other process can hold it at the same time (PostgreSQL); false for a lock within one process (SQLite). */
  readonly exclusive: boolean;
  /** False once the lock is known to be lost (PostgreSQL: its connection broke). */
  alive(): Promise<boolean>;
  release(): Promise<void>;
}

export interface Database extends Sql {
  /** Where the data lives, for messages (never includes a password). */
  readonly description: string;
  /**
   * Takes a named lock without waiting, or returns null when another holder has it. On
   * PostgreSQL it is a session advisory lock on a connection of its own: when the holding process
   * dies, the server drops the connection and the lock with it, so another process can take over.
   * On SQLite (one machine) it is held within this process only.
   */
  tryLock(name: string): Promise<HeldLock | null>;
  close(): Promise<void>;
}

export class DbError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DbError';
  }
}
