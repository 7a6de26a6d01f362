import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { FEED_LIMITS, FEED_TYPES, atom, jsonFeed, plainLine, plainText, rss, type FeedItem, type FeedMeta } from './feeds.ts';

const META: FeedMeta = {
  title: 'paperboy: recent papers',
  description: 'Trending research papers',
  siteUrl: 'https://papers.example.org/',
  feedUrl: 'https://papers.example.org/feed.atom?q=llm&page=2',
  updated: '2024-03-01T12:00:00.000Z',
};

const ITEM: FeedItem = {
  url: 'https://papers.example.org/paper/2401.01234',
  title: 'Attention Is Still All You Need',
  summary: 'We revisit attention.\n\nA second paragraph.',
  authors: ['Ada Lovelace', 'Alan Turing'],
  categories: ['cs.LG', 'cs.CL'],
  published: '2024-01-15T09:30:00Z',
  updated: '2024-02-01T00:00:00.000Z',
};

// Hostile input and, by hand, what a reader must get back from it.
const HOSTILE: FeedItem = {
  url: 'https://papers.example.org/paper/t:a%20b?x=1&y=<2>',
  title: '<script>alert(1)</script> & "q" \'s ]]> \r\nline\u0000two\u0007 \uD800x',
  summary: 'First <i>para</i> & \u2028 more]]>\r\n\r\n\r\nSecond\u0000 para\u000B\uDC00.\u0085',
  authors: ['<b>Eve</b> & Mallory\r\n', '', '\u0000\u0001', 'Bob'],
  categories: ['cs.<LG>', 'cs.LG', 'cs.LG', ' '],
  published: null,
  updated: null,
};
const HOSTILE_TITLE = '<script>alert(1)</script> & "q" \'s ]]> linetwo x';
const HOSTILE_SUMMARY = 'First <i>para</i> & more]]>\n\nSecond para.';
const HOSTILE_AUTHORS = ['<b>Eve</b> & Mallory', 'Bob'];
const HOSTILE_CATEGORIES = ['cs.<LG>', 'cs.LG'];

const ARRAYS = new Set(['item', 'entry', 'dc:creator', 'category', 'author', 'link']);
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  htmlEntities: true, // decode numeric character references too
  isArray: (name) => ARRAYS.has(name),
});

// XML 1.0 Char production (the validator does not check characters) and discouraged C1 controls.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\u007E\u00A0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

type Node = Record<string, unknown>;
function parseXml(s: string): Node {
  assert.equal(XMLValidator.validate(s), true, 'well-formed');
  assert.ok(s.startsWith('<?xml version="1.0" encoding="utf-8"?>\n'));
  assert.ok(!NOT_XML_CHAR.test(s), 'only XML 1.0 characters');
  assert.ok(!s.includes(']]>'), 'no raw ]]>');
  assert.ok(!/<script/i.test(s), 'no raw <script');
  return parser.parse(s) as Node;
}
const obj = (v: unknown): Node => {
  assert.equal(typeof v, 'object');
  return v as Node;
};
const arr = (v: unknown): Node[] => {
  assert.ok(Array.isArray(v), `expected an array, got ${JSON.stringify(v)}`);
  return v as Node[];
};
/** Text of an element, with or without attributes; '' for an absent one. */
const text = (v: unknown): string => (v === undefined ? '' : typeof v === 'string' ? v : String(obj(v)['#text'] ?? ''));
const texts = (v: unknown): string[] => (v === undefined ? [] : arr(v).map(text));

function rssItems(out: string): { channel: Node; items: Node[] } {
  const doc = parseXml(out);
  const r = obj(doc.rss);
  assert.equal(r['@version'], '2.0');
  assert.equal(r['@xmlns:atom'], 'http://www.w3.org/2005/Atom');
  assert.equal(r['@xmlns:dc'], 'http://purl.org/dc/elements/1.1/');
  const channel = obj(r.channel);
  return { channel, items: channel.item === undefined ? [] : arr(channel.item) };
}
function atomEntries(out: string): { feed: Node; entries: Node[] } {
  const feed = obj(parseXml(out).feed);
  assert.equal(feed['@xmlns'], 'http://www.w3.org/2005/Atom');
  return { feed, entries: feed.entry === undefined ? [] : arr(feed.entry) };
}
interface JsonItem {
  id: string;
  url: string;
  title: string;
  content_text: string;
  summary?: string;
  date_published: string;
  date_modified: string;
  authors?: { name: string }[];
  tags?: string[];
}
function jsonItems(out: string): { feed: Node; items: JsonItem[] } {
  assert.ok(!/[<>&]/.test(out), 'no raw < > & in JSON');
  const feed = JSON.parse(out) as Node;
  return { feed, items: feed.items as JsonItem[] };
}
const links = (node: Node): Node[] => arr(node.link);
const link = (node: Node, rel: string): Node | undefined => links(node).find((l) => l['@rel'] === rel);
const htmlDecode = (s: string): string =>
  s.replace(/&(lt|gt|quot|#39|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[e]!);

const RFC822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

test('RSS 2.0: channel and item elements the spec requires or we promise', () => {
  const { channel, items } = rssItems(rss(META, [ITEM]));
  assert.equal(channel.title, META.title);
  assert.equal(texts(channel.link)[0], META.siteUrl);
  assert.equal(channel.description, META.description);
  assert.equal(channel.language, 'en');
  assert.equal(channel.lastBuildDate, 'Fri, 01 Mar 2024 12:00:00 GMT');
  const self = obj(channel['atom:link']);
  assert.deepEqual([self['@href'], self['@rel'], self['@type']], [META.feedUrl, 'self', 'application/rss+xml']);

  assert.equal(items.length, 1);
  const it = items[0]!;
  assert.equal(it.title, ITEM.title);
  assert.deepEqual(texts(it.link), [ITEM.url]);
  assert.deepEqual(obj(it.guid), { '#text': ITEM.url, '@isPermaLink': 'true' });
  assert.equal(it.pubDate, 'Mon, 15 Jan 2024 09:30:00 GMT');
  assert.match(String(it.pubDate), RFC822);
  assert.equal(it.description, ITEM.summary);
  assert.deepEqual(texts(it['dc:creator']), ITEM.authors);
  assert.deepEqual(texts(it.category), ITEM.categories);
  assert.equal(it.author, undefined, 'RSS author is for e-mail addresses');
});

test('Atom 1.0: feed and entry elements RFC 4287 requires', () => {
  const { feed, entries } = atomEntries(atom(META, [ITEM, { ...ITEM, url: `${ITEM.url}v2`, authors: [] }]));
  assert.equal(feed.id, META.feedUrl);
  assert.deepEqual(obj(feed.title), { '#text': META.title, '@type': 'text' });
  assert.equal(text(feed.subtitle), META.description);
  assert.equal(feed.updated, '2024-03-01T12:00:00Z');
  assert.equal(link(feed, 'self')?.['@href'], META.feedUrl);
  assert.equal(link(feed, 'self')?.['@type'], 'application/atom+xml');
  assert.equal(link(feed, 'alternate')?.['@href'], META.siteUrl);

  assert.equal(entries.length, 2);
  const e = entries[0]!;
  assert.equal(e.id, ITEM.url);
  assert.deepEqual(obj(e.title), { '#text': ITEM.title, '@type': 'text' });
  assert.equal(e.updated, '2024-02-01T00:00:00Z');
  assert.equal(e.published, '2024-01-15T09:30:00Z');
  assert.equal(link(e, 'alternate')?.['@href'], ITEM.url);
  assert.deepEqual(arr(e.author).map((a) => a.name), ITEM.authors);
  assert.deepEqual(obj(e.summary), { '#text': ITEM.summary, '@type': 'text' });
  assert.deepEqual(arr(e.category).map((c) => c['@term']), ITEM.categories);
  // An entry must have an author when the feed has none.
  assert.equal(feed.author, undefined);
  assert.deepEqual(arr(entries[1]!.author).map((a) => a.name), ['unknown']);
});

test('JSON Feed 1.1: top-level and item fields', () => {
  const { feed, items } = jsonItems(jsonFeed(META, [ITEM]));
  assert.equal(feed.version, 'https://jsonfeed.org/version/1.1');
  assert.equal(feed.title, META.title);
  assert.equal(feed.home_page_url, META.siteUrl);
  assert.equal(feed.feed_url, META.feedUrl);
  assert.equal(feed.description, META.description);
  assert.deepEqual(items, [
    {
      id: ITEM.url,
      url: ITEM.url,
      title: ITEM.title,
      content_text: ITEM.summary,
      summary: 'We revisit attention. A second paragraph.',
      date_published: '2024-01-15T09:30:00Z',
      date_modified: '2024-02-01T00:00:00Z',
      authors: [{ name: 'Ada Lovelace' }, { name: 'Alan Turing' }],
      tags: ['cs.LG', 'cs.CL'],
    },
  ]);
});

test('an empty feed is still valid in every format', () => {
  assert.deepEqual(rssItems(rss(META, [])).items, []);
  assert.deepEqual(atomEntries(atom(META, [])).entries, []);
  assert.deepEqual(jsonItems(jsonFeed(META, [])).items, []);
});

test('hostile text: escaped, control characters and lone surrogates removed, round-trips to the sanitised text', () => {
  const hostileMeta = { ...META, title: 'Search: <script>"x" & y\r\n', description: 'a]]>b\u0000' };
  const url = 'https://papers.example.org/paper/t:a%20b?x=1&y=%3C2%3E';

  const r = rss(hostileMeta, [HOSTILE]);
  const { channel, items } = rssItems(r);
  assert.equal(channel.title, 'Search: <script>"x" & y');
  assert.equal(channel.description, 'a]]>b');
  const it = items[0]!;
  assert.equal(it.title, HOSTILE_TITLE);
  assert.equal(text(it.guid), url);
  // The description is HTML to readers: the plain text is escaped for HTML, then for XML.
  assert.equal(it.description, 'First &lt;i&gt;para&lt;/i&gt; &amp; more]]&gt;\n\nSecond para.');
  assert.equal(htmlDecode(String(it.description)), HOSTILE_SUMMARY);
  assert.deepEqual(texts(it['dc:creator']), HOSTILE_AUTHORS);
  assert.deepEqual(texts(it.category), HOSTILE_CATEGORIES);
  assert.ok(r.includes('<title>&#x3C;script&#x3E;alert(1)&#x3C;/script&#x3E; &#x26; &#x22;q&#x22;'), 'RSS profile: hexadecimal references');

  const a = atom(hostileMeta, [HOSTILE]);
  const { feed, entries } = atomEntries(a);
  assert.equal(text(feed.title), 'Search: <script>"x" & y');
  const e = entries[0]!;
  assert.equal(e.id, url);
  assert.equal(text(e.title), HOSTILE_TITLE);
  assert.equal(text(e.summary), HOSTILE_SUMMARY);
  assert.deepEqual(arr(e.author).map((x) => x.name), HOSTILE_AUTHORS);
  assert.deepEqual(arr(e.category).map((c) => c['@term']), HOSTILE_CATEGORIES);
  assert.ok(a.includes('<title type="text">&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot;'));

  const { feed: jf, items: ji } = jsonItems(jsonFeed(hostileMeta, [HOSTILE]));
  assert.equal(jf.title, 'Search: <script>"x" & y');
  assert.equal(ji[0]!.title, HOSTILE_TITLE);
  assert.equal(ji[0]!.content_text, HOSTILE_SUMMARY);
  assert.equal(ji[0]!.summary, 'First <i>para</i> & more]]> Second para.');
  assert.deepEqual(ji[0]!.authors, HOSTILE_AUTHORS.map((name) => ({ name })));
  assert.deepEqual(ji[0]!.tags, HOSTILE_CATEGORIES);
});

test('empty fields: a title is always present; empty summaries and author lists are left out where optional', () => {
  const bare: FeedItem = { ...ITEM, title: ' \u0000\r\n', summary: '\u0001', authors: [], categories: [] };
  const it = rssItems(rss(META, [bare])).items[0]!;
  assert.equal(it.title, 'Untitled');
  assert.equal(it.description, undefined);
  assert.equal(it['dc:creator'], undefined);
  const e = atomEntries(atom(META, [bare])).entries[0]!;
  assert.equal(text(e.title), 'Untitled');
  assert.equal(e.summary, undefined);
  const j = jsonItems(jsonFeed(META, [bare])).items[0]!;
  assert.equal(j.content_text, '');
  assert.ok(!('summary' in j) && !('authors' in j) && !('tags' in j));
});

test('huge fields are cut with an ellipsis, never inside a surrogate pair', () => {
  const big: FeedItem = {
    ...ITEM,
    title: '😀'.repeat(60_000),
    summary: 'word '.repeat(25_000),
    authors: Array.from({ length: 150 }, (_, i) => `Author ${i} `.repeat(i === 0 ? 100 : 1)),
    categories: Array.from({ length: 80 }, (_, i) => `cat.${i}`),
  };
  const e = atomEntries(atom(META, [big])).entries[0]!;
  const title = text(e.title);
  assert.ok(title.length <= FEED_LIMITS.titleChars && title.endsWith('…') && title.isWellFormed());
  const summary = text(e.summary);
  assert.ok(summary.length <= FEED_LIMITS.summaryChars && summary.length > 9_000);
  assert.ok(summary.endsWith('word…'), 'cut at a word boundary');
  const authors = arr(e.author).map((a) => String(a.name));
  assert.equal(authors.length, FEED_LIMITS.authors + 1);
  assert.equal(authors.at(-1), 'et al.');
  assert.ok(authors[0]!.length <= FEED_LIMITS.authorChars);
  assert.equal(arr(e.category).length, FEED_LIMITS.categories);
  const j = jsonItems(jsonFeed(META, [big])).items[0]!;
  assert.ok(j.summary!.length <= FEED_LIMITS.shortSummaryChars && j.summary!.endsWith('…'));
  // A field far longer than its cap is only read up to a bound, and still marked as cut.
  assert.equal(plainLine(`a${'\u0000'.repeat(10_000)}b`, 100), 'a…');
  assert.equal(plainText('x'.repeat(1_000_000), 10), `${'x'.repeat(9)}…`);
});

test('dates: RFC 822 in RSS, RFC 3339 in Atom and JSON; missing or unreadable ones fall back', () => {
  const cases: [Partial<FeedItem>, string, string][] = [
    [{ published: null, updated: null }, META.updated, META.updated],
    [{ published: null, updated: '2024-02-01' }, '2024-02-01T00:00:00Z', '2024-02-01T00:00:00Z'],
    [{ published: '2024-01-15', updated: null }, '2024-01-15T00:00:00Z', '2024-01-15T00:00:00Z'],
    [{ published: 'yesterday', updated: '2024-13-45' }, META.updated, META.updated],
    // No zone: would depend on the server's time zone, so it is not read.
    [{ published: '2024-01-15T09:30:00', updated: null }, META.updated, META.updated],
    // Outside four-digit years (RFC 822 and RFC 3339 need them), even after the zone offset.
    [{ published: '9999-12-31T23:00:00-05:00', updated: '0999-01-01' }, META.updated, META.updated],
    [{ published: '2024-01-15T10:30:00+01:00', updated: '2024-01-01T00:00:00Z' }, '2024-01-15T09:30:00Z', '2024-01-15T09:30:00Z'],
  ];
  for (const [dates, published, updated] of cases) {
    const item = { ...ITEM, ...dates };
    const want = [new Date(published).toISOString().replace('.000Z', 'Z'), new Date(updated).toISOString().replace('.000Z', 'Z')];
    const e = atomEntries(atom(META, [item])).entries[0]!;
    assert.deepEqual([e.published, e.updated], want, JSON.stringify(dates));
    const j = jsonItems(jsonFeed(META, [item])).items[0]!;
    assert.deepEqual([j.date_published, j.date_modified], want);
    for (const d of [...want, String(e.published)]) assert.match(d, RFC3339);
    const pubDate = String(rssItems(rss(META, [item])).items[0]!.pubDate);
    assert.match(pubDate, RFC822);
    assert.equal(new Date(pubDate).toISOString(), new Date(published).toISOString());
  }
});

test('meta comes from our code: an invalid date or a non-http URL is an error', () => {
  for (const f of [rss, atom, jsonFeed]) {
    assert.throws(() => f({ ...META, updated: 'now' }, []), TypeError);
    assert.throws(() => f({ ...META, feedUrl: '/feed.xml' }, []), TypeError);
    assert.throws(() => f({ ...META, siteUrl: 'javascript:alert(1)' }, []), TypeError);
    assert.throws(() => f(META, [{ ...ITEM, url: 'data:text/html,<script>' }]), TypeError);
  }
});

test('content types', () => {
  assert.deepEqual(FEED_TYPES, {
    rss: 'application/rss+xml; charset=utf-8',
    atom: 'application/atom+xml; charset=utf-8',
    json: 'application/feed+json; charset=utf-8',
  });
});

// Any UTF-16 code unit (lone surrogates too), any code point, and fragments that break naive writers.
const unit = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.constantFrom('<script>', '</script>', ']]>', '<![CDATA[', '&', '&amp;', '&lt;', '&#x3C;', '&nbsp;', '"', "'", '\r\n', '\r', '\u0000', '\uFFFE', '\u2028', ' '),
);
const hostile = fc.string({ unit, maxLength: 60 });

test('property: every output is well-formed, parses back to the sanitised text, and has no raw <script', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ title: hostile, summary: hostile, authors: fc.array(hostile, { maxLength: 3 }), categories: fc.array(hostile, { maxLength: 2 }) }), {
        minLength: 1,
        maxLength: 3,
      }),
      hostile,
      (rows, feedTitle) => {
        const meta = { ...META, title: feedTitle };
        const items = rows.map((r) => ({ ...ITEM, ...r }));
        const titles = items.map((i) => plainLine(i.title, FEED_LIMITS.titleChars) || 'Untitled');
        const summaries = items.map((i) => plainText(i.summary, FEED_LIMITS.summaryChars));
        const authors = items.map((i) => i.authors.map((a) => plainLine(a, FEED_LIMITS.authorChars)).filter(Boolean));

        const { channel, items: ri } = rssItems(rss(meta, items));
        assert.equal(text(channel.title), plainLine(feedTitle, FEED_LIMITS.titleChars) || 'Untitled');
        assert.deepEqual(ri.map((i) => text(i.title)), titles);
        assert.deepEqual(ri.map((i) => htmlDecode(text(i.description))), summaries);
        assert.deepEqual(ri.map((i) => texts(i['dc:creator'])), authors);

        const { entries } = atomEntries(atom(meta, items));
        assert.deepEqual(entries.map((e) => text(e.title)), titles);
        assert.deepEqual(entries.map((e) => text(e.summary)), summaries);
        assert.deepEqual(entries.map((e) => arr(e.author).map((a) => text(a.name))), authors.map((a) => (a.length ? a : ['unknown'])));

        const { items: ji } = jsonItems(jsonFeed(meta, items));
        assert.deepEqual(ji.map((i) => i.title), titles);
        assert.deepEqual(ji.map((i) => i.content_text), summaries);
        for (const s of [...titles, ...summaries, ...authors.flat()]) {
          assert.ok(!NOT_XML_CHAR.test(s) && s.isWellFormed() && s === s.trim());
          assert.ok(!s.includes('\r') && !/\n\n\n/.test(s));
        }
        for (const t of titles) assert.ok(!/\s\s|[\n\t]/.test(t), 'titles are one line');
      },
    ),
    { numRuns: 300 },
  );
});
