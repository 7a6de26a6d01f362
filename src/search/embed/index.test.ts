import { test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { EmbedError } from './embedder.ts';
import { resolveEmbedder, startEmbedder, type ResolveEmbedderOptions } from './index.ts';
import { TRANSFORMERS_PACKAGE, type FeatureExtractor, type TransformersModule } from './onnx.ts';
import { hashEmbedding, startOpenAIServer } from '../../../test/helpers/openai-server.ts';

/** A minimal transformers.js stand-in: loads when `available`, embeds hashed words. */
function transformers(available: boolean, gate?: Promise<void>): TransformersModule {
  return {
    env: {},
    pipeline: async () => {
      await gate;
      if (!available) throw new TypeError('fetch failed');
      const extractor = (async (texts: string[]) => {
        const data = new Float32Array(texts.length * 16);
        texts.forEach((t, i) => data.set(hashEmbedding(t, 16), i * 16));
        return { dims: [texts.length, 16], data };
      }) as FeatureExtractor;
      return extractor;
    },
  };
}

const notInstalled = async (): Promise<never> => {
  throw Object.assign(new Error(`Cannot find package '${TRANSFORMERS_PACKAGE}' imported from /app/src/search/embed/onnx.ts`), { code: 'ERR_MODULE_NOT_FOUND' });
};

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'paperboy-embed-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function resolveLogged(opts: Omit<ResolveEmbedderOptions, 'log'>): Promise<{ r: Awaited<ReturnType<typeof resolveEmbedder>>; logs: string[] }> {
  const logs: string[] = [];
  const r = await resolveEmbedder({ ...opts, log: (m) => logs.push(m) });
  return { r, logs };
}

test('none: keyword-only, said once', async () => {
  const { r, logs } = await resolveLogged({ provider: 'none' });
  assert.deepEqual(r, { embedder: null, mode: 'keyword-only', reason: 'semantic search is turned off (PAPERBOY_EMBEDDER=none)' });
  assert.deepEqual(logs, ['search: keyword-only: semantic search is turned off (PAPERBOY_EMBEDDER=none)']);
});

test('auto without the package: keyword-only, one log line saying why and how to enable', async () => {
  await withDir(async (dir) => {
    const { r, logs } = await resolveLogged({ provider: 'auto', onnx: { modelsDir: dir, loadModule: notInstalled } });
    assert.equal(r.mode, 'keyword-only');
    assert.equal(r.embedder, null);
    assert.equal(r.reason, `no embedding model (${TRANSFORMERS_PACKAGE} is not installed)`);
    assert.equal(logs.length, 1);
    assert.match(logs[0] ?? '', /^search: keyword-only: no embedding model \(@huggingface\/transformers is not installed\)\. To enable it, /);
    assert.match(logs[0] ?? '', /PAPERBOY_EMBEDDER=http/);
    assert.match(logs[0] ?? '', /ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save @huggingface\/transformers/);
  });
});

function packageInstalled(): boolean {
  try {
    import.meta.resolve(TRANSFORMERS_PACKAGE);
    return true;
  } catch {
    return false;
  }
}

// Where the package is installed this would download a model: tests stay off the network.
test('auto with the real, absent package behaves the same', { skip: packageInstalled() && `${TRANSFORMERS_PACKAGE} is installed here` }, async () => {
  await withDir(async (dir) => {
    const { r, logs } = await resolveLogged({ provider: 'auto', onnx: { modelsDir: dir } });
    assert.equal(r.mode, 'keyword-only');
    assert.equal(r.reason, `no embedding model (${TRANSFORMERS_PACKAGE} is not installed)`);
    assert.equal(logs.length, 1);
  });
});

test('auto with the package and a model: vector mode, logged once', async () => {
  await withDir(async (dir) => {
    const { r, logs } = await resolveLogged({ provider: 'auto', onnx: { modelsDir: dir, loadModule: async () => transformers(true) } });
    assert.equal(r.mode, 'vector');
    assert.equal(r.embedder?.id, 'onnx:Xenova/bge-small-en-v1.5@q8');
    assert.equal(r.embedder?.dims, 16);
    assert.deepEqual(logs, [
      `onnx embedder: downloading Xenova/bge-small-en-v1.5 into ${dir} (once; later starts load it from there)`,
      'search: vector mode with onnx:Xenova/bge-small-en-v1.5@q8, 16 dims',
    ]);
  });
});

test('auto when the model cannot be downloaded: keyword-only with the reason', async () => {
  await withDir(async (dir) => {
    const logs: string[] = [];
    const r = await resolveEmbedder({ provider: 'auto', onnx: { modelsDir: dir, loadModule: async () => transformers(false), log: () => {} }, log: (m) => logs.push(m) });
    assert.equal(r.mode, 'keyword-only');
    assert.equal(r.reason, `no embedding model (model Xenova/bge-small-en-v1.5 could not be loaded (not in ${dir}, and the download failed): fetch failed)`);
    assert.equal(logs.length, 1);
  });
});

test('http: probes the server, learns the dimensions, applies the model defaults', async () => {
  const server = await startOpenAIServer({ dims: 48 });
  try {
    const { r, logs } = await resolveLogged({ provider: 'http', http: { url: server.url, model: 'nomic-embed-text' } });
    assert.equal(r.mode, 'vector');
    assert.equal(r.embedder?.dims, 48);
    assert.deepEqual(logs, ['search: vector mode with http:nomic-embed-text, 48 dims']);
    assert.deepEqual(server.requests[0]?.input, ['search_document: paperboy']);
    await r.embedder?.embed(['sparse attention'], 'query');
    assert.deepEqual(server.requests[1]?.input, ['search_query: sparse attention']);
  } finally {
    await server.close();
  }
});

test('http with a wrong dimension count: keyword-only, naming the problem', async () => {
  const server = await startOpenAIServer({ dims: 512 });
  try {
    const { r, logs } = await resolveLogged({ provider: 'http', http: { url: server.url, model: 'm', dims: 384 } });
    assert.equal(r.mode, 'keyword-only');
    assert.match(r.reason ?? '', /model m at .* returned 512 dimensions, expected 384$/);
    assert.equal(logs.length, 1);
    assert.match(logs[0] ?? '', /Check PAPERBOY_EMBEDDER_URL/);
  } finally {
    await server.close();
  }
});

test('http with the server down: still vector mode (it may come up), and the log says so', async () => {
  const server = await startOpenAIServer();
  const url = server.url;
  await server.close();
  const { r, logs } = await resolveLogged({ provider: 'http', http: { url, model: 'm', retries: 0 } });
  assert.equal(r.mode, 'vector');
  assert.equal(logs.length, 1);
  assert.match(logs[0] ?? '', /^search: vector mode with http:m \(not answering yet: .*ECONNREFUSED/);
});

test('http without a URL is a configuration error', async () => {
  await assert.rejects(resolveLogged({ provider: 'http' }), (err: unknown) => err instanceof EmbedError && /needs a URL and a model name/.test(err.message));
});

test('startEmbedder: keyword-only while the model loads, then vector', async () => {
  await withDir(async (dir) => {
    let open = (): void => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    const handle = startEmbedder({ provider: 'onnx', onnx: { modelsDir: dir, loadModule: async () => transformers(true, gate), log: () => {} }, log: () => {} });
    assert.deepEqual(handle.current(), { embedder: null, mode: 'keyword-only', reason: 'the embedding model is still loading' });
    open();
    const ready = await handle.ready;
    assert.equal(ready.mode, 'vector');
    assert.equal(handle.current(), ready);
    await handle.close();
  });
});
