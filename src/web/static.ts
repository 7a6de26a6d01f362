import { createHash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
  '.webmanifest': 'application/manifest+json',
};

/** Only plain file names (and one level of sub-folder) with a known type are ever served. */
const NAME_RE = /^(?:[A-Za-z0-9_-]+\/)?[A-Za-z0-9_.-]+$/;

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
  /** The body decoded, kept once asked for (an inlined stylesheet goes into every page). */
  text?: string;
}

export interface StaticMount {
  /** URL prefix, e.g. `/static/` */
  prefix: string;
  dir: string;
}

/**
 * Static files from a few directories, read once into memory on first request. A URL with
 * `?v=<hash>` (see `assetUrl`) is cached for a year; without it, an ETag revalidates.
 */
export class StaticFiles {
  private readonly cache = new Map<string, Asset | null>();
  constructor(private readonly mounts: readonly StaticMount[]) {}

  private load(mount: StaticMount, name: string): Asset | null {
    const key = `${mount.prefix}${name}`;
    if (this.cache.has(key)) return this.cache.get(key) ?? null;
    let asset: Asset | null = null;
    const type = TYPES[path.extname(name)];
    const file = path.join(mount.dir, name);
    if (type && NAME_RE.test(name) && !name.includes('..') && file.startsWith(mount.dir + path.sep) && existsSync(file)) {
      const body = readFileSync(file);
      asset = { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` };
    }
    // Only files that exist are cached: remembering every missing name a client asks for would let
    // anyone grow this map without bound (/static/ is outside the rate limit).
    if (asset) this.cache.set(key, asset);
    return asset;
  }

  /** A text file's content (to inline a small stylesheet), or '' when absent. */
  text(prefix: string, name: string): string {
    const mount = this.mounts.find((m) => m.prefix === prefix);
    const asset = mount && this.load(mount, name);
    if (!asset) return '';
    asset.text ??= asset.body.toString('utf8');
    return asset.text;
  }

  /** The URL of a file under a mount, versioned by its content hash. */
  url(prefix: string, name: string): string {
    const mount = this.mounts.find((m) => m.prefix === prefix);
    const asset = mount && this.load(mount, name);
    return `${prefix}${name}${asset ? `?v=${asset.etag.slice(1, 11)}` : ''}`;
  }

  register(server: FastifyInstance): void {
    for (const mount of this.mounts) {
      server.get(`${mount.prefix}*`, async (req, reply) => {
        const name = (req.params as { '*': string })['*'];
        const asset = this.load(mount, name);
        if (!asset) {
          reply.code(404).type('text/plain; charset=utf-8');
          return 'Not found';
        }
        const versioned = typeof (req.query as { v?: unknown }).v === 'string';
        reply.header('cache-control', versioned ? 'public, max-age=31536000, immutable' : 'public, max-age=300');
        reply.header('etag', asset.etag);
        if (req.headers['if-none-match'] === asset.etag) {
          reply.code(304);
          return '';
        }
        reply.type(asset.type);
        return asset.body;
      });
    }
  }
}
