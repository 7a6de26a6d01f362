/**
 * The site end to end on a real, migrated database with real Daily Papers data: trending and its
 * windows, votes (one per visitor, withdrawable, CSRF-checked, rate limited), the pages, feeds,
 * the JSON API and its OpenAPI document, and `paperboy trending`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { XMLValidator } from 'fast-xml-parser';
import type { App } from '../src/app.ts';
import { DEMO_DIR } from '../src/demo.ts';
import { runIngest } from '../src/ingest/run.ts';
import { buildServer } from '../src/web/server.ts';
import { lastJson, runCli, tempApp } from './helpers/app.ts';

type TestApp = App & { dir: string };
let app: TestApp;
let server: FastifyInstance;
const NOW = new Date('2026-08-22T12:00:00Z');
const DAYS = ['2026-08-20.json', '2026-08-21.json'];

before(async () => {
  app = await tempApp({}, { now: () => NOW });
  const daily = path.join(app.dir, 'daily');
  mkdirSync(daily);
  for (const d of DAYS) copyFileSync(path.join(DEMO_DIR, 'hf-daily', d), path.join(daily, d));
  const r = await runIngest(app, 'hf-daily', { inputs: [daily] });
  assert.ok(r.summary.new > 20, JSON.stringify(r.summary));
  const file = path.join(app.dir, 'more.jsonl');
  writeFileSync(
    file,
    [
      { id: '2401.00001', title: 'Quantised llama on a <script>alert(1)</script> board', abstract: 'We run $\\alpha$-quantised models. <img src=x onerror=alert(1)>', authors: ['Song Han', 'Ji Lin'], date: '2024-01-15', categories: ['cs.LG'] },
      { id: '2401.00002', title: 'A second paper by Song Han', abstract: 'Sparse attention for point clouds.', authors: ['Song Han'], date: '2024-01-20', categories: ['cs.CV'] },
    ]
      .map((x) => JSON.stringify(x))
      .join('\n'),
  );
  await runIngest(app, 'jsonl', { inputs: [file] });
  server = await buildServer(app);
});

after(async () => {
  await server.close();
  await app.close();
});

/** A browser-like visitor: keeps its cookie and reads the CSRF token from a page. */
async function visitor(): Promise<{ cookie: string; csrf: string }> {
  const res = await server.inject('/');
  const set = String(res.headers['set-cookie'] ?? '');
  const cookie = set.split(';')[0] ?? '';
  assert.match(cookie, /^pb_v=/);
  assert.match(set, /HttpOnly/);
  assert.match(set, /SameSite=Lax/);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(res.body)?.[1];
  assert.ok(csrf, 'a CSRF token in the page');
  return { cookie, csrf };
}

interface TrendingJson {
  window: string;
  total: number;
  from: string | null;
  to: string | null;
  results: { rank: number; key: string; title: string; trending: { points: number; hot: number; votes: number; upvotes: number; why: string } }[];
}

test('papers with Daily Papers signals are scored at ingest; trending is by hotness, top by points', async () => {
  const t = (await server.inject('/api/trending?limit=100')).json<TrendingJson>();
  assert.equal(t.window, 'trending');
  assert.ok(t.total > 20);
  const hots = t.results.map((r) => r.trending.hot);
  assert.deepEqual(hots, [...hots].sort((a, b) => b - a));
  for (const r of t.results) assert.ok(r.trending.points > 0);
  // Papers without any activity (the two jsonl papers) are not trending.
  assert.ok(!t.results.some((r) => r.key.startsWith('2401.')));
  const top = (await server.inject('/api/trending?window=top&limit=100')).json<TrendingJson>();
  const pts = top.results.map((r) => r.trending.points);
  assert.deepEqual(pts, [...pts].sort((a, b) => b - a));
  assert.ok(top.results[0]!.trending.why.includes('upvotes'));
});

test('windows end at the newest activity and cover 1, 7 or 30 days', async () => {
  const day = (await server.inject('/api/trending?window=day&limit=100')).json<TrendingJson>();
  const week = (await server.inject('/api/trending?window=week&limit=100')).json<TrendingJson>();
  assert.ok(day.from && day.to);
  assert.equal(Date.parse(day.to) - Date.parse(day.from), 86_400_000);
  assert.ok(day.total > 0 && day.total <= week.total, `${day.total} ≤ ${week.total}`);
  const newest = (await server.inject('/api/trending?window=new&limit=3')).json<TrendingJson>();
  assert.ok(newest.total >= week.total + 2, 'new lists every paper');
  const bad = await server.inject('/api/trending?window=year');
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json<{ error: { code: string } }>().error.code, 'bad_window');
});

test('votes: one per visitor, withdrawable, the score moves at once, counts in the page', async () => {
  const v = await visitor();
  const key = '2401.00002';
  const vote = (up: boolean, who = v) =>
    server.inject({ method: 'POST', url: `/api/papers/${key}/vote`, headers: { cookie: who.cookie, 'x-csrf-token': who.csrf }, payload: { vote: up } });
  const before = (await server.inject(`/api/papers/${key}`)).json<{ trending: unknown }>();
  assert.equal(before.trending, null);
  let r = await vote(true);
  assert.equal(r.statusCode, 200, r.body);
  assert.deepEqual(r.json(), { id: key, votes: 1, voted: true });
  // The same visitor again: still one vote.
  r = await vote(true);
  assert.deepEqual(r.json(), { id: key, votes: 1, voted: true });
  // Another visitor adds one.
  const w = await visitor();
  r = await vote(true, w);
  assert.deepEqual(r.json(), { id: key, votes: 2, voted: true });
  const scored = (await server.inject(`/api/papers/${key}`)).json<{ trending: { votes: number; points: number; votes24h: number } }>();
  assert.equal(scored.trending.votes, 2);
  assert.equal(scored.trending.votes24h, 2);
  assert.equal(scored.trending.points, 4);
  // Now it is trending (it has points).
  const t = (await server.inject('/api/trending?limit=100')).json<TrendingJson>();
  assert.ok(t.results.some((x) => x.key === key));
  // The page shows this visitor's vote as pressed, with the count.
  const page = await server.inject({ url: `/paper/${key}`, headers: { cookie: v.cookie } });
  assert.match(page.body, /aria-pressed="true"><span aria-hidden="true">▲<\/span><span class="count">2<\/span>/);
  // Withdrawn.
  r = await vote(false);
  assert.deepEqual(r.json(), { id: key, votes: 1, voted: false });
  const other = await server.inject({ url: `/paper/${key}`, headers: { cookie: v.cookie } });
  assert.match(other.body, /aria-pressed="false"/);
});

test('the vote form works without JavaScript: POST, then back to the page', async () => {
  const v = await visitor();
  const res = await server.inject({
    method: 'POST',
    url: '/vote',
    headers: { cookie: v.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: v.csrf, paper: '2401.00001', action: 'up', back: '/?window=new' }).toString(),
  });
  assert.equal(res.statusCode, 303);
  assert.equal(res.headers.location, '/?window=new');
  // Only local paths are redirect targets.
  for (const back of ['//evil.example/x', 'https://evil.example/', '/\\evil.example']) {
    const r = await server.inject({
      method: 'POST',
      url: '/vote',
      headers: { cookie: v.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: v.csrf, paper: '2401.00001', action: 'up', back }).toString(),
    });
    assert.equal(r.headers.location, '/paper/2401.00001', back);
  }
});

test('CSRF: no token, a wrong token, or another visitor\'s token is refused', async () => {
  const v = await visitor();
  const w = await visitor();
  const form = (cookie: string, csrf: string) =>
    server.inject({ method: 'POST', url: '/vote', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ _csrf: csrf, paper: '2401.00001' }).toString() });
  assert.equal((await form(v.cookie, '')).statusCode, 403);
  assert.equal((await form(v.cookie, 'x'.repeat(32))).statusCode, 403);
  assert.equal((await form(v.cookie, w.csrf)).statusCode, 403);
  assert.equal((await form('', v.csrf)).statusCode, 403);
  // A forged cookie (someone else's id, no valid signature).
  assert.equal((await form(`pb_v=${v.cookie.slice(5, 27)}.forged`, v.csrf)).statusCode, 403);
  const api = await server.inject({ method: 'POST', url: '/api/papers/2401.00001/vote', headers: { cookie: v.cookie }, payload: { vote: true } });
  assert.equal(api.statusCode, 403);
  assert.equal(api.json<{ error: { code: string } }>().error.code, 'forbidden');
  const badBody = await server.inject({ method: 'POST', url: '/api/papers/2401.00001/vote', headers: { cookie: v.cookie, 'x-csrf-token': v.csrf }, payload: { vote: 'yes' } });
  assert.equal(badBody.statusCode, 400);
  const subscribe = await server.inject({ method: 'POST', url: '/subscribe', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'email=a%40b.org' });
  assert.equal(subscribe.statusCode, 403);
});

test('votes are rate limited per visitor address', async () => {
  const v = await visitor();
  let limited = 0;
  for (let i = 0; i < 40; i++) {
    const r = await server.inject({
      method: 'POST',
      url: '/api/papers/2401.00001/vote',
      remoteAddress: '203.0.113.9',
      headers: { cookie: v.cookie, 'x-csrf-token': v.csrf },
      payload: { vote: i % 2 === 0 },
    });
    if (r.statusCode === 429) {
      limited++;
      assert.equal(r.json<{ error: { code: string } }>().error.code, 'rate_limited');
      assert.ok(r.headers['retry-after']);
    } else assert.equal(r.statusCode, 200);
  }
  assert.equal(limited, 10);
});

test('pages: home tabs, search with filters and facets, paper, author, category, about', async () => {
  const home = await server.inject('/');
  assert.equal(home.statusCode, 200);
  assert.match(home.body, /Get trending papers in your email inbox once a day!/);
  assert.match(home.body, /<a href="\/\?window=week">This week<\/a>/);
  assert.match(home.body, /aria-current="page">Trending</);
  const week = await server.inject('/?window=week');
  assert.match(week.body, /aria-current="page">This week</);

  const s = await server.inject('/search?q=quantised&cat=cs.LG&code=&since=2024-01-01');
  assert.equal(s.statusCode, 200);
  assert.match(s.body, /<mark>quantised<\/mark>/);
  assert.match(s.body, /<option value="cs.LG" selected>/);
  assert.match(s.body, /Quantised llama/);
  assert.ok(!s.body.includes('<script>alert'), 'escaped');
  assert.match(s.body, /keyword search/);
  assert.match(s.body, /\/feeds\/search\.rss\?q=/);
  // A pasted arXiv URL goes straight to the paper.
  const id = await server.inject('/search?q=https%3A%2F%2Farxiv.org%2Fabs%2F2401.00002v3');
  assert.equal(id.statusCode, 303);
  assert.equal(id.headers.location, '/paper/2401.00002');
  // Hostile and malformed queries never fail.
  for (const q of ['"unbalanced', 'NEAR(', '*', '^', "'; DROP TABLE papers; --", 'x'.repeat(10_000), '🦙🦙']) {
    const r = await server.inject(`/search?q=${encodeURIComponent(q)}`);
    assert.equal(r.statusCode, 200, q);
  }

  const paper = await server.inject('/paper/2401.00001');
  assert.match(paper.body, /Why it ranks here/);
  assert.match(paper.body, /class="katex"/, 'LaTeX rendered on the server');
  assert.ok(!paper.body.includes('<img src=x'));
  // Any pasted form of the id redirects to the paper.
  const versioned = await server.inject('/paper/2401.00001v2');
  assert.equal(versioned.statusCode, 301);

  const author = await server.inject('/author/Song%20Han');
  assert.equal(author.statusCode, 200);
  assert.match(author.body, /A second paper by Song Han/);
  assert.match(author.body, /Quantised llama/);
  const cat = await server.inject('/category/cs.CV');
  assert.match(cat.body, /A second paper by Song Han/);
  assert.equal((await server.inject('/category/%3Cscript%3E')).statusCode, 404);
  const about = await server.inject('/about');
  assert.match(about.body, /How ranking works/);
  assert.match(about.body, /log₂\(1 \+ points\)/);
  const missing = await server.inject({ url: '/nope', headers: { accept: 'text/html' } });
  assert.equal(missing.statusCode, 404);
  assert.match(String(missing.headers['content-type']), /text\/html/);
});

test('feeds: RSS, Atom and JSON Feed for trending windows and for searches', async () => {
  for (const url of ['/feeds/trending.rss', '/feeds/trending.atom?window=week', '/feeds/search.rss?q=llama', '/feeds/search.atom?q=%3Cscript%3E']) {
    const r = await server.inject(url);
    assert.equal(r.statusCode, 200, url);
    assert.equal(XMLValidator.validate(r.body), true, url);
    assert.ok(!r.body.includes('<script'), url);
  }
  const rss = await server.inject('/feeds/trending.rss');
  assert.match(String(rss.headers['content-type']), /application\/rss\+xml/);
  assert.match(rss.body, /<item>/);
  const json = await server.inject('/feeds/trending.json?window=top');
  assert.match(String(json.headers['content-type']), /application\/feed\+json/);
  const feed = json.json<{ version: string; items: { url: string }[] }>();
  assert.equal(feed.version, 'https://jsonfeed.org/version/1.1');
  assert.ok(feed.items.length > 0);
  assert.ok(feed.items[0]!.url.startsWith('http://localhost:8080/paper/'));
  const search = (await server.inject('/feeds/search.json?q=llama')).json<{ items: { title: string }[] }>();
  assert.ok(search.items.some((i) => i.title.includes('Quantised llama')));
  assert.equal((await server.inject('/feeds/search.rss')).statusCode, 400);
  assert.equal((await server.inject('/feeds/other.rss')).statusCode, 404);
});

test('the JSON API: papers by id, similar, errors shaped {error:{code,message}}, OpenAPI', async () => {
  const p = await server.inject('/api/papers/2401.00001');
  assert.equal(p.statusCode, 200);
  const body = p.json<Record<string, unknown>>();
  assert.equal(body['key'], '2401.00001');
  assert.ok(!('id' in body) && !('titleKey' in body), 'no internal ids');
  const sim = await server.inject('/api/papers/2401.00001/similar');
  assert.equal(sim.statusCode, 200);
  for (const url of ['/api/papers/9999.99999', '/api/papers/9999.99999/similar', '/api/nope']) {
    const r = await server.inject(url);
    assert.equal(r.statusCode, 404, url);
    const e = r.json<{ error: { code: string; message: string } }>();
    assert.equal(typeof e.error.code, 'string');
    assert.equal(typeof e.error.message, 'string');
  }
  const doc = (await server.inject('/api/openapi.json')).json<{ openapi: string; paths: Record<string, unknown> }>();
  assert.equal(doc.openapi, '3.1.0');
  for (const path of ['/api/papers', '/api/papers/{id}', '/api/papers/{id}/similar', '/api/papers/{id}/vote', '/api/search', '/api/trending']) {
    assert.ok(doc.paths[path], path);
  }
});

test('security headers: CSP without inline script, frame and referrer policies', async () => {
  const r = await server.inject('/');
  const csp = String(r.headers['content-security-policy']);
  assert.match(csp, /script-src 'self'/);
  assert.ok(!/script-src[^;]*unsafe-inline/.test(csp));
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(r.headers['x-frame-options'], 'DENY');
  // No inline <script> with code anywhere in a page.
  for (const url of ['/', '/search?q=llama', '/paper/2401.00001', '/about']) {
    const page = (await server.inject(url)).body;
    for (const m of page.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)) {
      assert.match(m[1] ?? '', /src="\/static\/app\.js/, url);
      assert.equal(m[2], '', url);
    }
  }
  // The stylesheet is inlined (one round trip less); the file is still served, versioned URLs cached for good.
  assert.match(r.body, /<style>\/\* paperboy/);
  const css = await server.inject('/static/app.css?v=1');
  assert.equal(css.statusCode, 200);
  assert.match(String(css.headers['cache-control']), /immutable/);
  assert.equal((await server.inject('/static/../package.json')).statusCode, 404);
  assert.equal((await server.inject('/static/katex/fonts/KaTeX_Main-Regular.woff2')).statusCode, 200);
});

test('paperboy trending prints a window and --recompute rebuilds every score', async () => {
  const env = { PAPERBOY_DATA_DIR: app.dir };
  const r = await runCli(['trending', '--window', 'top', '--limit', '3', '--json'], env);
  assert.equal(r.code, 0, r.stderr);
  const j = lastJson<{ window: string; results: { id: string; why: string }[] }>(r.stdout);
  assert.equal(j.window, 'top');
  assert.equal(j.results.length, 3);
  const re = await runCli(['trending', '--recompute', '--json'], env);
  assert.equal(re.code, 0, re.stderr);
  assert.ok(lastJson<{ recomputed: number }>(re.stdout).recomputed > 20);
  const bad = await runCli(['trending', '--window', 'year'], env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--window must be one of/);
});
