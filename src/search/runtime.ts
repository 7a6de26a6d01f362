import type { Config } from '../config/config.ts';
import { startEmbedder, type EmbedderHandle, type ResolveEmbedderOptions } from './embed/index.ts';
import { SemanticIndex } from './semantic.ts';

export interface SemanticState {
  semantic: SemanticIndex | null;
  /** Why search is keyword-only, when it is. */
  reason?: string | undefined;
}

export function embedderOptions(config: Config, log: (msg: string) => void): ResolveEmbedderOptions {
  const e = config.embedder;
  const common = { dims: e.dims, queryPrefix: e.queryPrefix, documentPrefix: e.documentPrefix };
  return {
    provider: e.provider,
    log,
    http:
      e.url && e.model
        ? { url: e.url, model: e.model, apiKey: e.key, batchSize: e.batchSize, retries: e.retries, timeoutMs: e.timeoutMs, ...common }
        : undefined,
    onnx: { model: e.model, modelsDir: e.modelsDir, offline: e.offline, batchSize: e.batchSize, log, ...common },
  };
}

/**
 * Search by meaning, when an embedder can be had: resolved once per process in
 * the background (a model download never blocks serving); until then, and when
 * it cannot be had, search is keyword-only and every answer says why.
 */
export class SearchRuntime {
  private handle: EmbedderHandle | undefined;
  private index: SemanticIndex | undefined;

  constructor(
    private readonly config: Config,
    private readonly log: (msg: string) => void,
  ) {}

  private start(): EmbedderHandle {
    this.handle ??= startEmbedder(embedderOptions(this.config, this.log));
    return this.handle;
  }

  private state(resolved: { embedder: SemanticIndex['embedder'] | null; reason?: string | undefined }): SemanticState {
    if (!resolved.embedder) return { semantic: null, reason: resolved.reason ?? 'no embedder configured' };
    if (this.index?.embedder !== resolved.embedder) this.index = new SemanticIndex(resolved.embedder);
    return { semantic: this.index };
  }

  /** Waits for the embedder (CLI commands). */
  async ready(): Promise<SemanticState> {
    return this.state(await this.start().ready);
  }

  /** What is available right now, without waiting (the web server). */
  current(): SemanticState {
    return this.state(this.start().current());
  }

  async close(): Promise<void> {
    await this.handle?.close();
  }
}
