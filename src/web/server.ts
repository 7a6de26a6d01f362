import path from 'node:path';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { App } from '../app.ts';
import { Web } from './context.ts';
import { katexAssetsDir } from './latex.ts';
import { registerAdmin } from './routes/admin.ts';
import { registerApi } from './routes/api.ts';
import { randomBytes } from 'node:crypto';
import { ProcessMetrics } from './metrics.ts';
import { registerFeeds } from './routes/feeds.ts';
import { registerHealth } from './routes/health.ts';
import { notFoundPage, registerPages } from './routes/pages.ts';
import { registerBounceWebhook, registerSubscribe } from './routes/subscribe.ts';
import { registerVotes } from './routes/votes.ts';
import { Sessions } from './session.ts';
import { StaticFiles } from './static.ts';

/**
 * Content-Security-Policy: scripts only from this site (no inline script at all); inline style
 * attributes are allowed because KaTeX positions glyphs with them (styles cannot run code).
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ');

function securityHeaders(reply: FastifyReply, https: boolean): void {
  // A route may set a stricter policy of its own (the outbox's sandboxed mail view).
  if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', CSP);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('x-frame-options', 'DENY');
  reply.header('referrer-policy', 'strict-origin-when-cross-origin');
  reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=(), interest-cohort=()');
  reply.header('cross-origin-opener-policy', 'same-origin');
  if (https) reply.header('strict-transport-security', 'max-age=31536000');
}

const STATIC_DIR = path.resolve(import.meta.dirname, 'static');

/** A client's X-Request-Id when it is a plain token, else a new one: it goes into logs and a response header. */
function requestId(req: { headers: Record<string, string | string[] | undefined> }): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[A-Za-z0-9._:-]{1,64}$/.test(given) ? given : randomBytes(8).toString('hex');
}

/** A URL for the logs: the signed tokens in links (confirm, preferences, unsubscribe) and query values left out. */
export function logUrl(url: string): string {
  const [p = '', q] = url.split('?', 2);
  const clean = p.replace(/^\/(confirm|prefs|u|admin\/login)\/[^/]+/, '/$1/…');
  return q === undefined ? clean.slice(0, 300) : `${clean.slice(0, 300)}?…`;
}

const wantsHtml = (req: FastifyRequest) => !req.url.startsWith('/api/') && !req.url.startsWith('/feeds/') && (req.headers.accept ?? '').includes('text/html');

export async function buildServer(app: App): Promise<FastifyInstance> {
  const https = app.config.baseUrl.startsWith('https://');
  const server = Fastify({
    logger: false,
    // Only proxies we trust may say who the client is (PAPERBOY_TRUST_PROXY, default loopback):
    // a client's own X-Forwarded-For must not pick its rate-limit bucket.
    trustProxy: app.config.trustProxy,
    genReqId: requestId,
    bodyLimit: 1 << 20,
    // Malformed URLs and the like: the same error shape and headers as everything else.
    frameworkErrors: (err, _req, reply) => {
      const r = reply as unknown as FastifyReply;
      securityHeaders(r, https);
      void r.code(400).send({ error: { code: 'bad_request', message: err.message } });
    },
  });

  server.addHook('onSend', async (req, reply) => {
    securityHeaders(reply, https);
    reply.header('x-request-id', req.id);
  });
  const metrics = new ProcessMetrics();
  server.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    metrics.requests.observe({ route, method: req.method, status: `${Math.floor(reply.statusCode / 100)}xx` }, seconds);
    const notable = reply.statusCode >= 500 || seconds >= 1;
    if (!notable && !app.log.isLevelEnabled('debug')) return; // the hot path builds no log line
    const line = { reqId: req.id, method: req.method, url: logUrl(req.url), route, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 };
    if (notable) app.log.warn(line, 'web: request');
    else app.log.debug(line, 'web: request');
  });
  // HTML forms post application/x-www-form-urlencoded: small bodies, parsed without a plugin.
  server.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  await server.register(rateLimit, {
    // PAPERBOY_RATE_LIMIT=0 lifts the global limit (behind a proxy that limits, or for load tests).
    global: app.config.rateLimit > 0,
    max: app.config.rateLimit || 600,
    timeWindow: '1 minute',
    allowList: (req) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics' || req.url.startsWith('/static/'),
    errorResponseBuilder: (_req, ctx) => Object.assign(new Error(`Too many requests: try again in ${ctx.after}`), { statusCode: 429 }),
  });

  const statics = new StaticFiles([
    { prefix: '/static/katex/', dir: katexAssetsDir() },
    { prefix: '/static/', dir: STATIC_DIR },
  ]);
  statics.register(server);
  const web = new Web(app, new Sessions(app.config.secretKey, https), statics);

  registerHealth(server, app, metrics);
  registerPages(server, web);
  registerVotes(server, web);
  registerSubscribe(server, web);
  registerBounceWebhook(server, web);
  registerAdmin(server, web);
  registerApi(server, web);
  registerFeeds(server, web);

  server.setNotFoundHandler(async (req, reply) => {
    if (wantsHtml(req)) return notFoundPage(web, req, reply);
    reply.code(404);
    return { error: { code: 'not_found', message: 'No such route' } };
  });
  server.setErrorHandler(async (err, req, reply) => {
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) app.log.error({ err, reqId: req.id, url: logUrl(req.url) }, 'web: request failed');
    reply.code(status);
    if (status === 429) return { error: { code: 'rate_limited', message: (err as Error).message } };
    return { error: { code: status >= 500 ? 'internal' : 'bad_request', message: status >= 500 ? 'Internal error' : (err as Error).message } };
  });
  return server;
}
