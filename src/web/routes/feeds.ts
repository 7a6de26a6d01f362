import type { FastifyInstance, FastifyReply } from 'fastify';
import { isWindow, trendingPage, WINDOW_LABELS, type TrendingWindow } from '../../ranking/trending.ts';
import { search } from '../../search/hybrid.ts';
import { getPaper, type StoredPaper } from '../../store/papers.ts';
import type { Web } from '../context.ts';
import { atom, FEED_TYPES, jsonFeed, rss, type FeedItem, type FeedMeta } from '../feeds.ts';
import { paperHref } from '../views/components.ts';
import { apiError } from './api.ts';

const FORMATS = { rss, atom, json: jsonFeed } as const;
type Format = keyof typeof FORMATS;
const FEED_SIZE = 50;

function item(web: Web, p: Pick<StoredPaper, 'key' | 'title' | 'abstract' | 'authors' | 'categories' | 'submittedAt' | 'updatedAt'>): FeedItem {
  return {
    url: web.absolute(paperHref(p.key)),
    title: p.title,
    summary: p.abstract,
    authors: p.authors,
    categories: p.categories,
    published: p.submittedAt,
    updated: p.updatedAt ?? p.submittedAt,
  };
}

function send(reply: FastifyReply, format: Format, meta: FeedMeta, items: FeedItem[]): string {
  reply.type(FEED_TYPES[format]);
  reply.header('cache-control', 'public, max-age=300');
  return FORMATS[format](meta, items);
}

/** Feeds for every trending window and for any search ("follow this search" in a feed reader). */
export function registerFeeds(server: FastifyInstance, web: Web): void {
  const { app } = web;
  server.get('/feeds/:name', async (req, reply) => {
    const m = /^(trending|search)\.(rss|atom|json)$/.exec((req.params as { name: string }).name);
    if (!m) return apiError(reply, 404, 'not_found', 'Feeds: /feeds/trending.{rss,atom,json}?window=… and /feeds/search.{rss,atom,json}?q=…');
    const [, kind, format] = m as unknown as [string, 'trending' | 'search', Format];
    const q = req.query as { window?: string; q?: unknown };
    const now = app.now().toISOString();
    const self = web.absolute(req.url);
    if (kind === 'trending') {
      const window: TrendingWindow = isWindow(q.window) ? q.window : 'trending';
      const page = await trendingPage(app.db, window, { limit: FEED_SIZE, now: app.now(), weights: app.config.trending });
      const meta: FeedMeta = {
        title: `paperboy: ${WINDOW_LABELS[window]} papers`,
        description: `${WINDOW_LABELS[window]} research papers on paperboy, by votes, upvotes and GitHub stars.`,
        siteUrl: web.absolute(window === 'trending' ? '/' : `/?window=${window}`),
        feedUrl: self,
        updated: now,
      };
      return send(reply, format, meta, page.items.map((it) => item(web, it.paper)));
    }
    const query = typeof q.q === 'string' ? q.q.slice(0, 500) : '';
    if (!query.trim()) return apiError(reply, 400, 'missing_query', 'Give a search as ?q=…');
    const answer = await search(app.db, app.search.current(), query, { limit: FEED_SIZE, facets: false, snippets: false, weight: app.config.hybridWeight });
    // Feed readers show the newest first: the best matches, by date.
    const papers = (await Promise.all(answer.results.map((r) => getPaper(app.db, r.id)))).filter((p): p is StoredPaper => Boolean(p));
    papers.sort((a, b) => (b.submittedAt ?? '').localeCompare(a.submittedAt ?? ''));
    const meta: FeedMeta = {
      title: `paperboy: ${query}`,
      description: `New papers matching “${query}” on paperboy.`,
      siteUrl: web.absolute(`/search?${new URLSearchParams({ q: query }).toString()}`),
      feedUrl: self,
      updated: now,
    };
    return send(reply, format, meta, papers.map((p) => item(web, p)));
  });
}
