import { html, raw, type SafeHtml } from '../html.ts';

/** What every page needs from the request: where it is, and the visitor's CSRF token for its forms. */
export interface PageContext {
  /** The request path, for aria-current in the navigation. */
  path: string;
  csrf: string;
  /** The current search, echoed in the header's search box. */
  query?: string | undefined;
  /** `inlineCss`: the site stylesheet, inlined (it is small): one round trip less before first paint. */
  assets: { css: string; inlineCss?: string | undefined; js: string; katexCss: string };
  siteName: string;
}

export interface FeedLink {
  type: 'rss' | 'atom' | 'json';
  href: string;
  title: string;
}

const FEED_MIME = { rss: 'application/rss+xml', atom: 'application/atom+xml', json: 'application/feed+json' } as const;

export interface PageOptions {
  title: string;
  description?: string | undefined;
  /** Absolute canonical URL. */
  canonical?: string | undefined;
  feeds?: readonly FeedLink[] | undefined;
  /** Pages that may show LaTeX load KaTeX's stylesheet when the page has math in it. */
  math?: boolean | undefined;
  /** Hide the subscribe box (the subscription pages themselves). */
  noPromise?: boolean | undefined;
  noindex?: boolean | undefined;
}

const NAV = [
  { href: '/', label: 'Trending' },
  { href: '/search', label: 'Search' },
  { href: '/about', label: 'About' },
] as const;

function current(path: string, href: string): string | undefined {
  if (href === '/') return path === '/' || path.startsWith('/trending') ? 'page' : undefined;
  return path === href || path.startsWith(`${href}/`) ? 'page' : undefined;
}

/** The subscribe box: the product's promise, at the top of every page. */
export function promiseBox(ctx: PageContext, opts: { query?: string | undefined } = {}): SafeHtml {
  return html`<section class="promise" aria-labelledby="promise-title"><div class="wrap">
<p id="promise-title">Get trending papers in your email inbox once a day!</p>
<form method="post" action="/subscribe">
<input type="hidden" name="_csrf" value="${ctx.csrf}">
<input type="hidden" name="timezone" value="">
${opts.query ? html`<input type="hidden" name="topic" value="${opts.query}">` : ''}
<label class="visually-hidden" for="subscribe-email">Email address</label>
<input id="subscribe-email" type="email" name="email" required autocomplete="email" placeholder="you@lab.org" maxlength="254">
<div class="hp" aria-hidden="true"><label>Leave empty <input type="text" name="website" tabindex="-1" autocomplete="off"></label></div>
<button type="submit">Subscribe</button>
</form></div></section>`;
}

export function layout(ctx: PageContext, opts: PageOptions, main: SafeHtml): string {
  const title = opts.title === ctx.siteName ? ctx.siteName : `${opts.title} · ${ctx.siteName}`;
  return html`<!doctype html>
<html lang="en"><head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<meta name="description" content="${opts.description ?? 'Trending research papers, search by keyword and by meaning, and a daily digest by email.'}">
${opts.canonical ? html`<link rel="canonical" href="${opts.canonical}">` : ''}
${opts.noindex ? html`<meta name="robots" content="noindex">` : ''}
<meta name="color-scheme" content="light dark">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
${ctx.assets.inlineCss ? html`<style>${raw(ctx.assets.inlineCss.replaceAll('</', '<\\/'))}</style>` : html`<link rel="stylesheet" href="${ctx.assets.css}">`}
${opts.math && main.value.includes('class="katex"') ? html`<link rel="stylesheet" href="${ctx.assets.katexCss}">` : ''}
${(opts.feeds ?? []).map((f) => html`<link rel="alternate" type="${FEED_MIME[f.type]}" href="${f.href}" title="${f.title}">`)}
<link rel="search" type="application/opensearchdescription+xml" href="/opensearch.xml" title="${ctx.siteName}">
<script src="${ctx.assets.js}" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site"><div class="wrap">
<a class="brand" href="/">paper<span>boy</span></a>
<nav aria-label="Main"><ul>${NAV.map((n) => html`<li><a href="${n.href}"${current(ctx.path, n.href) ? html` aria-current="page"` : ''}>${n.label}</a></li>`)}</ul></nav>
<form role="search" method="get" action="/search">
<label class="visually-hidden" for="site-q">Search papers</label>
<input id="site-q" type="search" name="q" value="${ctx.query ?? ''}" placeholder="Search papers (press /)" maxlength="500">
<button type="submit" class="quiet">Search</button>
</form>
</div></header>
${opts.noPromise ? '' : promiseBox(ctx)}
<main id="main" class="wrap" tabindex="-1">
${main}
</main>
<div id="live" class="visually-hidden" aria-live="polite"></div>
<footer class="site-footer"><div class="wrap">
<a href="/about">About and ranking</a>
<a href="/feeds/trending.rss">RSS</a>
<a href="/feeds/trending.atom">Atom</a>
<a href="/feeds/trending.json">JSON Feed</a>
<a href="/api/openapi.json">API</a>
<span>Keyboard: / search · j k move · v vote</span>
</div></footer>
</body></html>`.value;
}
