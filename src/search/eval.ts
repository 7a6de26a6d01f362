import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/config.ts';
import { migrate } from '../db/migrations.ts';
import { openPostgres } from '../db/postgres.ts';
import { openSqlite } from '../db/sqlite.ts';
import type { Database, Sql } from '../db/sql.ts';
import { bufferLines } from '../ingest/files.ts';
import { normalise } from '../ingest/normalise.ts';
import { upsertPaper } from '../store/papers.ts';
import { settleSearchIndex } from '../store/search.ts';
import { mrrAt, ndcgAt, parseQrels, recallAt } from './metrics.ts';
import type { Embedder } from './embed/embedder.ts';
import { search } from './hybrid.ts';
import { SemanticIndex } from './semantic.ts';

export interface EvalFiles {
  corpus: string;
  queries: string;
  qrels: string;
}

export interface EvalResult {
  ndcg10: number;
  recall100: number;
  mrr10: number;
  queries: number;
  documents: number;
  mode: string;
  seconds: number;
}

function jsonLines(file: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of bufferLines(readFileSync(file))) {
    if (!line.text?.trim()) continue;
    out.push(JSON.parse(line.text) as Record<string, unknown>);
  }
  return out;
}

/** Loads a BEIR corpus: each document keyed `beir:<_id>`, never merged with another by title. */
async function loadCorpus(sql: Sql, file: string, onProgress?: (n: number) => void): Promise<number> {
  const docs = jsonLines(file);
  const stamp = new Date().toISOString();
  let n = 0;
  for (let i = 0; i < docs.length; i += 1000) {
    await sql.tx(async (tx) => {
      for (const d of docs.slice(i, i + 1000)) {
        const id = String(d._id);
        const title = typeof d.title === 'string' && d.title.trim() ? d.title : String(d.text ?? '').slice(0, 80);
        const r = normalise(`${file}:${id}`, { title, abstract: typeof d.text === 'string' ? d.text : '' });
        if (!r.ok) continue;
        r.value.paper.key = `beir:${id}`;
        r.value.paper.titleKey = `beir:${id}`;
        await upsertPaper(tx, 'beir', r.value, stamp);
        n++;
      }
    });
    onProgress?.(n);
  }
  return n;
}

/** nDCG@10, Recall@100 and MRR@10 of a search mode over every query in the qrels. */
export interface EvalOptions {
  mode: 'keyword' | 'vector' | 'hybrid';
  /** Needed for vector and hybrid: the corpus is embedded into the temporary database. */
  embedder?: Embedder | undefined;
  weight?: number | undefined;
  onProgress?: (done: number, total: number) => void;
  /**
   * The configured database: on PostgreSQL the corpus goes into a throwaway schema of that server
   * (dropped afterwards, whatever schema the URL names); otherwise into a temporary SQLite file.
   */
  database?: Config['database'] | undefined;
}

/** A temporary, empty database of the configured kind, and how to get rid of it. */
function scratchDatabase(database: Config['database'] | undefined): { db: Database; drop: () => Promise<void> } {
  if (database?.kind === 'postgres') {
    const schema = `paperboy_eval_${process.pid}_${randomBytes(4).toString('hex')}`;
    const u = new URL(database.url);
    u.searchParams.set('schema', schema);
    const db = openPostgres(u.toString(), { poolSize: 2 });
    return {
      db,
      drop: async () => {
        try {
          await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        } finally {
          await db.close();
        }
      },
    };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'paperboy-eval-'));
  const db = openSqlite(path.join(dir, 'eval.db'));
  return {
    db,
    drop: async () => {
      try {
        await db.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export async function runEval(files: EvalFiles, opts: EvalOptions): Promise<EvalResult> {
  const started = Date.now();
  const { db, drop } = scratchDatabase(opts.database);
  try {
    await migrate(db);
    const documents = await loadCorpus(db, files.corpus);
    await settleSearchIndex(db);
    let semantic: SemanticIndex | null = null;
    if (opts.mode !== 'keyword') {
      if (!opts.embedder) throw new Error(`eval: --mode ${opts.mode} needs an embedder`);
      semantic = new SemanticIndex(opts.embedder);
      await semantic.embedMissing(db);
    }
    const queries = new Map(jsonLines(files.queries).map((q) => [String(q._id), String(q.text ?? '')]));
    const qrels = parseQrels(readFileSync(files.qrels, 'utf8'));
    let ndcg = 0;
    let recall = 0;
    let mrr = 0;
    let n = 0;
    for (const [qid, rel] of qrels) {
      const text = queries.get(qid);
      if (text === undefined) continue;
      const answer = await search(db, { semantic }, text, { mode: opts.mode, weight: opts.weight, limit: 100, facets: false, snippets: false });
      const ranked = answer.results.map((r) => r.id.slice('beir:'.length));
      ndcg += ndcgAt(ranked, rel, 10);
      recall += recallAt(ranked, rel, 100);
      mrr += mrrAt(ranked, rel, 10);
      n++;
      opts.onProgress?.(n, qrels.size);
    }
    const r4 = (x: number) => Math.round((x / Math.max(n, 1)) * 1e4) / 1e4;
    return { ndcg10: r4(ndcg), recall100: r4(recall), mrr10: r4(mrr), queries: n, documents, mode: opts.mode, seconds: (Date.now() - started) / 1000 };
  } finally {
    await drop();
  }
}
