import type { Config } from '../config/config.ts';
import { openPostgres } from './postgres.ts';
import { openSqlite } from './sqlite.ts';
import type { Database } from './sql.ts';

/** Opens the database named by the config. Nothing is opened at import time. */
export function openDatabase(database: Config['database']): Database {
  if (database.kind === 'sqlite') return openSqlite(database.path);
  return openPostgres(database.url, { poolSize: database.poolSize });
}
