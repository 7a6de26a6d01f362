/**
 * The `http` embedder: any OpenAI-compatible `POST /v1/embeddings` endpoint
 * (Ollama, text-embeddings-inference, vLLM, llama.cpp server, LM Studio, OpenAI).
 *
 * - `url` may be the server's base (`http://localhost:11434`), its `/v1`, or the
 *   full `/v1/embeddings` endpoint; a query string (e.g. `?api-version=`) is kept.
 * - Inputs go in batches of `batchSize`, one request at a time, in order.
 * - Network errors, timeouts, 408, 429 and 5xx are retried with exponential
 *   backoff and jitter; `Retry-After` replaces the computed delay. Other statuses
 *   fail at once with the server's own error message.
 * - Answers are validated: a `data` array with one embedding per input (put in
 *   order by `index`), finite numbers (or base64 float32), the same dimensions
 *   throughout and equal to `dims` when configured. Vectors are L2-normalised.
 * - Error messages name the model and the endpoint without credentials or query
 *   string, and never contain the API key (scrubbed even from echoed server text).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { batches, EmbedError, toUnitVector, withPrefix, type EmbedKind, type Embedder } from './embedder.ts';

export interface HttpEmbedderOptions {
  /** Base URL (`http://host:11434`), `…/v1`, or the full `…/v1/embeddings`. */
  url: string;
  model: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string | undefined;
  /** Expected dimensions; answers with others are an error. Learnt from the first answer when absent. */
  dims?: number | undefined;
  /** Also send `dimensions: dims` in the request (OpenAI text-embedding-3 shortens its vectors on request). */
  sendDimensions?: boolean | undefined;
  /** Inputs per request (default 64). */
  batchSize?: number | undefined;
  /** Put in front of each query text, e.g. bge's 'Represent this sentence for searching relevant passages: '. */
  queryPrefix?: string | undefined;
  /** Put in front of each document text, e.g. nomic's 'search_document: '. */
  documentPrefix?: string | undefined;
  /** Attempts after the first (default 4). */
  retries?: number | undefined;
  /** Backoff base: backoffMs * 2^(attempt-1), plus up to 25 % jitter, capped at maxBackoffMs (defaults 500, 30000). */
  backoffMs?: number | undefined;
  maxBackoffMs?: number | undefined;
  /** Per attempt, covering the whole answer (default 60000: a CPU server embedding a large batch is slow). */
  timeoutMs?: number | undefined;
  sleep?: ((ms: number) => Promise<void>) | undefined;
  /** Called before each backoff sleep; `attempt` is the 1-based attempt that failed. */
  onRetry?: ((info: { attempt: number; delayMs: number; reason: string }) => void) | undefined;
}

/** The embeddings endpoint for a configured URL (see HttpEmbedderOptions.url); throws EmbedError when unusable. */
export function embeddingsEndpoint(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new EmbedError('http', `http embedder: invalid URL ${JSON.stringify(displayUrlOf(url))}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new EmbedError('http', `http embedder: URL must be http: or https:, got ${u.protocol}`);
  }
  let p = u.pathname.replace(/\/+$/, '');
  if (!/\/embeddings$/.test(p)) p += /\/v1$/.test(p) ? '/embeddings' : '/v1/embeddings';
  u.pathname = p;
  return u;
}

/** origin + path only: no userinfo, no query string (which may carry keys). */
function displayUrl(u: URL): string {
  return u.origin + u.pathname;
}

function displayUrlOf(raw: string): string {
  return raw.replace(/\/\/[^/@]*@/, '//').replace(/[?#].*$/, '');
}

type Attempt =
  | { ok: true; json: unknown }
  | { ok: false; retryable: boolean; reason: string; status: number | undefined; retryAfterMs: number | undefined; cause?: unknown };

const MAX_ERROR_TEXT = 300;

export class HttpEmbedder implements Embedder {
  readonly id: string;
  private knownDims: number | undefined;
  private readonly expectedDims: number | undefined;
  private readonly endpoint: URL;
  private readonly where: string;
  private readonly headers: Record<string, string>;
  private readonly model: string;
  private readonly apiKey: string | undefined;
  private readonly sendDimensions: boolean;
  private readonly batchSize: number;
  private readonly prefixes: { query: string | undefined; document: string | undefined };
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly onRetry: HttpEmbedderOptions['onRetry'];

  constructor(opts: HttpEmbedderOptions) {
    if (!opts.model) throw new EmbedError('http', 'http embedder: a model name is required');
    this.model = opts.model;
    this.endpoint = embeddingsEndpoint(opts.url);
    this.where = `model ${this.model} at ${displayUrl(this.endpoint)}`;
    const positive = (name: string, v: number | undefined, integer = true): void => {
      if (v !== undefined && !(v > 0 && (!integer || Number.isInteger(v)))) {
        throw new EmbedError('http', `http embedder: ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`);
      }
    };
    positive('dims', opts.dims);
    positive('batchSize', opts.batchSize);
    positive('timeoutMs', opts.timeoutMs, false);
    if (opts.sendDimensions && opts.dims === undefined) throw new EmbedError('http', 'http embedder: sendDimensions needs dims');
    this.expectedDims = opts.dims;
    this.knownDims = opts.dims;
    this.apiKey = opts.apiKey || undefined;
    this.sendDimensions = opts.sendDimensions ?? false;
    this.batchSize = opts.batchSize ?? 64;
    this.prefixes = { query: opts.queryPrefix, document: opts.documentPrefix };
    this.retries = Math.max(0, opts.retries ?? 4);
    this.backoffMs = opts.backoffMs ?? 500;
    this.maxBackoffMs = opts.maxBackoffMs ?? 30_000;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.sleep = opts.sleep ?? ((ms) => delay(ms));
    this.onRetry = opts.onRetry;
    this.id = `http:${this.model}${this.sendDimensions ? `@${opts.dims}` : ''}`;

    this.headers = { 'content-type': 'application/json', accept: 'application/json', 'user-agent': 'paperboy' };
    if (this.apiKey) {
      this.headers['authorization'] = `Bearer ${this.apiKey}`;
    } else if (this.endpoint.username) {
      // fetch refuses URLs with credentials: send them as Basic auth instead.
      const user = decodeURIComponent(this.endpoint.username);
      const pass = decodeURIComponent(this.endpoint.password);
      this.headers['authorization'] = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    }
    this.endpoint.username = '';
    this.endpoint.password = '';
  }

  get dims(): number | undefined {
    return this.knownDims;
  }

  async embed(texts: string[], kind: EmbedKind): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (const batch of batches(withPrefix(texts, kind, this.prefixes), this.batchSize)) {
      out.push(...(await this.embedBatch(batch)));
    }
    return out;
  }

  private async embedBatch(input: string[]): Promise<Float32Array[]> {
    const body: Record<string, unknown> = { model: this.model, input };
    if (this.sendDimensions) body['dimensions'] = this.expectedDims;
    const payload = JSON.stringify(body);
    for (let attempt = 1; ; attempt++) {
      const result = await this.attempt(payload);
      if (result.ok) return this.parse(result.json, input.length);
      if (!result.retryable || attempt > this.retries) {
        const tries = attempt > 1 ? ` after ${attempt} attempts` : '';
        throw new EmbedError('http', this.scrub(`http embedder: ${this.where} failed${tries}: ${result.reason}`), {
          ...(result.status === undefined ? {} : { status: result.status }),
          transient: result.retryable,
          cause: result.cause,
        });
      }
      const delayMs = result.retryAfterMs ?? this.backoff(attempt);
      this.onRetry?.({ attempt, delayMs, reason: this.scrub(result.reason) });
      await this.sleep(delayMs);
    }
  }

  private async attempt(payload: string): Promise<Attempt> {
    let status: number | undefined;
    try {
      const res = await fetch(this.endpoint, {
        method: 'POST',
        headers: this.headers,
        body: payload,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.status;
      const text = await res.text();
      if (status < 200 || status > 299) {
        const retryable = status >= 500 || status === 429 || status === 408;
        const retryAfterMs = retryable ? this.retryAfter(res.headers.get('retry-after')) : undefined;
        const detail = serverMessage(text);
        return { ok: false, retryable, status, retryAfterMs, reason: `HTTP ${status}${detail ? `: ${detail}` : ''}` };
      }
      try {
        return { ok: true, json: JSON.parse(text) as unknown };
      } catch {
        const snippet = text.slice(0, 80).replace(/\s+/g, ' ');
        return { ok: false, retryable: false, status, retryAfterMs: undefined, reason: `the answer is not JSON (starts ${JSON.stringify(snippet)})` };
      }
    } catch (err) {
      return { ok: false, retryable: true, status, retryAfterMs: undefined, reason: this.describe(err), cause: err };
    }
  }

  private parse(json: unknown, count: number): Float32Array[] {
    const fail = (why: string): never => {
      throw new EmbedError('http', this.scrub(`http embedder: ${this.where} ${why}`));
    };
    const data = json && typeof json === 'object' ? (json as { data?: unknown }).data : undefined;
    if (!Array.isArray(data)) fail('answered without a "data" array (is this an OpenAI-compatible /v1/embeddings endpoint?)');
    const items = data as unknown[];
    if (items.length !== count) fail(`returned ${items.length} embeddings for ${count} inputs`);
    const ordered = new Array<Float32Array | undefined>(count);
    items.forEach((item, pos) => {
      const entry = (item && typeof item === 'object' ? item : {}) as { index?: unknown; embedding?: unknown };
      const index = entry.index === undefined || entry.index === null ? pos : entry.index;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count) {
        fail(`returned data[${pos}].index ${JSON.stringify(index)}, outside 0..${count - 1}`);
      }
      const i = index as number;
      if (ordered[i] !== undefined) fail(`returned index ${i} twice`);
      const values = embeddingValues(entry.embedding);
      if (values === undefined) fail(`returned data[${pos}].embedding that is not an array of numbers`);
      const v = values as ArrayLike<number>;
      this.checkDims(v.length);
      ordered[i] = toUnitVector(v, (why) => fail(`returned an unusable embedding for input ${i}: ${why}`));
    });
    return ordered as Float32Array[];
  }

  private checkDims(n: number): void {
    if (this.expectedDims !== undefined && n !== this.expectedDims) {
      throw new EmbedError('http', `http embedder: ${this.where} returned ${n} dimensions, expected ${this.expectedDims}`);
    }
    if (this.knownDims !== undefined && n !== this.knownDims) {
      throw new EmbedError('http', `http embedder: ${this.where} returned ${n} dimensions, earlier embeddings had ${this.knownDims}`);
    }
    if (n === 0) throw new EmbedError('http', `http embedder: ${this.where} returned an empty embedding`);
    this.knownDims = n;
  }

  private backoff(attempt: number): number {
    const base = this.backoffMs * 2 ** (attempt - 1);
    return Math.round(Math.min(base * (1 + Math.random() * 0.25), this.maxBackoffMs));
  }

  /** Retry-After as delta-seconds or an HTTP date, capped at maxBackoffMs. */
  private retryAfter(value: string | null): number | undefined {
    if (value === null || value.trim() === '') return undefined;
    const seconds = Number(value);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
    if (Number.isNaN(ms)) return undefined;
    return Math.min(Math.max(0, Math.round(ms)), this.maxBackoffMs);
  }

  private describe(err: unknown): string {
    if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `no answer within ${this.timeoutMs} ms`;
    if (err instanceof Error) {
      const cause = err.cause as { code?: unknown; message?: unknown } | undefined;
      const detail = [cause?.code, cause?.message].filter((x) => typeof x === 'string' && x !== '').join(': ');
      return `network error: ${detail || err.message}`;
    }
    return `network error: ${String(err)}`;
  }

  /** Removes the API key from text that may have echoed it. */
  private scrub(text: string): string {
    return this.apiKey && this.apiKey.length >= 4 ? text.split(this.apiKey).join('***') : text;
  }
}

/** An embedding as numbers: a JSON array, or base64 float32 (`encoding_format: 'base64'`). */
function embeddingValues(e: unknown): ArrayLike<number> | undefined {
  if (Array.isArray(e)) return e.every((x) => typeof x === 'number') ? (e as number[]) : undefined;
  if (typeof e === 'string' && e.length > 0 && /^[A-Za-z0-9+/]+=*$/.test(e)) {
    const bytes = Buffer.from(e, 'base64');
    if (bytes.byteLength % 4 !== 0) return undefined;
    const out = new Float32Array(bytes.byteLength / 4);
    for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(4 * i);
    return out;
  }
  return undefined;
}

/** The error message from an error answer: OpenAI `{error: {message}}`, `{error: '…'}`, TEI `{error, error_type}`, FastAPI `{detail}`, or text. */
function serverMessage(text: string): string {
  let message: unknown = text;
  try {
    const j = JSON.parse(text) as { error?: unknown; detail?: unknown; message?: unknown };
    const err = j.error;
    message =
      err && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string'
        ? (err as { message: string }).message
        : typeof err === 'string'
          ? err
          : typeof j.detail === 'string'
            ? j.detail
            : typeof j.message === 'string'
              ? j.message
              : j.detail !== undefined
                ? JSON.stringify(j.detail)
                : text;
  } catch {
    // not JSON: use the text
  }
  const s = String(message).replace(/\s+/g, ' ').trim();
  return s.length > MAX_ERROR_TEXT ? `${s.slice(0, MAX_ERROR_TEXT)}…` : s;
}

export function createHttpEmbedder(opts: HttpEmbedderOptions): HttpEmbedder {
  return new HttpEmbedder(opts);
}
