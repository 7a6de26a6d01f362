/**
 * The embedding provider contract shared by the `http` and `onnx` providers.
 *
 * Every vector an embedder returns is L2-normalised, so cosine similarity is a
 * dot product, and has `dims` dimensions. `id` names the model behind the vectors
 * (e.g. `http:nomic-embed-text`, `onnx:Xenova/bge-small-en-v1.5@q8`): it is stored
 * with each vector, and a different id means every vector must be recomputed
 * (vectors from two models are never mixed).
 */

export type EmbedKind = 'query' | 'document';

export interface Embedder {
  /** Model identity stored with the vectors, e.g. 'http:nomic-embed-text'. */
  readonly id: string;
  /** Known after the first call when not configured. */
  readonly dims: number | undefined;
  /** One unit vector per text, in order. `kind` selects the model's query or document prefix. */
  embed(texts: string[], kind: EmbedKind): Promise<Float32Array[]>;
  close?(): Promise<void>;
}

export type EmbedProvider = 'http' | 'onnx';

export class EmbedError extends Error {
  readonly provider: EmbedProvider;
  /** The HTTP status of the last answer, when there was one. */
  readonly status: number | undefined;
  /** Whether trying again later may succeed (network trouble, 429, 5xx) as opposed to a configuration or protocol problem. */
  readonly transient: boolean;

  constructor(provider: EmbedProvider, message: string, info: { status?: number; transient?: boolean; cause?: unknown } = {}) {
    super(message, info.cause === undefined ? undefined : { cause: info.cause });
    this.name = 'EmbedError';
    this.provider = provider;
    this.status = info.status;
    this.transient = info.transient ?? false;
  }
}

/**
 * Copies `values` into a unit-length Float32Array. Throws (via `fail`) on
 * non-finite values or an all-zero vector, which no real model produces.
 */
export function toUnitVector(values: ArrayLike<number>, fail: (why: string) => never): Float32Array {
  const v = new Float32Array(values.length);
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i] as number;
    if (typeof x !== 'number' || !Number.isFinite(x)) fail(`value ${i} is ${typeof x === 'number' ? String(x) : typeof x}, not a finite number`);
    v[i] = x;
    sum += x * x;
  }
  if (!(sum > 0)) fail('the vector is all zeros');
  const inv = 1 / Math.sqrt(sum);
  for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) * inv;
  return v;
}

/** Splits items into consecutive batches of at most `size`. */
export function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The prefix for `kind` put in front of each text (bge and e5-style models want one on queries). */
export function withPrefix(texts: readonly string[], kind: EmbedKind, prefixes: { query?: string | undefined; document?: string | undefined }): string[] {
  const prefix = (kind === 'query' ? prefixes.query : prefixes.document) ?? '';
  return prefix ? texts.map((t) => prefix + t) : [...texts];
}

export type Pooling = 'cls' | 'mean';

export interface ModelDefaults {
  /** How token vectors become one vector (matters to the onnx provider; servers pool themselves). */
  pooling: Pooling;
  queryPrefix?: string;
  documentPrefix?: string;
}

export const BGE_QUERY_PREFIX = 'Represent this sentence for searching relevant passages: ';

/**
 * What well-known embedding models expect, recognised by name (a Hugging Face id
 * such as `Xenova/bge-small-en-v1.5`, or an Ollama name such as `nomic-embed-text`):
 * bge and mxbai pool the CLS token and want an instruction before queries; e5 and
 * nomic want `query:`/`passage:`-style prefixes on both sides; everything else
 * gets mean pooling and no prefixes.
 */
export function modelDefaults(model: string): ModelDefaults {
  const m = model.toLowerCase();
  if (/bge-(small|base|large)-en/.test(m) || /mxbai-embed-large/.test(m)) return { pooling: 'cls', queryPrefix: BGE_QUERY_PREFIX };
  if (/bge/.test(m)) return { pooling: 'cls' };
  if (/nomic-embed-text/.test(m)) return { pooling: 'mean', queryPrefix: 'search_query: ', documentPrefix: 'search_document: ' };
  if (/(^|[/:])(multilingual-)?e5-(small|base|large)/.test(m)) return { pooling: 'mean', queryPrefix: 'query: ', documentPrefix: 'passage: ' };
  return { pooling: 'mean' };
}
