import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { currentVersion, latestVersion, migrate } from './migrations.ts';
import { describePostgres, openPostgres } from './postgres.ts';
import type { Database, Param, Sql } from './sql.ts';
import { openSqlite } from './sqlite.ts';

/**
 * Copies a whole paperboy instance from one database to another (SQLite or PostgreSQL, either
 * way), then proves the copy: per table, the row count and an order-independent checksum of the
 * rows' values, computed the same way in JS on both sides.
 *
 * Which tables: the real data tables of the latest schema, found by migrating a throwaway
 * in-memory SQLite database and reading its catalogue — so a table added by a later migration is
 * copied without anyone remembering to list it here. Left out: schema_migrations (the target
 * migrates itself), FTS5 virtual and shadow tables (rebuilt by their triggers as papers land),
 * PostgreSQL-only tables (the search index of migration 8, filled by triggers on insert), and
 * generated columns (papers.has_code). Ids are kept; PostgreSQL identity sequences are moved past
 * the largest id afterwards.
 *
 * Rows are read by keyset pagination on the primary key and written as multi-row INSERTs, one
 * transaction per page, reading the next page while the last one is written: memory stays
 * constant whatever the size.
 */

export type DatabaseUrl = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

export class MigrateDataError extends Error {
  /** refused: nothing was written (a usage problem, exit 2); otherwise the copy failed part way (exit 1). */
  constructor(
    message: string,
    readonly refused: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MigrateDataError';
  }
}

/** The forms DATABASE_URL accepts: `sqlite:PATH` (relative to the working directory) or `postgres://…` (with `?schema=`). */
export function parseDatabaseUrl(raw: string): DatabaseUrl {
  if (/^postgres(ql)?:\/\//i.test(raw)) return { kind: 'postgres', url: raw };
  const m = /^sqlite:(?:\/\/)?(.+)$/i.exec(raw);
  if (m?.[1] && m[1] !== ':memory:') return { kind: 'sqlite', path: path.resolve(m[1]) };
  throw new MigrateDataError(`migrate-data: ${JSON.stringify(raw.slice(0, 60))} is not a database URL: use sqlite:PATH or postgres://…`, true);
}

export function describeUrl(u: DatabaseUrl): string {
  return u.kind === 'sqlite' ? `sqlite:${u.path}` : describePostgres(u.url);
}

/** Opens one end. The source must already exist: opening would otherwise create it, empty. */
export async function openEnd(u: DatabaseUrl, role: 'source' | 'target'): Promise<Database> {
  try {
    return await openUnchecked(u, role);
  } catch (err) {
    if (err instanceof MigrateDataError) throw err;
    throw new MigrateDataError(`migrate-data: unable to open the ${role} ${describeUrl(u)}: ${(err as Error).message}`, true, { cause: err });
  }
}

async function openUnchecked(u: DatabaseUrl, role: 'source' | 'target'): Promise<Database> {
  if (u.kind === 'sqlite') {
    if (role === 'source' && !existsSync(u.path)) throw new MigrateDataError(`migrate-data: the source ${describeUrl(u)} does not exist`, true);
    return openSqlite(u.path);
  }
  if (role === 'source' && !(await pgSchemaExists(u.url))) {
    throw new MigrateDataError(`migrate-data: the source ${describeUrl(u)} has no schema ${pgSchemaOf(u.url)}`, true);
  }
  return openPostgres(u.url, { poolSize: MAX_WRITERS + 1 });
}

function pgSchemaOf(url: string): string | null {
  try {
    return new URL(url).searchParams.get('schema');
  } catch {
    return null;
  }
}

/** Whether the URL's `?schema=` exists (true without one), asked without creating it. */
export async function pgSchemaExists(url: string): Promise<boolean> {
  const schema = pgSchemaOf(url);
  if (schema === null) return true;
  const u = new URL(url);
  u.searchParams.delete('schema');
  const db = openPostgres(u.toString(), { poolSize: 1 });
  try {
    return Boolean(await db.get('SELECT 1 AS x FROM pg_namespace WHERE nspname = ?', [schema]));
  } catch (err) {
    throw new MigrateDataError(`migrate-data: unable to reach ${describePostgres(url)}: ${(err as Error).message}`, true, { cause: err });
  } finally {
    await db.close();
  }
}

// ------------------------------------------------------------------ the tables

export interface TableSpec {
  name: string;
  /** Stored columns in declaration order (generated columns left out). */
  columns: string[];
  /** Primary-key columns, in key order: the pagination key. */
  key: string[];
}

interface TableListRow {
  schema: string;
  name: string;
  type: string;
}
interface ColumnRow {
  name: string;
  pk: number;
  hidden: number;
}

let specs: Promise<TableSpec[]> | undefined;

/** The data tables of the latest schema, parents before children (foreign-key order). */
export function dataTables(): Promise<TableSpec[]> {
  specs ??= (async () => {
    const ref = openSqlite(':memory:');
    try {
      await migrate(ref);
      const created = await ref.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid");
      const list = await ref.all<TableListRow>('PRAGMA table_list');
      const plain = new Set(list.filter((t) => t.schema === 'main' && t.type === 'table').map((t) => t.name));
      const tables: (TableSpec & { parents: string[] })[] = [];
      for (const { name } of created) {
        if (!plain.has(name) || name.startsWith('sqlite_') || name === 'schema_migrations') continue;
        const cols = await ref.all<ColumnRow>(`PRAGMA table_xinfo("${name}")`);
        const key = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
        if (!key.length) throw new Error(`migrate-data: table ${name} has no primary key to page by`);
        const fks = await ref.all<{ table: string }>(`PRAGMA foreign_key_list("${name}")`);
        tables.push({ name, columns: cols.filter((c) => c.hidden === 0).map((c) => c.name), key, parents: [...new Set(fks.map((f) => f.table))].filter((p) => p !== name) });
      }
      // Stable topological sort: creation order, except that a table waits for its parents.
      const out: TableSpec[] = [];
      const placed = new Set<string>();
      while (out.length < tables.length) {
        const next = tables.find((t) => !placed.has(t.name) && t.parents.every((p) => placed.has(p)));
        if (!next) throw new Error('migrate-data: foreign keys form a cycle');
        placed.add(next.name);
        out.push({ name: next.name, columns: next.columns, key: next.key });
      }
      return out;
    } finally {
      await ref.close();
    }
  })();
  return specs;
}

const q = (id: string) => `"${id}"`;

function pageSql(t: TableSpec, first: boolean): string {
  const cols = t.columns.map(q).join(', ');
  const key = t.key.map(q).join(', ');
  const after = first ? '' : t.key.length === 1 ? ` WHERE ${key} > ?` : ` WHERE (${key}) > (${t.key.map(() => '?').join(', ')})`;
  return `SELECT ${cols} FROM ${q(t.name)}${after} ORDER BY ${key} LIMIT ?`;
}

type Row = Record<string, unknown>;

/** Every row of a table, a page at a time, in primary-key order (the side's own collation). */
async function* pages(db: Sql, t: TableSpec, batch: number): AsyncGenerator<Row[]> {
  let after: Param[] | undefined;
  for (;;) {
    const rows = await db.all<Row>(pageSql(t, after === undefined), [...(after ?? []), batch]);
    if (!rows.length) return;
    yield rows;
    if (rows.length < batch) return;
    const last = rows[rows.length - 1]!;
    after = t.key.map((k) => last[k] as Param);
  }
}

// ------------------------------------------------------------------ checksums

/**
 * One row as text, the same whichever database it came from: numbers by their shortest exact
 * decimal (−0 as 0), text length-prefixed, blobs (Buffer from SQLite, bytea from PostgreSQL) in
 * base64, NULL as its own tag.
 */
export function canonicalRow(row: Row, columns: readonly string[]): string {
  let s = '';
  for (const c of columns) {
    const v = row[c];
    if (v === null || v === undefined) s += 'N;';
    else if (typeof v === 'number') s += `F${Object.is(v, -0) ? '0' : String(v)};`;
    else if (typeof v === 'bigint') s += `F${v.toString()};`;
    else if (typeof v === 'string') s += `S${v.length}:${v}`;
    else if (v instanceof Uint8Array) {
      const b64 = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
      s += `B${b64.length}:${b64}`;
    } else if (typeof v === 'boolean') s += `F${v ? 1 : 0};`;
    else {
      const j = JSON.stringify(v);
      s += `J${j.length}:${j}`;
    }
  }
  return s;
}

/** Sums of per-row SHA-256 digests, lane by lane (eight 32-bit lanes): the order rows come in does not matter. */
export class RowSum {
  private readonly lanes = new Uint32Array(8);
  rows = 0;
  add(canonical: string): void {
    const d = createHash('sha256').update(canonical, 'utf8').digest();
    for (let i = 0; i < 8; i++) this.lanes[i] = (this.lanes[i]! + d.readUInt32BE(i * 4)) >>> 0;
    this.rows++;
  }
  hex(): string {
    return Array.from(this.lanes, (x) => x.toString(16).padStart(8, '0')).join('');
  }
}

export async function checksumTable(db: Sql, t: TableSpec, batch = 2000, onRows?: (n: number) => void): Promise<{ rows: number; checksum: string }> {
  const sum = new RowSum();
  for await (const rows of pages(db, t, batch)) {
    for (const r of rows) sum.add(canonicalRow(r, t.columns));
    onRows?.(rows.length);
  }
  return { rows: sum.rows, checksum: sum.hex() };
}

// ------------------------------------------------------------------ counting, emptiness

export async function countRows(db: Sql, table: string): Promise<number> {
  const r = await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${q(table)}`);
  return Number(r?.n ?? 0);
}

/** The schema version of a paperboy database, or null when it holds no paperboy schema at all. */
async function versionOf(db: Sql): Promise<number | null> {
  const exists =
    db.dialect === 'sqlite'
      ? await db.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
      : await db.get("SELECT 1 AS x FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'schema_migrations'");
  if (!exists) return null;
  return currentVersion(db);
}

async function existingTables(db: Sql): Promise<Set<string>> {
  const rows =
    db.dialect === 'sqlite'
      ? await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      : await db.all<{ name: string }>('SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()');
  return new Set(rows.map((r) => r.name));
}

/** Tables of the target that already hold rows, with their counts. */
async function populated(db: Sql, tables: readonly TableSpec[]): Promise<{ table: string; rows: number }[]> {
  const have = await existingTables(db);
  const out: { table: string; rows: number }[] = [];
  for (const t of tables) {
    if (!have.has(t.name)) continue;
    if (await db.get(`SELECT 1 AS x FROM ${q(t.name)} LIMIT 1`)) out.push({ table: t.name, rows: await countRows(db, t.name) });
  }
  return out;
}

// ------------------------------------------------------------------ the copy

export interface TableReport {
  table: string;
  /** Rows in the source (counted before the copy; in a dry run, the only figure). */
  sourceRows: number;
  /** Rows written, then rows found in the target when verified (null in a dry run). */
  copied: number | null;
  targetRows: number | null;
  sourceChecksum: string | null;
  targetChecksum: string | null;
  /** Counts and checksums equal (null in a dry run). */
  match: boolean | null;
}

export interface CopyReport {
  from: string;
  to: string;
  dryRun: boolean;
  schemaVersion: number;
  /** Dry run: the target's non-empty tables (a real run would refuse them without force). */
  targetPopulated: { table: string; rows: number }[];
  /** Tables emptied first (force). */
  replaced: boolean;
  tables: TableReport[];
  rows: number;
  copySeconds: number;
  verifySeconds: number;
  /** Every table matched (dry run: the target is empty, or force was given). */
  ok: boolean;
}

export type CopyPhase = 'copy' | 'verify';

export interface CopyProgress {
  phase: CopyPhase;
  table: string;
  done: number;
  total: number;
}

export interface CopyOptions {
  /** Rows per page read and per transaction written (default 1000). */
  batchSize?: number;
  /** Write transactions in flight at once on a PostgreSQL target (default 2, at most 8). */
  writers?: number;
  /** Empty the target's data tables first when it holds any rows. */
  force?: boolean;
  /** Count only: nothing is written, the target is not even migrated. */
  dryRun?: boolean;
  onProgress?: (p: CopyProgress) => void;
  /** A line worth telling the operator (tables emptied, sequences reset). */
  onNote?: (line: string) => void;
}

export const MAX_WRITERS = 8;

/** SQLite's limit on bound parameters is 32766, PostgreSQL's 65535. */
const MAX_PARAMS = 30_000;

function insertSql(t: TableSpec, rows: number): string {
  const one = `(${t.columns.map(() => '?').join(', ')})`;
  return `INSERT INTO ${q(t.name)} (${t.columns.map(q).join(', ')}) VALUES ${Array(rows).fill(one).join(', ')}`;
}

async function writePage(target: Database, t: TableSpec, rows: readonly Row[]): Promise<void> {
  const per = Math.max(1, Math.floor(MAX_PARAMS / t.columns.length));
  await target.tx(async (tx) => {
    for (let i = 0; i < rows.length; i += per) {
      const chunk = rows.slice(i, i + per);
      const params: Param[] = [];
      for (const r of chunk) for (const c of t.columns) params.push((r[c] ?? null) as Param);
      await tx.run(insertSql(t, chunk.length), params);
    }
  });
}

function keyText(t: TableSpec, row: Row | undefined): string {
  if (!row) return 'the start';
  return t.key.map((k) => `${k}=${JSON.stringify(row[k])}`).join(', ');
}

/**
 * Pages are read while earlier ones are written: up to `writers` transactions in flight (on
 * PostgreSQL each has its own connection; SQLite runs them one after another anyway).
 */
async function copyTable(source: Database, target: Database, t: TableSpec, batch: number, writers: number, onRows: (n: number) => void): Promise<number> {
  let copied = 0;
  let failure: MigrateDataError | undefined;
  let lastRead: Row | undefined;
  const inflight = new Set<Promise<void>>();
  try {
    for await (const rows of pages(source, t, batch)) {
      const from = lastRead;
      lastRead = rows[rows.length - 1];
      const p: Promise<void> = writePage(target, t, rows).then(
        () => {
          copied += rows.length;
          onRows(rows.length);
        },
        (err: unknown) => {
          failure ??= new MigrateDataError(`migrate-data: unable to write ${t.name} (the page after ${keyText(t, from)}): ${(err as Error).message}`, false, { cause: err });
        },
      );
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      while (inflight.size >= writers && !failure) await Promise.race(inflight);
      if (failure) break;
    }
  } catch (err) {
    failure ??= new MigrateDataError(`migrate-data: unable to read ${t.name} from the source (after ${keyText(t, lastRead)}): ${(err as Error).message}`, false, { cause: err });
  }
  await Promise.all(inflight);
  if (failure) throw failure;
  return copied;
}

/** PostgreSQL: every identity column's sequence continues after the largest id copied. */
async function resetSequences(target: Database, tables: readonly TableSpec[]): Promise<number> {
  if (target.dialect !== 'postgres') return 0;
  const names = new Set(tables.map((t) => t.name));
  const idents = await target.all<{ table_name: string; column_name: string }>(
    "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY table_name",
  );
  let n = 0;
  for (const c of idents) {
    if (!names.has(c.table_name)) continue;
    await target.get(`SELECT setval(pg_get_serial_sequence(?, ?), COALESCE((SELECT MAX(${q(c.column_name)}) FROM ${q(c.table_name)}), 0) + 1, false) AS v`, [
      c.table_name,
      c.column_name,
    ]);
    n++;
  }
  return n;
}

/** Copies source into target and verifies every table. Throws MigrateDataError (refused, or failed part way). */
export async function copyDatabase(source: Database, target: Database, opts: CopyOptions = {}): Promise<CopyReport> {
  const batch = opts.batchSize ?? 1000;
  // On SQLite the two queue on its one connection: the next page is read while one is written.
  const writers = target.dialect === 'postgres' ? Math.min(Math.max(1, opts.writers ?? 2), MAX_WRITERS) : 2;
  const progress = opts.onProgress ?? (() => {});
  const note = opts.onNote ?? (() => {});
  if (source.description === target.description) throw new MigrateDataError('migrate-data: the source and the target are the same database', true);

  const tables = await dataTables();
  let version: number | null;
  try {
    version = await versionOf(source);
  } catch (err) {
    throw new MigrateDataError(`migrate-data: unable to read the source ${source.description}: ${(err as Error).message}`, true, { cause: err });
  }
  if (version === null) throw new MigrateDataError(`migrate-data: the source ${source.description} is not a paperboy database (no schema_migrations table)`, true);
  if (version !== latestVersion) {
    throw new MigrateDataError(
      version < latestVersion
        ? `migrate-data: the source is at schema version ${version}, this paperboy's is ${latestVersion}: run \`DATABASE_URL=<source> paperboy migrate\` first`
        : `migrate-data: the source is at schema version ${version}, newer than this paperboy (${latestVersion}): upgrade paperboy`,
      true,
    );
  }

  const reports: TableReport[] = [];
  let total = 0;
  for (const t of tables) {
    const n = await countRows(source, t.name);
    total += n;
    reports.push({ table: t.name, sourceRows: n, copied: null, targetRows: null, sourceChecksum: null, targetChecksum: null, match: null });
  }

  if (opts.dryRun) {
    const targetVersion = await versionOf(target).catch((err: unknown) => {
      throw new MigrateDataError(`migrate-data: unable to read the target ${target.description}: ${(err as Error).message}`, true, { cause: err });
    });
    if (targetVersion !== null && targetVersion > latestVersion) {
      throw new MigrateDataError(`migrate-data: the target is at schema version ${targetVersion}, newer than this paperboy (${latestVersion})`, true);
    }
    const full = targetVersion === null ? [] : await populated(target, tables);
    return { from: source.description, to: target.description, dryRun: true, schemaVersion: version, targetPopulated: full, replaced: false, tables: reports, rows: total, copySeconds: 0, verifySeconds: 0, ok: full.length === 0 || opts.force === true };
  }

  try {
    await migrate(target);
  } catch (err) {
    throw new MigrateDataError(`migrate-data: unable to migrate the target ${target.description}: ${(err as Error).message}`, true, { cause: err });
  }
  const full = await populated(target, tables);
  if (full.length && !opts.force) {
    const list = full.map((f) => `${f.table} (${f.rows})`).join(', ');
    throw new MigrateDataError(`migrate-data: the target ${target.description} already holds data: ${list}. Refusing to merge into it; --force empties it first`, true);
  }
  if (full.length) {
    // Row by row (DELETE, not TRUNCATE), children first, so PostgreSQL's search triggers see every paper go.
    await target.tx(async (tx) => {
      for (const t of [...tables].reverse()) await tx.run(`DELETE FROM ${q(t.name)}`);
    });
    note(`emptied the target first (--force): ${full.map((f) => `${f.table} ${f.rows}`).join(', ')}`);
  }

  const copyStart = Date.now();
  let done = 0;
  for (const [i, t] of tables.entries()) {
    const r = reports[i]!;
    progress({ phase: 'copy', table: t.name, done, total });
    r.copied = await copyTable(source, target, t, batch, writers, (n) => {
      done += n;
      progress({ phase: 'copy', table: t.name, done, total });
    });
  }
  const seqs = await resetSequences(target, tables);
  if (seqs) note(`identity sequences moved past the largest ids: ${seqs}`);
  if (target.dialect === 'postgres') {
    // Planner statistics for every table of this schema only (a bare ANALYZE would do the whole server).
    const all = await target.all<{ name: string }>('SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()');
    if (all.length) await target.exec(`ANALYZE ${all.map((t) => q(t.name)).join(', ')}`);
  }
  const copySeconds = (Date.now() - copyStart) / 1000;

  // Verify: both sides read again in full and hashed the same way (concurrently).
  const verifyStart = Date.now();
  let checked = 0;
  for (const [i, t] of tables.entries()) {
    const r = reports[i]!;
    progress({ phase: 'verify', table: t.name, done: checked, total: total * 2 });
    const tick = (n: number) => {
      checked += n;
      progress({ phase: 'verify', table: t.name, done: checked, total: total * 2 });
    };
    let s: { rows: number; checksum: string };
    let d: { rows: number; checksum: string };
    try {
      [s, d] = await Promise.all([checksumTable(source, t, batch * 2, tick), checksumTable(target, t, batch * 2, tick)]);
    } catch (err) {
      throw new MigrateDataError(`migrate-data: unable to verify ${t.name}: ${(err as Error).message}`, false, { cause: err });
    }
    r.sourceRows = s.rows;
    r.targetRows = d.rows;
    r.sourceChecksum = s.checksum;
    r.targetChecksum = d.checksum;
    r.match = s.rows === d.rows && s.checksum === d.checksum;
  }
  const verifySeconds = (Date.now() - verifyStart) / 1000;
  return {
    from: source.description,
    to: target.description,
    dryRun: false,
    schemaVersion: version,
    targetPopulated: full,
    replaced: full.length > 0,
    tables: reports,
    rows: reports.reduce((a, r) => a + (r.copied ?? 0), 0),
    copySeconds,
    verifySeconds,
    ok: reports.every((r) => r.match === true),
  };
}

/**
 * The whole operation from two URLs: opens both ends (the source must exist; a dry run creates
 * nothing, not even the target's file or schema), copies, verifies, closes.
 */
export async function migrateData(from: string, to: string, opts: CopyOptions = {}): Promise<CopyReport> {
  const src = parseDatabaseUrl(from);
  const dst = parseDatabaseUrl(to);
  if (describeUrl(src) === describeUrl(dst)) throw new MigrateDataError('migrate-data: the source and the target are the same database', true);
  const source = await openEnd(src, 'source');
  try {
    const absent = opts.dryRun && (dst.kind === 'sqlite' ? !existsSync(dst.path) : !(await pgSchemaExists(dst.url)));
    // A dry run against a target that does not exist yet compares with an empty in-memory stand-in.
    const target = absent ? openSqlite(':memory:') : await openEnd(dst, 'target');
    try {
      const r = await copyDatabase(source, target, opts);
      return { ...r, to: describeUrl(dst) };
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
