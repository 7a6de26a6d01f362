/**
 * Small server-rendered inline SVG charts: no JavaScript, no dependencies.
 *
 * Every chart is one `<svg role="img">` whose `<title>` and `<desc>` say in words what the
 * picture shows, so a screen reader (or a text browser) gets the same facts as the eye.
 * Colours come from `currentColor` plus class names; the small stylesheet embedded in each
 * chart maps those classes to CSS custom properties, with a `prefers-color-scheme: dark`
 * palette. A page can restyle a series with `--chart-0` … `--chart-5`, or by `data-series`
 * / `data-key`. The `viewBox` plus `width="100%"` lets the chart shrink to a 375 px screen;
 * a max-width stops the text from growing huge on a wide one.
 */
import { html, raw, SafeHtml } from './html.ts';

export interface SignalPoint {
  /** ISO date or date-time. Date-times without a zone are read by `Date.parse` as local time. */
  at: string;
  value: number;
}
export interface SignalSeries {
  /** A stable key, e.g. `hf_upvotes`; exposed as `data-series` for styling. */
  name: string;
  /** What a reader sees, e.g. "Hugging Face upvotes". May be hostile: it is always escaped. */
  label: string;
  points: readonly SignalPoint[];
}
export interface Bar {
  label: string;
  values: readonly { key: string; value: number }[];
}
export interface ChartOptions {
  width?: number;
  height?: number;
  title?: string;
}

/** Values beyond ±10^15 are clamped: no counter gets there, and it keeps every sum finite. */
const LIMIT = 1e15;
const PALETTE_SIZE = 6;
const FONT_SIZE = 11;
/** A rough average glyph width at FONT_SIZE, for truncating labels: SVG text cannot be measured server-side. */
const CHAR_W = 6.2;
const EMPTY = new SafeHtml('');

// Trusted constant. Must stay free of `<` and `&` so the SVG remains well-formed XML.
const CSS = raw(
  '.pb-chart{display:block;height:auto;' +
    '--pb-c0:#0b57d0;--pb-c1:#b3261e;--pb-c2:#146c2e;--pb-c3:#7b3fc4;--pb-c4:#9a5700;--pb-c5:#00707a}' +
    '@media (prefers-color-scheme:dark){.pb-chart{' +
    '--pb-c0:#8ab4f8;--pb-c1:#f2b8b5;--pb-c2:#81c995;--pb-c3:#d0bcff;--pb-c4:#fdc98b;--pb-c5:#80deea}}' +
    '.pb-chart .pb-muted{color:var(--muted,currentColor)}' +
    '.pb-chart .pb-grid{color:var(--line,rgba(128,128,128,.35))}' +
    Array.from({ length: PALETTE_SIZE }, (_, i) => `.pb-chart .pb-c${i}{color:var(--chart-${i},var(--pb-c${i}))}`).join(''),
);

// ---------------------------------------------------------------------------------------------
// Sanitising and formatting

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
/** One decimal is plenty for coordinates and keeps the markup short. */
const r1 = (v: number): number => Math.round(v * 10) / 10;

function dimension(v: number | undefined, fallback: number, lo: number, hi: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.round(clamp(v, lo, hi)) : fallback;
}

/** A finite number within ±LIMIT, or null for NaN, ±Infinity and non-numbers. */
function cleanValue(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? clamp(v, -LIMIT, LIMIT) : null;
}

/**
 * Text safe to put in XML once escaped: lone surrogates become U+FFFD, and C0 controls
 * (other than tab/newline), DEL and the non-characters U+FFFE/U+FFFF, which XML forbids, are dropped.
 */
function cleanText(s: unknown): string {
  // eslint-disable-next-line no-control-regex
  return String(s ?? '').toWellFormed().replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uFFFE\uFFFF]/g, '');
}

/** Cut to `max` code points (never inside a surrogate pair), with an ellipsis. */
function truncate(s: string, max: number): string {
  const cps = Array.from(s);
  return cps.length <= max ? s : cps.slice(0, Math.max(1, max - 1)).join('') + '…';
}

const UNITS = ['', 'k', 'M', 'B', 'T'] as const;

/** Compact numbers for labels: 999, 1.2k, 12.5k, 120k, 1M, -3.4B; small fractions keep two decimals. */
export function formatCompact(v: number): string {
  if (!Number.isFinite(v)) return '–';
  const sign = v < 0 ? '-' : '';
  let a = Math.abs(v);
  for (let u = 0; ; u++) {
    const last = u === UNITS.length - 1;
    const decimals = u === 0 ? (Number.isInteger(a) ? 0 : a < 10 ? 2 : 1) : a < 100 ? 1 : 0;
    const rounded = Number(a.toFixed(decimals));
    if (rounded === 0) return '0';
    // 999.96 rounds to 1000: say "1k" rather than "1000".
    if (rounded < 1000 || last) return `${sign}${rounded}${UNITS[u]}`;
    a /= 1000;
  }
}

/** Full numbers for the text description: a screen reader says "12,345" better than "12.3k". */
const FULL = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

function formatFull(v: number): string {
  return FULL.format(v);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "2 Aug 2026", or "2 Aug 2026 14:05 UTC" when the chart spans less than a day. Always UTC. */
function formatDate(t: number, withTime: boolean): string {
  const d = new Date(t);
  const day = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
  if (!withTime) return day;
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${day} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}

/** FNV-1a: a deterministic id, so identical input renders identical markup (and tests are stable). */
function hash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}

function frame(kind: string, width: number, height: number, title: string, desc: string, body: SafeHtml): SafeHtml {
  const id = `pb-chart-${hash(`${kind}\n${width}x${height}\n${title}\n${desc}\n${body.value}`)}`;
  // max-width ≈ 1.5× the design size: text stays near 11-16 px from a phone to a desktop column.
  return html`<svg xmlns="http://www.w3.org/2000/svg" class="pb-chart pb-chart-${kind}" role="img" aria-labelledby="${id}-t" aria-describedby="${id}-d" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMinYMin meet" style="max-width:${Math.round(width * 1.5)}px" font-family="system-ui, sans-serif" font-size="${FONT_SIZE}"><title id="${id}-t">${title}</title><desc id="${id}-d">${desc}</desc><style>${CSS}</style>${body}</svg>`;
}

function text(x: number, y: number, content: string, attrs: { anchor?: 'start' | 'middle' | 'end'; cls?: string; bold?: boolean } = {}): SafeHtml {
  return html`<text x="${r1(x)}" y="${r1(y)}"${attrs.anchor && attrs.anchor !== 'start' ? html` text-anchor="${attrs.anchor}"` : ''}${attrs.cls ? html` class="${attrs.cls}"` : ''}${attrs.bold ? raw(' font-weight="600"') : ''} fill="currentColor">${content}</text>`;
}

function hline(x1: number, x2: number, y: number): SafeHtml {
  return html`<line class="pb-grid" x1="${r1(x1)}" x2="${r1(x2)}" y1="${r1(y)}" y2="${r1(y)}" stroke="currentColor" stroke-width="1" vector-effect="non-scaling-stroke"/>`;
}

// ---------------------------------------------------------------------------------------------
// Signals over time

interface CleanSeries {
  name: string;
  label: string;
  pts: { t: number; v: number }[];
}

/**
 * The series as drawn: points with a parseable date and a finite value (raised to `floor` when
 * given), sorted by date (stable: equal timestamps keep their input order); series left with no
 * points are dropped; labels cleaned, falling back to the name, then `Series N`.
 */
function cleanSeries(series: readonly SignalSeries[], floor?: number): CleanSeries[] {
  const clean: CleanSeries[] = [];
  for (const [i, s] of series.entries()) {
    const pts: { t: number; v: number }[] = [];
    for (const p of s.points) {
      const t = Date.parse(String(p.at));
      const v = cleanValue(p.value);
      if (Number.isFinite(t) && v !== null) pts.push({ t, v: floor === undefined ? v : Math.max(floor, v) });
    }
    if (pts.length === 0) continue;
    pts.sort((a, b) => a.t - b.t);
    const name = cleanText(s.name);
    clean.push({ name, label: cleanText(s.label).trim() || name || `Series ${i + 1}`, pts });
  }
  return clean;
}

function describeSeries(s: CleanSeries, withTime: boolean): string {
  const d = (t: number): string => formatDate(t, withTime);
  const first = s.pts[0]!;
  const last = s.pts[s.pts.length - 1]!;
  if (s.pts.length === 1) return `${s.label} was ${formatFull(first.v)} on ${d(first.t)}`;
  let out =
    last.v === first.v
      ? `${s.label} stayed at ${formatFull(first.v)} from ${d(first.t)} to ${d(last.t)}`
      : `${s.label} ${last.v > first.v ? 'rose' : 'fell'} from ${formatFull(first.v)} on ${d(first.t)} to ${formatFull(last.v)} on ${d(last.t)}`;
  // Mention a peak or a dip only when it lies outside the two ends: otherwise the sentence already says it.
  const hi = s.pts.reduce((a, b) => (b.v > a.v ? b : a));
  const lo = s.pts.reduce((a, b) => (b.v < a.v ? b : a));
  if (hi.v > first.v && hi.v > last.v) out += `, peaking at ${formatFull(hi.v)} on ${d(hi.t)}`;
  if (lo.v < first.v && lo.v < last.v) out += `, dipping to ${formatFull(lo.v)} on ${d(lo.t)}`;
  return out;
}

/**
 * A compact line chart of a paper's signals over time.
 *
 * Layout: small multiples, one row per series, each with its own y scale (labelled with its
 * min and max) and all sharing one time axis. Signals differ by orders of magnitude
 * (12,000 GitHub stars next to 7 votes here): on a shared scale the small ones would be a
 * flat line on the floor, and a normalised overlay would draw lines whose crossings mean
 * nothing. Separate rows show each signal's shape honestly while the shared x axis still
 * lines up *when* things happened. The x position is the actual date, not the point's index.
 *
 * Non-finite values and unparseable dates are dropped; values are clamped to ±10^15;
 * points are sorted by date. A series left with no points is skipped; with none at all the
 * result is empty. A series with one point is drawn as a dot.
 */
export function signalChart(series: readonly SignalSeries[], opts: ChartOptions = {}): SafeHtml {
  const clean = cleanSeries(series);
  if (clean.length === 0) return EMPTY;

  const W = dimension(opts.width, 400, 240, 2000);
  const TOP = 4;
  const AXIS = 20; // the date labels under the last row
  const rowH =
    typeof opts.height === 'number' && Number.isFinite(opts.height) ? clamp((opts.height - TOP - AXIS) / clean.length, 48, 240) : 64;
  const H = Math.ceil(TOP + clean.length * rowH + AXIS);
  const L = 48; // left gutter: min/max labels
  const R = W - 52; // right gutter: last-value labels

  let tMin = Infinity;
  let tMax = -Infinity;
  for (const s of clean) {
    tMin = Math.min(tMin, s.pts[0]!.t);
    tMax = Math.max(tMax, s.pts[s.pts.length - 1]!.t);
  }
  // Dates alone would print the same day twice for a chart spanning hours.
  const withTime = tMax > tMin && formatDate(tMin, false) === formatDate(tMax, false);
  const xOf = (t: number): number => (tMax === tMin ? (L + R) / 2 : L + ((t - tMin) / (tMax - tMin)) * (R - L));

  const rows = clean.map((s, i) => {
    const top = TOP + i * rowH;
    const py0 = top + 24; // plot top: below the series heading
    const py1 = top + rowH - 8; // plot bottom
    let vMin = Infinity;
    let vMax = -Infinity;
    for (const p of s.pts) {
      vMin = Math.min(vMin, p.v);
      vMax = Math.max(vMax, p.v);
    }
    const yOf = (v: number): number => (vMax === vMin ? (py0 + py1) / 2 : py1 - ((v - vMin) / (vMax - vMin)) * (py1 - py0));
    const coords = s.pts.map((p) => `${r1(xOf(p.t))},${r1(yOf(p.v))}`).join(' ');
    const last = s.pts[s.pts.length - 1]!;
    const lx = xOf(last.t);
    const ly = yOf(last.v);
    const colour = `pb-c${i % PALETTE_SIZE}`;
    const scale =
      vMax === vMin
        ? text(L - 6, (py0 + py1) / 2 + 4, formatCompact(vMax), { anchor: 'end', cls: 'pb-muted' })
        : html`${text(L - 6, py0 + 4, formatCompact(vMax), { anchor: 'end', cls: 'pb-muted' })}${text(L - 6, py1 + 4, formatCompact(vMin), { anchor: 'end', cls: 'pb-muted' })}`;
    return html`<g class="pb-series" data-series="${s.name}">${text(4, top + 13, truncate(s.label, Math.floor((W - 8) / CHAR_W)), { bold: true })}${hline(L, R, py1)}${scale}<g class="${colour}">${
      s.pts.length > 1
        ? html`<polyline points="${coords}" fill="none" stroke="currentColor" stroke-width="1.75" stroke-linejoin="round" stroke-linecap="round" vector-effect="non-scaling-stroke"/>`
        : ''
    }<circle cx="${r1(lx)}" cy="${r1(ly)}" r="${s.pts.length > 1 ? 2.5 : 3.5}" fill="currentColor"/>${text(lx + 6, ly + 4, formatCompact(last.v), { bold: true })}</g></g>`;
  });

  const axisY = H - 6;
  const dates =
    tMax === tMin
      ? text((L + R) / 2, axisY, formatDate(tMin, false), { anchor: 'middle', cls: 'pb-muted' })
      : html`${text(L, axisY, formatDate(tMin, withTime), { cls: 'pb-muted' })}${text(R, axisY, formatDate(tMax, withTime), { anchor: 'end', cls: 'pb-muted' })}`;

  const title = cleanText(opts.title ?? '').trim() || 'Signals over time';
  const desc = `${clean.map((s) => describeSeries(s, withTime)).join('. ')}.`;
  return frame('signals', W, H, title, desc, html`${rows}${dates}`);
}

// ---------------------------------------------------------------------------------------------
// Stacked bars

/**
 * A stacked bar chart with a legend, e.g. digests per day split into sent/failed/pending.
 * Bars keep their input order; keys are stacked bottom-up in order of first appearance and
 * coloured in that order (restyle one with `[data-key="failed"]`). Values that are negative,
 * non-finite or not numbers count as 0; a key repeated within a bar is summed.
 * All bars share one scale from 0 to the largest total. An empty list renders nothing.
 */
export function barChart(bars: readonly Bar[], opts: ChartOptions = {}): SafeHtml {
  if (bars.length === 0) return EMPTY;
  const keys: string[] = [];
  const rows = bars.map((b, i) => {
    const vals = new Map<string, number>();
    for (const { key, value } of b.values) {
      const k = cleanText(key);
      if (!vals.has(k) && !keys.includes(k)) keys.push(k);
      const v = cleanValue(value);
      vals.set(k, clamp((vals.get(k) ?? 0) + (v !== null && v > 0 ? v : 0), 0, LIMIT));
    }
    const total = keys.reduce((sum, k) => sum + (vals.get(k) ?? 0), 0);
    return { label: cleanText(b.label).trim() || `Bar ${i + 1}`, vals, total };
  });
  const maxTotal = Math.max(0, ...rows.map((r) => r.total));

  const W = dimension(opts.width, 400, 200, 2000);

  // Legend: swatch + key, wrapping onto further lines.
  const legend: SafeHtml[] = [];
  let lx = 4;
  let lineNo = 0;
  for (const [i, key] of keys.entries()) {
    const shown = truncate(key || '(none)', 24);
    const itemW = 14 + Array.from(shown).length * CHAR_W + 14;
    if (lx > 4 && lx + itemW > W - 4) {
      lx = 4;
      lineNo++;
    }
    const y = 12 + lineNo * 16;
    legend.push(
      html`<g class="pb-c${i % PALETTE_SIZE}" data-key="${key}"><rect x="${r1(lx)}" y="${y - 9}" width="10" height="10" rx="2" fill="currentColor"/></g>${text(lx + 14, y, shown)}`,
    );
    lx += itemW;
  }
  const legendH = keys.length ? (lineNo + 1) * 16 + 4 : 0;

  const plotTop = legendH + 14;
  const H = Math.max(dimension(opts.height, 200, 100, 1200), plotTop + 60);
  const plotBottom = H - 20;
  const L = 44;
  const R = W - 8;
  const slot = (R - L) / rows.length;
  const barW = Math.min(slot * 0.72, 48); // a lone bar should not fill the chart
  const yOf = (c: number): number => (maxTotal > 0 ? Math.max(plotTop, plotBottom - (c / maxTotal) * (plotBottom - plotTop)) : plotBottom);

  const maxLabels = Math.max(1, Math.floor((R - L) / 56));
  const step = Math.ceil(rows.length / maxLabels);
  const barsSvg = rows.map((row, i) => {
    const x = r1(L + i * slot + (slot - barW) / 2);
    const w = r1(barW);
    let cum = 0;
    const segs = keys.map((k, ki) => {
      const v = row.vals.get(k) ?? 0;
      if (v <= 0) return '';
      // Rounded from cumulative sums, so the segments neither gap nor overlap.
      const y0 = r1(yOf(cum));
      cum += v;
      const y1 = r1(yOf(cum));
      return html`<rect class="pb-c${ki % PALETTE_SIZE}" data-key="${k}" x="${x}" y="${y1}" width="${w}" height="${r1(y0 - y1)}" fill="currentColor"/>`;
    });
    const tip = `${row.label}: ${keys.map((k) => `${k} ${formatFull(row.vals.get(k) ?? 0)}`).join(', ')}`;
    const label = i % step === 0 ? text(L + i * slot + slot / 2, H - 6, truncate(row.label, 10), { anchor: 'middle', cls: 'pb-muted' }) : '';
    return html`<g><title>${tip}</title>${segs}</g>${label}`;
  });

  const scale = html`${text(L - 6, plotTop + 4, formatCompact(maxTotal), { anchor: 'end', cls: 'pb-muted' })}${text(L - 6, plotBottom + 4, '0', { anchor: 'end', cls: 'pb-muted' })}`;

  const first = rows[0]!;
  const lastRow = rows[rows.length - 1]!;
  const highest = rows.reduce((a, b) => (b.total > a.total ? b : a));
  const span = rows.length === 1 ? `1 bar, ${first.label}` : `${rows.length} bars from ${first.label} to ${lastRow.label}`;
  const totals = keys.length
    ? `Totals: ${keys.map((k) => `${k || '(none)'} ${formatFull(rows.reduce((s, r) => s + (r.vals.get(k) ?? 0), 0))}`).join(', ')}. Highest: ${highest.label} with ${formatFull(highest.total)}.`
    : 'No values.';
  const title = cleanText(opts.title ?? '').trim() || 'Bar chart';
  return frame('bars', W, H, title, `${span}. ${totals}`, html`${legend}${hline(L, R, plotTop)}${hline(L, R, plotBottom)}${scale}${barsSvg}`);
}

// ---------------------------------------------------------------------------------------------
// Lines on one scale

/**
 * A line chart of a few series that share one y scale from 0, e.g. subscribers by status over
 * time (use `signalChart` instead when series differ by orders of magnitude). The x position is
 * the date; a legend names each series above the plot, and each line ends in its last value.
 * Non-finite values and unparseable dates are dropped; negative values are clamped to 0. A
 * series with no points is left out; with none at all the result is empty.
 */
export function lineChart(series: readonly SignalSeries[], opts: ChartOptions = {}): SafeHtml {
  const clean = cleanSeries(series, 0);
  if (clean.length === 0) return EMPTY;

  const W = dimension(opts.width, 400, 240, 2000);
  // Legend: swatch + label, wrapping like the bar chart's.
  const legend: SafeHtml[] = [];
  let lx = 4;
  let lineNo = 0;
  for (const [i, s] of clean.entries()) {
    const shown = truncate(s.label, 28);
    const itemW = 14 + Array.from(shown).length * CHAR_W + 14;
    if (lx > 4 && lx + itemW > W - 4) {
      lx = 4;
      lineNo++;
    }
    const y = 12 + lineNo * 16;
    legend.push(html`<g class="pb-c${i % PALETTE_SIZE}" data-series="${s.name}"><rect x="${r1(lx)}" y="${y - 6}" width="10" height="4" rx="1" fill="currentColor"/></g>${text(lx + 14, y, shown)}`);
    lx += itemW;
  }
  const plotTop = (lineNo + 1) * 16 + 18;
  const H = Math.max(dimension(opts.height, 200, 100, 1200), plotTop + 60);
  const plotBottom = H - 20;
  const L = 44;
  const R = W - 40; // room for the last values

  let tMin = Infinity;
  let tMax = -Infinity;
  let vMax = 0;
  for (const s of clean) {
    tMin = Math.min(tMin, s.pts[0]!.t);
    tMax = Math.max(tMax, s.pts[s.pts.length - 1]!.t);
    for (const p of s.pts) vMax = Math.max(vMax, p.v);
  }
  const withTime = tMax > tMin && formatDate(tMin, false) === formatDate(tMax, false);
  const xOf = (t: number): number => (tMax === tMin ? (L + R) / 2 : L + ((t - tMin) / (tMax - tMin)) * (R - L));
  const yOf = (v: number): number => (vMax > 0 ? plotBottom - (v / vMax) * (plotBottom - plotTop) : plotBottom);

  // Last-value labels of lines ending close together are nudged apart (12 px), top to bottom.
  const ends = clean.map((s, i) => ({ i, y: yOf(s.pts[s.pts.length - 1]!.v) })).sort((a, b) => a.y - b.y);
  for (let k = 1; k < ends.length; k++) ends[k]!.y = Math.max(ends[k]!.y, ends[k - 1]!.y + 12);
  const labelY = new Map(ends.map((e) => [e.i, e.y]));

  const lines = clean.map((s, i) => {
    const coords = s.pts.map((p) => `${r1(xOf(p.t))},${r1(yOf(p.v))}`).join(' ');
    const last = s.pts[s.pts.length - 1]!;
    return html`<g class="pb-series pb-c${i % PALETTE_SIZE}" data-series="${s.name}">${
      s.pts.length > 1
        ? html`<polyline points="${coords}" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round" stroke-linecap="round" vector-effect="non-scaling-stroke"/>`
        : ''
    }<circle cx="${r1(xOf(last.t))}" cy="${r1(yOf(last.v))}" r="${s.pts.length > 1 ? 2.5 : 3.5}" fill="currentColor"/>${text(R + 6, (labelY.get(i) ?? yOf(last.v)) + 4, formatCompact(last.v), { bold: true })}</g>`;
  });

  const axisY = H - 6;
  const dates =
    tMax === tMin
      ? text((L + R) / 2, axisY, formatDate(tMin, false), { anchor: 'middle', cls: 'pb-muted' })
      : html`${text(L, axisY, formatDate(tMin, withTime), { cls: 'pb-muted' })}${text(R, axisY, formatDate(tMax, withTime), { anchor: 'end', cls: 'pb-muted' })}`;
  const scale = html`${text(L - 6, plotTop + 4, formatCompact(vMax), { anchor: 'end', cls: 'pb-muted' })}${text(L - 6, plotBottom + 4, '0', { anchor: 'end', cls: 'pb-muted' })}`;

  const title = cleanText(opts.title ?? '').trim() || 'Line chart';
  const desc = `${clean.map((s) => describeSeries(s, withTime)).join('. ')}.`;
  return frame('lines', W, H, title, desc, html`${legend}${hline(L, R, plotTop)}${hline(L, R, plotBottom)}${scale}${lines}${dates}`);
}
