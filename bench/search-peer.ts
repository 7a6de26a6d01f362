/**
 * Child of bench/search.ts: one peer engine (MiniSearch or Orama) holding the same papers as the
 * paperboy database (read from it: title, abstract, authors as one string), answering the same
 * queries in their plain-word form.
 *
 *   node --max-old-space-size=16384 --import tsx bench/search-peer.ts --engine minisearch|orama
 *     --db F --meta F --size N --seed S --clusters C --queries F [--vectors]
 *
 * MiniSearch: fields title/abstract/authors, storeFields id, boost title 3; combineWith AND for
 * the queries paperboy runs in all-words mode (then OR when that finds nothing, as paperboy
 * falls back), OR for long ones; `trans*` as a prefix.
 * Orama: schema {title, abstract, authors: string} (+ embedding: vector[384] with --vectors),
 * insertMultiple, search({ term, limit: 20, boost: { title: 3 } }), threshold 0 (all words) for
 * the all-words queries with the same fallback; vector search (similarity ≥ 0, top 10) and hybrid.
 * Build time counts only the engine's own calls, not reading the database.
 */
import BetterSqlite3 from 'better-sqlite3';
import { create, insertMultiple, search, type AnyOrama } from '@orama/orama';
import MiniSearch from 'minisearch';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { DIMS, VectorGenerator, type BenchQuery } from './corpus.ts';
import { readMeta } from './search-build.ts';
import { childArgs, need, progress, round, rssNow } from './search-lib.ts';

const LIMIT = 20;
const READ_BATCH = 10_000;

interface Doc {
  id: string;
  title: string;
  abstract: string;
  authors: string;
  /** Orama validates vectors as plain arrays (it copies them into a Float32Array for its index). */
  embedding?: number[];
}

export interface PeerResult {
  engine: string;
  size: number;
  buildS: number;
  readS: number;
  rss: { beforeBuild: number; afterBuild: number; afterQueries: number; hwm: number };
  keywordMs: number[];
  keywordResults: number[];
  vectorMs?: number[];
  vectorResults?: number[];
  hybridMs?: number[];
}

interface Engine {
  add(docs: Doc[]): Promise<void>;
  keyword(q: BenchQuery): Promise<number>;
  vector?(v: Float32Array): Promise<number>;
  hybrid?(q: BenchQuery, v: Float32Array): Promise<number>;
}

function miniSearch(): Engine {
  const ms = new MiniSearch<Doc>({ fields: ['title', 'abstract', 'authors'], storeFields: ['id'], searchOptions: { boost: { title: 3 } } });
  const run = (q: BenchQuery, combineWith: 'AND' | 'OR') =>
    ms.search(q.plain, { combineWith, ...(q.prefix ? { prefix: (term: string) => term === q.prefix } : {}) });
  return {
    async add(docs) {
      ms.addAll(docs);
    },
    async keyword(q) {
      let hits = run(q, q.mode === 'and' ? 'AND' : 'OR');
      if (q.mode === 'and' && hits.length === 0) hits = run(q, 'OR');
      return hits.slice(0, LIMIT).length;
    },
  };
}

function orama(withVectors: boolean): Engine {
  const db: AnyOrama = create({
    schema: { title: 'string', abstract: 'string', authors: 'string', ...(withVectors ? { embedding: `vector[${DIMS}]` as const } : {}) },
  });
  const text = async (q: BenchQuery, threshold: number) =>
    (await search(db, { term: q.plain, limit: LIMIT, boost: { title: 3 }, threshold })).hits;
  const engine: Engine = {
    async add(docs) {
      await insertMultiple(db, docs as never, 1000);
    },
    async keyword(q) {
      let hits = await text(q, q.mode === 'and' ? 0 : 1);
      if (q.mode === 'and' && hits.length === 0) hits = await text(q, 1);
      return hits.slice(0, LIMIT).length;
    },
  };
  if (withVectors) {
    engine.vector = async (v) => (await search(db, { mode: 'vector', vector: { value: v, property: 'embedding' }, similarity: 0, limit: 10 })).hits.length;
    engine.hybrid = async (q, v) =>
      (
        await search(db, {
          mode: 'hybrid',
          term: q.plain,
          vector: { value: v, property: 'embedding' },
          similarity: 0,
          limit: LIMIT,
          boost: { title: 3 },
          threshold: q.mode === 'and' ? 0 : 1,
        })
      ).hits.length;
  }
  return engine;
}

async function main(): Promise<void> {
  const args = childArgs(process.argv.slice(2));
  const engineName = need(args, 'engine');
  const size = Number(need(args, 'size'));
  const seed = Number(need(args, 'seed'));
  const clusters = Number(need(args, 'clusters'));
  const withVectors = args.has('vectors') && engineName === 'orama';
  const { queries, warmup } = JSON.parse(readFileSync(need(args, 'queries'), 'utf8')) as { queries: BenchQuery[]; warmup: BenchQuery[] };
  const engine = engineName === 'minisearch' ? miniSearch() : engineName === 'orama' ? orama(withVectors) : undefined;
  if (!engine) throw new Error(`bench: unknown engine ${engineName}`);

  const meta = withVectors ? readMeta(need(args, 'meta'), size) : undefined;
  const vgen = withVectors ? new VectorGenerator(clusters, seed) : undefined;
  const scratch = new Float32Array(DIMS);
  const beforeBuild = rssNow().rssMb;
  const sqlite = new BetterSqlite3(need(args, 'db'), { readonly: true });
  const rows = sqlite.prepare('SELECT arxiv_id AS id, title, abstract, authors FROM papers ORDER BY id').iterate() as IterableIterator<Doc>;
  let buildMs = 0;
  let readMs = 0;
  let n = 0;
  let batch: Doc[] = [];
  let t = performance.now();
  const flush = async () => {
    readMs += performance.now() - t;
    t = performance.now();
    await engine.add(batch);
    buildMs += performance.now() - t;
    n += batch.length;
    batch = [];
    progress({ phase: 'building', docs: n, buildS: round(buildMs / 1000, 1) });
    t = performance.now();
  };
  for (const r of rows) {
    const doc: Doc = { id: r.id, title: r.title, abstract: r.abstract, authors: (JSON.parse(r.authors) as string[]).join(', ') };
    if (vgen && meta) doc.embedding = Array.from(vgen.next(meta.clusters[n + batch.length] as number, scratch));
    batch.push(doc);
    if (batch.length >= READ_BATCH) await flush();
  }
  if (batch.length) await flush();
  sqlite.close();
  if (n !== size) throw new Error(`bench: read ${n} papers, expected ${size}`);
  const afterBuild = rssNow().rssMb;
  progress({ phase: 'built', docs: n, buildS: round(buildMs / 1000, 1) });

  for (const q of warmup) await engine.keyword(q);
  progress({ phase: 'keyword queries' });
  const keywordMs: number[] = [];
  const keywordResults: number[] = [];
  for (const q of queries) {
    t = performance.now();
    keywordResults.push(await engine.keyword(q));
    keywordMs.push(performance.now() - t);
    progress({ phase: 'keyword queries', done: keywordMs.length, of: queries.length, meanMs: round(keywordMs.reduce((a, b) => a + b, 0) / keywordMs.length, 1) });
  }
  const result: PeerResult = {
    engine: engineName,
    size,
    buildS: round(buildMs / 1000, 2),
    readS: round(readMs / 1000, 2),
    rss: { beforeBuild, afterBuild, afterQueries: 0, hwm: 0 },
    keywordMs,
    keywordResults,
  };
  // Partial results, so a time budget that runs out later still leaves these figures.
  const partial = () => progress({ phase: 'partial', result: { ...result, rss: { ...result.rss, afterQueries: rssNow().rssMb, hwm: rssNow().hwmMb } } });
  partial();
  if (engine.vector && engine.hybrid) {
    const qgen = new VectorGenerator(clusters, seed + 1_000);
    const qvecs = queries.map((q) => qgen.next(q.cluster));
    for (const v of qvecs.slice(0, 3)) await engine.vector(v);
    progress({ phase: 'vector queries' });
    result.vectorMs = [];
    result.vectorResults = [];
    for (const v of qvecs) {
      t = performance.now();
      result.vectorResults.push(await engine.vector(v));
      result.vectorMs.push(performance.now() - t);
      progress({ phase: 'vector queries', done: result.vectorMs.length, of: qvecs.length, meanMs: round(result.vectorMs.reduce((a, b) => a + b, 0) / result.vectorMs.length, 1) });
    }
    partial();
    progress({ phase: 'hybrid queries' });
    result.hybridMs = [];
    for (const [i, q] of queries.entries()) {
      t = performance.now();
      await engine.hybrid(q, qvecs[i] as Float32Array);
      result.hybridMs.push(performance.now() - t);
      progress({ phase: 'hybrid queries', done: result.hybridMs.length, of: queries.length, meanMs: round(result.hybridMs.reduce((a, b) => a + b, 0) / result.hybridMs.length, 1) });
    }
  }
  const end = rssNow();
  result.rss.afterQueries = end.rssMb;
  result.rss.hwm = end.hwmMb;
  process.stdout.write(JSON.stringify(result) + '\n');
}

await main();
