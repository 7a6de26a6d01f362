import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  DEFAULT_ONNX_MODEL,
  isModelDirectory,
  loadOnnxEmbedder,
  TRANSFORMERS_PACKAGE,
  type FeatureExtractor,
  type OnnxEmbedderOptions,
  type OnnxLoadResult,
  type PipelineOptions,
  type TransformersModule,
} from './onnx.ts';
import { BGE_QUERY_PREFIX, EmbedError, modelDefaults, type Pooling } from './embedder.ts';
import { hashEmbedding } from '../../../test/helpers/openai-server.ts';

/**
 * A small stand-in for `@huggingface/transformers` that follows its file rules:
 * a model id resolves to `<env.localModelPath>/<id>/`; with `local_files_only` a
 * missing file is an error; otherwise a missing model is "downloaded" (written)
 * into `<cache_dir>/<id>/` unless the network is off. Embeddings are deterministic
 * (hashed words; 'cls' pooling looks at the first word only, as a CLS vector
 * summarises differently from a mean).
 */
class FakeTransformers {
  readonly env: { localModelPath: string; allowLocalModels: boolean; allowRemoteModels: boolean; logLevel: number } = {
    localModelPath: '/models/',
    allowLocalModels: false,
    allowRemoteModels: true,
    logLevel: 30,
  };
  network = true;
  dims = 24;
  /** Files a download writes (relative to the model dir). */
  files = ['config.json', 'tokenizer.json', 'onnx/model_quantized.onnx'];
  readonly loads: { model: string; options: PipelineOptions; localModelPath: string; remote: boolean }[] = [];
  readonly calls: { texts: string[]; pooling: Pooling; normalize: boolean }[] = [];
  downloads = 0;
  disposed = 0;
  inFlight = 0;
  maxInFlight = 0;
  failInference: Error | null = null;
  tensorDims: number[] | null = null;

  readonly module: TransformersModule = {
    env: this.env,
    pipeline: async (task, model, options) => {
      assert.equal(task, 'feature-extraction');
      this.loads.push({ model, options, localModelPath: this.env.localModelPath, remote: this.env.allowRemoteModels });
      assert.ok(this.env.allowLocalModels, 'local files allowed');
      const dir = path.join(this.env.localModelPath, model);
      const need = ['config.json', options.dtype === 'fp32' ? 'onnx/model.onnx' : 'onnx/model_quantized.onnx'];
      const missing = need.filter((f) => !existsSync(path.join(dir, f)));
      if (missing.length > 0) {
        if (options.local_files_only || !this.env.allowRemoteModels) {
          throw new Error(`\`local_files_only=true\` or \`env.allowRemoteModels=false\` and file was not found locally at "${path.join(dir, missing[0] as string)}".`);
        }
        if (!this.network) throw new TypeError('fetch failed');
        assert.ok(options.cache_dir, 'downloads go to cache_dir');
        for (const f of this.files) {
          const p = path.join(options.cache_dir, model, f);
          mkdirSync(path.dirname(p), { recursive: true });
          writeFileSync(p, '{}');
        }
        this.downloads++;
      }
      const extractor = (async (texts: string[], o: { pooling: Pooling; normalize: boolean }) => {
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        try {
          await new Promise((r) => setTimeout(r, 1));
          this.calls.push({ texts, pooling: o.pooling, normalize: o.normalize });
          if (this.failInference) throw this.failInference;
          const data = new Float32Array(texts.length * this.dims);
          texts.forEach((t, i) => data.set(FakeTransformers.vector(t, o.pooling, this.dims), i * this.dims));
          return { dims: this.tensorDims ?? [texts.length, this.dims], data };
        } finally {
          this.inFlight--;
        }
      }) as FeatureExtractor;
      extractor.dispose = async () => {
        this.disposed++;
      };
      return extractor;
    },
  };

  static vector(text: string, pooling: Pooling, dims: number): number[] {
    return hashEmbedding(pooling === 'cls' ? (text.split(/\s+/)[0] ?? '') : text, dims);
  }
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'paperboy-onnx-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function load(fake: FakeTransformers, opts: Partial<OnnxEmbedderOptions> & { modelsDir: string }, logs: string[] = []): Promise<OnnxLoadResult> {
  return loadOnnxEmbedder({ loadModule: async () => fake.module, log: (m) => logs.push(m), ...opts });
}

function ok(r: OnnxLoadResult): Extract<OnnxLoadResult, { ok: true }>['embedder'] {
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.embedder;
}

function close(a: Float32Array | undefined, b: number[]): boolean {
  return !!a && a.length === b.length && b.every((x, i) => Math.abs((a[i] as number) - x) < 1e-6);
}

function packageInstalled(): boolean {
  try {
    import.meta.resolve(TRANSFORMERS_PACKAGE);
    return true;
  } catch {
    return false;
  }
}

test('without the package installed: unavailable, with a clear reason, and no crash', { skip: packageInstalled() && `${TRANSFORMERS_PACKAGE} is installed here` }, async () => {
  await withDir(async (dir) => {
    const r = await loadOnnxEmbedder({ modelsDir: dir });
    assert.deepEqual(r, { ok: false, reason: `${TRANSFORMERS_PACKAGE} is not installed`, missingPackage: true });
    assert.equal(existsSync(path.join(dir, 'Xenova')), false, 'nothing written');
  });
});

test('a package that fails to load, or lacks pipeline(), is unavailable with the cause', async () => {
  await withDir(async (dir) => {
    const broken = await loadOnnxEmbedder({
      modelsDir: dir,
      loadModule: async () => {
        throw Object.assign(new Error("Cannot find package 'onnxruntime-node' imported from /x/transformers.node.mjs\nmore"), { code: 'ERR_MODULE_NOT_FOUND' });
      },
    });
    assert.deepEqual(broken, {
      ok: false,
      reason: `${TRANSFORMERS_PACKAGE} could not be loaded: Cannot find package 'onnxruntime-node' imported from /x/transformers.node.mjs`,
      missingPackage: false,
    });
    const odd = await loadOnnxEmbedder({ modelsDir: dir, loadModule: async () => ({ version: '0.0.1' }) });
    assert.equal(odd.ok, false);
    assert.match(odd.ok ? '' : odd.reason, /has no pipeline\(\)/);
  });
});

test('first start downloads the default model into modelsDir once; bge gets CLS pooling and its query instruction', async () => {
  await withDir(async (dir) => {
    const fake = new FakeTransformers();
    const logs: string[] = [];
    const e = ok(await load(fake, { modelsDir: dir }, logs));
    assert.equal(e.id, `onnx:${DEFAULT_ONNX_MODEL}@q8`);
    assert.equal(e.dims, 24, 'learnt from the probe');
    assert.equal(e.pooling, 'cls');
    assert.equal(fake.downloads, 1);
    assert.deepEqual(fake.loads, [{ model: DEFAULT_ONNX_MODEL, options: { cache_dir: dir, local_files_only: false, dtype: 'q8' }, localModelPath: dir + path.sep, remote: true }]);
    assert.ok(existsSync(path.join(dir, DEFAULT_ONNX_MODEL, 'config.json')));
    assert.deepEqual(logs, [`onnx embedder: downloading ${DEFAULT_ONNX_MODEL} into ${dir} (once; later starts load it from there)`]);
    assert.equal(fake.env.logLevel, 40, 'library warnings quietened');

    fake.calls.length = 0;
    const [q] = await e.embed(['sparse attention'], 'query');
    const [d] = await e.embed(['sparse attention'], 'document');
    assert.deepEqual(fake.calls.map((c) => c.texts), [[BGE_QUERY_PREFIX + 'sparse attention'], ['sparse attention']]);
    assert.ok(fake.calls.every((c) => c.pooling === 'cls' && c.normalize));
    assert.ok(close(q, FakeTransformers.vector(BGE_QUERY_PREFIX + 'sparse attention', 'cls', 24)));
    assert.ok(close(d, FakeTransformers.vector('sparse attention', 'cls', 24)));
  });
});

test('later starts load the cached model with local_files_only, so they work offline', async () => {
  await withDir(async (dir) => {
    const fake = new FakeTransformers();
    ok(await load(fake, { modelsDir: dir }));
    fake.network = false;
    const logs: string[] = [];
    const again = ok(await load(fake, { modelsDir: dir }, logs));
    assert.equal(fake.downloads, 1, 'no second download');
    assert.deepEqual(fake.loads[1]?.options, { cache_dir: dir, local_files_only: true, dtype: 'q8' });
    assert.equal(fake.loads[1]?.remote, false, 'remote files off while loading a cached model');
    assert.deepEqual(logs, []);
    assert.equal((await again.embed(['x'], 'document')).length, 1);
    // The explicit offline switch changes nothing once the model is there.
    ok(await load(fake, { modelsDir: dir, offline: true }));
  });
});

test('no network and no cached model: unavailable, saying so', async () => {
  await withDir(async (dir) => {
    const fake = new FakeTransformers();
    fake.network = false;
    const r = await load(fake, { modelsDir: dir });
    assert.equal(r.ok, false);
    assert.equal(r.ok ? '' : r.reason, `model ${DEFAULT_ONNX_MODEL} could not be loaded (not in ${dir}, and the download failed): fetch failed`);
    assert.equal(r.ok || r.missingPackage, false);
  });
});

test('offline with no cached model does not even try', async () => {
  await withDir(async (dir) => {
    const fake = new FakeTransformers();
    const r = await load(fake, { modelsDir: dir, offline: true, model: 'Xenova/all-MiniLM-L6-v2' });
    assert.equal(r.ok ? '' : r.reason, `model Xenova/all-MiniLM-L6-v2 is not in ${dir} and downloads are turned off`);
    assert.deepEqual(fake.loads, []);
  });
});

test('an interrupted download (config.json without weights) is completed', async () => {
  await withDir(async (dir) => {
    const fake = new FakeTransformers();
    mkdirSync(path.join(dir, DEFAULT_ONNX_MODEL), { recursive: true });
    writeFileSync(path.join(dir, DEFAULT_ONNX_MODEL, 'config.json'), '{}');
    const logs: string[] = [];
    ok(await load(fake, { modelsDir: dir }, logs));
    assert.deepEqual(fake.loads.map((l) => [l.options.local_files_only, l.remote]), [[true, false], [false, true]]);
    assert.equal(fake.downloads, 1);
    assert.match(logs[0] ?? '', /is incomplete in .*; downloading the rest/);
  });
});

test('a local model directory: loaded from its parent, never downloaded; fp32 when only model.onnx exists; mean pooling by default', async () => {
  await withDir(async (dir) => {
    const modelDir = path.join(dir, 'my-minilm');
    mkdirSync(path.join(modelDir, 'onnx'), { recursive: true });
    writeFileSync(path.join(modelDir, 'config.json'), '{}');
    writeFileSync(path.join(modelDir, 'onnx', 'model.onnx'), '');
    const fake = new FakeTransformers();
    fake.network = false;
    const e = ok(await load(fake, { modelsDir: path.join(dir, 'unused'), model: modelDir }));
    assert.equal(e.id, 'onnx:my-minilm@fp32');
    assert.equal(e.pooling, 'mean');
    assert.deepEqual(fake.loads, [{ model: 'my-minilm', options: { local_files_only: true, dtype: 'fp32' }, localModelPath: dir + path.sep, remote: false }]);
    fake.calls.length = 0;
    await e.embed(['a query'], 'query');
    assert.deepEqual(fake.calls[0], { texts: ['a query'], pooling: 'mean', normalize: true });

    const missing = await load(fake, { modelsDir: dir, model: path.join(dir, 'nope') });
    assert.equal(missing.ok ? '' : missing.reason, `model directory ${path.join(dir, 'nope')} does not exist`);
    mkdirSync(path.join(dir, 'empty'));
    const empty = await load(fake, { modelsDir: dir, model: path.join(dir, 'empty') });
    assert.equal(empty.ok ? '' : empty.reason, `model directory ${path.join(dir, 'empty')} has no config.json`);
  });
});

test('options override the model defaults', async () => {
  await withDir(async (dir) => {
    const fake = new FakeTransformers();
    const e = ok(await load(fake, { modelsDir: dir, pooling: 'mean', queryPrefix: '', documentPrefix: 'passage: ', dtype: 'q8' }));
    assert.equal(e.pooling, 'mean');
    fake.calls.length = 0;
    await e.embed(['q'], 'query');
    await e.embed(['d'], 'document');
    assert.deepEqual(fake.calls.map((c) => [c.texts, c.pooling]), [[['q'], 'mean'], [['passage: d'], 'mean']]);
  });
});

test('batches, keeps order, and runs one inference at a time', async () => {
  await withDir(async (dir) => {
    const fake = new FakeTransformers();
    const e = ok(await load(fake, { modelsDir: dir, batchSize: 3, model: 'Xenova/all-MiniLM-L6-v2' }));
    fake.calls.length = 0;
    const texts = Array.from({ length: 7 }, (_, i) => `text ${i} words ${i * 7}`);
    const [a, b] = await Promise.all([e.embed(texts, 'document'), e.embed(texts.slice(0, 2), 'document')]);
    assert.deepEqual(fake.calls.map((c) => c.texts.length), [3, 3, 1, 2]);
    assert.equal(fake.maxInFlight, 1);
    texts.forEach((t, i) => assert.ok(close(a[i], FakeTransformers.vector(t, 'mean', 24)), `vector ${i}`));
    assert.equal(b.length, 2);
    await e.close();
    assert.equal(fake.disposed, 1);
  });
});

test('wrong dimensions, bad tensors and inference failures are clear errors', async () => {
  await withDir(async (dir) => {
    const fake = new FakeTransformers();
    const wrong = await load(fake, { modelsDir: dir, dims: 384 });
    assert.equal(wrong.ok ? '' : wrong.reason, `model ${DEFAULT_ONNX_MODEL} loaded but does not embed: onnx embedder onnx:${DEFAULT_ONNX_MODEL}@q8: returned 24 dimensions, expected 384`);
    assert.equal(fake.disposed, 1, 'the unusable pipeline is released');

    const e = ok(await load(fake, { modelsDir: dir }));
    fake.tensorDims = [1, 2, 12];
    await assert.rejects(e.embed(['x'], 'document'), (err: unknown) => err instanceof EmbedError && /expected a \[1, dims\] tensor, got \[1, 2, 12\]/.test(err.message));
    fake.tensorDims = null;
    fake.failInference = new Error('Protobuf parsing failed');
    await assert.rejects(e.embed(['x'], 'document'), (err: unknown) => err instanceof EmbedError && err.provider === 'onnx' && /inference failed: Protobuf parsing failed$/.test(err.message));
    fake.failInference = null;
    assert.equal((await e.embed(['x'], 'document')).length, 1, 'usable after a failure');
  });
});

test('a CommonJS-style module (exports under default) is accepted', async () => {
  await withDir(async (dir) => {
    const fake = new FakeTransformers();
    ok(await loadOnnxEmbedder({ modelsDir: dir, loadModule: async () => ({ default: fake.module }) }));
  });
});

test('model defaults by name', () => {
  assert.deepEqual(modelDefaults('Xenova/bge-small-en-v1.5'), { pooling: 'cls', queryPrefix: BGE_QUERY_PREFIX });
  assert.deepEqual(modelDefaults('mxbai-embed-large'), { pooling: 'cls', queryPrefix: BGE_QUERY_PREFIX });
  assert.deepEqual(modelDefaults('bge-m3'), { pooling: 'cls' });
  assert.deepEqual(modelDefaults('nomic-embed-text'), { pooling: 'mean', queryPrefix: 'search_query: ', documentPrefix: 'search_document: ' });
  assert.deepEqual(modelDefaults('intfloat/multilingual-e5-small'), { pooling: 'mean', queryPrefix: 'query: ', documentPrefix: 'passage: ' });
  assert.deepEqual(modelDefaults('Xenova/all-MiniLM-L6-v2'), { pooling: 'mean' });
  assert.equal(isModelDirectory('./models/x'), true);
  assert.equal(isModelDirectory('/srv/models/x'), true);
  assert.equal(isModelDirectory('Xenova/bge-small-en-v1.5'), false);
});
