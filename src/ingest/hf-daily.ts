/**
 * Parser for Hugging Face Daily Papers: one body of
 * `GET https://huggingface.co/api/daily_papers?date=YYYY-MM-DD` (or a saved copy).
 *
 * Accepted shapes: a JSON array of entries, or `{status, date, count, data: [...]}`.
 * An entry is an object `{paper: {...}, numComments, ...}` or a string holding
 * the Python repr of one. Every entry yields exactly one ParseItem; a body that
 * is not valid JSON is recovered entry by entry where possible.
 */
import { parseArxivId } from './ids.ts';
import { parsePyLiteral } from './pyliteral.ts';
import { item, skip, type PaperLink, type PaperRecord, type ParseItem, type SignalObservation } from './record.ts';

export interface HfParseOptions {
  /** Label for the input, e.g. the file path; items are `${where}#${n}`. */
  where: string;
  /** The daily date (YYYY-MM-DD) when known. */
  date?: string | undefined;
  /** ISO date-time of a live fetch; dates the signal observations. */
  observedAt?: string | undefined;
}

export interface HfParseResult {
  items: ParseItem[];
  /** The daily date: opts.date, else the wrapper's `date`. */
  date?: string | undefined;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const get = (o: Obj, key: string): unknown => (Object.hasOwn(o, key) ? o[key] : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function quote(s: string): string {
  return `'${s.length > 60 ? `${s.slice(0, 60)}…` : s}'`;
}

const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** A valid ISO date-time, normalised to UTC `…Z`; otherwise undefined. */
function isoDateTime(v: unknown): string | undefined {
  if (typeof v !== 'string' || !ISO_RE.test(v)) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

function dayDate(v: unknown): string | undefined {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v)) return undefined;
  return isoDateTime(`${v}T00:00:00Z`)?.startsWith(v) ? v : undefined;
}

function httpUrl(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:' ? s : undefined;
  } catch {
    return undefined;
  }
}

const count = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;

interface Context {
  where: string;
  /** ISO date-time for observations when known for the whole body. */
  observedAt: string | undefined;
}

function parseEntry(raw: unknown, n: number, ctx: Context): ParseItem {
  const where = `${ctx.where}#${n}`;
  const bad = (reason: string): ParseItem => skip(where, `entry ${n}: ${reason}`);

  let entry = raw;
  if (typeof raw === 'string') {
    try {
      entry = parsePyLiteral(raw);
    } catch (err) {
      try {
        entry = JSON.parse(raw);
      } catch {
        return bad(`unreadable Python repr: ${(err as Error).message}`);
      }
    }
  }
  if (!isObj(entry)) return bad(`not an object (${typeName(entry)})`);

  const paper = get(entry, 'paper');
  if (paper === undefined || paper === null) return bad('missing paper');
  if (!isObj(paper)) return bad(`paper is not an object (${typeName(paper)})`);

  const rawId = get(paper, 'id');
  if (rawId === undefined || rawId === null) return bad('missing paper.id');
  if (typeof rawId !== 'string') return bad(`paper.id is not a string (${typeName(rawId)})`);
  const parsed = parseArxivId(rawId);
  if (!parsed) return bad(`paper.id is not an arXiv id: ${quote(rawId)}`);
  const arxivId = parsed.version ? `${parsed.id}v${parsed.version}` : parsed.id;

  const titles = [get(paper, 'title'), get(entry, 'title')];
  const title = titles.find((t): t is string => typeof t === 'string' && t.trim() !== '');
  if (title === undefined) {
    const t = titles.find((x) => x !== undefined && x !== null);
    if (t === undefined) return bad('missing paper.title');
    return bad(typeof t === 'string' ? 'paper.title is empty' : `paper.title is not a string (${typeName(t)})`);
  }

  const record: PaperRecord = { arxivId, title };
  const abstract = str(get(paper, 'summary')) ?? str(get(entry, 'summary'));
  if (abstract !== undefined) record.abstract = abstract;

  const authors = get(paper, 'authors');
  if (Array.isArray(authors)) {
    const names = authors
      .map((a) => (isObj(a) ? str(get(a, 'name')) : str(a)))
      .filter((name): name is string => name !== undefined);
    if (names.length > 0) record.authors = names;
  }

  const submittedAt = isoDateTime(get(paper, 'publishedAt'));
  if (submittedAt) record.submittedAt = submittedAt;

  const links: PaperLink[] = [
    { kind: 'abs', url: `https://arxiv.org/abs/${arxivId}` },
    { kind: 'pdf', url: `https://arxiv.org/pdf/${arxivId}` },
  ];
  const code = httpUrl(get(paper, 'githubRepo'));
  if (code) links.push({ kind: 'code', url: code });
  const project = httpUrl(get(paper, 'projectPage'));
  if (project) links.push({ kind: 'project', url: project });
  record.links = links;

  const observedAt =
    ctx.observedAt ?? isoDateTime(get(paper, 'submittedOnDailyAt')) ?? isoDateTime(get(entry, 'publishedAt'));
  if (observedAt) {
    const signals: SignalObservation[] = [];
    const add = (name: string, v: unknown): void => {
      const value = count(v);
      if (value !== undefined) signals.push({ name, value, observedAt });
    };
    add('hf_upvotes', get(paper, 'upvotes'));
    add('hf_comments', get(entry, 'numComments'));
    add('github_stars', get(paper, 'githubStars'));
    if (signals.length > 0) record.signals = signals;
  }

  return item(where, record);
}

/**
 * Tolerant scan of a body that JSON.parse rejected: finds the entries array
 * (the root array, or the wrapper's `data` array) and splits it into the source
 * text of its top-level elements by tracking brackets and strings.
 */
function scanEntries(text: string): { elements: string[]; tail: string; truncated: boolean } | null {
  let i = 0;
  let depth = 0;
  let inString = false;
  let lastKey = '';
  let keyStart = -1;
  let arrayStart = -1;
  const rootIsArray = /^\s*\[/.test(text);

  // Locate the opening bracket of the entries array.
  for (; i < text.length && arrayStart < 0; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') {
        inString = false;
        if (depth === 1) lastKey = text.slice(keyStart, i + 1);
      }
    } else if (c === '"') {
      inString = true;
      keyStart = i;
    } else if (c === '[' || c === '{') {
      if (c === '[' && (rootIsArray ? depth === 0 : depth === 1 && lastKey === '"data"')) arrayStart = i;
      depth++;
    } else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 1) lastKey = '';
  }
  if (arrayStart < 0) return null;

  // Split its elements.
  const elements: string[] = [];
  let start = i;
  depth = 0;
  inString = false;
  for (; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') depth++;
    else if ((c === ']' || c === '}') && depth > 0) depth--;
    else if (c === ',' && depth === 0) {
      elements.push(text.slice(start, i));
      start = i + 1;
    } else if (c === ']' && depth === 0) {
      const last = text.slice(start, i);
      if (last.trim() !== '') elements.push(last);
      return { elements, tail: '', truncated: false };
    }
  }
  return { elements, tail: text.slice(start), truncated: true };
}

function recover(text: string, error: string, ctx: Context): ParseItem[] {
  const scan = scanEntries(text);
  if (!scan || (scan.elements.length === 0 && scan.truncated)) return [skip(ctx.where, `invalid JSON: ${error}`)];

  let badElements = 0;
  const items = scan.elements.map((src, k) => {
    try {
      return parseEntry(JSON.parse(src), k + 1, ctx);
    } catch (err) {
      badElements++;
      return skip(`${ctx.where}#${k + 1}`, `entry ${k + 1}: invalid JSON: ${(err as Error).message}`);
    }
  });
  const n = scan.elements.length;
  if (scan.truncated) {
    const where = scan.tail.trim() === '' ? ctx.where : `${ctx.where}#${n + 1}`;
    items.push(skip(where, `truncated JSON after entry ${n}`));
  } else if (badElements === 0) {
    // The entries are fine, so the error lies outside the array.
    items.push(skip(ctx.where, `invalid JSON after entry ${n}: ${error}`));
  }
  return items;
}

export function parseHfDaily(text: string, opts: HfParseOptions): HfParseResult {
  const date = dayDate(opts.date);
  const where = opts.where;
  if (typeof text !== 'string') return { items: [skip(where, `body is not a string (${typeName(text)})`)], date };
  const body = text.replace(/^\uFEFF/, '');

  let root: unknown;
  try {
    root = JSON.parse(body);
  } catch (err) {
    const observedAt = isoDateTime(opts.observedAt) ?? (date && `${date}T00:00:00.000Z`);
    return { items: recover(body, (err as Error).message, { where, observedAt }), date };
  }

  let entries: unknown[];
  let dailyDate = date;
  if (Array.isArray(root)) entries = root;
  else if (isObj(root) && Array.isArray(get(root, 'data'))) {
    entries = get(root, 'data') as unknown[];
    dailyDate ??= dayDate(get(root, 'date'));
  } else {
    const apiError = isObj(root) ? str(get(root, 'error')) : undefined;
    const reason = apiError !== undefined ? `API error: ${apiError}` : `not a list of entries (${typeName(root)})`;
    return { items: [skip(where, reason)], date };
  }

  const observedAt = isoDateTime(opts.observedAt) ?? (dailyDate && `${dailyDate}T00:00:00.000Z`);
  const ctx: Context = { where, observedAt };
  return { items: entries.map((e, k) => parseEntry(e, k + 1, ctx)), date: dailyDate };
}
