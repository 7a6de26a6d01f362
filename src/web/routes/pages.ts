import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseArxivId } from '../../ingest/ids.ts';
import { isWindow, trendingPage, type TrendingWindow } from '../../ranking/trending.ts';
import { decayedPoints } from '../../ranking/score.ts';
import { keywordMatch } from '../../search/fts-expr.ts';
import { search } from '../../search/hybrid.ts';
import { parseQuery } from '../../search/query.ts';
import { similarNeighbours } from '../../search/similar.ts';
import { countPapers, getPaper, idsByKeys, papersByIds, paperCards, papersInCategory, type PaperCard, type StoredPaper } from '../../store/papers.ts';
import { newestMatching } from '../../store/search.ts';
import { countTrending, signalHistory, trendingOf, voteCounts } from '../../store/trending.ts';
import type { Web } from '../context.ts';
import { CSRF_SLOT, fillPage, visitorKey } from '../context.ts';
import { feedLinks, paperHref } from '../views/components.ts';
import { layout, type PageContext } from '../views/layout.ts';
import { aboutMain, homeMain, listMain, messageMain, paperMain, searchMain, type SearchForm } from '../views/pages.ts';
import { votedBy } from '../../store/trending.ts';

const PER_PAGE = 30;

function pageNumber(v: unknown): number {
  const n = Number.parseInt(typeof v === 'string' ? v : '1', 10);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, 300) : 1;
}

function send(reply: FastifyReply, body: string, status = 200): string {
  reply.code(status).type('text/html; charset=utf-8');
  return body;
}

function sendBytes(reply: FastifyReply, body: Buffer): Buffer {
  reply.code(200).type('text/html; charset=utf-8');
  return body;
}

export function notFoundPage(web: Web, req: FastifyRequest, reply: FastifyReply, what = 'No such page'): string {
  const ctx = web.page(req, reply);
  return send(reply, layout(ctx, { title: 'Not found', noindex: true }, messageMain(what, 'It may have been removed, or the link is wrong.')), 404);
}

/** The query-language string a search form stands for: the words plus its filter fields. */
export function queryOfForm(f: SearchForm): string {
  const parts = [f.q.trim()];
  if (f.cat && /^[a-z][a-z-]*(\.[A-Za-z-]+|\.)?$/.test(f.cat)) parts.push(`cat:${f.cat}`);
  if (/^\d{4}-\d{2}-\d{2}$/.test(f.since)) parts.push(`since:${f.since}`);
  if (/^\d{4}-\d{2}-\d{2}$/.test(f.until)) parts.push(`until:${f.until}`);
  if (f.code) parts.push('has:code');
  return parts.filter(Boolean).join(' ');
}

function formOf(q: Record<string, unknown>): SearchForm {
  const str = (k: string, max = 500) => (typeof q[k] === 'string' ? (q[k] as string).slice(0, max) : '');
  const mode = str('mode', 10);
  return {
    q: str('q'),
    cat: str('cat', 40),
    since: str('since', 10),
    until: str('until', 10),
    code: str('code', 4) === '1' || str('code', 4) === 'on',
    mode: ['keyword', 'hybrid', 'vector'].includes(mode) ? mode : 'auto',
    pageNo: pageNumber(q['page']),
  };
}

export function registerPages(server: FastifyInstance, web: Web): void {
  const { app } = web;

  server.get('/', async (req, reply) => {
    const q = req.query as { window?: string; page?: string };
    const window: TrendingWindow = isWindow(q.window) ? q.window : 'trending';
    const pageNo = pageNumber(q.page);
    const ctx = web.page(req, reply);
    // The page is the same for everyone who has not voted on its papers: rendered once every few
    // seconds, the visitor's CSRF token filled in.
    const key = `home:${window}:${pageNo}`;
    const cached = web.caches.page(key);
    if (cached && (await votedBy(app.db, visitorKey(ctx.visitor), cached.ids)).size === 0) return sendBytes(reply, fillPage(cached.parts, ctx.csrf));
    const opts = { limit: PER_PAGE, offset: (pageNo - 1) * PER_PAGE, now: app.now(), weights: app.config.trending };
    let page = await trendingPage(app.db, window, opts);
    // A fresh instance with nothing voted or imported yet: show the newest papers instead.
    const fellBack = window === 'trending' && pageNo === 1 && page.items.length === 0 && (await countPapers(app.db)) > 0;
    if (fellBack) page = await trendingPage(app.db, 'new', opts);
    const ids = page.items.map((it) => it.paper.id);
    const votes = await web.votes(ctx.visitor, ids);
    const feedQuery = window === 'trending' ? '' : `?window=${window}`;
    const render = (c: typeof ctx, mine: Set<number>) =>
      layout(
        c,
        {
          title: window === 'trending' ? 'paperboy' : `${window === 'new' ? 'New' : 'Top'} papers`,
          description: 'Trending research papers today, with votes, Hugging Face upvotes and GitHub stars.',
          canonical: web.absolute(window === 'trending' ? '/' : `/?window=${window}`),
          math: true,
          feeds: [
            { type: 'rss', href: `/feeds/trending.rss${feedQuery}`, title: 'Trending papers (RSS)' },
            { type: 'atom', href: `/feeds/trending.atom${feedQuery}`, title: 'Trending papers (Atom)' },
            { type: 'json', href: `/feeds/trending.json${feedQuery}`, title: 'Trending papers (JSON Feed)' },
          ],
        },
        homeMain(c, page, { counts: votes.counts, mine }, { pageNo, fellBack }),
      );
    const shared = web.caches.setPage(key, render({ ...ctx, csrf: CSRF_SLOT }, new Set()), ids);
    return votes.mine.size ? send(reply, render(ctx, votes.mine)) : sendBytes(reply, fillPage(shared.parts, ctx.csrf));
  });

  server.get('/search', async (req, reply) => {
    const form = formOf(req.query as Record<string, unknown>);
    const query = queryOfForm(form);
    const ctx = web.page(req, reply, form.q);
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries({ q: form.q, cat: form.cat, since: form.since, until: form.until, code: form.code ? '1' : '', mode: form.mode === 'auto' ? '' : form.mode })) {
      if (v) params.set(k, v);
    }
    if (form.pageNo > 1) params.set('page', String(form.pageNo));
    const limit = 20;
    const answer = query
      ? await web.caches.answer(`page|${form.mode}|${form.pageNo}|${query}`, () =>
          search(app.db, app.search.current(), query, {
            limit,
            offset: (form.pageNo - 1) * limit,
            mode: form.mode as 'auto',
            weight: app.config.hybridWeight,
          }),
        )
      : null;
    // A pasted arXiv id or URL goes straight to the paper.
    if (answer?.mode === 'id' && answer.results[0]) return reply.redirect(paperHref(answer.results[0].id), 303);
    const results = answer?.results ?? [];
    const ids = await idsByKeys(app.db, results.map((r) => r.id));
    const cards = results.map((r) => ({
      paper: { key: r.id, title: r.title, authors: r.authors, categories: r.categories, submittedAt: r.submittedAt, links: r.links },
      id: ids.get(r.id),
      snippet: r.snippet,
    }));
    const votes = await web.votes(ctx.visitor, [...ids.values()]);
    const feedQ = new URLSearchParams({ q: query }).toString();
    const body = layout(
      ctx,
      {
        title: form.q ? `${form.q.slice(0, 80)}: search` : 'Search',
        math: true,
        noindex: Boolean(query),
        feeds: query
          ? [
              { type: 'rss', href: `/feeds/search.rss?${feedQ}`, title: 'This search (RSS)' },
              { type: 'atom', href: `/feeds/search.atom?${feedQ}`, title: 'This search (Atom)' },
              { type: 'json', href: `/feeds/search.json?${feedQ}`, title: 'This search (JSON Feed)' },
            ]
          : [],
      },
      searchMain(ctx, form, answer, cards, votes, params, await web.categoryList()),
    );
    return send(reply, body);
  });

  server.get('/paper/*', async (req, reply) => {
    const raw = (req.params as { '*': string })['*']; // already decoded by the router
    let p = await getPaper(app.db, raw);
    if (!p) {
      // Any form of an arXiv id people paste (versioned, abs/pdf URL) finds the paper.
      const id = parseArxivId(raw);
      if (id) p = await getPaper(app.db, id.id);
      if (p) return reply.redirect(paperHref(p.key), 301);
    }
    if (!p) return notFoundPage(web, req, reply, 'No such paper');
    const ctx = web.page(req, reply);
    const now = app.now();
    const [stats, votes, voted, signals, similar] = await Promise.all([
      trendingOf(app.db, [p.id]),
      voteCounts(app.db, p.id, new Date(now.getTime() - 86_400_000).toISOString()),
      votedBy(app.db, visitorKey(ctx.visitor), [p.id]),
      signalHistory(app.db, p.id),
      similarNeighbours(app.db, p.key, { k: 10, now, semantic: app.search.current().semantic, paper: p }),
    ]);
    const cards = similar ? await paperCards(app.db, similar.neighbours.map((n) => n.id)) : new Map<number, PaperCard>();
    const s = stats.get(p.id);
    const body = layout(
      ctx,
      { title: p.title.slice(0, 150), description: p.abstract.slice(0, 200), canonical: web.absolute(paperHref(p.key)), math: true },
      paperMain(ctx, {
        paper: p,
        stats: s,
        votes,
        voted: voted.has(p.id),
        decayed: s ? decayedPoints(s.hot, now.getTime(), app.config.trending.halfLifeHours) : 0,
        weights: app.config.trending,
        signals,
        similar: { method: similar?.method ?? 'more-like-this', results: (similar?.neighbours ?? []).flatMap((n) => cards.get(n.id) ?? []) },
      }),
    );
    return send(reply, body);
  });

  server.get('/author/:name', async (req, reply) => {
    const name = (req.params as { name: string }).name.trim().slice(0, 200);
    const pageNo = pageNumber((req.query as { page?: string }).page);
    const parsed = parseQuery(`author:"${name.replaceAll('"', ' ')}"`);
    const match = parsed.authors.length ? keywordMatch(parsed, { mode: 'and' }) : null;
    if (!match) return notFoundPage(web, req, reply, 'No such author');
    const ids = await newestMatching(app.db, match, PER_PAGE + 1, (pageNo - 1) * PER_PAGE);
    const found = await papersByIds(app.db, ids.slice(0, PER_PAGE));
    const papers = ids.slice(0, PER_PAGE).flatMap((id) => found.get(id) ?? []);
    return listPage(web, req, reply, {
      title: name,
      lede: `Papers with ${name} among the authors, newest first.`,
      papers,
      pageNo,
      hasNext: ids.length > PER_PAGE,
      feeds: feedLinks('/feeds/search', new URLSearchParams({ q: `author:"${name}"` }).toString(), 'this author'),
    });
  });

  server.get('/category/:cat', async (req, reply) => {
    const cat = (req.params as { cat: string }).cat.trim();
    if (!/^[a-z][a-z-]*(\.[A-Za-z-]+)?$/.test(cat)) return notFoundPage(web, req, reply, 'No such category');
    const pageNo = pageNumber((req.query as { page?: string }).page);
    const papers = await papersInCategory(app.db, cat.includes('.') ? cat : `${cat}.`, PER_PAGE + 1, (pageNo - 1) * PER_PAGE);
    return listPage(web, req, reply, {
      title: cat,
      lede: cat.includes('.') ? `Papers in ${cat}, newest first.` : `Papers in any ${cat} category, newest first.`,
      papers: papers.slice(0, PER_PAGE),
      pageNo,
      hasNext: papers.length > PER_PAGE,
      feeds: feedLinks('/feeds/search', new URLSearchParams({ q: `cat:${cat}` }).toString(), 'this category'),
    });
  });

  server.get('/about', async (req, reply) => {
    const ctx = web.page(req, reply);
    const [papers, trending] = await Promise.all([countPapers(app.db), countTrending(app.db, 'hot')]);
    return send(reply, layout(ctx, { title: 'About', canonical: web.absolute('/about') }, aboutMain(app.config.trending, { papers, trending })));
  });

  server.get('/favicon.ico', async (_req, reply) => reply.redirect('/static/favicon.svg', 301));

  server.get('/opensearch.xml', async (_req, reply) => {
    reply.type('application/opensearchdescription+xml; charset=utf-8');
    const base = app.config.baseUrl.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
    return `<?xml version="1.0" encoding="UTF-8"?>
<OpenSearchDescription xmlns="http://a9.com/-/spec/opensearch/1.1/">
<ShortName>paperboy</ShortName><Description>Search research papers</Description><InputEncoding>UTF-8</InputEncoding>
<Url type="text/html" template="${base}/search?q={searchTerms}"/>
</OpenSearchDescription>`;
  });
}

interface ListArgs {
  title: string;
  lede: string;
  papers: StoredPaper[];
  pageNo: number;
  hasNext: boolean;
  feeds?: ReturnType<typeof feedLinks>;
}

async function listPage(web: Web, req: FastifyRequest, reply: FastifyReply, a: ListArgs): Promise<string> {
  const ctx: PageContext & { visitor: string } = web.page(req, reply);
  const votes = await web.votes(ctx.visitor, a.papers.map((p) => p.id));
  const path = req.url.split('?')[0] ?? '/';
  return send(
    reply,
    layout(ctx, { title: a.title, math: true }, listMain(ctx, a.title, a.lede, a.papers, votes, { path, pageNo: a.pageNo, hasNext: a.hasNext, back: req.url }, a.feeds)),
  );
}
