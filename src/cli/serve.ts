import type { Command } from 'commander';
import { createApp } from '../app.ts';
import { loadDemoIfEmpty } from '../demo.ts';
import { embedJob } from '../jobs/embed-job.ts';
import { ingestJobs } from '../jobs/ingest-jobs.ts';
import { similarJob } from '../jobs/similar-job.ts';
import { trendingJob } from '../jobs/trending-job.ts';
import { digestJobs } from '../jobs/digest-jobs.ts';
import { Scheduler } from '../jobs/scheduler.ts';
import { buildServer } from '../web/server.ts';
import type { CliContext } from './context.ts';

export function registerServe(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('Run the service: the web site and the scheduled jobs (ingest on a schedule)')
    .option('--no-scheduler', 'serve the web site only; run no scheduled jobs')
    .option('--no-demo', 'do not load the demo papers into an empty database')
    .addHelpText('after', '\nListens on HOST:PORT (default 0.0.0.0:8080). SIGINT/SIGTERM stop it cleanly.')
    .action(async (flags: { scheduler: boolean; demo: boolean }) => {
      const config = ctx.config();
      const app = await createApp(config);
      const server = await buildServer(app);
      if (config.demo && flags.demo) await loadDemoIfEmpty(app);
      app.search.current(); // start resolving the embedder (a model download) in the background
      const scheduler = config.scheduler && flags.scheduler ? new Scheduler(app, [
              ...ingestJobs(config),
              trendingJob(config.trending.intervalMinutes * 60_000),
              ...digestJobs(),
              embedJob(),
              similarJob(),
            ]) : undefined;
      const address = await server.listen({ host: config.host, port: config.port });
      app.log.info(`web: listening on ${address} (${config.baseUrl}); database ${app.db.description}`);
      await scheduler?.start();
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          app.log.info(`serve: ${signal} received, stopping`);
          resolve();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      // Stop claiming digests; messages in flight finish before the scheduler lets go.
      app.digests.stop();
      await server.close();
      await scheduler?.stop();
      await app.close();
    });
}
