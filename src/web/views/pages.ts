import { compact, WINDOW_LABELS, WINDOWS, type TrendingPage } from '../../ranking/trending.ts';
import type { TrendingWeights } from '../../ranking/score.ts';
import type { SearchAnswer } from '../../search/service.ts';
import type { PaperCard, StoredPaper } from '../../store/papers.ts';
import type { TrendingRow } from '../../store/trending.ts';
import { signalChart } from '../chart.ts';
import { html, raw, type SafeHtml } from '../html.ts';
import { renderAbstract, renderInline } from '../latex.ts';
import { authorList, categoryTags, day, feedLinks, pager, paperCard, paperHref, paperLinks, voteButton, type CardPaper } from './components.ts';
import type { PageContext } from './layout.ts';

export interface Votes {
  counts: Map<number, number>;
  mine: Set<number>;
}

// ------------------------------------------------------------------ home

export function homeMain(ctx: PageContext, page: TrendingPage, votes: Votes, opts: { pageNo: number; fellBack: boolean }): SafeHtml {
  const span =
    page.from && page.to
      ? html`<p class="lede">Papers that drew attention from ${day(page.from)} to ${day(page.to)}, by points. ${page.total.toLocaleString('en-US')} papers.</p>`
      : page.window === 'trending'
        ? html`<p class="lede">Points from votes here, Hugging Face upvotes and GitHub stars, halved every ${'day'} of age. <a href="/about#ranking">How ranking works</a>.</p>`
        : page.window === 'new'
          ? html`<p class="lede">Newest first: ${page.total.toLocaleString('en-US')} papers.</p>`
          : html`<p class="lede">All time, by points.</p>`;
  const back = opts.pageNo > 1 ? `/?window=${page.window}&page=${opts.pageNo}` : page.window === 'trending' ? '/' : `/?window=${page.window}`;
  const params = new URLSearchParams(page.window === 'trending' ? {} : { window: page.window });
  return html`<h1 class="visually-hidden">${WINDOW_LABELS[page.window]} papers</h1>
<nav class="tabs" aria-label="Which papers"><ul>${WINDOWS.map(
    (w) => html`<li><a href="${w === 'trending' ? '/' : `/?window=${w}`}"${w === page.window ? raw(' aria-current="page"') : ''}>${WINDOW_LABELS[w]}</a></li>`,
  )}</ul></nav>
${opts.fellBack ? html`<p class="notice">Nothing is trending yet: no votes or imported signals. Here are the newest papers.</p>` : span}
${page.items.length ? '' : html`<p class="notice">No papers here yet.</p>`}
<ol class="papers">${page.items.map((it) =>
    paperCard(ctx, it.paper, {
      rank: it.rank,
      votes: votes.counts.get(it.paper.id) ?? it.stats.votes,
      voted: votes.mine.has(it.paper.id),
      why: it.why,
      back,
    }),
  )}</ol>
${pager('/', params, opts.pageNo, page.offset + page.items.length < page.total)}
${feedLinks('/feeds/trending', page.window === 'trending' ? '' : `window=${page.window}`, `${WINDOW_LABELS[page.window].toLowerCase()} papers`)}`;
}

// ------------------------------------------------------------------ search

export interface SearchForm {
  q: string;
  cat: string;
  since: string;
  until: string;
  code: boolean;
  mode: string;
  pageNo: number;
}

const MODE_TEXT: Record<string, string> = {
  keyword: 'keyword search',
  hybrid: 'keyword and meaning (hybrid)',
  vector: 'search by meaning',
  id: 'arXiv id',
  filters: 'filters only',
};

export interface SearchCard {
  paper: CardPaper;
  /** Internal id, for votes. */
  id: number | undefined;
  snippet: string;
}

export function searchMain(
  ctx: PageContext,
  form: SearchForm,
  answer: SearchAnswer | null,
  cards: readonly SearchCard[],
  votes: Votes,
  params: URLSearchParams,
  categories: readonly string[],
): SafeHtml {
  const link = (extra: Record<string, string>) => {
    const q = new URLSearchParams(params);
    q.delete('page');
    for (const [k, v] of Object.entries(extra)) {
      if (v) q.set(k, v);
      else q.delete(k);
    }
    return `/search?${q.toString()}`;
  };
  const back = `/search?${params.toString()}`;
  const head = html`<h1>Search</h1>
<form class="search-form" method="get" action="/search" role="search">
<div class="searchbar">
<label class="visually-hidden" for="q">Words, "phrases", author:"Name", cat:cs.CV, since:2025-01-01, has:code</label>
<input id="q" type="search" name="q" value="${form.q}" maxlength="500" placeholder='e.g. jetson yolo int8, author:"Song Han"'>
<button type="submit">Search</button>
</div>
<div class="filters">
<label>Category <select name="cat"><option value="">Any</option>${categories.map(
    (c) => html`<option value="${c}"${c === form.cat ? raw(' selected') : ''}>${c}</option>`,
  )}${form.cat && !categories.includes(form.cat) ? html`<option value="${form.cat}" selected>${form.cat}</option>` : ''}</select></label>
<label>Since <input type="date" name="since" value="${form.since}"></label>
<label>Until <input type="date" name="until" value="${form.until}"></label>
<label class="check"><input type="checkbox" name="code" value="1"${form.code ? raw(' checked') : ''}> With code</label>
<label>Match <select name="mode">${['auto', 'keyword', 'hybrid', 'vector'].map(
    (m) => html`<option value="${m}"${m === form.mode ? raw(' selected') : ''}>${m === 'auto' ? 'Best available' : m === 'vector' ? 'Meaning' : m[0]!.toUpperCase() + m.slice(1)}</option>`,
  )}</select></label>
<button type="submit" class="quiet">Apply</button>
</div>
</form>`;
  if (!answer) {
    return html`${head}<div class="prose"><p>Search titles, abstracts and authors. The query language:</p>
<ul><li><code>jetson yolo int8</code>: every word, ranked (long questions: any word)</li>
<li><code>"exact phrase"</code>, <code>-exclude</code>, <code>trans*</code></li>
<li><code>author:"Song Han"</code>, <code>cat:cs.CV</code>, <code>since:2025-01-01</code>, <code>until:2025-06</code>, <code>has:code</code></li>
<li>an arXiv id or URL goes straight to the paper</li></ul></div>`;
  }
  const mode = MODE_TEXT[answer.mode] ?? answer.mode;
  const total = `${answer.total.toLocaleString('en-US')}${answer.totalCapped ? '+' : ''}`;
  const facets = answer.facets;
  return html`${head}
<div class="layout">
<section aria-labelledby="results-title">
<h2 id="results-title" class="meta" aria-live="polite">${total} ${answer.total === 1 ? 'paper' : 'papers'} · ${mode}${answer.match === 'or' ? ' (any of the words)' : ''}</h2>
${answer.ignored.length ? html`<p class="notice">${answer.ignored.join(' · ')}</p>` : ''}
${answer.vector && !answer.vector.available && form.mode !== 'keyword' ? html`<p class="meta">Search by meaning is off on this instance: ${answer.vector.reason ?? 'no embedding model'}.</p>` : ''}
<ol class="papers">${cards.map((c) =>
    paperCard(ctx, c.paper, {
      votes: c.id !== undefined ? (votes.counts.get(c.id) ?? 0) : 0,
      voted: c.id !== undefined && votes.mine.has(c.id),
      snippet: c.snippet,
      back,
      headingLevel: 3,
    }),
  )}</ol>
${pager('/search', params, form.pageNo, answer.offset + answer.results.length < answer.total)}
<p class="feeds"><a href="/subscribe?${new URLSearchParams({ topic: answer.query }).toString()}">Email me this search daily</a></p>
${feedLinks('/feeds/search', new URLSearchParams({ q: answer.query }).toString(), 'this search')}
</section>
<aside class="facets" aria-label="Refine">
${facets.categories.length ? html`<h2>Categories</h2><ul>${facets.categories.slice(0, 12).map((c) => html`<li><a href="${link({ cat: c.value })}">${c.value}</a><span class="n">${c.count}</span></li>`)}</ul>` : ''}
${facets.years.length ? html`<h2>Years</h2><ul>${facets.years.slice(0, 10).map((y) => html`<li><a href="${link({ since: `${y.value}-01-01`, until: `${y.value}-12-31` })}">${y.value}</a><span class="n">${y.count}</span></li>`)}</ul>` : ''}
${facets.hasCode ? html`<h2>Code</h2><ul><li><a href="${link({ code: '1' })}">With code</a><span class="n">${facets.hasCode}</span></li></ul>` : ''}
${facets.categories.length ? html`<p class="meta">Counts cover the top ${Math.min(200, answer.total)} results.</p>` : ''}
</aside>
</div>`;
}

// ------------------------------------------------------------------ paper

export interface PaperView {
  paper: StoredPaper;
  stats: TrendingRow | undefined;
  votes: { total: number; recent: number };
  voted: boolean;
  decayed: number;
  weights: TrendingWeights;
  signals: { name: string; value: number; observedAt: string }[];
  similar: { method: string; results: PaperCard[] };
}

const count = (n: number, one: string) => `${compact(n)} ${n === 1 ? one : `${one}s`}`;

const SIGNAL_LABELS: Record<string, string> = { hf_upvotes: 'Hugging Face upvotes', github_stars: 'GitHub stars', hf_comments: 'Comments' };

export function paperMain(ctx: PageContext, v: PaperView): SafeHtml {
  const p = v.paper;
  const s = v.stats;
  const w = v.weights;
  const series = Object.entries(SIGNAL_LABELS)
    .map(([name, label]) => ({ name, label, points: v.signals.filter((x) => x.name === name).map((x) => ({ at: x.observedAt, value: x.value })) }))
    .filter((x) => x.points.length > 0);
  // A chart needs a history: with one observation per signal the numbers above say it all.
  const chart = series.some((x) => x.points.length > 1);
  const versions = p.versions.length > 1 ? html` · ${p.versions.length} versions, latest ${day(p.updatedAt)}` : '';
  const back = paperHref(p.key);
  return html`<article class="paper-page">
<p class="meta"><a href="/">← Trending</a></p>
<h1>${renderInline(p.title)}</h1>
<p class="meta">${authorList(p.authors, 30)}</p>
<p class="meta">${p.arxivId ? html`arXiv:${p.arxivId} · ` : ''}${p.submittedAt ? html`submitted ${day(p.submittedAt)}` : ''}${versions} ${categoryTags(p.categories, 10)}</p>
<div class="actions">
<div class="vote">${voteButton(ctx, p, v.votes.total, v.voted, back)}</div>
${paperLinks(p, 6)}
</div>
<section class="abstract" aria-label="Abstract">${p.abstract ? renderAbstract(p.abstract) : html`<p class="meta">No abstract.</p>`}</section>
${p.comments ? html`<p class="meta">Comments: ${p.comments}</p>` : ''}
${p.journalRef ? html`<p class="meta">Published in: ${p.journalRef}</p>` : ''}
<section class="panel" aria-labelledby="why-title">
<h2 id="why-title">Why it ranks here</h2>
<dl>
<dt>Votes here</dt><dd><span data-votes>${v.votes.total}</span> (${v.votes.recent} in the last 24 hours)</dd>
<dt>Hugging Face</dt><dd>${s ? `${count(s.upvotes, 'upvote')}, ${count(s.comments, 'comment')}` : '–'}</dd>
<dt>GitHub</dt><dd>${s && s.stars > 0 ? `★ ${compact(s.stars)}, +${compact(s.starGrowth)} in the last week` : '–'}</dd>
<dt>Points</dt><dd>${s ? html`${s.points.toFixed(1)} = ${w.vote}×votes + ${w.upvote}×upvotes + ${w.comment}×comments + ${w.star}×log₂(1+stars) + ${w.starGrowth}×star growth` : 'not scored yet'}</dd>
<dt>Trending since</dt><dd>${s ? day(s.trendingAt) : '–'}</dd>
<dt>Worth now</dt><dd>${s ? `${v.decayed.toFixed(1)} points after decay (half-life ${w.halfLifeHours} h)` : '–'}</dd>
</dl>
<p class="meta"><a href="/about#ranking">How ranking works</a></p>
</section>
${chart ? html`<section class="panel" aria-labelledby="signals-title"><h2 id="signals-title">Signals over time</h2><div class="chart">${signalChart(series, { title: `Signals for ${p.title.slice(0, 200)}` })}</div></section>` : ''}
${v.similar.results.length ? html`<section aria-labelledby="similar-title"><h2 id="similar-title">Similar papers</h2>
<p class="meta">${v.similar.method === 'vector' ? 'Nearest by meaning (embeddings).' : 'By shared distinctive words (more like this).'}</p>
<ol class="similar">${v.similar.results.map((x) => html`<li><a href="${paperHref(x.key)}">${renderInline(x.title)}</a> <span class="meta">${x.authors.slice(0, 3).join(', ')}${x.authors.length > 3 ? ' et al.' : ''}</span></li>`)}</ol></section>` : ''}
</article>`;
}

// ------------------------------------------------------------------ author, category

export function listMain(ctx: PageContext, title: SafeHtml | string, lede: SafeHtml | string, papers: StoredPaper[], votes: Votes, nav: { path: string; pageNo: number; hasNext: boolean; back: string }, feeds?: SafeHtml): SafeHtml {
  return html`<h1>${title}</h1><p class="lede">${lede}</p>
${papers.length ? '' : html`<p class="notice">No papers found.</p>`}
<ol class="papers">${papers.map((p) => paperCard(ctx, p, { votes: votes.counts.get(p.id) ?? 0, voted: votes.mine.has(p.id), back: nav.back }))}</ol>
${pager(nav.path, new URLSearchParams(), nav.pageNo, nav.hasNext)}
${feeds ?? ''}`;
}

// ------------------------------------------------------------------ about

export function aboutMain(w: TrendingWeights, stats: { papers: number; trending: number }): SafeHtml {
  return html`<div class="prose">
<h1>About paperboy</h1>
<p>paperboy follows new research papers for you: it imports papers from arXiv and Hugging Face Daily Papers,
ranks what is trending, lets you search by keyword and by meaning, and emails a daily digest.
This instance holds ${stats.papers.toLocaleString('en-US')} papers, ${stats.trending.toLocaleString('en-US')} of them with points.</p>
<h2 id="ranking">How ranking works</h2>
<p>Each paper earns <strong>points</strong> from what people did with it:</p>
<pre><code>points = ${w.vote} × votes here
       + ${w.upvote} × Hugging Face upvotes
       + ${w.comment} × comments
       + ${w.star} × log₂(1 + GitHub stars)
       + ${w.starGrowth} × stars gained in the last 7 days</code></pre>
<p>and <strong>Trending</strong> sorts by points decayed with age, a gravity formula of the Hacker News and Lobsters family:</p>
<pre><code>hot = log₂(1 + points) + (hours since 1970 at the paper's trending date) / ${w.halfLifeHours}</code></pre>
<p>Sorting by <code>hot</code> is sorting by <code>(1 + points) × 2<sup>−age / ${w.halfLifeHours} h</sup></code>: every
${w.halfLifeHours} hours a paper's points count half as much, so a paper a day older needs twice the points to rank level.
A paper's trending date is when it first drew attention (its first imported signal), else its submission date.
The score is stored and recomputed on every vote and every new signal, and hourly for everything;
<code>paperboy trending --recompute</code> rebuilds it all. Only papers with points are trending; the <em>New</em> tab lists every paper.</p>
<p><em>Today</em>, <em>This week</em> and <em>This month</em> list papers whose trending date falls in the last 1, 7 or 30 days
(ending at the newest activity, when the collection is not current), by points. <em>Top</em> is all time.</p>
<p>Each paper page shows why it ranks where it does: its votes (and how many in the last 24 hours), upvotes,
stars and their growth, its points and what they are worth today.</p>
<p>Operators can change the weights with <code>PAPERBOY_TRENDING_WEIGHTS</code> (e.g. <code>vote=2,upvote=1,comment=0.5,star=0.5,star_growth=0.1</code>)
and the half-life with <code>PAPERBOY_TRENDING_HALF_LIFE_HOURS</code>.</p>
<h2 id="votes">Votes</h2>
<p>One vote per person per paper; press the button again to withdraw it. A person is this browser (an anonymous,
signed cookie) or, later, a confirmed subscriber. Votes are rate limited.</p>
<h2 id="search">Search</h2>
<p>Keyword search uses BM25 over titles, abstracts and authors, with English stemming. Search by meaning uses
text embeddings when the instance has an embedding model. See the <a href="/search">search page</a> for the query language.</p>
<h2 id="feeds">Feeds and API</h2>
<p>Every list and every search has RSS, Atom and JSON feeds (links at the bottom of each list).
The JSON API is described by <a href="/api/openapi.json">an OpenAPI document</a>.</p>
</div>`;
}

export function messageMain(title: string, body: SafeHtml | string): SafeHtml {
  return html`<div class="prose"><h1>${title}</h1><p>${body}</p><p><a href="/">Back to trending papers</a></p></div>`;
}

export { day };
