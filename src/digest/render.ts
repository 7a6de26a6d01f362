import mjml2html from 'mjml';
import { escapeHtml } from '../web/html.ts';
import type { SelectedPaper } from './select.ts';

/**
 * Digest emails: responsive HTML from an MJML template compiled ONCE (MJML takes tens of ms per
 * call), then filled per subscriber by plain string substitution of escaped values, plus a plain-text
 * part. Placeholders are `%%NAME%%`; the paper item is cut out of the compiled HTML between two
 * comment markers and repeated.
 */

export interface DigestContent {
  baseUrl: string;
  siteName: string;
  /** Issue date YYYY-MM-DD (the subscriber's local date). */
  issueDate: string;
  email: string;
  topics: readonly string[];
  papers: readonly SelectedPaper[];
  prefsUrl: string;
  unsubscribeUrl: string;
}

export interface RenderedDigest {
  subject: string;
  html: string;
  text: string;
}

const TEMPLATE = `<mjml>
  <mj-head>
    <mj-title>%%SUBJECT%%</mj-title>
    <mj-preview>%%PREVIEW%%</mj-preview>
    <mj-attributes>
      <mj-all font-family="-apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif" />
      <mj-class name="pb-brand" color="#b3261e" />
      <mj-text font-size="15px" line-height="1.5" color="#1a1a1f" padding="0 0 6px 0" />
      <mj-section padding="0" />
    </mj-attributes>
    <mj-raw><meta name="color-scheme" content="light dark"><meta name="supported-color-schemes" content="light dark"></mj-raw>
    <mj-style>
      a { color: #0a55c9; }
      .pb-title a { color: #1a1a1f; text-decoration: none; font-weight: 600; }
      .pb-muted div { color: #55555f !important; }
      @media (prefers-color-scheme: dark) {
        .pb-body, .pb-body div, .pb-card { background: #131316 !important; color: #e9e9ee !important; }
        .pb-title a { color: #e9e9ee !important; }
        .pb-muted div { color: #a9a9b4 !important; }
        a { color: #8ab4f8 !important; }
        a.pb-brand { color: #f2b8b5 !important; }
      }
    </mj-style>
  </mj-head>
  <mj-body background-color="#ffffff" css-class="pb-body" width="640px">
    <mj-section padding="20px 16px 8px">
      <mj-column>
        <mj-text font-size="22px" font-weight="700" padding="0"><a class="pb-brand" href="%%BASE%%/" style="color:#b3261e;text-decoration:none">%%SITE%%</a></mj-text>
        <mj-text css-class="pb-muted" font-size="14px">Your papers for %%DATE%%%%TOPICLINE%%</mj-text>
      </mj-column>
    </mj-section>
    <mj-raw><!-- pb:item --></mj-raw>
    <mj-section padding="10px 16px" border-top="1px solid #dedee4" css-class="pb-card">
      <mj-column>
        <mj-text css-class="pb-title" font-size="17px" line-height="1.35"><a href="%%URL%%">%%TITLE%%</a></mj-text>
        <mj-text css-class="pb-muted" font-size="13px">%%AUTHORS%%</mj-text>
        <mj-text font-size="13px">%%REASON%%</mj-text>
        <mj-text font-size="13px">%%LINKS%%</mj-text>
      </mj-column>
    </mj-section>
    <mj-raw><!-- /pb:item --></mj-raw>
    <mj-section padding="16px">
      <mj-column>
        <mj-text css-class="pb-muted" font-size="12px" line-height="1.6">%%EMPTY%%You receive this because %%EMAIL%% subscribed to %%SITE%% at <a href="%%BASE%%/">%%BASEHOST%%</a>.<br><a href="%%PREFS%%">Preferences</a> · <a href="%%UNSUB%%">Unsubscribe</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>`;

interface Compiled {
  head: string;
  item: string;
  tail: string;
}

let compiled: Promise<Compiled> | undefined;

/** Compiles the template once per process (MJML is slow per call; filling is fast). */
export function compileTemplate(): Promise<Compiled> {
  compiled ??= (async () => {
    const out = await mjml2html(TEMPLATE, { validationLevel: 'strict', keepComments: true, minify: false, fonts: {} });
    const html = out.html;
    const a = html.indexOf('<!-- pb:item -->');
    const b = html.indexOf('<!-- /pb:item -->');
    if (a < 0 || b < 0) throw new Error('digest: the compiled template lost its item markers');
    return { head: html.slice(0, a), item: html.slice(a + '<!-- pb:item -->'.length, b), tail: html.slice(b + '<!-- /pb:item -->'.length) };
  })();
  return compiled;
}

const DATE = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });

export function humanDate(isoDate: string): string {
  return DATE.format(Date.parse(`${isoDate}T00:00:00Z`));
}

/** One line of text: no CR/LF or other controls (they must never reach a header), collapsed spaces. */
export function oneLine(s: string, max = 300): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  const t = s.replace(/[\u0000-\u001F\u007F-\u009F\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/%%([A-Z]+)%%/g, (m, k: string) => values[k] ?? m);
}

const LINK_LABELS: Record<string, string> = { abs: 'arXiv', pdf: 'PDF', code: 'Code', project: 'Project' };

function authorsLine(authors: readonly string[]): string {
  return oneLine(authors.length > 4 ? `${authors.slice(0, 4).join(', ')} et al.` : authors.join(', '), 300);
}

export function subjectOf(c: Pick<DigestContent, 'siteName' | 'issueDate' | 'papers'>): string {
  const top = c.papers[0];
  const date = humanDate(c.issueDate);
  return oneLine(top ? `${date}: ${top.paper.title}` : `${c.siteName} · ${date}: nothing new`, 150);
}

export async function renderDigest(c: DigestContent): Promise<RenderedDigest> {
  const t = await compileTemplate();
  const subject = subjectOf(c);
  const e = escapeHtml;
  const paperUrl = (key: string) => `${c.baseUrl}/paper/${encodeURIComponent(key)}`;
  const topicLine = c.topics.length ? ` · topics: ${c.topics.map((x) => oneLine(x, 80)).join(', ')}` : ' · everything trending';
  const head = fill(t.head, {
    SUBJECT: e(subject),
    PREVIEW: e(c.papers.slice(0, 3).map((p) => oneLine(p.paper.title, 80)).join(' · ') || 'Nothing new today'),
    BASE: e(c.baseUrl),
    SITE: e(c.siteName),
    DATE: e(humanDate(c.issueDate)),
    TOPICLINE: e(topicLine),
  });
  const items = c.papers.map((p) => {
    const links = p.paper.links
      .filter((l) => LINK_LABELS[l.kind] && /^https?:\/\//i.test(l.url))
      .slice(0, 4)
      .map((l) => `<a href="${e(l.url)}">${LINK_LABELS[l.kind]}</a>`)
      .join(' · ');
    return fill(t.item, {
      URL: e(paperUrl(p.paper.key)),
      TITLE: e(oneLine(p.paper.title, 400)),
      AUTHORS: e(authorsLine(p.paper.authors)),
      REASON: e(oneLine(p.reason, 200)),
      LINKS: links,
    });
  });
  const host = c.baseUrl.replace(/^https?:\/\//, '');
  const tail = fill(t.tail, {
    EMPTY: c.papers.length ? '' : 'Nothing new in your topics today.<br><br>',
    EMAIL: e(c.email),
    SITE: e(c.siteName),
    BASE: e(c.baseUrl),
    BASEHOST: e(host),
    PREFS: e(c.prefsUrl),
    UNSUB: e(c.unsubscribeUrl),
  });
  const text = [
    `${c.siteName}: your papers for ${humanDate(c.issueDate)}${topicLine}`,
    '',
    ...c.papers.flatMap((p, i) => [`${i + 1}. ${oneLine(p.paper.title, 400)}`, `   ${authorsLine(p.paper.authors)}`, `   ${oneLine(p.reason, 200)}`, `   ${paperUrl(p.paper.key)}`, '']),
    ...(c.papers.length ? [] : ['Nothing new in your topics today.', '']),
    `You receive this because ${c.email} subscribed to ${c.siteName} at ${c.baseUrl}/.`,
    `Preferences: ${c.prefsUrl}`,
    `Unsubscribe: ${c.unsubscribeUrl}`,
    '',
  ].join('\n');
  return { subject, html: head + items.join('') + tail, text };
}
