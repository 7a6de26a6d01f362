/**
 * The admin area's pages: plain server-rendered tables and SVG charts, no JavaScript. Every chart
 * comes with a sentence in words and its numbers as a table (in a <details>), and every address is
 * masked. Tables turn into labelled stacks on a phone (admin.css), so nothing scrolls sideways.
 */
import { maskAddress } from '../../digest/address.ts';
import type { OutboxEntry } from '../../digest/mailer.ts';
import type { DigestStatus, OutboxRow } from '../../store/digests.ts';
import type { IngestRunDetail } from '../../store/ingest-runs.ts';
import type { JobRow } from '../../store/jobs.ts';
import type { SubscriberStatus } from '../../store/subscribers.ts';
import { barChart, lineChart } from '../chart.ts';
import { html, raw, type SafeHtml } from '../html.ts';
import type { PageContext } from './layout.ts';

export const ADMIN_TABS = [
  { href: '/admin', label: 'Overview' },
  { href: '/admin/ingest', label: 'Ingest' },
  { href: '/admin/digests', label: 'Digests' },
  { href: '/admin/subscribers', label: 'Subscribers' },
  { href: '/admin/outbox', label: 'Outbox' },
] as const;

const n = (v: number): string => v.toLocaleString('en-US');

/** `2026-08-22T07:00:12.345Z` → `2026-08-22 07:00 UTC` in a <time>; anything else as given (escaped). */
export function when(iso: string | null | undefined): SafeHtml {
  if (!iso) return html`<span class="meta">–</span>`;
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return html`${iso}`;
  const d = new Date(t).toISOString();
  return html`<time datetime="${d}">${d.slice(0, 10)} ${d.slice(11, 16)} UTC</time>`;
}

/** 95_000 ms → "1 min 35 s"; days for long spans. */
export function duration(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
  return `${Math.floor(s / 86_400)} d${Math.floor((s % 86_400) / 3600) ? ` ${Math.floor((s % 86_400) / 3600)} h` : ''}`;
}

const GOOD = new Set(['ok', 'sent', 'confirmed']);
const BAD = new Set(['failed', 'failing', 'hard', 'complaint']);

/** A status as a word with a shape as well as a colour (never colour alone). */
export function badge(status: string): SafeHtml {
  const kind = GOOD.has(status) ? 'good' : BAD.has(status) ? 'bad' : 'neutral';
  const mark = kind === 'good' ? '✓' : kind === 'bad' ? '✕' : '•';
  return html`<span class="badge badge-${kind}"><span aria-hidden="true">${mark}</span> ${status}</span>`;
}

export interface Column<T> {
  label: string;
  cell: (row: T) => SafeHtml | string | number;
  /** Right-aligned numbers. */
  num?: boolean;
}

/** A table with a caption; each cell carries its column name for the stacked phone layout. */
export function table<T>(caption: string, columns: readonly Column<T>[], rows: readonly T[], opts: { empty?: string; captionHidden?: boolean } = {}): SafeHtml {
  if (!rows.length) return html`<p class="notice">${opts.empty ?? 'Nothing yet.'}</p>`;
  // Explicit roles: the phone layout displays the rows as blocks, which would otherwise drop the
  // table's semantics in some browsers.
  return html`<table class="admin-table" role="table">
<caption${opts.captionHidden ? raw(' class="visually-hidden"') : ''}>${caption}</caption>
<thead role="rowgroup"><tr role="row">${columns.map((c) => html`<th scope="col" role="columnheader"${c.num ? raw(' class="num"') : ''}>${c.label}</th>`)}</tr></thead>
<tbody role="rowgroup">${rows.map((r) => html`<tr role="row">${columns.map((c) => {
    const v = c.cell(r);
    // One wrapper per cell: the phone layout's grid then has exactly two items, label and value.
    return html`<td role="cell" data-label="${c.label}"${c.num ? raw(' class="num"') : ''}><div>${typeof v === 'number' ? n(v) : v}</div></td>`;
  })}</tr>`)}</tbody>
</table>`;
}

/** The admin sub-navigation and the sign-out button. */
function adminNav(ctx: PageContext, signOut: boolean): SafeHtml {
  const here = (href: string) => (href === '/admin' ? ctx.path === '/admin' || ctx.path === '/admin/' : ctx.path === href || ctx.path.startsWith(`${href}/`));
  return html`<div class="admin-bar"><nav class="tabs" aria-label="Admin"><ul>${ADMIN_TABS.map(
    (t) => html`<li><a href="${t.href}"${here(t.href) ? raw(' aria-current="page"') : ''}>${t.label}</a></li>`,
  )}</ul></nav>${
    signOut
      ? html`<form method="post" action="/admin/logout" class="admin-signout"><input type="hidden" name="_csrf" value="${ctx.csrf}"><button type="submit" class="quiet">Sign out</button></form>`
      : ''
  }</div>`;
}

/** The frame of every admin page: heading, navigation, content. */
export function adminMain(ctx: PageContext, title: string, body: SafeHtml, opts: { signOut: boolean; lede?: SafeHtml | string }): SafeHtml {
  return html`<div class="admin">
<h1>${title}</h1>
${adminNav(ctx, opts.signOut)}
${opts.lede ? html`<p class="lede">${opts.lede}</p>` : ''}
${body}
</div>`;
}

/** A chart, its numbers as a table for those who cannot see it, and the sentence it stands for. */
function chartFigure(id: string, heading: string, chart: SafeHtml, summary: string, data: SafeHtml): SafeHtml {
  return html`<section class="panel" aria-labelledby="${id}">
<h2 id="${id}">${heading}</h2>
<p class="meta">${summary}</p>
<div class="chart admin-chart">${chart}</div>
<details><summary>The numbers as a table</summary>${data}</details>
</section>`;
}

function tiles(items: readonly { label: string; value: number; href?: string; tone?: 'bad' }[]): SafeHtml {
  return html`<dl class="tiles">${items.map(
    (i) => html`<div class="tile${i.tone === 'bad' && i.value > 0 ? ' tile-bad' : ''}"><dt>${i.href ? html`<a href="${i.href}">${i.label}</a>` : i.label}</dt><dd>${n(i.value)}</dd></div>`,
  )}</dl>`;
}

// ------------------------------------------------------------------ login

export function loginMain(ctx: PageContext, opts: { next: string; error?: string | undefined }): SafeHtml {
  return html`<div class="prose admin-login"><h1>Admin sign-in</h1>
${opts.error ? html`<p class="notice" role="alert">${opts.error}</p>` : ''}
<form method="post" action="/admin/login">
<input type="hidden" name="_csrf" value="${ctx.csrf}">
<input type="hidden" name="next" value="${opts.next}">
<input type="text" name="username" value="admin" autocomplete="username" class="visually-hidden" tabindex="-1" aria-hidden="true">
<p><label for="admin-token">Admin token (<code>ADMIN_TOKEN</code>)</label><br>
<input id="admin-token" type="password" name="token" required autocomplete="current-password" minlength="24" maxlength="512" spellcheck="false"></p>
<p><button type="submit">Sign in</button></p>
<p class="meta">You stay signed in on this browser for 12 hours. Scripts can send <code>Authorization: Bearer …</code> instead.</p>
</form></div>`;
}

// ------------------------------------------------------------------ overview

export interface Overview {
  now: number;
  papers: number;
  subscribers: Record<SubscriberStatus, number>;
  today: string;
  todayDigests: Record<DigestStatus, number>;
  bounces: number;
  suppressions: number;
  ingest: Record<'running' | 'ok' | 'failed', number>;
  jobs: JobRow[];
  runs: IngestRunDetail[];
}

/** Where a job stands: running, overdue by how much, or due in how long. */
function jobState(j: JobRow, now: number): SafeHtml {
  const until = j.locked_until ? Date.parse(j.locked_until) : NaN;
  if (j.locked_by && Number.isFinite(until) && until > now) return html`running since ${when(j.last_started_at)}`;
  const next = Date.parse(j.next_run_at);
  if (!Number.isFinite(next)) return html`${j.next_run_at}`;
  return next <= now ? html`<strong>overdue by ${duration(now - next)}</strong>` : html`due in ${duration(next - now)}`;
}

export function jobsTable(jobs: readonly JobRow[], now: number): SafeHtml {
  return table<JobRow>(
    'Scheduled jobs',
    [
      { label: 'Job', cell: (j) => html`<code>${j.name}</code>` },
      { label: 'Last status', cell: (j) => (j.last_status ? badge(j.last_status) : html`<span class="meta">never run</span>`) },
      { label: 'Last started', cell: (j) => when(j.last_started_at) },
      { label: 'Last finished', cell: (j) => when(j.last_finished_at) },
      { label: 'Next run', cell: (j) => jobState(j, now) },
      { label: 'Message', cell: (j) => (j.last_message ? html`<span class="error-text">${j.last_message.slice(0, 300)}</span>` : '') },
    ],
    jobs,
    { empty: 'No scheduled jobs yet: they appear once a worker with the scheduler has started.', captionHidden: true },
  );
}

export function overviewMain(ctx: PageContext, o: Overview, signOut: boolean): SafeHtml {
  const subs = o.subscribers;
  const d = o.todayDigests;
  return adminMain(
    ctx,
    'Admin',
    html`<h2 class="visually-hidden">Counts</h2>
${tiles([
  { label: 'Papers', value: o.papers },
  { label: 'Confirmed subscribers', value: subs.confirmed, href: '/admin/subscribers' },
  { label: 'Pending sign-ups', value: subs.pending, href: '/admin/subscribers' },
  { label: 'Failing addresses', value: subs.failing, href: '/admin/subscribers', tone: 'bad' },
  { label: 'Suppressed', value: o.suppressions, href: '/admin/subscribers#suppressions' },
  { label: 'Bounces', value: o.bounces, href: '/admin/subscribers#bounces', tone: 'bad' },
  { label: 'Failed ingest runs', value: o.ingest.failed, href: '/admin/ingest?status=failed', tone: 'bad' },
])}
<section aria-labelledby="today-title"><h2 id="today-title">Digests for ${o.today}</h2>
${tiles([
  { label: 'Sent', value: d.sent, href: '/admin/outbox?status=sent' },
  { label: 'Pending', value: d.pending + d.sending, href: '/admin/outbox?status=pending' },
  { label: 'Failed', value: d.failed, href: '/admin/outbox?status=failed', tone: 'bad' },
  { label: 'Skipped', value: d.skipped, href: '/admin/outbox?status=skipped' },
])}
<p class="meta"><a href="/admin/digests">Digests per day</a></p></section>
<section aria-labelledby="jobs-title"><h2 id="jobs-title">Scheduler</h2>${jobsTable(o.jobs, o.now)}</section>
<section aria-labelledby="runs-title"><h2 id="runs-title">Latest ingest runs</h2>${runsTable(o.runs, { caption: 'Latest ingest runs', now: o.now })}
<p class="meta"><a href="/admin/ingest">All ingest runs</a></p></section>`,
    { signOut },
  );
}

// ------------------------------------------------------------------ ingest

function runErrors(r: IngestRunDetail): SafeHtml {
  const msg = r.message ? html`<span class="error-text">${r.message.slice(0, 500)}</span>` : '';
  if (!r.errors.length) return html`${msg}`;
  return html`${msg}<details><summary>${n(r.errors.length)} error${r.errors.length === 1 ? '' : 's'}</summary><ul class="errors">${r.errors.map(
    (e) => html`<li><code>${e.where.slice(0, 200)}</code> ${e.reason.slice(0, 500)}</li>`,
  )}</ul></details>`;
}

export function runsTable(runs: readonly IngestRunDetail[], opts: { caption: string; now?: number }): SafeHtml {
  return table<IngestRunDetail>(
    opts.caption,
    [
      { label: 'Run', cell: (r) => `#${r.id}`, num: true },
      { label: 'Source', cell: (r) => html`<code>${r.source}</code>` },
      { label: 'Status', cell: (r) => badge(r.status) },
      { label: 'Started', cell: (r) => when(r.startedAt) },
      {
        label: 'Took',
        cell: (r) => {
          const a = Date.parse(r.startedAt);
          const b = r.finishedAt ? Date.parse(r.finishedAt) : opts.now ?? NaN;
          return Number.isFinite(a) && Number.isFinite(b) ? `${duration(b - a)}${r.finishedAt ? '' : ' so far'}` : '–';
        },
      },
      { label: 'Read', cell: (r) => r.read, num: true },
      { label: 'New', cell: (r) => r.new, num: true },
      { label: 'Updated', cell: (r) => r.updated, num: true },
      { label: 'Skipped', cell: (r) => r.skipped, num: true },
      { label: 'Errors', cell: runErrors },
    ],
    runs,
    { empty: 'No ingest runs yet.', captionHidden: true },
  );
}

export const RUN_FILTERS = [
  { value: '', label: 'All' },
  { value: 'failed', label: 'Failed' },
  { value: 'running', label: 'Running' },
  { value: 'ok', label: 'OK' },
] as const;

function filterTabs(label: string, path: string, filters: readonly { value: string; label: string }[], current: string, keep: Record<string, string> = {}): SafeHtml {
  const href = (status: string) => {
    const q = new URLSearchParams(Object.entries({ ...keep, status }).filter(([, v]) => v)).toString();
    return q ? `${path}?${q}` : path;
  };
  return html`<nav class="filters-nav" aria-label="${label}"><ul>${filters.map(
    (f) => html`<li><a href="${href(f.value)}"${f.value === current ? raw(' aria-current="page"') : ''}>${f.label}</a></li>`,
  )}</ul></nav>`;
}

/** Previous / next for admin lists (the filters kept). */
function adminPager(path: string, filters: Record<string, string>, page: number, hasNext: boolean): SafeHtml {
  const at = (p: number) => {
    const q = new URLSearchParams(Object.entries(filters).filter(([, v]) => v));
    if (p > 1) q.set('page', String(p));
    const s = q.toString();
    return s ? `${path}?${s}` : path;
  };
  if (page <= 1 && !hasNext) return html``;
  return html`<nav class="pager" aria-label="Pages">
${page > 1 ? html`<a href="${at(page - 1)}" rel="prev">← Newer</a>` : html`<span></span>`}
<span class="meta">Page ${page}</span>
${hasNext ? html`<a href="${at(page + 1)}" rel="next">Older →</a>` : html`<span></span>`}
</nav>`;
}

export function ingestMain(ctx: PageContext, v: { runs: IngestRunDetail[]; counts: Record<'running' | 'ok' | 'failed', number>; status: string; page: number; hasNext: boolean; now: number }, signOut: boolean): SafeHtml {
  const c = v.counts;
  return adminMain(
    ctx,
    'Ingest runs',
    html`${filterTabs('Which runs', '/admin/ingest', RUN_FILTERS, v.status)}
${runsTable(v.runs, { caption: 'Ingest runs, newest first', now: v.now })}
${adminPager('/admin/ingest', { status: v.status }, v.page, v.hasNext)}`,
    { signOut, lede: `${n(c.ok + c.failed + c.running)} runs: ${n(c.ok)} ok, ${n(c.failed)} failed, ${n(c.running)} running. Newest first; each keeps its first 50 errors.` },
  );
}

// ------------------------------------------------------------------ digests

export interface DigestDay {
  date: string;
  sent: number;
  failed: number;
  pending: number;
  skipped: number;
}

const SHORT = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
const shortDay = (date: string): string => {
  const t = Date.parse(`${date}T00:00:00Z`);
  return Number.isFinite(t) ? SHORT.format(t) : date;
};

export function digestsChart(days: readonly DigestDay[]): SafeHtml {
  return barChart(
    days.map((d) => ({
      label: shortDay(d.date),
      values: [
        { key: 'sent', value: d.sent },
        { key: 'failed', value: d.failed },
        { key: 'pending', value: d.pending },
        { key: 'skipped', value: d.skipped },
      ],
    })),
    { width: 400, height: 220, title: `Digests per day, ${days[0]?.date ?? ''} to ${days.at(-1)?.date ?? ''}: sent, failed, pending, skipped` },
  );
}

export function digestsMain(ctx: PageContext, days: readonly DigestDay[], signOut: boolean): SafeHtml {
  const total = (k: keyof Omit<DigestDay, 'date'>) => days.reduce((s, d) => s + d[k], 0);
  const busiest = days.reduce<DigestDay | undefined>((a, d) => (!a || d.sent + d.failed + d.pending + d.skipped > a.sent + a.failed + a.pending + a.skipped ? d : a), undefined);
  const summary = `Over the last ${days.length} days: ${n(total('sent'))} sent, ${n(total('failed'))} failed, ${n(total('pending'))} pending, ${n(total('skipped'))} skipped${
    busiest && busiest.sent + busiest.failed + busiest.pending + busiest.skipped > 0 ? `; the busiest day was ${busiest.date}` : ''
  }.`;
  const data = table<DigestDay>(
    'Digests per issue date',
    [
      { label: 'Issue date', cell: (d) => html`<a href="/admin/outbox?date=${d.date}">${d.date}</a>` },
      { label: 'Sent', cell: (d) => d.sent, num: true },
      { label: 'Failed', cell: (d) => d.failed, num: true },
      { label: 'Pending', cell: (d) => d.pending, num: true },
      { label: 'Skipped', cell: (d) => d.skipped, num: true },
    ],
    [...days].reverse(),
  );
  return adminMain(
    ctx,
    'Digests',
    html`${chartFigure('digests-chart-title', 'Digests per day', digestsChart(days), summary, data)}
<p class="meta">One digest per subscriber and issue date (the subscriber's local date). Pending includes digests being sent right now; skipped ones had nothing new. Failed and pending rows, with their errors, are in the <a href="/admin/outbox?status=failed">outbox</a>.</p>`,
    { signOut, lede: 'Sent, failed, pending and skipped digests per issue date, the last 30 days.' },
  );
}

// ------------------------------------------------------------------ subscribers

export interface SubscriberDay {
  date: string;
  confirmed: number;
  pending: number;
  unsubscribed: number;
}

export interface SubscribersView {
  counts: Record<SubscriberStatus, number>;
  days: SubscriberDay[];
  bounces: { emailKey: string; kind: string; detail: string; createdAt: string }[];
  bounceCounts: { hard: number; soft: number; complaint: number };
  suppressions: { emailKey: string; reason: string; createdAt: string }[];
  suppressionCount: number;
}

export function subscribersChart(days: readonly SubscriberDay[]): SafeHtml {
  const series = (name: keyof Omit<SubscriberDay, 'date'>, label: string) => ({ name, label, points: days.map((d) => ({ at: `${d.date}T00:00:00Z`, value: d[name] })) });
  return lineChart([series('confirmed', 'Confirmed'), series('pending', 'Pending'), series('unsubscribed', 'Unsubscribed')], {
    width: 400,
    height: 220,
    title: `Subscribers over time, ${days[0]?.date ?? ''} to ${days.at(-1)?.date ?? ''}`,
  });
}

export function subscribersMain(ctx: PageContext, v: SubscribersView, signOut: boolean): SafeHtml {
  const c = v.counts;
  const first = v.days[0];
  const last = v.days.at(-1);
  const summary =
    first && last
      ? `From ${first.date} to ${last.date}: confirmed ${n(first.confirmed)} → ${n(last.confirmed)}, pending ${n(first.pending)} → ${n(last.pending)}, unsubscribed ${n(first.unsubscribed)} → ${n(last.unsubscribed)}.`
      : 'No subscribers yet.';
  const data = table<SubscriberDay>(
    'Subscribers at the end of each day',
    [
      { label: 'Date', cell: (d) => d.date },
      { label: 'Confirmed', cell: (d) => d.confirmed, num: true },
      { label: 'Pending', cell: (d) => d.pending, num: true },
      { label: 'Unsubscribed', cell: (d) => d.unsubscribed, num: true },
    ],
    [...v.days].reverse(),
  );
  const b = v.bounceCounts;
  return adminMain(
    ctx,
    'Subscribers',
    html`${tiles([
      { label: 'Confirmed', value: c.confirmed },
      { label: 'Pending', value: c.pending },
      { label: 'Unsubscribed', value: c.unsubscribed },
      { label: 'Failing', value: c.failing, tone: 'bad' },
    ])}
${v.days.length ? chartFigure('subs-chart-title', 'Subscribers over time', subscribersChart(v.days), summary, data) : html`<p class="notice">No subscribers yet.</p>`}
<p class="meta">Counted at the end of each day (UTC) from the subscribers as stored now: expired sign-ups and deleted subscribers are not in it.</p>
<section aria-labelledby="bounces"><h2 id="bounces">Bounces <span class="meta">(${n(b.hard)} hard, ${n(b.soft)} soft, ${n(b.complaint)} complaints)</span></h2>
${table(
  'Bounces, newest first',
  [
    { label: 'Address', cell: (x: SubscribersView['bounces'][number]) => maskAddress(x.emailKey) },
    { label: 'Kind', cell: (x) => badge(x.kind) },
    { label: 'When', cell: (x) => when(x.createdAt) },
    { label: 'Detail', cell: (x) => html`<span class="error-text">${x.detail.slice(0, 300)}</span>` },
  ],
  v.bounces,
  { empty: 'No bounces or complaints.', captionHidden: true },
)}
${b.hard + b.soft + b.complaint > v.bounces.length ? html`<p class="meta">The newest ${n(v.bounces.length)} shown; <code>paperboy bounces list</code> has them all.</p>` : ''}
</section>
<section aria-labelledby="suppressions"><h2 id="suppressions">Suppressed addresses <span class="meta">(${n(v.suppressionCount)})</span></h2>
${table(
  'Suppressed addresses, newest first',
  [
    { label: 'Address', cell: (x: SubscribersView['suppressions'][number]) => maskAddress(x.emailKey) },
    { label: 'Reason', cell: (x) => html`<span class="error-text">${x.reason.slice(0, 300)}</span>` },
    { label: 'Since', cell: (x) => when(x.createdAt) },
  ],
  v.suppressions,
  { empty: 'No suppressed addresses.', captionHidden: true },
)}
<p class="meta">Suppressed addresses get no mail. <code>paperboy bounces clear ADDRESS</code> lifts a suppression.</p>
</section>`,
    { signOut, lede: 'Confirmed, pending and unsubscribed over time; bounces and suppressions. Addresses are masked.' },
  );
}

// ------------------------------------------------------------------ outbox

export const OUTBOX_FILTERS = [
  { value: '', label: 'All' },
  { value: 'failed', label: 'Failed' },
  { value: 'pending', label: 'Pending' },
  { value: 'sending', label: 'Sending' },
  { value: 'sent', label: 'Sent' },
  { value: 'skipped', label: 'Skipped' },
] as const;

export interface OutboxView {
  rows: OutboxRow[];
  status: string;
  /** One issue date only (YYYY-MM-DD), or ''. */
  date: string;
  page: number;
  hasNext: boolean;
  /** The file outbox (no SMTP_URL), or undefined when mail goes through SMTP. */
  files: { dir: string; entries: OutboxEntry[] } | undefined;
}

export function outboxMain(ctx: PageContext, v: OutboxView, signOut: boolean): SafeHtml {
  const rows = table<OutboxRow>(
    'Digests, newest issue first',
    [
      { label: 'Issue date', cell: (r) => r.issueDate },
      { label: 'To', cell: (r) => maskAddress(r.email) },
      { label: 'Status', cell: (r) => badge(r.status) },
      { label: 'Attempts', cell: (r) => r.attempts, num: true },
      { label: 'Sent / next try', cell: (r) => (r.sentAt ? when(r.sentAt) : r.status === 'pending' ? when(r.nextAttemptAt) : '–') },
      { label: 'Last error', cell: (r) => (r.lastError ? html`<span class="error-text">${r.lastError.slice(0, 300)}</span>` : '') },
    ],
    v.rows,
    { empty: `No ${v.status ? `${v.status} ` : ''}digests${v.date ? ` for ${v.date}` : ''}.`, captionHidden: true },
  );
  const files = v.files
    ? html`<section aria-labelledby="files-title"><h2 id="files-title">Mail files</h2>
<p class="meta">Mail written to ${v.files.dir} (no SMTP_URL is set). Newest first.</p>
${v.files.entries.length ? '' : html`<p class="notice">No mail yet. Subscribe on the home page, or run <code>paperboy digest run --date YYYY-MM-DD</code>.</p>`}
<ul class="outbox-files">${v.files.entries.map(
        (e) => html`<li><a href="/admin/outbox/${e.day}/${e.name}">${e.day} · ${e.name}</a> <span class="meta">${e.bytes.toLocaleString('en-US')} bytes</span> · <a href="/admin/outbox/${e.day}/${e.name}?view=html">view<span class="visually-hidden"> ${e.name}</span></a></li>`,
      )}</ul></section>`
    : html`<p class="meta">Mail goes out through SMTP (SMTP_URL), so no copies are kept as files.</p>`;
  return adminMain(
    ctx,
    'Outbox',
    html`<section aria-labelledby="rows-title"><h2 id="rows-title">Digests${v.date ? ` for ${v.date}` : ''}</h2>
${v.date ? html`<p class="meta"><a href="/admin/outbox">All issue dates</a></p>` : ''}
${filterTabs('Which digests', '/admin/outbox', OUTBOX_FILTERS, v.status, { date: v.date })}
${rows}
${adminPager('/admin/outbox', { status: v.status, date: v.date }, v.page, v.hasNext)}</section>
${files}`,
    { signOut, lede: 'Every digest row with its state and last error; addresses masked.' },
  );
}
