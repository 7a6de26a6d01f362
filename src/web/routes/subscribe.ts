import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { applyBounce, parseBounceReport } from '../../digest/bounces.ts';
import { confirm, deleteData, exportData, InputError, parsePreferences, savePreferences, signUp, unsubscribe } from '../../digest/subscriptions.ts';
import { DEFAULT_PREFERENCES } from '../../store/subscribers.ts';
import type { Web } from '../context.ts';
import { sameString } from '../session.ts';
import { html } from '../html.ts';
import { layout } from '../views/layout.ts';
import { messageMain } from '../views/pages.ts';
import { buttonPage, checkInbox, preferencesForm, subscribeForm } from '../views/subscribe.ts';
import { apiError } from './api.ts';
import { localDate } from '../../digest/schedule.ts';

const SUBSCRIBE_RATE = { max: 10, timeWindow: '1 hour' } as const;
const TOKEN_RATE = { max: 60, timeWindow: '1 minute' } as const;

function page(reply: FastifyReply, body: string, status = 200): string {
  reply.code(status).type('text/html; charset=utf-8');
  reply.header('cache-control', 'no-store');
  reply.header('referrer-policy', 'no-referrer');
  return body;
}

/** Forged, expired or stale links: one plain 404 that says nothing about why. */
function badLink(web: Web, req: FastifyRequest, reply: FastifyReply): string {
  const ctx = web.page(req, reply);
  return page(reply, layout(ctx, { title: 'Link not valid', noindex: true, noPromise: true }, messageMain('This link is not valid', 'It may have expired or been replaced by a newer one.')), 404);
}

export function registerSubscribe(server: FastifyInstance, web: Web): void {
  const { app } = web;
  const digests = app.digests;

  server.get('/subscribe', async (req, reply) => {
    const ctx = web.page(req, reply);
    const topic = typeof (req.query as { topic?: unknown }).topic === 'string' ? ((req.query as { topic: string }).topic).slice(0, 200) : '';
    return page(reply, layout(ctx, { title: 'Subscribe', noPromise: true }, html`<h1>Trending papers in your inbox, once a day</h1>${subscribeForm(ctx, { topic })}`));
  });

  server.post('/subscribe', { config: { rateLimit: SUBSCRIBE_RATE } }, async (req, reply) => {
    const ctx = web.page(req, reply);
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!web.sessions.checkCsrf(req)) return page(reply, layout(ctx, { title: 'Expired form', noindex: true }, messageMain('This form has expired', 'Please go back, reload the page and try again.')), 403);
    // A filled honeypot is a bot: the same answer, and nothing happens.
    if (typeof body['website'] === 'string' && body['website'] !== '') return page(reply, layout(ctx, { title: 'Check your inbox', noPromise: true }, checkInbox()));
    try {
      const tz = typeof body['timezone'] === 'string' && body['timezone'] ? { timezone: body['timezone'] } : {};
      let prefs;
      try {
        prefs = parsePreferences({ ...tz, ...(body['topic'] ? { topics: body['topic'] } : {}) });
      } catch {
        prefs = parsePreferences(body['topic'] ? { topics: body['topic'] } : {});
      }
      await signUp(app, digests, body['email'], prefs);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      return page(reply, layout(ctx, { title: 'Subscribe', noPromise: true }, html`<h1>Subscribe</h1>${subscribeForm(ctx, { error: err.message, topic: String(body['topic'] ?? '') })}`), 400);
    }
    return page(reply, layout(ctx, { title: 'Check your inbox', noPromise: true }, checkInbox()));
  });

  server.post('/api/subscribe', { config: { rateLimit: SUBSCRIBE_RATE } }, async (req, reply) => {
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object') return apiError(reply, 400, 'bad_request', 'Send {"email": "…", "topics": ["…"], "timezone": "…"}');
    try {
      const prefs = parsePreferences(body, DEFAULT_PREFERENCES);
      await signUp(app, digests, body['email'], prefs, 'api');
    } catch (err) {
      if (err instanceof InputError) return apiError(reply, 400, 'invalid', err.message);
      throw err;
    }
    reply.code(202);
    return { status: 'check-your-inbox' };
  });

  // ---------------------------------------------------------------- confirm

  server.get('/confirm/:token', { config: { rateLimit: TOKEN_RATE } }, async (req, reply) => {
    const s = await digests.fromToken('confirm', (req.params as { token: string }).token);
    if (!s) return badLink(web, req, reply);
    const ctx = web.page(req, reply);
    if (s.status === 'confirmed') return page(reply, layout(ctx, { title: 'Confirmed', noindex: true, noPromise: true }, messageMain('You are subscribed', html`Your first digest arrives at your delivery hour. <a href="${digests.link('prefs', s)}">Preferences</a>`)));
    return page(reply, layout(ctx, { title: 'Confirm', noindex: true, noPromise: true }, buttonPage('Confirm your subscription', `Receive trending papers at ${s.email}, once a day.`, req.url, 'Confirm')));
  });

  server.post('/confirm/:token', { config: { rateLimit: TOKEN_RATE } }, async (req, reply) => {
    const s = await digests.fromToken('confirm', (req.params as { token: string }).token);
    if (!s) return badLink(web, req, reply);
    const done = await confirm(app, digests, s);
    const ctx = web.page(req, reply);
    return page(reply, layout(ctx, { title: 'Subscribed', noindex: true, noPromise: true }, preferencesForm(ctx, done, new URL(digests.link('prefs', done)).pathname, digests.link('unsubscribe', done), 'Subscribed! Your first digest comes at your delivery hour. Adjust anything below.')));
  });

  // ---------------------------------------------------------------- preferences

  server.get('/prefs/:token', { config: { rateLimit: TOKEN_RATE } }, async (req, reply) => {
    const s = await digests.fromToken('prefs', (req.params as { token: string }).token);
    if (!s) return badLink(web, req, reply);
    const ctx = web.page(req, reply);
    return page(reply, layout(ctx, { title: 'Preferences', noindex: true, noPromise: true }, preferencesForm(ctx, s, req.url.split('?')[0]!, digests.link('unsubscribe', s))));
  });

  server.post('/prefs/:token', { config: { rateLimit: TOKEN_RATE } }, async (req, reply) => {
    const s = await digests.fromToken('prefs', (req.params as { token: string }).token);
    if (!s) return badLink(web, req, reply);
    const ctx = web.page(req, reply);
    const action = req.url.split('?')[0]!;
    if (!web.sessions.checkCsrf(req)) return page(reply, layout(ctx, { title: 'Expired form', noindex: true }, messageMain('This form has expired', 'Please reload the page and try again.')), 403);
    try {
      const saved = await savePreferences(app, digests, s, parsePreferences((req.body ?? {}) as Record<string, unknown>, s));
      return page(reply, layout(ctx, { title: 'Preferences', noindex: true, noPromise: true }, preferencesForm(ctx, saved, action, digests.link('unsubscribe', saved), 'Saved.')));
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      return page(reply, layout(ctx, { title: 'Preferences', noindex: true, noPromise: true }, preferencesForm(ctx, s, action, digests.link('unsubscribe', s), err.message)), 400);
    }
  });

  // "Send me today's digest now": a preview to the subscriber's own address, recorded nowhere
  // (the real digest still comes at their hour, and papers in it are not marked as sent).
  server.post('/prefs/:token/preview', { config: { rateLimit: { max: 3, timeWindow: '1 hour' } } }, async (req, reply) => {
    const s = await digests.fromToken('prefs', (req.params as { token: string }).token);
    if (!s || s.status !== 'confirmed' || !web.sessions.checkCsrf(req)) return badLink(web, req, reply);
    const date = localDate(app.now().getTime(), s.timezone);
    const { rendered } = await digests.render(s, date);
    await digests.mailer.send({ ...digests.mail(s, date, rendered), messageId: `preview-${s.id}-${Date.now()}@${new URL(app.config.baseUrl).hostname || 'localhost'}` });
    const ctx = web.page(req, reply);
    const where = digests.mailer.kind === 'file' ? html` It is in the <a href="/admin/outbox">outbox</a> (this instance writes mail to files).` : '';
    return page(reply, layout(ctx, { title: 'Preferences', noindex: true, noPromise: true }, preferencesForm(ctx, s, req.url.replace(/\/preview$/, ''), digests.link('unsubscribe', s), `Today's digest is on its way to ${s.email}.`, where)));
  });

  server.post('/prefs/:token/export', { config: { rateLimit: TOKEN_RATE } }, async (req, reply) => {
    const s = await digests.fromToken('prefs', (req.params as { token: string }).token);
    if (!s || !web.sessions.checkCsrf(req)) return badLink(web, req, reply);
    reply.header('content-disposition', 'attachment; filename="paperboy-my-data.json"');
    reply.header('cache-control', 'no-store');
    return exportData(app, s);
  });

  server.post('/prefs/:token/delete', { config: { rateLimit: TOKEN_RATE } }, async (req, reply) => {
    const s = await digests.fromToken('prefs', (req.params as { token: string }).token);
    if (!s || !web.sessions.checkCsrf(req)) return badLink(web, req, reply);
    await deleteData(app, s);
    const ctx = web.page(req, reply);
    return page(reply, layout(ctx, { title: 'Deleted', noindex: true }, messageMain('Deleted', 'Your subscription and everything stored about it are gone.')));
  });

  // ---------------------------------------------------------------- unsubscribe (RFC 8058)

  server.get('/u/:token', { config: { rateLimit: TOKEN_RATE } }, async (req, reply) => {
    const s = await digests.fromToken('unsubscribe', (req.params as { token: string }).token);
    if (!s) return badLink(web, req, reply);
    const ctx = web.page(req, reply);
    if (s.status === 'unsubscribed') return page(reply, layout(ctx, { title: 'Unsubscribed', noindex: true, noPromise: true }, messageMain('You are unsubscribed', 'No more digests will be sent to this address.')));
    return page(reply, layout(ctx, { title: 'Unsubscribe', noindex: true, noPromise: true }, buttonPage('Unsubscribe', `Stop the daily digest to ${s.email}?`, req.url, 'Unsubscribe')));
  });

  // One click from the mail client: no cookies, no CSRF token (the signed link is the credential),
  // no redirect; repeating it is harmless.
  server.post('/u/:token', { config: { rateLimit: TOKEN_RATE } }, async (req, reply) => {
    const s = await digests.fromToken('unsubscribe', (req.params as { token: string }).token);
    if (!s) return badLink(web, req, reply);
    await unsubscribe(app, s);
    reply.code(200).type('text/html; charset=utf-8').header('cache-control', 'no-store');
    return layout(web.page(req, reply), { title: 'Unsubscribed', noindex: true, noPromise: true }, messageMain('You are unsubscribed', 'No more digests will be sent to this address. Changed your mind? Subscribe again on the home page.'));
  });

  // The file outbox (/admin/outbox) lives in the admin area: routes/admin.ts.
}

/** Bounce and complaint reports (generic JSON or Amazon SES via SNS), with PAPERBOY_WEBHOOK_TOKEN. */
export function registerBounceWebhook(server: FastifyInstance, web: Web): void {
  // SNS posts JSON as text/plain.
  server.addContentTypeParser('text/plain', { parseAs: 'string', bodyLimit: 256 * 1024 }, (_req, body, done) => done(null, body));
  server.post('/webhooks/bounces', async (req, reply) => {
    const token = web.app.config.digest.webhookToken;
    if (!token) return apiError(reply, 404, 'not_found', 'No such route');
    const given = (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '') || String((req.query as { token?: string }).token ?? '');
    if (!sameString(given, token)) return apiError(reply, 401, 'unauthorized', 'A valid token is required (Authorization: Bearer … or ?token=)');
    let body: unknown = req.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        return apiError(reply, 400, 'bad_request', 'The body must be JSON');
      }
    }
    const { events, note } = parseBounceReport(body);
    if (!events.length && !note) return apiError(reply, 400, 'bad_request', 'No bounce or complaint found in the body');
    const outcomes = [];
    for (const e of events.slice(0, 1000)) outcomes.push(await applyBounce(web.app, e));
    return { received: events.length, suppressed: outcomes.filter((o) => o === 'suppressed').length, ignored: outcomes.filter((o) => o === 'ignored').length, ...(note ? { note } : {}) };
  });
}
