import { createHash } from 'node:crypto';

/** A parsed arXiv identifier: `id` has no version; `version` is set when the input named one. */
export interface ArxivId {
  id: string;
  version?: number;
}

/** Archives that used the old `archive/YYMMNNN` scheme (1991–2007). */
const OLD_ARCHIVES = new Set([
  'acc-phys', 'adap-org', 'alg-geom', 'ao-sci', 'astro-ph', 'atom-ph', 'bayes-an', 'chao-dyn',
  'chem-ph', 'cmp-lg', 'comp-gas', 'cond-mat', 'cs', 'dg-ga', 'funct-an', 'gr-qc', 'hep-ex',
  'hep-lat', 'hep-ph', 'hep-th', 'math', 'math-ph', 'mtrl-th', 'nlin', 'nucl-ex', 'nucl-th',
  'patt-sol', 'physics', 'plasm-ph', 'q-alg', 'q-bio', 'quant-ph', 'solv-int', 'supr-con',
]);

const NEW_RE = /^(\d{2})(\d{2})\.(\d{4,5})(?:v(\d{1,4}))?$/;
const OLD_RE = /^([a-z-]+)(?:\.([a-z]{2}))?\/(\d{2})(\d{2})(\d{3})(?:v(\d{1,4}))?$/;

function withVersion(id: string, v: string | undefined): ArxivId {
  if (v === undefined) return { id };
  const version = Number(v);
  return version >= 1 ? { id, version } : { id };
}

function parseBare(s: string): ArxivId | null {
  const n = NEW_RE.exec(s);
  if (n) {
    const [, yy, mm, num, v] = n as unknown as [string, string, string, string, string | undefined];
    const month = Number(mm);
    const year = Number(yy);
    if (month < 1 || month > 12) return null;
    if (year < 7 || year > 89 || (year === 7 && month < 4)) return null; // new scheme starts at 0704
    const fiveDigits = year > 14; // 1501 onward uses five digits
    if (fiveDigits !== (num.length === 5)) return null;
    return withVersion(`${yy}${mm}.${num}`, v);
  }
  const o = OLD_RE.exec(s.toLowerCase());
  if (o) {
    const [, archive, , yy, mm, num, v] = o as unknown as [string, string, string | undefined, string, string, string, string | undefined];
    if (!OLD_ARCHIVES.has(archive)) return null;
    const month = Number(mm);
    const year = Number(yy);
    if (month < 1 || month > 12) return null;
    if (!(year >= 91 || year < 7 || (year === 7 && month <= 3))) return null; // the old scheme ended in 0703
    return withVersion(`${archive}/${yy}${mm}${num}`, v);
  }
  return null;
}

const URL_RE = /^(?:https?:\/\/)?(?:www\.|export\.|browse\.)?arxiv\.org\/(?:abs|pdf|html|format|ps)\/(.+?)(?:\.pdf)?\/?(?:[?#].*)?$/i;

/**
 * Normalises every form people paste: `2401.01234`, `2401.01234v3`, `arXiv:2401.01234`,
 * `hep-th/9901001`, `math.GT/0309136`, `oai:arXiv.org:…`, abs/pdf/html URLs.
 * Returns null when the input is not an arXiv identifier.
 */
export function parseArxivId(input: string): ArxivId | null {
  if (typeof input !== 'string' || input.length > 300) return null;
  let s = input.trim();
  const url = URL_RE.exec(s);
  if (url) s = decodeURIComponentSafe(url[1] ?? '');
  s = s.replace(/^oai:arxiv\.org:/i, '').replace(/^arxiv:\s*/i, '');
  return parseBare(s);
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Normalise a DOI: lower case, without resolver prefixes. */
export function normaliseDoi(input: string | undefined): string | undefined {
  if (!input) return undefined;
  const s = input
    .trim()
    .replace(/^(?:https?:\/\/)?(?:dx\.)?doi\.org\//i, '')
    .replace(/^doi:\s*/i, '')
    .trim()
    .toLowerCase();
  return /^10\.\d{4,9}\/\S+$/.test(s) ? s : undefined;
}

/** Titles compared for identity: case, accents, punctuation and spacing ignored. */
export function titleKey(title: string): string {
  return title
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

function shortHash(s: string): string {
  return createHash('sha256').update(s).digest('base64url').slice(0, 16);
}

/**
 * The public, stable identifier of a paper: the arXiv id when there is one,
 * else `doi:<doi>`, else `t:<hash of the normalised title>`.
 */
export function paperKey(p: { arxivId?: string | undefined; doi?: string | undefined; title: string }): string {
  if (p.arxivId) return p.arxivId;
  if (p.doi) return `doi:${p.doi}`;
  return `t:${shortHash(titleKey(p.title))}`;
}
