import pg from 'pg';
import { createHash } from 'node:crypto';
import { DbError, type Database, type HeldLock, type Param, type RunResult, type Sql } from './sql.ts';

/**
 * PostgreSQL behind the same Sql interface as SQLite. Callers write `?` placeholders; they are
 * rewritten to `$1…$n` once per statement text (outside string literals, quoted identifiers and
 * comments). 64-bit integers and numerics come back as JS numbers, as SQLite's do.
 *
 * The URL may carry `?schema=name`: every connection then works in that schema (created when
 * missing), so one server can hold several instances or throwaway test databases.
 */

const INT8 = 20;
const NUMERIC = 1700;

function typeParser(oid: number, format?: string): (v: string) => unknown {
  if (oid === INT8 || oid === NUMERIC) return (v: string) => Number(v);
  return pg.types.getTypeParser(oid, format as 'text');
}

const rewritten = new Map<string, string>();

/** `?` → `$n`, outside '…' literals, "…" identifiers, -- and /* comments. Cached per statement text. */
export function toDollarParams(sql: string): string {
  const hit = rewritten.get(sql);
  if (hit !== undefined) return hit;
  let out = '';
  let n = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      const stop = end < 0 ? sql.length : end;
      out += sql.slice(i, stop + 1);
      i = stop;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end < 0 ? sql.length : end + 2;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '?') {
      out += `$${++n}`;
    } else {
      out += c;
    }
  }
  if (rewritten.size > 2000) rewritten.clear();
  rewritten.set(sql, out);
  return out;
}

/**
 * PostgreSQL text cannot hold NUL (SQLite's can): a NUL in a parameter (a pasted id, a search, a
 * request path) would fail the whole query with "invalid byte sequence". It becomes U+FFFD, which
 * matches nothing a lookup could have meant and keeps a stored text readable.
 */
function values(params: readonly Param[]): unknown[] {
  return params.map((p) => (typeof p === 'bigint' ? p.toString() : typeof p === 'string' && p.includes('\u0000') ? p.replaceAll('\u0000', '\uFFFD') : p));
}

type Queryable = pg.Pool | pg.PoolClient;

function fail(err: unknown, sql: string): never {
  const e = err as Error & { code?: string };
  throw new DbError(`db: PostgreSQL: ${e.message}${e.code ? ` (${e.code})` : ''}: ${sql.replace(/\s+/g, ' ').trim().slice(0, 200)}`, { cause: err });
}

class PgSql implements Sql {
  readonly dialect = 'postgres' as const;
  constructor(
    protected readonly q: Queryable,
    protected readonly ready: () => Promise<void>,
    private readonly inTx: boolean,
  ) {}

  private async query(sql: string, params: readonly Param[]): Promise<pg.QueryResult> {
    await this.ready();
    const text = toDollarParams(sql);
    try {
      return await this.q.query({ text, values: values(params), types: { getTypeParser: typeParser } as pg.CustomTypesConfig });
    } catch (err) {
      return fail(err, sql);
    }
  }

  async all<T>(sql: string, params: readonly Param[] = []): Promise<T[]> {
    return (await this.query(sql, params)).rows as T[];
  }

  async get<T>(sql: string, params: readonly Param[] = []): Promise<T | undefined> {
    return (await this.query(sql, params)).rows[0] as T | undefined;
  }

  async run(sql: string, params: readonly Param[] = []): Promise<RunResult> {
    return { changes: (await this.query(sql, params)).rowCount ?? 0 };
  }

  async exec(sql: string): Promise<void> {
    await this.ready();
    try {
      await this.q.query(sql);
    } catch (err) {
      fail(err, sql);
    }
  }

  async tx<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    if (this.inTx) return fn(this); // nested: join the outer transaction
    await this.ready();
    const client = await (this.q as pg.Pool).connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      try {
        const result = await fn(new PgSql(client, this.ready, true));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        throw err;
      }
    } finally {
      client.release(broken);
    }
  }
}

class PgDatabase extends PgSql implements Database {
  constructor(
    private readonly pool: pg.Pool,
    ready: () => Promise<void>,
    readonly description: string,
  ) {
    super(pool, ready, false);
  }
  async close(): Promise<void> {
    await this.pool.end();
  }

  async tryLock(name: string): Promise<HeldLock | null> {
    await this.ready();
    const key = advisoryKey(name);
    const client = await this.pool.connect();
    let lost = false;
    const onError = () => (lost = true);
    client.on('error', onError);
    try {
      const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [key]);
      if (!r.rows[0]?.ok) {
        client.off('error', onError);
        client.release();
        return null;
      }
    } catch (err) {
      client.off('error', onError);
      client.release(true);
      return fail(err, 'SELECT pg_try_advisory_lock');
    }
    let released = false;
    return {
      exclusive: true,
      // Asks the server: the lock is ours while this session lives.
      alive: async () => {
        if (lost || released) return false;
        try {
          await client.query('SELECT 1');
          return true;
        } catch {
          lost = true;
          return false;
        }
      },
      release: async () => {
        if (released) return;
        released = true;
        client.off('error', onError);
        if (lost) return client.release(true);
        try {
          await client.query('SELECT pg_advisory_unlock($1)', [key]);
          client.release();
        } catch {
          client.release(true);
        }
      },
    };
  }
}

/** A lock name as the signed 64-bit key PostgreSQL's advisory locks take. */
function advisoryKey(name: string): string {
  return createHash('sha256').update(`paperboy:${name}`).digest().readBigInt64BE(0).toString();
}

/** The URL without its password, for messages. */
export function describePostgres(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable url)';
  }
}

export interface PgOptions {
  /** Connections in the pool (default 10). */
  poolSize?: number;
}

/** Opens a pool on a PostgreSQL URL. Nothing connects until the first query. */
export function openPostgres(url: string, opts: PgOptions = {}): Database {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new DbError('db: DATABASE_URL is not a valid postgres:// URL');
  }
  const schema = u.searchParams.get('schema');
  u.searchParams.delete('schema');
  if (schema !== null && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new DbError(`db: DATABASE_URL schema must be a lower-case identifier (got ${JSON.stringify(schema.slice(0, 70))})`);
  }
  const pool = new pg.Pool({
    connectionString: u.toString(),
    max: opts.poolSize ?? 10,
    idleTimeoutMillis: 30_000,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client's error (a restarted server) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  let init: Promise<void> | undefined;
  const ready = (): Promise<void> => {
    init ??= (async () => {
      if (!schema) return;
      try {
        await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      } catch (err) {
        const e = err as Error & { code?: string };
        // Two processes creating it at once: the loser sees a unique violation; the schema exists.
        if (e.code !== '23505' && e.code !== '42P06') {
          init = undefined;
          throw new DbError(`db: unable to create schema ${schema}: ${e.message}`, { cause: err });
        }
      }
    })();
    return init;
  };
  return new PgDatabase(pool, ready, describePostgres(url));
}
