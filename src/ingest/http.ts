/**
 * A polite HTTP GET client for the ingest sources.
 *
 * - One request at a time per host, and each request start waits until
 *   `minIntervalMs` after the previous start on that host (arXiv asks for 3 s).
 *   A request holds its host through its retries, so backing off from a 503
 *   also holds back the other requests queued for that host.
 * - Retries network errors, timeouts, 5xx and 429 with exponential backoff and
 *   jitter; `Retry-After` on 503/429 replaces the computed delay.
 * - Other statuses (e.g. the arXiv API's HTTP 400 error feed) go back to the caller.
 * - With `allowedHosts`, only those hosts are ever contacted: a URL or a redirect (followed by hand,
 *   at most 5) to any other host is refused with an HttpError, so an upstream cannot point the
 *   fetcher at an internal address (SSRF).
 */
import { setTimeout as delay } from 'node:timers/promises';

export interface HttpOptions {
  /** Minimum time between the starts of two requests to the same host (arXiv asks for 3000 ms). */
  minIntervalMs?: number;
  /** Attempts after the first. */
  retries?: number;
  /** Base for exponential backoff: base * 2^(attempt-1), plus up to 25 % jitter, capped at maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Per attempt, covering the headers and the body. */
  timeoutMs?: number;
  /** Bodies larger than this are refused (HttpError, no retry). */
  maxBytes?: number;
  userAgent?: string;
  /**
   * The only hosts (`URL.host`: name plus any non-default port, lower case) requests and redirects may
   * go to. Undefined: any http(s) host, redirects followed by fetch.
   */
  allowedHosts?: readonly string[] | undefined;
  /** Called before each backoff sleep; `attempt` is the 1-based attempt that just failed; `url` is redacted. */
  onRetry?: (info: { url: string; attempt: number; delayMs: number; reason: string }) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface HttpResponse {
  url: string;
  status: number;
  headers: Headers;
  body: Buffer;
}

export class HttpError extends Error {
  /** Redacted with redactUrl, since errors end up in logs. */
  readonly url: string;
  /** The last HTTP status seen, or undefined when the last attempt failed without a response. */
  readonly status: number | undefined;
  readonly attempts: number;

  constructor(message: string, info: { url: string; status: number | undefined; attempts: number; cause?: unknown }) {
    super(message, info.cause === undefined ? undefined : { cause: info.cause });
    this.name = 'HttpError';
    this.url = info.url;
    this.status = info.status;
    this.attempts = info.attempts;
  }
}

const SECRET_PARAMS = new Set(['key', 'token', 'api_key']);

/** Drops a userinfo password and masks key/token/api_key query values, for logging. */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  if (u.password) u.password = '';
  if (u.search) {
    // Rewrite only the secret parameters so the rest keeps its original encoding.
    const parts = u.search.slice(1).split('&').map((part) => {
      const eq = part.indexOf('=');
      const name = eq < 0 ? part : part.slice(0, eq);
      return eq >= 0 && SECRET_PARAMS.has(safeDecode(name).toLowerCase()) ? `${name}=REDACTED` : part;
    });
    u.search = `?${parts.join('&')}`;
  }
  return u.href;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

interface HostState {
  /** Settles when the last queued request on this host has finished. */
  tail: Promise<void>;
  lastStart: number | undefined;
}

type Attempt =
  | { ok: true; response: HttpResponse }
  | { ok: false; reason: string; status: number | undefined; retryAfterMs: number | undefined; cause?: unknown };

export class HttpClient {
  private readonly minIntervalMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly userAgent: string;
  private readonly allowedHosts: ReadonlySet<string> | undefined;
  private readonly onRetry: HttpOptions['onRetry'];
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly hosts = new Map<string, HostState>();

  constructor(opts: HttpOptions = {}) {
    this.minIntervalMs = opts.minIntervalMs ?? 0;
    this.retries = opts.retries ?? 4;
    this.backoffMs = opts.backoffMs ?? 1000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 60_000;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.maxBytes = opts.maxBytes ?? 200 * 1024 * 1024;
    this.userAgent = opts.userAgent ?? 'paperboy/0.1 (+https://github.com/paperboy)';
    this.allowedHosts = opts.allowedHosts ? new Set(opts.allowedHosts.map((h) => h.toLowerCase())) : undefined;
    this.onRetry = opts.onRetry;
    this.sleep = opts.sleep ?? ((ms) => delay(ms));
    this.now = opts.now ?? Date.now;
  }

  async get(url: string, init: { headers?: Record<string, string> } = {}): Promise<HttpResponse> {
    const safeUrl = redactUrl(url);
    let host: string;
    try {
      const u = new URL(url);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`unsupported protocol ${u.protocol}`);
      host = u.host;
    } catch (err) {
      throw new HttpError(`http: GET ${safeUrl}: invalid URL`, { url: safeUrl, status: undefined, attempts: 0, cause: err });
    }
    this.checkHost(new URL(url), safeUrl, 0);
    const headers = { 'user-agent': this.userAgent, ...init.headers };

    return this.withHost(host, async (state) => {
      for (let attempt = 1; ; attempt++) {
        await this.waitForTurn(state);
        const result = await this.attempt(url, safeUrl, headers, attempt);
        if (result.ok) return result.response;
        if (attempt > this.retries) {
          throw new HttpError(`http: GET ${safeUrl} failed after ${attempt} attempts: ${result.reason}`, {
            url: safeUrl,
            status: result.status,
            attempts: attempt,
            cause: result.cause,
          });
        }
        const delayMs = result.retryAfterMs ?? this.backoff(attempt);
        this.onRetry?.({ url: safeUrl, attempt, delayMs, reason: result.reason });
        await this.sleep(delayMs);
      }
    });
  }

  /** Runs fn once every earlier request to this host has finished. */
  private async withHost<T>(host: string, fn: (state: HostState) => Promise<T>): Promise<T> {
    let state = this.hosts.get(host);
    if (!state) {
      state = { tail: Promise.resolve(), lastStart: undefined };
      this.hosts.set(host, state);
    }
    const previous = state.tail;
    let release = (): void => {};
    const done = new Promise<void>((resolve) => (release = resolve));
    state.tail = previous.then(() => done);
    await previous;
    try {
      return await fn(state);
    } finally {
      release();
    }
  }

  private async waitForTurn(state: HostState): Promise<void> {
    if (state.lastStart !== undefined) {
      const wait = state.lastStart + this.minIntervalMs - this.now();
      if (wait > 0) await this.sleep(wait);
    }
    state.lastStart = this.now();
  }

  private backoff(attempt: number): number {
    const base = this.backoffMs * 2 ** (attempt - 1);
    return Math.round(Math.min(base * (1 + Math.random() * 0.25), this.maxBackoffMs));
  }

  /** Refuses a URL whose host is not allowed (no retry: the answer would not change). */
  private checkHost(u: URL, safeUrl: string, attempts: number): void {
    if (!this.allowedHosts) return;
    const ok = (u.protocol === 'http:' || u.protocol === 'https:') && this.allowedHosts.has(u.host.toLowerCase());
    if (!ok) {
      const what = redactUrl(u.href);
      throw new HttpError(`http: GET ${safeUrl}: ${what === safeUrl ? 'host' : `redirect to ${what}`} is not an allowed ingest host (${[...this.allowedHosts].join(', ')})`, {
        url: safeUrl,
        status: undefined,
        attempts,
      });
    }
  }

  /** fetch, following redirects by hand when the hosts are restricted. */
  private async fetchChecked(url: string, safeUrl: string, headers: Record<string, string>, attempt: number): Promise<Response> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    if (!this.allowedHosts) return fetch(url, { headers, signal });
    let current = url;
    for (let hop = 0; ; hop++) {
      const res = await fetch(current, { headers, signal, redirect: 'manual' });
      const location = res.headers.get('location');
      if (res.status < 300 || res.status > 399 || location === null) return res;
      await res.body?.cancel().catch(() => {});
      if (hop >= 5) throw new HttpError(`http: GET ${safeUrl}: more than 5 redirects`, { url: safeUrl, status: res.status, attempts: attempt });
      let next: URL;
      try {
        next = new URL(location, current);
      } catch (err) {
        throw new HttpError(`http: GET ${safeUrl}: invalid redirect`, { url: safeUrl, status: res.status, attempts: attempt, cause: err });
      }
      this.checkHost(next, safeUrl, attempt);
      current = next.href;
    }
  }

  private async attempt(url: string, safeUrl: string, headers: Record<string, string>, attempt: number): Promise<Attempt> {
    try {
      const res = await this.fetchChecked(url, safeUrl, headers, attempt);
      const status = res.status;
      if (status >= 500 || status === 429) {
        await res.body?.cancel().catch(() => {});
        const retryAfterMs = status === 503 || status === 429 ? this.retryAfter(res.headers.get('retry-after')) : undefined;
        return { ok: false, reason: `HTTP ${status}`, status, retryAfterMs };
      }
      const body = await this.readBody(res, safeUrl, attempt);
      return { ok: true, response: { url: res.url || url, status, headers: res.headers, body } };
    } catch (err) {
      if (err instanceof HttpError) throw err;
      return { ok: false, reason: this.describe(err), status: undefined, retryAfterMs: undefined, cause: err };
    }
  }

  private async readBody(res: Response, safeUrl: string, attempt: number): Promise<Buffer> {
    const tooLarge = (size: string): HttpError =>
      new HttpError(`http: GET ${safeUrl}: body of ${size} exceeds maxBytes ${this.maxBytes}`, {
        url: safeUrl,
        status: res.status,
        attempts: attempt,
      });
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > this.maxBytes) {
      await res.body?.cancel().catch(() => {});
      throw tooLarge(`${declared} bytes`);
    }
    if (!res.body) return Buffer.alloc(0);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += chunk.byteLength;
      // Leaving the loop early cancels the stream.
      if (size > this.maxBytes) throw tooLarge(`more than ${this.maxBytes} bytes`);
      chunks.push(Buffer.from(chunk));
    }
    return Buffer.concat(chunks, size);
  }

  /** Retry-After as delta-seconds or an HTTP date, capped at maxBackoffMs; undefined when absent or unparseable. */
  private retryAfter(value: string | null): number | undefined {
    if (value === null || value.trim() === '') return undefined;
    const seconds = Number(value);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - this.now();
    if (Number.isNaN(ms)) return undefined;
    return Math.min(Math.max(0, Math.round(ms)), this.maxBackoffMs);
  }

  private describe(err: unknown): string {
    if (err instanceof Error && err.name === 'TimeoutError') return `timeout after ${this.timeoutMs} ms`;
    if (err instanceof Error) {
      const cause = err.cause as { code?: unknown; message?: unknown } | undefined;
      const detail = [cause?.code, cause?.message].filter((x) => typeof x === 'string' && x !== '').join(': ');
      return `network error: ${detail || err.message}`;
    }
    return `network error: ${String(err)}`;
  }
}
