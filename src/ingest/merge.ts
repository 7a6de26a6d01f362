import { paperKey } from './ids.ts';
import type { Paper } from './paper.ts';
import type { PaperLink, PaperVersion } from './record.ts';

function pick<T>(winner: T | null, other: T | null, empty: (v: T) => boolean): T | null {
  if (winner !== null && !empty(winner)) return winner;
  return other;
}

const blank = (s: string) => s === '';
const none = (a: readonly unknown[]) => a.length === 0;

function minDate(a: string | null, b: string | null): string | null {
  if (!a) return b;
  if (!b) return a;
  return a < b ? a : b;
}

function maxDate(a: string | null, b: string | null): string | null {
  if (!a) return b;
  if (!b) return a;
  return a > b ? a : b;
}

function unionVersions(a: PaperVersion[], b: PaperVersion[]): PaperVersion[] {
  const m = new Map<number, string>();
  for (const v of [...a, ...b]) if (!m.has(v.version)) m.set(v.version, v.date);
  return [...m].sort((x, y) => x[0] - y[0]).map(([version, date]) => ({ version, date }));
}

function unionLinks(first: PaperLink[], second: PaperLink[]): PaperLink[] {
  const seen = new Set<string>();
  const out: PaperLink[] = [];
  for (const l of [...first, ...second]) {
    const k = l.url.toLowerCase();
    if (!seen.has(k)) {
      seen.add(k);
      out.push(l);
    }
  }
  return out;
}

function unionStrings(first: string[], second: string[]): string[] {
  return [...new Set([...first, ...second])];
}

/**
 * Merges an incoming record into the stored one. The text of the latest
 * version wins; fields the winner lacks are kept from the other; every
 * version's date is kept.
 */
export function mergePapers(stored: Paper, incoming: Paper): Paper {
  // Order-independent, so re-ingesting any input changes nothing: a higher version
  // wins; at the same version, a later update wins; a full tie keeps what is stored.
  const incomingWins =
    incoming.version > stored.version ||
    (incoming.version === stored.version && (incoming.updatedAt ?? '') > (stored.updatedAt ?? ''));
  const [w, o] = incomingWins ? [incoming, stored] : [stored, incoming];
  const title = pick(w.title, o.title, blank) ?? stored.title;
  const arxivId = stored.arxivId ?? incoming.arxivId;
  const doi = pick(w.doi, o.doi, blank);
  const merged: Paper = {
    key: '',
    arxivId,
    doi,
    titleKey: title === w.title ? w.titleKey : o.titleKey,
    title,
    abstract: pick(w.abstract, o.abstract, blank) ?? '',
    authors: pick(w.authors, o.authors, none) ?? [],
    categories: unionStrings(w.categories, o.categories),
    submittedAt: minDate(stored.submittedAt, incoming.submittedAt),
    updatedAt: maxDate(stored.updatedAt, incoming.updatedAt),
    version: Math.max(stored.version, incoming.version),
    versions: unionVersions(w.versions, o.versions),
    journalRef: pick(w.journalRef, o.journalRef, blank),
    comments: pick(w.comments, o.comments, blank),
    links: unionLinks(w.links, o.links),
  };
  merged.key = paperKey({ arxivId: arxivId ?? undefined, doi: doi ?? undefined, title: merged.title });
  // A paper keeps the public id it had unless it gains a better kind of id (arXiv > DOI > title).
  if (rank(stored.key) >= rank(merged.key)) merged.key = stored.key;
  return merged;
}

function rank(key: string): number {
  if (key.startsWith('t:')) return 0;
  if (key.startsWith('doi:')) return 1;
  return 2;
}

/** True when two papers hold the same data. */
export function samePaper(a: Paper, b: Paper): boolean {
  return fingerprint(a) === fingerprint(b);
}

function fingerprint(p: Paper): string {
  return JSON.stringify([
    p.key, p.arxivId, p.doi, p.titleKey, p.title, p.abstract, p.authors, p.categories, p.submittedAt,
    p.updatedAt, p.version, p.versions, p.journalRef, p.comments, p.links.map((l) => [l.kind, l.url]),
  ]);
}
