import type { Config } from '../config/config.ts';
import { openSqlite } from './sqlite.ts';
import { DbError, type Database } from './sql.ts';

/** Opens the database named by the config. Nothing is opened at import time. */
export function openDatabase(database: Config['database']): Database {
  if (database.kind === 'sqlite') return openSqlite(database.path);
  throw new DbError('db: PostgreSQL support is not available yet (DATABASE_URL=postgres://…); use SQLite for now');
}
