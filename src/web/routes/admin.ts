/**
 * The admin area: ingest runs, digests per day, subscribers over time, bounces and suppressions,
 * the outbox, and the scheduler's jobs. Read only.
 *
 * Who gets in:
 * - With ADMIN_TOKEN set: whoever presents it, from anywhere — `Authorization: Bearer <token>`
 *   (scripts), or once on the sign-in form, which sets a signed admin cookie (HttpOnly,
 *   SameSite=Strict, Path=/admin, Secure on https) valid for 12 hours. The cookie holds only an
 *   expiry and an HMAC over it and a hash of the token, so changing ADMIN_TOKEN (or SECRET_KEY)
 *   signs everybody out, and nothing is stored on the server.
 * - Without it: this machine only (loopback, and not forwarded by a proxy), as the outbox always
 *   was; from anywhere else the area does not exist (404). A newcomer trying paperboy on a laptop
 *   needs no setup; a public server is closed until an operator sets a token.
 *
 * Everything here is `no-store` and `noindex`, never goes through the page cache, and is rate
 * limited per client address (sign-in attempts much more tightly).
 */
import { createHash, createHmac } from 'node:crypto';
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { FastifyInstance } from 'fastify';
import { listOutbox, readOutbox } from '../../digest/mailer.ts';
import { digestCounts, digestsByDay, recentDigests, type DigestStatus } from '../../store/digests.ts';
import { ingestRunCounts, listIngestRuns, type IngestRun } from '../../store/ingest-runs.ts';
import { listJobs } from '../../store/jobs.ts';
import { countPapers } from '../../store/papers.ts';
import { bounceCounts, countSubscribers, listBounces, listSuppressions, subscriberEventsByDay, suppressionCount, type SubscriberDayEvents } from '../../store/subscribers.ts';
import type { Web } from '../context.ts';
import { parseCookies, sameString } from '../session.ts';
import { layout, type PageContext } from '../views/layout.ts';
import { digestsMain, ingestMain, loginMain, outboxMain, overviewMain, subscribersMain, type DigestDay, type SubscriberDay } from '../views/admin.ts';
import { apiError } from './api.ts';

export const ADMIN_COOKIE = 'pb_admin';
const SESSION_MS = 12 * 3600_000;
const PAGE_SIZE = 50;
/** Pages: generous for a person, a ceiling for a script gone wrong. Sign-in: guessing is pointless, but say so. */
const ADMIN_RATE = { max: 120, timeWindow: '1 minute' } as const;
const LOGIN_RATE = { max: 10, timeWindow: '15 minutes' } as const;
const DAY_MS = 86_400_000;

type Access = 'ok' | 'login' | 'unauthorized' | 'hidden';

/** A request from this machine that no proxy forwarded (a proxy on the same host also connects from 127.0.0.1). */
export function isLocal(req: FastifyRequest): boolean {
  return (
    ['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(req.socket.remoteAddress ?? '') &&
    req.headers['x-forwarded-for'] === undefined &&
    req.headers['forwarded'] === undefined &&
    req.headers['x-real-ip'] === undefined
  );
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('base64url');

/** Constant time whatever the lengths: both sides are hashed to the same size first. */
function tokenMatches(given: string, token: string): boolean {
  return sameString(sha256(given), sha256(token));
}

/** Only a path inside the admin area, never another site (`//evil`, `/\evil`). */
function safeNext(v: unknown): string {
  return typeof v === 'string' && /^\/admin(?:[/?][^\\]*)?$/.test(v) && !v.startsWith('//') && v.length <= 500 ? v : '/admin';
}

function page(reply: FastifyReply, body: string, status = 200): string {
  reply.code(status).type('text/html; charset=utf-8');
  return body;
}

const wantsHtml = (req: FastifyRequest): boolean => (req.headers.accept ?? '').includes('text/html');

const intParam = (v: unknown, lo: number, hi: number): number => {
  const x = typeof v === 'string' && /^\d{1,6}$/.test(v) ? Number(v) : lo;
  return Math.min(hi, Math.max(lo, x));
};

const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Every day from `from` to `to` (YYYY-MM-DD), both included. */
function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`), end = Date.parse(`${to}T00:00:00Z`); t <= end && out.length < 400; t += DAY_MS) out.push(isoDay(t));
  return out;
}

/** Sent / failed / pending / skipped for each of the last `n` days (and any later issue dates already created). */
export async function digestDays(web: Web, n = 30): Promise<DigestDay[]> {
  const today = isoDay(web.app.now().getTime());
  const since = isoDay(Date.parse(`${today}T00:00:00Z`) - (n - 1) * DAY_MS);
  const rows = await digestsByDay(web.app.db, since);
  const byDate = new Map(rows.map((r) => [r.date, r.counts]));
  const last = rows.reduce((m, r) => (r.date > m ? r.date : m), today);
  return daysBetween(since, last).map((date) => {
    const c = byDate.get(date);
    return { date, sent: c?.sent ?? 0, failed: c?.failed ?? 0, pending: (c?.pending ?? 0) + (c?.sending ?? 0), skipped: c?.skipped ?? 0 };
  });
}

/** Confirmed, pending and unsubscribed at the end of each day, from the events per day (at most the last `n` days). */
export function subscriberDays(events: readonly SubscriberDayEvents[], today: string, n = 90): SubscriberDay[] {
  if (!events.length) return [];
  const firstEvent = events[0]!.day;
  const windowStart = isoDay(Date.parse(`${today}T00:00:00Z`) - (n - 1) * DAY_MS);
  const from = firstEvent > windowStart ? firstEvent : windowStart;
  const lastEvent = events.at(-1)!.day;
  const to = lastEvent > today ? lastEvent : today;
  let created = 0;
  let confirmed = 0;
  let unsubC = 0;
  let unsubP = 0;
  let i = 0;
  const out: SubscriberDay[] = [];
  for (const date of daysBetween(from, to)) {
    for (; i < events.length && events[i]!.day <= date; i++) {
      const e = events[i]!;
      created += e.created;
      confirmed += e.confirmed;
      unsubC += e.unsubscribedConfirmed;
      unsubP += e.unsubscribedPending;
    }
    out.push({ date, confirmed: Math.max(0, confirmed - unsubC), pending: Math.max(0, created - confirmed - unsubP), unsubscribed: unsubC + unsubP });
  }
  return out;
}

export function registerAdmin(server: FastifyInstance, web: Web): void {
  const { app } = web;
  const token = app.config.adminToken;
  const https = app.config.baseUrl.startsWith('https://');
  const tokenHash = token ? sha256(token) : '';
  const sign = (expires: number): string => createHmac('sha256', app.config.secretKey).update(`admin:${expires}:${tokenHash}`).digest('base64url');
  const cookieAttrs = (maxAge: number) => ['Path=/admin', `Max-Age=${maxAge}`, 'HttpOnly', 'SameSite=Strict', ...(https ? ['Secure'] : [])].join('; ');

  const validCookie = (req: FastifyRequest): boolean => {
    const raw = parseCookies(req.headers.cookie).get(ADMIN_COOKIE);
    const m = raw ? /^(\d{13})\.([A-Za-z0-9_-]{43})$/.exec(raw) : null;
    if (!m) return false;
    const expires = Number(m[1]);
    return expires > app.now().getTime() && expires - app.now().getTime() <= SESSION_MS && sameString(m[2]!, sign(expires));
  };

  const access = (req: FastifyRequest): Access => {
    if (!token) return isLocal(req) ? 'ok' : 'hidden';
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      const m = /^Bearer[ \t]+(\S+)\s*$/i.exec(auth);
      return m && tokenMatches(m[1]!, token) ? 'ok' : 'unauthorized';
    }
    if (validCookie(req)) return 'ok';
    return req.method === 'GET' && wantsHtml(req) ? 'login' : 'unauthorized';
  };

  /** Headers for every admin answer, before anything can go wrong. */
  const privateHeaders = (reply: FastifyReply): void => {
    reply.header('cache-control', 'no-store');
    reply.header('x-robots-tag', 'noindex, nofollow');
    reply.header('referrer-policy', 'no-referrer');
  };

  /** A page context whose stylesheet includes the admin styles. */
  const adminPage = (req: FastifyRequest, reply: FastifyReply): PageContext => {
    const ctx = web.page(req, reply);
    const css = web.statics.text('/static/', 'admin.css');
    return { ...ctx, assets: { ...ctx.assets, inlineCss: `${ctx.assets.inlineCss ?? ''}\n${css}` } };
  };
  const render = (req: FastifyRequest, reply: FastifyReply, title: string, main: (ctx: PageContext) => ReturnType<typeof overviewMain>): string => {
    const ctx = adminPage(req, reply);
    return page(reply, layout(ctx, { title, noindex: true, noPromise: true }, main(ctx)));
  };

  /** Wraps a handler: private headers, then access, then the handler. */
  const guarded =
    (handler: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>): RouteHandlerMethod =>
    async (req, reply) => {
      privateHeaders(reply);
      switch (access(req)) {
        case 'ok':
          return handler(req, reply);
        case 'hidden':
          return apiError(reply, 404, 'not_found', 'No such route');
        case 'login':
          return reply.redirect(`/admin/login?next=${encodeURIComponent(safeNext(req.url))}`, 303);
        default:
          reply.header('www-authenticate', 'Bearer realm="paperboy admin"');
          return apiError(reply, 401, 'unauthorized', 'Sign in at /admin/login, or send Authorization: Bearer <ADMIN_TOKEN>');
      }
    };

  const opts = { config: { rateLimit: ADMIN_RATE } };
  const signOut = Boolean(token);

  // ---------------------------------------------------------------- sign-in

  server.get('/admin/login', { config: { rateLimit: ADMIN_RATE } }, async (req, reply) => {
    privateHeaders(reply);
    if (!token) return isLocal(req) ? reply.redirect('/admin', 303) : apiError(reply, 404, 'not_found', 'No such route');
    const next = safeNext((req.query as { next?: unknown }).next);
    if (validCookie(req)) return reply.redirect(next, 303);
    const ctx = adminPage(req, reply);
    return page(reply, layout(ctx, { title: 'Admin sign-in', noindex: true, noPromise: true }, loginMain(ctx, { next })));
  });

  server.post('/admin/login', { config: { rateLimit: LOGIN_RATE } }, async (req, reply) => {
    privateHeaders(reply);
    if (!token) return apiError(reply, 404, 'not_found', 'No such route');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const next = safeNext(body['next']);
    const again = (error: string, status: number) => {
      const ctx = adminPage(req, reply);
      return page(reply, layout(ctx, { title: 'Admin sign-in', noindex: true, noPromise: true }, loginMain(ctx, { next, error })), status);
    };
    if (!web.sessions.checkCsrf(req)) return again('This form has expired. Please sign in again.', 403);
    const given = typeof body['token'] === 'string' ? body['token'].trim() : '';
    if (!given || !tokenMatches(given, token)) {
      app.log.warn({ ip: req.ip }, 'web: admin sign-in refused');
      return again('That token is not right.', 401);
    }
    const expires = app.now().getTime() + SESSION_MS;
    reply.header('set-cookie', `${ADMIN_COOKIE}=${expires}.${sign(expires)}; ${cookieAttrs(SESSION_MS / 1000)}`);
    return reply.redirect(next, 303);
  });

  server.post('/admin/logout', { config: { rateLimit: ADMIN_RATE } }, async (req, reply) => {
    privateHeaders(reply);
    if (!token) return apiError(reply, 404, 'not_found', 'No such route');
    if (!web.sessions.checkCsrf(req)) return apiError(reply, 403, 'forbidden', 'The form has expired: reload the page and try again');
    reply.header('set-cookie', `${ADMIN_COOKIE}=; ${cookieAttrs(0)}`);
    return reply.redirect('/admin/login', 303);
  });

  // ---------------------------------------------------------------- pages

  server.get(
    '/admin',
    opts,
    guarded(async (req, reply) => {
      const db = app.db;
      const now = app.now().getTime();
      const today = isoDay(now);
      const [papers, subscribers, todayDigests, bounces, suppressions, ingest, jobs, runs] = await Promise.all([
        countPapers(db),
        countSubscribers(db),
        digestCounts(db, today),
        bounceCounts(db),
        suppressionCount(db),
        ingestRunCounts(db),
        listJobs(db),
        listIngestRuns(db, { limit: 5 }),
      ]);
      const overview = { now, papers, subscribers, today, todayDigests, bounces: bounces.hard + bounces.soft + bounces.complaint, suppressions, ingest, jobs, runs };
      return render(req, reply, 'Admin', (ctx) => overviewMain(ctx, overview, signOut));
    }),
  );

  server.get(
    '/admin/ingest',
    opts,
    guarded(async (req, reply) => {
      const q = req.query as { status?: unknown; page?: unknown };
      const status = (['ok', 'failed', 'running'] as const).find((s) => s === q.status);
      const pageNo = intParam(q.page, 1, 10_000);
      const [rows, counts] = await Promise.all([listIngestRuns(app.db, { limit: PAGE_SIZE + 1, offset: (pageNo - 1) * PAGE_SIZE, status: status as IngestRun['status'] | undefined }), ingestRunCounts(app.db)]);
      const view = { runs: rows.slice(0, PAGE_SIZE), counts, status: status ?? '', page: pageNo, hasNext: rows.length > PAGE_SIZE, now: app.now().getTime() };
      return render(req, reply, 'Ingest runs', (ctx) => ingestMain(ctx, view, signOut));
    }),
  );

  server.get(
    '/admin/digests',
    opts,
    guarded(async (req, reply) => {
      const days = await digestDays(web);
      return render(req, reply, 'Digests', (ctx) => digestsMain(ctx, days, signOut));
    }),
  );

  server.get(
    '/admin/subscribers',
    opts,
    guarded(async (req, reply) => {
      const db = app.db;
      const [counts, events, bounces, bCounts, suppressions, sCount] = await Promise.all([
        countSubscribers(db),
        subscriberEventsByDay(db),
        listBounces(db, 100),
        bounceCounts(db),
        listSuppressions(db, 100),
        suppressionCount(db),
      ]);
      const view = { counts, days: subscriberDays(events, isoDay(app.now().getTime())), bounces, bounceCounts: bCounts, suppressions, suppressionCount: sCount };
      return render(req, reply, 'Subscribers', (ctx) => subscribersMain(ctx, view, signOut));
    }),
  );

  // ---------------------------------------------------------------- the outbox

  server.get(
    '/admin/outbox',
    opts,
    guarded(async (req, reply) => {
      const q = req.query as { status?: unknown; page?: unknown; date?: unknown };
      const status = (['pending', 'sending', 'sent', 'failed', 'skipped'] as const).find((s) => s === q.status);
      const date = typeof q.date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(q.date) ? q.date : '';
      const pageNo = intParam(q.page, 1, 10_000);
      const rows = await recentDigests(app.db, { limit: PAGE_SIZE + 1, offset: (pageNo - 1) * PAGE_SIZE, status: status as DigestStatus | undefined, issueDate: date || undefined });
      const files = app.digests.mailer.kind === 'file' ? { dir: app.config.mail.outboxDir, entries: listOutbox(app.config.mail.outboxDir) } : undefined;
      const view = { rows: rows.slice(0, PAGE_SIZE), status: status ?? '', date, page: pageNo, hasNext: rows.length > PAGE_SIZE, files };
      return render(req, reply, 'Outbox', (ctx) => outboxMain(ctx, view, signOut));
    }),
  );

  // One message from the file outbox: the raw .eml, or its HTML part sandboxed.
  server.get(
    '/admin/outbox/:day/:name',
    opts,
    guarded(async (req, reply) => {
      if (app.digests.mailer.kind !== 'file') return apiError(reply, 404, 'not_found', 'No such message');
      const { day, name } = req.params as { day: string; name: string };
      if ((req.query as { view?: string }).view === 'html') {
        const body = readOutbox(app.config.mail.outboxDir, day, name.replace(/\.eml$/, '.html'));
        if (!body) return apiError(reply, 404, 'not_found', 'No such message');
        // The message's own HTML, sandboxed: no scripts, no same-origin access.
        reply.header('content-security-policy', "default-src 'none'; img-src data: https:; style-src 'unsafe-inline'; sandbox");
        reply.type('text/html; charset=utf-8');
        return body;
      }
      const raw = readOutbox(app.config.mail.outboxDir, day, name);
      if (!raw) return apiError(reply, 404, 'not_found', 'No such message');
      reply.type('message/rfc822');
      reply.header('content-disposition', `inline; filename="${name}"`);
      return raw;
    }),
  );
}
