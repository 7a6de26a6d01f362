/**
 * Parser for arXiv OAI-PMH responses (ListRecords / GetRecord, metadataPrefix=arXiv).
 * Records are parsed one by one, see xml-blocks.ts.
 */
import { parseArxivId } from './ids.ts';
import { item, skip, type PaperRecord, type ParseItem } from './record.ts';
import { attr, child, children, firstElement, parseBlocks, text, textOf, toCount, type XmlNode } from './xml-blocks.ts';

export interface OaiPage {
  items: ParseItem[];
  /** Present while more pages remain; pass it back as `resumptionToken=`. */
  resumptionToken?: string;
  completeListSize?: number;
  cursor?: number;
  /** An OAI-PMH <error> (noRecordsMatch means an empty result), or `invalidResponse` for a body that is no OAI-PMH document. */
  error?: { code: string; message: string };
}

export function parseOaiPage(xml: string, where: string): OaiPage {
  if (typeof xml !== 'string') return { items: [], error: { code: 'invalidResponse', message: 'body is not text' } };
  const { items, rest } = parseBlocks(xml, 'record', where, toItem);
  const page: OaiPage = { items };

  const token = firstElement(rest, 'resumptionToken');
  if (token !== undefined) {
    const value = textOf(token)?.trim();
    if (value) page.resumptionToken = value;
    const size = toCount(attr(token, 'completeListSize'));
    if (size !== undefined) page.completeListSize = size;
    const cursor = toCount(attr(token, 'cursor'));
    if (cursor !== undefined) page.cursor = cursor;
  }

  const error = firstElement(rest, 'error');
  if (error !== undefined) {
    page.error = { code: attr(error, 'code')?.trim() || 'unknown', message: textOf(error)?.trim() ?? '' };
  } else if (items.length === 0 && !/<(?:[\w.-]+:)?OAI-PMH[\s>/]/.test(xml)) {
    page.error = { code: 'invalidResponse', message: 'not an OAI-PMH response' };
  }
  return page;
}

function toItem(rec: XmlNode, where: string): ParseItem {
  const header = child(rec, 'header');
  if (attr(header, 'status') === 'deleted') return skip(where, 'deleted record');
  const meta = child(child(rec, 'metadata'), 'arXiv');
  if (meta === undefined) return skip(where, 'record has no <metadata><arXiv> (is metadataPrefix=arXiv?)');

  const rawId = text(meta, 'id')?.trim() ?? text(header, 'identifier')?.trim();
  if (rawId === undefined) return skip(where, 'record has no <id>');
  const parsed = parseArxivId(rawId);
  if (!parsed) return skip(where, `record id is not an arXiv id: ${JSON.stringify(rawId.slice(0, 200))}`);
  const title = text(meta, 'title');
  if (title === undefined) return skip(where, `record ${parsed.id} has no title`);

  const authors = children(child(meta, 'authors'), 'author')
    .map((a) => ['forenames', 'keyname', 'suffix'].map((k) => text(a, k)?.trim()).filter(Boolean).join(' '))
    .filter((name) => name !== '');
  const categories = [...new Set((text(meta, 'categories') ?? '').split(/\s+/).filter(Boolean))];

  const record: PaperRecord = {
    arxivId: parsed.id,
    title,
    abstract: text(meta, 'abstract'),
    authors: authors.length > 0 ? authors : undefined,
    categories: categories.length > 0 ? categories : undefined,
    submittedAt: isoDay(text(meta, 'created')),
    updatedAt: isoDay(text(meta, 'updated')),
    doi: text(meta, 'doi')?.trim(),
    journalRef: text(meta, 'journal-ref'),
    comments: text(meta, 'comments'),
    links: [
      { kind: 'abs', url: `https://arxiv.org/abs/${parsed.id}` },
      { kind: 'pdf', url: `https://arxiv.org/pdf/${parsed.id}` },
    ],
  };
  return item(where, record);
}

/** `2017-06-16` → `2017-06-16T00:00:00Z`; full date-times pass through; anything else is dropped. */
function isoDay(s: string | undefined): string | undefined {
  const t = s?.trim();
  if (!t) return undefined;
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) return `${t}T00:00:00Z`;
  return /^\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})$/.test(t) ? t : undefined;
}
