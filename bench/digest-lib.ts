/**
 * Helpers shared by bench/digest.ts and its children (bench/digest-paperboy.ts,
 * bench/digest-ceiling.ts, bench/digest-sink.ts): the fixed clock and issue date, the environment
 * every paperboy of the benchmark is configured from, the no-op mailer, the subscribers' topics.
 */
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { loadConfig, type Config } from '../src/config/config.ts';
import type { Mailer } from '../src/digest/mailer.ts';
import { STOPWORDS } from '../src/search/stopwords.ts';
import { OUT } from './search-lib.ts';

export const DIGEST_OUT = path.join(OUT, 'digest');

/** The benchmark's "now": the demo's last Daily Papers day is the 21st, so trending is fresh. */
export const NOW = new Date('2026-08-22T12:00:00Z');
export const ISSUE_DATE = '2026-08-22';
export const BASE_URL = 'https://papers.example.org';
/** Fixed, so every process signs the same links (the ceiling sends paperboy's exact messages). */
const SECRET_KEY = 'bench-digest-secret-key-0123456789';

export interface RunConfig {
  dataDir: string;
  dbFile: string;
  /** smtp://127.0.0.1:PORT, or undefined (the process passes a mailer of its own). */
  smtpUrl?: string | undefined;
  poolSize: number;
  concurrency: number;
}

/** The config a benchmark process runs with: only these variables, never the caller's environment. */
export function benchConfig(r: RunConfig): Config {
  return loadConfig({
    PAPERBOY_DATA_DIR: r.dataDir,
    DATABASE_URL: `sqlite:${r.dbFile}`,
    BASE_URL,
    SECRET_KEY,
    LOG_LEVEL: 'warn',
    PAPERBOY_EMBEDDER: 'none',
    PAPERBOY_DEMO: '0',
    PAPERBOY_SCHEDULER: '0',
    SMTP_URL: r.smtpUrl,
    SMTP_POOL_SIZE: String(r.poolSize),
    PAPERBOY_DIGEST_CONCURRENCY: String(r.concurrency),
  });
}

/** Accepts every message at once and sends nothing: paperboy's own cost per digest. */
export class NullMailer implements Mailer {
  readonly kind = 'smtp' as const;
  sent = 0;
  async send(): Promise<{ response: string }> {
    this.sent++;
    return { response: '250 null' };
  }
  async close(): Promise<void> {}
}

/** CPU seconds (user + system) of this process since `from` (a process.cpuUsage() reading). */
export function cpuSeconds(from?: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1e6;
}

/** Milliseconds spent in garbage collection from now until stop() (PerformanceObserver 'gc' entries). */
export function gcTimer(): { stop: () => { ms: number; count: number } } {
  let ms = 0;
  let count = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      ms += e.duration;
      count++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  return {
    stop: () => {
      for (const e of obs.takeRecords()) {
        ms += e.duration;
        count++;
      }
      obs.disconnect();
      return { ms: Math.round(ms), count };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Topics

/** Title words that make no topic on their own. */
const GENERIC = new Set(
  (
    'using based towards toward through your more beyond without across large via from with into make making made ' +
    'what when where which while does done your one two three first new study approach method methods paper ' +
    'all any also only just like than very much many most less good better best real time ' +
    // halves of hyphenated words and other fragments ("self-", "long-", "-aware", "-centric")
    'self multi high long aware post fine free next step head zero single cross centric driven level native ' +
    'open fast guided conditioned enabling improvement report technical state states scale view field dual bench ' +
    'task tasks system systems design unified level level evaluating evolving'
  ).split(' '),
);

export interface TopicVocabulary {
  /** Most frequent first; the weight of each is Zipf-like by rank. */
  topics: string[];
  words: number;
  phrases: number;
}

const tokens = (title: string) =>
  title
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length >= 3 && !/^\d+$/.test(w));

const usable = (w: string) => w.length >= 4 && !STOPWORDS.has(w) && !GENERIC.has(w);

/**
 * About `count` topics people would type, from the papers' titles: the words found in at least
 * two titles (most frequent first), and a sixth of them two-word phrases found in at least two
 * titles ("video generation", "language models").
 */
export function topicVocabulary(titles: readonly string[], count = 200): TopicVocabulary {
  const wordDf = new Map<string, number>();
  const pairDf = new Map<string, number>();
  for (const t of titles) {
    const ws = tokens(t);
    for (const w of new Set(ws.filter(usable))) wordDf.set(w, (wordDf.get(w) ?? 0) + 1);
    const pairs = new Set<string>();
    for (let i = 0; i + 1 < ws.length; i++) {
      const [a, b] = [ws[i]!, ws[i + 1]!];
      if (usable(a) && usable(b) && !b.startsWith(a) && !a.startsWith(b)) pairs.add(`${a} ${b}`);
    }
    for (const p of pairs) pairDf.set(p, (pairDf.get(p) ?? 0) + 1);
  }
  const ranked = (m: Map<string, number>) =>
    [...m]
      .filter(([, n]) => n >= 2)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([w]) => w);
  const phrases = ranked(pairDf).slice(0, Math.round(count / 6));
  const words = ranked(wordDf).slice(0, count - phrases.length);
  // Interleave so phrases are spread over the popularity ranks, not all in the tail.
  const topics: string[] = [];
  const step = Math.max(1, Math.floor(words.length / Math.max(1, phrases.length)));
  let p = 0;
  words.forEach((w, i) => {
    topics.push(w);
    if ((i + 1) % step === 0 && p < phrases.length) topics.push(phrases[p++]!);
  });
  while (p < phrases.length) topics.push(phrases[p++]!);
  return { topics, words: words.length, phrases: phrases.length };
}

/** What the SMTP sink (bench/digest-sink.ts) has counted. */
export interface SinkStats {
  messages: number;
  /** Distinct Message-IDs among them (each digest exactly once: distinct = messages). */
  distinct: number;
  /** Messages with no Message-ID header. */
  withoutId: number;
  bytes: number;
  connections: number;
  /** CPU seconds the sink process has used (user + system), since it started. */
  cpuSeconds: number;
}
