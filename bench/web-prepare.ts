/**
 * The database bench/web.ts serves: a copy of bench/search.ts's cached corpus database (never
 * touched itself), migrated to the current schema, with Daily-Papers-like activity so the home
 * page lists real trending papers:
 *   - ~3% of the papers featured once over the last 60 days (≈ 50 a day, as on Hugging Face),
 *     each observed on 1–5 consecutive days with growing hf_upvotes (Zipf-like: median ≈ 5,
 *     p99 ≈ 140, as in the real listings), hf_comments, and GitHub stars for about a third;
 *   - votes here for ~600 papers, mostly featured ones, over the last 14 days;
 *   - the stored trending score of all of them (recomputeTrending 'all').
 * It also picks the papers the benchmark opens (half featured, half any) and fills their
 * similar-papers lists, as the server's similar job does ahead of readers; plus a few papers left
 * uncached, for the in-process cost of a first view.
 *
 * Cached under bench/out/web/ by size, seed and corpus version, rebuilt when the schema version
 * changes; the info file is written last and marks the copy complete. Each run then serves a fresh copy of it (prepareRun), so every run
 * starts from the same state: viewing a paper writes its similar list.
 */
import BetterSqlite3 from 'better-sqlite3';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { latestVersion, migrate } from '../src/db/migrations.ts';
import type { Sql } from '../src/db/sql.ts';
import { openSqlite } from '../src/db/sqlite.ts';
import { DEFAULT_WEIGHTS } from '../src/ranking/score.ts';
import { similarPapers } from '../src/search/similar.ts';
import { recomputeTrending } from '../src/store/trending.ts';
import { CORPUS_VERSION, prng } from './corpus.ts';
import { OUT, round } from './search-lib.ts';

/** Bump when the prepared activity changes, so cached copies are rebuilt. */
const PREPARE_VERSION = 1;
const FEATURED_SHARE = 0.03;
const ACTIVITY_DAYS = 60;
const VOTED_PAPERS = 600;
const OPENED_PAPERS = 1000;
const UNCACHED_PAPERS = 100;

export interface PreparedInfo {
  version: number;
  /** The schema version it was migrated to (a newer paperboy rebuilds it). */
  schema: number;
  size: number;
  seed: number;
  /** When the activity was generated (signals spread over the 60 days before it). */
  date: string;
  seconds: number;
  featured: number;
  signals: number;
  votes: number;
  trending: number;
  /** Paper keys the load test opens (their similar lists are cached). */
  opened: string[];
  /** Paper keys with no similar list yet (the in-process first-view cost). */
  uncached: string[];
}

export interface Prepared {
  file: string;
  info: PreparedInfo;
  bytes: number;
  /** Seconds this run spent preparing (null when the cached copy was used). */
  builtSeconds: number | null;
}

function preparedPaths(size: number, seed: number): { file: string; info: string } {
  const base = path.join(OUT, 'web', `papers-${size}-s${seed}-c${CORPUS_VERSION}-w${PREPARE_VERSION}`);
  return { file: `${base}.db`, info: `${base}.json` };
}

const removeDb = (file: string) => {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
};

/** Copies a SQLite file whose WAL has been checkpointed (fails loudly otherwise). */
function copyDatabase(from: string, to: string): void {
  const wal = `${from}-wal`;
  if (existsSync(wal) && statSync(wal).size > 0) {
    // Fold the WAL into the main file first (content unchanged), so the copy is whole.
    const conn = new BetterSqlite3(from);
    conn.pragma('wal_checkpoint(TRUNCATE)');
    conn.close();
    if (existsSync(wal) && statSync(wal).size > 0) throw new Error(`bench: ${from} has a WAL that could not be checkpointed (is it open elsewhere?)`);
  }
  removeDb(to);
  copyFileSync(from, to);
}

/** Pareto (power-law) integer ≥ min, capped: a Zipf-like popularity. */
function powerLaw(rnd: () => number, min: number, alpha: number, cap: number): number {
  return Math.min(cap, Math.floor(min * (1 - rnd()) ** (-1 / (alpha - 1))));
}

function voterId(rnd: () => number): string {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let s = '';
  for (let i = 0; i < 22; i++) s += abc[Math.floor(rnd() * 64)];
  return `v:${s}`;
}

/** Distinct integers in [1, n] (as many as there are, up to count), in random order. */
function distinct(rnd: () => number, n: number, count: number, exclude: ReadonlySet<number> = new Set()): number[] {
  const out = new Set<number>();
  const want = Math.min(count, n - [...exclude].filter((x) => x >= 1 && x <= n).length);
  while (out.size < want) {
    const x = 1 + Math.floor(rnd() * n);
    if (!exclude.has(x)) out.add(x);
  }
  return [...out];
}

async function addActivity(db: Sql, size: number, seed: number, now: Date): Promise<{ featured: number[]; signals: number; votes: number }> {
  const rnd = prng(seed * 7919 + 17);
  const DAY = 86_400_000;
  const featured = distinct(rnd, size, Math.round(size * FEATURED_SHARE));
  let signals = 0;
  await db.tx(async (tx) => {
    for (const id of featured) {
      // Featured on a day of the last 60, at a time of that day; observed on up to 5 consecutive days.
      const ago = Math.floor(rnd() * ACTIVITY_DAYS);
      const first = now.getTime() - ago * DAY - Math.floor(rnd() * DAY);
      const days = Math.min(ago + 1, 1 + Math.floor(rnd() * 5));
      const upvotes = powerLaw(rnd, 3, 2.2, 600);
      const comments = Math.floor(upvotes * rnd() * 0.3);
      const stars = rnd() < 0.35 ? powerLaw(rnd, 5, 1.6, 80_000) : 0;
      for (let d = 0; d < days; d++) {
        const at = new Date(Math.min(first + d * DAY, now.getTime())).toISOString();
        const share = (d + 1) / days;
        const rows: [string, number][] = [
          ['hf_upvotes', Math.round(upvotes * share)],
          ['hf_comments', Math.round(comments * share)],
        ];
        if (stars) rows.push(['github_stars', Math.round(stars * (0.6 + 0.4 * share))]);
        for (const [name, value] of rows) {
          await tx.run('INSERT INTO signals (paper_id, source, name, value, observed_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING', [id, 'hf-daily', name, value, at]);
          signals++;
        }
      }
    }
  });
  // Votes here: mostly for featured papers, a few for any paper; spread over the last 14 days.
  const featuredSet = new Set(featured);
  const fromFeatured = featured.slice(0, Math.round(VOTED_PAPERS * 0.8));
  const voted = [...fromFeatured, ...distinct(rnd, size, VOTED_PAPERS - fromFeatured.length, featuredSet)];
  let votes = 0;
  await db.tx(async (tx) => {
    for (const id of voted) {
      const n = powerLaw(rnd, 1, 2, 60);
      for (let i = 0; i < n; i++) {
        const at = new Date(now.getTime() - Math.floor(rnd() * 14 * DAY)).toISOString();
        const r = await tx.run('INSERT INTO votes (paper_id, voter, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [id, voterId(rnd), at]);
        votes += r.changes;
      }
    }
  });
  return { featured, signals, votes };
}

export async function ensurePrepared(source: string, size: number, seed: number, log: (s: string) => void): Promise<Prepared> {
  const { file, info } = preparedPaths(size, seed);
  if (existsSync(file) && existsSync(info)) {
    const i = JSON.parse(readFileSync(info, 'utf8')) as PreparedInfo;
    if (i.version === PREPARE_VERSION && i.schema === latestVersion && i.size === size && i.seed === seed) return { file, info: i, bytes: statSync(file).size, builtSeconds: null };
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const started = performance.now();
  const tmp = `${file}.${process.pid}.tmp`;
  log(`preparing ${path.relative(process.cwd(), file)} (copy, migrations, activity, trending, similar lists) …`);
  copyDatabase(source, tmp);
  const db = openSqlite(tmp);
  try {
    const applied = await migrate(db);
    if (applied.length) log(`  migrations applied: ${applied.join(', ')}`);
    const now = new Date();
    const { featured, signals, votes } = await addActivity(db, size, seed, now);
    const t = performance.now();
    const trending = await recomputeTrending(db, 'all', DEFAULT_WEIGHTS, now);
    log(`  ${featured.length.toLocaleString('en-US')} featured papers, ${signals.toLocaleString('en-US')} signal rows, ${votes.toLocaleString('en-US')} votes; trending of ${trending.toLocaleString('en-US')} papers in ${round((performance.now() - t) / 1000, 1)} s`);

    // The papers the load test opens: half featured (people open what trends), half any paper.
    const rnd = prng(seed * 104_729 + 3);
    const featuredSet = new Set(featured);
    const pickedFeatured = distinct(rnd, featured.length, OPENED_PAPERS / 2).map((i) => featured[i - 1]!);
    const others = distinct(rnd, size, OPENED_PAPERS / 2, featuredSet);
    const opened = [...pickedFeatured, ...others];
    const uncached = distinct(rnd, size, UNCACHED_PAPERS, new Set(opened));
    const keyOf = async (id: number) => (await db.get<{ key: string }>('SELECT key FROM papers WHERE id = ?', [id]))!.key;
    const openedKeys: string[] = [];
    for (const id of opened) openedKeys.push(await keyOf(id));
    const uncachedKeys: string[] = [];
    for (const id of uncached) uncachedKeys.push(await keyOf(id));
    // Shuffle, so featured and other papers alternate in the request lists.
    for (let i = openedKeys.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [openedKeys[i], openedKeys[j]] = [openedKeys[j]!, openedKeys[i]!];
    }
    const s = performance.now();
    for (const key of openedKeys) await similarPapers(db, key, { k: 10, now });
    log(`  similar lists of ${openedKeys.length.toLocaleString('en-US')} papers in ${round((performance.now() - s) / 1000, 1)} s`);

    await db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    await db.close();
    removeDb(file);
    renameSync(tmp, file);
    removeDb(tmp);
    const seconds = round((performance.now() - started) / 1000, 1);
    const i: PreparedInfo = { version: PREPARE_VERSION, schema: latestVersion, size, seed, date: now.toISOString(), seconds, featured: featured.length, signals, votes, trending, opened: openedKeys, uncached: uncachedKeys };
    writeFileSync(info, JSON.stringify(i) + '\n');
    log(`  prepared in ${seconds} s`);
    return { file, info: i, bytes: statSync(file).size, builtSeconds: seconds };
  } catch (err) {
    await db.close();
    removeDb(tmp);
    throw err;
  }
}

/**
 * A fresh copy of the prepared database for one run, its similar lists marked as computed now
 * (they go stale after a week, and the prepared copy may be older than that).
 */
export function prepareRun(prepared: Prepared): string {
  const file = path.join(OUT, 'web', `run-${prepared.info.size}.db`);
  copyDatabase(prepared.file, file);
  const conn = new BetterSqlite3(file);
  conn.prepare('UPDATE similar_cache SET computed_at = ?').run(new Date().toISOString());
  conn.pragma('wal_checkpoint(TRUNCATE)');
  conn.close();
  return file;
}
