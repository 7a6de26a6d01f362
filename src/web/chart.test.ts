import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { XMLValidator } from 'fast-xml-parser';
import { barChart, formatCompact, signalChart, type Bar, type ChartOptions, type SignalSeries } from './chart.ts';

const ELEMENTS = new Set(['svg', 'title', 'desc', 'style', 'g', 'text', 'line', 'polyline', 'circle', 'rect']);
const ATTRIBUTES = new Set([
  'xmlns', 'class', 'role', 'aria-labelledby', 'aria-describedby', 'viewBox', 'width', 'height', 'preserveAspectRatio', 'style',
  'font-family', 'font-size', 'font-weight', 'id', 'x', 'y', 'x1', 'x2', 'y1', 'y2', 'cx', 'cy', 'r', 'rx', 'points',
  'fill', 'stroke', 'stroke-width', 'stroke-linejoin', 'stroke-linecap', 'vector-effect', 'text-anchor', 'data-series', 'data-key',
]);
const X_ATTRS = ['x', 'x1', 'x2', 'cx'];
const Y_ATTRS = ['y', 'y1', 'y2', 'cy'];

interface Tag {
  name: string;
  attrs: Record<string, string>;
}

function tags(svg: string): Tag[] {
  return [...svg.matchAll(/<([a-zA-Z][\w-]*)([^>]*)>/g)].map((m) => ({
    name: m[1]!,
    attrs: Object.fromEntries([...m[2]!.matchAll(/([\w:-]+)="([^"]*)"/g)].map((a) => [a[1]!, a[2]!])),
  }));
}

function finite(s: string | undefined, what: string): number {
  const n = Number(s);
  assert.ok(s !== undefined && s.trim() !== '' && Number.isFinite(n), `${what}=${String(s)} is not a finite number`);
  return n;
}

/** Well-formed XML, accessible, only known elements/attributes, and every coordinate finite and inside the viewBox. */
function assertSound(svg: string): void {
  const valid = XMLValidator.validate(svg);
  assert.equal(valid, true, valid === true ? '' : `${valid.err.msg} at ${valid.err.line}:${valid.err.col}\n${svg}`);
  // XMLValidator does not check characters: XML 1.0 forbids most C0 controls, U+FFFE/U+FFFF and lone surrogates.
  assert.ok(svg.isWellFormed(), 'lone surrogate');
  // eslint-disable-next-line no-control-regex
  assert.ok(!/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/.test(svg), 'character not allowed in XML');
  const all = tags(svg);
  const root = all[0]!;
  assert.equal(root.name, 'svg');
  assert.equal(root.attrs.role, 'img');
  assert.equal(root.attrs.width, '100%');
  const [, , w, h] = root.attrs.viewBox!.split(' ').map((v) => finite(v, 'viewBox'));
  const W = w!;
  const H = h!;
  assert.ok(W > 0 && H > 0);
  const titleId = root.attrs['aria-labelledby']!;
  const descId = root.attrs['aria-describedby']!;
  assert.ok(all.some((t) => t.name === 'title' && t.attrs.id === titleId), 'aria-labelledby points at the <title>');
  assert.ok(all.some((t) => t.name === 'desc' && t.attrs.id === descId), 'aria-describedby points at the <desc>');
  assert.match(svg, /<title id="[^"]+">[^<]+<\/title><desc id="[^"]+">[^<]+<\/desc>/);

  const inX = (v: number, what: string): void => assert.ok(v >= 0 && v <= W, `${what}=${v} outside 0..${W}`);
  const inY = (v: number, what: string): void => assert.ok(v >= 0 && v <= H, `${what}=${v} outside 0..${H}`);
  for (const t of all.slice(1)) {
    assert.ok(ELEMENTS.has(t.name), `unexpected element <${t.name}>`);
    for (const a of Object.keys(t.attrs)) assert.ok(ATTRIBUTES.has(a), `unexpected attribute ${a} on <${t.name}>`);
    for (const a of X_ATTRS) if (a in t.attrs) inX(finite(t.attrs[a], a), a);
    for (const a of Y_ATTRS) if (a in t.attrs) inY(finite(t.attrs[a], a), a);
    for (const a of ['width', 'height', 'r']) if (a in t.attrs) assert.ok(finite(t.attrs[a], a) >= 0, `${a} is negative`);
    if (t.name === 'rect') {
      inX(Number(t.attrs.x) + Number(t.attrs.width), 'x+width');
      inY(Number(t.attrs.y) + Number(t.attrs.height), 'y+height');
    }
    if (t.name === 'circle') {
      const [cx, cy, r] = [Number(t.attrs.cx), Number(t.attrs.cy), Number(t.attrs.r)];
      inX(cx - r, 'cx-r');
      inX(cx + r, 'cx+r');
      inY(cy - r, 'cy-r');
      inY(cy + r, 'cy+r');
    }
    if (t.name === 'polyline') {
      for (const pair of t.attrs.points!.split(' ')) {
        const [x, y] = pair.split(',');
        inX(finite(x, 'points.x'), 'points.x');
        inY(finite(y, 'points.y'), 'points.y');
      }
    }
    for (const a of ['fill', 'stroke']) if (a in t.attrs) assert.ok(['currentColor', 'none'].includes(t.attrs[a]!), `${a}=${t.attrs[a]}`);
  }
}

function polylineXY(svg: string, nth = 0): [number, number][] {
  const t = tags(svg).filter((x) => x.name === 'polyline')[nth]!;
  return t.attrs.points!.split(' ').map((p) => p.split(',').map(Number) as [number, number]);
}

function descOf(svg: string): string {
  return /<desc id="[^"]+">([^<]*)<\/desc>/.exec(svg)![1]!;
}

const hf = (points: [string, number][], label = 'Hugging Face upvotes'): SignalSeries => ({
  name: 'hf_upvotes',
  label,
  points: points.map(([at, value]) => ({ at, value })),
});

test('formatCompact keeps labels short', () => {
  const cases: [number, string][] = [
    [0, '0'], [-0, '0'], [7, '7'], [999, '999'], [0.25, '0.25'], [12.345, '12.3'], [999.96, '1k'], [1000, '1k'], [1234, '1.2k'],
    [12_500, '12.5k'], [120_400, '120k'], [999_600, '1M'], [1_500_000, '1.5M'], [2.5e9, '2.5B'], [7e12, '7T'], [1e15, '1000T'],
    [-3400, '-3.4k'], [-0.001, '0'], [NaN, '–'], [Infinity, '–'],
  ];
  for (const [v, want] of cases) assert.equal(formatCompact(v), want, String(v));
});

test('empty input renders nothing', () => {
  assert.equal(signalChart([]).value, '');
  assert.equal(signalChart([hf([])]).value, '');
  assert.equal(signalChart([hf([['not a date', 3], ['2026-08-02', NaN], ['2026-08-03', Infinity]])]).value, '');
  assert.equal(barChart([]).value, '');
});

test('signal chart: accessible summary in words, title and ids', () => {
  const svg = signalChart([hf([['2026-08-02', 3], ['2026-08-05', 40], ['2026-08-09', 120]])], { title: 'Signals for 2608.00001' }).value;
  assertSound(svg);
  assert.match(svg, /<title id="[^"]+">Signals for 2608.00001<\/title>/);
  assert.equal(descOf(svg), 'Hugging Face upvotes rose from 3 on 2 Aug 2026 to 120 on 9 Aug 2026.');
  // min, max and last value labels; first and last dates.
  for (const label of ['>3<', '>120<', '>2 Aug 2026<', '>9 Aug 2026<']) assert.ok(svg.includes(label), label);
  assert.equal(signalChart([hf([['2026-08-02', 3]])], {}).value, signalChart([hf([['2026-08-02', 3]])]).value, 'deterministic');
});

test('signal chart: descriptions for falling, flat, peaking and single-point series', () => {
  const svg = signalChart([
    hf([['2026-08-01', 50], ['2026-08-03', 10]], 'Votes here'),
    hf([['2026-08-01', 5], ['2026-08-03', 5]], 'Flat'),
    hf([['2026-08-01', 5], ['2026-08-02', 9000], ['2026-08-03', 1], ['2026-08-04', 7]], 'GitHub stars'),
    hf([['2026-08-02', 12345]], 'Mentions'),
  ]).value;
  assertSound(svg);
  assert.equal(
    descOf(svg),
    'Votes here fell from 50 on 1 Aug 2026 to 10 on 3 Aug 2026. Flat stayed at 5 from 1 Aug 2026 to 3 Aug 2026. ' +
      'GitHub stars rose from 5 on 1 Aug 2026 to 7 on 4 Aug 2026, peaking at 9,000 on 2 Aug 2026, dipping to 1 on 3 Aug 2026. ' +
      'Mentions was 12,345 on 2 Aug 2026.',
  );
});

test('signal chart: x is scaled by date, not by index', () => {
  const svg = signalChart([hf([['2026-08-01', 1], ['2026-08-02', 2], ['2026-08-11', 3]])]).value;
  const [a, b, c] = polylineXY(svg).map(([x]) => x);
  // Day 1 of a 10-day span sits a tenth of the way along, not half way.
  assert.ok(Math.abs((b! - a!) / (c! - a!) - 0.1) < 0.01, `${a} ${b} ${c}`);
});

test('signal chart: unsorted points are drawn and described in date order', () => {
  const svg = signalChart([hf([['2026-08-03', 5], ['2026-08-01', 1], ['2026-08-02', 3]])]).value;
  assertSound(svg);
  const xs = polylineXY(svg).map(([x]) => x);
  assert.deepEqual(xs, [...xs].sort((p, q) => p - q));
  assert.equal(descOf(svg), 'Hugging Face upvotes rose from 1 on 1 Aug 2026 to 5 on 3 Aug 2026.');
});

test('signal chart: a single point is a dot; identical timestamps stay finite with one date label', () => {
  const one = signalChart([hf([['2026-08-02', 7]])]).value;
  assertSound(one);
  assert.ok(!one.includes('<polyline'));
  assert.equal(tags(one).filter((t) => t.name === 'circle').length, 1);

  const same = signalChart([hf([['2026-08-02T10:00:00Z', 1], ['2026-08-02T10:00:00Z', 4]]), hf([['2026-08-02T10:00:00Z', 9]], 'Other')]).value;
  assertSound(same);
  const xs = polylineXY(same).map(([x]) => x);
  assert.equal(xs[0], xs[1]);
  assert.equal((same.match(/>2 Aug 2026</g) ?? []).length, 1);
});

test('signal chart: each series gets its own row and scale; a span within one day shows times', () => {
  const svg = signalChart([
    hf([['2026-08-02T08:00:00Z', 2], ['2026-08-02T20:30:00Z', 10]], 'Votes here'),
    hf([['2026-08-02T08:00:00Z', 9000], ['2026-08-02T20:30:00Z', 12000]], 'GitHub stars'),
  ]).value;
  assertSound(svg);
  const [small, big] = [polylineXY(svg, 0), polylineXY(svg, 1)];
  // Both rise across their own row's full height, although one is 1,000× the other.
  const rise = (pts: [number, number][]): number => pts[0]![1] - pts[pts.length - 1]![1];
  assert.equal(rise(small), rise(big));
  assert.ok(rise(small) > 20);
  for (const label of ['>10<', '>2<', '>12k<', '>9k<', '>2 Aug 2026 08:00 UTC<', '>2 Aug 2026 20:30 UTC<']) assert.ok(svg.includes(label), label);
});

test('hostile labels and titles are escaped', () => {
  const evil = `<script>alert("x")</script>' onload='1 & ]]>`;
  const svg = signalChart([{ name: `"><img src=x onerror=alert(1)>`, label: evil, points: [{ at: '2026-08-02', value: 1 }] }], { title: evil }).value;
  assertSound(svg);
  assert.ok(!svg.includes('<script') && !svg.includes('<img'));
  assert.ok(svg.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onload=&#39;1 &amp; ]]&gt;'));

  const bars = barChart([{ label: evil, values: [{ key: evil, value: 1 }] }], { title: evil }).value;
  assertSound(bars);
  assert.ok(!bars.includes('<script'));
});

test('dark mode: colours come from currentColor and custom properties, never hard-coded on elements', () => {
  const svg = signalChart([hf([['2026-08-02', 3], ['2026-08-03', 4]])]).value;
  assert.match(svg, /prefers-color-scheme:dark/);
  assert.match(svg, /var\(--muted,currentColor\)/);
  assert.ok(!/(fill|stroke)="(#|black|white|rgb)/i.test(svg));
});

test('bar chart: stacked segments, legend, description', () => {
  const bars: Bar[] = [
    { label: '2 Aug', values: [{ key: 'sent', value: 10 }, { key: 'failed', value: 2 }] },
    { label: '3 Aug', values: [{ key: 'sent', value: 12 }, { key: 'pending', value: 3 }] },
    { label: '4 Aug', values: [{ key: 'sent', value: 4 }, { key: 'sent', value: 1 }, { key: 'failed', value: -5 }, { key: 'pending', value: NaN }] },
  ];
  const svg = barChart(bars, { title: 'Digests per day' }).value;
  assertSound(svg);
  assert.equal(descOf(svg), '3 bars from 2 Aug to 4 Aug. Totals: sent 27, failed 2, pending 3. Highest: 3 Aug with 15.');
  for (const key of ['sent', 'failed', 'pending']) assert.ok(svg.includes(`>${key}<`), `legend ${key}`);

  const rects = tags(svg).filter((t) => t.name === 'rect' && t.attrs.height !== '10');
  const h = (i: number): number => Number(rects[i]!.attrs.height);
  // Bar 1: sent 10 + failed 2 stacked; bar 2 (15) is the full height; bar 3: sent 4+1, the negative/NaN dropped.
  assert.equal(rects.length, 5);
  assert.ok(Math.abs(h(0) / h(1) - 5) < 0.05);
  const full = h(2) + h(3);
  assert.ok(Math.abs((h(0) + h(1)) / full - 12 / 15) < 0.01);
  assert.ok(Math.abs(h(4) / full - 5 / 15) < 0.01);
  // Stacked: each segment starts where the one below ended.
  assert.equal(Number(rects[0]!.attrs.y), Number(rects[1]!.attrs.y) + h(1));
});

test('bar chart: all zero still renders a sound chart', () => {
  const svg = barChart([{ label: 'a', values: [{ key: 'sent', value: 0 }] }, { label: 'b', values: [] }]).value;
  assertSound(svg);
  assert.equal(descOf(svg), '2 bars from a to b. Totals: sent 0. Highest: a with 0.');
});

// ---------------------------------------------------------------------------------------------
// Property tests: whatever comes in, the SVG is well-formed and every coordinate is inside the viewBox.

const hostile = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('', '   ', '<script>alert(1)</script>', `"'><svg onload=alert(1)>`, '&amp; ]]> <!--', '\u0000\u0007\uD800\uFFFE', 'x'.repeat(300)),
);
const value = fc.oneof(
  fc.double(),
  fc.integer({ min: -1000, max: 1_000_000 }),
  fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, 1e308, -1e308, Number.MAX_VALUE, Number.MIN_VALUE, 1e15, 1e16),
);
const at = fc.oneof(
  fc.date().map((d) => (Number.isNaN(d.getTime()) ? 'not a date' : d.toISOString())),
  // A few fixed instants, so identical timestamps are common.
  fc.constantFrom('2026-08-02', '2026-08-02T10:00:00Z', '2026-08-09', '', 'garbage', '+275760-09-13T00:00:00.000Z'),
);
const size = fc.option(fc.oneof(fc.double(), fc.integer({ min: -10, max: 5000 })), { nil: undefined });
const options = fc.record({ width: size, height: size, title: fc.option(hostile, { nil: undefined }) }).map((o) => {
  const out: ChartOptions = {};
  if (o.width !== undefined) out.width = o.width;
  if (o.height !== undefined) out.height = o.height;
  if (o.title !== undefined) out.title = o.title;
  return out;
});

test('property: signal charts are well-formed with finite in-bounds coordinates', () => {
  const series = fc.array(
    fc.record({ name: hostile, label: hostile, points: fc.array(fc.record({ at, value }), { maxLength: 12 }) }),
    { maxLength: 5 },
  );
  fc.assert(
    fc.property(series, options, (s, o) => {
      const svg = signalChart(s, o).value;
      if (svg === '') {
        assert.ok(s.every((x) => x.points.every((p) => !Number.isFinite(Date.parse(p.at)) || !Number.isFinite(p.value))));
        return;
      }
      assertSound(svg);
    }),
    { numRuns: 300 },
  );
});

test('property: bar charts are well-formed with finite in-bounds coordinates', () => {
  const bars = fc.array(
    fc.record({ label: hostile, values: fc.array(fc.record({ key: fc.oneof(hostile, fc.constantFrom('sent', 'failed', 'pending')), value }), { maxLength: 6 }) }),
    { maxLength: 40 },
  );
  fc.assert(
    fc.property(bars, options, (b, o) => {
      const svg = barChart(b, o).value;
      if (b.length === 0) return assert.equal(svg, '');
      assertSound(svg);
    }),
    { numRuns: 300 },
  );
});
