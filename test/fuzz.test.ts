/**
 * Fuzzing (issue 7): fast-check properties over every parser and the query language, a corpus of
 * hostile inputs (test/fixtures/hostile/), and random requests against every route of the real
 * server, in process. A parser may refuse its input but never throws anything unexpected; a route
 * may answer 2xx, 3xx or 4xx but never 5xx, and /api errors keep the `{"error":{"code","message"}}`
 * shape.
 *
 * Runs in a few seconds; `FUZZ_RUNS=10 node --import tsx --test test/fuzz.test.ts` multiplies every
 * run count for a longer local session. The number of cases tried is printed as a diagnostic.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { XMLValidator } from 'fast-xml-parser';
import { ConfigError, loadConfig } from '../src/config/config.ts';
import { loadDemoIfEmpty } from '../src/demo.ts';
import { domainBlocked, maskAddress, normaliseAddress } from '../src/digest/address.ts';
import { parseBounceReport } from '../src/digest/bounces.ts';
import { buildMessage } from '../src/digest/mailer.ts';
import { oneLine as mailLine } from '../src/digest/render.ts';
import { instantOf, isTimeZone, localDate, nextIssue } from '../src/digest/schedule.ts';
import { InputError, parsePreferences, parseTopics } from '../src/digest/subscriptions.ts';
import { Tokens, type TokenPurpose } from '../src/digest/tokens.ts';
import { parseArxivAtom } from '../src/ingest/arxiv-atom.ts';
import { parseOaiPage } from '../src/ingest/arxiv-oai.ts';
import { globToRegExp, parseSnapshotLine } from '../src/ingest/arxiv-snapshot.ts';
import { parseHfDaily } from '../src/ingest/hf-daily.ts';
import { HttpClient, HttpError, redactUrl } from '../src/ingest/http.ts';
import { normaliseDoi, paperKey, parseArxivId, titleKey } from '../src/ingest/ids.ts';
import { jsonObjectLine } from '../src/ingest/json-line.ts';
import { parseJsonlLine } from '../src/ingest/jsonl.ts';
import { latexToUnicode } from '../src/ingest/latex.ts';
import { mergePapers, samePaper } from '../src/ingest/merge.ts';
import { cleanUrl, fixMojibake, isoDate, linksInText, normalise, oneLine, paragraphs } from '../src/ingest/normalise.ts';
import { parsePyLiteral, PyLiteralError } from '../src/ingest/pyliteral.ts';
import type { PaperRecord, ParseItem } from '../src/ingest/record.ts';
import { SourceError } from '../src/ingest/pipeline.ts';
import { ingestHosts, openSource } from '../src/ingest/sources.ts';
import { decodeXml, firstElement, parseElement, splitBlocks } from '../src/ingest/xml-blocks.ts';
import { anyWordMatch, ftsExcluded, ftsMatch, keywordExcluded, keywordMatch } from '../src/search/fts-expr.ts';
import { parseDateBound, parseQuery, wordsOf } from '../src/search/query.ts';
import { subscriberByKey } from '../src/store/subscribers.ts';
import { atom, jsonFeed, rss, type FeedItem, type FeedMeta } from '../src/web/feeds.ts';
import { escapeHtml } from '../src/web/html.ts';
import { renderAbstract, renderInline, renderTextWithMath } from '../src/web/latex.ts';
import { buildServer } from '../src/web/server.ts';
import { parseCookies, Sessions, VISITOR_COOKIE } from '../src/web/session.ts';
import { tempApp, tempDir, removeDir, TEST_PG_URL } from './helpers/app.ts';

// ------------------------------------------------------------------------------------------ setup

/** FUZZ_RUNS multiplies every run count (default 1: the budget CI runs twice). */
const MULT = Math.max(0.05, Number(process.env.FUZZ_RUNS) || 1);
const runs = (n: number): number => Math.max(1, Math.round(n * MULT));
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const opts = (numRuns: number) => ({ numRuns: runs(numRuns), ...(SEED === undefined ? {} : { seed: SEED }) });
/**
 * The parsers do not touch the database, so the PostgreSQL pass (TEST_PG_URL) runs half as many
 * generated cases for them (the whole corpus still) and spends its time on the HTTP routes.
 */
const parserOpts = (numRuns: number) => opts(TEST_PG_URL ? numRuns / 2 : numRuns);
/** Each HTTP request costs a few round trips to PostgreSQL: that pass sends two thirds as many. */
const HTTP_SCALE = TEST_PG_URL ? 2 / 3 : 1;

const tried = new Map<string, number>();
const tally = (area: string, n = 1): void => void tried.set(area, (tried.get(area) ?? 0) + n);
/** HTTP answers by status, to show how deep the requests got (2xx: past every check). */
const statuses = new Map<number, number>();

/** Runs fn and, when it throws, names the input (cut) so a failure can be reproduced. */
function each<T>(area: string, inputs: readonly T[], fn: (x: T) => void): void {
  for (const x of inputs) {
    tally(area);
    try {
      fn(x);
    } catch (err) {
      const shown = typeof x === 'string' ? JSON.stringify(x.slice(0, 200)) : JSON.stringify(x)?.slice(0, 200);
      throw new Error(`${area}: failed on ${shown}: ${(err as Error).stack}`, { cause: err });
    }
  }
}

// ----------------------------------------------------------------------------- the hostile corpus

const HOSTILE_DIR = fileURLToPath(new URL('./fixtures/hostile/', import.meta.url));
const FILES = readdirSync(HOSTILE_DIR)
  .filter((f) => f !== 'README.md')
  .sort()
  .map((name) => ({ name, bytes: readFileSync(path.join(HOSTILE_DIR, name)) }));
/** One hostile string per entry (JSON, so NULs, CR/LF and lone surrogates survive the file). */
const LISTED = JSON.parse(readFileSync(path.join(HOSTILE_DIR, 'strings.json'), 'utf8')) as string[];
/** Huge inputs, made here rather than stored. */
const HUGE = [
  'a'.repeat(1 << 20),
  'word '.repeat(100_000),
  '$'.repeat(100_000),
  '\\'.repeat(100_000),
  '('.repeat(50_000),
  '<'.repeat(100_000),
  '"'.repeat(50_001),
  '['.repeat(100_000),
  '{'.repeat(100_000),
  '-'.repeat(100_000),
  '\u0000'.repeat(100_000),
  '\uD800'.repeat(50_000),
  '\r\n'.repeat(50_000),
  '<entry>'.repeat(20_000),
  '&amp;'.repeat(50_000),
  `$${'\\frac{a}{'.repeat(2000)}$`,
];
const CORPUS: readonly string[] = [
  ...new Set([...LISTED, ...FILES.flatMap((f) => [f.bytes.toString('utf8'), f.bytes.toString('latin1')]), ...HUGE]),
];
/** The small ones, as fragments for generated inputs. */
const FRAGMENTS = LISTED.filter((s) => s.length > 0 && s.length < 120);
const file = (name: string): string => {
  const f = FILES.find((x) => x.name === name);
  if (!f) throw new Error(`no fixture ${name}`);
  return f.bytes.toString('utf8');
};

// ------------------------------------------------------------------------------------ arbitraries

const unit = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(...'<>&"\'\\${}[]():-*%./@;=,#?+^~`|!'.split(''), '\r\n', '\n', '\u0000', '\u202E', '\u200B', '\uFEFF', ' ', '\t', '__proto__', 'AND', 'OR', 'NOT', 'NEAR'),
  },
  { weight: 1, arbitrary: fc.constantFrom(...FRAGMENTS) },
);
const hostile = fc.string({ unit, maxLength: 60 });
const longHostile = fc.oneof({ weight: 5, arbitrary: hostile }, { weight: 1, arbitrary: fc.string({ unit, maxLength: 2000 }) });
const KEYS = [
  '__proto__', 'constructor', 'prototype', 'toString', 'title', 'abstract', 'summary', 'id', 'email', 'topics', 'topic', 'timezone', 'hour',
  'deliveryHour', 'frequency', 'weekday', 'perDigest', 'includeNew', 'skipEmpty', 'vote', 'paper', 'action', 'back', '_csrf', 'website',
  'type', 'hard', 'detail', 'events', 'Type', 'Message', 'notificationType', 'eventType', 'bounce', 'bounceType', 'bouncedRecipients',
  'complaint', 'complainedRecipients', 'emailAddress', 'q', 'limit', 'offset', 'mode', 'window', 'authors', 'categories', 'url', 'date',
];
const key = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...KEYS) }, { weight: 1, arbitrary: hostile });
const leaf = fc.oneof(
  { weight: 4, arbitrary: hostile },
  { weight: 2, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 1, 23, 24, 1e308, -1e308, 2 ** 53 + 1, 0.5) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constantFrom('daily', 'weekly', 'paused', 'Europe/Berlin', 'UTC', 'bounce', 'complaint', 'Notification', 'Bounce', 'Permanent', 'a@example.com', 'true', 'on', '7') },
);
const { value: jsonLike } = fc.letrec<{ value: unknown; arr: unknown[]; obj: Record<string, unknown> }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('arr'), tie('obj')),
  arr: fc.array(tie('value'), { maxLength: 5 }),
  obj: fc.dictionary(key, tie('value'), { maxKeys: 6 }),
}));
/** A JSON value as a server would see it after JSON.parse (own `__proto__` keys included). */
const jsonValue = jsonLike.map((v) => JSON.parse(JSON.stringify(v) ?? 'null') as unknown);
const jsonObject = fc.dictionary(key, jsonLike, { maxKeys: 8 }).map((v) => JSON.parse(JSON.stringify(v)) as Record<string, unknown>);

/** A Python repr of a JSON-like value (what some Daily Papers dumps hold). */
function py(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`;
  if (Array.isArray(v)) return `[${v.map(py).join(', ')}]`;
  return `{${Object.entries(v as object).map(([k, x]) => `${py(k)}: ${py(x)}`).join(', ')}}`;
}

/** encodeURIComponent that never throws (lone surrogates become U+FFFD first). */
const enc = (s: string): string => encodeURIComponent(s.toWellFormed());
const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** A field as a feed might carry it: escaped, raw, or in CDATA. */
const xmlField = fc.tuple(longHostile, fc.constantFrom('esc', 'raw', 'cdata')).map(([s, how]) => (how === 'esc' ? xmlEscape(s) : how === 'raw' ? s : `<![CDATA[${s}]]>`));
const idish = fc.oneof(
  hostile,
  fc.constantFrom('2401.01234', '2401.01234v2', 'hep-th/9901001', 'math.GT/0309136', 'arXiv:2401.01234', 'https://arxiv.org/abs/2401.01234v3', 'http://arxiv.org/abs/2312.99999v1', 'oai:arXiv.org:2401.01234'),
  fc.tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 99999 })).map(([a, b]) => `${String(a).padStart(4, '0')}.${String(b).padStart(5, '0')}`),
);
const dateish = fc.oneof(hostile, fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.constantFrom('2024-01-01', '2024-02-30', '9999-12-31T23:59:59Z', '0000-00-00', 'Mon, 01 Jan 2024 00:00:00 GMT', ''));

// ------------------------------------------------------------------------------ shared assertions

/** A parse result's items: each a record with a string title, or a skip with a reason. */
function checkItems(items: readonly (ParseItem | { filtered: true; where: string })[]): void {
  for (const it of items) {
    assert.equal(typeof it.where, 'string');
    if ('filtered' in it) continue;
    if (it.ok) {
      assert.equal(typeof it.record.title, 'string');
      // Whatever a parser lets through, normalising it never throws either.
      const n = normalise(it.where, it.record);
      if (n.ok) assert.ok(!/[\r\n]/.test(n.value.paper.title), 'titles are one line');
    } else {
      assert.equal(typeof it.reason, 'string');
    }
  }
}

/** HTML that came from untrusted text: no element or attribute that can run code. */
function assertInert(markup: string, where: string): void {
  assert.ok(!/<script/i.test(markup), `${where}: <script in ${markup.slice(0, 300)}`);
  // KaTeX draws some glyphs (\sqrt, wide accents) as inline <svg><path/></svg>: inert, so allowed.
  assert.ok(!/<(?:img|iframe|object|embed|link|meta|style|base|form|foreignObject|use|image|a)\b/i.test(markup), `${where}: active element in ${markup.slice(0, 300)}`);
  assert.ok(!/<[^>]*\son[a-z]+\s*=/i.test(markup), `${where}: event handler attribute in ${markup.slice(0, 300)}`);
  assert.ok(!/(?:href|src|action)\s*=\s*["']?\s*(?:javascript|data|vbscript):/i.test(markup), `${where}: script URL in ${markup.slice(0, 300)}`);
}

// ===================================================================================== parsers

test('ingest hf-daily: JSON, Python literals and garbage never throw', () => {
  each('hf-daily', CORPUS, (s) => checkItems(parseHfDaily(s, { where: 'corpus' }).items));
  const entry = fc.record(
    {
      paper: fc.record(
        {
          id: idish,
          title: longHostile,
          summary: longHostile,
          authors: fc.oneof(fc.array(fc.oneof(fc.record({ name: hostile }), hostile, fc.constant(null)), { maxLength: 4 }), hostile),
          upvotes: fc.oneof(fc.integer(), fc.double(), hostile),
          publishedAt: dateish,
          githubRepo: fc.oneof(hostile, fc.constantFrom('https://github.com/a/b', 'javascript:alert(1)', 'http://169.254.169.254/')),
          projectPage: hostile,
        },
        { requiredKeys: [] },
      ),
      numComments: fc.oneof(fc.integer(), hostile),
      publishedAt: dateish,
      title: hostile,
    },
    { requiredKeys: [] },
  );
  const doc = fc.oneof(fc.array(fc.oneof(entry, jsonValue), { maxLength: 4 }), jsonValue, fc.record({ date: dateish, papers: fc.array(entry, { maxLength: 3 }) }));
  fc.assert(
    fc.property(doc, fc.constantFrom('json', 'py', 'cut'), fc.option(dateish, { nil: undefined }), (v, how, date) => {
      tally('hf-daily');
      const text = how === 'json' ? JSON.stringify(v) : how === 'py' ? py(v) : py(v).slice(0, Math.floor(py(v).length / 2));
      const r = parseHfDaily(text, { where: 'gen', date, observedAt: '2026-01-01T00:00:00.000Z' });
      checkItems(r.items);
    }),
    parserOpts(400),
  );
});

test('ingest pyliteral: returns a value or throws PyLiteralError, nothing else (deep nesting too)', () => {
  const check = (s: string) => {
    try {
      parsePyLiteral(s);
    } catch (err) {
      assert.ok(err instanceof PyLiteralError, `not a PyLiteralError: ${(err as Error).stack}`);
    }
  };
  each('pyliteral', [...CORPUS, '['.repeat(1_000_000), `${'{1: '.repeat(100_000)}`, `'${'\\x'.repeat(1000)}`, "'''" + 'a'.repeat(1000)], check);
  fc.assert(
    fc.property(fc.oneof(hostile, jsonValue.map(py), jsonValue.map((v) => py(v).slice(1))), (s) => {
      tally('pyliteral');
      check(s);
    }),
    parserOpts(400),
  );
});

test('ingest arxiv-atom, arxiv-oai and xml-blocks: hostile feeds never throw; entities never expand', () => {
  const parsers = (s: string) => {
    const a = parseArxivAtom(s, 'atom');
    checkItems(a.items);
    const o = parseOaiPage(s, 'oai');
    checkItems(o.items);
    for (const name of ['entry', 'record', 'feed', 'x']) splitBlocks(s, name);
    parseElement(s);
    firstElement(s, 'feed');
    decodeXml(s);
    return { a, o };
  };
  each('xml', CORPUS, parsers);
  // The billion laughs and an external entity: no expansion, no file read.
  const { a } = parsers(file('billion-laughs.xml'));
  for (const it of a.items) if (it.ok) assert.ok(it.record.title.length < 1000 && !it.record.title.includes('root:'), it.record.title.slice(0, 100));

  const atomEntry = fc
    .record({ id: fc.oneof(idish.map(xmlEscape), xmlField), title: xmlField, summary: xmlField, author: fc.array(xmlField, { maxLength: 3 }), date: dateish.map(xmlEscape), link: xmlField, cat: xmlField, doi: xmlField })
    .map(
      (e) =>
        `<entry><id>${e.id}</id><updated>${e.date}</updated><published>${e.date}</published><title>${e.title}</title><summary>${e.summary}</summary>` +
        `${e.author.map((x) => `<author><name>${x}</name></author>`).join('')}<arxiv:doi>${e.doi}</arxiv:doi><link href="${e.link}" rel="alternate" type="text/html"/>` +
        `<arxiv:primary_category term="${e.cat}"/><category term="${e.cat}"/></entry>`,
    );
  const atomFeed = fc
    .tuple(fc.array(atomEntry, { maxLength: 3 }), hostile)
    .map(
      ([entries, total]) =>
        `<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom">` +
        `<opensearch:totalResults>${xmlEscape(total)}</opensearch:totalResults>${entries.join('\n')}</feed>`,
    );
  const oaiRecord = fc
    .record({ id: fc.oneof(idish.map(xmlEscape), xmlField), title: xmlField, abstract: xmlField, keyname: xmlField, forenames: xmlField, cats: xmlField, date: dateish.map(xmlEscape), deleted: fc.boolean() })
    .map(
      (r) =>
        `<record><header${r.deleted ? ' status="deleted"' : ''}><identifier>oai:arXiv.org:${r.id}</identifier><datestamp>${r.date}</datestamp></header>` +
        `<metadata><arXiv xmlns="http://arxiv.org/OAI/arXiv/"><id>${r.id}</id><created>${r.date}</created><authors><author><keyname>${r.keyname}</keyname><forenames>${r.forenames}</forenames></author></authors>` +
        `<title>${r.title}</title><categories>${r.cats}</categories><abstract>${r.abstract}</abstract></arXiv></metadata></record>`,
    );
  const oaiPage = fc
    .tuple(fc.array(oaiRecord, { maxLength: 3 }), hostile, fc.boolean())
    .map(
      ([records, token, error]) =>
        `<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">` +
        (error ? `<error code="${xmlEscape(token)}">${xmlEscape(token)}</error>` : '') +
        `<ListRecords>${records.join('\n')}<resumptionToken completeListSize="${xmlEscape(token)}" cursor="0">${xmlEscape(token)}</resumptionToken></ListRecords></OAI-PMH>`,
    );
  // Real-looking documents with a hostile insertion or a cut anywhere.
  const mutated = fc
    .tuple(fc.oneof(atomFeed, oaiPage, fc.constantFrom(file('atom-hostile.xml'), file('oai-hostile.xml'), file('billion-laughs.xml'))), fc.nat(), fc.nat(), hostile)
    .map(([doc, at, len, ins]) => {
      const i = at % (doc.length + 1);
      return doc.slice(0, i) + ins + doc.slice(Math.min(doc.length, i + (len % 40)));
    });
  fc.assert(
    fc.property(fc.oneof(atomFeed, oaiPage, mutated, hostile), (s) => {
      tally('xml');
      parsers(s);
    }),
    parserOpts(500),
  );
});

test('ingest arxiv-snapshot, jsonl and json-line: hostile lines never throw', () => {
  const line = (s: string) => {
    checkItems([parseJsonlLine(s, 'jsonl:1')]);
    checkItems([parseSnapshotLine(s, 'snap:1')]);
    checkItems([parseSnapshotLine(s, 'snap:1', { categories: ['cs.*', 'stat.ML'], since: '2024-01-01' }, globToRegExp(['cs.*', 'stat.ML']))]);
    const j = jsonObjectLine(s, 'j:1');
    assert.ok('object' in j || ('skip' in j && j.skip.ok === false));
  };
  each('jsonl/snapshot', [...CORPUS, ...file('nul-lines.jsonl').split('\n'), ...file('invalid-utf8.bin').split('\n')], line);
  const snapshot = fc.record(
    {
      id: idish,
      title: longHostile,
      abstract: longHostile,
      authors: hostile,
      authors_parsed: fc.oneof(fc.array(fc.array(fc.oneof(hostile, fc.constant(null), fc.integer()), { maxLength: 4 }), { maxLength: 4 }), jsonValue),
      categories: fc.oneof(hostile, fc.constantFrom('cs.LG stat.ML', 'cs.*', '')),
      versions: fc.oneof(fc.array(fc.record({ version: fc.oneof(hostile, fc.constantFrom('v1', 'v2', 'v999999999999')), created: dateish }), { maxLength: 3 }), jsonValue),
      update_date: dateish,
      doi: hostile,
      journal_ref: hostile,
      comments: hostile,
    },
    { requiredKeys: [] },
  );
  const jsonl = fc.record(
    { id: idish, title: longHostile, abstract: longHostile, authors: fc.oneof(hostile, fc.array(hostile, { maxLength: 4 }), jsonValue), url: hostile, date: dateish, categories: fc.oneof(hostile, fc.array(hostile, { maxLength: 3 })), doi: hostile },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(fc.oneof(snapshot, jsonl, jsonObject, jsonValue).map((v) => JSON.stringify(v) ?? 'null'), fc.array(hostile, { maxLength: 3 }), (s, globs) => {
      tally('jsonl/snapshot');
      line(s);
      const re = globToRegExp(globs);
      checkItems([parseSnapshotLine(s, 'snap:2', { categories: globs, since: '2025-01-01' }, re)]);
    }),
    parserOpts(500),
  );
});

test('ingest ids, LaTeX, normalise and merge: never throw; ids come out canonical', () => {
  const ids = (s: string) => {
    const id = parseArxivId(s);
    if (id) assert.match(id.id, /^(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?\/\d{7})$/, `not canonical: ${id.id}`);
    const doi = normaliseDoi(s);
    if (doi !== undefined) assert.ok(doi.startsWith('10.') && !/\s/.test(doi), `not a DOI: ${doi}`);
    titleKey(s);
    paperKey({ arxivId: id?.id, doi, title: s });
    assert.equal(typeof latexToUnicode(s), 'string');
    fixMojibake(s);
    assert.ok(!/[\r\n]/.test(oneLine(s)));
    paragraphs(s);
    const d = isoDate(s);
    if (d !== null) assert.ok(Number.isFinite(Date.parse(d)), d);
    const u = cleanUrl(s);
    if (u !== null) assert.match(u, /^https?:\/\//i);
    for (const l of linksInText(s)) assert.match(l.url, /^https?:\/\//i);
  };
  each('ids/latex/normalise', CORPUS, ids);
  const record = fc.record(
    {
      arxivId: fc.option(idish, { nil: undefined }),
      version: fc.option(fc.oneof(fc.integer(), fc.double()), { nil: undefined }),
      title: longHostile,
      abstract: fc.option(longHostile, { nil: undefined }),
      authors: fc.option(fc.array(hostile, { maxLength: 4 }), { nil: undefined }),
      categories: fc.option(fc.array(hostile, { maxLength: 3 }), { nil: undefined }),
      submittedAt: fc.option(dateish, { nil: undefined }),
      updatedAt: fc.option(dateish, { nil: undefined }),
      doi: fc.option(hostile, { nil: undefined }),
      journalRef: fc.option(hostile, { nil: undefined }),
      comments: fc.option(hostile, { nil: undefined }),
      links: fc.option(fc.array(fc.record({ kind: fc.constantFrom('abs', 'pdf', 'html', 'code', 'project', 'doi', 'other'), url: hostile }), { maxLength: 3 }), { nil: undefined }),
      signals: fc.option(fc.array(fc.record({ name: hostile, value: fc.double(), observedAt: dateish }), { maxLength: 2 }), { nil: undefined }),
    },
    { requiredKeys: ['title'] },
  ) as fc.Arbitrary<PaperRecord>;
  fc.assert(
    fc.property(hostile, record, record, (s, r1, r2) => {
      tally('ids/latex/normalise');
      ids(s);
      const a = normalise('a', r1);
      const b = normalise('b', r2);
      if (a.ok && b.ok) {
        tally('merge');
        samePaper(a.value.paper, b.value.paper);
        const m = mergePapers(a.value.paper, b.value.paper);
        assert.equal(typeof m.title, 'string');
        assert.ok(!/[\r\n]/.test(m.title));
      }
    }),
    parserOpts(500),
  );
});

test('search query language: parseQuery and the FTS5 expressions never throw, and SQLite accepts every expression', () => {
  const db = new Database(':memory:');
  db.exec(`CREATE VIRTUAL TABLE t USING fts5(title, abstract, authors, tokenize = 'porter unicode61')`);
  db.prepare('INSERT INTO t (title, abstract, authors) VALUES (?, ?, ?)').run('Efficient LLaMA-2 inference', 'int8 on x86_64', 'Song Han');
  const select = db.prepare('SELECT count(*) AS n FROM t WHERE t MATCH ?');
  const query = (s: string) => {
    const p = parseQuery(s);
    assert.ok(Array.isArray(p.terms) && Array.isArray(p.ignored));
    for (const w of [...p.terms, ...p.prefixes, ...p.excludes]) assert.ok(w.length > 0 && !/[\s"]/.test(w), `word ${JSON.stringify(w)}`);
    for (const b of [p.since, p.until]) if (b !== undefined) assert.match(b, /^\d{4}-\d{2}-\d{2}$/);
    for (const mode of ['and', 'or'] as const) {
      for (const expr of [ftsMatch(p, { mode }), ftsExcluded(p), keywordMatch(p, { mode })?.fts, keywordExcluded(p)?.fts]) {
        if (expr !== null && expr !== undefined) select.get(expr);
      }
    }
    // More-like-this passes a handful of chosen words, never a whole text.
    const any = anyWordMatch(wordsOf(s).slice(0, 64));
    if (any) select.get(any.fts);
    parseDateBound(s, false);
    parseDateBound(s, true);
  };
  try {
    each('query', CORPUS, query);
    const part = fc.oneof(
      hostile,
      fc.constantFrom('author:', 'cat:', 'since:', 'until:', 'has:code', '-has:code', '-', '"', '*', 'AND', 'OR', 'NOT', 'NEAR(', ')', ':', '^', '+'),
      fc.tuple(fc.constantFrom('author:', 'cat:', 'since:', 'until:', 'has:', '-', '-"', '"', 'title:', '{title}:'), hostile).map(([a, b]) => a + b),
    );
    fc.assert(
      fc.property(fc.array(part, { maxLength: 12 }).map((p) => p.join(' ')), (s) => {
        tally('query');
        query(s);
      }),
      parserOpts(800),
    );
  } finally {
    db.close();
  }
});

test('config: random environments give a Config or a ConfigError, never another exception', () => {
  const dir = tempDir('paperboy-fuzz-config-');
  try {
    const NAMES = [
      'DATABASE_URL', 'PAPERBOY_DB_POOL', 'HOST', 'PORT', 'BASE_URL', 'SECRET_KEY', 'LOG_LEVEL', 'PAPERBOY_DEMO', 'PAPERBOY_SCHEDULER', 'PAPERBOY_ROLES',
      'PAPERBOY_SCHEDULER_TICK_SECONDS', 'PAPERBOY_SEND_POLL_SECONDS', 'PAPERBOY_INGEST_SOURCES', 'PAPERBOY_INGEST_INTERVAL_MINUTES', 'PAPERBOY_ARXIV_SET',
      'PAPERBOY_ARXIV_QUERY', 'HF_API_URL', 'ARXIV_API_URL', 'ARXIV_OAI_URL', 'PAPERBOY_HTTP_MIN_INTERVAL_MS', 'PAPERBOY_HTTP_RETRIES', 'PAPERBOY_HTTP_BACKOFF_MS',
      'PAPERBOY_HTTP_TIMEOUT_MS', 'PAPERBOY_EMBEDDER', 'PAPERBOY_EMBEDDER_URL', 'PAPERBOY_EMBEDDER_MODEL', 'PAPERBOY_EMBEDDER_KEY', 'PAPERBOY_EMBEDDER_DIMS',
      'PAPERBOY_EMBEDDER_BATCH_SIZE', 'PAPERBOY_EMBEDDER_TIMEOUT_MS', 'PAPERBOY_EMBEDDER_RETRIES', 'PAPERBOY_EMBEDDER_QUERY_PREFIX', 'PAPERBOY_EMBEDDER_DOCUMENT_PREFIX',
      'PAPERBOY_EMBEDDER_OFFLINE', 'PAPERBOY_HYBRID_WEIGHT', 'PAPERBOY_TRENDING_WEIGHTS', 'PAPERBOY_TRENDING_HALF_LIFE_HOURS', 'PAPERBOY_TRENDING_INTERVAL_MINUTES',
      'PAPERBOY_RATE_LIMIT', 'PAPERBOY_OLD_SECRETS', 'SMTP_URL', 'MAIL_FROM', 'SMTP_POOL_SIZE', 'SMTP_RATE_PER_SECOND', 'DKIM_DOMAIN', 'DKIM_SELECTOR',
      'DKIM_PRIVATE_KEY', 'PAPERBOY_DIGEST_GRACE_HOURS', 'PAPERBOY_DIGEST_MAX_ATTEMPTS', 'PAPERBOY_DIGEST_LEASE_SECONDS', 'PAPERBOY_DIGEST_CONCURRENCY',
      'PAPERBOY_PENDING_EXPIRY_HOURS', 'PAPERBOY_BLOCKED_DOMAINS', 'PAPERBOY_SUPPRESS_AFTER_BOUNCES', 'PAPERBOY_WEBHOOK_TOKEN', 'PAPERBOY_READY_MAX_LAG_SECONDS',
      'PAPERBOY_METRICS_ALLOWED_NETWORKS', 'PAPERBOY_METRICS_TOKEN', 'ADMIN_TOKEN', 'UNRELATED_VARIABLE',
    ];
    const value = fc.oneof(
      hostile,
      fc.constantFrom('0', '1', '-1', '1.5', '1e309', 'NaN', 'Infinity', ' 5 ', '0x10', '', 'true', 'no', 'none', 'web', 'hf-daily,arxiv-oai', 'sqlite::memory:', 'postgres://u:p@h/d'),
      fc.constantFrom('http://localhost', 'https://example.org/', 'ftp://x', 'http://', 'smtp://u:p@h:587', 'vote=2,upvote=x', 'vote=-1', '-----BEGIN PRIVATE KEY-----\\nabc'),
      fc.string({ minLength: 16, maxLength: 40 }),
      fc.integer().map(String),
    );
    const check = (env: Record<string, string>) => {
      try {
        const c = loadConfig({ PAPERBOY_DATA_DIR: dir, ...env });
        assert.ok(Object.isFrozen(c));
      } catch (err) {
        assert.ok(err instanceof ConfigError, `loadConfig threw ${(err as Error).stack}`);
      }
    };
    each('config', CORPUS.filter((s) => s.length < 5000), (s) => check(Object.fromEntries(NAMES.map((n) => [n, s]))));
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...NAMES), value, { maxKeys: 12 }), fc.boolean(), (env, secret) => {
        tally('config');
        check({ ...env, ...(secret ? { SECRET_KEY: 'fuzz-secret-key-0123456789abcdef' } : {}) });
      }),
      parserOpts(400),
    );
  } finally {
    removeDir(dir);
  }
});

test('digest: addresses, time zones, schedules, preferences and bounce reports', () => {
  const address = (s: string) => {
    const a = normaliseAddress(s);
    if (a.ok) {
      // eslint-disable-next-line no-control-regex -- control characters are what must never pass
      assert.ok(!/[\s<>,;:"()\\\u0000-\u001F\u007F]/u.test(a.address), `header-breaking address ${JSON.stringify(a.address)}`);
      assert.ok(a.address.length <= 254 && a.key === a.address.toLowerCase());
      assert.equal(normaliseAddress(a.address).address, a.address, 'idempotent');
      const masked = maskAddress(a.address);
      assert.ok(masked.endsWith(`@${a.domain}`) && !/[\r\n]/.test(masked));
      domainBlocked(a.domain, ['example.com', s, '.', '']);
    }
    maskAddress(s);
  };
  const tz = (s: string) => {
    if (!isTimeZone(s)) return;
    localDate(Date.now(), s);
    instantOf('2026-03-29', 2, s);
    nextIssue({ timeZone: s, hour: 2, frequency: 'weekly', weekday: 7 }, Date.now(), null);
  };
  const prefs = (o: Record<string, unknown>) => {
    try {
      const p = parsePreferences(o);
      assert.ok(Number.isInteger(p.deliveryHour) && p.deliveryHour >= 0 && p.deliveryHour <= 23);
      assert.ok(p.topics.every((t) => typeof t === 'string' && !/[\r\n]/.test(t)));
      assert.ok(isTimeZone(p.timezone));
    } catch (err) {
      assert.ok(err instanceof InputError, `parsePreferences threw ${(err as Error).stack}`);
    }
    try {
      parseTopics(o['topics']);
    } catch (err) {
      assert.ok(err instanceof InputError);
    }
  };
  const bounces = (v: unknown) => {
    const r = parseBounceReport(v);
    assert.ok(Array.isArray(r.events));
    for (const e of r.events) assert.ok(typeof e.email === 'string' && typeof e.detail === 'string' && ['hard', 'soft', 'complaint'].includes(e.kind));
  };
  each('digest', CORPUS, (s) => {
    address(s);
    tz(s);
    prefs({ timezone: s, topics: s, hour: s, frequency: s, weekday: s, perDigest: s, includeNew: s });
    bounces(s);
    let parsed: unknown;
    try {
      parsed = JSON.parse(s);
    } catch {
      return;
    }
    bounces(parsed);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) prefs(parsed as Record<string, unknown>);
  });
  // Deeply nested reports (a webhook body may hold anything that fits in 1 MB).
  each('digest', [JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)), JSON.parse('{"events":'.repeat(20_000) + '[]' + '}'.repeat(20_000))], bounces);
  const local = fc.string({ unit: fc.oneof(fc.constantFrom(...'abcxyzABC0189.+-_!#$%&\'*/=?^`{|}~'.split('')), unit), minLength: 1, maxLength: 20 });
  const domain = fc.array(fc.string({ unit: fc.oneof(fc.constantFrom(...'abcxyz019-'.split('')), unit), minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 4 }).map((l) => l.join('.'));
  const bounceReport = fc.oneof(
    fc.record({ type: fc.constantFrom('bounce', 'complaint', 'x'), email: fc.oneof(hostile, jsonLike), hard: fc.oneof(fc.boolean(), jsonLike), detail: jsonLike }, { requiredKeys: [] }),
    fc.record({ notificationType: fc.constantFrom('Bounce', 'Complaint'), bounce: jsonLike, complaint: jsonLike }, { requiredKeys: [] }),
    fc.record({ notificationType: fc.constant('Bounce'), bounce: fc.record({ bounceType: fc.constantFrom('Permanent', 'Transient'), bouncedRecipients: fc.array(jsonLike, { maxLength: 3 }) }) }),
    fc.record({ notificationType: fc.constant('Complaint'), complaint: fc.record({ complainedRecipients: fc.array(jsonLike, { maxLength: 3 }) }) }),
  );
  const sns = bounceReport.map((m) => ({ Type: 'Notification', Message: JSON.stringify(m) }));
  fc.assert(
    fc.property(fc.tuple(local, domain).map(([l, d]) => `${l}@${d}`), hostile, jsonObject, fc.oneof(bounceReport, sns, fc.array(bounceReport, { maxLength: 3 }), jsonValue), (addr, s, o, report) => {
      tally('digest');
      address(addr);
      address(s);
      tz(s);
      prefs(o);
      prefs(Object.fromEntries(new URLSearchParams(s)));
      bounces(JSON.parse(JSON.stringify(report) ?? 'null'));
    }),
    parserOpts(500),
  );
});

test('digest tokens: only tokens we signed verify; rotation accepts old secrets; verify never throws', () => {
  const now = Date.parse('2026-06-01T00:00:00Z');
  const current = new Tokens(['current-secret-0123456789']);
  const rotated = new Tokens(['next-secret-abcdefghijkl', 'current-secret-0123456789']);
  const fresh = new Tokens(['next-secret-abcdefghijkl']);
  const purposes: TokenPurpose[] = ['confirm', 'prefs', 'unsubscribe'];
  each('tokens', CORPUS, (s) => {
    for (const p of purposes) assert.equal(current.verify(s, p, now), null);
  });
  const claims = fc.record({
    purpose: fc.constantFrom(...purposes),
    subscriberId: fc.integer({ min: 1, max: 2 ** 40 }),
    nonce: fc.string({ unit: fc.constantFrom(...'abcXYZ019_-'.split('')), minLength: 8, maxLength: 32 }),
    expires: fc.oneof(fc.constant(0), fc.integer({ min: now / 1000 + 1, max: now / 1000 + 1e8 })),
  });
  fc.assert(
    fc.property(claims, fc.nat(), hostile, fc.anything(), (generated, at, junk, anything) => {
      tally('tokens');
      const c = { ...generated };
      const token = current.sign(c);
      assert.deepEqual(current.verify(token, c.purpose, now), c);
      assert.deepEqual(rotated.verify(token, c.purpose, now), c, 'an old secret still verifies after rotation');
      assert.equal(fresh.verify(token, c.purpose, now), null, 'a retired secret no longer verifies');
      for (const p of purposes) if (p !== c.purpose) assert.equal(current.verify(token, p, now), null);
      const i = at % token.length;
      const tampered = token.slice(0, i) + junk + token.slice(i + 1);
      if (tampered !== token) assert.equal(current.verify(tampered, c.purpose, now), null, `tampered ${tampered}`);
      assert.equal(current.verify(anything, c.purpose, now), null);
    }),
    parserOpts(300),
  );
});

test('web session: cookie headers, visitor cookies and CSRF tokens never throw and never pass when forged', () => {
  const sessions = new Sessions('fuzz-secret-0123456789abcdef', false);
  const req = (headers: Record<string, unknown>, body?: unknown) => ({ headers, body }) as unknown as FastifyRequest;
  const reply = { header: () => reply } as unknown as FastifyReply;
  const fresh = req({});
  const visitor = sessions.ensureVisitor(fresh, reply);
  const cookie = fresh.headers.cookie!;
  const csrf = sessions.csrfToken(visitor);
  assert.equal(sessions.visitor(req({ cookie })), visitor);
  assert.ok(sessions.checkCsrf(req({ cookie, 'x-csrf-token': csrf })));
  const check = (header: string, token: unknown) => {
    const m = parseCookies(header);
    for (const [k, v] of m) assert.ok(typeof k === 'string' && typeof v === 'string');
    const v = sessions.visitor(req({ cookie: header }));
    if (v !== null) assert.equal(v, visitor, 'only the real cookie names a visitor');
    const ok = sessions.checkCsrf(req({ cookie: header, 'x-csrf-token': token }, { _csrf: token }));
    if (ok) assert.ok(v === visitor && token === csrf);
    assert.equal(sessions.checkCsrf(req({ cookie, 'x-csrf-token': token }, { _csrf: token })), token === csrf);
  };
  each('session', CORPUS, (s) => check(s, s));
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.oneof(fc.constant(VISITOR_COOKIE), hostile), fc.oneof(hostile, fc.constant(cookie.slice(VISITOR_COOKIE.length + 1)))), { maxLength: 4 }),
      fc.oneof(hostile, fc.constant(csrf), jsonLike),
      (pairs, token) => {
        tally('session');
        check(pairs.map(([k, v]) => `${k}=${v}`).join('; '), token);
      },
    ),
    parserOpts(500),
  );
});

test('rendering: feeds stay well-formed, LaTeX and escaping never emit live markup, mail headers never split', async () => {
  const meta = (title: string): FeedMeta => ({ title, description: title, siteUrl: 'https://paperboy.example/', feedUrl: 'https://paperboy.example/feeds/trending.atom', updated: '2026-01-01T00:00:00.000Z' });
  const item = (s: string): FeedItem => ({ url: 'https://paperboy.example/paper/2401.01234', title: s, summary: s, authors: [s, 'Ada'], categories: [s], published: s, updated: null });
  const render = (s: string) => {
    for (const xml of [rss(meta(s), [item(s)]), atom(meta(s), [item(s)])]) {
      assert.equal(XMLValidator.validate(xml), true, `invalid XML for ${JSON.stringify(s.slice(0, 80))}`);
      assert.ok(!/<script/i.test(xml));
    }
    JSON.parse(jsonFeed(meta(s), [item(s)]));
    for (const f of [renderTextWithMath, renderInline, renderAbstract]) assertInert(f(s).value, f.name);
    if (s.length < 2000) assertInert(renderInline(`$\\sqrt{${s}}$ $\\widehat{${s}}$ $\\href{${s}}{x}$`).value, 'katex');
    assertInert(escapeHtml(s), 'escapeHtml');
    assert.ok(!/[\r\n]/.test(mailLine(s)));
  };
  each('render', CORPUS.filter((s) => s.length <= 200_000), render);
  fc.assert(
    fc.property(longHostile, (s) => {
      tally('render');
      render(s);
    }),
    parserOpts(300),
  );
  // Mail: a hostile subject and headers never add a header line of their own.
  const mail = async (subject: string) => {
    const raw = await buildMessage({
      from: 'paperboy <digest@paperboy.example>',
      to: 'reader@example.com',
      subject: mailLine(subject, 150),
      text: subject,
      html: escapeHtml(subject),
      messageId: 'digest-1-2026-01-01@paperboy.example',
      headers: { 'List-Unsubscribe': '<https://paperboy.example/u/u1.abcdefgh.0.AAAAAAAAAAAAAAAAAAAAAAAAAAA>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
      day: '2026-01-01',
    });
    const head = raw.toString('latin1').split('\r\n\r\n')[0]!;
    const names = head.split('\r\n').filter((l) => !/^[ \t]/.test(l)).map((l) => l.slice(0, l.indexOf(':')).toLowerCase());
    for (const n of names) assert.ok(!['bcc', 'cc', 'x-injected', 'set-cookie', 'location'].includes(n), `injected header ${n}: ${head}`);
    assert.equal(names.filter((n) => n === 'to').length, 1);
  };
  for (const s of LISTED) {
    tally('mail');
    await mail(s);
  }
  await fc.assert(
    fc.asyncProperty(hostile, async (s) => {
      tally('mail');
      await mail(s);
    }),
    parserOpts(100),
  );
});

// ================================================================================ SSRF (ingest)

test('ssrf: ingest fetches only configured hosts, and a redirect elsewhere is refused', async () => {
  const hits: string[] = [];
  const other: Server = createServer((req, res) => {
    hits.push(req.url ?? '');
    res.end('internal');
  });
  const upstream: Server = createServer((req, res) => {
    if (req.url?.startsWith('/redirect')) {
      res.writeHead(302, { location: `http://127.0.0.1:${(other.address() as AddressInfo).port}/latest/meta-data` }).end();
    } else if (req.url?.startsWith('/local')) {
      res.writeHead(301, { location: '/ok' }).end();
    } else {
      res.end('[]');
    }
  });
  await Promise.all([new Promise<void>((r) => other.listen(0, '127.0.0.1', r)), new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r))]);
  try {
    const up = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const config = loadConfig({ PAPERBOY_DATA_DIR: '/nonexistent', SECRET_KEY: 'fuzz-secret-0123456789abcdef', HF_API_URL: `http://${up}/api/daily_papers` });
    const allowed = ingestHosts(config);
    assert.deepEqual(allowed.sort(), [up, 'export.arxiv.org', 'oaipmh.arxiv.org'].sort());
    assert.ok(ingestHosts(config, ['https://mirror.example/x.json', 'local.json']).includes('mirror.example'), 'URLs the operator names are allowed');
    const http = new HttpClient({ allowedHosts: allowed, retries: 0 });
    assert.equal((await http.get(`http://${up}/ok`)).body.toString(), '[]');
    assert.equal((await http.get(`http://${up}/local`)).body.toString(), '[]', 'a redirect within an allowed host is followed');
    await assert.rejects(http.get(`http://${up}/redirect`), (err: unknown) => err instanceof HttpError && /not an allowed ingest host/.test(err.message));
    for (const target of ['http://169.254.169.254/latest/meta-data/', `http://127.0.0.1:${(other.address() as AddressInfo).port}/`, 'http://[::1]/', 'file:///etc/passwd', 'gopher://127.0.0.1:6379/_x']) {
      await assert.rejects(http.get(target), HttpError, target);
    }
    // End to end: a scheduled Daily Papers fetch whose endpoint redirects to an internal address fails
    // (the run records it) instead of reading that address.
    const redirecting = loadConfig({ PAPERBOY_DATA_DIR: '/nonexistent', SECRET_KEY: 'fuzz-secret-0123456789abcdef', HF_API_URL: `http://${up}/redirect`, PAPERBOY_HTTP_RETRIES: '0' });
    const run = openSource('hf-daily', { inputs: [], date: '2026-01-01' }, { config: redirecting, now: () => new Date('2026-01-01T12:00:00Z'), log: () => {} });
    await assert.rejects(
      (async () => {
        for await (const item of run.items) void item;
      })(),
      (err: unknown) => err instanceof SourceError && /not an allowed ingest host/.test(err.message),
    );
    assert.deepEqual(hits, [], 'the internal server was never contacted');
    // Without a restriction (tests, the CLI's own HttpClient users), redirects are followed as before.
    assert.equal((await new HttpClient({ retries: 0 }).get(`http://${up}/redirect`)).body.toString(), 'internal');
    assert.equal(redactUrl('https://u:secret@h.example/x?token=abc'), 'https://u@h.example/x?token=REDACTED');
    tally('ssrf', 9);
  } finally {
    await Promise.all([new Promise((r) => other.close(r)), new Promise((r) => upstream.close(r))]);
  }
});

// ========================================================================================= HTTP

interface RouteDef {
  method: string;
  url: string;
}

/** Every route Fastify registers for an instance created while `fn` runs (diagnostics channel). */
async function withRoutes<T>(fn: () => Promise<T>): Promise<{ value: T; routes: RouteDef[] }> {
  const routes: RouteDef[] = [];
  const onInit = (msg: unknown) => {
    const { fastify } = msg as { fastify: FastifyInstance };
    fastify.addHook('onRoute', (r) => {
      for (const m of [r.method].flat()) routes.push({ method: m, url: r.url });
    });
  };
  subscribe('fastify.initialization', onInit);
  try {
    return { value: await fn(), routes };
  } finally {
    unsubscribe('fastify.initialization', onInit);
  }
}

const WEBHOOK_TOKEN = 'fuzz-webhook-token-0123456789';
let app: Awaited<ReturnType<typeof tempApp>>;
let server: FastifyInstance;
let routes: RouteDef[] = [];
let session = { cookie: '', csrf: '' };
let paperKeys: string[] = [];
const linkTokens: Partial<Record<'confirm' | 'prefs' | 'unsubscribe', string>> = {};

before(async () => {
  app = await tempApp({ PAPERBOY_RATE_LIMIT: '0', PAPERBOY_WEBHOOK_TOKEN: WEBHOOK_TOKEN, PAPERBOY_EMBEDDER: 'none', BASE_URL: 'http://paperboy.test' });
  await loadDemoIfEmpty(app);
  const built = await withRoutes(() => buildServer(app));
  server = built.value;
  routes = built.routes;
  await server.ready();
  // A visitor with a CSRF token, so that forms and votes get past their checks into the parsers.
  const home = await server.inject({ method: 'GET', url: '/', headers: { accept: 'text/html' } });
  const setCookie = [home.headers['set-cookie'] ?? []].flat()[0] ?? '';
  session = { cookie: setCookie.split(';')[0]!, csrf: /name="_csrf" value="([^"]+)"/.exec(home.body)?.[1] ?? '' };
  const papers = await server.inject({ method: 'GET', url: '/api/papers?limit=20' });
  paperKeys = (papers.json() as { papers: { key: string }[] }).papers.map((p) => p.key);
  await newSubscriber();
});

/** A subscriber, so the signed-link routes reach their forms (again after a fuzzed request deleted it). */
let subscribers = 0;
async function newSubscriber(): Promise<void> {
  const email = `fuzz.reader${++subscribers}@example.com`;
  const sub = await server.inject({ method: 'POST', url: '/api/subscribe', headers: { 'x-forwarded-for': `192.0.2.${subscribers % 250}` }, payload: { email, topics: ['llm'] } });
  assert.equal(sub.statusCode, 202, sub.body);
  const s = await subscriberByKey(app.db, email);
  assert.ok(s);
  for (const p of ['confirm', 'prefs', 'unsubscribe'] as const) linkTokens[p] = new URL(app.digests.link(p, s)).pathname.split('/').pop()!;
}

after(async () => {
  await server?.close();
  await app?.close();
});

const QUERY_KEYS = ['q', 'limit', 'offset', 'mode', 'window', 'page', 'cat', 'since', 'until', 'code', 'topic', 'view', 'token', 'v', '__proto__', 'constructor'];
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/x-www-form-urlencoded',
  'text/plain',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/octet-stream',
  'application/json; charset=utf-16',
  'text/html',
  '',
  'garbage/\u0000',
  'application/x-www-form-urlencoded; charset=latin1',
];

interface Req {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

/** A route's path with its parameters filled, either sensibly or with hostile text. */
function fillPath(url: string, pick: { param: string; valid: boolean; suffix: string; n: number }): string {
  return url.replace(/:([A-Za-z_]+)|\*/g, (m, name: string | undefined) => {
    if (pick.valid) {
      if (name === 'token') return linkTokens[url.startsWith('/confirm') ? 'confirm' : url.startsWith('/u/') ? 'unsubscribe' : 'prefs'] ?? 'x';
      if (m === '*' && url.startsWith('/static/')) return ['app.css', 'app.js', 'favicon.svg', 'katex.min.css', 'fonts/KaTeX_Main-Regular.woff2'][pick.n % 5]!;
      if (url.startsWith('/feeds/')) return `${['trending', 'search', 'other'][pick.n % 3]}.${['rss', 'atom', 'json', 'xml'][pick.n % 4]}`;
      if (url.startsWith('/author/')) return ['Song Han', 'Han, Song', 'O\'Brien'][pick.n % 3]!;
      if (url.startsWith('/admin/outbox/')) return name === 'day' ? ['2026-01-01', 'other'][pick.n % 2]! : ['x.eml', 'x.html', '..eml'][pick.n % 3]!;
      if (m === '*' || name === 'name') return `${paperKeys[pick.n % Math.max(1, paperKeys.length)] ?? '2401.01234'}${pick.suffix}`;
      if (name === 'cat') return ['cs', 'cs.LG', 'stat.ML'][pick.n % 3]!;
      return 'x';
    }
    // Hostile: percent-encoded so that the request line itself stays valid, sometimes left half raw.
    const e = enc(pick.param);
    return (pick.n % 4 === 0 ? e.replace(/%2F/g, '/').replace(/%25/g, '%') : e) + (m === '*' ? pick.suffix : '');
  });
}

const request = (routeList: RouteDef[]) =>
  fc
    .record({
      route: fc.nat({ max: routeList.length - 1 }),
      valid: fc.boolean(),
      param: hostile,
      n: fc.nat(),
      suffix: fc.constantFrom('', '/similar', '/vote', '/', '/x/../..'),
      query: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...QUERY_KEYS), hostile), fc.oneof(hostile, fc.constantFrom('1', '0', '-1', '100000', 'day', 'week', 'keyword', 'html', 'NaN', '1e9'))), { maxLength: 4 }),
      rawQuery: fc.constantFrom('', '&%ZZ', '&a[b]=1&a[c]=2', '&__proto__[polluted]=1', '&q=%00', '&q', '&&&==&', '&limit=1&limit=2', '&q=%E0%A4%A'),
      body: fc.oneof(
        { weight: 4, arbitrary: jsonValue.map((v) => ({ kind: 'json', text: JSON.stringify(v) ?? 'null' })) },
        { weight: 2, arbitrary: jsonObject.map((o) => ({ kind: 'form', text: new URLSearchParams(Object.entries(o).map(([k, v]): [string, string] => [k.toWellFormed(), typeof v === 'string' ? v.toWellFormed() : (JSON.stringify(v) ?? '')])).toString() })) },
        { weight: 1, arbitrary: fc.constantFrom(...CORPUS.filter((s) => s.length < 300_000)).map((text) => ({ kind: 'raw', text })) },
        { weight: 1, arbitrary: jsonValue.map((v) => ({ kind: 'malformed', text: (JSON.stringify(v) ?? '').slice(0, -1) + ',' })) },
        { weight: 1, arbitrary: fc.constantFrom(...FILES.map((f) => f.bytes)).map((bytes) => ({ kind: 'bytes', bytes })) },
        { weight: 1, arbitrary: fc.constant({ kind: 'none', text: '' }) },
      ),
      contentType: fc.constantFrom(...CONTENT_TYPES),
      // 'local': from this machine and not forwarded, which is what opens the outbox and the admin area.
      auth: fc.constantFrom('session', 'session', 'none', 'forged', 'webhook', 'local'),
      html: fc.boolean(),
      ip: fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255)),
    })
    .map((r): Req => {
      const route = routeList[r.route]!;
      const qs = new URLSearchParams(r.query.map(([k, v]): [string, string] => [k.toWellFormed(), v.toWellFormed()])).toString();
      const url = `${fillPath(route.url, { param: r.param, valid: r.valid, suffix: r.suffix, n: r.n })}?${qs}${r.rawQuery}`;
      const headers: Record<string, string> = { 'x-forwarded-for': `10.${r.ip.join('.')}` };
      if (r.html) headers.accept = 'text/html';
      if (r.auth === 'session') Object.assign(headers, { cookie: session.cookie, 'x-csrf-token': session.csrf });
      if (r.auth === 'forged') Object.assign(headers, { cookie: `${VISITOR_COOKIE}=${'A'.repeat(22)}.forged; x=${enc(r.param)}`, 'x-csrf-token': 'forged' });
      if (r.auth === 'webhook') headers.authorization = `Bearer ${WEBHOOK_TOKEN}`;
      if (r.auth === 'local') {
        Object.assign(headers, { cookie: session.cookie, 'x-csrf-token': session.csrf });
        delete headers['x-forwarded-for'];
      }
      const hasBody = route.method !== 'GET' && route.method !== 'HEAD' && r.body.kind !== 'none';
      if (!hasBody) return { method: route.method, url, headers };
      let payload: string | Buffer = 'bytes' in r.body ? r.body.bytes : r.body.text;
      // Form posts carry the CSRF token in the body too, as the site's forms do.
      if (r.body.kind === 'form' && r.auth === 'session') payload = `${payload}&_csrf=${encodeURIComponent(session.csrf)}`;
      const type = r.body.kind === 'json' || r.body.kind === 'malformed' ? (r.n % 5 === 0 ? r.contentType : 'application/json') : r.body.kind === 'form' ? (r.n % 5 === 0 ? r.contentType : 'application/x-www-form-urlencoded') : r.contentType;
      if (type) headers['content-type'] = type.replaceAll('\u0000', '');
      return { method: route.method, url, headers, payload };
    });

const CANARIES = ['<script>alert(', '<img src=x onerror', '<svg/onload', '"><script'];

async function send(r: Req, area: string): Promise<void> {
  tally(area);
  const res = await server.inject({ method: r.method as 'GET', url: r.url, headers: r.headers, ...(r.payload === undefined ? {} : { payload: r.payload }) });
  statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
  const shown = () => `${r.method} ${r.url.slice(0, 300)} ${JSON.stringify(r.headers)} body=${JSON.stringify(r.payload?.toString().slice(0, 300))} → ${res.statusCode} ${res.body.slice(0, 500)}`;
  assert.ok(res.statusCode < 500, `5xx: ${shown()}`);
  assert.ok(res.statusCode >= 200, shown());
  assert.ok(res.headers['content-security-policy'], `no CSP: ${shown()}`);
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
  const urlPath = r.url.split('?')[0]!;
  if (urlPath.startsWith('/api/') && res.statusCode >= 400 && r.method !== 'HEAD') {
    let body: { error?: { code?: unknown; message?: unknown } };
    try {
      body = res.json();
    } catch {
      throw new Error(`not JSON: ${shown()}`);
    }
    assert.ok(typeof body.error?.code === 'string' && typeof body.error.message === 'string', `error shape: ${shown()}`);
  }
  if (String(res.headers['content-type'] ?? '').startsWith('text/html')) {
    for (const c of CANARIES) assert.ok(!res.body.includes(c), `reflected ${c}: ${shown()}`);
  }
  for (const [name, v] of Object.entries(res.headers)) assert.ok(!/[\r\n]/.test([v].flat().join('')), `header ${name} split: ${shown()}`);
  if (r.method === 'POST' && urlPath.endsWith('/delete') && res.statusCode === 200) await newSubscriber();
}

test('http: the route list comes from Fastify and holds every kind of route', () => {
  const seen = new Set(routes.map((r) => `${r.method} ${r.url}`));
  for (const r of ['GET /api/papers', 'GET /api/search', 'POST /api/subscribe', 'POST /vote', 'POST /webhooks/bounces', 'GET /paper/*', 'POST /prefs/:token']) {
    assert.ok(seen.has(r), `${r} missing from ${[...seen].join(', ')}`);
  }
  assert.ok(session.cookie.startsWith(`${VISITOR_COOKIE}=`) && session.csrf.length > 10, 'a visitor session for the fuzzing');
  assert.ok(paperKeys.length > 0 && linkTokens.prefs);
});

test('http: every route gets the hostile corpus in its path, query and body, and answers below 500', async () => {
  const targets = routes.filter((r) => r.method !== 'OPTIONS');
  const small = CORPUS.filter((s) => s.length < 20_000);
  // Each entry goes to a quarter of the routes, each route gets a quarter of the entries (rotating), so
  // every pair of (route, kind of input) is covered within the time budget.
  const SPREAD = Math.max(1, Math.round(4 / MULT / HTTP_SCALE));
  for (const [i, s] of small.entries()) {
    for (const [j, route] of targets.entries()) {
      if ((i + j) % SPREAD !== 0) continue;
      const clean = s.toWellFormed();
      const url = `${fillPath(route.url, { param: s, valid: (i + j) % 4 === 0, suffix: ['', '/vote', '/similar'][i % 3]!, n: i + j })}?${new URLSearchParams({ q: clean, [['limit', 'window', 'page', 'topic', 'view', 'mode'][j % 6]!]: clean }).toString()}`;
      const headers: Record<string, string> = { 'x-forwarded-for': `10.1.${i % 256}.${j % 256}`, cookie: session.cookie, 'x-csrf-token': session.csrf, authorization: `Bearer ${WEBHOOK_TOKEN}` };
      if (route.method === 'GET' || route.method === 'HEAD') {
        await send({ method: route.method, url, headers }, 'http corpus');
        continue;
      }
      const bodies: [string, string][] = [
        ['application/json', s],
        ['application/json', JSON.stringify({ q: s, email: s, topics: s, vote: s, paper: s, type: 'bounce', events: [{ type: 'bounce', email: s }], timezone: s })],
        ['application/x-www-form-urlencoded', `_csrf=${session.csrf}&${new URLSearchParams({ email: clean, topic: clean, timezone: clean, hour: clean, paper: clean, back: clean, website: i % 7 === 0 ? 'bot' : '' }).toString()}`],
      ];
      const [type, payload] = bodies[(i + j) % 3]!;
      await send({ method: route.method, url, headers: { ...headers, 'content-type': type }, payload }, 'http corpus');
    }
  }
  // The hostile files as raw bodies, and the huge ones in the query too.
  for (const f of FILES) {
    for (const route of targets.filter((r) => r.method === 'POST')) {
      for (const type of ['application/json', 'text/plain', 'application/x-www-form-urlencoded']) {
        await send({ method: 'POST', url: fillPath(route.url, { param: f.name, valid: true, suffix: '/vote', n: 0 }), headers: { 'content-type': type, cookie: session.cookie, 'x-csrf-token': session.csrf, authorization: `Bearer ${WEBHOOK_TOKEN}`, 'x-forwarded-for': '10.2.0.1' }, payload: f.bytes }, 'http corpus');
      }
    }
  }
  for (const url of ['/api/search', '/search', '/feeds/search.atom', '/api/trending', '/author/x', '/']) {
    await send({ method: 'GET', url: `${url}?q=${encodeURIComponent('x '.repeat(20_000))}&window=${'a'.repeat(5000)}`, headers: {} }, 'http corpus');
  }
  // A JSON body nested 100 000 deep (200 kB, inside the 1 MB limit) to the JSON routes.
  for (const route of targets.filter((r) => r.method === 'POST')) {
    for (const deep of ['['.repeat(100_000) + ']'.repeat(100_000), '{"events":'.repeat(30_000) + '[]' + '}'.repeat(30_000)]) {
      await send({ method: 'POST', url: fillPath(route.url, { param: 'x', valid: true, suffix: '/vote', n: 1 }), headers: { 'content-type': 'application/json', cookie: session.cookie, 'x-csrf-token': session.csrf, authorization: `Bearer ${WEBHOOK_TOKEN}`, 'x-forwarded-for': '10.3.0.1' }, payload: deep }, 'http corpus');
    }
  }
});

test('http: random requests (bodies, content types, query strings, cookies) to every route answer below 500', async () => {
  const targets = routes.filter((r) => r.method !== 'OPTIONS');
  await fc.assert(
    fc.asyncProperty(request(targets), (r) => send(r, 'http random')),
    opts(1200 * HTTP_SCALE),
  );
  // And a second pass aimed at the routes that take input: every write and every /api route.
  const writes = targets.filter((r) => !['GET', 'HEAD'].includes(r.method) || r.url.startsWith('/api/'));
  await fc.assert(
    fc.asyncProperty(request(writes), (r) => send(r, 'http random')),
    opts(1200 * HTTP_SCALE),
  );
});

test('http: the rate limiter answers 429 with the error shape', async () => {
  const limited = await tempApp({ PAPERBOY_RATE_LIMIT: '5', PAPERBOY_EMBEDDER: 'none', PAPERBOY_DEMO: 'false' });
  const s = await buildServer(limited);
  try {
    const statuses: number[] = [];
    let last = await s.inject({ method: 'GET', url: '/api/papers' });
    for (let i = 0; i < 6; i++) {
      last = await s.inject({ method: 'GET', url: '/api/papers' });
      statuses.push(last.statusCode);
    }
    assert.equal(statuses.at(-1), 429, statuses.join(','));
    const body = last.json() as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'rate_limited');
    assert.match(body.error.message, /Too many requests/);
    assert.ok(last.headers['retry-after'], 'Retry-After');
    assert.ok(last.headers['content-security-policy']);
    assert.equal((await s.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'health checks are never limited');
    // The per-route limit on sign-ups holds even with the global limit off (PAPERBOY_RATE_LIMIT=0, as in the fuzz app).
    const codes: number[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await server.inject({ method: 'POST', url: '/api/subscribe', headers: { 'x-forwarded-for': '198.51.100.7' }, payload: { email: `limit${i}@example.com` } });
      codes.push(r.statusCode);
      if (r.statusCode === 429) assert.equal((r.json() as { error: { code: string } }).error.code, 'rate_limited');
    }
    assert.equal(codes.at(-1), 429, codes.join(','));
    tally('rate limit', 19);
  } finally {
    await s.close();
    await limited.close();
  }
});

test('cases tried', (t) => {
  const total = [...tried.values()].reduce((a, b) => a + b, 0);
  for (const [area, n] of [...tried].sort()) t.diagnostic(`fuzz: ${area}: ${n} cases tried`);
  t.diagnostic(`fuzz: http answers by status: ${[...statuses].sort((a, b) => a[0] - b[0]).map(([c, n]) => `${c}×${n}`).join(' ')}`);
  t.diagnostic(`fuzz: ${total} cases tried in all (FUZZ_RUNS=${MULT}${SEED === undefined ? '' : `, FUZZ_SEED=${SEED}`}; corpus ${CORPUS.length} inputs, ${routes.length} routes)`);
  assert.ok(total > 1000);
});
