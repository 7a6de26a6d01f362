/**
 * Feeds of papers as RSS 2.0, Atom 1.0 (RFC 4287) and JSON Feed 1.1: pure functions of their input.
 *
 * Every text field is treated as hostile (titles and abstracts come from the outside world, feed
 * titles may contain a user's search query): characters XML 1.0 does not allow are removed, titles
 * become one line, huge fields are cut, and everything is escaped for the format it lands in.
 * The paper's URL is its identity in all three formats (Atom id, RSS guid, JSON Feed id).
 */
import { escapeHtml } from './html.ts';

export interface FeedItem {
  /** Absolute http(s) URL of the paper's page; also its permanent id in every format. */
  url: string;
  title: string;
  /** The abstract, plain text. */
  summary: string;
  authors: readonly string[];
  /** arXiv categories, e.g. cs.LG. */
  categories: readonly string[];
  /** ISO 8601 with a zone (or a bare date, read as UTC); null or unreadable falls back, see `prepareItem`. */
  published: string | null;
  updated: string | null;
}

export interface FeedMeta {
  title: string;
  description: string;
  /** Absolute URL of the page the feed mirrors. */
  siteUrl: string;
  /** Absolute URL of the feed itself. */
  feedUrl: string;
  /** ISO 8601; required and must be valid. */
  updated: string;
}

export const FEED_TYPES = {
  rss: 'application/rss+xml; charset=utf-8',
  atom: 'application/atom+xml; charset=utf-8',
  json: 'application/feed+json; charset=utf-8',
} as const;

export const FEED_LIMITS = {
  titleChars: 1_000,
  summaryChars: 10_000,
  /** JSON Feed's `summary`: "a sentence or two"; `content_text` carries the whole abstract. */
  shortSummaryChars: 300,
  authorChars: 300,
  /** Beyond this many authors the list ends with "et al.". */
  authors: 100,
  categoryChars: 100,
  categories: 50,
} as const;

const UNTITLED = 'Untitled';
const UNKNOWN_AUTHOR = 'unknown';

// Everything outside XML 1.0's Char production (C0 controls but tab/LF/CR, lone surrogates,
// U+FFFE/U+FFFF), plus the C1 controls, which XML 1.0 allows but discourages.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\u007E\u00A0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Cuts to at most `max` UTF-16 units, preferring a word boundary, never splitting a surrogate pair. */
function cut(s: string, max: number): string {
  let head = s.slice(0, max - 1);
  if (/[\uD800-\uDBFF]$/.test(head)) head = head.slice(0, -1);
  const space = head.lastIndexOf(' ');
  if (space > max * 0.8) head = head.slice(0, space);
  return head.trimEnd() + '…';
}

/** Sanitises at most a few times `max` characters of `raw`, so a 100 MB field costs no more than a 40 KB one. */
function bounded(raw: unknown, max: number, clean: (s: string) => string): string {
  const s = typeof raw === 'string' ? raw : '';
  const overlong = s.length > max * 4;
  const out = clean(overlong ? s.slice(0, max * 4) : s);
  return overlong || out.length > max ? cut(out, max) : out;
}

/** One line of plain text: forbidden characters removed, every run of white space (CR/LF too) one space. */
export function plainLine(raw: string, max: number): string {
  return bounded(raw, max, (s) => s.replace(NOT_XML_CHAR, '').replace(/\s+/g, ' ').trim());
}

/** Plain text with paragraphs: line breaks normalised to LF and kept (at most one blank line), spaces collapsed. */
export function plainText(raw: string, max: number): string {
  return bounded(raw, max, (s) =>
    s
      .replace(NOT_XML_CHAR, '')
      .replace(/\r\n?/g, '\n')
      .replace(/[^\S\n]+/g, ' ')
      .replace(/ ?\n ?/g, '\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim(),
  );
}

// An ISO 8601 date, or date-time with a zone: the zone-less forms would be read in the server's time zone.
const ISO_DATE = /^[1-9]\d{3}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

function parseDate(v: string | null): Date | null {
  if (typeof v !== 'string' || !ISO_DATE.test(v.trim())) return null;
  const d = new Date(v.trim());
  const y = d.getUTCFullYear(); // NaN when invalid; a zone offset can also push 9999 into 10000
  return y >= 1000 && y <= 9999 ? d : null;
}

/** RFC 3339, whole seconds when there are no milliseconds: 2024-01-15T09:30:00Z. */
function rfc3339(d: Date): string {
  return d.toISOString().replace('.000Z', 'Z');
}

/** RFC 822 with a four-digit year, as the RSS profile recommends: Mon, 15 Jan 2024 09:30:00 GMT. */
function rfc822(d: Date): string {
  return d.toUTCString();
}

function httpUrl(raw: string, what: string): string {
  let u: URL | null = null;
  try {
    u = new URL(raw);
  } catch {
    // reported below
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) throw new TypeError(`feeds: ${what} is not an absolute http(s) URL`);
  return u.href;
}

interface Meta {
  title: string;
  description: string;
  siteUrl: string;
  feedUrl: string;
  updated: Date;
}

interface Item {
  url: string;
  title: string;
  summary: string;
  authors: string[];
  categories: string[];
  published: Date;
  updated: Date;
}

/** Throws TypeError on invalid URLs or date: those come from our own code, not from papers. */
function prepareMeta(m: FeedMeta): Meta {
  const updated = parseDate(m.updated);
  if (!updated) throw new TypeError('feeds: meta.updated is not an ISO 8601 date');
  return {
    title: plainLine(m.title, FEED_LIMITS.titleChars) || UNTITLED,
    description: plainLine(m.description, FEED_LIMITS.summaryChars),
    siteUrl: httpUrl(m.siteUrl, 'meta.siteUrl'),
    feedUrl: httpUrl(m.feedUrl, 'meta.feedUrl'),
    updated,
  };
}

/** The first `max` non-empty values, each made one line of at most `chars`. */
function lines(raw: readonly string[], max: number, chars: number): string[] {
  const out: string[] = [];
  for (const v of Array.isArray(raw) ? raw : []) {
    if (out.length === max) break;
    const s = plainLine(v, chars);
    if (s) out.push(s);
  }
  return out;
}

function authorList(raw: readonly string[]): string[] {
  const all = lines(raw, FEED_LIMITS.authors + 1, FEED_LIMITS.authorChars);
  return all.length > FEED_LIMITS.authors ? [...all.slice(0, FEED_LIMITS.authors), 'et al.'] : all;
}

/**
 * Dates: a missing or unreadable `published` falls back to `updated`, then to the feed's date;
 * `updated` falls back to `published`, and is never earlier than it.
 */
function prepareItem(it: FeedItem, meta: Meta): Item {
  const published = parseDate(it.published) ?? parseDate(it.updated) ?? meta.updated;
  const updated = parseDate(it.updated) ?? published;
  return {
    url: httpUrl(it.url, 'item url'),
    title: plainLine(it.title, FEED_LIMITS.titleChars) || UNTITLED,
    summary: plainText(it.summary, FEED_LIMITS.summaryChars),
    authors: authorList(it.authors),
    categories: [...new Set(lines(it.categories, FEED_LIMITS.categories, FEED_LIMITS.categoryChars))],
    published,
    updated: updated < published ? published : updated,
  };
}

const XML_ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
// The RSS profile recommends hexadecimal references in plain text: they survive the most readers.
const RSS_ESC: Record<string, string> = { '&': '&#x26;', '<': '&#x3C;', '>': '&#x3E;', '"': '&#x22;' };

/** Text or a double-quoted attribute value in Atom. Escaping `>` also defuses `]]>`. */
function xml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => XML_ESC[c]!);
}

function rssText(s: string): string {
  return s.replace(/[&<>"]/g, (c) => RSS_ESC[c]!);
}

export function rss(meta: FeedMeta, items: readonly FeedItem[]): string {
  const m = prepareMeta(meta);
  const out = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">',
    '<channel>',
    `<title>${rssText(m.title)}</title>`,
    `<link>${rssText(m.siteUrl)}</link>`,
    `<description>${rssText(m.description)}</description>`,
    '<language>en</language>',
    `<lastBuildDate>${rfc822(m.updated)}</lastBuildDate>`,
    '<generator>paperboy</generator>',
    '<docs>https://www.rssboard.org/rss-specification</docs>',
    `<atom:link href="${rssText(m.feedUrl)}" rel="self" type="application/rss+xml"/>`,
  ];
  for (const it of items.map((i) => prepareItem(i, m))) {
    out.push(
      '<item>',
      `<title>${rssText(it.title)}</title>`,
      `<link>${rssText(it.url)}</link>`,
      `<guid isPermaLink="true">${rssText(it.url)}</guid>`,
      `<pubDate>${rfc822(it.published)}</pubDate>`,
      // Readers render an item's description as HTML: escape the plain text for HTML, then for XML.
      ...(it.summary ? [`<description>${rssText(escapeHtml(it.summary))}</description>`] : []),
      // RSS <author> must be an e-mail address; Dublin Core's creator takes a name.
      ...it.authors.map((a) => `<dc:creator>${rssText(a)}</dc:creator>`),
      ...it.categories.map((c) => `<category>${rssText(c)}</category>`),
      '</item>',
    );
  }
  out.push('</channel>', '</rss>', '');
  return out.join('\n');
}

export function atom(meta: FeedMeta, items: readonly FeedItem[]): string {
  const m = prepareMeta(meta);
  const out = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">',
    `<id>${xml(m.feedUrl)}</id>`,
    `<title type="text">${xml(m.title)}</title>`,
    ...(m.description ? [`<subtitle type="text">${xml(m.description)}</subtitle>`] : []),
    `<updated>${rfc3339(m.updated)}</updated>`,
    `<link rel="self" type="application/atom+xml" href="${xml(m.feedUrl)}"/>`,
    `<link rel="alternate" type="text/html" href="${xml(m.siteUrl)}"/>`,
    '<generator>paperboy</generator>',
  ];
  for (const it of items.map((i) => prepareItem(i, m))) {
    // Every entry has an author, so the feed needs none of its own (RFC 4287, 4.1.1).
    const authors = it.authors.length > 0 ? it.authors : [UNKNOWN_AUTHOR];
    out.push(
      '<entry>',
      `<id>${xml(it.url)}</id>`,
      `<title type="text">${xml(it.title)}</title>`,
      `<updated>${rfc3339(it.updated)}</updated>`,
      `<published>${rfc3339(it.published)}</published>`,
      `<link rel="alternate" type="text/html" href="${xml(it.url)}"/>`,
      ...authors.map((a) => `<author><name>${xml(a)}</name></author>`),
      ...(it.summary ? [`<summary type="text">${xml(it.summary)}</summary>`] : []),
      ...it.categories.map((c) => `<category term="${xml(c)}"/>`),
      '</entry>',
    );
  }
  out.push('</feed>', '');
  return out.join('\n');
}

const JSON_ESC: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026' };

export function jsonFeed(meta: FeedMeta, items: readonly FeedItem[]): string {
  const m = prepareMeta(meta);
  const feed = {
    version: 'https://jsonfeed.org/version/1.1',
    title: m.title,
    home_page_url: m.siteUrl,
    feed_url: m.feedUrl,
    ...(m.description ? { description: m.description } : {}),
    language: 'en',
    items: items.map((i) => {
      const it = prepareItem(i, m);
      const short = plainLine(it.summary, FEED_LIMITS.shortSummaryChars);
      return {
        id: it.url,
        url: it.url,
        title: it.title,
        content_text: it.summary, // an item needs content_text or content_html, even if empty
        ...(short ? { summary: short } : {}),
        date_published: rfc3339(it.published),
        date_modified: rfc3339(it.updated),
        ...(it.authors.length > 0 ? { authors: it.authors.map((name) => ({ name })) } : {}),
        ...(it.categories.length > 0 ? { tags: it.categories } : {}),
      };
    }),
  };
  // < > & only occur inside strings here; escaping them keeps the body inert if it is ever sniffed as HTML.
  return JSON.stringify(feed).replace(/[<>&]/g, (c) => JSON_ESC[c]!) + '\n';
}
