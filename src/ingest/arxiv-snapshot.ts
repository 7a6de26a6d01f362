import { latexToUnicode } from './latex.ts';
import { jsonObjectLine, typeName } from './json-line.ts';
import { item, skip, type PaperRecord, type PaperVersion, type ParseItem } from './record.ts';

export interface SnapshotFilter {
  /** Globs such as `cs.*`, `stat.ML`; a record passes when any of its categories matches. */
  categories?: readonly string[] | undefined;
  /** YYYY-MM-DD: records last updated before this day are left out. */
  since?: string | undefined;
}

export function globToRegExp(globs: readonly string[]): RegExp {
  const parts = globs.map((g) => g.trim()).filter(Boolean).map((g) => g.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*'));
  return new RegExp(`^(?:${parts.join('|')})$`);
}


function versionsOf(v: unknown): PaperVersion[] {
  if (!Array.isArray(v)) return [];
  const out: PaperVersion[] = [];
  for (const x of v) {
    if (!x || typeof x !== 'object') continue;
    const { version, created } = x as { version?: unknown; created?: unknown };
    const m = typeof version === 'string' ? /^v(\d+)$/.exec(version) : null;
    const t = typeof created === 'string' ? Date.parse(created) : NaN;
    if (m && Number.isFinite(t)) out.push({ version: Number(m[1]), date: new Date(t).toISOString() });
  }
  return out;
}

function authorsOf(o: Record<string, unknown>): string[] | undefined {
  if (Array.isArray(o.authors_parsed)) {
    const names: string[] = [];
    for (const a of o.authors_parsed) {
      if (!Array.isArray(a)) continue;
      const [last, first, suffix] = a as unknown[];
      const parts = [first, last, suffix]
        .filter((x): x is string => typeof x === 'string' && x.trim() !== '')
        .map((x) => x.replace(/\.\s+-/g, '.-'));
      if (parts.length) names.push(latexToUnicode(parts.join(' ')));
    }
    if (names.length) return names;
  }
  if (typeof o.authors === 'string') {
    return latexToUnicode(o.authors.replace(/\s+/g, ' '))
      .split(/\s*,\s*|\s+and\s+/)
      .map((s) => s.trim())
      .filter(Boolean);
  }
  return undefined;
}

export type SnapshotItem = ParseItem | { filtered: true; where: string };

/** One line of the arXiv metadata snapshot (`arxiv-metadata-oai-snapshot.json`). */
export function parseSnapshotLine(text: string, where: string, filter: SnapshotFilter = {}, catRe?: RegExp): SnapshotItem {
  const parsed = jsonObjectLine(text, where);
  if ('skip' in parsed) return parsed.skip;
  const o = parsed.object;
  if (typeof o.id !== 'string') return skip(where, o.id === undefined ? 'missing id' : `id must be a string, got ${typeName(o.id)}`);
  if (typeof o.title !== 'string') return skip(where, o.title === undefined ? 'missing title' : `title must be a string, got ${typeName(o.title)}`);
  const categories = typeof o.categories === 'string' ? o.categories.split(/\s+/).filter(Boolean) : [];
  if (filter.categories?.length) {
    const re = catRe ?? globToRegExp(filter.categories);
    if (!categories.some((c) => re.test(c))) return { filtered: true, where };
  }
  const versions = versionsOf(o.versions);
  if (filter.since) {
    const updated = typeof o.update_date === 'string' ? o.update_date : versions.at(-1)?.date.slice(0, 10);
    if (!updated || updated < filter.since) return { filtered: true, where };
  }
  const rec: PaperRecord = { arxivId: o.id, title: o.title, categories, versions };
  if (typeof o.abstract === 'string') rec.abstract = o.abstract;
  const authors = authorsOf(o);
  if (authors) rec.authors = authors;
  if (typeof o.doi === 'string') rec.doi = o.doi.split(/\s+/)[0];
  if (typeof o['journal-ref'] === 'string') rec.journalRef = o['journal-ref'];
  if (typeof o.comments === 'string') rec.comments = o.comments;
  const last = versions.at(-1);
  if (last) rec.version = last.version;
  return item(where, rec);
}
