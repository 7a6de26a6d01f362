import { Command, CommanderError } from 'commander';
import { createApp, createLogger, type App } from '../app.ts';
import { ConfigError, loadConfig, type Config } from '../config/config.ts';
import { registerBackup } from './backup.ts';
import type { CliContext } from './context.ts';
import { registerIngest } from './ingest.ts';
import { registerMaintenance } from './maintenance.ts';
import { registerMigrateData } from './migrate-data.ts';
import { EXIT, UsageError } from './output.ts';
import { registerSearch } from './search.ts';
import { registerServe } from './serve.ts';
import { registerTrending } from './trending.ts';
import { registerDigest } from './digest.ts';

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('paperboy')
    .description('Trending research papers: ingest, rank, search, and a daily digest by email.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (str, write) => write(str) })
    .addHelpText(
      'after',
      `
Configuration comes from the environment (see README): PAPERBOY_DATA_DIR (./data), DATABASE_URL
(sqlite:PATH or postgres://…), PORT (8080), BASE_URL, SECRET_KEY, LOG_LEVEL, PAPERBOY_ROLES,
PAPERBOY_INGEST_SOURCES, PAPERBOY_INGEST_INTERVAL_MINUTES, SMTP_URL, ADMIN_TOKEN.

Exit status: 0 success, 1 failure, 2 usage error.`,
    );
  registerServe(program, ctx);
  registerIngest(program, ctx);
  registerSearch(program, ctx);
  registerTrending(program, ctx);
  registerDigest(program, ctx);
  registerMaintenance(program, ctx);
  registerMigrateData(program, ctx);
  registerBackup(program, ctx);
  program.exitOverride();
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Runs the CLI; resolves to the exit status. */
export async function main(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  let code: number = EXIT.ok;
  let config: Config | undefined;
  const ctx: CliContext = {
    config: () => (config ??= loadConfig(env)),
    async withApp<T>(fn: (app: App) => Promise<T>): Promise<T> {
      // One-shot commands log warnings only, unless LOG_LEVEL asks for more.
      const cfg = ctx.config();
      const app = await createApp(cfg, { log: createLogger(env.LOG_LEVEL ? cfg.logLevel : 'warn') });
      try {
        return await fn(app);
      } finally {
        await app.close();
      }
    },
    exit: (c) => {
      code = c;
    },
  };
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`paperboy: ${err.message}\n(run with --help for usage)\n`);
      return EXIT.usage;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`paperboy: ${err.message}\n`);
      return EXIT.failure;
    }
    process.stderr.write(`paperboy: ${(err as Error).message}\n`);
    if (env.LOG_LEVEL === 'debug') process.stderr.write(`${(err as Error).stack}\n`);
    return EXIT.failure;
  }
}
