/**
 * Child of bench/web.ts: paperboy's real web server over the prepared database.
 *
 *   node --import tsx bench/web-server.ts --db FILE --data DIR --spec FILE [--rate-limit N]
 *
 * Builds the app exactly as `paperboy serve` does (createApp + buildServer), without the scheduler
 * or an embedder (keyword search, more-like-this similar papers). Before listening it times pages
 * rendered in-process through server.inject (no sockets): the routes in the spec file, each after
 * its warm-up, as a returning visitor (with the cookie the first page set). Then it listens on
 * 127.0.0.1, port 0, and prints one JSON line: the port, the visitor cookie and those timings.
 * It exits when its stdin closes or on SIGTERM.
 */
import { performance } from 'node:perf_hooks';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config/config.ts';
import { buildServer } from '../src/web/server.ts';
import { exitWithParent } from './web-load.ts';
import { childArgs, need, round } from './search-lib.ts';
import { readFileSync } from 'node:fs';

export interface RenderSpec {
  name: string;
  paths: string[];
  /** Timed calls (cycling through paths). */
  n: number;
  /** Untimed calls first, through warmupPaths (default: paths). */
  warmup: number;
  warmupPaths?: string[];
  /** Send the visitor cookie (a returning visitor) or not (a first visit: a cookie is minted). */
  cookie: boolean;
}

export interface RenderResult {
  name: string;
  ms: number[];
  statuses: Record<string, number>;
  bytes: number;
}

export interface ServerHello {
  port: number;
  cookie: string;
  /** Milliseconds to create the app (open, migrate) and build the server. */
  startMs: number;
  /** The very first home page, cold. */
  firstHomeMs: number;
  render: RenderResult[];
}

async function main(): Promise<void> {
  const args = childArgs(process.argv.slice(2));
  const t0 = performance.now();
  const config = loadConfig({
    PAPERBOY_DATA_DIR: need(args, 'data'),
    DATABASE_URL: `sqlite:${need(args, 'db')}`,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    PAPERBOY_EMBEDDER: 'none',
    PAPERBOY_SCHEDULER: 'false',
    PAPERBOY_DEMO: 'false',
    PAPERBOY_RATE_LIMIT: args.get('rate-limit') ?? '0',
  });
  const app = await createApp(config);
  const server = await buildServer(app);
  await server.ready();
  const startMs = performance.now() - t0;

  const t1 = performance.now();
  const first = await server.inject({ method: 'GET', url: '/', headers: { accept: 'text/html' } });
  const firstHomeMs = performance.now() - t1;
  if (first.statusCode !== 200) throw new Error(`bench: GET / answered ${first.statusCode}: ${first.body.slice(0, 300)}`);
  const setCookie = first.headers['set-cookie'];
  const cookie = (Array.isArray(setCookie) ? setCookie[0] : setCookie)?.split(';')[0] ?? '';
  if (!cookie) throw new Error('bench: the home page set no visitor cookie');

  const specs = JSON.parse(readFileSync(need(args, 'spec'), 'utf8')) as RenderSpec[];
  const render: RenderResult[] = [];
  for (const s of specs) {
    const headers: Record<string, string> = { accept: 'text/html,application/json', ...(s.cookie ? { cookie } : {}) };
    const warm = s.warmupPaths ?? s.paths;
    for (let i = 0; i < s.warmup; i++) await server.inject({ method: 'GET', url: warm[i % warm.length]!, headers });
    const ms: number[] = [];
    const statuses: Record<string, number> = {};
    let bytes = 0;
    for (let i = 0; i < s.n; i++) {
      const t = performance.now();
      const res = await server.inject({ method: 'GET', url: s.paths[i % s.paths.length]!, headers });
      ms.push(round(performance.now() - t, 3));
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
      bytes += res.rawPayload.byteLength;
    }
    render.push({ name: s.name, ms, statuses, bytes: Math.round(bytes / Math.max(1, s.n)) });
  }

  await server.listen({ host: '127.0.0.1', port: 0 });
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('bench: the server has no TCP address');
  exitWithParent(async () => {
    await server.close();
    await app.close();
  });
  const hello: ServerHello = { port: address.port, cookie, startMs: round(startMs, 1), firstHomeMs: round(firstHomeMs, 1), render };
  process.stdout.write(JSON.stringify(hello) + '\n');
}

await main();
