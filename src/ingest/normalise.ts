import { normaliseDoi, paperKey, parseArxivId, titleKey } from './ids.ts';
import type { Incoming, Paper } from './paper.ts';
import type { LinkKind, PaperLink, PaperRecord, PaperVersion, SignalObservation } from './record.ts';

export const LIMITS = {
  titleChars: 1_000,
  abstractChars: 100_000,
  authorChars: 300,
  authors: 10_000,
  categories: 50,
  fieldChars: 5_000,
  urlChars: 2_000,
  links: 100,
} as const;

// C0/C1 controls except \t \n \r, which become spaces or stay as line breaks.
// Also U+E000/U+E001, which search uses to mark matches in snippets.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFEFF\uE000\uE001]/g;

// UTF-8 read as Latin-1 ("MÃ¼ller"): a lead byte À-ô followed by continuation bytes.
const MOJIBAKE = /[\u00C2-\u00F4][\u0080-\u00BF]+/g;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Repairs text that was UTF-8 decoded as Latin-1 somewhere upstream; leaves anything else alone. */
export function fixMojibake(s: string): string {
  if (!/[\u00C2-\u00F4][\u0080-\u00BF]/.test(s)) return s;
  return s.replace(MOJIBAKE, (run) => {
    try {
      return utf8.decode(Buffer.from(run, 'latin1'));
    } catch {
      return run;
    }
  });
}

function clean(s: string): string {
  return fixMojibake(s.toWellFormed()).replace(CONTROL, '');
}

/** One line: every run of white space (including CR/LF) becomes one space. */
export function oneLine(s: string): string {
  return clean(s).replace(/\s+/g, ' ').trim();
}

/** Paragraphs kept (blank lines), hard wraps inside a paragraph joined. */
export function paragraphs(s: string): string {
  return clean(s)
    .replace(/\r\n?/g, '\n')
    .split(/\n[ \t]*\n/)
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter(Boolean)
    .join('\n\n');
}

// ISO 8601 (2024-01-31, 2024-01-31T10:00:00Z) or RFC 2822 (Mon, 2 Apr 2007 19:18:42 GMT).
const DATE_TEXT = /^(?:\d{4}-\d{2}(?:-\d{2})?(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?|(?:[A-Za-z]{3},?\s+)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}(?:\s+[\d:]+)?(?:\s+(?:GMT|UTC|[+-]\d{4}))?)$/;

/** A date in a form sources really use; free text ("Version 2", "12") is not a date. */
export function isoDate(v: unknown): string | null {
  let d: Date;
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 1e11) return null; // epoch milliseconds only
    d = new Date(v);
  } else if (typeof v === 'string') {
    const s = v.trim();
    if (!DATE_TEXT.test(s)) return null;
    d = new Date(s);
  } else {
    return null;
  }
  const t = d.getTime();
  if (!Number.isFinite(t)) return null;
  const y = d.getUTCFullYear();
  if (y < 1900 || y > 2200) return null;
  return d.toISOString();
}

function optionalText(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const s = oneLine(v);
  return s ? s.slice(0, LIMITS.fieldChars) : null;
}

const CODE_HOSTS = /^(?:www\.)?(github\.com|gitlab\.com|bitbucket\.org|codeberg\.org)$/i;

/** Canonical http(s) URL, or null. Repository URLs are cut to owner/repo. */
export function cleanUrl(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const s = raw.trim().replace(/[.,;:)\]}>'"]+$/, '');
  if (s.length > LIMITS.urlChars || !/^https?:\/\//i.test(s)) return null;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return null;
  }
  if (!u.hostname.includes('.') || u.username || u.password) return null;
  const code = CODE_HOSTS.exec(u.hostname);
  if (code) {
    const host = code[1]!.toLowerCase();
    let parts = u.pathname.split('/').filter(Boolean);
    const dash = parts.indexOf('-'); // gitlab.com/group/sub/repo/-/tree/main
    // GitLab nests groups; the others are owner/repo.
    parts = host === 'gitlab.com' ? parts.slice(0, dash === -1 ? parts.length : dash) : parts.slice(0, 2);
    if (parts.length < 2) return null;
    parts[parts.length - 1] = parts[parts.length - 1]!.replace(/\.git$/, '');
    return `https://${host}/${parts.join('/')}`;
  }
  return u.toString();
}

export function linkKindFor(url: string): LinkKind {
  const host = new URL(url).hostname;
  if (CODE_HOSTS.test(host)) return 'code';
  if (/(^|\.)huggingface\.co$/.test(host)) return 'code';
  return 'project';
}

const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"'{}|\\^`]+/gi;

/** Code repositories and project pages mentioned in an abstract. */
export function linksInText(text: string): PaperLink[] {
  const out: PaperLink[] = [];
  for (const m of text.matchAll(URL_IN_TEXT)) {
    const url = cleanUrl(m[0]);
    if (url && !/arxiv\.org/i.test(url)) out.push({ kind: linkKindFor(url), url });
  }
  return out;
}

function dedupeLinks(links: PaperLink[]): PaperLink[] {
  const seen = new Set<string>();
  const out: PaperLink[] = [];
  for (const l of links) {
    const k = l.url.toLowerCase();
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(l);
  }
  return out.slice(0, LIMITS.links);
}

const CATEGORY = /^[a-z][a-z-]*(\.[A-Za-z][A-Za-z-]*)?$/;

function categoriesOf(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  const out: string[] = [];
  for (const c of v) {
    if (typeof c !== 'string') continue;
    const s = c.trim();
    if (CATEGORY.test(s) && s.length <= 40 && !out.includes(s)) out.push(s);
  }
  return out.slice(0, LIMITS.categories);
}

function versionsOf(v: unknown): PaperVersion[] {
  if (!Array.isArray(v)) return [];
  const byVersion = new Map<number, string>();
  for (const x of v) {
    if (!x || typeof x !== 'object') continue;
    const { version, date } = x as { version?: unknown; date?: unknown };
    const d = isoDate(date);
    if (typeof version === 'number' && Number.isInteger(version) && version >= 1 && version < 10_000 && d) {
      if (!byVersion.has(version)) byVersion.set(version, d);
    }
  }
  return [...byVersion].sort((a, b) => a[0] - b[0]).map(([version, date]) => ({ version, date }));
}

const SIGNAL_NAME = /^[a-z][a-z0-9_]{0,63}$/;

function signalsOf(v: unknown): SignalObservation[] {
  if (!Array.isArray(v)) return [];
  const out: SignalObservation[] = [];
  for (const s of v as unknown[]) {
    if (!s || typeof s !== 'object') continue;
    const { name, value, observedAt } = s as Record<string, unknown>;
    const at = isoDate(observedAt);
    if (typeof name === 'string' && SIGNAL_NAME.test(name) && typeof value === 'number' && Number.isFinite(value) && at) {
      out.push({ name, value, observedAt: at });
    }
  }
  return out;
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

export type Normalised = { ok: true; value: Incoming } | { ok: false; reason: string };

/**
 * Validates and cleans one parsed record. Never throws: a record it cannot
 * accept comes back with a reason a person can act on.
 */
export function normalise(where: string, r: PaperRecord): Normalised {
  const fail = (reason: string): Normalised => ({ ok: false, reason });
  if (!r || typeof r !== 'object') return fail('record is not an object');
  if (typeof r.title !== 'string') return fail('missing title');
  if (r.title.length > LIMITS.titleChars * 4) return fail(`title is ${fmt(r.title.length)} characters; the limit is ${fmt(LIMITS.titleChars)}`);
  const title = oneLine(r.title);
  if (!title) return fail('empty title');
  if (title.length > LIMITS.titleChars) return fail(`title is ${fmt(title.length)} characters; the limit is ${fmt(LIMITS.titleChars)}`);

  const rawAbstract = typeof r.abstract === 'string' ? r.abstract : '';
  if (rawAbstract.length > LIMITS.abstractChars * 2) {
    return fail(`abstract is ${fmt(rawAbstract.length)} characters; the limit is ${fmt(LIMITS.abstractChars)}`);
  }
  const abstract = paragraphs(rawAbstract);
  if (abstract.length > LIMITS.abstractChars) {
    return fail(`abstract is ${fmt(abstract.length)} characters; the limit is ${fmt(LIMITS.abstractChars)}`);
  }

  let arxivId: string | null = null;
  let version = typeof r.version === 'number' && Number.isInteger(r.version) && r.version > 0 ? r.version : 0;
  if (r.arxivId !== undefined && r.arxivId !== null && r.arxivId !== '') {
    const parsed = typeof r.arxivId === 'string' ? parseArxivId(r.arxivId) : null;
    if (!parsed) return fail(`not an arXiv id: ${JSON.stringify(String(r.arxivId).slice(0, 60))}`);
    arxivId = parsed.id;
    if (parsed.version) version = parsed.version;
  }

  const authors: string[] = [];
  if (Array.isArray(r.authors)) {
    if (r.authors.length > LIMITS.authors) return fail(`${fmt(r.authors.length)} authors; the limit is ${fmt(LIMITS.authors)}`);
    for (const a of r.authors) {
      if (typeof a !== 'string') continue;
      const name = oneLine(a).slice(0, LIMITS.authorChars);
      if (name) authors.push(name);
    }
  }

  const categories = categoriesOf(r.categories);
  const versions = versionsOf(r.versions);
  let submittedAt = isoDate(r.submittedAt);
  let updatedAt = isoDate(r.updatedAt);
  const v1 = versions.find((v) => v.version === 1);
  if (v1 && (!submittedAt || v1.date < submittedAt)) submittedAt = v1.date;
  const last = versions.at(-1);
  if (last) {
    if (last.version > version) version = last.version;
    if (!updatedAt || last.date > updatedAt) updatedAt = last.date;
  }
  if (!updatedAt) updatedAt = submittedAt;

  const doi = normaliseDoi(typeof r.doi === 'string' ? r.doi : undefined) ?? null;

  const links: PaperLink[] = [];
  for (const l of Array.isArray(r.links) ? r.links : []) {
    if (!l || typeof l !== 'object') continue;
    const url = cleanUrl((l as PaperLink).url);
    const kind = (l as PaperLink).kind;
    if (url && typeof kind === 'string') links.push({ kind, url });
  }
  if (arxivId) {
    links.push({ kind: 'abs', url: `https://arxiv.org/abs/${arxivId}` }, { kind: 'pdf', url: `https://arxiv.org/pdf/${arxivId}` });
  }
  if (doi) links.push({ kind: 'doi', url: `https://doi.org/${doi}` });
  links.push(...linksInText(abstract));

  const paper: Paper = {
    key: paperKey({ arxivId: arxivId ?? undefined, doi: doi ?? undefined, title }),
    arxivId,
    doi,
    titleKey: titleKey(title),
    title,
    abstract,
    authors,
    categories,
    submittedAt,
    updatedAt,
    version,
    versions,
    journalRef: optionalText(r.journalRef),
    comments: optionalText(r.comments),
    links: dedupeLinks(links),
  };
  return { ok: true, value: { where, paper, signals: signalsOf(r.signals) } };
}
