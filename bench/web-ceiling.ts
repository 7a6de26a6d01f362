/**
 * Child of bench/web.ts: the ceiling. A bare Fastify server that answers each benchmarked route
 * with one real response of paperboy's, byte for byte, with its content type: no database, no
 * rendering, no hooks or plugins. What paperboy does per request is the difference.
 *
 *   node --import tsx bench/web-ceiling.ts --spec FILE
 *
 * The spec file lists { route, file, contentType }: a Fastify route pattern (`/paper/*`, so the
 * same varied paths hit it) and the file holding the body. Prints `{"port":N}` once listening on
 * 127.0.0.1; exits when its stdin closes or on SIGTERM.
 */
import Fastify from 'fastify';
import { readFileSync } from 'node:fs';
import { exitWithParent } from './web-load.ts';
import { childArgs, need } from './search-lib.ts';

export interface CeilingRoute {
  route: string;
  file: string;
  contentType: string;
}

async function main(): Promise<void> {
  const args = childArgs(process.argv.slice(2));
  const routes = JSON.parse(readFileSync(need(args, 'spec'), 'utf8')) as CeilingRoute[];
  const server = Fastify({ logger: false });
  for (const r of routes) {
    const body = readFileSync(r.file);
    server.get(r.route, (_req, reply) => {
      void reply.type(r.contentType).send(body);
    });
  }
  await server.listen({ host: '127.0.0.1', port: 0 });
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('bench: the ceiling server has no TCP address');
  exitWithParent(async () => {
    await server.close();
  });
  process.stdout.write(JSON.stringify({ port: address.port }) + '\n');
}

await main();
