import type { Config } from '../config/config.ts';
import { runIngest } from '../ingest/run.ts';
import type { SourceArgs } from '../ingest/sources.ts';
import type { JobDefinition } from './scheduler.ts';

const DAY_MS = 86_400_000;

/** The scheduled ingests: by default today's Daily Papers and yesterday's arXiv cs listing. */
export function ingestJobs(config: Config): JobDefinition[] {
  const intervalMs = config.ingest.intervalMinutes * 60_000;
  return config.ingest.sources.map((source) => ({
    name: `ingest:${source}`,
    intervalMs,
    leaseMs: Math.max(intervalMs, 30 * 60_000),
    async run(app, key) {
      const now = app.now();
      const today = now.toISOString().slice(0, 10);
      const args: SourceArgs =
        source === 'hf-daily'
          ? { inputs: [], date: today }
          : source === 'arxiv-oai'
            ? { inputs: [], set: config.ingest.arxivSet, since: new Date(now.getTime() - DAY_MS).toISOString().slice(0, 10) }
            : { inputs: [], query: config.ingest.arxivQuery, max: 200 };
      const r = await runIngest(app, source, args, { idempotencyKey: key });
      if (r.alreadyDone) return 'already done for this interval';
      const s = r.summary;
      const line = `${s.read} read, ${s.new} new, ${s.updated} updated, ${s.unchanged} unchanged, ${s.skipped} skipped`;
      const f = s.failures[0];
      if (f) throw new Error(`${f.reason.includes(f.where) ? f.reason : `${f.where}: ${f.reason}`} (${line})`);
      app.log.info({ source, ...s, errors: undefined, failures: undefined }, `ingest: ${source}: ${line}`);
      return line;
    },
  }));
}
