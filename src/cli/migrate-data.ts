import type { Command } from 'commander';
import { MAX_WRITERS, migrateData, MigrateDataError, type CopyPhase, type CopyProgress, type CopyReport } from '../db/copy.ts';
import type { CliContext } from './context.ts';
import { createOutput, EXIT, fmt, UsageError } from './output.ts';
import { createProgress, type Progress } from './progress.ts';

interface Flags {
  from: string;
  to: string;
  force?: boolean;
  dryRun?: boolean;
  batchSize?: string;
  writers?: string;
  progress?: boolean;
  json?: boolean;
}

function batchSize(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new UsageError(`--batch-size must be a whole number from 1 to 100000 (got ${JSON.stringify(v)})`);
  return n;
}

function writers(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > MAX_WRITERS) throw new UsageError(`--writers must be a whole number from 1 to ${MAX_WRITERS} (got ${JSON.stringify(v)})`);
  return n;
}

function reportLines(r: CopyReport): string[] {
  const lines: string[] = [];
  const w = Math.max(5, ...r.tables.map((t) => t.table.length));
  if (r.dryRun) {
    lines.push(`${'table'.padEnd(w)}  ${'rows'.padStart(12)}`);
    for (const t of r.tables) lines.push(`${t.table.padEnd(w)}  ${fmt(t.sourceRows).padStart(12)}`);
    lines.push(`${'total'.padEnd(w)}  ${fmt(r.rows).padStart(12)}`);
    if (r.targetPopulated.length) {
      lines.push(`the target already holds data: ${r.targetPopulated.map((p) => `${p.table} ${fmt(p.rows)}`).join(', ')}`);
      lines.push(r.ok ? 'with --force it would be emptied first' : 'a real run would refuse it (--force empties it first)');
    } else {
      lines.push('the target is empty: a real run would copy into it');
    }
    lines.push('dry run: nothing written');
    return lines;
  }
  lines.push(`${'table'.padEnd(w)}  ${'source rows'.padStart(12)}  ${'target rows'.padStart(12)}  checksum`);
  for (const t of r.tables) {
    const verdict = t.match ? `ok ${t.sourceChecksum?.slice(0, 16)}` : `MISMATCH ${t.sourceChecksum?.slice(0, 16)} ≠ ${t.targetChecksum?.slice(0, 16)}`;
    lines.push(`${t.table.padEnd(w)}  ${fmt(t.sourceRows).padStart(12)}  ${fmt(t.targetRows ?? 0).padStart(12)}  ${verdict}`);
  }
  const rate = r.copySeconds > 0 ? ` (${fmt(Math.round(r.rows / r.copySeconds))} rows/s)` : '';
  lines.push(`copied ${fmt(r.rows)} rows in ${r.copySeconds.toFixed(1)} s${rate}; verified in ${r.verifySeconds.toFixed(1)} s`);
  const bad = r.tables.filter((t) => !t.match);
  lines.push(bad.length ? `migrate-data: ${bad.length} of ${r.tables.length} tables differ: ${bad.map((t) => t.table).join(', ')}` : `all ${r.tables.length} tables match`);
  return lines;
}

export function registerMigrateData(program: Command, ctx: CliContext): void {
  program
    .command('migrate-data')
    .description('Copy a whole instance to another database (SQLite ⇄ PostgreSQL) and verify it table by table')
    .requiredOption('--from <url>', 'the database to copy: sqlite:PATH or postgres://… (?schema=name)')
    .requiredOption('--to <url>', 'the database to fill: sqlite:PATH or postgres://… (?schema=name); migrated to the latest schema first')
    .option('--force', 'when the target already holds data, empty it first (never merged)')
    .option('--dry-run', 'count the rows to copy and check the target; write nothing')
    .option('--batch-size <n>', 'rows per page read and per transaction written (default 1000)')
    .option('--writers <n>', `PostgreSQL target: transactions written at once (default 2, at most ${MAX_WRITERS})`)
    .option('--no-progress', 'no progress bar or progress lines')
    .option('--json', 'print the summary as one JSON object on the last line of stdout')
    .addHelpText(
      'after',
      `
Every data table is copied in foreign-key order with its ids unchanged; search indexes are rebuilt
by the target itself (SQLite FTS5 and PostgreSQL search triggers), generated columns recomputed and
PostgreSQL id sequences moved past the largest id. Then both sides are read again and compared per
table: row count and a checksum of every row's values (order-independent, type differences
normalised). A target that already holds data is refused unless --force, which empties it first.

Stop paperboy (serve, cron jobs) on the source first: writes made during the copy are not carried
over, and show up as a mismatch.

Examples:
  paperboy migrate-data --from sqlite:./data/paperboy.db --to postgres://paperboy:secret@db:5432/paperboy
  paperboy migrate-data --from 'postgres://db/paperboy?schema=prod' --to sqlite:./backup/paperboy.db --json
  paperboy migrate-data --from sqlite:./data/paperboy.db --to postgres://db/paperboy --dry-run

Exit status: 0 copied and every table matches (dry run: the target could be filled), 1 the copy
failed or a table differs, 2 usage error or refused (target not empty, source missing or outdated).`,
    )
    .action(async (flags: Flags) => {
      const out = createOutput(flags.json === true);
      const size = batchSize(flags.batchSize);
      const nWriters = writers(flags.writers);
      const bars: Partial<Record<CopyPhase, Progress>> = {};
      const bar = (phase: CopyPhase): Progress => (bars[phase] ??= createProgress(phase === 'copy' ? 'migrate-data: copy' : 'migrate-data: verify'));
      let shown: CopyPhase | undefined;
      let report: CopyReport;
      try {
        report = await migrateData(flags.from, flags.to, {
          force: flags.force === true,
          dryRun: flags.dryRun === true,
          ...(size ? { batchSize: size } : {}),
          ...(nWriters ? { writers: nWriters } : {}),
          ...(flags.progress === false
            ? {}
            : {
                onProgress: (p: CopyProgress) => {
                  if (shown !== p.phase) {
                    if (shown) bar(shown).done();
                    shown = p.phase;
                  }
                  bar(p.phase).fraction(p.done, p.total);
                },
              }),
          onNote: (line) => process.stderr.write(`migrate-data: ${line}\n`),
        });
      } catch (err) {
        if (shown) bar(shown).done();
        if (err instanceof MigrateDataError) {
          process.stderr.write(`paperboy: ${err.message}\n`);
          if (!err.refused) process.stderr.write('paperboy: migrate-data: the target may hold a partial copy: once the cause is fixed, run again with --force\n');
          ctx.exit(err.refused ? EXIT.usage : EXIT.failure);
          return;
        }
        throw err;
      }
      if (shown) bar(shown).done();
      out.line(`migrate-data: ${report.from} → ${report.to}`);
      for (const l of reportLines(report)) out.line(l);
      out.result(report);
      if (!report.ok) {
        if (out.json) for (const t of report.tables.filter((x) => x.match === false)) process.stderr.write(`paperboy: migrate-data: ${t.table} differs\n`);
        ctx.exit(report.dryRun ? EXIT.usage : EXIT.failure);
      }
    });
}
