import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { escapeHtml } from './html.ts';
import { katexAssetsDir, renderAbstract, renderInline, renderTextWithMath, splitMath } from './latex.ts';

// ---------------------------------------------------------------- a strict check of the markup produced

// HTML for the eye, and MathML (KaTeX's htmlAndMathml output) for screen readers.
const MATHML = ['math', 'semantics', 'annotation', 'mrow', 'mi', 'mo', 'mn', 'ms', 'mtext', 'mspace', 'msup', 'msub', 'msubsup', 'mfrac', 'msqrt', 'mroot', 'mover', 'munder', 'munderover', 'mtable', 'mtr', 'mtd', 'mstyle', 'mpadded', 'mphantom', 'menclose', 'merror', 'mlabeledtr'];
const TAGS = new Set(['p', 'code', 'span', 'svg', 'path', 'line', ...MATHML]);
const MATHML_ATTRS = ['display', 'encoding', 'mathvariant', 'stretchy', 'fence', 'separator', 'lspace', 'rspace', 'accent', 'accentunder', 'linethickness', 'columnalign', 'rowspacing', 'columnspacing', 'depth', 'voffset', 'mathcolor', 'mathbackground', 'minsize', 'maxsize', 'scriptlevel', 'displaystyle', 'notation', 'movablelimits', 'symmetric', 'largeop', 'form', 'columnlines', 'rowlines', 'frame', 'framespacing', 'mathsize', 'linebreak'];
const ATTRS = new Set(['class', 'style', 'aria-hidden', 'title', 'xmlns', 'width', 'height', 'viewBox', 'preserveAspectRatio', 'd', 'stroke-width', ...MATHML_ATTRS]);
const TAG = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)((?:\s+[a-zA-Z][a-zA-Z0-9-]*="[^"<>]*")*)\s*(\/?)>/y;
const ATTR = /\s+([a-zA-Z][a-zA-Z0-9-]*)="([^"]*)"/g;

/**
 * Every `<` in the output must open an allow-listed tag with allow-listed, double-quoted attributes, and tags
 * must balance (so nothing a paper says can leave an element open). Text never contains a raw `<`.
 */
function assertSafe(out: string, input = ''): void {
  const why = `input ${JSON.stringify(input.slice(0, 200))} gave ${out.slice(0, 300)}`;
  assert.doesNotMatch(out, /<script|<img|<a[\s>]|<iframe/i, why);
  const stack: string[] = [];
  for (let i = out.indexOf('<'); i >= 0; i = out.indexOf('<', i + 1)) {
    TAG.lastIndex = i;
    const m = TAG.exec(out);
    assert.ok(m, `unparseable markup at ${i}: ${out.slice(i, i + 80)}; ${why}`);
    const [, close, name, attrs, selfClose] = m;
    assert.ok(TAGS.has(name!), `tag ${name}; ${why}`);
    for (const [, attr, value] of attrs!.matchAll(ATTR)) {
      assert.ok(ATTRS.has(attr!), `attribute ${attr}; ${why}`);
      if (attr === 'style') assert.match(value!, /^[a-z0-9:;.#%\s-]*$/i, why);
      if (attr === 'class') assert.match(value!, /^[\w\s-]*$/, why);
    }
    if (selfClose) continue;
    if (close) assert.equal(stack.pop(), name, `unbalanced </${name}>; ${why}`);
    else stack.push(name!);
  }
  assert.deepEqual(stack, [], `unclosed tags; ${why}`);
}

function katexCount(out: string): number {
  return out.match(/<span class="katex">/g)?.length ?? 0;
}

// ---------------------------------------------------------------- splitting

test('splitMath finds the four delimiter kinds', () => {
  assert.deepEqual(splitMath('a $x$ b $$y$$ c \\(z\\) d \\[w\\]'), [
    { kind: 'text', text: 'a ' }, { kind: 'math', tex: 'x', display: false },
    { kind: 'text', text: ' b ' }, { kind: 'math', tex: 'y', display: true },
    { kind: 'text', text: ' c ' }, { kind: 'math', tex: 'z', display: false },
    { kind: 'text', text: ' d ' }, { kind: 'math', tex: 'w', display: true },
  ]);
});

test('escaped, unmatched and empty delimiters are text', () => {
  const plain = (s: string, want = s) => assert.deepEqual(splitMath(s), [{ kind: 'text', text: want }], s);
  plain('costs \\$5', 'costs $5');
  plain('costs \\$5 and \\$10', 'costs $5 and $10');
  plain('a $ b');
  plain('$$x');
  plain('$$x$');
  plain('open \\( never closed');
  plain('open \\[ never closed');
  plain('a $ $ b');
  plain('\\) and \\] alone');
  plain('50\\% of \\cite{x}');
  // An escaped dollar inside math does not close it.
  assert.deepEqual(splitMath('$\\text{\\$}5$'), [{ kind: 'math', tex: '\\text{\\$}5', display: false }]);
  // `\\` is a TeX line break, so the dollar after it is an opener.
  assert.deepEqual(splitMath('\\\\$x$'), [{ kind: 'text', text: '\\\\' }, { kind: 'math', tex: 'x', display: false }]);
});

// ---------------------------------------------------------------- realistic arXiv text

test('inline math in an arXiv sentence', () => {
  const out = renderTextWithMath('We achieve $O(n \\log n)$ time and $\\alpha$-divergence').value;
  assert.ok(out.startsWith('We achieve <span class="katex">'), out);
  assert.ok(out.includes('</span> time and <span class="katex">'), out);
  assert.ok(out.endsWith('</span>-divergence'), out);
  assert.equal(katexCount(out), 2);
  assert.ok(out.includes('<span class="mop">lo'), 'operator name rendered');
  assert.ok(!out.includes('$'));
  assertSafe(out);
});

test('display math: display in text, inline in titles', () => {
  const display = renderTextWithMath('$$\\sum_i x_i$$').value;
  assert.ok(display.includes('katex-display'), display);
  assertSafe(display);
  const title = renderInline('Bounds on $$\\sum_i x_i$$ and \\[y\\]').value;
  assert.ok(!title.includes('katex-display'), title);
  assert.equal(katexCount(title), 2);
  assertSafe(title);
  assert.equal(katexCount(renderInline('\\(x^2\\) in a title').value), 1);
});

test('plain dollars and HTML characters stay text', () => {
  assert.equal(renderTextWithMath('costs \\$5').value, 'costs $5');
  assert.equal(renderTextWithMath('a $ b').value, 'a $ b');
  assert.equal(renderTextWithMath('$$ unbalanced').value, '$$ unbalanced');
  assert.equal(renderTextWithMath('Tom & Jerry <3 "quotes"').value, 'Tom &amp; Jerry &lt;3 &quot;quotes&quot;');
});

test('abstracts: one paragraph per blank line; math never spans paragraphs', () => {
  assert.equal(renderAbstract('First.\n\nSecond <b>.\n \n\nThird.').value, '<p>First.</p>\n<p>Second &lt;b&gt;.</p>\n<p>Third.</p>');
  assert.equal(renderAbstract('a $x\n\ny$ b').value, '<p>a $x</p>\n<p>y$ b</p>');
  assert.equal(renderAbstract('').value, '');
  const out = renderAbstract('We bound $\\|x\\|_2$.\r\n\r\nThen $$\\int_0^1 f$$ holds.').value;
  assert.equal(out.match(/<p>/g)?.length, 2);
  assert.equal(katexCount(out), 2);
  assertSafe(out);
});

test('broken LaTeX never throws and never breaks the page', () => {
  for (const tex of ['\\frac{a', 'x^', '\\begin{align} x', '}}}', '\\unknowncommand{x}', '\\def\\a{\\a\\a}\\a', '\\color{red" onclick="x}{y}']) {
    const out = renderTextWithMath(`before $${tex}$ after`).value;
    assert.ok(out.startsWith('before ') && out.endsWith(' after'), out);
    assertSafe(out, tex);
  }
  assert.ok(renderTextWithMath('$\\frac{a$').value.includes('katex-error'));
});

test('long math runs are shown as escaped source', () => {
  const tex = `${'x+'.repeat(600)}<y>`;
  const out = renderTextWithMath(`see $${tex}$ here`).value;
  assert.equal(out, `see <code class="math-src">${escapeHtml(tex)}</code> here`);
});

// ---------------------------------------------------------------- hostile input

test('trust is off: links, HTML extensions and raw HTML in math are inert', () => {
  const hostile = [
    '$\\href{javascript:alert(1)}{x}$',
    '$\\url{javascript:alert(1)}$',
    '\\(\\href{JavaScript:alert(1)}{click}\\)',
    '$$\\htmlStyle{background:url(javascript:alert(1))}{x}$$',
    '$\\htmlClass{evil}{x}$ $\\htmlId{evil}{x}$ $\\htmlData{onclick=alert(1)}{x}$',
    '$\\includegraphics{https://evil.example/x.png}$',
    '<script>alert(1)</script>',
    '$<script>alert(1)</script>$',
    '$<img src=x onerror=alert(1)>$',
    '<img src=x onerror=alert(1)>',
    '$\\text{<img src=x onerror=alert(1)>}$',
    '$"><svg onload=alert(1)>$',
    '$\\verb|<script>|$',
    '$\\color{javascript:alert(1)}{x}$',
    '$\\rule{1000em}{1000em}$',
  ];
  for (const input of hostile) {
    for (const out of [renderTextWithMath(input).value, renderInline(input).value, renderAbstract(input).value]) {
      assertSafe(out, input);
      // No attacker-chosen word reaches a class, id or style.
      assert.doesNotMatch(out, /class="[^"]*evil|id=|style="[^"]*(url|javascript)/i, out);
    }
  }
  // Outside math, markup is plain escaped text.
  assert.equal(renderTextWithMath('<script>alert(1)</script>').value, '&lt;script&gt;alert(1)&lt;/script&gt;');
});

test('deep nesting, huge inputs and many unmatched openers stay fast and safe', () => {
  const started = performance.now();
  const cases = [
    `$${'{'.repeat(450)}x${'}'.repeat(450)}$`,
    `$${'{'.repeat(50_000)}x${'}'.repeat(50_000)}$`,
    `$${'\\sqrt{'.repeat(140)}x${'}'.repeat(140)}$`,
    '\\('.repeat(50_000),
    '\\['.repeat(50_000),
    '$$ '.repeat(30_000),
    `${'a '.repeat(50_000)}$`,
    '$\\alpha$ and '.repeat(8_000),
    // Many distinct heavy expressions: the per-text budget turns the rest into source.
    Array.from({ length: 200 }, (_, i) => `$${'\\sqrt{'.repeat(100)}${i}${'}'.repeat(100)}$`).join(' '),
  ];
  for (const input of cases) {
    const out = renderAbstract(input).value;
    assertSafe(out, input);
  }
  const heavy = renderTextWithMath(cases.at(-1)!).value;
  assert.ok(heavy.includes('math-src'), 'budget exhausted');
  assert.ok(performance.now() - started < 4000, `took ${performance.now() - started} ms`);
});

test('repeated expressions are served from the cache', () => {
  const text = 'Let $\\mathcal{L}(\\theta) = \\mathbb{E}[\\ell]$ be the loss. ';
  const first = renderTextWithMath(text).value;
  const started = performance.now();
  for (let i = 0; i < 2000; i++) assert.equal(renderTextWithMath(text).value, first);
  assert.ok(performance.now() - started < 500);
});

// ---------------------------------------------------------------- properties

const PIECES = ['$', '$$', '\\', '\\(', '\\)', '\\[', '\\]', '{', '}', '<', '>', '&', '"', "'", '=', ' ', '\n', '\n\n', 'x', '^', '_', '1',
  'javascript:', 'onerror=', 'onload', '<script>', '<img src=x ', '\\href', '\\url', '\\htmlClass', '\\htmlStyle', '\\text', '\\frac', '\\def', '\\verb|', '%'];

const DELIMS = [['$', '$'], ['$$', '$$'], ['\\(', '\\)'], ['\\[', '\\]']] as const;
const piece = fc.constantFrom(...PIECES);
/** Loose pieces, and pieces already wrapped in delimiters, so that most inputs reach KaTeX. */
const segment = fc.oneof(
  piece,
  fc.tuple(fc.constantFrom(...DELIMS), fc.array(piece, { minLength: 1, maxLength: 12 })).map(([[a, b], inner]) => a + inner.join('') + b),
);

test('property: any mix of delimiters and markup characters gives safe, balanced markup', () => {
  fc.assert(
    fc.property(fc.array(segment, { maxLength: 12 }), (segments) => {
      const input = segments.join('');
      assertSafe(renderTextWithMath(input).value, input);
      assertSafe(renderInline(input).value, input);
      assertSafe(renderAbstract(input).value, input);
    }),
    { numRuns: 400 },
  );
});

test('property: text without math openers is exactly the escaped text', () => {
  const noMath = fc.string({ unit: fc.constantFrom('\\', '(', '[', ')', ']', '{', '}', '<', '>', '&', '"', "'", 'a', ' ', '\n', 'é', '😀') })
    .filter((s) => !s.includes('\\(') && !s.includes('\\['));
  fc.assert(
    fc.property(noMath, (s) => {
      assert.equal(renderTextWithMath(s).value, escapeHtml(s));
      assert.equal(renderInline(s).value, escapeHtml(s));
    }),
    { numRuns: 500 },
  );
});

// ---------------------------------------------------------------- assets

test('katexAssetsDir points at the CSS and fonts to serve', () => {
  const dir = katexAssetsDir();
  assert.ok(path.isAbsolute(dir));
  assert.ok(existsSync(path.join(dir, 'katex.min.css')));
  assert.ok(existsSync(path.join(dir, 'fonts', 'KaTeX_Main-Regular.woff2')));
});
