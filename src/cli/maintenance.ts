import type { Command } from 'commander';
import { currentVersion, latestVersion, migrate } from '../db/migrations.ts';
import { stats } from '../store/ingest-runs.ts';
import type { CliContext } from './context.ts';
import { createOutput, fmt } from './output.ts';
import { createApp } from '../app.ts';

export function registerMaintenance(program: Command, ctx: CliContext): void {
  program
    .command('migrate')
    .description('Apply pending database migrations (every process also applies them at start, one at a time)')
    .option('--json', 'print the result as JSON on the last line of stdout')
    .action(async (flags: { json?: boolean }) => {
      const out = createOutput(flags.json === true);
      const app = await createApp(ctx.config(), { migrate: false });
      try {
        const from = await currentVersion(app.db);
        const applied = await migrate(app.db);
        out.line(applied.length ? `migrated ${app.db.description} from version ${from} to ${latestVersion}` : `${app.db.description} is up to date (version ${from})`);
        out.result({ from, to: latestVersion, applied });
      } finally {
        await app.close();
      }
    });

  program
    .command('stats')
    .description('Counts of papers, signals and sources, and the last ingest per source')
    .option('--json', 'print the result as JSON on the last line of stdout')
    .action(async (flags: { json?: boolean }) => {
      const out = createOutput(flags.json === true);
      const s = await ctx.withApp((app) => stats(app.db));
      out.line(`papers   ${fmt(s.papers)}`);
      out.line(`signals  ${fmt(s.signals)}`);
      out.line(`runs     ${fmt(s.ingestRuns)}`);
      for (const src of s.sources) {
        out.line(`  ${src.source.padEnd(15)} ${fmt(src.papers).padStart(9)} papers · last run ${src.lastRunAt ?? 'never'} (${src.lastStatus ?? '-'})`);
      }
      out.result(s);
    });
}
