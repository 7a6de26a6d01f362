/**
 * A real, local OpenAI-compatible embeddings server for tests (node:http on 127.0.0.1).
 *
 * `POST /v1/embeddings` with `{model, input: string | string[]}` answers
 * `{object: 'list', data: [{object: 'embedding', index, embedding}], model, usage}`
 * where each embedding is a deterministic hashed bag of words (`hashEmbedding`),
 * L2-normalised, so related texts get related vectors.
 *
 * Faults are queued with `fail(...)` and consumed one per embeddings request, in order;
 * requests beyond the queue are answered normally. Every request is recorded.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  /** An HTTP error status with a JSON error body (and optional headers, e.g. Retry-After). */
  | { status: number; headers?: Record<string, string>; body?: string }
  /** Vectors of this many dimensions instead of the configured ones. */
  | { dims: number }
  /** Only the first vector gets this many dimensions (inconsistent dimensions in one answer). */
  | { firstDims: number }
  /** A 200 whose body is not JSON. */
  | 'bad-json'
  /** A 200 whose JSON lacks `data`. */
  | 'no-data'
  /** One embedding fewer than inputs. */
  | 'missing-one'
  /** The data entries in reverse order (with correct `index` fields). */
  | 'reversed'
  /** The data entries in reverse order without `index` fields (so order cannot be recovered). */
  | 'reversed-no-index'
  /** A non-number inside an embedding. */
  | 'non-numeric'
  /** Embeddings as base64 float32, as with `encoding_format: 'base64'`. */
  | 'base64'
  /** Never answers. */
  | 'hang'
  /** Closes the connection without answering. */
  | 'drop';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
  /** `input` normalised to an array (empty when absent). */
  input: string[];
  model: string | undefined;
  /** What the server did: 'ok' or the fault applied. */
  outcome: string;
}

export interface OpenAIServer {
  /** Base URL without a trailing slash and without `/v1`, e.g. http://127.0.0.1:41234 */
  url: string;
  dims: number;
  requests: RecordedRequest[];
  /** Queues faults, consumed one per embeddings request. */
  fail(...faults: Fault[]): void;
  close(): Promise<void>;
}

export interface OpenAIServerOptions {
  /** Dimensions of the embeddings (default 32). */
  dims?: number;
  /** When set, requests must carry `Authorization: Bearer <apiKey>`; others get a 401 that echoes the key sent. */
  apiKey?: string;
  /** Only these model names are served (404 otherwise, as OpenAI does); default: any. */
  models?: string[];
}

/** Deterministic embedding: each lower-cased word adds ±1 to a hashed dimension; L2-normalised. */
export function hashEmbedding(text: string, dims: number): number[] {
  const v = new Array<number>(dims).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    const h = createHash('sha256').update(word).digest();
    const i = h.readUInt32LE(0) % dims;
    v[i] = (v[i] as number) + ((h[4] as number) & 1 ? 1 : -1);
  }
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  if (norm === 0) {
    v[0] = 1; // an empty or wordless text still gets a unit vector
    return v;
  }
  return v.map((x) => x / norm);
}

function json(res: import('node:http').ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.end(JSON.stringify(body));
}

function errorBody(message: string, type = 'invalid_request_error'): unknown {
  return { error: { message, type, param: null, code: null } };
}

export async function startOpenAIServer(opts: OpenAIServerOptions = {}): Promise<OpenAIServer> {
  const dims = opts.dims ?? 32;
  const faults: Fault[] = [];
  const requests: RecordedRequest[] = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // keep the raw text
      }
      const b = (body && typeof body === 'object' ? body : {}) as { model?: unknown; input?: unknown };
      const input = typeof b.input === 'string' ? [b.input] : Array.isArray(b.input) ? b.input.map(String) : [];
      const model = typeof b.model === 'string' ? b.model : undefined;
      const rec: RecordedRequest = { method: req.method ?? 'GET', path, headers: req.headers, body, input, model, outcome: 'ok' };
      requests.push(rec);

      if (path !== '/v1/embeddings' || req.method !== 'POST') {
        rec.outcome = 'not-found';
        return json(res, 404, errorBody(`no route ${req.method} ${path}`));
      }
      if (opts.apiKey !== undefined && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
        rec.outcome = 'unauthorized';
        // Like some real servers, echo what was sent: the client must not leak it further.
        const sent = (req.headers.authorization ?? '').replace(/^Bearer /, '');
        return json(res, 401, errorBody(`Incorrect API key provided: ${sent}`, 'invalid_api_key'));
      }
      const fault = faults.shift();
      if (fault !== undefined) rec.outcome = typeof fault === 'string' ? fault : JSON.stringify(fault);
      if (fault === 'hang') return;
      if (fault === 'drop') {
        req.socket.destroy();
        return;
      }
      if (fault !== undefined && typeof fault === 'object' && 'status' in fault) {
        res.statusCode = fault.status;
        res.setHeader('content-type', 'application/json');
        for (const [k, v] of Object.entries(fault.headers ?? {})) res.setHeader(k, v);
        res.end(fault.body ?? JSON.stringify(errorBody(`injected HTTP ${fault.status}`, 'server_error')));
        return;
      }
      if (fault === 'bad-json') {
        res.setHeader('content-type', 'application/json');
        res.end('{"object": "list", "data": [ <html>oops');
        return;
      }
      if (model === undefined || typeof b.input === 'undefined') {
        return json(res, 400, errorBody("'model' and 'input' are required"));
      }
      if (opts.models && !opts.models.includes(model)) {
        return json(res, 404, errorBody(`The model '${model}' does not exist`, 'model_not_found'));
      }
      if (fault === 'no-data') return json(res, 200, { object: 'list', model });

      let data: { object: string; index?: number; embedding: unknown }[] = input.map((t, index) => {
        const d = fault !== undefined && typeof fault === 'object' && 'dims' in fault ? fault.dims : index === 0 && fault !== undefined && typeof fault === 'object' && 'firstDims' in fault ? fault.firstDims : dims;
        return { object: 'embedding', index, embedding: hashEmbedding(t, d) };
      });
      if (fault === 'missing-one') data = data.slice(0, -1);
      if (fault === 'reversed') data.reverse();
      if (fault === 'reversed-no-index') data = data.reverse().map(({ object, embedding }) => ({ object, embedding }));
      if (fault === 'non-numeric' && data[0]) data[0].embedding = ['0.1', ...(data[0].embedding as number[]).slice(1)];
      if (fault === 'base64') {
        for (const d of data) d.embedding = Buffer.from(Float32Array.from(d.embedding as number[]).buffer).toString('base64');
      }
      const tokens = input.reduce((n, t) => n + t.split(/\s+/).filter(Boolean).length, 0);
      json(res, 200, { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    dims,
    requests,
    fail: (...f) => faults.push(...f),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
