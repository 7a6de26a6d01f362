/**
 * The `onnx` embedder: a local model run by transformers.js (`@huggingface/transformers`).
 *
 * The package is optional and never a dependency (it weighs ~470 MB and fails to
 * install offline unless ONNXRUNTIME_NODE_INSTALL=skip): it is loaded with a
 * dynamic import, and its absence is a result (`{ ok: false, reason }`), never a crash.
 *
 * `model` is either a Hugging Face model id (e.g. `Xenova/bge-small-en-v1.5`),
 * downloaded once into `modelsDir/<id>/` and loaded from there without network
 * afterwards, or a local directory (absolute, or starting with `.`) holding
 * `config.json`, `tokenizer.json` and `onnx/model*.onnx`.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { batches, EmbedError, modelDefaults, toUnitVector, withPrefix, type EmbedKind, type Embedder, type Pooling } from './embedder.ts';

export const TRANSFORMERS_PACKAGE = '@huggingface/transformers';
/** Small (33M parameters, 384 dims, ~34 MB quantised), English, good at retrieval. */
export const DEFAULT_ONNX_MODEL = 'Xenova/bge-small-en-v1.5';

/** What a feature-extraction pipeline returns: a [n, dims] tensor. */
export interface FeatureTensor {
  dims: readonly number[];
  data: ArrayLike<number>;
}

export type FeatureExtractor = ((texts: string[], options: { pooling: Pooling; normalize: boolean }) => Promise<FeatureTensor>) & {
  dispose?: () => Promise<void>;
};

export interface PipelineOptions {
  cache_dir?: string;
  local_files_only?: boolean;
  dtype?: string;
}

/** The part of `@huggingface/transformers` (v3 or v4) used here. */
export interface TransformersModule {
  pipeline(task: 'feature-extraction', model: string, options: PipelineOptions): Promise<FeatureExtractor>;
  env?: { localModelPath?: string; allowLocalModels?: boolean; allowRemoteModels?: boolean; logLevel?: number };
}

export interface OnnxEmbedderOptions {
  /** A Hugging Face model id, or a model directory (absolute or starting with '.'). Default DEFAULT_ONNX_MODEL. */
  model?: string | undefined;
  /** Where model ids are downloaded once: `<dataDir>/models`. */
  modelsDir: string;
  /** Never download: use only what is already in modelsDir (or the model directory). */
  offline?: boolean | undefined;
  /** Default by model name: 'cls' for bge/mxbai, else 'mean' (see modelDefaults). */
  pooling?: Pooling | undefined;
  /** ONNX weights variant: 'q8' (default where the model has onnx/model_quantized.onnx), 'fp32', 'fp16', 'q4', … */
  dtype?: string | undefined;
  /** Default by model name (bge: the retrieval instruction on queries). '' turns a default off. */
  queryPrefix?: string | undefined;
  documentPrefix?: string | undefined;
  /** Texts per inference call (default 16; longer batches pad to the longest text). */
  batchSize?: number | undefined;
  /** Expected dimensions, checked after loading. */
  dims?: number | undefined;
  /** Progress lines (e.g. the one-time download). */
  log?: ((msg: string) => void) | undefined;
  /** The test seam: how the package is loaded. */
  loadModule?: (() => Promise<unknown>) | undefined;
}

export type OnnxLoadResult =
  | { ok: true; embedder: OnnxEmbedder }
  | {
      ok: false;
      /** One sentence for the log and for search answers. */
      reason: string;
      /** True when the package itself is not installed (as opposed to a model that could not be had). */
      missingPackage: boolean;
    };

/** The package through a computed specifier, so TypeScript and bundlers do not require it to exist. */
function importTransformers(): Promise<unknown> {
  const specifier: string = TRANSFORMERS_PACKAGE;
  return import(specifier);
}

function isTransformersModule(m: unknown): m is TransformersModule {
  return !!m && (typeof m === 'object' || typeof m === 'function') && typeof (m as { pipeline?: unknown }).pipeline === 'function';
}

function message(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]?.trim() || 'unknown error';
}

function isMissing(err: unknown, pkg: string): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = e && typeof e === 'object' ? e.code : undefined;
  const msg = e && typeof e === 'object' && typeof e.message === 'string' ? e.message : '';
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && msg.includes(pkg);
}

/** A directory path rather than a model id: absolute, or starting with '.' ('./m', '../models/m'). */
export function isModelDirectory(model: string): boolean {
  return path.isAbsolute(model) || model.startsWith('.');
}

/** Loads may not overlap: transformers.js reads its settings (env.localModelPath) from a global. */
let loading: Promise<unknown> = Promise.resolve();

/**
 * Loads the package and the model, runs one probe embedding (which also gives the
 * dimensions), and returns the embedder; or why it cannot be had.
 */
export async function loadOnnxEmbedder(opts: OnnxEmbedderOptions): Promise<OnnxLoadResult> {
  const run = loading.then(() => load(opts));
  loading = run.catch(() => {});
  return run;
}

async function load(opts: OnnxEmbedderOptions): Promise<OnnxLoadResult> {
  const model = opts.model || DEFAULT_ONNX_MODEL;
  const unavailable = (reason: string, missingPackage = false): OnnxLoadResult => ({ ok: false, reason, missingPackage });

  let mod: unknown;
  try {
    mod = await (opts.loadModule ?? importTransformers)();
  } catch (err) {
    if (isMissing(err, TRANSFORMERS_PACKAGE)) return unavailable(`${TRANSFORMERS_PACKAGE} is not installed`, true);
    return unavailable(`${TRANSFORMERS_PACKAGE} could not be loaded: ${message(err)}`);
  }
  // `import()` of a CommonJS build may put the exports under `default`.
  if (!isTransformersModule(mod) && isTransformersModule((mod as { default?: unknown } | null)?.default)) {
    mod = (mod as { default: unknown }).default;
  }
  if (!isTransformersModule(mod)) return unavailable(`${TRANSFORMERS_PACKAGE} has no pipeline() (an unsupported version?)`);
  const transformers = mod;

  // Where the files are, and whether they are already there.
  let name: string;
  let parentDir: string;
  let present: boolean;
  let onnxDir: string;
  if (isModelDirectory(model)) {
    const dir = path.resolve(model);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) return unavailable(`model directory ${dir} does not exist`);
    if (!existsSync(path.join(dir, 'config.json'))) return unavailable(`model directory ${dir} has no config.json`);
    name = path.basename(dir);
    parentDir = path.dirname(dir);
    present = true;
    onnxDir = path.join(dir, 'onnx');
  } else {
    name = model;
    parentDir = path.resolve(opts.modelsDir);
    present = existsSync(path.join(parentDir, model, 'config.json'));
    onnxDir = path.join(parentDir, model, 'onnx');
  }
  const dtype =
    opts.dtype ??
    (!present || existsSync(path.join(onnxDir, 'model_quantized.onnx')) || !existsSync(path.join(onnxDir, 'model.onnx')) ? 'q8' : 'fp32');
  const defaults = modelDefaults(model);
  const pooling = opts.pooling ?? defaults.pooling;
  const isDir = isModelDirectory(model);
  if (!present && opts.offline) return unavailable(`model ${model} is not in ${parentDir} and downloads are turned off`);

  // Model ids resolve to <localModelPath>/<id>/…, and downloads are cached at <cache_dir>/<id>/…:
  // pointing both at modelsDir makes a finished download load from disk, without network, next time.
  if (transformers.env) {
    transformers.env.allowLocalModels = true;
    transformers.env.localModelPath = parentDir + path.sep;
    // v4 warns about every file it does not find locally before downloading it: keep errors only.
    if (typeof transformers.env.logLevel === 'number') transformers.env.logLevel = 40;
  }
  const attempt = (localOnly: boolean): Promise<FeatureExtractor> => {
    // v4 fetches some files (tokenizer_config.json) despite local_files_only: the global switch stops that.
    if (transformers.env) transformers.env.allowRemoteModels = !localOnly;
    return transformers.pipeline('feature-extraction', name, {
      ...(isDir ? {} : { cache_dir: parentDir }),
      local_files_only: localOnly,
      dtype,
    });
  };

  let extractor: FeatureExtractor;
  try {
    if (!present) opts.log?.(`onnx embedder: downloading ${model} into ${parentDir} (once; later starts load it from there)`);
    try {
      extractor = await attempt(present || !!opts.offline);
    } catch (err) {
      // A download interrupted earlier leaves config.json without the weights: finish it.
      if (!present || isDir || opts.offline) throw err;
      opts.log?.(`onnx embedder: ${model} is incomplete in ${parentDir} (${message(err)}); downloading the rest`);
      extractor = await attempt(false);
    }
  } catch (err) {
    const where = isDir ? `from ${path.resolve(model)}` : present ? `from ${parentDir}` : `(not in ${parentDir}, and the download failed)`;
    return unavailable(`model ${model} could not be loaded ${where}: ${message(err)}`);
  }

  const embedder = new OnnxEmbedder({
    id: `onnx:${name}@${dtype}`,
    extractor,
    pooling,
    prefixes: {
      query: opts.queryPrefix ?? defaults.queryPrefix,
      document: opts.documentPrefix ?? defaults.documentPrefix,
    },
    batchSize: opts.batchSize ?? 16,
    dims: opts.dims,
  });
  try {
    await embedder.embed(['probe'], 'document');
  } catch (err) {
    await embedder.close().catch(() => {});
    return unavailable(`model ${model} loaded but does not embed: ${message(err)}`);
  }
  return { ok: true, embedder };
}

export class OnnxEmbedder implements Embedder {
  readonly id: string;
  readonly pooling: Pooling;
  private knownDims: number | undefined;
  private readonly expectedDims: number | undefined;
  private readonly extractor: FeatureExtractor;
  private readonly prefixes: { query: string | undefined; document: string | undefined };
  private readonly batchSize: number;
  /** One inference at a time: the session already uses every core. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: {
    id: string;
    extractor: FeatureExtractor;
    pooling: Pooling;
    prefixes: { query: string | undefined; document: string | undefined };
    batchSize: number;
    dims: number | undefined;
  }) {
    this.id = opts.id;
    this.extractor = opts.extractor;
    this.pooling = opts.pooling;
    this.prefixes = opts.prefixes;
    this.batchSize = opts.batchSize;
    this.expectedDims = opts.dims;
    this.knownDims = opts.dims;
  }

  get dims(): number | undefined {
    return this.knownDims;
  }

  embed(texts: string[], kind: EmbedKind): Promise<Float32Array[]> {
    const run = this.queue.then(() => this.run(texts, kind));
    this.queue = run.catch(() => {});
    return run;
  }

  private async run(texts: string[], kind: EmbedKind): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (const batch of batches(withPrefix(texts, kind, this.prefixes), this.batchSize)) {
      let tensor: FeatureTensor;
      try {
        tensor = await this.extractor(batch, { pooling: this.pooling, normalize: true });
      } catch (err) {
        throw new EmbedError('onnx', `onnx embedder ${this.id}: inference failed: ${message(err)}`, { cause: err });
      }
      const fail = (why: string): never => {
        throw new EmbedError('onnx', `onnx embedder ${this.id}: ${why}`);
      };
      const [n, d] = tensor.dims;
      if (tensor.dims.length !== 2 || n !== batch.length || d === undefined || d < 1 || tensor.data.length !== n * d) {
        fail(`expected a [${batch.length}, dims] tensor, got [${tensor.dims.join(', ')}] holding ${tensor.data.length} values`);
      }
      const dims = d as number;
      if (this.expectedDims !== undefined && dims !== this.expectedDims) fail(`returned ${dims} dimensions, expected ${this.expectedDims}`);
      if (this.knownDims !== undefined && dims !== this.knownDims) fail(`returned ${dims} dimensions, earlier embeddings had ${this.knownDims}`);
      this.knownDims = dims;
      const data = tensor.data;
      for (let i = 0; i < batch.length; i++) {
        const slice = data instanceof Float32Array ? data.subarray(i * dims, (i + 1) * dims) : Array.prototype.slice.call(data, i * dims, (i + 1) * dims);
        out.push(toUnitVector(slice as ArrayLike<number>, (why) => fail(`unusable embedding for input ${i}: ${why}`)));
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.extractor.dispose?.();
  }
}
