import type { FastifyInstance, FastifyReply } from 'fastify';
import { parseArxivId } from '../../ingest/ids.ts';
import { isWindow, trendingPage, WINDOWS } from '../../ranking/trending.ts';
import { search } from '../../search/hybrid.ts';
import { similarPapers } from '../../search/similar.ts';
import { countPapers, getPaper, listRecent, type StoredPaper } from '../../store/papers.ts';
import { trendingOf, voteCounts } from '../../store/trending.ts';
import type { Web } from '../context.ts';
import { openApiDocument } from './openapi.ts';

export function apiError(reply: FastifyReply, status: number, code: string, message: string): { error: { code: string; message: string } } {
  reply.code(status);
  return { error: { code, message } };
}

/** The public shape of a paper: no internal ids. */
export function publicPaper(p: StoredPaper): Omit<StoredPaper, 'id' | 'titleKey'> {
  const { id: _id, titleKey: _t, ...rest } = p;
  return rest;
}

function intParam(v: unknown, def: number, min: number, max: number): number {
  const n = Number.parseInt(typeof v === 'string' ? v : '', 10);
  return Number.isInteger(n) ? Math.max(min, Math.min(max, n)) : def;
}

async function findPaper(web: Web, id: string): Promise<StoredPaper | undefined> {
  return (await getPaper(web.app.db, id)) ?? (parseArxivId(id) ? await getPaper(web.app.db, parseArxivId(id)!.id) : undefined);
}

export function registerApi(server: FastifyInstance, web: Web): void {
  const { app } = web;

  server.get('/api/openapi.json', async () => openApiDocument(app.config.baseUrl));

  server.get('/api/papers', async (req) => {
    const q = req.query as { limit?: string; offset?: string };
    const limit = intParam(q.limit, 20, 1, 100);
    const offset = intParam(q.offset, 0, 0, 100_000);
    const papers = await listRecent(app.db, { limit, offset });
    return { papers: papers.map(publicPaper), limit, offset, total: await countPapers(app.db) };
  });

  // Paper keys may hold slashes (old arXiv ids such as hep-th/9901001), hence the wildcard.
  server.get('/api/papers/*', async (req, reply) => {
    const rest = (req.params as { '*': string })['*'];
    if (rest.endsWith('/similar')) {
      const a = await similarPapers(app.db, parseArxivId(rest.slice(0, -8))?.id ?? rest.slice(0, -8), {
        k: intParam((req.query as { limit?: string }).limit, 10, 1, 50),
        now: app.now(),
        semantic: app.search.current().semantic,
      });
      if (!a) return apiError(reply, 404, 'not_found', 'No such paper');
      return { id: a.paper.key, method: a.method, results: a.results.map((r) => ({ ...publicPaper(r), score: r.score })) };
    }
    const p = await findPaper(web, rest);
    if (!p) return apiError(reply, 404, 'not_found', 'No such paper');
    const [t, votes] = await Promise.all([trendingOf(app.db, [p.id]), voteCounts(app.db, p.id, new Date(app.now().getTime() - 86_400_000).toISOString())]);
    const s = t.get(p.id);
    return {
      ...publicPaper(p),
      trending: s
        ? { points: s.points, hot: s.hot, trendingAt: s.trendingAt, votes: votes.total, votes24h: votes.recent, upvotes: s.upvotes, comments: s.comments, stars: s.stars, starGrowth: s.starGrowth }
        : null,
    };
  });

  server.get('/api/search', async (req, reply) => {
    const q = req.query as { q?: unknown; limit?: string; offset?: string; mode?: string };
    const query = typeof q.q === 'string' ? q.q : '';
    if (!query.trim()) return apiError(reply, 400, 'missing_query', 'Give a query as ?q=…');
    const limit = intParam(q.limit, 20, 1, 100);
    const offset = intParam(q.offset, 0, 0, 10_000);
    const mode = q.mode === 'keyword' || q.mode === 'vector' || q.mode === 'hybrid' ? q.mode : 'auto';
    const text = query.slice(0, 10_000);
    return web.caches.answer(`api|${mode}|${limit}|${offset}|${text}`, () => search(app.db, app.search.current(), text, { limit, offset, mode, weight: app.config.hybridWeight }));
  });

  server.get('/api/trending', async (req, reply) => {
    const q = req.query as { window?: string; limit?: string; offset?: string };
    const window = q.window ?? 'trending';
    if (!isWindow(window)) return apiError(reply, 400, 'bad_window', `window must be one of ${WINDOWS.join(', ')}`);
    const page = await trendingPage(app.db, window, {
      limit: intParam(q.limit, 20, 1, 100),
      offset: intParam(q.offset, 0, 0, 10_000),
      now: app.now(),
      weights: app.config.trending,
    });
    return {
      window,
      from: page.from ?? null,
      to: page.to ?? null,
      total: page.total,
      limit: page.limit,
      offset: page.offset,
      results: page.items.map((it) => ({
        rank: it.rank,
        ...publicPaper(it.paper),
        trending: { points: it.stats.points, hot: it.stats.hot, trendingAt: it.stats.trendingAt, votes: it.stats.votes, upvotes: it.stats.upvotes, comments: it.stats.comments, stars: it.stats.stars, starGrowth: it.stats.starGrowth, decayed: it.decayed, why: it.why },
      })),
    };
  });
}
