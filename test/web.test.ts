import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { App } from '../src/app.ts';
import { runIngest } from '../src/ingest/run.ts';
import { buildServer } from '../src/web/server.ts';
import { tempApp } from './helpers/app.ts';

const SCRIPT = '<script>alert(1)</script>';
const IMG = '"><img src=x onerror=alert(1)>';
const LONG_TAIL = 'x'.repeat(900 - 60);

/** Hostile but valid records: markup in every text field, CRLF, a 900-character title. */
const HOSTILE = [
  {
    id: '2405.15738',
    title: `Hostile ${SCRIPT} title ${IMG} & friends`,
    abstract: `First paragraph ${SCRIPT} & more.\r\n\r\nSecond\r\nparagraph ${IMG} 'quoted'`,
    authors: [`Mallory ${SCRIPT}`, `Eve ${IMG}`, 'Tom & Jerry'],
    date: '2024-05-27',
    categories: ['cs.CL'],
  },
  {
    // No id: keyed by a title hash (t:…), with an attacker-controlled URL.
    title: `Keyless ${IMG} paper\r\nwith a CRLF ${SCRIPT}`,
    abstract: `See https://github.com/evil/repo"><script>alert(1)</script> for code.`,
    authors: `Alice ${SCRIPT} and Bob`,
    url: 'https://example.com/x?a="><script>alert(1)</script>',
    date: '2024-05-26',
  },
  {
    title: `Long ${SCRIPT} ${LONG_TAIL}`.slice(0, 900),
    abstract: 'A long title.',
    date: '2024-05-25',
  },
  {
    // Old-style id: its key has a slash.
    id: 'hep-th/9901001',
    title: 'An old style identifier with a slash in it',
    abstract: 'Old.',
    date: '1999-01-01',
  },
];

function assertNoRawMarkup(page: string): void {
  // The site's own script (src="/static/app.js?v=…", no inline code) is the only script allowed.
  const body = page.replace(/<script src="\/static\/app\.js\?v=[\w-]+" defer><\/script>/, '');
  assert.ok(!body.includes('<script>alert(1)'), 'raw <script>alert(1) in the page');
  assert.ok(!body.includes('<script'), 'a <script tag in the page');
  assert.ok(!body.includes('<img src=x'), 'raw <img src=x in the page');
  assert.ok(!body.includes('<img'), 'an injected img element');
}

async function withServer(fn: (server: FastifyInstance, app: App & { dir: string }) => Promise<void>): Promise<void> {
  const app = await tempApp();
  const server = await buildServer(app);
  try {
    await fn(server, app);
  } finally {
    await server.close();
    await app.close();
  }
}

async function ingestHostile(app: App & { dir: string }): Promise<void> {
  const file = path.join(app.dir, 'hostile.jsonl');
  writeFileSync(file, HOSTILE.map((r) => JSON.stringify(r)).join('\r\n') + '\r\n');
  const r = await runIngest(app, 'jsonl', { inputs: [file] });
  assert.deepEqual(r.summary.errors, []);
  assert.equal(r.summary.new, HOSTILE.length);
}

test('GET / escapes hostile titles, abstracts and authors', async () => {
  await withServer(async (server, app) => {
    await ingestHostile(app);
    const res = await server.inject('/');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    const body = res.body;
    assertNoRawMarkup(body);
    assert.ok(body.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'escaped script text shown');
    assert.ok(body.includes('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;'), 'escaped img text shown');
    assert.ok(body.includes('Hostile &lt;script&gt;alert(1)&lt;/script&gt; title'), 'escaped title');
    assert.ok(body.includes('Mallory &lt;script&gt;'), 'escaped author');
    assert.ok(body.includes('Tom &amp; Jerry'), 'ampersand escaped');
    assert.ok(!body.includes('Tom & Jerry'));
    // CRLF in a title becomes one space.
    assert.ok(body.includes('paper with a CRLF'), 'CRLF folded to a space');
    assert.ok(!/Keyless[^<]*\r/.test(body));
    // The 900-character title is kept whole.
    assert.ok(body.includes(LONG_TAIL.slice(0, 800)));
    // Nothing is trending yet (no votes, no signals): the home page lists the newest papers.
    assert.match(body, /Nothing is trending yet/);
  });
});

test('security headers are set on pages, API and errors', async () => {
  await withServer(async (server) => {
    for (const url of ['/', '/api/papers', '/healthz', '/nope', '/paper/nope']) {
      const res = await server.inject(url);
      const csp = res.headers['content-security-policy'];
      assert.ok(typeof csp === 'string' && csp.includes("default-src 'self'"), `${url}: csp ${String(csp)}`);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', url);
    }
  });
});

test('GET /paper/<key> shows the paper escaped; unknown keys are 404 without reflection', async () => {
  await withServer(async (server, app) => {
    await ingestHostile(app);
    const home = (await server.inject('/')).body;
    const hrefs = [...home.matchAll(/href="(\/paper\/[^"]+)"/g)].map((m) => m[1] ?? '');
    assert.equal(hrefs.length, HOSTILE.length);
    for (const href of hrefs) {
      const res = await server.inject(href);
      assert.equal(res.statusCode, 200, href);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assertNoRawMarkup(res.body);
    }

    const byId = await server.inject('/paper/2405.15738');
    assert.equal(byId.statusCode, 200);
    assert.ok(byId.body.includes('First paragraph &lt;script&gt;alert(1)&lt;/script&gt; &amp; more.'));
    assert.ok(byId.body.includes('<p>Second paragraph &quot;&gt;&lt;img src=x onerror=alert(1)&gt; &#39;quoted&#39;</p>'), 'paragraphs kept, hard wrap joined');
    assert.ok(byId.body.includes('Eve &quot;&gt;&lt;img'));
    assertNoRawMarkup(byId.body);

    const slash = await server.inject('/paper/hep-th/9901001');
    assert.equal(slash.statusCode, 200);
    assert.ok(slash.body.includes('An old style identifier with a slash in it'));

    for (const url of ['/paper/%3Cscript%3E', '/paper/%3Cscript%3Ealert(1)%3C%2Fscript%3E', '/paper/nope', '/paper/9999.99999']) {
      const res = await server.inject(url);
      assert.equal(res.statusCode, 404, url);
      assertNoRawMarkup(res.body);
      assert.ok(!res.body.includes('alert(1)'), `${url} reflected`);
    }
  });
});

test('GET /paper/<key> for a DOI key containing "%" (its own link from the list)', async () => {
  await withServer(async (server, app) => {
    const file = path.join(app.dir, 'doi.jsonl');
    writeFileSync(
      file,
      [
        JSON.stringify({ title: 'Fifty percent off everything', doi: '10.1234/50%off', abstract: 'a' }),
        JSON.stringify({ title: 'An encoded space in a DOI', doi: '10.1234/abc%20def', abstract: 'b' }),
      ].join('\n'),
    );
    assert.equal((await runIngest(app, 'jsonl', { inputs: [file] })).summary.new, 2);
    const home = (await server.inject('/')).body;
    const hrefs = [...home.matchAll(/href="(\/paper\/[^"]+)"/g)].map((m) => m[1] ?? '');
    assert.equal(hrefs.length, 2);
    for (const href of hrefs) assert.equal((await server.inject(href)).statusCode, 200, href);
  });
});

test('GET /api/papers pages with limit/offset and survives bad values', async () => {
  await withServer(async (server, app) => {
    await ingestHostile(app);
    const res = await server.inject('/api/papers?limit=2');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const body = res.json<{ papers: { key: string; title: string }[]; total: number; limit: number; offset: number }>();
    assert.ok(body.papers.length <= 2);
    assert.equal(body.papers.length, 2);
    assert.equal(body.total, HOSTILE.length);
    assert.equal(body.limit, 2);
    assert.ok(!('id' in (body.papers[0] ?? {})), 'internal id not exposed');

    const five = (await server.inject('/api/papers?limit=5')).json<{ papers: unknown[]; total: number }>();
    assert.ok(five.papers.length <= 5);
    assert.equal(five.total, HOSTILE.length);

    const next = (await server.inject('/api/papers?limit=2&offset=2')).json<{ papers: { key: string }[] }>();
    assert.equal(next.papers.length, 2);
    const keys = new Set([...body.papers, ...next.papers].map((p) => p.key));
    assert.equal(keys.size, 4, 'pages do not overlap');

    for (const q of ['limit=abc&offset=-5', 'limit=-1', 'limit=100000&offset=abc', 'offset=99999', 'limit=1e3', 'limit[]=1']) {
      const r = await server.inject(`/api/papers?${q}`);
      assert.equal(r.statusCode, 200, q);
      const j = r.json<{ papers: unknown[]; limit: number; offset: number; total: number }>();
      assert.ok(j.limit >= 1 && j.limit <= 100, `${q}: limit ${j.limit}`);
      assert.ok(j.offset >= 0, `${q}: offset ${j.offset}`);
      assert.ok(j.papers.length <= j.limit);
      assert.equal(j.total, HOSTILE.length);
    }
  });
});

test('GET /api/papers on an empty database', async () => {
  await withServer(async (server) => {
    const j = (await server.inject('/api/papers?limit=5')).json<{ papers: unknown[]; total: number }>();
    assert.deepEqual(j.papers, []);
    assert.equal(j.total, 0);
    const home = await server.inject('/');
    assert.equal(home.statusCode, 200);
    assert.match(home.body, /No papers here yet/);
  });
});

test('unknown routes are JSON 404s; /healthz answers', async () => {
  await withServer(async (server) => {
    for (const [method, url] of [
      ['GET', '/nope'],
      ['GET', '/api/nope?x=<script>'],
      ['POST', '/'],
    ] as const) {
      const res = await server.inject({ method, url });
      assert.equal(res.statusCode, 404, `${method} ${url}`);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      const body = res.json<{ error: { code: string; message: string } }>();
      assert.equal(typeof body.error.code, 'string');
      assert.equal(typeof body.error.message, 'string');
      assert.ok(!res.body.includes('<script'));
    }
    const health = await server.inject('/healthz');
    assert.equal(health.statusCode, 200);
    assert.deepEqual(health.json(), { ok: true });
  });
});

test('a malformed percent-encoded path is a 4xx in the API error shape, with the security headers', async () => {
  await withServer(async (server) => {
    const res = await server.inject('/paper/%');
    assert.ok(res.statusCode >= 400 && res.statusCode < 500, String(res.statusCode));
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.ok(res.headers['content-security-policy']);
    const body = res.json<{ error: { code: unknown; message: unknown } }>();
    assert.equal(typeof body.error.code, 'string');
    assert.equal(typeof body.error.message, 'string');
  });
});
