import type { StoredPaper } from '../../store/papers.ts';
import { html, raw, type SafeHtml } from '../html.ts';
import { renderInline } from '../latex.ts';
import type { PageContext } from './layout.ts';

export const paperHref = (key: string): string => `/paper/${encodeURIComponent(key)}`;
export const authorHref = (name: string): string => `/author/${encodeURIComponent(name)}`;
export const categoryHref = (cat: string): string => `/category/${encodeURIComponent(cat)}`;

const DATE = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });

/** 2026-08-03… → "3 Aug 2026" (empty for a missing or invalid date). */
export function day(iso: string | null | undefined): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  return Number.isFinite(t) ? DATE.format(t) : '';
}

export function dateTag(iso: string | null | undefined): SafeHtml {
  const d = day(iso);
  return d ? html`<time datetime="${iso!.slice(0, 10)}">${d}</time>` : html``;
}

export function authorList(authors: readonly string[], max = 6): SafeHtml {
  const shown = authors.slice(0, max).map((a) => html`<a href="${authorHref(a)}">${a}</a>`);
  const more = authors.length > max ? html` and ${authors.length - max} more` : '';
  return html`${shown.map((a, i) => html`${i ? ', ' : ''}${a}`)}${more}`;
}

export function categoryTags(categories: readonly string[], max = 4): SafeHtml {
  return html`<span class="tags">${categories.slice(0, max).map((c) => html`<a class="tag" href="${categoryHref(c)}">${c}</a>`)}</span>`;
}

const LINK_LABELS: Record<string, string> = { abs: 'arXiv', pdf: 'PDF', code: 'Code', project: 'Project page', doi: 'DOI', hf: 'Hugging Face' };
const LINK_ORDER = ['abs', 'pdf', 'code', 'project', 'doi', 'hf'];

/** Outbound links: only http(s) URLs are ever linked. */
/** What a card shows of a paper (a stored paper or a search result). */
export type CardPaper = Pick<StoredPaper, 'key' | 'title' | 'authors' | 'categories' | 'submittedAt' | 'links'>;

export function paperLinks(p: CardPaper, max = 4): SafeHtml {
  const seen = new Set<string>();
  const links = [...p.links]
    .filter((l) => /^https?:\/\//i.test(l.url) && LINK_LABELS[l.kind] && !seen.has(l.kind) && seen.add(l.kind))
    .sort((a, b) => LINK_ORDER.indexOf(a.kind) - LINK_ORDER.indexOf(b.kind))
    .slice(0, max);
  if (!links.length) return html``;
  return html`<ul class="links">${links.map(
    (l) => html`<li><a href="${l.url}" rel="nofollow noopener"${l.kind === 'abs' || l.kind === 'pdf' ? '' : raw(' target="_blank"')}>${LINK_LABELS[l.kind]}<span class="visually-hidden"> for ${p.title}</span></a></li>`,
  )}</ul>`;
}

/** A vote button: a real form (works without JavaScript), sent in the background when it can be. */
export function voteButton(ctx: PageContext, p: { key: string; title: string }, votes: number, voted: boolean, back: string): SafeHtml {
  return html`<form class="vote-form" method="post" action="/vote" data-api="/api/papers/${encodeURIComponent(p.key)}/vote">
<input type="hidden" name="_csrf" value="${ctx.csrf}">
<input type="hidden" name="paper" value="${p.key}">
<input type="hidden" name="action" value="${voted ? 'down' : 'up'}">
<input type="hidden" name="back" value="${back}">
<button type="submit" aria-pressed="${voted ? 'true' : 'false'}"><span aria-hidden="true">▲</span><span class="count">${votes}</span><span class="visually-hidden">${voted ? 'Withdraw your vote' : 'Vote for this paper'}: ${p.title}</span></button>
</form>`;
}

export interface CardOptions {
  rank?: number | undefined;
  votes?: number | undefined;
  voted?: boolean | undefined;
  why?: string | undefined;
  /** Snippet HTML (already escaped, with <mark>). */
  snippet?: string | undefined;
  back: string;
  headingLevel?: 2 | 3;
}

export function paperCard(ctx: PageContext, p: CardPaper, o: CardOptions): SafeHtml {
  const title = html`<a href="${paperHref(p.key)}">${renderInline(p.title)}</a>`;
  const heading = o.headingLevel === 3 ? html`<h3>${title}</h3>` : html`<h2>${title}</h2>`;
  return html`<li class="paper">
<div class="vote">${voteButton(ctx, p, o.votes ?? 0, o.voted ?? false, o.back)}${o.rank ? html`<span class="rank">#${o.rank}</span>` : ''}</div>
<article>
${heading}
<p class="meta">${authorList(p.authors)}</p>
<p class="meta">${dateTag(p.submittedAt)}${p.submittedAt && p.categories.length ? ' · ' : ''}${categoryTags(p.categories)}</p>
${o.why ? html`<p class="why">${o.why}</p>` : ''}
${o.snippet ? html`<p class="snippet">${raw(o.snippet)}</p>` : ''}
${paperLinks(p)}
</article>
</li>`;
}

/** Previous / next links that keep the other query parameters. */
export function pager(path: string, params: URLSearchParams, page: number, hasNext: boolean): SafeHtml {
  const at = (n: number) => {
    const q = new URLSearchParams(params);
    if (n <= 1) q.delete('page');
    else q.set('page', String(n));
    const s = q.toString();
    return s ? `${path}?${s}` : path;
  };
  if (page <= 1 && !hasNext) return html``;
  return html`<nav class="pager" aria-label="Pages">
${page > 1 ? html`<a href="${at(page - 1)}" rel="prev">← Previous</a>` : html`<span></span>`}
<span class="meta">Page ${page}</span>
${hasNext ? html`<a href="${at(page + 1)}" rel="next">Next →</a>` : html`<span></span>`}
</nav>`;
}

export function feedLinks(base: string, query: string, label: string): SafeHtml {
  const q = query ? `?${query}` : '';
  return html`<p class="feeds">Follow ${label} in a feed reader: <a href="${base}.rss${q}">RSS</a> · <a href="${base}.atom${q}">Atom</a> · <a href="${base}.json${q}">JSON Feed</a></p>`;
}
