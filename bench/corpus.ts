/**
 * The synthetic corpus, vectors and query set of bench/search.ts.
 *
 * Papers are resampled from real text read at run time from ../shared/data (never copied into
 * the repository): SciFact abstracts (scifact/corpus.jsonl), Hugging Face Daily Papers
 * (hf-daily-papers/*.json, parsed by paperboy's own parser) and seed/papers.jsonl. Each synthetic
 * abstract is built from the sentences of 2–4 real abstracts, in their original positions; each
 * title is a real title with one word swapped for a word of another title, or one appended.
 * Authors come from a fixed pool of 200,000 names (real names plus recombined first/last names)
 * picked with a skew (some authors write many papers); categories from a realistic distribution;
 * submission dates over 2023–2025; arXiv-style ids `YYMM.NNNNN`, unique.
 *
 * Everything is driven by one seeded PRNG in document order and never depends on the corpus size,
 * so the corpus of 10,000 papers is exactly the first 10,000 of the corpus of 1,000,000.
 *
 * Vectors (384 dims) are clustered: every paper belongs to the cluster of the real abstract it
 * mainly resamples (~15k clusters), and its vector is the cluster centroid plus noise, normalised.
 * Papers made from the same source text are therefore neighbours, as with real embeddings.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseHfDaily } from '../src/ingest/hf-daily.ts';
import type { PaperRecord } from '../src/ingest/record.ts';
import { needsOr } from '../src/search/fts-expr.ts';
import { parseQuery } from '../src/search/query.ts';
import { STOPWORDS, withoutStopwords } from '../src/search/stopwords.ts';

/** Bump when the generated papers change, so cached databases are not reused. */
export const CORPUS_VERSION = 1;
export const DIMS = 384;

// ---------------------------------------------------------------------------------------------
// PRNG

/** mulberry32: small, fast, seeded. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(xs: readonly T[], rnd: () => number): T {
  return xs[Math.floor(rnd() * xs.length)] as T;
}

function sample<T>(xs: readonly T[], n: number, rnd: () => number): T[] {
  const copy = [...xs];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, n);
}

// ---------------------------------------------------------------------------------------------
// Real text

export interface SourceDoc {
  title: string;
  sentences: string[];
}

export interface Sources {
  docs: SourceDoc[];
  /** Real author names (Hugging Face Daily Papers). */
  authors: string[];
  /** SciFact claims: natural-language queries. */
  claims: string[];
}

export const DEFAULT_DATA_DIR = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../shared/data');

const SENTENCE_END = /(?<=[.!?])\s+(?=[A-Z0-9(["'])/;

function sentencesOf(text: string): string[] {
  return text
    .replace(/\s+/g, ' ')
    .trim()
    .split(SENTENCE_END)
    .filter((s) => s.length > 20);
}

function readJsonl(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export function loadSources(dataDir = DEFAULT_DATA_DIR): Sources {
  const docs: SourceDoc[] = [];
  const titles = new Set<string>();
  const authors = new Set<string>();
  const add = (title: unknown, text: unknown) => {
    if (typeof title !== 'string' || typeof text !== 'string') return;
    const t = title.replace(/\s+/g, ' ').trim();
    const sentences = sentencesOf(text);
    if (!t || sentences.length < 2 || titles.has(t.toLowerCase())) return;
    titles.add(t.toLowerCase());
    docs.push({ title: t, sentences });
  };
  for (const r of readJsonl(path.join(dataDir, 'scifact', 'corpus.jsonl'))) add(r.title, r.text);
  const hfDir = path.join(dataDir, 'hf-daily-papers');
  for (const f of readdirSync(hfDir).filter((x) => x.endsWith('.json')).sort()) {
    const { items } = parseHfDaily(readFileSync(path.join(hfDir, f), 'utf8'), { where: f });
    for (const it of items) {
      if (!it.ok) continue;
      const r: PaperRecord = it.record;
      add(r.title, r.abstract);
      for (const a of r.authors ?? []) if (a.trim()) authors.add(a.trim());
    }
  }
  for (const r of readJsonl(path.join(dataDir, 'seed', 'papers.jsonl'))) add(r.title, r.abstract);
  const claims = readJsonl(path.join(dataDir, 'scifact', 'queries.jsonl'))
    .map((r) => r.text)
    .filter((t): t is string => typeof t === 'string');
  if (docs.length < 1000) throw new Error(`bench: only ${docs.length} source abstracts under ${dataDir}`);
  return { docs, authors: [...authors].sort(), claims };
}

// ---------------------------------------------------------------------------------------------
// Papers

/** Primary categories, with weights roughly as on arXiv's AI/ML side plus the biomedical SciFact part. */
const CATEGORIES: readonly [string, number][] = [
  ['cs.LG', 24], ['cs.CV', 20], ['cs.CL', 16], ['cs.AI', 9], ['stat.ML', 5], ['cs.RO', 4], ['cs.IR', 3], ['cs.CR', 3],
  ['eess.IV', 2], ['cs.SD', 2], ['cs.HC', 2], ['cs.NE', 1], ['cs.DC', 1], ['math.OC', 1], ['q-bio.QM', 2], ['q-bio.NC', 1],
  ['physics.med-ph', 1], ['eess.SP', 1], ['cs.MA', 1], ['cs.SE', 1],
];
const CATEGORY_TOTAL = CATEGORIES.reduce((s, [, w]) => s + w, 0);

function category(rnd: () => number): string {
  let x = rnd() * CATEGORY_TOTAL;
  for (const [c, w] of CATEGORIES) {
    x -= w;
    if (x < 0) return c;
  }
  return 'cs.LG';
}

const START = Date.UTC(2023, 0, 1);
const SPAN_DAYS = 3 * 365;
const AUTHOR_POOL = 200_000;

export interface SyntheticPaper {
  record: PaperRecord;
  /** The vector cluster: the index of the source abstract the paper mainly resamples. */
  cluster: number;
}

/** The numeric form of a new-style arXiv id (`2301.00042` → 230100042): the vector ids. */
export function arxivNumber(id: string): number {
  return Number(id.replace('.', ''));
}

/** Streams synthetic papers; the n-th paper is the same whatever the corpus size. */
export class CorpusGenerator {
  readonly authorPool: string[];
  private readonly rnd: () => number;
  private readonly perMonth = new Map<number, number>();
  private readonly titleWords: string[];

  constructor(
    readonly sources: Sources,
    seed: number,
  ) {
    const r = prng(seed * 7919 + 17);
    // Real names first (most productive end of the skew), then recombined first/last names.
    const firsts = sources.authors.map((a) => a.split(' ')[0] ?? a);
    const lasts = sources.authors.map((a) => a.split(' ').slice(1).join(' ') || a);
    const pool = sample(sources.authors, sources.authors.length, r);
    const seen = new Set(pool);
    while (pool.length < AUTHOR_POOL) {
      const name = `${pick(firsts, r)} ${pick(lasts, r)}`;
      if (!seen.has(name)) {
        seen.add(name);
        pool.push(name);
      }
    }
    this.authorPool = pool;
    this.titleWords = [...new Set(sources.docs.flatMap((d) => d.title.split(' ').filter((w) => /^[A-Za-z][a-z]{3,}$/.test(w))))].sort();
    this.rnd = prng(seed);
  }

  /** Skewed: index = N * u^2.5, so the first names in the pool write many papers. */
  author(u: number): string {
    return this.authorPool[Math.floor(AUTHOR_POOL * u ** 2.5)] as string;
  }

  next(): SyntheticPaper {
    const { rnd, sources } = this;
    const mainIdx = Math.floor(rnd() * sources.docs.length);
    const main = sources.docs[mainIdx] as SourceDoc;
    const others = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => pick(sources.docs, rnd));
    const n = Math.max(3, Math.min(12, main.sentences.length));
    const sentences: string[] = [];
    for (let s = 0; s < n; s++) {
      const src = s === 0 || rnd() < 0.4 ? main : pick(others, rnd);
      let sentence = src.sentences[Math.floor((s / n) * src.sentences.length)] as string;
      if (sentences.includes(sentence)) sentence = pick(src.sentences, rnd);
      if (!sentences.includes(sentence)) sentences.push(sentence);
    }

    const words = main.title.split(' ');
    const word = pick(this.titleWords, rnd);
    if (rnd() < 0.5 && words.length > 2) words[1 + Math.floor(rnd() * (words.length - 1))] = word;
    else words.push(rnd() < 0.5 ? `for ${word}` : `with ${word}`);
    const title = words.join(' ');

    const nAuthors = 1 + Math.floor(rnd() * rnd() * 12);
    const authors = [...new Set(Array.from({ length: nAuthors }, () => this.author(rnd())))];

    const primary = category(rnd);
    const cats = [primary];
    const extra = rnd() < 0.5 ? Math.floor(rnd() * 3) : 0;
    for (let k = 0; k < extra; k++) {
      const c = category(rnd);
      if (!cats.includes(c)) cats.push(c);
    }

    const t = START + Math.floor(rnd() * SPAN_DAYS * 86_400_000);
    const d = new Date(t);
    const yymm = (d.getUTCFullYear() % 100) * 100 + d.getUTCMonth() + 1;
    const seq = (this.perMonth.get(yymm) ?? 0) + 1;
    this.perMonth.set(yymm, seq);
    if (seq > 99_999) throw new Error('bench: too many papers in one month for YYMM.NNNNN ids');
    const arxivId = `${yymm}.${String(seq).padStart(5, '0')}`;
    const submittedAt = d.toISOString();
    const revised = rnd() < 0.3 ? new Date(t + Math.floor(rnd() * 60) * 86_400_000 + 3_600_000).toISOString() : undefined;
    const versions = [{ version: 1, date: submittedAt }, ...(revised ? [{ version: 2, date: revised }] : [])];
    const links =
      rnd() < 0.3
        ? [{ kind: 'code' as const, url: `https://github.com/${(authors[0] ?? 'x').split(' ').at(-1)!.toLowerCase().replace(/[^a-z0-9-]/g, '')}x/${arxivId.replace('.', '-')}` }]
        : [];

    return {
      record: { arxivId, title, abstract: sentences.join(' '), authors, categories: cats, submittedAt, versions, links },
      cluster: mainIdx,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Vectors

/** Roughly normal noise from three uniforms (Irwin–Hall), scaled to unit variance. */
function gauss(rnd: () => number): number {
  return (rnd() + rnd() + rnd() - 1.5) * 2;
}

function normalise(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] as number) * (v[i] as number);
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) * inv;
  return v;
}

/**
 * Clustered unit vectors: centroid + noise (per-dimension σ = noise / √dims, so the noise has
 * norm ≈ `noise`), normalised. With noise 1, papers of one cluster have cosine ≈ 0.5.
 */
export class VectorGenerator {
  private readonly centroids: Float32Array;
  private readonly rnd: () => number;

  constructor(
    readonly clusters: number,
    seed: number,
    readonly dims = DIMS,
    readonly noise = 1,
  ) {
    const r = prng(seed * 31 + 5);
    this.centroids = new Float32Array(clusters * dims);
    for (let c = 0; c < clusters; c++) {
      const v = this.centroids.subarray(c * dims, (c + 1) * dims);
      for (let i = 0; i < dims; i++) v[i] = gauss(r);
      normalise(v);
    }
    this.rnd = prng(seed * 131 + 7);
  }

  /** The next vector of cluster `cluster` (written into `out`). */
  next(cluster: number, out = new Float32Array(this.dims), noise = this.noise): Float32Array {
    const { dims, rnd } = this;
    const base = (cluster % this.clusters) * dims;
    const sigma = noise / Math.sqrt(dims);
    for (let i = 0; i < dims; i++) out[i] = (this.centroids[base + i] as number) + sigma * gauss(rnd);
    return normalise(out);
  }
}

// ---------------------------------------------------------------------------------------------
// Queries

export type QueryCategory = 'claim' | 'short' | 'common' | 'syntax' | 'rare';

export const QUERY_MIX: readonly [QueryCategory, number][] = [
  ['claim', 60],
  ['short', 60],
  ['common', 30],
  ['syntax', 20],
  ['rare', 30],
];

export interface BenchQuery {
  category: QueryCategory;
  /** What paperboy gets: the query language. */
  text: string;
  /** What the peers get: plain words (query syntax and stopwords stripped). */
  plain: string;
  /** paperboy's choice: all words ('and', falling back to any word) or any word, ranked ('or'). */
  mode: 'and' | 'or';
  /** A `word*` prefix, searched as a prefix by the peers. */
  prefix?: string;
  /** The cluster its query vector is drawn from (hybrid and vector search). */
  cluster: number;
}

/** Queries of very common words, the hard case for ranked search. */
const COMMON = [
  'learning model', 'neural network data', 'large language models', 'deep learning', 'language model performance',
  'training data', 'model results', 'machine learning methods', 'image generation model', 'reinforcement learning',
  'multimodal large language models', 'data analysis results', 'neural networks', 'model training', 'learning tasks',
  'state of the art performance', 'language models reasoning', 'video generation', 'training and inference',
  'benchmark evaluation', 'learning framework', 'visual tasks model', 'data model performance', 'clinical patients study',
  'cell expression', 'human data analysis', 'models trained on large datasets', 'efficient training method',
  'model outperforms existing methods', 'high quality data',
];

/** Query-language templates; `{w}` a title word, `{b}` a bigram from a title, `{a}` an author. */
const SYNTAX = [
  '"{b}"', '"{b}" {w}', 'trans*', 'diffus* {w}', 'cat:cs.CV {w}', 'cat:cs.CL {w} {w}', 'since:2025-01-01 {w}',
  'since:2024-06 {w} {w}', 'author:"{a}"', 'author:"{a}" {w}', '{w} -{w}', 'gener* cat:cs.LG', 'until:2023-12-31 {w} {w}',
  'cat:cs.* {b}', 'has:code {w}', 'multi* {w} since:2024', '"{b}" cat:cs.AI', 'author:"{a}" since:2024', 'robot* {w}', '{w} {w} -{w}',
];

const WORD = /^[a-z][a-z-]*[a-z]$/;

function contentWords(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z0-9-]+/)
    .filter((w) => WORD.test(w) && w.length >= 3 && !STOPWORDS.has(w) && !w.includes('--'));
}

/** Peer form: syntax stripped to plain words, stopwords dropped (paperboy drops them too). */
function plainOf(text: string): { plain: string; prefix?: string } {
  let prefix: string | undefined;
  const words: string[] = [];
  const re = /(-?)(?:([a-z]+):)?("([^"]*)"|\S+)/gi;
  for (const m of text.matchAll(re)) {
    const [, neg, field, , quoted] = m;
    const raw = quoted ?? m[3] ?? '';
    if (neg) continue;
    if (field && field !== 'author') continue;
    if (!quoted && /\*$/.test(raw)) {
      prefix = raw.replace(/\*+$/, '').toLowerCase();
      words.push(prefix);
      continue;
    }
    words.push(...raw.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean));
  }
  const kept = withoutStopwords(words);
  return prefix === undefined ? { plain: kept.join(' ') } : { plain: kept.join(' '), prefix };
}

function modeOf(text: string): 'and' | 'or' {
  const p = parseQuery(text);
  return needsOr({ ...p, terms: withoutStopwords(p.terms) }) ? 'or' : 'and';
}

/** Document frequency of each content word over the source abstracts and titles. */
function sourceDf(sources: Sources): Map<string, number> {
  const df = new Map<string, number>();
  for (const d of sources.docs) {
    for (const w of new Set(contentWords(`${d.title} ${d.sentences.join(' ')}`))) df.set(w, (df.get(w) ?? 0) + 1);
  }
  return df;
}

/**
 * The query set: `count` queries in QUERY_MIX proportions (200 → exactly the mix), fixed by the seed.
 * `gen` supplies the author pool, so author: queries name real authors of the corpus.
 */
export function makeQueries(gen: CorpusGenerator, seed: number, count = 200): BenchQuery[] {
  const { sources } = gen;
  const rnd = prng(seed * 1_000_003 + 11);
  const df = sourceDf(sources);
  const byDf = [...df].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const rare = byDf.filter(([w, n]) => n === 1 && w.length >= 7 && !w.includes('-')).map(([w]) => w);
  const titleWords = (): string[] => contentWords(pick(sources.docs, rnd).title).filter((w) => w.length >= 4);
  const titleWord = (): string => {
    for (;;) {
      const ws = titleWords();
      if (ws.length) return pick(ws, rnd);
    }
  };
  const bigram = (): string => {
    for (;;) {
      const ws = pick(sources.docs, rnd).title.toLowerCase().split(/[^a-z]+/).filter((w) => w.length >= 3);
      const pairs = ws.slice(1).map((w, i) => [ws[i]!, w]).filter(([a, b]) => !STOPWORDS.has(a!) && !STOPWORDS.has(b!));
      if (pairs.length) return pick(pairs, rnd).join(' ');
    }
  };
  const author = (): string => gen.author(rnd() * 0.05); // productive authors: they have papers at 10k too

  const scale = count / 200;
  const texts: { category: QueryCategory; text: string }[] = [];
  for (const [category, n0] of QUERY_MIX) {
    const n = Math.round(n0 * scale);
    for (let i = 0; i < n; i++) {
      let text: string;
      switch (category) {
        case 'claim':
          text = pick(sources.claims, rnd);
          break;
        case 'short': {
          let ws: string[] = [];
          while (ws.length < 2) ws = [...new Set(titleWords())];
          const k = Math.min(ws.length, 2 + Math.floor(rnd() * 2));
          const start = Math.floor(rnd() * (ws.length - k + 1));
          text = ws.slice(start, start + k).join(' ');
          break;
        }
        case 'common':
          text = COMMON[i % COMMON.length] as string;
          break;
        case 'syntax':
          text = (SYNTAX[i % SYNTAX.length] as string).replace(/\{([wba])\}/g, (_, k: string) => (k === 'w' ? titleWord() : k === 'b' ? bigram() : author()));
          break;
        case 'rare':
          text = pick(rare, rnd);
          break;
      }
      texts.push({ category, text });
    }
  }
  return texts.map(({ category, text }) => ({
    category,
    text,
    ...plainOf(text),
    mode: modeOf(text),
    cluster: Math.floor(rnd() * sources.docs.length),
  }));
}
