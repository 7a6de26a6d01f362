/**
 * A tiny local HTTP server for tests: answers each request through a handler,
 * records every request, and can drop or hang connections to exercise retries.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Route {
  status?: number;
  body: string | Buffer;
  headers?: Record<string, string>;
}

export interface ReplayServer {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:41234 */
  url: string;
  /** `url` is the raw request target (path + query); `at` is Date.now() on arrival. */
  requests: { method: string; url: string; at: number }[];
  close(): Promise<void>;
}

export type ReplayHandler = (req: { method: string; url: URL; count: number }) => Route | Promise<Route> | 'drop' | 'hang';

export async function startReplayServer(handler: ReplayHandler): Promise<ReplayServer> {
  const requests: ReplayServer['requests'] = [];
  const counts = new Map<string, number>();

  const server = createServer((req, res) => {
    const target = req.url ?? '/';
    const method = req.method ?? 'GET';
    requests.push({ method, url: target, at: Date.now() });
    const url = new URL(target, 'http://127.0.0.1');
    const key = url.pathname + url.search;
    const count = (counts.get(key) ?? 0) + 1;
    counts.set(key, count);

    Promise.resolve()
      .then(() => handler({ method, url, count }))
      .then(
        (route) => {
          if (route === 'hang') return;
          if (route === 'drop') {
            req.socket.destroy();
            return;
          }
          res.statusCode = route.status ?? 200;
          for (const [name, value] of Object.entries(route.headers ?? {})) res.setHeader(name, value);
          res.end(route.body);
        },
        (err: unknown) => {
          res.statusCode = 500;
          res.end(`replay handler failed: ${String(err)}`);
        },
      );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Also ends keep-alive and hanging connections, so close() settles promptly.
        server.closeAllConnections();
      }),
  };
}

/**
 * Loads the recorded arXiv API responses (`{url, status_code, body}` JSON files)
 * keyed by the recorded URL's path + query with the host stripped, e.g.
 * `/api/query?search_query=testing&id_list=&sortBy=relevance&sortOrder=descending&start=0&max_results=10`.
 *
 * `dataDir` is the shared data root (reads `<dataDir>/arxiv-api/recorded/*.json`),
 * or the recorded directory itself.
 */
export function recordedArxivApi(dataDir: string): Map<string, { status: number; body: string }> {
  const nested = join(dataDir, 'arxiv-api', 'recorded');
  const dir = existsSync(nested) ? nested : dataDir;
  const out = new Map<string, { status: number; body: string }>();
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    const rec = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { url?: unknown; status_code?: unknown; body?: unknown };
    if (typeof rec.url !== 'string' || typeof rec.status_code !== 'number' || typeof rec.body !== 'string') {
      throw new Error(`recordedArxivApi: ${name} is not {url, status_code, body}`);
    }
    const u = new URL(rec.url);
    out.set(u.pathname + u.search, { status: rec.status_code, body: rec.body });
  }
  return out;
}
