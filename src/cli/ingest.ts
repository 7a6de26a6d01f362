import type { Command } from 'commander';
import type { CliContext } from './context.ts';
import type { IngestSummary } from '../ingest/pipeline.ts';
import { runIngest } from '../ingest/run.ts';
import { SOURCES, type SourceArgs, type SourceName } from '../ingest/sources.ts';
import { createOutput, EXIT, fmt, UsageError } from './output.ts';
import { createProgress } from './progress.ts';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function day(name: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (!DAY.test(v) || !Number.isFinite(Date.parse(v))) throw new UsageError(`--${name} must be a date as YYYY-MM-DD (got ${JSON.stringify(v)})`);
  return v;
}

function positive(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a whole number ≥ 1 (got ${JSON.stringify(v)})`);
  return n;
}

interface IngestFlags {
  since?: string;
  until?: string;
  date?: string;
  categories?: string;
  query?: string;
  id?: string[];
  max?: string;
  pageSize?: string;
  set?: string;
  json?: boolean;
  progress?: boolean;
}

export function summaryText(source: string, s: IngestSummary, seconds: number): string[] {
  const lines = [
    `${source}: ${fmt(s.read)} read · ${fmt(s.new)} new · ${fmt(s.updated)} updated · ${fmt(s.unchanged)} unchanged · ${fmt(s.skipped)} skipped` +
      (s.filtered ? ` (${fmt(s.filtered)} outside the filters)` : '') +
      ` in ${seconds.toFixed(1)} s`,
  ];
  for (const f of s.failures) lines.push(`error: ${f.where}: ${f.reason}`);
  const invalid = s.skipped - s.filtered;
  if (invalid > 0) {
    lines.push(`first skip reasons (${fmt(invalid)} records skipped as invalid):`);
    for (const e of s.errors.slice(0, 10)) lines.push(`  ${e.where}: ${e.reason}`);
  }
  return lines;
}

export function registerIngest(program: Command, ctx: CliContext): void {
  program
    .command('ingest')
    .description('Ingest papers from a source: saved files, directories, URLs, or (with no inputs) the live endpoint')
    .argument('<source>', `one of: ${SOURCES.join(', ')}`)
    .argument('[inputs...]', 'files, directories or URLs to read')
    .option('--since <date>', 'hf-daily: first day to fetch; arxiv-oai: from; arxiv-snapshot: updated on or after (YYYY-MM-DD)')
    .option('--until <date>', 'hf-daily: last day to fetch; arxiv-oai: until (YYYY-MM-DD)')
    .option('--date <date>', 'hf-daily: the day to fetch (default today)')
    .option('--categories <globs>', "arxiv-snapshot: keep records in these categories, e.g. 'cs.*,stat.ML'")
    .option('--query <q>', "arxiv-api: search_query, e.g. 'cat:cs.CL AND ti:llm' (default 'cat:cs.*')")
    .option('--id <id...>', 'arxiv-api: id_list; arxiv-oai: GetRecord for one id')
    .option('--max <n>', 'arxiv-api: stop after this many results (default 100)')
    .option('--page-size <n>', 'arxiv-api: results per request (default 100)')
    .option('--set <set>', "arxiv-oai: OAI set (default PAPERBOY_ARXIV_SET, 'cs')")
    .option('--no-progress', 'no progress bar or progress lines')
    .option('--json', 'print the summary as one JSON object on the last line of stdout')
    .addHelpText(
      'after',
      `
Every record read is accounted for: read = new + updated + unchanged + skipped.
Bad records are skipped with their file:line (or file#entry) and the reason; the rest still land.
Re-ingesting the same input changes nothing and reports it as unchanged.

Examples:
  paperboy ingest hf-daily ../shared/data/hf-daily-papers
  paperboy ingest hf-daily --since 2026-08-01 --until 2026-08-07
  paperboy ingest arxiv-api --query 'cat:cs.LG' --max 300
  paperboy ingest arxiv-oai --set cs --since 2026-11-25
  paperboy ingest arxiv-snapshot arxiv-metadata-oai-snapshot.json --categories 'cs.*' --since 2025-01-01
  paperboy ingest jsonl papers.jsonl --json

Exit status: 0 done (skipped records are reported, not fatal), 1 the run failed (a fetch or API error), 2 usage error.`,
    )
    .action(async (source: string, inputs: string[], flags: IngestFlags) => {
      if (!(SOURCES as readonly string[]).includes(source)) {
        throw new UsageError(`unknown source ${JSON.stringify(source)}; choose one of: ${SOURCES.join(', ')}`);
      }
      const args: SourceArgs = {
        inputs,
        since: day('since', flags.since),
        until: day('until', flags.until),
        date: day('date', flags.date),
        categories: flags.categories?.split(',').map((s) => s.trim()).filter(Boolean),
        query: flags.query,
        ids: flags.id?.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean),
        max: positive('max', flags.max),
        pageSize: positive('page-size', flags.pageSize),
        set: flags.set,
      };
      if ((source === 'jsonl' || source === 'arxiv-snapshot') && inputs.length === 0) {
        throw new UsageError(`${source} needs a file, directory or URL to read`);
      }
      const out = createOutput(flags.json === true);
      const started = Date.now();
      const progress = flags.progress === false ? undefined : createProgress(`ingest ${source}`);
      const result = await ctx.withApp(async (app) => {
        const r = await runIngest(app, source as SourceName, args, { onProgress: (s, f) => progress?.update(s, f) });
        progress?.done();
        // With an embedder set up explicitly, new papers are embedded at once (the daemon does it on a schedule).
        if (app.config.embedder.provider === 'http' || app.config.embedder.provider === 'onnx') {
          const { semantic } = await app.search.ready();
          if (semantic && r.summary.new + r.summary.updated > 0) {
            const e = await semantic.embedMissing(app.db, { now: app.now });
            out.line(`${semantic.embedder.id}: ${fmt(e.embedded)} papers embedded`);
          }
        }
        return r;
      });
      const seconds = (Date.now() - started) / 1000;
      const s = result.summary;
      for (const l of summaryText(source, s, seconds)) out.line(l);
      out.result({
        source,
        read: s.read,
        new: s.new,
        updated: s.updated,
        unchanged: s.unchanged,
        skipped: s.skipped,
        filtered: s.filtered,
        errors: s.errors,
        failures: s.failures,
        seconds: Math.round(seconds * 1000) / 1000,
      });
      ctx.exit(s.failures.length ? EXIT.failure : EXIT.ok);
    });
}
