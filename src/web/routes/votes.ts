import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { getPaper, type StoredPaper } from '../../store/papers.ts';
import { castVote, recomputeTrending, voteCounts, withdrawVote } from '../../store/trending.ts';
import { visitorKey, type Web } from '../context.ts';
import { paperHref } from '../views/components.ts';
import { layout } from '../views/layout.ts';
import { messageMain } from '../views/pages.ts';
import { apiError } from './api.ts';

/** Votes: one per visitor per paper; can be withdrawn; rate limited; the score follows at once. */
export const VOTE_RATE = { max: 30, timeWindow: '1 minute' } as const;

async function applyVote(web: Web, paper: StoredPaper, visitor: string, up: boolean): Promise<{ votes: number; voted: boolean }> {
  const { app } = web;
  const voter = visitorKey(visitor);
  const changed = up ? await castVote(app.db, paper.id, voter, app.now()) : await withdrawVote(app.db, paper.id, voter);
  if (changed) {
    await recomputeTrending(app.db, [paper.id], app.config.trending, app.now());
    web.caches.clearPages();
  }
  const counts = await voteCounts(app.db, paper.id, new Date(app.now().getTime() - 86_400_000).toISOString());
  return { votes: counts.total, voted: up };
}

/** Only a path on this site (never `//host` or a scheme) may be a redirect target. */
function localPath(s: unknown, fallback: string): string {
  return typeof s === 'string' && /^\/(?![/\\])[^\s]*$/.test(s) && s.length < 2000 ? s : fallback;
}

export function registerVotes(server: FastifyInstance, web: Web): void {
  server.post('/vote', { config: { rateLimit: VOTE_RATE } }, async (req: FastifyRequest, reply: FastifyReply) => {
    const ctx = web.page(req, reply);
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!web.sessions.checkCsrf(req)) {
      reply.code(403).type('text/html; charset=utf-8');
      return layout(ctx, { title: 'Expired form', noindex: true }, messageMain('This form has expired', 'Please go back, reload the page and vote again.'));
    }
    const paper = typeof body['paper'] === 'string' ? await getPaper(web.app.db, body['paper']) : undefined;
    if (!paper) {
      reply.code(404).type('text/html; charset=utf-8');
      return layout(ctx, { title: 'Not found', noindex: true }, messageMain('No such paper', 'The paper you voted for was not found.'));
    }
    await applyVote(web, paper, ctx.visitor, body['action'] !== 'down');
    return reply.redirect(localPath(body['back'], paperHref(paper.key)), 303);
  });

  server.post('/api/papers/*', { config: { rateLimit: VOTE_RATE } }, async (req, reply) => {
    const rest = (req.params as { '*': string })['*'];
    if (!rest.endsWith('/vote')) return apiError(reply, 404, 'not_found', 'No such route');
    const visitor = web.sessions.visitor(req);
    if (!visitor || !web.sessions.checkCsrf(req)) return apiError(reply, 403, 'forbidden', 'Voting needs the visitor cookie and its CSRF token (x-csrf-token), as on the site');
    const body = req.body as { vote?: unknown } | undefined;
    if (!body || typeof body !== 'object' || typeof body.vote !== 'boolean') return apiError(reply, 400, 'bad_request', 'Send {"vote": true} to vote or {"vote": false} to withdraw');
    const paper = await getPaper(web.app.db, rest.slice(0, -'/vote'.length));
    if (!paper) return apiError(reply, 404, 'not_found', 'No such paper');
    const r = await applyVote(web, paper, visitor, body.vote);
    return { id: paper.key, ...r };
  });
}
