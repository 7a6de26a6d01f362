import pino, { type Logger } from 'pino';
import type { Config } from './config/config.ts';
import { openDatabase } from './db/connect.ts';
import { migrate } from './db/migrations.ts';
import type { Database } from './db/sql.ts';
import { SearchRuntime } from './search/runtime.ts';

/** Everything a command or the daemon needs, built once from the config and passed down. */
export interface App {
  config: Config;
  db: Database;
  log: Logger;
  now: () => Date;
  /** Search by meaning: the embedder and vector index, resolved on first use. */
  search: SearchRuntime;
  close(): Promise<void>;
}

export function createLogger(level: string): Logger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: true }));
}

export async function createApp(config: Config, opts: { log?: Logger; now?: () => Date; migrate?: boolean } = {}): Promise<App> {
  const log = opts.log ?? createLogger(config.logLevel);
  const db = openDatabase(config.database);
  if (opts.migrate !== false) {
    const applied = await migrate(db);
    if (applied.length) log.info({ applied }, 'db: migrations applied');
  }
  const search = new SearchRuntime(config, (msg) => log.info(msg));
  return {
    config,
    db,
    log,
    now: opts.now ?? (() => new Date()),
    search,
    close: async () => {
      await search.close();
      await db.close();
    },
  };
}
