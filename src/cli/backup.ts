import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { BackupError, backupSqlite, defaultBackupFile, postgresGuidance, restoreSqlite, type TableCount } from '../db/backup.ts';
import type { Config } from '../config/config.ts';
import type { CliContext } from './context.ts';
import { createOutput, EXIT, fmt, UsageError, type Output } from './output.ts';
import { createProgress } from './progress.ts';

interface BackupFlags {
  force?: boolean;
  quick?: boolean;
  progress?: boolean;
  json?: boolean;
}

interface RestoreFlags {
  force?: boolean;
  quick?: boolean;
  json?: boolean;
}

function bytes(n: number): string {
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

function tableLines(tables: readonly TableCount[]): string[] {
  const w = Math.max(5, ...tables.map((t) => t.table.length));
  return tables.map((t) => `  ${t.table.padEnd(w)}  ${fmt(t.rows).padStart(12)}`);
}

/** The SQLite file the config names, or null on PostgreSQL (after printing what to do instead). */
function sqliteFile(cfg: Config, command: 'backup' | 'restore', out: Output, ctx: CliContext): string | null {
  const db = cfg.database;
  if (db.kind === 'postgres') {
    const lines = postgresGuidance(command, db.url);
    for (const l of lines) process.stderr.write(`${l}\n`);
    out.result({ ok: false, dialect: 'postgres', guidance: lines });
    ctx.exit(EXIT.usage);
    return null;
  }
  if (db.path === ':memory:') throw new UsageError(`${command}: DATABASE_URL is sqlite::memory:, which has nothing to ${command}`);
  return db.path;
}

function refusedOrFailed(err: unknown, ctx: CliContext, what: string): void {
  if (!(err instanceof BackupError)) throw err;
  process.stderr.write(`paperboy: ${err.message}\n`);
  if (!err.refused) process.stderr.write(`paperboy: ${what}\n`);
  ctx.exit(err.refused ? EXIT.usage : EXIT.failure);
}

export function registerBackup(program: Command, ctx: CliContext): void {
  program
    .command('backup')
    .argument('[file]', 'where to write the backup (default <data dir>/backups/paperboy-YYYYMMDD-HHMMSS.db, UTC); a directory gets that name inside it')
    .description('Back up the SQLite database into one file while paperboy keeps running, then verify the copy')
    .option('--force', 'replace FILE when it exists')
    .option('--quick', 'verify with PRAGMA quick_check instead of integrity_check (faster on large databases)')
    .option('--no-progress', 'no progress bar or progress lines')
    .option('--json', 'print the summary as one JSON object on the last line of stdout')
    .addHelpText(
      'after',
      `
SQLite's online backup copies the database page by page from one consistent snapshot (everything
committed when it starts); paperboy start/serve/worker on the same database keep reading and writing
meanwhile (WAL). The copy is written as FILE.partial-<pid>, checked (opened read-only: integrity_check,
schema version, rows per table) and only then renamed to FILE, so a file with the final name is always
complete. The backup holds the database only: keep <data dir>/secret.key too (or set SECRET_KEY), or the
links in digests already sent stop working.

On PostgreSQL this exits 2 and prints the pg_dump command to use instead.

Examples:
  paperboy backup
  paperboy backup /mnt/backups/ --json
  paperboy restore /mnt/backups/paperboy-20260101-030000.db

Exit status: 0 backed up and verified, 1 the copy failed or did not verify, 2 usage error, refused
(FILE exists, no database) or PostgreSQL.`,
    )
    .action(async (file: string | undefined, flags: BackupFlags) => {
      const out = createOutput(flags.json === true);
      const cfg = ctx.config();
      const source = sqliteFile(cfg, 'backup', out, ctx);
      if (source === null) return;
      const now = new Date();
      let dest: string;
      if (file === undefined) dest = defaultBackupFile(path.join(cfg.dataDir, 'backups'), now);
      else if (/[\\/]$/.test(file) || (existsSync(file) && statSync(file).isDirectory())) dest = defaultBackupFile(path.resolve(file), now);
      else dest = path.resolve(file);
      const bar = flags.progress === false ? undefined : createProgress('backup: pages');
      let report;
      try {
        report = await backupSqlite(source, dest, {
          force: flags.force === true,
          quick: flags.quick === true,
          ...(bar ? { onProgress: (p: { totalPages: number; remainingPages: number }) => bar.fraction(p.totalPages - p.remainingPages, p.totalPages) } : {}),
        });
      } catch (err) {
        bar?.done();
        refusedOrFailed(err, ctx, 'backup: nothing was written under the final name');
        return;
      }
      bar?.done();
      out.line(`backup: sqlite:${source} → ${report.file}`);
      out.line(`copied ${fmt(report.pages)} pages (${bytes(report.bytes)}) in ${report.copySeconds.toFixed(2)} s, a snapshot as of ${report.startedAt}`);
      out.line(`verified in ${report.verifySeconds.toFixed(2)} s: ${flags.quick ? 'quick_check' : 'integrity_check'} ok, schema version ${report.schemaVersion ?? 'none'}`);
      for (const l of tableLines(report.tables)) out.line(l);
      out.result(report);
    });

  program
    .command('restore')
    .argument('<file>', 'a backup made by paperboy backup (or any copy of a paperboy SQLite database)')
    .description('Replace the SQLite database with a backup, migrated to this paperboy (stop paperboy first)')
    .option('--force', 'replace a database that holds papers, subscribers or votes, or that another process has open')
    .option('--quick', 'check the backup with PRAGMA quick_check instead of integrity_check')
    .option('--json', 'print the summary as one JSON object on the last line of stdout')
    .addHelpText(
      'after',
      `
Stop every paperboy process on this database first (paperboy start/serve/worker, cron jobs): a
process that has it open is detected (it holds a lock on the file) and the restore refuses, unless
--force. The backup must be a paperboy database whose schema is not newer than this paperboy's, and
must pass integrity_check. A copy is migrated to the current schema next to the database, then the
current database is moved aside as <name>.before-restore-YYYYMMDD-HHMMSS (UTC) and the copy renamed
into its place. Replacing a database that holds papers, subscribers or votes needs --force.

On PostgreSQL this exits 2 and prints the pg_restore command to use instead.

Exit status: 0 restored, 1 failed part way (the message says where both databases are), 2 usage
error, refused (not a paperboy database, newer schema, damaged, not empty, in use) or PostgreSQL.`,
    )
    .action(async (file: string, flags: RestoreFlags) => {
      const out = createOutput(flags.json === true);
      const cfg = ctx.config();
      const target = sqliteFile(cfg, 'restore', out, ctx);
      if (target === null) return;
      let report;
      try {
        report = await restoreSqlite(path.resolve(file), target, {
          force: flags.force === true,
          quick: flags.quick === true,
          onNote: (line) => process.stderr.write(`paperboy: restore: ${line}\n`),
        });
      } catch (err) {
        refusedOrFailed(err, ctx, `restore: ${target} was not replaced unless the message above says otherwise`);
        return;
      }
      out.line(`restore: ${report.file} → ${report.target}`);
      out.line(`checked: integrity ok, schema version ${report.fromVersion}${report.applied.length ? `, migrated to ${report.schemaVersion}` : ' (current)'}`);
      for (const l of tableLines(report.tables)) out.line(l);
      out.line(report.replaced ? `the previous database is kept as ${report.replaced}` : 'there was no previous database');
      out.line(`restored in ${report.seconds.toFixed(2)} s; start paperboy again`);
      out.result(report);
    });
}
