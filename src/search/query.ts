import { parseArxivId } from '../ingest/ids.ts';

/**
 * A search box query, parsed. Every word is lower-cased and contains only letters, digits and
 * combining marks, so nothing the user typed can carry FTS5 syntax. Words that the FTS tokeniser
 * would split (`llama-2`, `x86_64`, `2401.01234`) are kept together as a phrase of their parts.
 */
export interface ParsedQuery {
  /** Plain words: all required (AND mode) or ranked (OR mode). */
  terms: string[];
  /** Quoted phrases and hyphenated/dotted words, each as its words. */
  phrases: string[][];
  /** `trans*` → `trans` (at least two characters). */
  prefixes: string[];
  /** `-word` */
  excludes: string[];
  /** `-"two words"` and `-llama-2` */
  excludePhrases: string[][];
  /** `author:"Song Han"` → `song han` (lower-cased words joined by one space). */
  authors: string[];
  /**
   * `cat:cs.CV` → `cs.CV` (archive lower case, two-letter subject classes upper case).
   * An entry ending in `.` is a prefix: `cat:cs`, `cat:cs.*` → `cs.`, meaning the archive
   * itself or any of its subject classes.
   */
  categories: string[];
  /** `since:` as YYYY-MM-DD; `since:2025` → 2025-01-01, `since:2025-02` → 2025-02-01. */
  since?: string;
  /** `until:` as YYYY-MM-DD; `until:2025` → 2025-12-31, `until:2024-02` → 2024-02-29. */
  until?: string;
  /** `has:code` → true, `-has:code` → false. */
  hasCode?: boolean;
  /** Set, with nothing else, when the whole query is one arXiv id or URL (no version). */
  arxivId?: string;
  /** Human-readable notes on what was ignored or changed, and why. */
  ignored: string[];
}

export const MAX_QUERY_CHARS = 500;
export const MAX_TERMS = 32;
const MAX_NOTES = 20;

const FIELDS = new Set(['author', 'cat', 'since', 'until', 'has']);
/** Runs the FTS5 unicode61 tokeniser would index as one token (marks only after a letter/digit). */
const WORD_RE = /[\p{L}\p{N}\p{Co}][\p{L}\p{N}\p{Co}\p{M}]*/gu;
const FIELD_RE = /([a-z]+):/iy;
const CATEGORY_RE = /^([a-z][a-z-]*)(?:\.([a-z][a-z-]*|\*))?$/i;
const RUN_RE = /\S*/uy;
const BARE_RE = /[^\s"]*/uy;
const DATE_RE = /^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$/;

/** Splits text into the words the FTS tokeniser would see, lower-cased. */
export function wordsOf(text: string): string[] {
  return (text.match(WORD_RE) ?? []).map((w) => w.toLowerCase());
}

function matchAt(re: RegExp, s: string, at: number): string {
  re.lastIndex = at;
  return re.exec(s)?.[0] ?? '';
}

/** Control characters become spaces; invisible format characters (soft hyphen, ZWJ, BOM) vanish. */
function clean(q: string): string {
  return q
    .toWellFormed()
    .normalize('NFKC')
    .replace(/\p{Cc}/gu, ' ')
    .replace(/\p{Cf}/gu, '')
    .trim();
}

function show(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

function isLeap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

/** `YYYY`, `YYYY-MM` or `YYYY-MM-DD` → the first (or last, when `end`) day it names. */
export function parseDateBound(v: string, end: boolean): string | undefined {
  const m = DATE_RE.exec(v);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = m[2] === undefined ? (end ? 12 : 1) : Number(m[2]);
  if (month < 1 || month > 12) return undefined;
  const days = [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 31;
  const day = m[3] === undefined ? (end ? days : 1) : Number(m[3]);
  if (day < 1 || day > days) return undefined;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${m[1]}-${pad(month)}-${pad(day)}`;
}

function parseCategory(v: string): string | undefined {
  const m = CATEGORY_RE.exec(v);
  if (!m || v.length > 40) return undefined;
  const archive = (m[1] ?? '').toLowerCase();
  const sub = m[2];
  if (sub === undefined || sub === '*') return `${archive}.`;
  return `${archive}.${sub.length === 2 ? sub.toUpperCase() : sub.toLowerCase()}`;
}

interface Chunk {
  neg: boolean;
  field?: string;
  text: string;
  quoted: boolean;
}

class Parser {
  readonly p: ParsedQuery = {
    terms: [], phrases: [], prefixes: [], excludes: [], excludePhrases: [], authors: [], categories: [], ignored: [],
  };
  private words = 0;
  private noted = new Set<string>();

  constructor(private readonly s: string) {}

  note(msg: string): void {
    if (this.noted.has(msg)) return;
    this.noted.add(msg);
    if (this.noted.size <= MAX_NOTES) this.p.ignored.push(msg);
    else if (this.noted.size === MAX_NOTES + 1) this.p.ignored.push('further notes left out');
  }

  /** Splits the query into chunks: `-`? (`field:`)? (`"quoted"` | bare run). */
  chunks(): Chunk[] {
    const { s } = this;
    const out: Chunk[] = [];
    let i = 0;
    while (i < s.length) {
      if (/\s/u.test(s[i] ?? '')) {
        i++;
        continue;
      }
      const neg = s[i] === '-' && i + 1 < s.length && !/\s/u.test(s[i + 1] ?? ' ');
      if (neg) i++;
      // A pasted id or URL inside a longer query is one chunk, whatever it contains.
      const run = matchAt(RUN_RE, s, i);
      const id = parseArxivId(run);
      if (id) {
        out.push({ neg, text: id.id, quoted: false });
        i += run.length;
        continue;
      }
      const f = matchAt(FIELD_RE, s, i);
      const field = f === '' ? undefined : f.slice(0, -1).toLowerCase();
      i += f.length;
      let text = '';
      let quoted = false;
      if (s[i] === '"') {
        const close = s.indexOf('"', i + 1);
        if (close >= 0) {
          text = s.slice(i + 1, close);
          quoted = true;
          i = close + 1;
        } else {
          this.note('unbalanced quote');
          i++;
        }
      }
      if (!quoted) {
        text = matchAt(BARE_RE, s, i);
        i += text.length;
      }
      out.push(field === undefined ? { neg, text, quoted } : { neg, field, text, quoted });
    }
    return out;
  }

  private spend(n: number): boolean {
    if (this.words + n > MAX_TERMS) {
      this.note(`query limited to ${MAX_TERMS} terms`);
      return false;
    }
    this.words += n;
    return true;
  }

  private addWords(words: string[], neg: boolean, raw: string): void {
    const [first] = words;
    if (first === undefined) {
      if (raw !== '') this.note(`${show(raw)} (nothing searchable)`);
      return;
    }
    if (words.length === 1) {
      const list = neg ? this.p.excludes : this.p.terms;
      if (!list.includes(first) && this.spend(1)) list.push(first);
      return;
    }
    const lists = neg ? this.p.excludePhrases : this.p.phrases;
    const key = words.join(' ');
    if (!lists.some((x) => x.join(' ') === key) && this.spend(words.length)) lists.push(words);
  }

  private addBare(c: Chunk, raw: string): void {
    if (!c.quoted && /[\p{L}\p{N}](?:\+\+|#)$/u.test(c.text)) this.note(`${show(c.text)} (searched as "${wordsOf(c.text).join(' ')}")`);
    const star = !c.quoted && /[\p{L}\p{N}\p{M}]\*+$/u.test(c.text);
    const words = wordsOf(c.text);
    const [only] = words;
    if (star && only !== undefined && words.length === 1) {
      if (c.neg) this.note(`${show(raw)} (prefix ignored in exclusions)`);
      else if (only.length < 2) this.note(`${show(raw)} (prefix too short; searched as a word)`);
      else {
        if (!this.p.prefixes.includes(only) && this.spend(1)) this.p.prefixes.push(only);
        return;
      }
    } else if (star) this.note(`${show(raw)} (prefix only works on single words)`);
    this.addWords(words, c.neg, raw);
  }

  private addField(c: Chunk & { field: string }, raw: string): void {
    const { field, text } = c;
    if (!FIELDS.has(field)) {
      this.note(`${show(field)}: (unknown field${text === '' ? '' : '; searched as words'})`);
      this.addBare({ neg: c.neg, text, quoted: c.quoted }, text);
      return;
    }
    if (text.trim() === '') {
      this.note(`${field}: (empty)`);
      return;
    }
    if (c.neg && !(field === 'has' && text.toLowerCase() === 'code')) {
      this.note(`${show(raw)} (negation not supported here)`);
      return;
    }
    switch (field) {
      case 'author': {
        const name = wordsOf(text).join(' ');
        if (name === '') this.note(`${show(raw)} (no name)`);
        else if (!this.p.authors.includes(name) && this.spend(wordsOf(text).length)) this.p.authors.push(name);
        return;
      }
      case 'cat': {
        const cat = parseCategory(text.trim());
        if (cat === undefined) this.note(`${show(raw)} (not a category)`);
        else if (!this.p.categories.includes(cat)) this.p.categories.push(cat);
        return;
      }
      case 'since':
      case 'until': {
        const d = parseDateBound(text.trim(), field === 'until');
        if (d === undefined) this.note(`${show(raw)} (not a date)`);
        else {
          if (this.p[field] !== undefined && this.p[field] !== d) this.note(`${field}:${this.p[field]} (replaced by a later ${field}:)`);
          this.p[field] = d;
        }
        return;
      }
      default: // has
        if (text.toLowerCase() === 'code') this.p.hasCode = !c.neg;
        else this.note(`${show(raw)} (unknown)`);
    }
  }

  run(): ParsedQuery {
    for (const c of this.chunks()) {
      const raw = `${c.neg ? '-' : ''}${c.field === undefined ? '' : `${c.field}:`}${c.quoted ? `"${c.text}"` : c.text}`;
      if (c.field === undefined) this.addBare(c, raw);
      else this.addField({ ...c, field: c.field }, raw);
    }
    const { ignored, ...rest } = this.p;
    return { ...rest, ignored }; // notes last in JSON answers
  }
}

/** Parses a search box query. Never throws: whatever it cannot use is listed in `ignored`. */
export function parseQuery(q: string): ParsedQuery {
  let s = clean(typeof q === 'string' ? q : '');
  const id = parseArxivId(s);
  if (id) {
    return { terms: [], phrases: [], prefixes: [], excludes: [], excludePhrases: [], authors: [], categories: [], arxivId: id.id, ignored: [] };
  }
  let truncated = false;
  if (s.length > MAX_QUERY_CHARS) {
    s = s.slice(0, MAX_QUERY_CHARS).toWellFormed();
    truncated = true;
  }
  const parser = new Parser(s);
  if (truncated) parser.note(`query truncated to ${MAX_QUERY_CHARS} characters`);
  return parser.run();
}
