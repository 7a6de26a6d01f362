/**
 * Child of bench/search.ts: paperboy's search over one built database, in-process.
 *
 *   node --import tsx bench/search-paperboy.ts --db F --meta F --size N --seed S --clusters C --queries F [--skip-vectors]
 *
 * 1. Keyword: 20 warm-up queries, then the 200 queries through `searchKeyword` twice — ranking
 *    only (`facets: false, snippets: false`) and the full API path (`limit: 20`, facets, counts,
 *    snippets) — each pass with a fresh document-frequency cache.
 * 2. Vectors: one 384-dim vector per paper (clustered, see corpus.ts) in a VectorIndex (int8) and
 *    then a FloatIndex (float32); 200 query vectors, exact top-10 in each; recall@10 of int8
 *    against float32.
 * 3. Hybrid: keyword ranking (facets and snippets off, top 100) + int8 vector top-100, min-max
 *    normalised and summed 0.5/0.5, top 20, then the page's papers that only the vector side
 *    found are read — the whole thing timed.
 * 4. Similar papers: 100 papers spread over the corpus, more-like-this computed from scratch (no
 *    cache: its terms, their frequencies, the ranking) and, with vectors, the int8 neighbours of
 *    each paper's own vector.
 * Prints one JSON object on stdout; progress as `@progress {…}` lines on stderr.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { migrate } from '../src/db/migrations.ts';
import { openSqlite } from '../src/db/sqlite.ts';
import { searchKeyword } from '../src/search/service.ts';
import { distinctiveTerms } from '../src/search/similar.ts';
import { anyWordMatch } from '../src/search/fts-expr.ts';
import { getPaper } from '../src/store/papers.ts';
import { moreLikeThis } from '../src/store/similar.ts';
import { DfCache } from '../src/search/terms.ts';
import { FloatIndex, VectorIndex, type SearchHit } from '../src/search/vectors.ts';
import { arxivNumber, DIMS, VectorGenerator, type BenchQuery } from './corpus.ts';
import { readMeta } from './search-build.ts';
import { childArgs, need, progress, round, rssNow } from './search-lib.ts';

export interface KeywordSample {
  ms: number;
  mode: string;
  match: string | undefined;
  total: number;
  results: number;
}

export interface PaperboyResult {
  size: number;
  openMs: number;
  rss: { opened: number; afterKeyword: number; hwmAfterKeyword: number; afterInt8: number; afterFloat: number; hwm: number };
  keyword: { ranking: KeywordSample[]; full: KeywordSample[] };
  /** Uncached more-like-this per paper, ms. */
  similarMs: number[];
  vector?: {
    backend: string;
    int8BuildS: number;
    floatBuildS: number;
    /** RSS growth while each index was filled, MB. */
    int8RssMb: number;
    floatRssMb: number;
    int8Ms: number[];
    floatMs: number[];
    recallAt10: number[];
    hybridMs: number[];
    hybridResults: number[];
    similarMs: number[];
  };
}

async function main(): Promise<void> {
  const args = childArgs(process.argv.slice(2));
  const size = Number(need(args, 'size'));
  const seed = Number(need(args, 'seed'));
  const clusters = Number(need(args, 'clusters'));
  const { queries, warmup } = JSON.parse(readFileSync(need(args, 'queries'), 'utf8')) as { queries: BenchQuery[]; warmup: BenchQuery[] };

  let t = performance.now();
  const db = openSqlite(need(args, 'db'));
  await migrate(db);
  const openMs = performance.now() - t;
  const rssOpened = rssNow().rssMb;

  progress({ phase: 'warm-up' });
  for (const q of warmup) await searchKeyword(db, q.text, { limit: 20 });

  const pass = async (full: boolean): Promise<KeywordSample[]> => {
    const dfCache = new DfCache();
    const out: KeywordSample[] = [];
    for (const q of queries) {
      const t0 = performance.now();
      const a = await searchKeyword(db, q.text, full ? { limit: 20, dfCache } : { limit: 20, facets: false, snippets: false, dfCache });
      const ms = performance.now() - t0;
      out.push({ ms, mode: a.mode, match: a.match, total: a.total, results: a.results.length });
    }
    return out;
  };
  progress({ phase: 'keyword ranking' });
  const ranking = await pass(false);
  progress({ phase: 'keyword full' });
  const full = await pass(true);
  const afterKeyword = rssNow();
  progress({ phase: 'similar (more-like-this)' });
  const similarIds = Array.from({ length: 100 }, (_, i) => 1 + Math.floor(((i + 0.5) * size) / 100));
  const similarMs: number[] = [];
  for (const id of similarIds) {
    const t0 = performance.now();
    const row = await db.get<{ key: string }>('SELECT key FROM papers WHERE id = ?', [id]);
    const paper = row && (await getPaper(db, row.key));
    if (!paper) continue;
    const terms = await distinctiveTerms(db, paper, size);
    await moreLikeThis(db, paper.id, anyWordMatch(terms)!, 10);
    similarMs.push(performance.now() - t0);
  }
  const result: PaperboyResult = {
    size,
    openMs: round(openMs, 1),
    rss: { opened: rssOpened, afterKeyword: afterKeyword.rssMb, hwmAfterKeyword: afterKeyword.hwmMb, afterInt8: 0, afterFloat: 0, hwm: 0 },
    keyword: { ranking, full },
    similarMs,
  };

  if (!args.has('skip-vectors')) {
    const { ids, clusters: clusterOf } = readMeta(need(args, 'meta'), size);
    const scratch = new Float32Array(DIMS);
    const fill = (add: (id: number, v: Float32Array) => void): number => {
      const gen = new VectorGenerator(clusters, seed);
      let ms = 0;
      for (let i = 0; i < size; i++) {
        gen.next(clusterOf[i] as number, scratch);
        const t1 = performance.now();
        add(ids[i] as number, scratch);
        ms += performance.now() - t1;
      }
      return ms / 1000;
    };
    progress({ phase: 'int8 index' });
    const before = rssNow().rssMb;
    const int8 = new VectorIndex(DIMS, { capacity: size });
    const int8BuildS = fill((id, v) => int8.add(id, v));
    const afterInt8 = rssNow().rssMb;
    progress({ phase: 'float32 index' });
    const f32 = new FloatIndex(DIMS, { capacity: size });
    const floatBuildS = fill((id, v) => f32.add(id, v));
    const afterFloat = rssNow().rssMb;

    const qgen = new VectorGenerator(clusters, seed + 1_000);
    const qvecs = queries.map((q) => qgen.next(q.cluster));
    // Warm-up: the first searches compile the kernels.
    for (const v of qvecs.slice(0, 5)) {
      int8.search(v, 10);
      f32.search(v, 10);
    }
    progress({ phase: 'vector search' });
    const int8Ms: number[] = [];
    const floatMs: number[] = [];
    const recallAt10: number[] = [];
    for (const v of qvecs) {
      t = performance.now();
      const a = int8.search(v, 10);
      int8Ms.push(performance.now() - t);
      t = performance.now();
      const b = f32.search(v, 10);
      floatMs.push(performance.now() - t);
      const exact = new Set(b.map((h) => h.id));
      recallAt10.push(a.filter((h) => exact.has(h.id)).length / Math.max(1, b.length));
    }

    progress({ phase: 'hybrid' });
    const hybridMs: number[] = [];
    const hybridResults: number[] = [];
    const dfCache = new DfCache();
    for (const [i, q] of queries.entries()) {
      const v = qvecs[i] as Float32Array;
      t = performance.now();
      const page = await hybrid(db, q.text, v, int8, dfCache);
      hybridMs.push(performance.now() - t);
      hybridResults.push(page.length);
    }
    progress({ phase: 'similar (vectors)' });
    const vectorSimilarMs: number[] = [];
    for (const rowid of similarIds) {
      // The vector index is keyed by arXiv number; the i-th paper inserted has rowid i + 1.
      const id = ids[rowid - 1] as number;
      t = performance.now();
      const v = int8.get(id);
      if (!v) throw new Error(`bench: no vector for paper ${rowid}`);
      int8.search(v, 10, (x) => x !== id);
      vectorSimilarMs.push(performance.now() - t);
    }
    const end = rssNow();
    result.rss.afterInt8 = afterInt8;
    result.rss.afterFloat = afterFloat;
    result.rss.hwm = end.hwmMb;
    result.vector = {
      backend: int8.backend,
      int8BuildS: round(int8BuildS, 2),
      floatBuildS: round(floatBuildS, 2),
      int8RssMb: round(afterInt8 - before, 1),
      floatRssMb: round(afterFloat - afterInt8, 1),
      int8Ms,
      floatMs,
      recallAt10,
      hybridMs,
      hybridResults,
      similarMs: vectorSimilarMs,
    };
  } else {
    result.rss.hwm = rssNow().hwmMb;
  }
  await db.close();
  process.stdout.write(JSON.stringify(result) + '\n');
}

/** Min-max normalised scores (all 1 when they are equal). */
function minMax(hits: readonly SearchHit[]): Map<number, number> {
  const out = new Map<number, number>();
  if (!hits.length) return out;
  let lo = Infinity;
  let hi = -Infinity;
  for (const h of hits) {
    lo = Math.min(lo, h.score);
    hi = Math.max(hi, h.score);
  }
  for (const h of hits) out.set(h.id, hi > lo ? (h.score - lo) / (hi - lo) : 1);
  return out;
}

type Db = ReturnType<typeof openSqlite>;

/** Hybrid search as a service would run it: keyword ranking + int8 vectors, fused, one page read. */
async function hybrid(db: Db, text: string, v: Float32Array, int8: VectorIndex, dfCache: DfCache): Promise<{ id: string; title: string }[]> {
  const kw = await searchKeyword(db, text, { limit: 100, facets: false, snippets: false, dfCache });
  const vec = int8.search(v, 100);
  const a = minMax(kw.results.map((r) => ({ id: arxivNumber(r.id), score: r.score })));
  const b = minMax(vec);
  const fused = new Map<number, number>();
  for (const [id, s] of a) fused.set(id, 0.5 * s);
  for (const [id, s] of b) fused.set(id, (fused.get(id) ?? 0) + 0.5 * s);
  const top = [...fused].sort((x, y) => y[1] - x[1] || x[0] - y[0]).slice(0, 20);
  const known = new Map(kw.results.map((r) => [arxivNumber(r.id), { id: r.id, title: r.title }]));
  const missing = top.filter(([id]) => !known.has(id)).map(([id]) => `${String(id).slice(0, 4)}.${String(id).slice(4)}`);
  if (missing.length) {
    const rows = await db.all<{ arxiv_id: string; title: string }>(
      `SELECT arxiv_id, title FROM papers WHERE arxiv_id IN (${missing.map(() => '?').join(',')})`,
      missing,
    );
    for (const r of rows) known.set(arxivNumber(r.arxiv_id), { id: r.arxiv_id, title: r.title });
  }
  return top.flatMap(([id]) => known.get(id) ?? []);
}

await main();
