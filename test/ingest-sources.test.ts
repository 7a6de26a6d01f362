/**
 * Every source end to end on real SQLite: saved files from ../shared/data and
 * live fetches replayed from the recorded real responses by a local HTTP server.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createApp, type App } from '../src/app.ts';
import { loadConfig } from '../src/config/config.ts';
import { runIngest } from '../src/ingest/run.ts';
import type { SourceArgs, SourceName } from '../src/ingest/sources.ts';
import { getPaper, signalHistory } from '../src/store/papers.ts';
import { recordedArxivApi, startReplayServer, type ReplayServer } from './helpers/replay-server.ts';

const SHARED = path.resolve(import.meta.dirname, '../../shared/data');
const silent = { level: 'silent' } as const;

async function freshApp(env: Record<string, string> = {}): Promise<App & { dir: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'paperboy-test-'));
  const config = loadConfig({
    PAPERBOY_DATA_DIR: dir,
    LOG_LEVEL: 'silent',
    PAPERBOY_HTTP_MIN_INTERVAL_MS: '0',
    PAPERBOY_HTTP_RETRIES: '3',
    PAPERBOY_HTTP_BACKOFF_MS: '5',
    PAPERBOY_HTTP_TIMEOUT_MS: '5000',
    ...env,
  });
  const app = await createApp(config, { log: (await import('pino')).default(silent) });
  return Object.assign(app, {
    dir,
    close: async () => {
      await app.db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

function ingest(app: App, source: SourceName, args: Partial<SourceArgs> & { inputs?: string[] }) {
  return runIngest(app, source, { inputs: [], ...args }).then((r) => r.summary);
}

function balanced(s: { read: number; new: number; updated: number; unchanged: number; skipped: number }) {
  assert.equal(s.new + s.updated + s.unchanged + s.skipped, s.read, 'new + updated + unchanged + skipped = read');
}

function tmpFile(app: { dir: string }, name: string, content: string | Buffer): string {
  const file = path.join(app.dir, name);
  writeFileSync(file, content);
  return file;
}

describe('hf-daily: all 580 recorded days', () => {
  let app: App & { dir: string };
  before(async () => (app = await freshApp()));
  after(() => app.close());

  test('every entry is accounted for and each paper keeps its upvote history', async () => {
    const dir = path.join(SHARED, 'hf-daily-papers');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    assert.equal(files.length, 580);
    // Count independently of the ingester: arrays, and the one {status,date,count,data} wrapper.
    let entries = 0;
    const upvotes = new Map<string, Map<string, number>>();
    for (const f of files) {
      const j = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as unknown;
      const list = (Array.isArray(j) ? j : (j as { data: unknown[] }).data) as unknown[];
      entries += list.length;
      for (const e of list) {
        if (e && typeof e === 'object' && 'paper' in e) {
          const p = (e as { paper: { id: string; upvotes: number } }).paper;
          if (!upvotes.has(p.id)) upvotes.set(p.id, new Map());
          upvotes.get(p.id)!.set(f.slice(0, 10), p.upvotes);
        }
      }
    }
    assert.equal(entries, 9881);

    const s = await ingest(app, 'hf-daily', { inputs: [dir] });
    assert.equal(s.read, entries);
    balanced(s);
    assert.equal(s.skipped, 0, JSON.stringify(s.errors.slice(0, 3)));
    assert.ok(s.new >= upvotes.size, `${s.new} papers for ${upvotes.size} object entries' ids`);

    // A paper listed on several days has one observation per day.
    const multi = [...upvotes].find(([, days]) => days.size > 1);
    assert.ok(multi, 'some paper appears on two days');
    const [id, days] = multi;
    const paper = await getPaper(app.db, id);
    assert.ok(paper);
    const history = (await signalHistory(app.db, paper.id)).filter((h) => h.name === 'hf_upvotes');
    assert.equal(history.length, days.size);
    for (const h of history) assert.equal(h.value, days.get(h.observedAt.slice(0, 10)));

    // Re-ingesting the same input changes nothing.
    const again = await ingest(app, 'hf-daily', { inputs: [dir] });
    assert.deepEqual([again.read, again.new, again.updated, again.unchanged], [entries, 0, 0, entries]);
  });
});

describe('arxiv-api: replayed recorded exchanges', () => {
  let server: ReplayServer;
  let fail500 = 0;
  before(async () => {
    const recorded = [...recordedArxivApi(SHARED)].map(([k, v]) => ({ q: new URL(k, 'http://x').searchParams, ...v }));
    server = await startReplayServer(({ url, count }) => {
      if (url.searchParams.get('search_query') === 'testing' && url.searchParams.get('start') === '10' && count <= fail500) {
        return { status: 500, body: 'upstream hiccup' };
      }
      const want = (k: string) => url.searchParams.get(k) ?? '';
      const hit =
        recorded.find((r) => ['search_query', 'id_list', 'start', 'max_results'].every((k) => (r.q.get(k) ?? '') === want(k))) ??
        recorded.find((r) => ['search_query', 'id_list', 'start'].every((k) => (r.q.get(k) ?? '') === want(k)));
      if (!hit) return { status: 404, body: 'not recorded' };
      return { status: hit.status, body: hit.body, headers: { 'content-type': 'application/atom+xml; charset=utf-8' } };
    });
  });
  after(() => server.close());

  test('pages through a query by start/max_results, HTTP 500 then success is retried', async () => {
    fail500 = 2;
    const app = await freshApp({ ARXIV_API_URL: `${server.url}/api/query` });
    try {
      const before = server.requests.length;
      const s = await ingest(app, 'arxiv-api', { query: 'testing', max: 30, pageSize: 10 });
      assert.deepEqual(s.failures, []);
      assert.equal(s.read, 30);
      assert.equal(s.new, 30);
      balanced(s);
      const starts = server.requests.slice(before).map((r) => new URL(r.url, 'http://x').searchParams.get('start'));
      assert.deepEqual(starts, ['0', '10', '10', '10', '20']);
      const p = await getPaper(app.db, '2202.12139');
      assert.ok(p);
      assert.equal(p.title, 'Testing Deep Learning Models: A First Comparative Study of Multiple Testing Techniques');
      assert.deepEqual(p.categories, ['cs.SE', 'cs.LG']);
      assert.equal(p.doi, '10.1109/icstw55395.2022.00035');
      assert.equal(p.version, 1);
    } finally {
      await app.close();
      fail500 = 0;
    }
  });

  test('the HTTP 400 error feed becomes a clear error', async () => {
    const app = await freshApp({ ARXIV_API_URL: `${server.url}/api/query` });
    try {
      const s = await ingest(app, 'arxiv-api', { ids: ['abc'] });
      assert.equal(s.read, 0);
      assert.equal(s.failures.length, 1);
      assert.match(s.failures[0]!.reason, /arXiv API error: incorrect id format for abc/);
    } finally {
      await app.close();
    }
  });

  test('an id list and an empty result', async () => {
    const app = await freshApp({ ARXIV_API_URL: `${server.url}/api/query` });
    try {
      const s = await ingest(app, 'arxiv-api', { ids: ['astro-ph/0601001'] });
      assert.equal(s.new, 1);
      assert.ok(await getPaper(app.db, 'astro-ph/0601001'));
      const empty = await ingest(app, 'arxiv-api', { ids: ['0000.0000'] });
      assert.deepEqual([empty.read, empty.failures.length], [0, 0]);
    } finally {
      await app.close();
    }
  });

  test('saved Atom files, current and legacy format, and a truncated one', async () => {
    const app = await freshApp();
    try {
      const rec = path.join(SHARED, 'arxiv-api/recorded');
      const s = await ingest(app, 'arxiv-api', {
        inputs: [path.join(rec, 'q_testing_s0_m15_80c242b59d59.xml'), path.join(import.meta.dirname, 'fixtures/arxiv-atom-legacy.xml')],
      });
      assert.equal(s.skipped, 0);
      assert.ok(s.new >= 15);
      const body = readFileSync(path.join(rec, 'q_testing_s0_m10_bc5a6c384fe9.xml'), 'utf8');
      const cut = body.slice(0, body.indexOf('<entry>', body.indexOf('<entry>') + 10) + 200);
      const t = await ingest(app, 'arxiv-api', { inputs: [tmpFile(app, 'cut.xml', cut)] });
      assert.equal(t.read, 2);
      assert.equal(t.skipped, 1);
      assert.match(t.errors[0]!.where, /cut\.xml#2$/);
      assert.match(t.errors[0]!.reason, /truncated/);
    } finally {
      await app.close();
    }
  });
});

describe('arxiv-oai: ListRecords with resumption tokens', () => {
  const records = (file: string) => {
    const xml = readFileSync(path.join(SHARED, 'arxiv-oai', file), 'utf8');
    return xml.match(/<record>[\s\S]*?<\/record>/g) ?? [];
  };
  const page = (recs: string[], token: string, size: number, cursor: number) =>
    `<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2026-11-26T00:00:00Z</responseDate>
<request verb="ListRecords">http://127.0.0.1/oai</request><ListRecords>${recs.join('\n')}
<resumptionToken completeListSize="${size}" cursor="${cursor}">${token}</resumptionToken></ListRecords></OAI-PMH>`;

  test('follows resumptionToken, honours 503 Retry-After, and filters by set and dates', async () => {
    const p1 = records('functional__arxiv__fixtures__http_server__records__arxiv-physics-hep-ex.xml');
    const p2 = records('functional__arxiv__fixtures__http_server__records__arxiv-physics-hep-th.xml');
    assert.ok(p1.length > 0 && p2.length > 0);
    const total = p1.length + p2.length;
    const server = await startReplayServer(({ url, count }) => {
      const token = url.searchParams.get('resumptionToken');
      if (!token) {
        if (count === 1) return { status: 503, body: 'busy', headers: { 'retry-after': '1' } };
        return { body: page(p1, 'next-page-1', total, 0) };
      }
      if (token === 'next-page-1') return { body: page(p2, '', total, p1.length) };
      return { status: 200, body: '<OAI-PMH><error code="badResumptionToken">bad</error></OAI-PMH>' };
    });
    const app = await freshApp({ ARXIV_OAI_URL: `${server.url}/oai` });
    try {
      const s = await ingest(app, 'arxiv-oai', { set: 'cs', since: '2026-11-25', until: '2026-11-26' });
      assert.deepEqual(s.failures, []);
      assert.equal(s.read, total);
      balanced(s);
      const first = new URL(server.requests[0]!.url, 'http://x').searchParams;
      assert.equal(first.get('verb'), 'ListRecords');
      assert.equal(first.get('metadataPrefix'), 'arXiv');
      assert.equal(first.get('set'), 'cs');
      assert.equal(first.get('from'), '2026-11-25');
      assert.equal(first.get('until'), '2026-11-26');
      assert.equal(server.requests.length, 3, '503, then page 1, then page 2');
      const gap = server.requests[1]!.at - server.requests[0]!.at;
      assert.ok(gap >= 900, `waited ${gap} ms for Retry-After: 1`);
    } finally {
      await app.close();
      await server.close();
    }
  });

  test('a saved GetRecord response', async () => {
    const app = await freshApp();
    try {
      const s = await ingest(app, 'arxiv-oai', { inputs: [path.join(SHARED, 'arxiv-oai/functional__arxiv__fixtures__http_server__records__arxiv-single.xml')] });
      assert.equal(s.new, 1);
      const p = await getPaper(app.db, '1401.2122');
      assert.ok(p);
      assert.deepEqual(p.authors, ['A. Sergyeyev']);
      assert.equal(p.categories[0], 'math.AP');
      assert.equal(p.journalRef, 'Lett. Math. Phys. 108 (2018), no. 2, 359-376');
    } finally {
      await app.close();
    }
  });
});

describe('arxiv-snapshot and jsonl', () => {
  test('the snapshot sample, with category and date filters', async () => {
    const app = await freshApp();
    try {
      const file = path.join(SHARED, 'arxiv-kaggle/snapshot-first200.jsonl');
      const f = await ingest(app, 'arxiv-snapshot', { inputs: [file], categories: ['hep-*'], since: '2009-01-01' });
      assert.equal(f.read, 200);
      assert.equal(f.new + f.filtered, 200);
      assert.equal(f.skipped, f.filtered);
      assert.ok(f.new > 0 && f.filtered > 0);
      const s = await ingest(app, 'arxiv-snapshot', { inputs: [file] });
      assert.equal(s.read, 200);
      assert.equal(s.new, 200 - f.new);
      balanced(s);
      const p = await getPaper(app.db, '0704.0001');
      assert.ok(p);
      assert.deepEqual(p.authors, ['C. Balázs', 'E. L. Berger', 'P. M. Nadolsky', 'C.-P. Yuan']);
      assert.deepEqual(p.versions.map((v) => v.version), [1, 2]);
      assert.equal(p.submittedAt, '2007-04-02T19:18:42.000Z');
    } finally {
      await app.close();
    }
  });

  test('the demo collection: sparse records get stable title ids', async () => {
    const app = await freshApp();
    try {
      const file = path.join(SHARED, 'seed/papers.jsonl');
      const s = await ingest(app, 'jsonl', { inputs: [file] });
      assert.deepEqual([s.read, s.new, s.skipped], [119, 119, 0]);
      const p = await getPaper(app.db, 'MELTing point: Mobile Evaluation of Language Transformers');
      assert.equal(p, undefined, 'keys are ids, not titles');
      const again = await ingest(app, 'jsonl', { inputs: [file] });
      assert.equal(again.unchanged, 119);
    } finally {
      await app.close();
    }
  });
});

describe('merging the same paper from several sources', () => {
  test('by arXiv id, by DOI and by title; older versions never overwrite newer text', async () => {
    const app = await freshApp();
    try {
      // A sparse record (title only) first: it gets a title id…
      const sparse = tmpFile(app, 'sparse.jsonl', JSON.stringify({ title: 'Calculation of prompt diphoton production cross sections at Tevatron and LHC energies', abstract: 'short' }) + '\n');
      await ingest(app, 'jsonl', { inputs: [sparse] });
      // …then the snapshot record with the same title merges into it and the key becomes the arXiv id.
      const snap = tmpFile(app, 'one.jsonl', readFileSync(path.join(SHARED, 'arxiv-kaggle/snapshot-first200.jsonl'), 'utf8').split('\n')[0]! + '\n');
      const s = await ingest(app, 'arxiv-snapshot', { inputs: [snap] });
      assert.deepEqual([s.new, s.updated], [0, 1]);
      const p = await getPaper(app.db, '0704.0001');
      assert.ok(p, 'key upgraded to the arXiv id');
      assert.match(p.abstract, /fully differential calculation/);
      // An older version (v1) with other text does not overwrite v2's text.
      const old = tmpFile(app, 'old.jsonl', JSON.stringify({ id: 'arXiv:0704.0001v1', title: 'An old title', abstract: 'old' }) + '\n');
      const o = await ingest(app, 'jsonl', { inputs: [old] });
      assert.equal(o.new, 0);
      const after = await getPaper(app.db, '0704.0001');
      assert.equal(after!.title, p.title);
      // A record with only the DOI merges too.
      const doi = tmpFile(app, 'doi.jsonl', JSON.stringify({ id: 'https://doi.org/10.1103/PhysRevD.76.013009', title: 'Prompt diphoton (journal version)' }) + '\n');
      const d = await ingest(app, 'jsonl', { inputs: [doi] });
      assert.equal(d.new, 0);
      const count = await app.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM papers');
      assert.equal(count!.n, 1);
      const sources = await app.db.all<{ source: string }>('SELECT source FROM paper_sources ORDER BY source');
      assert.deepEqual(sources.map((r) => r.source), ['arxiv-snapshot', 'jsonl']);
    } finally {
      await app.close();
    }
  });
});

describe('bad input: clear reasons, and every good record still lands', () => {
  test('jsonl: wrong types, missing title, truncated JSON, a 10 MB abstract, invalid UTF-8', async () => {
    const app = await freshApp();
    try {
      const lines = [
        JSON.stringify({ title: 'A good paper about edge inference', abstract: 'fine' }),
        JSON.stringify({ title: 42, abstract: 'x' }),
        JSON.stringify({ abstract: 'no title' }),
        '{"title": "truncated',
        JSON.stringify({ title: 'Huge abstract', abstract: 'x'.repeat(10 * 1024 * 1024) }),
        '["an", "array"]',
      ];
      const body = Buffer.concat([
        Buffer.from(lines.join('\n') + '\n'),
        Buffer.from('{"title": "bad \xff\xfe bytes"}\n', 'latin1'),
        Buffer.from(JSON.stringify({ title: 'Another good paper on <script>alert(1)</script> & CRLF\r\ninjection' }) + '\n'),
      ]);
      const file = tmpFile(app, 'bad.jsonl', body);
      const s = await ingest(app, 'jsonl', { inputs: [file] });
      assert.equal(s.read, 8);
      assert.equal(s.new, 2);
      assert.equal(s.skipped, 6);
      balanced(s);
      const reasons = new Map(s.errors.map((e) => [e.where.replace(`${file}:`, ''), e.reason]));
      assert.match(reasons.get('2')!, /title must be a string, got number/);
      assert.match(reasons.get('3')!, /missing title/);
      assert.match(reasons.get('4')!, /invalid JSON/);
      assert.match(reasons.get('5')!, /abstract is 10,485,760 characters; the limit is 100,000/);
      assert.match(reasons.get('6')!, /expected a JSON object, got array/);
      assert.match(reasons.get('7')!, /invalid UTF-8/);
    } finally {
      await app.close();
    }
  });

  test('hf-daily: truncated JSON keeps the complete entries; invalid UTF-8 spoils only its entry', async () => {
    const app = await freshApp();
    try {
      const real = readFileSync(path.join(SHARED, 'hf-daily-papers/2026-08-21.json'), 'utf8');
      const total = (JSON.parse(real) as unknown[]).length;
      const cut = tmpFile(app, '2026-08-21.json', real.slice(0, Math.floor(real.length / 2)));
      const s = await ingest(app, 'hf-daily', { inputs: [cut] });
      assert.ok(s.new > 0 && s.new < total);
      assert.equal(s.skipped, 1);
      assert.match(s.errors[0]!.reason, /truncated JSON/);

      const entries = JSON.parse(readFileSync(path.join(SHARED, 'hf-daily-papers/2026-08-20.json'), 'utf8')) as { paper: { title: string } }[];
      entries[1]!.paper.title = 'BADBYTES';
      const bytes = Buffer.from(JSON.stringify(entries));
      const at = bytes.indexOf('BADBYTES');
      bytes[at] = 0xff;
      const u = await ingest(app, 'hf-daily', { inputs: [tmpFile(app, '2026-08-20.json', bytes)] });
      assert.equal(u.read, entries.length);
      assert.equal(u.skipped, 1);
      assert.match(u.errors[0]!.where, /#2$/);
      assert.match(u.errors[0]!.reason, /invalid UTF-8/);
      assert.equal(u.new + u.updated + u.unchanged, entries.length - 1);
    } finally {
      await app.close();
    }
  });

  test('a fetch that keeps failing ends the run with one clear failure', async () => {
    const server = await startReplayServer(() => ({ status: 500, body: 'down' }));
    const app = await freshApp({ HF_API_URL: `${server.url}/api/daily_papers`, PAPERBOY_HTTP_RETRIES: '1' });
    try {
      const s = await ingest(app, 'hf-daily', { date: '2026-08-21' });
      assert.equal(s.failures.length, 1);
      assert.match(s.failures[0]!.reason, /failed after 2 attempts: HTTP 500/);
      const run = await app.db.get<{ status: string; message: string }>('SELECT status, message FROM ingest_runs ORDER BY id DESC LIMIT 1');
      assert.equal(run!.status, 'failed');
      assert.match(run!.message, /HTTP 500/);
    } finally {
      await app.close();
      await server.close();
    }
  });

  test('hf-daily live: a day walked with --since/--until', async () => {
    const server = await startReplayServer(({ url }) => {
      const date = url.searchParams.get('date');
      const file = path.join(SHARED, `hf-daily-papers/${date}.json`);
      try {
        return { body: readFileSync(file) };
      } catch {
        return { status: 404, body: '{"error":"not found"}' };
      }
    });
    const app = await freshApp({ HF_API_URL: `${server.url}/api/daily_papers` });
    try {
      const s = await ingest(app, 'hf-daily', { since: '2026-08-20', until: '2026-08-21' });
      assert.deepEqual(s.failures, []);
      assert.deepEqual(server.requests.map((r) => r.url), ['/api/daily_papers?date=2026-08-20', '/api/daily_papers?date=2026-08-21']);
      assert.ok(s.new > 10);
    } finally {
      await app.close();
      await server.close();
    }
  });
});
