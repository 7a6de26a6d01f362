import BetterSqlite3 from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DbError, type Database, type HeldLock, type Param, type RunResult, type Sql } from './sql.ts';

type Statement = BetterSqlite3.Statement<unknown[]>;

/** A simple FIFO lock: transactions on the single SQLite connection never interleave. */
class Lock {
  private tail: Promise<void> = Promise.resolve();
  held = false;
  async acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((r) => (release = r));
    const prev = this.tail;
    this.tail = prev.then(() => next);
    await prev;
    this.held = true;
    return () => {
      this.held = false;
      release();
    };
  }
  /** Resolves once no transaction holds the lock. */
  async idle(): Promise<void> {
    while (this.held) await this.tail;
  }
}

class SqliteSql implements Sql {
  readonly dialect = 'sqlite' as const;
  constructor(
    protected readonly conn: BetterSqlite3.Database,
    private readonly cache: Map<string, Statement>,
    protected readonly lock: Lock,
    private readonly inTx: boolean,
  ) {}

  private prepare(sql: string): Statement {
    let st = this.cache.get(sql);
    if (!st) {
      try {
        st = this.conn.prepare(sql);
      } catch (err) {
        throw new DbError(`db: unable to prepare statement: ${(err as Error).message}: ${sql.slice(0, 200)}`, { cause: err });
      }
      if (this.cache.size > 500) this.cache.clear();
      this.cache.set(sql, st);
    }
    return st;
  }

  private async ready(): Promise<void> {
    if (!this.inTx && this.lock.held) await this.lock.idle();
  }

  async all<T>(sql: string, params: readonly Param[] = []): Promise<T[]> {
    await this.ready();
    return this.prepare(sql).all(...params) as T[];
  }

  async get<T>(sql: string, params: readonly Param[] = []): Promise<T | undefined> {
    await this.ready();
    return this.prepare(sql).get(...params) as T | undefined;
  }

  async run(sql: string, params: readonly Param[] = []): Promise<RunResult> {
    await this.ready();
    const r = this.prepare(sql).run(...params);
    return { changes: r.changes };
  }

  async exec(sql: string): Promise<void> {
    await this.ready();
    this.conn.exec(sql);
  }

  async tx<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    if (this.inTx) return fn(this); // nested: join the outer transaction
    const release = await this.lock.acquire();
    try {
      this.conn.exec('BEGIN IMMEDIATE');
      const inner = new SqliteSql(this.conn, this.cache, this.lock, true);
      try {
        const result = await fn(inner);
        this.conn.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.conn.inTransaction) this.conn.exec('ROLLBACK');
        throw err;
      }
    } finally {
      release();
    }
  }
}

/** Pages of an online backup: `totalPages` in the snapshot, `remainingPages` still to copy. */
export interface SqliteBackupProgress {
  totalPages: number;
  remainingPages: number;
}

/** A SQLite database: the common interface plus what only SQLite has. */
export interface SqliteDb extends Database {
  /**
   * Online backup into `file` (created; its directory must exist) with SQLite's backup API, page by
   * page. A read transaction is held from the first page to the last, so the copy is one consistent
   * snapshot and, in WAL mode, other processes keep writing meanwhile (without it, every write by
   * another process would restart the copy). The file is left in rollback-journal mode: one
   * self-contained file.
   */
  backup(file: string, opts?: { pagesPerStep?: number; onProgress?: (p: SqliteBackupProgress) => void }): Promise<SqliteBackupProgress>;
}

class SqliteDatabase extends SqliteSql implements SqliteDb {
  private readonly locks = new Set<string>();
  async tryLock(name: string): Promise<HeldLock | null> {
    if (this.locks.has(name)) return null;
    this.locks.add(name);
    let held = true;
    return {
      exclusive: false,
      alive: async () => held,
      release: async () => {
        if (held) this.locks.delete(name);
        held = false;
      },
    };
  }
  constructor(
    conn: BetterSqlite3.Database,
    readonly description: string,
  ) {
    super(conn, new Map(), new Lock(), false);
  }
  async backup(file: string, opts: { pagesPerStep?: number; onProgress?: (p: SqliteBackupProgress) => void } = {}): Promise<SqliteBackupProgress> {
    const release = await this.lock.acquire();
    try {
      this.conn.exec('BEGIN');
      let done: SqliteBackupProgress;
      try {
        this.conn.prepare('SELECT COUNT(*) FROM sqlite_master').get(); // the snapshot starts here
        done = await this.conn.backup(file, {
          progress: (p) => {
            opts.onProgress?.(p);
            return opts.pagesPerStep ?? Math.max(256, Math.ceil(p.totalPages / 100));
          },
        });
      } finally {
        if (this.conn.inTransaction) this.conn.exec('COMMIT');
      }
      const copy = new BetterSqlite3(file);
      try {
        copy.pragma('journal_mode = DELETE');
      } finally {
        copy.close();
      }
      opts.onProgress?.(done);
      return done;
    } catch (err) {
      throw new DbError(`db: unable to back up ${this.description} into ${file}: ${(err as Error).message}`, { cause: err });
    } finally {
      release();
    }
  }
  async close(): Promise<void> {
    await this.lock.idle();
    if (this.conn.open) this.conn.close();
  }
}

/**
 * Opens (creating if needed) a SQLite database in WAL mode. `readonly`: an existing file, opened
 * read-only with its journal mode left as it is (inspecting a backup).
 */
export function openSqlite(file: string, opts: { readonly?: boolean } = {}): SqliteDb {
  if (file !== ':memory:' && !opts.readonly) mkdirSync(path.dirname(file), { recursive: true });
  let conn: BetterSqlite3.Database;
  try {
    conn = new BetterSqlite3(file, opts.readonly ? { readonly: true, fileMustExist: true } : {});
  } catch (err) {
    throw new DbError(`db: unable to open SQLite database ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (opts.readonly) return new SqliteDatabase(conn, `sqlite:${file}`);
  conn.pragma('journal_mode = WAL');
  conn.pragma('synchronous = NORMAL');
  conn.pragma('foreign_keys = ON');
  conn.pragma('busy_timeout = 5000');
  conn.pragma('cache_size = -65536'); // 64 MiB page cache
  conn.pragma('temp_store = MEMORY');
  conn.pragma('wal_autocheckpoint = 10000'); // fewer, larger checkpoints: bulk ingest is ~20% faster
  return new SqliteDatabase(conn, `sqlite:${file}`);
}
