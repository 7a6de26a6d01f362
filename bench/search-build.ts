/**
 * Builds (once) the paperboy database of the first N synthetic papers for bench/search.ts, the
 * fast way: paperboy's own openSqlite + migrate, then one prepared INSERT of
 * toParams(normalise(…)) per paper in transactions of 5,000 (the FTS5 triggers keep the index in
 * sync). Cached under bench/out/search/ by size, seed and corpus version; a side file holds each
 * paper's numeric arXiv id (the vector ids) and vector cluster, in row order.
 */
import BetterSqlite3 from 'better-sqlite3';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { migrate } from '../src/db/migrations.ts';
import type { Param } from '../src/db/sql.ts';
import { openSqlite } from '../src/db/sqlite.ts';
import { normalise } from '../src/ingest/normalise.ts';
import { toParams } from '../src/store/papers.ts';
import { arxivNumber, CORPUS_VERSION, CorpusGenerator, type Sources } from './corpus.ts';
import { OUT, round } from './search-lib.ts';

const BATCH = 5000;

export interface BuiltDatabase {
  size: number;
  file: string;
  meta: string;
  bytes: number;
  /** Seconds the load took (null when it came from the cache). */
  loadSeconds: number | null;
  /** Seconds the load took when the cached database was built (generating the papers included). */
  builtSeconds: number;
  /** Of which in the INSERT transactions (papers table, its indexes and FTS5). */
  insertSeconds: number;
}

export function databasePaths(size: number, seed: number): { file: string; meta: string; info: string } {
  const base = path.join(OUT, 'search', `papers-${size}-s${seed}-c${CORPUS_VERSION}`);
  return { file: `${base}.db`, meta: `${base}.meta.bin`, info: `${base}.json` };
}

/** Vector ids (numeric arXiv ids) and clusters of the papers, in row order. */
export function readMeta(meta: string, size: number): { ids: Int32Array; clusters: Uint16Array } {
  const buf = readFileSync(meta);
  if (buf.byteLength !== size * 6) throw new Error(`bench: ${meta} has ${buf.byteLength} bytes, expected ${size * 6}`);
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  return { ids: new Int32Array(copy.buffer, 0, size), clusters: new Uint16Array(copy.buffer, size * 4, size) };
}

export async function ensureDatabase(size: number, seed: number, sources: Sources, log: (s: string) => void): Promise<BuiltDatabase> {
  const { file, meta, info } = databasePaths(size, seed);
  if (existsSync(file) && existsSync(meta) && existsSync(info)) {
    const built = JSON.parse(readFileSync(info, 'utf8')) as { seconds: number; insertSeconds: number };
    return { size, file, meta, bytes: statSync(file).size, loadSeconds: null, builtSeconds: built.seconds, insertSeconds: built.insertSeconds };
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) rmSync(f, { force: true });
  log(`building the ${size.toLocaleString('en-US')}-paper database ${path.relative(process.cwd(), file)} …`);
  const started = performance.now();
  const db = openSqlite(tmp);
  await migrate(db);
  const conn = (db as unknown as { conn?: unknown }).conn;
  if (!(conn instanceof BetterSqlite3)) throw new Error('bench: openSqlite no longer keeps its better-sqlite3 connection in .conn');
  const insert = conn.prepare(`INSERT INTO papers (key, arxiv_id, doi, title_key, title, abstract, authors, categories,
    primary_category, submitted_at, updated_at, version, versions, journal_ref, comments, links, created_at, modified_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const insertBatch = conn.transaction((rows: Param[][], stamp: string) => {
    for (const r of rows) insert.run(...r, stamp, stamp);
  });

  const gen = new CorpusGenerator(sources, seed);
  const ids = new Int32Array(size);
  const clusters = new Uint16Array(size);
  let rows: Param[][] = [];
  let lastLog = performance.now();
  let insertMs = 0;
  const flush = () => {
    const t = performance.now();
    insertBatch.immediate(rows, new Date().toISOString());
    insertMs += performance.now() - t;
    rows = [];
  };
  for (let i = 0; i < size; i++) {
    const p = gen.next();
    const n = normalise(`synthetic#${i}`, p.record);
    if (!n.ok) throw new Error(`bench: synthetic paper ${i} rejected: ${n.reason}`);
    ids[i] = arxivNumber(n.value.paper.arxivId!);
    clusters[i] = p.cluster;
    rows.push(toParams(n.value.paper));
    if (rows.length >= BATCH) {
      flush();
      if (performance.now() - lastLog > 15_000) {
        lastLog = performance.now();
        log(`  ${(i + 1).toLocaleString('en-US')} papers, ${round((performance.now() - started) / 1000, 0)} s`);
      }
    }
  }
  if (rows.length) flush();
  const n = (conn.prepare('SELECT COUNT(*) AS n FROM papers').get() as { n: number }).n;
  if (n !== size) throw new Error(`bench: ${n} papers stored, expected ${size}`);
  conn.pragma('wal_checkpoint(TRUNCATE)');
  await db.close();
  const seconds = round((performance.now() - started) / 1000, 1);
  const insertSeconds = round(insertMs / 1000, 1);
  const metaBuf = Buffer.alloc(size * 6);
  Buffer.from(ids.buffer).copy(metaBuf, 0);
  Buffer.from(clusters.buffer).copy(metaBuf, size * 4);
  writeFileSync(meta, metaBuf);
  renameSync(tmp, file);
  for (const f of [`${tmp}-wal`, `${tmp}-shm`]) rmSync(f, { force: true });
  writeFileSync(info, JSON.stringify({ size, seed, corpusVersion: CORPUS_VERSION, seconds, insertSeconds, date: new Date().toISOString() }) + '\n');
  const bytes = statSync(file).size;
  log(`  built in ${seconds} s (${insertSeconds} s of it inserting; ${Math.round(size / seconds).toLocaleString('en-US')} papers/s), ${Math.round(bytes / 2 ** 20)} MB`);
  return { size, file, meta, bytes, loadSeconds: seconds, builtSeconds: seconds, insertSeconds };
}
