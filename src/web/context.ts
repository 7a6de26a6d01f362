import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../app.ts';
import { topCategories } from '../store/papers.ts';
import { voteTotals, votedBy } from '../store/trending.ts';
import type { Sessions } from './session.ts';
import type { StaticFiles } from './static.ts';
import type { PageContext } from './views/layout.ts';
import type { Votes } from './views/pages.ts';

/** Stands for the visitor's CSRF token in a page rendered once for everybody. */
export const CSRF_SLOT = 'pb-csrf-slot-0d1e';

/**
 * Short-lived caches of what many visitors ask for alike: whole pages rendered for "anyone who has
 * not voted on them" (the CSRF token filled in per visitor), and search answers. Votes here clear
 * the pages; everything else expires within seconds.
 */
export class Caches {
  private readonly pages = new Map<string, { at: number; parts: Buffer[]; ids: number[] }>();
  private readonly answers = new Map<string, { at: number; value: Promise<unknown> }>();
  constructor(
    private readonly pageTtlMs = 5_000,
    private readonly answerTtlMs = 30_000,
    private readonly max = 2000,
  ) {}

  page(key: string, now = Date.now()): { parts: Buffer[]; ids: number[] } | undefined {
    const e = this.pages.get(key);
    return e && now - e.at < this.pageTtlMs ? e : undefined;
  }

  /** Least recently used first: a Map keeps insertion order, and a hit re-inserts its entry. */
  private static evict<V>(m: Map<string, V>, max: number): void {
    while (m.size >= max) {
      const oldest = m.keys().next().value;
      if (oldest === undefined) return;
      m.delete(oldest);
    }
  }

  /** Keeps a page as UTF-8 bytes cut at each CSRF slot, so serving it is a copy, not an encode. */
  setPage(key: string, html: string, ids: number[], now = Date.now()): { parts: Buffer[]; ids: number[] } {
    Caches.evict(this.pages, this.max);
    const e = { at: now, parts: html.split(CSRF_SLOT).map((x) => Buffer.from(x, 'utf8')), ids };
    this.pages.set(key, e);
    return e;
  }

  /** The answer for a key, computed at most once per TTL (concurrent callers share it). */
  answer<T>(key: string, compute: () => Promise<T>, now = Date.now()): Promise<T> {
    const e = this.answers.get(key);
    if (e && now - e.at < this.answerTtlMs) {
      this.answers.delete(key);
      this.answers.set(key, e);
      return e.value as Promise<T>;
    }
    this.answers.delete(key);
    Caches.evict(this.answers, this.max);
    const value = compute();
    this.answers.set(key, { at: now, value });
    value.catch(() => this.answers.delete(key));
    return value;
  }

  /** After a vote: pages show counts. */
  clearPages(): void {
    this.pages.clear();
  }
}

/** A cached page's bytes with the visitor's CSRF token in each slot. */
export function fillPage(parts: readonly Buffer[], csrf: string): Buffer {
  const token = Buffer.from(csrf, 'utf8');
  const out: Buffer[] = [];
  parts.forEach((p, i) => {
    if (i) out.push(token);
    out.push(p);
  });
  return Buffer.concat(out);
}

/** What every route needs: the app, visitor sessions, static asset URLs and a few small caches. */
export class Web {
  private categories: { at: number; list: string[] } | undefined;
  readonly caches = new Caches();

  constructor(
    readonly app: App,
    readonly sessions: Sessions,
    readonly statics: StaticFiles,
  ) {}

  /** The page context of an HTML request; mints the visitor cookie so forms carry a CSRF token. */
  page(req: FastifyRequest, reply: FastifyReply, query?: string): PageContext & { visitor: string } {
    const visitor = this.sessions.ensureVisitor(req, reply);
    const path = req.url.split('?')[0] ?? '/';
    return {
      path,
      csrf: this.sessions.csrfToken(visitor),
      query,
      visitor,
      siteName: 'paperboy',
      assets: {
        css: this.statics.url('/static/', 'app.css'),
        inlineCss: this.statics.text('/static/', 'app.css'),
        js: this.statics.url('/static/', 'app.js'),
        katexCss: this.statics.url('/static/katex/', 'katex.min.css'),
      },
    };
  }

  /** Vote totals and this visitor's own votes for a set of papers. */
  async votes(visitor: string, ids: readonly number[]): Promise<Votes> {
    const [counts, mine] = await Promise.all([voteTotals(this.app.db, ids), votedBy(this.app.db, visitorKey(visitor), ids)]);
    return { counts, mine };
  }

  /** The most common categories (for the search filter), cached for ten minutes. */
  async categoryList(): Promise<string[]> {
    const now = Date.now();
    if (!this.categories || now - this.categories.at > 600_000) {
      this.categories = { at: now, list: await topCategories(this.app.db, 40) };
    }
    return this.categories.list;
  }

  absolute(path: string): string {
    return `${this.app.config.baseUrl}${path}`;
  }
}

/** How a visitor is stored as a voter (subscribers will be `s:<id>`). */
export function visitorKey(visitor: string): string {
  return `v:${visitor}`;
}
