/**
 * Search by meaning end to end: a real local OpenAI-compatible server computes
 * (deterministic, bag-of-words) embeddings; vectors are stored, indexed and fused.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runIngest } from '../src/ingest/run.ts';
import { search } from '../src/search/hybrid.ts';
import { buildServer } from '../src/web/server.ts';
import { lastJson, removeDir, runCli, SHARED, tempApp, tempDir } from './helpers/app.ts';
import { startOpenAIServer } from './helpers/openai-server.ts';

const PAPERS = [
  { id: '2401.00001', title: 'Quantised transformers on edge devices', abstract: 'We run large language models on phones with int8 weights.' },
  { id: '2401.00002', title: 'Protein folding with diffusion', abstract: 'A generative model predicts protein structures.' },
  { id: '2401.00003', title: 'Efficient inference for mobile assistants', abstract: 'Language models on phones answer questions offline.' },
  { id: '2401.00004', title: 'Graph networks for traffic', abstract: 'Road traffic forecasting with graph neural networks.' },
];

function corpus(dir: string): string {
  const file = path.join(dir, 'papers.jsonl');
  writeFileSync(file, PAPERS.map((p) => JSON.stringify(p)).join('\n') + '\n');
  return file;
}

test('reindex stores vectors per model; hybrid and vector search use them; a new model re-embeds everything', async () => {
  const server = await startOpenAIServer({ dims: 64 });
  const env = { PAPERBOY_EMBEDDER: 'http', PAPERBOY_EMBEDDER_URL: server.url, PAPERBOY_EMBEDDER_MODEL: 'hash-a', PAPERBOY_EMBEDDER_BATCH_SIZE: '3' };
  const app = await tempApp(env);
  try {
    await runIngest(app, 'jsonl', { inputs: [corpus(app.dir)] });
    const { semantic } = await app.search.ready();
    assert.ok(semantic);
    const r = await semantic.embedMissing(app.db);
    assert.deepEqual([r.embedded, r.unchanged, r.dropped], [4, 0, 0]);
    assert.deepEqual(server.requests.slice(-2).map((q) => q.input.length), [3, 1], 'batches of 3 (after the one-text probe)');
    const again = await semantic.embedMissing(app.db);
    assert.equal(again.embedded, 0, 'nothing to do the second time');

    const rows = await app.db.all<{ model: string; dims: number; n: number }>('SELECT model, dims, COUNT(*) AS n FROM paper_vectors GROUP BY model, dims');
    assert.deepEqual(rows, [{ model: 'http:hash-a', dims: 64, n: 4 }]);

    const state = await app.search.ready();
    const h = await search(app.db, state, 'language models on phones', { limit: 4 });
    assert.equal(h.mode, 'hybrid');
    assert.equal(h.vector?.available, true);
    assert.equal(h.vector?.model, 'http:hash-a');
    assert.ok(['2401.00001', '2401.00003'].includes(h.results[0]!.id));
    const v = await search(app.db, state, 'phones offline questions', { mode: 'vector', limit: 2 });
    assert.equal(v.mode, 'vector');
    assert.equal(v.results[0]!.id, '2401.00003');
    const k = await search(app.db, state, 'protein', { mode: 'keyword' });
    assert.equal(k.mode, 'keyword');

    // The web API says which mode ran.
    const web = await buildServer(app);
    const res = await web.inject({ url: '/api/search?q=language%20models%20on%20phones' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().mode, 'hybrid');
    await web.close();
  } catch (err) {
    await server.close();
    throw err;
  } finally {
    await app.close();
  }

  // Same data dir, another model: everything is re-embedded and the old vectors go.
  const dir = tempDir();
  try {
    const envB = { ...env, PAPERBOY_DATA_DIR: dir };
    assert.equal((await runCli(['ingest', 'jsonl', corpus(dir)], envB)).code, 0);
    const a = lastJson<{ model: string; embedded: number }>((await runCli(['reindex', '--json'], envB)).stdout);
    assert.equal(a.model, 'http:hash-a');
    const b = await runCli(['reindex', '--json'], { ...envB, PAPERBOY_EMBEDDER_MODEL: 'hash-b' });
    assert.equal(b.code, 0, b.stderr);
    const rb = lastJson<{ model: string; embedded: number; dropped: number }>(b.stdout);
    assert.deepEqual([rb.model, rb.embedded, rb.dropped], ['http:hash-b', 4, 4]);
  } finally {
    removeDir(dir);
    await server.close();
  }
});

test('without an embedder, search is keyword-only and every answer says why', async () => {
  const app = await tempApp({ PAPERBOY_EMBEDDER: 'none' });
  try {
    await runIngest(app, 'jsonl', { inputs: [corpus(app.dir)] });
    const a = await search(app.db, await app.search.ready(), 'language models', {});
    assert.equal(a.mode, 'keyword');
    assert.equal(a.vector?.available, false);
    assert.ok(a.vector?.reason);
    const h = await search(app.db, await app.search.ready(), 'language models', { mode: 'hybrid' });
    assert.equal(h.mode, 'keyword');
    assert.ok(h.ignored.some((n) => /search by meaning is unavailable/.test(n)));
  } finally {
    await app.close();
  }
});

test('auto without @huggingface/transformers falls back to keyword-only', async () => {
  const app = await tempApp({ PAPERBOY_EMBEDDER: 'auto', PAPERBOY_EMBEDDER_OFFLINE: '1' });
  try {
    const s = await app.search.ready();
    assert.equal(s.semantic, null);
    assert.match(s.reason ?? '', /transformers|offline|not installed|unavailable/i);
  } finally {
    await app.close();
  }
});

test('eval --mode hybrid embeds the corpus through the http embedder', async () => {
  const server = await startOpenAIServer({ dims: 128 });
  const dir = tempDir();
  try {
    // A slice of SciFact keeps it quick: the first 300 documents and the claims that cite them.
    const { readFileSync } = await import('node:fs');
    const docs = readFileSync(path.join(SHARED, 'scifact/corpus.jsonl'), 'utf8').split('\n').filter(Boolean).slice(0, 300);
    const ids = new Set(docs.map((l) => String((JSON.parse(l) as { _id: string })._id)));
    const qrels = readFileSync(path.join(SHARED, 'scifact/qrels/train.tsv'), 'utf8').split('\n').filter((l, i) => i === 0 || ids.has(l.split('\t')[1] ?? ''));
    writeFileSync(path.join(dir, 'corpus.jsonl'), docs.join('\n') + '\n');
    writeFileSync(path.join(dir, 'qrels.tsv'), qrels.join('\n') + '\n');
    const args = ['eval', '--corpus', path.join(dir, 'corpus.jsonl'), '--queries', path.join(SHARED, 'scifact/queries.jsonl'), '--qrels', path.join(dir, 'qrels.tsv'), '--json'];
    const env = { PAPERBOY_EMBEDDER: 'http', PAPERBOY_EMBEDDER_URL: server.url, PAPERBOY_EMBEDDER_MODEL: 'hash' };
    const kw = lastJson<{ ndcg10: number; queries: number }>((await runCli([...args, '--mode', 'keyword'], env, 60_000)).stdout);
    const hy = await runCli([...args, '--mode', 'hybrid'], env, 60_000);
    assert.equal(hy.code, 0, hy.stderr);
    const h = lastJson<{ ndcg10: number; queries: number; mode: string }>(hy.stdout);
    assert.equal(h.mode, 'hybrid');
    assert.equal(h.queries, kw.queries);
    assert.ok(h.ndcg10 > 0.3, `hybrid nDCG@10 ${h.ndcg10}`);
  } finally {
    removeDir(dir);
    await server.close();
  }
});
