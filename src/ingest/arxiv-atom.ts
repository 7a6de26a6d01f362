/**
 * Parser for arXiv API responses (`export.arxiv.org/api/query`, Atom 1.0).
 *
 * Reads both the current feed (namespaces declared on <feed>, https links) and the
 * legacy one (namespaces declared inline on each arxiv:/opensearch: element,
 * http links, dx.doi.org). Entries are parsed one by one, see xml-blocks.ts.
 */
import { parseArxivId } from './ids.ts';
import { item, skip, type PaperLink, type PaperRecord, type PaperVersion, type ParseItem } from './record.ts';
import { attr, children, firstElement, parseBlocks, text, textOf, toCount, type XmlNode } from './xml-blocks.ts';

export interface AtomPage {
  items: ParseItem[];
  totalResults?: number;
  startIndex?: number;
  itemsPerPage?: number;
  /** Set when the API answered with its error feed (e.g. HTTP 400 for a malformed id), or the body is no Atom feed. */
  error?: string;
}

/** The API reports errors as a feed with one entry whose id is …/api/errors#… */
const ERROR_ID = /arxiv\.org\/api\/errors(?:[#?/]|$)/i;

export function parseArxivAtom(xml: string, where: string): AtomPage {
  if (typeof xml !== 'string') return { items: [], error: 'not an Atom feed: body is not text' };
  let apiError: string | undefined;
  const { items, rest } = parseBlocks(xml, 'entry', where, (entry, at) => {
    const id = text(entry, 'id')?.trim();
    if (id !== undefined && ERROR_ID.test(id)) {
      apiError ??= text(entry, 'summary')?.trim() ?? text(entry, 'title')?.trim() ?? id;
      return skip(at, `API error entry: ${id}`);
    }
    return toItem(entry, at);
  });

  const page: AtomPage = { items: apiError === undefined ? items : [] };
  const counts = { totalResults: 'totalResults', startIndex: 'startIndex', itemsPerPage: 'itemsPerPage' } as const;
  for (const key of Object.keys(counts) as (keyof typeof counts)[]) {
    const n = toCount(textOf(firstElement(rest, counts[key])));
    if (n !== undefined) page[key] = n;
  }
  if (apiError !== undefined) page.error = apiError;
  else if (items.length === 0 && !/<(?:[\w.-]+:)?feed[\s>/]/.test(xml)) page.error = 'not an Atom feed';
  return page;
}

function toItem(entry: XmlNode, where: string): ParseItem {
  const rawId = text(entry, 'id')?.trim();
  if (rawId === undefined) return skip(where, 'entry has no <id>');
  const parsed = parseArxivId(rawId);
  if (!parsed) return skip(where, `entry id is not an arXiv id: ${JSON.stringify(rawId.slice(0, 200))}`);
  const title = text(entry, 'title');
  if (title === undefined) return skip(where, `entry ${parsed.id} has no title`);

  const published = text(entry, 'published')?.trim();
  const updated = text(entry, 'updated')?.trim();
  const links = entryLinks(entry);
  const doi = text(entry, 'doi')?.trim() ?? doiFromLinks(links);

  const record: PaperRecord = {
    arxivId: parsed.id,
    version: parsed.version,
    title,
    abstract: text(entry, 'summary'),
    authors: present(children(entry, 'author').map((a) => text(a, 'name')?.trim())),
    categories: distinct(
      [...children(entry, 'primary_category'), ...children(entry, 'category')].map((c) => attr(c, 'term')?.trim()),
    ),
    submittedAt: published,
    updatedAt: updated,
    versions: versionsOf(parsed.version, published, updated),
    doi,
    journalRef: text(entry, 'journal_ref'),
    comments: text(entry, 'comment'),
    links: links.length > 0 ? links : undefined,
  };
  return item(where, record);
}

/**
 * `updated` is the date of the version the entry describes; `published` is the date of v1.
 */
function versionsOf(version: number | undefined, published?: string, updated?: string): PaperVersion[] | undefined {
  if (version === undefined) return undefined;
  if (version === 1) {
    const date = published ?? updated;
    return date ? [{ version: 1, date }] : undefined;
  }
  const versions: PaperVersion[] = [];
  if (published) versions.push({ version: 1, date: published });
  if (updated) versions.push({ version, date: updated });
  return versions.length > 0 ? versions : undefined;
}

function entryLinks(entry: XmlNode): PaperLink[] {
  const links: PaperLink[] = [];
  for (const l of children(entry, 'link')) {
    const url = attr(l, 'href')?.trim();
    if (!url || links.some((x) => x.url === url)) continue;
    const title = attr(l, 'title');
    const kind = title === 'pdf' ? 'pdf' : title === 'doi' ? 'doi' : attr(l, 'rel') === 'alternate' ? 'abs' : 'other';
    links.push({ kind, url });
  }
  return links;
}

function doiFromLinks(links: PaperLink[]): string | undefined {
  const url = links.find((l) => l.kind === 'doi')?.url;
  return url?.replace(/^https?:\/\/(?:dx\.)?doi\.org\//i, '') || undefined;
}

/** The non-empty strings in order; undefined when there are none. */
function present(values: (string | undefined)[]): string[] | undefined {
  const out = values.filter((v): v is string => !!v);
  return out.length > 0 ? out : undefined;
}

function distinct(values: (string | undefined)[]): string[] | undefined {
  const out = present(values);
  return out && [...new Set(out)];
}
