import { normaliseDoi, parseArxivId } from './ids.ts';
import { jsonObjectLine, typeName } from './json-line.ts';
import { item, skip, type PaperLink, type PaperRecord, type ParseItem } from './record.ts';


/** "A, B and C" or ["A","B"] → names. */
export function splitAuthors(v: unknown): string[] | undefined {
  if (Array.isArray(v)) {
    return v.map((a) => (typeof a === 'string' ? a : a && typeof a === 'object' && typeof (a as { name?: unknown }).name === 'string' ? (a as { name: string }).name : '')).filter(Boolean);
  }
  if (typeof v === 'string') return v.split(/\s*(?:,|;|\band\b)\s*/).map((s) => s.trim()).filter(Boolean);
  return undefined;
}

/**
 * One line of generic JSON lines: `title`, `abstract`, optional `id` (arXiv id or DOI),
 * `authors` (array or "A, B and C"), `url`, `date`, `categories`, `doi`.
 */
export function parseJsonlLine(text: string, where: string): ParseItem {
  const parsed = jsonObjectLine(text, where);
  if ('skip' in parsed) return parsed.skip;
  const o = parsed.object;
  if (o.title === undefined || o.title === null) return skip(where, 'missing title');
  if (typeof o.title !== 'string') return skip(where, `title must be a string, got ${typeName(o.title)}`);
  if (o.abstract !== undefined && o.abstract !== null && typeof o.abstract !== 'string') {
    return skip(where, `abstract must be a string, got ${typeName(o.abstract)}`);
  }
  const rec: PaperRecord = { title: o.title };
  if (typeof o.abstract === 'string') rec.abstract = o.abstract;
  else if (typeof o.summary === 'string') rec.abstract = o.summary;
  const links: PaperLink[] = [];
  for (const candidate of [o.id, o.arxiv_id, o.url]) {
    if (typeof candidate !== 'string') continue;
    const a = parseArxivId(candidate);
    if (a && !rec.arxivId) {
      rec.arxivId = candidate;
    } else if (!a && !rec.doi && normaliseDoi(candidate)) {
      rec.doi = candidate;
    }
  }
  if (typeof o.doi === 'string') rec.doi = o.doi;
  if (typeof o.url === 'string' && !parseArxivId(o.url)) {
    links.push({ kind: /^https?:\/\/(www\.)?(github\.com|gitlab\.com|bitbucket\.org|codeberg\.org)\//i.test(o.url) ? 'code' : 'other', url: o.url });
  }
  const authors = splitAuthors(o.authors);
  if (authors) rec.authors = authors;
  const date = o.date ?? o.published ?? o.submitted;
  if (typeof date === 'string') rec.submittedAt = date;
  else if (typeof date === 'number' && Number.isFinite(date) && Math.abs(date) < 8.64e15) rec.submittedAt = new Date(date).toISOString();
  if (Array.isArray(o.categories)) rec.categories = o.categories.filter((c): c is string => typeof c === 'string');
  else if (typeof o.categories === 'string') rec.categories = o.categories.split(/[\s,]+/);
  if (links.length) rec.links = links;
  return item(where, rec);
}
