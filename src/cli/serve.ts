import type { Command } from 'commander';
import { createApp, type App } from '../app.ts';
import type { Config } from '../config/config.ts';
import { loadDemoIfEmpty } from '../demo.ts';
import { digestJobs } from '../jobs/digest-jobs.ts';
import { embedJob } from '../jobs/embed-job.ts';
import { ingestJobs } from '../jobs/ingest-jobs.ts';
import { Leadership } from '../jobs/leader.ts';
import { Scheduler } from '../jobs/scheduler.ts';
import { SendLoop } from '../jobs/send-loop.ts';
import { similarJob } from '../jobs/similar-job.ts';
import { trendingJob } from '../jobs/trending-job.ts';
import { buildServer } from '../web/server.ts';
import type { CliContext } from './context.ts';
import { UsageError } from './output.ts';

export type Role = 'web' | 'worker';

/** Every scheduled job the one scheduler runs. */
export function scheduledJobs(config: Config) {
  return [...ingestJobs(config), trendingJob(config.trending.intervalMinutes * 60_000), ...digestJobs(), embedJob(), similarJob()];
}

interface RunOptions {
  roles: readonly Role[];
  demo: boolean;
  /** Worker role: run the scheduler (with leadership) as well as the sender. */
  scheduler: boolean;
}

/**
 * One process with the given roles, until SIGINT/SIGTERM:
 * - web: the site and the API;
 * - worker: the scheduler (scheduled ingest, trending, digest scheduling, embeddings, similar
 *   papers), run by one worker at a time (leadership through the database), and the digest
 *   sender, run by every worker.
 * Any number of processes of each kind may share one database (PostgreSQL for several machines).
 */
export async function runRoles(config: Config, opts: RunOptions): Promise<void> {
  const app = await createApp(config);
  const web = opts.roles.includes('web');
  const worker = opts.roles.includes('worker');
  if (config.database.kind === 'postgres' && config.secretKeySource !== 'env') {
    app.log.warn('config: SECRET_KEY is not set; every process must share one (links and cookies are signed with it)');
  }
  const server = web ? await buildServer(app) : undefined;
  if (web && config.demo && opts.demo) await loadDemoIfEmpty(app);
  app.search.current(); // start resolving the embedder (a model download) in the background
  let scheduler: Scheduler | undefined;
  let sender: SendLoop | undefined;
  if (worker) {
    sender = new SendLoop(app, config.sendPollMs);
    if (opts.scheduler) {
      const leader = new Leadership(app.db, 'scheduler', (leads) =>
        app.log.info(leads ? 'jobs: this worker now runs the scheduler' : 'jobs: this worker no longer runs the scheduler'),
      );
      scheduler = new Scheduler(app, scheduledJobs(config), { tickMs: config.schedulerTickMs, leader });
    }
  }
  if (server) {
    const address = await server.listen({ host: config.host, port: config.port });
    app.log.info(`web: listening on ${address} (${config.baseUrl}); database ${app.db.description}`);
  }
  if (worker) app.log.info(`worker: ${sender!.worker} started; database ${app.db.description}`);
  await scheduler?.start();
  sender?.start();
  await waitForSignal(app, opts.roles);
  // Stop claiming digests; messages in flight finish before the process lets go.
  await Promise.all([sender?.stop(), server?.close()]);
  await scheduler?.stop();
  await app.close();
}

function waitForSignal(app: App, roles: readonly Role[]): Promise<void> {
  // The scheduler's and sender's timers do not hold the process open (they are unref'd), and a
  // worker on SQLite has no socket that would: this timer keeps it running until a signal.
  const keepAlive = setInterval(() => {}, 1 << 30);
  return new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      clearInterval(keepAlive);
      app.log.info(`${roles.join('+')}: ${signal} received, stopping`);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

function parseRoles(v: string): Role[] {
  const roles = v.split(',').map((r) => r.trim()).filter(Boolean);
  const bad = roles.filter((r) => r !== 'web' && r !== 'worker');
  if (bad.length || !roles.length) throw new UsageError(`--roles: expected web, worker or web,worker (got ${JSON.stringify(v)})`);
  return [...new Set(roles)] as Role[];
}

const SIGNALS = '\nSIGINT/SIGTERM stop it cleanly: digests being sent finish and are marked first.';

export function registerServe(program: Command, ctx: CliContext): void {
  program
    .command('start')
    .description('Run the service with the given roles (default: web and worker in one process, PAPERBOY_ROLES)')
    .option('--roles <list>', 'web, worker or web,worker')
    .option('--no-scheduler', 'a worker that only sends digests and never runs the scheduler')
    .option('--no-demo', 'do not load the demo papers into an empty database')
    .addHelpText(
      'after',
      `
Roles: web serves the site on HOST:PORT (default 0.0.0.0:8080); worker runs the scheduled jobs
(one scheduler at a time across all processes) and sends digests (every worker).
Run as many processes of each as needed on one PostgreSQL (DATABASE_URL=postgres://…).${SIGNALS}`,
    )
    .action(async (flags: { roles?: string; scheduler: boolean; demo: boolean }) => {
      const config = ctx.config();
      const roles = flags.roles ? parseRoles(flags.roles) : [...config.roles];
      await runRoles(config, { roles, demo: flags.demo, scheduler: config.scheduler && flags.scheduler });
    });

  program
    .command('serve')
    .description('Run the web site and API only (the web role)')
    .option('--no-demo', 'do not load the demo papers into an empty database')
    .addHelpText('after', `\nListens on HOST:PORT (default 0.0.0.0:8080). Run \`paperboy worker\` (or \`start\`) for the jobs.${SIGNALS}`)
    .action(async (flags: { demo: boolean }) => {
      await runRoles(ctx.config(), { roles: ['web'], demo: flags.demo, scheduler: false });
    });

  program
    .command('worker')
    .description('Run the scheduled jobs and send digests (the worker role)')
    .option('--no-scheduler', 'only send digests; never run the scheduler')
    .addHelpText('after', `\nOne worker at a time runs the scheduler; every worker sends. Start as many as needed.${SIGNALS}`)
    .action(async (flags: { scheduler: boolean }) => {
      const config = ctx.config();
      await runRoles(config, { roles: ['worker'], demo: false, scheduler: config.scheduler && flags.scheduler });
    });
}
