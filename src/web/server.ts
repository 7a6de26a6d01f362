import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { App } from '../app.ts';
import { parseArxivId } from '../ingest/ids.ts';
import { search } from '../search/hybrid.ts';
import { similarPapers } from '../search/similar.ts';
import { countPapers, getPaper, listRecent, type StoredPaper } from '../store/papers.ts';
import { html, raw, type SafeHtml } from './html.ts';

const STYLE = raw(`
  :root { color-scheme: light dark; --fg:#1b1b1f; --muted:#5d5d66; --bg:#fff; --link:#0b57d0; --line:#e3e3e8 }
  @media (prefers-color-scheme: dark) { :root { --fg:#e8e8ec; --muted:#a5a5ae; --bg:#141417; --link:#8ab4f8; --line:#2c2c33 } }
  body { font: 16px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 0 auto; max-width: 50rem; padding: 1rem }
  a { color: var(--link) } header p, .meta { color: var(--muted); font-size: .9rem }
  ol { padding-left: 1.4rem } li { margin: 0 0 1.1rem; border-bottom: 1px solid var(--line); padding-bottom: .8rem }
  h1 { font-size: 1.5rem; margin: .2rem 0 } h2 { font-size: 1.05rem; margin: 0 }
`);

function page(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><style>${STYLE}</style></head>
<body>${body}</body></html>`.value;
}

function paperItem(p: StoredPaper): SafeHtml {
  const abs = p.links.find((l) => l.kind === 'abs')?.url;
  const code = p.links.find((l) => l.kind === 'code')?.url;
  const authors = p.authors.length > 6 ? [...p.authors.slice(0, 6), `+${p.authors.length - 6} more`] : p.authors;
  return html`<li><h2><a href="/paper/${encodeURIComponent(p.key)}">${p.title}</a></h2>
<div class="meta">${authors.join(', ')}${p.submittedAt ? html` · ${p.submittedAt.slice(0, 10)}` : ''}${p.categories[0] ? html` · ${p.categories[0]}` : ''}
${abs ? html` · <a href="${abs}">arXiv</a>` : ''}${code ? html` · <a href="${code}" rel="nofollow">code</a>` : ''}</div></li>`;
}

function securityHeaders(reply: FastifyReply): void {
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'strict-origin-when-cross-origin');
  reply.header('content-security-policy', "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'");
}

export async function buildServer(app: App): Promise<FastifyInstance> {
  const server = Fastify({
    logger: false,
    trustProxy: true,
    bodyLimit: 1 << 20,
    // Malformed URLs and the like: the same error shape and headers as everything else.
    frameworkErrors: (err, _req, reply) => {
      const r = reply as unknown as FastifyReply;
      securityHeaders(r);
      void r.code(400).send({ error: { code: 'bad_request', message: err.message } });
    },
  });

  server.addHook('onSend', async (_req, reply) => securityHeaders(reply));

  server.get('/healthz', async () => ({ ok: true }));

  server.get('/', async (req, reply) => {
    const q = req.query as { page?: string };
    const pageNo = Math.max(1, Math.min(1000, Number.parseInt(q.page ?? '1', 10) || 1));
    const [papers, total] = await Promise.all([listRecent(app.db, { limit: 50, offset: (pageNo - 1) * 50 }), countPapers(app.db)]);
    const body = html`<header><h1>paperboy</h1><p>${total.toLocaleString('en-US')} papers · newest first</p></header>
<main><ol start="${(pageNo - 1) * 50 + 1}">${papers.map(paperItem)}</ol>
${papers.length === 50 ? html`<a href="/?page=${pageNo + 1}">Older papers →</a>` : ''}</main>`;
    reply.type('text/html; charset=utf-8');
    return page('paperboy: papers', body);
  });

  server.get('/paper/*', async (req, reply) => {
    const key = (req.params as { '*': string })['*']; // already decoded by the router
    const p = await getPaper(app.db, key);
    reply.type('text/html; charset=utf-8');
    if (!p) {
      reply.code(404);
      return page('Not found', html`<h1>No such paper</h1><p><a href="/">All papers</a></p>`);
    }
    const links = p.links.map((l) => html`<li>${l.kind}: <a href="${l.url}" rel="nofollow">${l.url}</a></li>`);
    const similar = (await similarPapers(app.db, p.key, { k: 10, now: app.now(), semantic: app.search.current().semantic }))?.results ?? [];
    return page(
      p.title,
      html`<p><a href="/">← papers</a></p><h1>${p.title}</h1><p class="meta">${p.authors.join(', ')}</p>
<p class="meta">${p.key}${p.categories.length ? html` · ${p.categories.join(' ')}` : ''}${p.submittedAt ? html` · ${p.submittedAt.slice(0, 10)}` : ''}</p>
${p.abstract.split('\n\n').map((para) => html`<p>${para}</p>`)}<ul>${links}</ul>
${similar.length ? html`<h2>Similar papers</h2><ol>${similar.map((x) => html`<li><a href="/paper/${encodeURIComponent(x.key)}">${x.title}</a></li>`)}</ol>` : ''}`,
    );
  });

  server.get('/api/papers', async (req) => {
    const q = req.query as { limit?: string; offset?: string };
    const limit = Math.max(1, Math.min(100, Number.parseInt(q.limit ?? '20', 10) || 20));
    const offset = Math.max(0, Number.parseInt(q.offset ?? '0', 10) || 0);
    const papers = await listRecent(app.db, { limit, offset });
    return { papers: papers.map(({ id: _id, titleKey: _t, ...p }) => p), limit, offset, total: await countPapers(app.db) };
  });

  server.get('/api/papers/:id/similar', async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const a = await similarPapers(app.db, parseArxivId(id)?.id ?? id, { k: 10, now: app.now(), semantic: app.search.current().semantic });
    if (!a) {
      reply.code(404);
      return { error: { code: 'not_found', message: 'No such paper' } };
    }
    return { id: a.paper.key, method: a.method, results: a.results.map(({ id: _id, titleKey: _t, ...r }) => r) };
  });

  server.get('/api/search', async (req, reply) => {
    const q = req.query as { q?: unknown; limit?: string; offset?: string; mode?: string };
    const query = typeof q.q === 'string' ? q.q : '';
    if (!query.trim()) {
      reply.code(400);
      return { error: { code: 'missing_query', message: 'Give a query as ?q=…' } };
    }
    const limit = Math.max(1, Math.min(100, Number.parseInt(q.limit ?? '20', 10) || 20));
    const offset = Math.max(0, Math.min(10_000, Number.parseInt(q.offset ?? '0', 10) || 0));
    const mode = q.mode === 'keyword' || q.mode === 'vector' || q.mode === 'hybrid' ? q.mode : 'auto';
    return search(app.db, app.search.current(), query.slice(0, 10_000), { limit, offset, mode, weight: app.config.hybridWeight });
  });

  server.setNotFoundHandler(async (_req, reply) => {
    reply.code(404);
    return { error: { code: 'not_found', message: 'No such route' } };
  });
  server.setErrorHandler(async (err, req, reply) => {
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) app.log.error({ err, url: req.url }, 'web: request failed');
    reply.code(status);
    return { error: { code: status >= 500 ? 'internal' : 'bad_request', message: status >= 500 ? 'Internal error' : (err as Error).message } };
  });
  return server;
}
