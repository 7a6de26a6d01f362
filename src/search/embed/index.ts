/**
 * Chooses the embedding provider from configuration.
 *
 * - `none`: keyword-only search.
 * - `http`: an OpenAI-compatible endpoint (see http.ts).
 * - `onnx`: a local model through the optional `@huggingface/transformers` (see onnx.ts).
 * - `auto` (the default): `onnx` with a small English model, downloaded once into the
 *   data dir; where that cannot be had (package absent, no network), keyword-only.
 *
 * Whatever happens, exactly one log line says which mode search runs in and, when
 * keyword-only, why and how to enable vectors. Search answers should carry `mode`
 * (and `reason`) too.
 */
import { EmbedError, modelDefaults, type Embedder } from './embedder.ts';
import { HttpEmbedder, type HttpEmbedderOptions } from './http.ts';
import { DEFAULT_ONNX_MODEL, loadOnnxEmbedder, TRANSFORMERS_PACKAGE, type OnnxEmbedderOptions } from './onnx.ts';

export { EmbedError, type Embedder, type EmbedKind } from './embedder.ts';
export { HttpEmbedder, type HttpEmbedderOptions } from './http.ts';
export { DEFAULT_ONNX_MODEL, loadOnnxEmbedder, OnnxEmbedder, type OnnxEmbedderOptions } from './onnx.ts';

export type EmbedderProvider = 'auto' | 'http' | 'onnx' | 'none';
export const EMBEDDER_PROVIDERS: readonly EmbedderProvider[] = ['auto', 'http', 'onnx', 'none'];

export type SearchMode = 'vector' | 'keyword-only';

export interface ResolvedEmbedder {
  embedder: Embedder | null;
  mode: SearchMode;
  /** Why search is keyword-only (absent in vector mode). */
  reason?: string;
}

export interface ResolveEmbedderOptions {
  provider: EmbedderProvider;
  /** Required for `http`: at least url and model. */
  http?: HttpEmbedderOptions | undefined;
  /** For `onnx` and `auto`: modelsDir is required; model defaults to DEFAULT_ONNX_MODEL. */
  onnx?: OnnxEmbedderOptions | undefined;
  log: (msg: string) => void;
  /** `http`: embed one text at start to check the server and learn the dimensions (default true). */
  probe?: boolean | undefined;
}

const HOW_TO_ENABLE =
  `To enable it, set PAPERBOY_EMBEDDER=http with PAPERBOY_EMBEDDER_URL and PAPERBOY_EMBEDDER_MODEL ` +
  `(any OpenAI-compatible /v1/embeddings server, e.g. Ollama), or install ${TRANSFORMERS_PACKAGE} ` +
  `(ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save ${TRANSFORMERS_PACKAGE}).`;

function describe(embedder: Embedder): string {
  return `${embedder.id}${embedder.dims === undefined ? '' : `, ${embedder.dims} dims`}`;
}

export async function resolveEmbedder(opts: ResolveEmbedderOptions): Promise<ResolvedEmbedder> {
  const keywordOnly = (reason: string, hint = ''): ResolvedEmbedder => {
    opts.log(`search: keyword-only: ${reason}${hint ? `. ${hint}` : ''}`);
    return { embedder: null, mode: 'keyword-only', reason };
  };
  const vector = (embedder: Embedder, note = ''): ResolvedEmbedder => {
    opts.log(`search: vector mode with ${describe(embedder)}${note}`);
    return { embedder, mode: 'vector' };
  };

  switch (opts.provider) {
    case 'none':
      return keywordOnly('semantic search is turned off (PAPERBOY_EMBEDDER=none)');

    case 'http': {
      const h = opts.http;
      if (!h?.url || !h.model) throw new EmbedError('http', 'http embedder: PAPERBOY_EMBEDDER=http needs a URL and a model name');
      const defaults = modelDefaults(h.model);
      const embedder = new HttpEmbedder({
        ...h,
        queryPrefix: h.queryPrefix ?? defaults.queryPrefix,
        documentPrefix: h.documentPrefix ?? defaults.documentPrefix,
      });
      if (opts.probe === false) return vector(embedder);
      try {
        await embedder.embed(['paperboy'], 'document');
        return vector(embedder);
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        // A server that is down may come up; a wrong model, key or dimension count will not.
        if (err instanceof EmbedError && err.transient) return vector(embedder, ` (not answering yet: ${msg})`);
        return keywordOnly(msg, 'Check PAPERBOY_EMBEDDER_URL, PAPERBOY_EMBEDDER_MODEL, PAPERBOY_EMBEDDER_KEY and PAPERBOY_EMBEDDER_DIMS.');
      }
    }

    case 'onnx':
    case 'auto': {
      if (!opts.onnx) throw new Error(`embedder: PAPERBOY_EMBEDDER=${opts.provider} needs onnx options (modelsDir)`);
      const result = await loadOnnxEmbedder({ ...opts.onnx, model: opts.onnx.model || DEFAULT_ONNX_MODEL, log: opts.onnx.log ?? opts.log });
      if (result.ok) return vector(result.embedder);
      return keywordOnly(`no embedding model (${result.reason})`, HOW_TO_ENABLE);
    }
  }
}

/**
 * Starts resolving in the background so that serving need not wait for a model
 * download: `current()` is keyword-only ('embedding model loading') until `ready` settles.
 */
export class EmbedderHandle {
  private state: ResolvedEmbedder = { embedder: null, mode: 'keyword-only', reason: 'the embedding model is still loading' };
  readonly ready: Promise<ResolvedEmbedder>;

  constructor(opts: ResolveEmbedderOptions) {
    this.ready = resolveEmbedder(opts).then(
      (resolved) => (this.state = resolved),
      (err: unknown) => {
        const reason = err instanceof Error ? err.message : String(err);
        opts.log(`search: keyword-only: ${reason}`);
        return (this.state = { embedder: null, mode: 'keyword-only', reason });
      },
    );
  }

  current(): ResolvedEmbedder {
    return this.state;
  }

  async close(): Promise<void> {
    const { embedder } = await this.ready;
    await embedder?.close?.();
  }
}

export function startEmbedder(opts: ResolveEmbedderOptions): EmbedderHandle {
  return new EmbedderHandle(opts);
}
