import type { Command } from 'commander';
import { runEval } from '../search/eval.ts';
import { search, type RequestedMode } from '../search/hybrid.ts';
import { similarPapers } from '../search/similar.ts';
import type { CliContext } from './context.ts';
import { createOutput, fmt, UsageError } from './output.ts';
import { createProgress } from './progress.ts';

const QUERY_HELP = `
Query language:
  jetson yolo int8        all words required, ranked by BM25 (long queries: any word, ranked)
  "exact phrase"          a phrase
  -word  -"a phrase"      exclude
  trans*                  prefix
  author:"Song Han"       author
  cat:cs.CV  cat:cs       category (cat:cs = any cs.* category)
  since:2025-01-01  until:2025-06  dates (YYYY, YYYY-MM or YYYY-MM-DD)
  has:code                papers with a code repository
  2401.01234 or an arXiv URL goes straight to that paper.
A malformed query never fails: it degrades to plain words, and the answer says what was ignored.`;

function requestedMode(v: string): RequestedMode {
  if (v === 'auto' || v === 'keyword' || v === 'vector' || v === 'hybrid') return v;
  throw new UsageError(`--mode must be auto, keyword, vector or hybrid (got ${JSON.stringify(v)})`);
}

function count(name: string, v: string | undefined, dflt: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new UsageError(`--${name} must be a whole number from 0 to ${max} (got ${JSON.stringify(v)})`);
  return n;
}

export function registerSearch(program: Command, ctx: CliContext): void {
  program
    .command('search')
    .description('Search papers by keyword with the query language')
    .argument('<query...>', 'the query (quote it in the shell)')
    .option('--limit <n>', 'results per page (default 10, at most 100)')
    .option('--offset <n>', 'skip this many results')
    .option('--mode <mode>', 'auto (hybrid when an embedder is set up), keyword, vector or hybrid', 'auto')
    .option('--json', 'print the answer as one JSON object on the last line of stdout')
    .addHelpText('after', QUERY_HELP)
    .action(async (words: string[], flags: { limit?: string; offset?: string; mode: string; json?: boolean }) => {
      const out = createOutput(flags.json === true);
      const limit = Math.max(1, count('limit', flags.limit, 10, 100));
      const offset = count('offset', flags.offset, 0, 10_000);
      const mode = requestedMode(flags.mode);
      const a = await ctx.withApp(async (app) =>
        search(app.db, mode === 'keyword' ? { semantic: null, reason: 'keyword mode requested' } : await app.search.ready(), words.join(' '), {
          limit,
          offset,
          mode,
          weight: app.config.hybridWeight,
        }),
      );
      out.line(`${fmt(a.total)}${a.totalCapped ? '+' : ''} papers · mode ${a.mode}${a.match ? ` (${a.match})` : ''}${a.vector && !a.vector.available ? ` · keyword-only: ${a.vector.reason}` : ''}`);
      for (const note of a.ignored) out.line(`note: ${note}`);
      for (const [i, r] of a.results.entries()) {
        out.line(`${String(offset + i + 1).padStart(3)}. ${r.title}`);
        out.line(`     ${r.id}${r.categories[0] ? ` · ${r.categories[0]}` : ''}${r.submittedAt ? ` · ${r.submittedAt.slice(0, 10)}` : ''} · ${r.authors.slice(0, 3).join(', ')}${r.authors.length > 3 ? ' et al.' : ''}`);
      }
      out.result(a);
    });

  program
    .command('similar')
    .description('The papers most similar to one paper (nearest vectors when search by meaning is on, else more-like-this over title and abstract)')
    .argument('<id>', 'arXiv id, URL, doi:… or t:… id')
    .option('--limit <n>', 'how many (default 10, at most 50)')
    .option('--json', 'print the answer as one JSON object on the last line of stdout')
    .action(async (id: string, flags: { limit?: string; json?: boolean }) => {
      const out = createOutput(flags.json === true);
      const k = Math.max(1, count('limit', flags.limit, 10, 50));
      const { parseArxivId } = await import('../ingest/ids.ts');
      const key = parseArxivId(id)?.id ?? id.trim();
      const a = await ctx.withApp(async (app) => similarPapers(app.db, key, { k, now: app.now(), semantic: (await app.search.ready()).semantic }));
      if (!a) {
        process.stderr.write(`paperboy: no paper ${JSON.stringify(id)}\n`);
        ctx.exit(1);
        return;
      }
      out.line(`similar to ${a.paper.key}: ${a.paper.title} (${a.method}${a.cached ? ', cached' : ''})`);
      for (const [i, r] of a.results.entries()) out.line(`${String(i + 1).padStart(3)}. ${r.title}  [${r.key}]`);
      out.result({
        id: a.paper.key,
        method: a.method,
        cached: a.cached,
        results: a.results.map((r) => ({ id: r.key, title: r.title, authors: r.authors, score: r.score, categories: r.categories, submittedAt: r.submittedAt })),
      });
    });

  program
    .command('reindex')
    .description('Compute the vectors for search by meaning: papers without one, or whose text changed (a new model re-embeds all)')
    .option('--json', 'print the summary as one JSON object on the last line of stdout')
    .addHelpText('after', '\nNeeds an embedder: PAPERBOY_EMBEDDER=http with PAPERBOY_EMBEDDER_URL and _MODEL, or onnx (see README).')
    .action(async (flags: { json?: boolean }) => {
      const out = createOutput(flags.json === true);
      const progress = createProgress('reindex');
      const started = Date.now();
      const r = await ctx.withApp(async (app) => {
        const { semantic, reason } = await app.search.ready();
        if (!semantic) throw new Error(`reindex: no embedder: ${reason}`);
        const res = await semantic.embedMissing(app.db, { now: app.now, onProgress: (d, t) => progress.fraction(d, t) });
        return { model: semantic.embedder.id, dims: semantic.embedder.dims ?? null, vectors: semantic.size, ...res };
      });
      progress.done();
      out.line(`${r.model}: ${fmt(r.embedded)} embedded, ${fmt(r.unchanged)} unchanged, ${fmt(r.dropped)} vectors of other models dropped; ${fmt(r.vectors)} in the index (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      out.result(r);
    });

  program
    .command('eval')
    .description('Measure search quality on a BEIR-format benchmark (nDCG@10, Recall@100, MRR@10)')
    .requiredOption('--corpus <file>', 'corpus.jsonl: {"_id","title","text"} per line')
    .requiredOption('--queries <file>', 'queries.jsonl: {"_id","text"} per line')
    .requiredOption('--qrels <file>', 'qrels TSV: query-id, corpus-id, score')
    .option('--mode <mode>', 'keyword, vector or hybrid (vector and hybrid need an embedder: PAPERBOY_EMBEDDER)', 'keyword')
    .option('--json', 'print the figures as one JSON object on the last line of stdout')
    .addHelpText('after', '\nLoads the corpus into a temporary database and runs every query in the qrels.\nExample:\n  paperboy eval --corpus ../shared/data/scifact/corpus.jsonl --queries ../shared/data/scifact/queries.jsonl --qrels ../shared/data/scifact/qrels/train.tsv')
    .action(async (flags: { corpus: string; queries: string; qrels: string; mode: string; json?: boolean }) => {
      const mode = requestedMode(flags.mode);
      if (mode === 'auto') throw new UsageError('--mode must be keyword, vector or hybrid');
      const out = createOutput(flags.json === true);
      const progress = createProgress('eval');
      const r = await ctx.withApp(async (app) => {
        const semantic = mode === 'keyword' ? { semantic: null } : await app.search.ready();
        if (mode !== 'keyword' && !semantic.semantic) throw new Error(`eval: --mode ${mode} needs an embedder: ${semantic.reason}`);
        return runEval(flags, { mode, embedder: semantic.semantic?.embedder, weight: app.config.hybridWeight, database: app.config.database, onProgress: (d, t) => progress.fraction(d, t) });
      });
      progress.done();
      out.line(`${flags.mode}: nDCG@10 ${r.ndcg10.toFixed(4)} · Recall@100 ${r.recall100.toFixed(4)} · MRR@10 ${r.mrr10.toFixed(4)} · ${fmt(r.queries)} queries over ${fmt(r.documents)} documents in ${r.seconds.toFixed(1)} s`);
      out.result(r);
    });
}
