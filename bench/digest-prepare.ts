/**
 * The database bench/digest.ts sends from: the bundled demo (450 papers with real Daily Papers
 * upvotes, loaded by loadDemoIfEmpty with the clock at NOW) and N confirmed subscribers:
 *   - ~40% with no topics (everything trending), the rest 1–3 topics (45/35/20%) drawn Zipf-like
 *     from ~200 topics taken from the demo's titles (bench/digest-lib.ts topicVocabulary);
 *   - perDigest 5–10, skipEmpty off, includeNew on for 85%, a few time zones and hours (they do not
 *     matter to `scheduleDate`, which schedules everyone confirmed for the date).
 * Inserted through insertSubscriber, 5,000 to a transaction. Cached under bench/out/digest/ by
 * size, seed and schema version (the info file, written last, marks it complete); each run sends
 * from a fresh copy (prepareRun), since sending writes to it.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createApp } from '../src/app.ts';
import { latestVersion } from '../src/db/migrations.ts';
import { loadDemoIfEmpty } from '../src/demo.ts';
import { DEFAULT_PREFERENCES, insertSubscriber, type Preferences } from '../src/store/subscribers.ts';
import { prng } from './corpus.ts';
import { benchConfig, DIGEST_OUT, NOW, NullMailer, topicVocabulary } from './digest-lib.ts';
import { round } from './search-lib.ts';

/** Bump when the prepared data changes, so cached copies are rebuilt. */
const PREPARE_VERSION = 1;
const NO_TOPICS_SHARE = 0.4;
const BATCH = 5000;
const TIMEZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Shanghai', 'America/Los_Angeles', 'Asia/Kolkata', 'Europe/London'];
const DOMAINS = ['example.org', 'example.com', 'example.net', 'mail.example.edu', 'lab.example.ac.uk'];

export interface PreparedInfo {
  version: number;
  schema: number;
  subscribers: number;
  seed: number;
  seconds: number;
  papers: number;
  topics: string[];
  withTopics: number;
  /** Subscribers by number of topics: [0, 1, 2, 3]. */
  topicCounts: number[];
  /** The ten most chosen topics and how many subscribers chose each. */
  popular: [string, number][];
}

export interface Prepared {
  file: string;
  info: PreparedInfo;
  bytes: number;
  /** Seconds this run spent preparing (null when the cached copy was used). */
  builtSeconds: number | null;
}

const removeDb = (file: string) => {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
};

/** Index of a Zipf-like draw over n ranked items (weight 1/(rank+1)^0.9). */
function zipfPicker(n: number, rnd: () => number): () => number {
  const cum: number[] = [];
  let total = 0;
  for (let i = 0; i < n; i++) cum.push((total += 1 / (i + 1) ** 0.9));
  return () => {
    const x = rnd() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

export async function ensurePrepared(subscribers: number, seed: number, log: (s: string) => void): Promise<Prepared> {
  const base = path.join(DIGEST_OUT, `subscribers-${subscribers}-s${seed}-v${PREPARE_VERSION}`);
  const file = `${base}.db`;
  const infoFile = `${base}.json`;
  if (existsSync(file) && existsSync(infoFile)) {
    const info = JSON.parse(readFileSync(infoFile, 'utf8')) as PreparedInfo;
    if (info.version === PREPARE_VERSION && info.schema === latestVersion && info.subscribers === subscribers && info.seed === seed) {
      return { file, info, bytes: statSync(file).size, builtSeconds: null };
    }
  }
  mkdirSync(DIGEST_OUT, { recursive: true });
  const started = performance.now();
  const tmpDir = path.join(DIGEST_OUT, `prepare-${process.pid}`);
  const tmp = path.join(tmpDir, 'paperboy.db');
  rmSync(tmpDir, { recursive: true, force: true });
  log(`preparing ${path.relative(process.cwd(), file)} (demo papers, ${subscribers.toLocaleString('en-US')} subscribers) …`);
  const app = await createApp(benchConfig({ dataDir: tmpDir, dbFile: tmp, poolSize: 1, concurrency: 1 }), { now: () => NOW, mailer: new NullMailer() });
  let info: PreparedInfo;
  try {
    await loadDemoIfEmpty(app);
    const titles = (await app.db.all<{ title: string }>('SELECT title FROM papers ORDER BY id')).map((r) => r.title);
    const vocab = topicVocabulary(titles, 200);
    const rnd = prng(seed * 2_654_435 + 11);
    const pickTopic = zipfPicker(vocab.topics.length, rnd);
    const topicCounts = [0, 0, 0, 0];
    const chosen = new Map<string, number>();
    const t = performance.now();
    for (let from = 0; from < subscribers; from += BATCH) {
      await app.db.tx(async (tx) => {
        for (let i = from; i < Math.min(subscribers, from + BATCH); i++) {
          const topics = new Set<string>();
          if (rnd() >= NO_TOPICS_SHARE) {
            const u = rnd();
            const want = u < 0.45 ? 1 : u < 0.8 ? 2 : 3;
            while (topics.size < want) topics.add(vocab.topics[pickTopic()]!);
          }
          topicCounts[topics.size]!++;
          for (const x of topics) chosen.set(x, (chosen.get(x) ?? 0) + 1);
          const prefs: Preferences = {
            ...DEFAULT_PREFERENCES,
            timezone: TIMEZONES[Math.floor(rnd() * TIMEZONES.length)]!,
            deliveryHour: 5 + Math.floor(rnd() * 5),
            perDigest: 5 + Math.floor(rnd() * 6),
            includeNew: rnd() < 0.85,
            skipEmpty: false,
            topics: [...topics],
          };
          const email = `reader${i + 1}@${DOMAINS[i % DOMAINS.length]}`;
          const id = await insertSubscriber(tx, { email, emailKey: email.toLowerCase(), status: 'confirmed', prefs, source: 'bench', now: NOW.toISOString() });
          if (id === undefined) throw new Error(`bench: subscriber ${email} already there`);
        }
      });
    }
    log(`  ${subscribers.toLocaleString('en-US')} subscribers inserted in ${round((performance.now() - t) / 1000, 1)} s; ${vocab.topics.length} topics (${vocab.words} words, ${vocab.phrases} phrases)`);
    info = {
      version: PREPARE_VERSION,
      schema: latestVersion,
      subscribers,
      seed,
      seconds: round((performance.now() - started) / 1000, 1),
      papers: titles.length,
      topics: vocab.topics,
      withTopics: subscribers - topicCounts[0]!,
      topicCounts,
      popular: [...chosen].sort((a, b) => b[1] - a[1]).slice(0, 10),
    };
  } finally {
    await app.close();
  }
  // Closing the last connection folds the WAL into the file; the copy is then whole.
  if (existsSync(`${tmp}-wal`) && statSync(`${tmp}-wal`).size > 0) throw new Error(`bench: ${tmp} kept a WAL after closing`);
  removeDb(file);
  renameSync(tmp, file);
  rmSync(tmpDir, { recursive: true, force: true });
  writeFileSync(infoFile, JSON.stringify(info, null, 1) + '\n');
  return { file, info, bytes: statSync(file).size, builtSeconds: info.seconds };
}

/** A fresh data dir holding a copy of the prepared database, for one child; remove() when done. */
export function prepareRun(prepared: Prepared, name: string): { dataDir: string; dbFile: string; remove: () => void } {
  const dataDir = path.join(DIGEST_OUT, 'runs', `${name}-${process.pid}`);
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const dbFile = path.join(dataDir, 'paperboy.db');
  copyFileSync(prepared.file, dbFile);
  return { dataDir, dbFile, remove: () => rmSync(dataDir, { recursive: true, force: true }) };
}
