/**
 * The admin area: who gets in (ADMIN_TOKEN by sign-in form with CSRF, or as a bearer token;
 * loopback only without it), and what it shows — ingest runs with their errors, digests per day,
 * subscribers over time, bounces and suppressions, the outbox — over seeded data full of hostile
 * values, which must come out escaped, with addresses masked and charts that say what they show.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Sql } from '../src/db/sql.ts';
import { emptySummary } from '../src/ingest/pipeline.ts';
import { createDigest, digestsOf, markFinal, markSent } from '../src/store/digests.ts';
import { failRun, finishRun, startRun } from '../src/store/ingest-runs.ts';
import { claimJob, ensureJob, finishJob } from '../src/store/jobs.ts';
import { DEFAULT_PREFERENCES, insertSubscriber, recordBounce, setStatus, suppress } from '../src/store/subscribers.ts';
import { lineChart } from '../src/web/chart.ts';
import { subscriberDays } from '../src/web/routes/admin.ts';
import { buildServer } from '../src/web/server.ts';
import { tempApp } from './helpers/app.ts';
import { clean, launchBrowser, overflowing, screenshot, scrollWidth, startSite, view, visitor } from './helpers/browser.ts';

const TOKEN = 'admin-token-0123456789-abcdefghij';
const HOSTILE = '<script>alert(1)</script>\r\nSet-Cookie: evil=1 "quoted" & <b>bold</b>';
const EVIL_EMAIL = '<img src=x onerror=alert(2)>evil@exa<i>mple.org';
let now = new Date('2026-08-22T12:00:00Z');

let app: Awaited<ReturnType<typeof tempApp>>;
let server: FastifyInstance;

const iso = (s: string) => new Date(s).toISOString();

async function seed(db: Sql): Promise<void> {
  // Ingest: one good run, one failed with hostile errors, one still running.
  const ok = (await startRun(db, 'hf-daily', ['2026-08-21'], iso('2026-08-21T10:00:00Z')))!;
  await finishRun(db, ok, { ...emptySummary(), read: 40, new: 30, updated: 5, unchanged: 5 }, iso('2026-08-21T10:00:42Z'));
  const bad = (await startRun(db, 'arxiv-oai', ['cs'], iso('2026-08-22T09:00:00Z')))!;
  await finishRun(
    db,
    bad,
    { ...emptySummary(), read: 3, skipped: 1, failures: [{ where: 'https://oai.example/<x>', reason: `HTTP 503 ${HOSTILE}` }], errors: [{ where: 'record#2', reason: 'no title <u>here</u>' }] },
    iso('2026-08-22T09:01:00Z'),
  );
  const broken = (await startRun(db, 'arxiv-api', [], iso('2026-08-22T09:30:00Z')))!;
  await failRun(db, broken, `fetch failed: ${HOSTILE}`, iso('2026-08-22T09:30:05Z'));
  await startRun(db, 'hf-daily', [], iso('2026-08-22T11:59:00Z'));

  // Subscribers over several days: confirmed, pending, unsubscribed; one with a hostile address.
  const add = async (email: string, status: 'pending' | 'confirmed', at: string) =>
    (await insertSubscriber(db, { email, emailKey: email.toLowerCase(), status, prefs: { ...DEFAULT_PREFERENCES }, source: 'test', now: iso(at) }))!;
  const a = await add('alice@example.org', 'confirmed', '2026-08-18T08:00:00Z');
  const b = await add('bob@example.org', 'confirmed', '2026-08-19T08:00:00Z');
  const evil = await add(EVIL_EMAIL, 'confirmed', '2026-08-20T08:00:00Z');
  await add('pat@example.org', 'pending', '2026-08-21T08:00:00Z');
  const gone = await add('gone@example.org', 'confirmed', '2026-08-19T09:00:00Z');
  await setStatus(db, gone, 'unsubscribed', iso('2026-08-21T09:00:00Z'));

  // Digests over three days: sent, failed (hostile error), pending, skipped.
  const mk = async (sub: number, date: string) => createDigest(db, sub, date, `<${sub}-${date}@test>`, iso(`${date}T07:00:00Z`));
  for (const date of ['2026-08-20', '2026-08-21', '2026-08-22']) {
    await mk(a, date);
    await mk(b, date);
  }
  await mk(evil, '2026-08-22');
  for (const d of await digestsOf(db, a)) if (d.issueDate !== '2026-08-22') await markSent(db, d, [], iso(`${d.issueDate}T07:00:05Z`));
  const bd = await digestsOf(db, b);
  await markSent(db, bd.find((d) => d.issueDate === '2026-08-20')!, [], iso('2026-08-20T07:00:05Z'));
  await markFinal(db, bd.find((d) => d.issueDate === '2026-08-21')!.id, 'skipped', 'nothing new');
  await markFinal(db, (await digestsOf(db, evil))[0]!.id, 'failed', `550 ${HOSTILE}`);

  // Bounces and suppressions.
  await recordBounce(db, EVIL_EMAIL.toLowerCase(), 'hard', `550 5.1.1 ${HOSTILE}`, iso('2026-08-22T07:01:00Z'));
  await recordBounce(db, 'bob@example.org', 'soft', '421 try later', iso('2026-08-21T07:01:00Z'));
  await suppress(db, EVIL_EMAIL.toLowerCase(), `complaint ${HOSTILE}`, iso('2026-08-22T07:02:00Z'));

  // The scheduler's jobs: one failed last time with a hostile message, one never run.
  await ensureJob(db, 'ingest:arxiv-oai', iso('2026-08-22T09:00:00Z'));
  assert.ok(await claimJob(db, 'ingest:arxiv-oai', 'w1', iso('2026-08-22T09:00:00Z'), iso('2026-08-22T09:10:00Z')));
  await finishJob(db, 'ingest:arxiv-oai', 'w1', { finishedAt: iso('2026-08-22T09:01:00Z'), nextRunAt: iso('2026-08-22T10:00:00Z'), status: 'failed', message: HOSTILE });
  await ensureJob(db, 'trending', iso('2026-08-22T13:00:00Z'));
}

before(async () => {
  app = await tempApp({ ADMIN_TOKEN: TOKEN, BASE_URL: 'https://papers.example.org', PAPERBOY_DEMO: '0' }, { now: () => now });
  await seed(app.db);
  server = await buildServer(app);
});

after(async () => {
  await server?.close();
  await app?.close();
});

const bearer = { authorization: `Bearer ${TOKEN}` };
const HTML = { accept: 'text/html' };

function cookieOf(res: LightMyRequestResponse, name: string): string | undefined {
  const raw = res.headers['set-cookie'];
  const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
  return list.find((c) => c.startsWith(`${name}=`));
}

/** The hostile text must never come out as markup; addresses must never come out whole. */
function assertSafe(body: string): void {
  assert.doesNotMatch(body, /<script>alert/);
  assert.doesNotMatch(body, /<img src=x/);
  assert.doesNotMatch(body, /<b>bold<\/b>/);
  assert.doesNotMatch(body, /<u>here/);
  assert.ok(!body.includes('alice@example.org'), 'addresses are masked');
  assert.ok(!body.includes('onerror=alert(2)>evil@'), 'hostile address is masked');
}

test('without the token: HTML requests are sent to sign in, others get 401; a wrong bearer is refused', async () => {
  let r = await server.inject({ url: '/admin', headers: HTML });
  assert.equal(r.statusCode, 303);
  assert.equal(r.headers.location, '/admin/login?next=%2Fadmin');
  assert.equal(r.headers['cache-control'], 'no-store');
  r = await server.inject({ url: '/admin/ingest?status=failed', headers: HTML });
  assert.equal(r.headers.location, `/admin/login?next=${encodeURIComponent('/admin/ingest?status=failed')}`);
  for (const url of ['/admin', '/admin/ingest', '/admin/digests', '/admin/subscribers', '/admin/outbox']) {
    r = await server.inject({ url });
    assert.equal(r.statusCode, 401, url);
    assert.match(String(r.headers['www-authenticate']), /^Bearer/);
    assert.equal(r.json().error.code, 'unauthorized');
  }
  // With a token set, being on this machine is not enough.
  assert.equal((await server.inject({ url: '/admin', remoteAddress: '127.0.0.1' })).statusCode, 401);
  for (const auth of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, 'Bearer ', `Basic ${TOKEN}`, TOKEN]) {
    r = await server.inject({ url: '/admin', headers: { authorization: auth, ...HTML } });
    assert.equal(r.statusCode, 401, auth);
  }
  // A forged or expired cookie is no better than none.
  r = await server.inject({ url: '/admin', headers: { cookie: `pb_admin=${Date.now() + 3600_000}.${'A'.repeat(43)}`, ...HTML } });
  assert.equal(r.statusCode, 303);
});

test('bearer token: every page, private and not indexed', async () => {
  for (const url of ['/admin', '/admin/ingest', '/admin/ingest?status=failed&page=1', '/admin/digests', '/admin/subscribers', '/admin/outbox', '/admin/outbox?status=failed', '/admin/outbox?date=2026-08-22']) {
    const r = await server.inject({ url, headers: bearer });
    assert.equal(r.statusCode, 200, `${url}: ${r.body.slice(0, 300)}`);
    assert.match(String(r.headers['content-type']), /^text\/html/);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.match(String(r.headers['x-robots-tag']), /noindex/);
    assert.match(r.body, /<meta name="robots" content="noindex">/);
    assert.match(String(r.headers['content-security-policy']), /script-src 'self'/);
    assertSafe(r.body);
  }
});

test('sign-in form: CSRF enforced, a wrong token refused, the right one sets a strict admin cookie', async () => {
  const form = await server.inject({ url: '/admin/login?next=/admin/ingest', headers: HTML });
  assert.equal(form.statusCode, 200);
  assert.equal(form.headers['cache-control'], 'no-store');
  const visitor = cookieOf(form, 'pb_v')!.split(';')[0]!;
  const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!;
  assert.match(form.body, /name="next" value="\/admin\/ingest"/);
  assert.match(form.body, /type="password" name="token"/);

  const post = (fields: Record<string, string>, cookie = visitor, remoteAddress = '127.0.0.1') =>
    server.inject({ method: 'POST', url: '/admin/login', remoteAddress, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(fields).toString() });

  let r = await post({ token: TOKEN, next: '/admin/ingest' }); // no CSRF token
  assert.equal(r.statusCode, 403);
  assert.equal(cookieOf(r, 'pb_admin'), undefined);
  r = await post({ _csrf: 'x'.repeat(32), token: TOKEN });
  assert.equal(r.statusCode, 403);
  r = await post({ _csrf: csrf, token: TOKEN }, ''); // the token without its visitor cookie
  assert.equal(r.statusCode, 403);
  r = await post({ _csrf: csrf, token: `${TOKEN}-wrong` });
  assert.equal(r.statusCode, 401);
  assert.equal(cookieOf(r, 'pb_admin'), undefined);
  assert.match(r.body, /That token is not right/);

  // Only paths inside the admin area are followed after sign-in.
  r = await post({ _csrf: csrf, token: TOKEN, next: '//evil.example/admin' });
  assert.equal(r.statusCode, 303);
  assert.equal(r.headers.location, '/admin');
  r = await post({ _csrf: csrf, token: TOKEN, next: '/admin/ingest' });
  assert.equal(r.statusCode, 303);
  assert.equal(r.headers.location, '/admin/ingest');
  const set = cookieOf(r, 'pb_admin')!;
  for (const attr of ['HttpOnly', 'SameSite=Strict', 'Secure', 'Path=/admin', 'Max-Age=43200']) assert.ok(set.includes(attr), `${attr} in ${set}`);
  assert.ok(!set.includes(TOKEN), 'the cookie never holds the token');
  const admin = set.split(';')[0]!;

  const page = await server.inject({ url: '/admin/ingest', headers: { cookie: `${visitor}; ${admin}`, ...HTML } });
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /Sign out/);
  // Signed in: the sign-in page goes straight on.
  assert.equal((await server.inject({ url: '/admin/login?next=/admin/digests', headers: { cookie: admin, ...HTML } })).headers.location, '/admin/digests');

  // A tampered expiry breaks the signature.
  const [exp, mac] = admin.slice('pb_admin='.length).split('.');
  assert.equal((await server.inject({ url: '/admin', headers: { cookie: `pb_admin=${Number(exp) + 1000}.${mac}` } })).statusCode, 401);
  // After 12 hours it has expired.
  const saved = now;
  now = new Date(saved.getTime() + 12 * 3600_000 + 1000);
  try {
    assert.equal((await server.inject({ url: '/admin', headers: { cookie: admin, ...HTML } })).statusCode, 303);
  } finally {
    now = saved;
  }

  // Sign out: CSRF again, and the cookie is cleared.
  r = await server.inject({ method: 'POST', url: '/admin/logout', headers: { cookie: `${visitor}; ${admin}`, 'content-type': 'application/x-www-form-urlencoded' }, payload: '' });
  assert.equal(r.statusCode, 403);
  r = await server.inject({ method: 'POST', url: '/admin/logout', headers: { cookie: `${visitor}; ${admin}`, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${csrf}` });
  assert.equal(r.statusCode, 303);
  assert.match(cookieOf(r, 'pb_admin')!, /^pb_admin=; .*Max-Age=0/);

  // Sign-in attempts are limited per address.
  const codes: number[] = [];
  for (let i = 0; i < 12; i++) codes.push((await post({ _csrf: csrf, token: 'guess-guess-guess-guess-guess' }, visitor, '198.51.100.7')).statusCode);
  assert.deepEqual(codes.slice(0, 10), Array(10).fill(401));
  assert.equal(codes[11], 429);
});

test('overview: counts, the scheduler with last status and lag, latest runs, today\'s digests', async () => {
  const r = await server.inject({ url: '/admin', headers: bearer });
  const b = r.body;
  assert.match(b, /<h1>Admin<\/h1>/);
  assert.match(b, /aria-current="page">Overview/);
  assert.match(b, /Confirmed subscribers<\/a><\/dt><dd>3<\/dd>/);
  assert.match(b, /Pending sign-ups<\/a><\/dt><dd>1<\/dd>/);
  assert.match(b, /Suppressed<\/a><\/dt><dd>1<\/dd>/);
  assert.match(b, /Bounces<\/a><\/dt><dd>2<\/dd>/);
  assert.match(b, /Digests for 2026-08-22/);
  assert.match(b, /Failed<\/a><\/dt><dd>1<\/dd>/);
  // Jobs: the failed one, overdue by two hours; the other due in an hour and never run.
  assert.match(b, /<code>ingest:arxiv-oai<\/code>/);
  assert.match(b, /overdue by 2 h/);
  assert.match(b, /due in 1 h/);
  assert.match(b, /never run/);
  assert.match(b, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(b, /<code>arxiv-oai<\/code>/);
  assertSafe(b);
});

test('ingest runs: status, counts and errors, escaped; filter and pages', async () => {
  let r = await server.inject({ url: '/admin/ingest', headers: bearer });
  const b = r.body;
  assert.match(b, /4 runs: 1 ok, 2 failed, 1 running/);
  assert.match(b, /✕<\/span> failed/);
  assert.match(b, /running/);
  assert.match(b, /42 s/);
  assert.match(b, /HTTP 503 &lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(b, /fetch failed: &lt;script&gt;/);
  assert.match(b, /<summary>2 errors<\/summary>/);
  assert.match(b, /<code>https:\/\/oai\.example\/&lt;x&gt;<\/code>/);
  assert.match(b, /no title &lt;u&gt;here&lt;\/u&gt;/);
  assertSafe(b);
  r = await server.inject({ url: '/admin/ingest?status=failed', headers: bearer });
  assert.equal((r.body.match(/<tr role="row"><td/g) ?? []).length, 2);
  assert.match(r.body, /href="\/admin\/ingest\?status=failed" aria-current="page"/);
  r = await server.inject({ url: '/admin/ingest?status=bogus&page=999999999', headers: bearer });
  assert.equal(r.statusCode, 200);
});

test('digests: a stacked chart per day for 30 days, with words and a table', async () => {
  const r = await server.inject({ url: '/admin/digests', headers: bearer });
  const b = r.body;
  assert.match(b, /<svg [^>]*class="pb-chart pb-chart-bars"[^>]*role="img"/);
  assert.match(b, /<title id="[^"]+">Digests per day, 2026-07-24 to 2026-08-22: sent, failed, pending, skipped<\/title>/);
  assert.match(b, /<desc id="[^"]+">30 bars from 24 Jul to 22 Aug\. Totals: sent 3, failed 1, pending 2, skipped 1\./);
  for (const key of ['sent', 'failed', 'pending', 'skipped']) assert.match(b, new RegExp(`data-key="${key}"`));
  assert.match(b, /Over the last 30 days: 3 sent, 1 failed, 2 pending, 1 skipped/);
  assert.match(b, /<details><summary>The numbers as a table<\/summary>/);
  assert.match(b, /<td role="cell" data-label="Issue date"><div><a href="\/admin\/outbox\?date=2026-08-22">2026-08-22<\/a><\/div><\/td><td role="cell" data-label="Sent" class="num"><div>0<\/div><\/td><td role="cell" data-label="Failed" class="num"><div>1<\/div><\/td><td role="cell" data-label="Pending" class="num"><div>2<\/div><\/td>/);
  assertSafe(b);
});

test('subscribers: confirmed/pending/unsubscribed over time; bounces and suppressions masked and escaped', async () => {
  const r = await server.inject({ url: '/admin/subscribers', headers: bearer });
  const b = r.body;
  assert.match(b, /<svg [^>]*class="pb-chart pb-chart-lines"[^>]*role="img"/);
  assert.match(b, /<title id="[^"]+">Subscribers over time, 2026-08-18 to 2026-08-22<\/title>/);
  assert.match(b, /<desc id="[^"]+">Confirmed rose from 1 on 18 Aug 2026 to 3 on 22 Aug 2026, peaking at 4 on 20 Aug 2026\. Pending rose from 0/);
  assert.match(b, /From 2026-08-18 to 2026-08-22: confirmed 1 → 3, pending 0 → 1, unsubscribed 0 → 1\./);
  assert.match(b, /Bounces <span class="meta">\(1 hard, 1 soft, 0 complaints\)/);
  assert.match(b, /Suppressed addresses <span class="meta">\(1\)/);
  assert.match(b, /b\*\*\*b@example\.org/);
  assert.match(b, /&lt;\*\*\*l@exa&lt;i&gt;mple\.org/);
  assert.match(b, /550 5\.1\.1 &lt;script&gt;/);
  assert.match(b, /complaint &lt;script&gt;/);
  assertSafe(b);
});

test('outbox: digest rows with status and errors; filters by status and date', async () => {
  let r = await server.inject({ url: '/admin/outbox?status=failed', headers: bearer });
  assert.equal((r.body.match(/<tr role="row"><td/g) ?? []).length, 1);
  assert.match(r.body, /550 &lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(r.body, /&lt;\*\*\*l@exa&lt;i&gt;mple\.org/);
  assertSafe(r.body);
  r = await server.inject({ url: '/admin/outbox?date=2026-08-20', headers: bearer });
  assert.equal((r.body.match(/<tr role="row"><td/g) ?? []).length, 2);
  assert.match(r.body, /Digests for 2026-08-20/);
  assert.match(r.body, /href="\/admin\/outbox\?date=2026-08-20&amp;status=failed"/);
  // No SMTP_URL: the mail files are listed too.
  assert.match(r.body, /Mail files/);
});

test('subscriber counts per day are cumulative and never negative', () => {
  const days = subscriberDays(
    [
      { day: '2026-08-01', created: 2, confirmed: 1, unsubscribedConfirmed: 0, unsubscribedPending: 0 },
      { day: '2026-08-03', created: 1, confirmed: 1, unsubscribedConfirmed: 1, unsubscribedPending: 1 },
    ],
    '2026-08-04',
  );
  assert.deepEqual(days, [
    { date: '2026-08-01', confirmed: 1, pending: 1, unsubscribed: 0 },
    { date: '2026-08-02', confirmed: 1, pending: 1, unsubscribed: 0 },
    { date: '2026-08-03', confirmed: 1, pending: 0, unsubscribed: 2 },
    { date: '2026-08-04', confirmed: 1, pending: 0, unsubscribed: 2 },
  ]);
  assert.deepEqual(subscriberDays([], '2026-08-04'), []);
});

test('lineChart: one scale from 0, hostile labels escaped, bad points dropped, nothing for nothing', () => {
  assert.equal(lineChart([]).value, '');
  assert.equal(lineChart([{ name: 'x', label: 'X', points: [{ at: 'not a date', value: 1 }, { at: '2026-08-01', value: Number.NaN }] }]).value, '');
  const svg = lineChart(
    [
      { name: 'a"><script>', label: '<b>A</b>\u0000', points: [{ at: '2026-08-02', value: 5 }, { at: '2026-08-01', value: -3 }, { at: '2026-08-03', value: Infinity }] },
      { name: 'b', label: 'B', points: [{ at: '2026-08-03', value: 10 }] },
    ],
    { title: '</title><script>x</script>' },
  ).value;
  assert.doesNotMatch(svg, /<script>|<b>/);
  assert.ok(!svg.includes('\u0000'), 'no NUL in the XML');
  assert.match(svg, /<title id="[^"]+">&lt;\/title&gt;&lt;script&gt;x&lt;\/script&gt;<\/title>/);
  // Sorted by date; the negative value counts as 0; the shared scale tops out at 10.
  assert.match(svg, /<desc id="[^"]+">&lt;b&gt;A&lt;\/b&gt; rose from 0 on 1 Aug 2026 to 5 on 2 Aug 2026\. B was 10 on 3 Aug 2026\.<\/desc>/);
  assert.match(svg, />10<\/text>/);
  assert.equal((svg.match(/<polyline/g) ?? []).length, 1, 'a one-point series is a dot');
});

test('without ADMIN_TOKEN: this machine only, never through a proxy', async () => {
  const local = await tempApp({ PAPERBOY_DEMO: '0' });
  const srv = await buildServer(local);
  try {
    const r = await srv.inject({ url: '/admin', remoteAddress: '127.0.0.1', headers: HTML });
    assert.equal(r.statusCode, 200);
    assert.doesNotMatch(r.body, /Sign out/);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.equal((await srv.inject({ url: '/admin/digests', remoteAddress: '::1' })).statusCode, 200);
    assert.equal((await srv.inject({ url: '/admin', remoteAddress: '203.0.113.5', headers: HTML })).statusCode, 404);
    assert.equal((await srv.inject({ url: '/admin/subscribers', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.5' } })).statusCode, 404);
    assert.equal((await srv.inject({ url: '/admin', remoteAddress: '127.0.0.1', headers: { forwarded: 'for=203.0.113.5' } })).statusCode, 404);
    // A bearer token means nothing when none is configured.
    assert.equal((await srv.inject({ url: '/admin', remoteAddress: '203.0.113.5', headers: bearer })).statusCode, 404);
    assert.equal((await srv.inject({ url: '/admin/login', remoteAddress: '127.0.0.1' })).headers.location, '/admin');
    assert.equal((await srv.inject({ url: '/admin/login', remoteAddress: '203.0.113.5' })).statusCode, 404);
    assert.equal((await srv.inject({ method: 'POST', url: '/admin/login', remoteAddress: '127.0.0.1', payload: {} })).statusCode, 404);
  } finally {
    await srv.close();
    await local.close();
  }
});

test('ADMIN_TOKEN must be long enough', async () => {
  await assert.rejects(tempApp({ ADMIN_TOKEN: 'short' }), /ADMIN_TOKEN: must be at least 24 characters/);
});

test('in a browser at 375 and 1280 px, light and dark: sign in with the keyboard, no sideways scroll, accessible basics', async () => {
  const browser = await launchBrowser();
  const site = await startSite({ env: { ADMIN_TOKEN: TOKEN } });
  try {
    await seed(site.app.db);
    const { context, page, w } = await visitor(browser, { viewport: { width: 375, height: 800 } });
    try {
      await page.goto(`${site.url}/admin/digests`);
      assert.match(page.url(), /\/admin\/login\?next=%2Fadmin%2Fdigests$/);
      // Keyboard only: the token field, then Enter.
      await page.getByLabel('Admin token').focus();
      await page.keyboard.type(TOKEN);
      await Promise.all([page.waitForURL(/\/admin\/digests$/), page.keyboard.press('Enter')]);

      const wide: string[] = [];
      for (const [width, scheme] of [[375, 'light'], [375, 'dark'], [1280, 'light'], [1280, 'dark']] as const) {
        await view(page, width, scheme);
        for (const path of ['/admin', '/admin/ingest', '/admin/digests', '/admin/subscribers', '/admin/outbox']) {
          await page.goto(site.url + path);
          const bg = await page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
          assert.equal(bg, scheme === 'dark' ? 'rgb(19, 19, 22)' : 'rgb(255, 255, 255)', `${path} ${scheme}`);
          const sw = await scrollWidth(page);
          if (sw > width) wide.push(`${path} (${width} px, ${scheme}) is ${sw} px wide: ${(await overflowing(page, width)).join('; ')}`);
          // Nothing from the data became markup.
          assert.equal(await page.locator('img[src="x"], [onerror], script:not([src])').count(), 0, path);
          // The basics an accessibility checker looks at first.
          assert.equal(await page.locator('h1').count(), 1, `${path}: one h1`);
          assert.equal(await page.getAttribute('html', 'lang'), 'en');
          // (Evaluated as strings: the tests are type-checked without the DOM library.)
          const unnamed = await page.evaluate<number>(
            `[...document.querySelectorAll('svg[role="img"]')].filter((e) => !(e.getAttribute('aria-labelledby') || '').split(' ').every((id) => document.getElementById(id)?.textContent.trim())).length`,
          );
          assert.equal(unnamed, 0, `${path}: every chart is named`);
          const emptyLinks = await page.evaluate<number>(`[...document.querySelectorAll('a')].filter((e) => !e.textContent.trim() && !e.getAttribute('aria-label')).length`);
          assert.equal(emptyLinks, 0, `${path}: every link has text`);
          const unlabelled = await page.evaluate<number>(
            `[...document.querySelectorAll('input:not([type="hidden"]):not([tabindex="-1"]), select, textarea')].filter((e) => !(e.id && document.querySelector('label[for="' + e.id + '"]')) && !e.closest('label') && !e.getAttribute('aria-label')).length`,
          );
          assert.equal(unlabelled, 0, `${path}: every field has a label`);
          const skipped = await page.evaluate<boolean>(`(() => { let last = 0; for (const h of document.querySelectorAll('main h1, main h2, main h3, main h4')) { const l = Number(h.tagName[1]); if (last && l > last + 1) return true; last = l; } return false; })()`);
          assert.equal(skipped, false, `${path}: no heading level skipped`);
          await screenshot(page, `admin${path.replace(/\//g, '-')}`, width, scheme);
        }
      }
      assert.deepEqual(wide, []);

      // The data table behind the digests chart opens from the keyboard.
      await page.goto(`${site.url}/admin/digests`);
      await page.locator('summary', { hasText: 'The numbers as a table' }).focus();
      await page.keyboard.press('Enter');
      assert.equal(await page.locator('details').first().getAttribute('open'), '');
      clean(w);
    } finally {
      await context.close();
    }
  } finally {
    await site.close();
    await browser.close();
  }
});
