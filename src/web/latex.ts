/**
 * Server-side rendering of the TeX in paper titles and abstracts with KaTeX.
 *
 * Delimiters follow what arXiv's own pages (MathJax) accept, since authors write for those:
 * `$…$` and `\(…\)` inline, `$$…$$` and `\[…\]` display. `\$` is a literal dollar, and an
 * opening delimiter with no closing one is plain text. Math never spans a paragraph break.
 *
 * Everything outside math is HTML-escaped; math goes through KaTeX with `trust: false`, so
 * `\href`, `\url`, `\includegraphics` and `\html…` render as inert red text instead of markup.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import katex from 'katex';
import { escapeHtml, SafeHtml } from './html.ts';

/** Longer math runs are shown as source: KaTeX output grows fast with nesting (`\sqrt` ×140 is 145 KB). */
const MAX_TEX_CHARS = 1000;
/** Math characters rendered per call (arXiv abstracts are at most 1,920 characters in all); the rest is shown as source. */
const MAX_TEX_PER_TEXT = 5_000;

type Run = { kind: 'text'; text: string } | { kind: 'math'; tex: string; display: boolean };

const CLOSER = { '$$': '$$', $: '$', '\\(': '\\)', '\\[': '\\]' } as const;
type Opener = keyof typeof CLOSER;

/** Position of the first unescaped `closer` at or after `from`, or -1. Backslash pairs are skipped. */
function findCloser(text: string, from: number, closer: string): number {
  for (let j = from; j < text.length; j++) {
    if (text.startsWith(closer, j)) return j;
    if (text[j] === '\\') j++;
  }
  return -1;
}

const DELIMITER = /[$\\]/g;

/** Splits one paragraph into plain and math runs. Linear: each kind of opener fails its search at most once. */
export function splitMath(text: string): Run[] {
  const runs: Run[] = [];
  const exhausted = new Set<Opener>();
  let plain = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    let open: Opener;
    if (c === '\\') {
      const next = text[i + 1];
      if (next === '$') {
        plain += '$';
        i += 2;
        continue;
      }
      if (next === '(' || next === '[') open = next === '(' ? '\\(' : '\\[';
      else {
        // Keep any other backslash pair intact, so `\\$` is a line break followed by an opener, as in TeX.
        plain += text.slice(i, i + 2);
        i += 2;
        continue;
      }
    } else if (c === '$') {
      open = text[i + 1] === '$' ? '$$' : '$';
    } else {
      // Plain text up to the next `$` or backslash, in one piece.
      DELIMITER.lastIndex = i;
      const j = DELIMITER.exec(text)?.index ?? text.length;
      plain += text.slice(i, j);
      i = j;
      continue;
    }
    const start = i + open.length;
    const end = exhausted.has(open) ? -1 : findCloser(text, start, CLOSER[open]);
    const tex = end < 0 ? '' : text.slice(start, end);
    if (end < 0 || tex.trim() === '') {
      if (end < 0) exhausted.add(open);
      // Unmatched (or empty, like `a $ $ b`): the delimiters are ordinary text.
      const literal = end < 0 ? open : text.slice(i, end + CLOSER[open].length);
      plain += literal;
      i += literal.length;
      continue;
    }
    if (plain) runs.push({ kind: 'text', text: plain });
    plain = '';
    runs.push({ kind: 'math', tex, display: open === '$$' || open === '\\[' });
    i = end + CLOSER[open].length;
  }
  if (plain) runs.push({ kind: 'text', text: plain });
  return runs;
}

// ---------------------------------------------------------------- cache

/** Least-recently-used, bounded by entries and by total characters (a hostile expression can render to 100 KB+). */
const CACHE_MAX_ENTRIES = 4000;
const CACHE_MAX_CHARS = 8_000_000;
const cache = new Map<string, string>();
let cacheChars = 0;

function cached(key: string): string | undefined {
  const hit = cache.get(key);
  if (hit !== undefined) {
    cache.delete(key);
    cache.set(key, hit);
  }
  return hit;
}

function remember(key: string, value: string): void {
  if (value.length > CACHE_MAX_CHARS / 16) return;
  cache.set(key, value);
  cacheChars += key.length + value.length;
  while (cache.size > CACHE_MAX_ENTRIES || cacheChars > CACHE_MAX_CHARS) {
    const [oldKey, oldValue] = cache.entries().next().value!;
    cache.delete(oldKey);
    cacheChars -= oldKey.length + oldValue.length;
  }
}

// ---------------------------------------------------------------- rendering

function source(tex: string): string {
  return `<code class="math-src">${escapeHtml(tex)}</code>`;
}

function renderMath(tex: string, displayMode: boolean): string {
  const key = (displayMode ? 'D' : 'I') + tex;
  const hit = cached(key);
  if (hit !== undefined) return hit;
  let out: string;
  try {
    // Parse errors come back as KaTeX's escaped red error span; anything else (e.g. stack overflow) is caught.
    out = katex.renderToString(tex, {
      throwOnError: false, displayMode, output: 'htmlAndMathml', strict: 'ignore', trust: false, maxSize: 10, maxExpand: 1000,
    });
  } catch {
    out = source(tex);
  }
  remember(key, out);
  return out;
}

function renderRuns(text: string, allowDisplay: boolean): string {
  let out = '';
  let budget = MAX_TEX_PER_TEXT;
  for (const run of splitMath(text)) {
    if (run.kind === 'text') out += escapeHtml(run.text);
    else if (run.tex.length > MAX_TEX_CHARS || run.tex.length > budget) out += source(run.tex);
    else {
      budget -= run.tex.length;
      out += renderMath(run.tex, allowDisplay && run.display);
    }
  }
  return out;
}

/** Text with math rendered in place; `$$…$$` and `\[…\]` as display math. Newlines are kept as they are. */
export function renderTextWithMath(text: string): SafeHtml {
  return new SafeHtml(renderRuns(text, true));
}

/** For titles: every math run inline, no paragraphs. */
export function renderInline(text: string): SafeHtml {
  return new SafeHtml(renderRuns(text, false));
}

/** For abstracts: one `<p>` per paragraph (paragraphs are separated by blank lines, as stored by ingest). */
export function renderAbstract(text: string): SafeHtml {
  const paras = text.replace(/\r\n?/g, '\n').split(/\n[ \t]*\n/).map((p) => p.trim()).filter(Boolean);
  return new SafeHtml(paras.map((p) => `<p>${renderRuns(p, true)}</p>`).join('\n'));
}

/**
 * Absolute path of `katex/dist`, for the web server to serve under `/static/katex/`.
 * Pages need `katex.min.css` and the `fonts/` directory beside it (the CSS loads `fonts/KaTeX_*.woff2`,
 * with `.woff`/`.ttf` fallbacks, by relative URL). No JavaScript is needed. Output is HTML for the eye plus MathML for screen readers (`htmlAndMathml`).
 * The current CSP already allows this: fonts are same-origin, and KaTeX's inline `style` attributes need
 * `style-src 'unsafe-inline'`.
 */
export function katexAssetsDir(): string {
  return path.join(path.dirname(createRequire(import.meta.url).resolve('katex/package.json')), 'dist');
}
