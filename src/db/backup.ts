import { closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { latestVersion, migrate } from './migrations.ts';
import { describePostgres } from './postgres.ts';
import type { Sql } from './sql.ts';
import { openSqlite, type SqliteBackupProgress, type SqliteDb } from './sqlite.ts';

/**
 * `paperboy backup` and `paperboy restore` for SQLite. A backup is SQLite's online backup API run
 * inside one read transaction (see `SqliteDb.backup`): a consistent snapshot, copied while the
 * service keeps writing (WAL), into a temp name that is verified and only then renamed to its
 * final name. A restore checks the file (a SQLite database, paperboy's, not newer than this
 * paperboy, intact), migrates a copy of it to the current schema next to the live database, moves
 * the live database aside as `<name>.before-restore-<time>` and renames the copy into its place.
 * PostgreSQL is backed up with its own tools (`postgresGuidance`).
 */

export class BackupError extends Error {
  /** refused: nothing was changed (bad input, or a check failed first; exit 2); otherwise a failure part way (exit 1). */
  constructor(
    message: string,
    readonly refused: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BackupError';
  }
}

/** `YYYYMMDD-HHMMSS` in UTC. */
export function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** `<data dir>/backups/paperboy-YYYYMMDD-HHMMSS.db` (UTC), with `-2`, `-3` … when taken within the same second. */
export function defaultBackupFile(dir: string, now: Date): string {
  const base = path.join(dir, `paperboy-${stamp(now)}`);
  let file = `${base}.db`;
  for (let i = 2; existsSync(file); i++) file = `${base}-${i}.db`;
  return file;
}

// ------------------------------------------------------------------ inspecting a database file

export interface TableCount {
  table: string;
  rows: number;
}

export interface DatabaseFacts {
  file: string;
  bytes: number;
  /** `ok`, or the first problems `PRAGMA integrity_check` (or `quick_check`) found. */
  integrity: string[];
  /** The highest applied migration; null when the file holds no paperboy schema. */
  schemaVersion: number | null;
  /** Rows per data table (not the search index, not schema_migrations), by name. */
  tables: TableCount[];
}

const INTEGRITY_LINES = 10;

async function tableNames(db: Sql): Promise<string[]> {
  const list = await db.all<{ schema: string; name: string; type: string }>('PRAGMA table_list');
  return list
    .filter((t) => t.schema === 'main' && t.type === 'table' && !t.name.startsWith('sqlite_') && t.name !== 'schema_migrations')
    .map((t) => t.name)
    .sort();
}

async function countIn(db: Sql, tables: readonly string[]): Promise<TableCount[]> {
  const out: TableCount[] = [];
  for (const table of tables) {
    const r = await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM "${table.replace(/"/g, '""')}"`);
    out.push({ table, rows: Number(r?.n ?? 0) });
  }
  return out;
}

async function schemaVersionOf(db: Sql): Promise<number | null> {
  const t = await db.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
  if (!t) return null;
  const hasPapers = await db.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'papers'");
  const r = await db.get<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
  if (!hasPapers || r?.v == null) return null;
  return Number(r.v);
}

/**
 * Opens a SQLite file read-only and reports its integrity, paperboy schema version and row counts.
 * Throws BackupError (refused) when it is not a SQLite database at all.
 */
export async function inspectSqlite(file: string, opts: { quick?: boolean; what?: string } = {}): Promise<DatabaseFacts> {
  const what = opts.what ?? file;
  let db: SqliteDb;
  try {
    db = openSqlite(file, { readonly: true });
  } catch (err) {
    throw new BackupError(`${what} cannot be opened: ${(err as Error).message}`, true, { cause: err });
  }
  try {
    let integrity: string[];
    try {
      const rows = await db.all<Record<string, string>>(`PRAGMA ${opts.quick ? 'quick_check' : 'integrity_check'}(${INTEGRITY_LINES})`);
      integrity = rows.map((r) => String(Object.values(r)[0]));
    } catch (err) {
      throw new BackupError(`${what} is not a SQLite database (${(err as Error).message})`, true, { cause: err });
    }
    const ok = integrity.length === 1 && integrity[0] === 'ok';
    let schemaVersion: number | null = null;
    let tables: TableCount[] = [];
    try {
      schemaVersion = await schemaVersionOf(db);
      tables = await countIn(db, await tableNames(db));
    } catch (err) {
      if (ok) throw new BackupError(`${what}: unable to read it: ${(err as Error).message}`, true, { cause: err });
      // a damaged file: report what integrity_check said
    }
    return { file, bytes: statSync(file).size, integrity, schemaVersion, tables };
  } finally {
    await db.close();
  }
}

export const integrityOk = (f: DatabaseFacts): boolean => f.integrity.length === 1 && f.integrity[0] === 'ok';

// ------------------------------------------------------------------ backup

export interface BackupOptions {
  /** Replace FILE when it exists. */
  force?: boolean;
  /** Verify with `PRAGMA quick_check` (no index cross-check): faster on large databases. */
  quick?: boolean;
  pagesPerStep?: number;
  onProgress?: (p: SqliteBackupProgress) => void;
  now?: () => Date;
}

export interface BackupReport {
  source: string;
  file: string;
  bytes: number;
  pages: number;
  /** When the snapshot was taken (the backup holds everything committed before it) and when the copy ended. */
  startedAt: string;
  copiedAt: string;
  copySeconds: number;
  verifySeconds: number;
  integrity: string[];
  schemaVersion: number | null;
  tables: TableCount[];
  ok: boolean;
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // not every platform syncs directories
  }
}

function removeFile(file: string): void {
  for (const f of [file, `${file}-journal`, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
}

/** Backs up the SQLite database `source` into `file` (a new file; `force` replaces one). */
export async function backupSqlite(source: string, file: string, opts: BackupOptions = {}): Promise<BackupReport> {
  const now = opts.now ?? (() => new Date());
  if (!existsSync(source)) throw new BackupError(`backup: there is no database at ${source} (nothing to back up)`, true);
  if (path.resolve(source) === path.resolve(file)) throw new BackupError('backup: the backup file is the database itself', true);
  if (existsSync(file) && !opts.force) throw new BackupError(`backup: ${file} already exists (--force replaces it)`, true);
  try {
    mkdirSync(path.dirname(file), { recursive: true });
  } catch (err) {
    throw new BackupError(`backup: unable to create ${path.dirname(file)}: ${(err as Error).message}`, true, { cause: err });
  }
  // Written under a name that says it is incomplete; renamed only once verified.
  const partial = `${file}.partial-${process.pid}`;
  removeFile(partial);
  let db: SqliteDb;
  try {
    db = openSqlite(source);
  } catch (err) {
    throw new BackupError(`backup: unable to open ${source}: ${(err as Error).message}`, false, { cause: err });
  }
  const started = now();
  let pages: SqliteBackupProgress;
  try {
    pages = await db.backup(partial, { ...(opts.pagesPerStep ? { pagesPerStep: opts.pagesPerStep } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  } catch (err) {
    removeFile(partial);
    throw new BackupError(`backup: unable to copy ${source}: ${(err as Error).message}`, false, { cause: err });
  } finally {
    await db.close();
  }
  const copied = now();
  let facts: DatabaseFacts;
  try {
    facts = await inspectSqlite(partial, { ...(opts.quick ? { quick: true } : {}), what: 'backup: the copy' });
  } catch (err) {
    removeFile(partial);
    throw new BackupError((err as Error).message, false, { cause: err });
  }
  const ok = integrityOk(facts);
  if (!ok) {
    removeFile(partial);
    throw new BackupError(`backup: the copy fails its integrity check: ${facts.integrity.slice(0, 3).join('; ')}`, false);
  }
  try {
    renameSync(partial, file);
  } catch (err) {
    removeFile(partial);
    throw new BackupError(`backup: unable to rename the verified copy to ${file}: ${(err as Error).message}`, false, { cause: err });
  }
  syncDir(path.dirname(file));
  const verified = now();
  return {
    source: `sqlite:${source}`,
    file,
    bytes: facts.bytes,
    pages: pages.totalPages,
    startedAt: started.toISOString(),
    copiedAt: copied.toISOString(),
    copySeconds: (copied.getTime() - started.getTime()) / 1000,
    verifySeconds: (verified.getTime() - copied.getTime()) / 1000,
    integrity: facts.integrity,
    schemaVersion: facts.schemaVersion,
    tables: facts.tables,
    ok,
  };
}

// ------------------------------------------------------------------ restore

export interface RestoreOptions {
  /** Replace a database that holds data, or one another process has open. */
  force?: boolean;
  quick?: boolean;
  now?: () => Date;
  /** A line worth telling the operator as it happens (warnings). */
  onNote?: (line: string) => void;
}

export interface RestoreReport {
  file: string;
  target: string;
  /** The backup's schema version, and the version it was migrated to. */
  fromVersion: number;
  schemaVersion: number;
  applied: number[];
  integrity: string[];
  tables: TableCount[];
  /** Where the replaced database was moved; null when there was none. */
  replaced: string | null;
  /** What the replaced database held (papers, subscribers, votes), when it could be read. */
  replacedRows: TableCount[] | null;
  /** Another process had the database open (only with force). */
  inUse: boolean;
  seconds: number;
  ok: boolean;
}

/** Tables whose rows make a database worth keeping: replacing one that has any needs force. */
const KEEPERS = ['papers', 'subscribers', 'votes'];

/** What the current database holds, or the error that kept us from reading it. */
async function currentContents(target: string): Promise<TableCount[] | Error> {
  let db: SqliteDb | undefined;
  try {
    db = openSqlite(target, { readonly: true });
    const have = new Set(await tableNames(db));
    return await countIn(
      db,
      KEEPERS.filter((t) => have.has(t)),
    );
  } catch (err) {
    return err as Error;
  } finally {
    await db?.close();
  }
}

/**
 * Whether another process has the database open: in WAL mode every connection holds a shared lock
 * on the file for as long as it is open, so an exclusive lock is only granted when none is. When it
 * is granted, the WAL is checkpointed into the file and removed, so the file alone is the whole
 * database before it is moved aside.
 */
async function takeOver(target: string): Promise<boolean> {
  let db: SqliteDb;
  try {
    db = openSqlite(target);
  } catch {
    return false; // unreadable: nothing can be using it as a database either
  }
  try {
    await db.exec('PRAGMA busy_timeout = 0');
    await db.exec('PRAGMA locking_mode = EXCLUSIVE');
    await db.exec('BEGIN EXCLUSIVE');
    await db.exec('COMMIT');
    await db.all('PRAGMA wal_checkpoint(TRUNCATE)');
    return false;
  } catch (err) {
    if (/locked|busy/i.test((err as Error).message)) return true;
    return false; // damaged or not a database: not in use by paperboy
  } finally {
    await db.close().catch(() => {});
  }
}

const SIDECARS = ['-wal', '-shm'] as const;

/** Restores the backup `file` into the SQLite database `target` (which need not exist). */
export async function restoreSqlite(file: string, target: string, opts: RestoreOptions = {}): Promise<RestoreReport> {
  const now = opts.now ?? (() => new Date());
  const t0 = Date.now();
  if (!existsSync(file)) throw new BackupError(`restore: there is no file ${file}`, true);
  if (!statSync(file).isFile()) throw new BackupError(`restore: ${file} is not a file`, true);
  if (path.resolve(file) === path.resolve(target)) throw new BackupError('restore: the file is the database itself', true);

  // Work on a copy next to the target: the backup file is never changed, and the final step is a rename.
  const temp = `${target}.restoring-${process.pid}`;
  try {
    mkdirSync(path.dirname(target), { recursive: true });
    removeFile(temp);
    copyFileSync(file, temp);
    // A copy of a live database may have its WAL beside it: SQLite applies it when it opens the copy.
    if (existsSync(`${file}-wal`) && statSync(`${file}-wal`).size > 0) copyFileSync(`${file}-wal`, `${temp}-wal`);
  } catch (err) {
    removeFile(temp);
    throw new BackupError(`restore: unable to copy ${file} next to ${target}: ${(err as Error).message}`, true, { cause: err });
  }
  let keep = false;
  try {
    let facts: DatabaseFacts;
    try {
      facts = await inspectSqlite(temp, { ...(opts.quick ? { quick: true } : {}), what: `restore: ${file}` });
    } catch (err) {
      if (err instanceof BackupError) throw new BackupError(err.message.replace(temp, file), true, { cause: err });
      throw err;
    }
    if (!integrityOk(facts)) {
      throw new BackupError(`restore: ${file} fails its integrity check: ${facts.integrity.slice(0, 3).join('; ')}`, true);
    }
    if (facts.schemaVersion === null) throw new BackupError(`restore: ${file} is a SQLite database, but not a paperboy database (no schema_migrations and papers tables)`, true);
    if (facts.schemaVersion > latestVersion) {
      throw new BackupError(`restore: ${file} has schema version ${facts.schemaVersion}, newer than this paperboy (${latestVersion}): restore it with a newer paperboy`, true);
    }

    // The current database: in use, or holding data, needs force.
    let inUse = false;
    let replacedRows: TableCount[] | null = null;
    if (existsSync(target)) {
      const contents = await currentContents(target);
      inUse = await takeOver(target);
      if (inUse && !opts.force) {
        throw new BackupError(
          `restore: ${target} is in use by another process (a running paperboy start/serve/worker?): stop it first (--force replaces the database anyway; the running process would keep writing to the replaced one)`,
          true,
        );
      }
      if (contents instanceof Error) {
        if (!opts.force) throw new BackupError(`restore: ${target} exists but cannot be read (${contents.message}): --force replaces it (it is kept aside)`, true);
      } else {
        replacedRows = contents;
        const held = contents.filter((c) => c.rows > 0);
        if (held.length && !opts.force) {
          throw new BackupError(`restore: ${target} is not empty (${held.map((c) => `${c.rows} ${c.table}`).join(', ')}): --force replaces it (it is kept aside as ${path.basename(target)}.before-restore-<time>)`, true);
        }
      }
      if (inUse) opts.onNote?.(`${target} is in use by another process: replacing it anyway (--force). Stop that process now, before paperboy starts on the restored database: until it stops, it writes to the replaced one`);
    }

    // Bring the copy to this paperboy's schema, then fold its WAL back into the one file.
    let applied: number[];
    const db = openSqlite(temp);
    try {
      applied = await migrate(db);
      await db.all('PRAGMA wal_checkpoint(TRUNCATE)');
    } catch (err) {
      throw new BackupError(`restore: unable to migrate the restored database to version ${latestVersion}: ${(err as Error).message}`, false, { cause: err });
    } finally {
      await db.close();
    }
    for (const s of SIDECARS) rmSync(`${temp}${s}`, { force: true });

    // Swap: the current database (and its WAL, if a process still holds one) moves aside, the copy moves in.
    let replaced: string | null = null;
    if (existsSync(target)) {
      replaced = `${target}.before-restore-${stamp(now())}`;
      for (let i = 2; existsSync(replaced); i++) replaced = `${target}.before-restore-${stamp(now())}-${i}`;
      try {
        renameSync(target, replaced);
        for (const s of SIDECARS) if (existsSync(`${target}${s}`)) renameSync(`${target}${s}`, `${replaced}${s}`);
      } catch (err) {
        throw new BackupError(`restore: unable to move ${target} aside: ${(err as Error).message}`, false, { cause: err });
      }
    }
    try {
      renameSync(temp, target);
    } catch (err) {
      if (replaced) {
        keep = true;
        throw new BackupError(`restore: unable to move the restored database into place (${(err as Error).message}); the previous one is at ${replaced} and the restored one at ${temp}`, false, { cause: err });
      }
      throw new BackupError(`restore: unable to move the restored database into place: ${(err as Error).message}`, false, { cause: err });
    }
    syncDir(path.dirname(target));

    const restored = openSqlite(target);
    let tables: TableCount[];
    try {
      tables = await countIn(restored, await tableNames(restored));
    } finally {
      await restored.close();
    }
    return {
      file,
      target: `sqlite:${target}`,
      fromVersion: facts.schemaVersion,
      schemaVersion: latestVersion,
      applied,
      integrity: facts.integrity,
      tables,
      replaced,
      replacedRows,
      inUse,
      seconds: (Date.now() - t0) / 1000,
      ok: true,
    };
  } finally {
    if (!keep) removeFile(temp);
  }
}

// ------------------------------------------------------------------ PostgreSQL

/** What to do instead on PostgreSQL: its own online backup is a logical dump. */
export function postgresGuidance(command: 'backup' | 'restore', url: string): string[] {
  let schema: string | null = null;
  try {
    schema = new URL(url).searchParams.get('schema');
  } catch {
    // described as unparsable below
  }
  const lines = [
    `${command}: DATABASE_URL is PostgreSQL (${describePostgres(url)}); paperboy ${command} handles SQLite only.`,
    "Use PostgreSQL's own tools: a logical dump is a consistent snapshot taken while paperboy keeps running.",
    'Back up:',
    '  pg_dump --format=custom --no-owner "$DATABASE_URL" > paperboy.dump',
    'Restore (stop every paperboy process first; paperboy migrates the restored schema when it starts):',
    '  pg_restore --clean --if-exists --no-owner -d "$DATABASE_URL" paperboy.dump',
  ];
  const how = 'give them the URL without it, and name the schema to pg_dump with --schema (-n): the dump then holds that schema alone, and pg_restore recreates it';
  if (schema) {
    lines.push(
      `DATABASE_URL has ?schema=${schema}, which pg_dump and pg_restore do not accept: ${how}:`,
      `  pg_dump --format=custom --no-owner --schema=${schema} "$URL_WITHOUT_SCHEMA" > paperboy.dump`,
      `  pg_restore --clean --if-exists --no-owner -d "$URL_WITHOUT_SCHEMA" paperboy.dump`,
    );
  } else {
    lines.push(`With ?schema=NAME in DATABASE_URL (pg_dump and pg_restore do not accept it): ${how}.`);
  }
  return lines;
}
