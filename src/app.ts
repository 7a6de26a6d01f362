import pino, { type Logger } from 'pino';
import type { Config } from './config/config.ts';
import { openDatabase } from './db/connect.ts';
import { migrate } from './db/migrations.ts';
import type { Database } from './db/sql.ts';
import { FileMailer, SmtpMailer, type Mailer } from './digest/mailer.ts';
import { Digests } from './digest/service.ts';
import { SearchRuntime } from './search/runtime.ts';

/** Everything a command or the daemon needs, built once from the config and passed down. */
export interface App {
  config: Config;
  db: Database;
  log: Logger;
  now: () => Date;
  /** Search by meaning: the embedder and vector index, resolved on first use. */
  search: SearchRuntime;
  /** Subscriptions and digests, with the mailer (SMTP, or the file outbox when SMTP_URL is unset). */
  digests: Digests;
  close(): Promise<void>;
}

const LOG_REDACT = ['email', '*.email', 'password', '*.password', 'token', '*.token', 'secret', '*.secret', 'authorization', '*.authorization', 'cookie', '*.cookie', 'headers.cookie', 'headers.authorization'];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Defence in depth: secrets and full addresses are never logged on purpose (addresses are
      // masked), and these keys are censored should one ever be passed.
      redact: { paths: LOG_REDACT, censor: '[redacted]' },
    },
    destination ?? pino.destination({ fd: 2, sync: true }),
  );
}

export function createMailer(config: Config): Mailer {
  const m = config.mail;
  return m.smtpUrl ? new SmtpMailer({ url: m.smtpUrl, poolSize: m.poolSize, ratePerSecond: m.ratePerSecond, dkim: m.dkim }) : new FileMailer(m.outboxDir);
}

export async function createApp(config: Config, opts: { log?: Logger; now?: () => Date; migrate?: boolean; mailer?: Mailer } = {}): Promise<App> {
  const log = opts.log ?? createLogger(config.logLevel);
  const db = openDatabase(config.database);
  if (opts.migrate !== false) {
    const applied = await migrate(db);
    if (applied.length) log.info({ applied }, 'db: migrations applied');
  }
  const search = new SearchRuntime(config, (msg) => log.info(msg));
  const app: App = {
    config,
    db,
    log,
    now: opts.now ?? (() => new Date()),
    search,
    digests: undefined as unknown as Digests,
    close: async () => {
      await search.close();
      await app.digests.mailer.close();
      await db.close();
    },
  };
  app.digests = new Digests(app, opts.mailer ?? createMailer(config));
  return app;
}
