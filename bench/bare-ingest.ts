/**
 * The baseline for bench/ingest.ts: bare better-sqlite3 inserts of the rows paperboy would
 * store, with none of its dedupe lookups or merge logic.
 *
 *   node --import tsx bench/bare-ingest.ts <snapshot.jsonl> <database file>
 *
 * The database is opened by paperboy's own openSqlite (so the pragmas are the same) and
 * migrated (so every index is maintained). Each line is parsed and normalised by paperboy's
 * own code, so the column values are the ones `paperboy ingest arxiv-snapshot` stores; then
 * one prepared INSERT per paper plus its paper_sources row, in transactions of 1000.
 * Prints one JSON object on stdout.
 */
import BetterSqlite3 from 'better-sqlite3';
import { performance } from 'node:perf_hooks';
import { migrate } from '../src/db/migrations.ts';
import { openSqlite } from '../src/db/sqlite.ts';
import { parseSnapshotLine } from '../src/ingest/arxiv-snapshot.ts';
import { readLines } from '../src/ingest/files.ts';
import { normalise } from '../src/ingest/normalise.ts';
import type { Param } from '../src/db/sql.ts';
import { toParams } from '../src/store/papers.ts';

const SOURCE = 'arxiv-snapshot';
const BATCH = 1000;

type Row = Param[];

async function main(): Promise<void> {
  const [file, dbFile] = process.argv.slice(2);
  if (!file || !dbFile) throw new Error('usage: bare-ingest.ts <snapshot.jsonl> <database file>');
  const started = performance.now();

  const db = openSqlite(dbFile);
  await migrate(db);
  // The very connection openSqlite configured: same pragmas, no wrapper in the way.
  const conn = (db as unknown as { conn?: unknown }).conn;
  if (!(conn instanceof BetterSqlite3)) throw new Error('bench: openSqlite no longer keeps its better-sqlite3 connection in .conn');

  const insertPaper = conn.prepare(`INSERT INTO papers (key, arxiv_id, doi, title_key, title, abstract, authors, categories,
    primary_category, submitted_at, updated_at, version, versions, journal_ref, comments, links, created_at, modified_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const insertSource = conn.prepare('INSERT INTO paper_sources (paper_id, source, first_seen_at) VALUES (?, ?, ?)');
  const insertBatch = conn.transaction((rows: Row[], stamp: string) => {
    for (const r of rows) {
      const { lastInsertRowid } = insertPaper.run(...r, stamp, stamp);
      insertSource.run(lastInsertRowid, SOURCE, stamp);
    }
  });

  let read = 0;
  let rows = 0;
  let skipped = 0;
  let parseMs = 0;
  let insertMs = 0;
  let batch: Row[] = [];
  const flush = () => {
    const t = performance.now();
    insertBatch.immediate(batch, new Date().toISOString());
    insertMs += performance.now() - t;
    rows += batch.length;
    batch = [];
  };

  const loopStarted = performance.now();
  for await (const line of readLines(file)) {
    if (line.text === null || line.text.trim() === '') continue;
    read++;
    const t = performance.now();
    const it = parseSnapshotLine(line.text, `${file}:${line.n}`);
    const n = 'filtered' in it || !it.ok ? undefined : normalise(it.where, it.record);
    if (n?.ok) batch.push(toParams(n.value.paper));
    else skipped++;
    parseMs += performance.now() - t;
    if (batch.length >= BATCH) flush();
  }
  if (batch.length) flush();
  const loopMs = performance.now() - loopStarted;
  await db.close();

  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    JSON.stringify({
      read,
      rows,
      skipped,
      seconds: round(seconds),
      loopSeconds: round(loopMs / 1000),
      parseSeconds: round(parseMs / 1000),
      insertSeconds: round(insertMs / 1000),
      readSeconds: round((loopMs - parseMs - insertMs) / 1000),
    }) + '\n',
  );
}

const round = (x: number) => Math.round(x * 1000) / 1000;

await main();
