/**
 * The site in a real browser (Debian's Chromium through playwright-core), the way a newcomer
 * meets it: trending and its tabs, search with filters and facets, a paper, a vote that updates
 * in place (and without JavaScript, through the plain form), similar papers, feeds, the keyboard,
 * both colour schemes at phone and desktop widths (screenshots kept in test-artifacts/), and
 * hostile papers that must stay inert text.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { Browser, BrowserContextOptions, Locator } from 'playwright-core';
import { clean, follow, launchBrowser, visitor as newVisitor, overflowing, screenshot, scrollWidth, startSite, view, type Site } from './helpers/browser.ts';

/**
 * The demo corpus carries no arXiv categories, so a few papers with categories and code links
 * give the category filter and the facets something to work on.
 */
const TOPICAL = [
  {
    id: '2608.10001',
    title: 'Edge quantization of vision transformers on Jetson boards',
    abstract: 'We quantize vision transformers to $4$-bit weights with $\\alpha$-scaled activations and run them at 30 frames per second on a Jetson board. The quantization error of a layer is bounded by $\\frac{\\Delta^2}{12}$.',
    authors: ['Ada Quant', 'Ben Edge'],
    date: '2026-08-10',
    categories: ['cs.CV', 'cs.LG'],
    url: 'https://github.com/example/edge-vit',
  },
  {
    id: '2608.10002',
    title: 'Mixed-precision quantization for on-device language models',
    abstract: 'Mixed-precision quantization keeps the sensitive layers of a language model at $b=8$ bits and the rest at $b=4$ bits, so that it runs on a phone; the error of quantization is measured per layer.',
    authors: ['Ada Quant', 'Cy Phone'],
    date: '2026-07-02',
    categories: ['cs.LG', 'cs.CL'],
    url: 'https://github.com/example/mixed-precision',
  },
  {
    id: '2608.10003',
    title: 'Quantization-aware training without labels',
    abstract: 'Quantization-aware training usually needs the labelled training set; we distil from the full-precision model instead, and quantization to 4 bits loses under one point of accuracy.',
    authors: ['Dee Label'],
    date: '2025-05-20',
    categories: ['cs.LG'],
  },
  {
    id: '2608.10004',
    title: 'An accelerator for low-bit quantization',
    abstract: 'A systolic array for 2-bit and 4-bit quantization of convolutional networks, laid out for a small FPGA.',
    authors: ['Eli Gate'],
    date: '2026-03-01',
    categories: ['cs.AR'],
  },
];

const PWN = '<script>window.__pwned=1</script>';
const IMG = '<img src=x onerror="window.__pwned=1">';
const HREF = '$\\href{javascript:window.__pwned=1}{x}$';
/** The longest title ingest accepts (1,000 characters), one unbroken word. */
const LONG_TITLE = `Pneumono${'x'.repeat(992)}`;
const LONG_WORD = 'y'.repeat(60_000);

const HOSTILE = [
  {
    id: '2608.90001',
    title: `Script ${PWN} in a title`,
    abstract: `An ${IMG} and ${PWN} and <svg onload="alert(1)"> in a pwned abstract.`,
    authors: [PWN, `Eve ${IMG}`],
    date: '2026-08-22',
    categories: ['cs.CR'],
  },
  {
    id: '2608.90002',
    title: `Math link ${HREF} and broken $\\frac{ math`,
    abstract: `A TeX link ${HREF}, a TeX URL $\\url{javascript:alert(1)}$, broken $\\frac{1}{$ math and $\\frac{ to the end of a pwned abstract.`,
    authors: ['Mallory Tex'],
    date: '2026-08-21',
    categories: ['cs.CR'],
  },
  {
    id: '2608.90003',
    title: 'Carriage\r\nreturns\rin a title',
    abstract: 'First pwned paragraph\r\nwith a CRLF break.\r\n\r\nSecond paragraph.',
    authors: ['Line\r\nBreak'],
    date: '2026-08-20',
    categories: ['cs.CR'],
  },
  {
    id: '2608.90004',
    title: LONG_TITLE,
    abstract: `${LONG_WORD} pwned by one long word.`,
    authors: ['Z'.repeat(300)],
    date: '2026-08-19',
    categories: ['cs.CR'],
  },
  // 100 KB of title: ingest refuses it (the limit is 1,000 characters).
  { id: '2608.90005', title: 'T'.repeat(100_000), abstract: 'A pwned abstract under a huge title.', date: '2026-08-18' },
];

let browser: Browser;
let site: Site;
let hostile: Site;
/** What stuck out at 375 px on the hostile pages (filled by the hostile test). */
let hostileOverflow: string[] | undefined;

before(async () => {
  const [b, s, h] = await Promise.allSettled([launchBrowser(), startSite({ papers: TOPICAL }), startSite({ papers: HOSTILE })]);
  // Keep whatever started, so that `after` stops it even when something else failed.
  if (b.status === 'fulfilled') browser = b.value;
  if (s.status === 'fulfilled') site = s.value;
  if (h.status === 'fulfilled') hostile = h.value;
  for (const r of [b, s, h]) if (r.status === 'rejected') throw r.reason;
});

after(async () => {
  await Promise.all([browser?.close(), site?.close(), hostile?.close()]);
});

/** A new visitor on this file's browser. */
const visitor = (options: BrowserContextOptions = {}) => newVisitor(browser, options);

/** "17 papers · keyword search" → 17. */
function resultCount(heading: string): number {
  const m = /^([\d,]+)\+? papers? · /.exec(heading);
  assert.ok(m, `a result count in ${JSON.stringify(heading)}`);
  return Number(m[1]!.replaceAll(',', ''));
}

/** The item titles of an RSS, Atom or JSON feed (entities decoded), after checking it is well formed. */
function feedTitles(body: string, contentType: string): string[] {
  if (/^application\/feed\+json\b/.test(contentType)) return (JSON.parse(body) as { items: { title: string }[] }).items.map((i) => i.title);
  assert.match(contentType, /^application\/(rss|atom)\+xml\b/);
  assert.equal(XMLValidator.validate(body), true, 'well-formed XML');
  const xml = new XMLParser({ htmlEntities: true, isArray: (name) => name === 'item' || name === 'entry' }).parse(body) as {
    rss?: { channel: { item?: { title: string }[] } };
    feed?: { entry?: { title: string }[] };
  };
  return (xml.rss ? (xml.rss.channel.item ?? []) : (xml.feed?.entry ?? [])).map((i) => String(i.title));
}

/** The count shown on a vote button. */
async function count(button: Locator): Promise<number> {
  return Number(await button.locator('.count').innerText());
}

test('a newcomer: trending, this week, search with a filter and a facet, feeds, a paper, a vote in place, a similar paper', async () => {
  const { context, page, w } = await visitor();
  try {
    await page.goto(`${site.url}/`);
    const cards = page.locator('ol.papers > li.paper');
    assert.equal(await cards.count(), 30);
    assert.equal(await page.locator('nav.tabs [aria-current="page"]').innerText(), 'Trending');
    assert.equal(await cards.first().locator('.rank').innerText(), '#1');
    assert.equal(await cards.nth(1).locator('.rank').innerText(), '#2');
    // Each card says why it is here, starting with its Hugging Face upvotes.
    for (const why of await page.locator('li.paper .why').allInnerTexts()) assert.match(why, /\d upvotes?\b/);

    await follow(page, /\/\?window=week$/, () => page.locator('nav.tabs').getByRole('link', { name: 'This week' }).click());
    assert.equal(await page.locator('nav.tabs [aria-current="page"]').innerText(), 'This week');
    assert.match(await page.locator('p.lede').innerText(), /^Papers that drew attention from \d+ Aug 2026 to \d+ Aug 2026, by points\. [\d,]+ papers\.$/);
    assert.ok((await cards.count()) > 0);

    // Search from the box in the header.
    await page.locator('#site-q').fill('quantization');
    await follow(page, /\/search\?q=quantization$/, () => page.locator('#site-q').press('Enter'));
    const heading = page.locator('#results-title');
    assert.match(await heading.innerText(), / · keyword search$/);
    const all = resultCount(await heading.innerText());
    assert.equal(await page.locator('#q').inputValue(), 'quantization');

    // A category from the filters.
    await page.locator('select[name="cat"]').selectOption('cs.LG');
    await follow(page, /[?&]cat=cs\.LG\b/, () => page.locator('form.search-form').getByRole('button', { name: 'Apply' }).click());
    const inCategory = resultCount(await heading.innerText());
    assert.equal(inCategory, 3);
    assert.ok(inCategory < all);
    for (const tags of await page.locator('li.paper .tags').allInnerTexts()) assert.match(tags, /\bcs\.LG\b/);

    // A facet link keeps the filter and adds its own.
    await follow(page, /[?&]code=1\b/, () => page.locator('aside.facets').getByRole('link', { name: 'With code' }).click());
    assert.match(page.url(), /[?&]cat=cs\.LG\b/);
    assert.equal(resultCount(await heading.innerText()), 2);
    const marks = await page.locator('li.paper .snippet mark').allInnerTexts();
    assert.ok(marks.length >= 2, 'highlighted words in the snippets');
    for (const m of marks) assert.match(m, /^quantiz/i);

    // This search as a feed: RSS, Atom and JSON Feed, each with the two papers.
    const searchUrl = page.url();
    for (const label of ['RSS', 'Atom', 'JSON Feed']) {
      const [res] = await Promise.all([page.waitForResponse((r) => r.url().includes('/feeds/search.')), page.locator('p.feeds').getByRole('link', { name: label, exact: true }).click()]);
      const type = res.headers()['content-type'] ?? '';
      assert.match(type, { RSS: /rss\+xml/, Atom: /atom\+xml/, 'JSON Feed': /feed\+json/ }[label]!);
      assert.deepEqual(feedTitles(await res.text(), type).sort(), [TOPICAL[0]!.title, TOPICAL[1]!.title].sort(), label);
      await page.goto(searchUrl);
    }

    // A paper.
    const first = page.locator('li.paper h3 a').first();
    const title = await first.innerText();
    await follow(page, /\/paper\/2608\.1000[12]$/, () => first.click());
    assert.equal(await page.locator('h1').innerText(), title);
    assert.ok((await page.locator('.abstract .katex').count()) > 0, 'TeX in the abstract rendered');
    assert.ok(await page.getByRole('heading', { name: 'Why it ranks here' }).isVisible());

    // A vote: sent in the background, the count changes in place, no navigation.
    const paperUrl = page.url();
    await page.evaluate('window.__samePage = true');
    const navigations = w.navigations.length;
    const button = page.locator('.actions form.vote-form button');
    assert.equal(await button.getAttribute('aria-pressed'), 'false');
    const votes = await count(button);
    await button.click();
    await page.locator('.actions form.vote-form button[aria-pressed="true"]:not([disabled])').waitFor();
    assert.equal(await count(button), votes + 1);
    assert.equal(await page.evaluate('window.__samePage'), true, 'the page was not reloaded');
    assert.equal(w.navigations.length, navigations, 'no navigation');
    assert.equal(page.url(), paperUrl);
    assert.match(await page.locator('#live').innerText(), /^Vote counted/);

    // It was stored: a reload shows it.
    await page.reload();
    assert.equal(await page.evaluate('window.__samePage'), undefined, 'reloaded');
    assert.equal(await button.getAttribute('aria-pressed'), 'true');
    assert.equal(await count(button), votes + 1);

    // Withdrawn, in place again.
    await button.click();
    await page.locator('.actions form.vote-form button[aria-pressed="false"]:not([disabled])').waitFor();
    assert.equal(await count(button), votes);
    await page.reload();
    assert.equal(await button.getAttribute('aria-pressed'), 'false');

    // A similar paper.
    const similar = page.locator('ol.similar a').first();
    const similarTitle = await similar.innerText();
    const href = (await similar.getAttribute('href')) ?? '';
    assert.ok(href.startsWith('/paper/') && !paperUrl.endsWith(href), href);
    await follow(page, new RegExp(`${href.replace(/[.]/g, '\\.')}$`), () => similar.click());
    assert.equal(await page.locator('h1').innerText(), similarTitle);
    clean(w);
  } finally {
    await context.close();
  }
});

test('keyboard: Tab reaches the skip link first, it moves focus to main; / focuses search; j/k move; v votes', async () => {
  const { context, page, w } = await visitor();
  const active = (expr: string) => page.evaluate<string>(`String(document.activeElement && document.activeElement.${expr})`);
  const focusedPaper = () => page.evaluate<number>(`[...document.querySelectorAll('.paper')].indexOf(document.activeElement && document.activeElement.closest('.paper'))`);
  try {
    await page.goto(`${site.url}/`);
    await page.keyboard.press('Tab');
    assert.equal(await active('className'), 'skip');
    assert.equal(await active('textContent'), 'Skip to content');
    const box = await page.locator('a.skip').boundingBox();
    assert.ok(box && box.x >= 0 && box.y >= 0, 'the focused skip link is on screen');
    await page.keyboard.press('Enter');
    await page.waitForFunction('document.activeElement && document.activeElement.id === "main"');
    assert.match(page.url(), /#main$/);

    await page.keyboard.press('/');
    assert.equal(await active('id'), 'site-q');
    // Letters typed into the box stay there (no shortcut fires).
    await page.keyboard.type('jv');
    assert.equal(await page.locator('#site-q').inputValue(), 'jv');
    assert.equal(await page.locator('li.paper button[aria-pressed="true"]').count(), 0);
    await page.locator('#site-q').fill('');
    await page.locator('#site-q').blur();

    await page.keyboard.press('j');
    assert.equal(await focusedPaper(), 0);
    assert.equal(await active('tagName'), 'A');
    await page.keyboard.press('j');
    assert.equal(await focusedPaper(), 1);
    await page.keyboard.press('k');
    assert.equal(await focusedPaper(), 0);
    await page.keyboard.press('k');
    assert.equal(await focusedPaper(), 0, 'k stops at the first paper');

    const button = page.locator('li.paper').first().locator('form.vote-form button');
    const votes = await count(button);
    await page.keyboard.press('v');
    await page.locator('li.paper:first-child form.vote-form button[aria-pressed="true"]:not([disabled])').waitFor();
    assert.equal(await count(button), votes + 1);
    assert.equal(await focusedPaper(), 0, 'focus stays on the paper');
    await page.keyboard.press('v');
    await page.locator('li.paper:first-child form.vote-form button[aria-pressed="false"]:not([disabled])').waitFor();
    assert.equal(await count(button), votes);
    clean(w);
  } finally {
    await context.close();
  }
});

test('without JavaScript the vote is a plain form: it posts, comes back to the page, the count moves', async () => {
  const { context, page, w } = await visitor({ javaScriptEnabled: false });
  try {
    await page.goto(`${site.url}/?window=week`);
    const href = await page.locator('li.paper h2 a').first().getAttribute('href');
    assert.ok(href);
    const card = page.locator('li.paper', { has: page.locator(`h2 a[href="${href}"]`) });
    const button = card.locator('form.vote-form button');
    const votes = await count(button);
    for (const [pressed, expected] of [['true', votes + 1], ['false', votes]] as const) {
      const [res] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/vote')), button.click()]);
      assert.equal(res.status(), 303);
      await page.waitForURL(/\/\?window=week$/);
      assert.equal(await button.getAttribute('aria-pressed'), pressed);
      assert.equal(await count(button), expected);
    }
    clean(w);
  } finally {
    await context.close();
  }
});

test('home, search and paper at 375 and 1280 px, light and dark: screenshots kept, nothing wider than a phone', async () => {
  const { context, page, w } = await visitor();
  const pages = [
    ['home', '/'],
    ['search', '/search?q=quantization'],
    ['paper', '/paper/2608.10001'],
  ] as const;
  const wide: string[] = [];
  try {
    for (const scheme of ['light', 'dark'] as const) {
      for (const width of [375, 1280]) {
        await view(page, width, scheme);
        for (const [name, path] of pages) {
          await page.goto(site.url + path);
          const bg = await page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
          assert.equal(bg, scheme === 'dark' ? 'rgb(19, 19, 22)' : 'rgb(255, 255, 255)', `${name} ${scheme}`);
          if (width === 375) {
            const sw = await scrollWidth(page);
            if (sw > 375) wide.push(`${name} (${scheme}) is ${sw} px wide: ${(await overflowing(page, 375)).join('; ')}`);
          }
          await screenshot(page, name, width, scheme);
        }
      }
    }
    assert.deepEqual(wide, []);
    clean(w);
  } finally {
    await context.close();
  }
});

test('hostile papers stay text: nothing runs, no dialog, escaped strings shown, feeds inert', async () => {
  const extra = hostile.extra!;
  assert.equal(extra.new, 4, JSON.stringify(extra));
  assert.equal(extra.skipped, 1);
  assert.match(extra.errors[0]?.reason ?? '', /title is 100,000 characters; the limit is 1,000/);

  const { context, page, w } = await visitor({ viewport: { width: 375, height: 800 } });
  const wide: string[] = [];
  /**
   * Loads a page and checks nothing from the data became markup or ran. The CSP would block an
   * injected handler (so `__pwned` alone proves little): the element checks, the console (CSP
   * violations are console errors) and the 404 an `<img src=x>` would fetch catch an escaping bug.
   */
  const visit = async (path: string): Promise<string> => {
    await page.goto(hostile.url + path);
    assert.equal(await page.evaluate('typeof window.__pwned'), 'undefined', path);
    assert.equal(await page.locator('a[href^="javascript:" i], [onerror], [onload], img[src="x"], svg:not(.katex svg, .chart svg)').count(), 0, path);
    const scripts = await page.locator('script').evaluateAll((els) => els.map((e) => e.getAttribute('src') ?? 'inline'));
    for (const s of scripts) assert.match(s, /^\/static\/app\.js\?v=/, path);
    const sw = await scrollWidth(page);
    if (sw > 375) wide.push(`${path} is ${sw} px wide: ${(await overflowing(page, 375)).join('; ')}`);
    return page.locator('body').innerText();
  };
  try {
    let text = await visit('/?window=new');
    assert.ok(text.includes(`Script ${PWN} in a title`), 'the title shown as text on the home page');

    text = await visit('/search?q=pwned');
    assert.ok(resultCount(await page.locator('#results-title').innerText()) >= 4);
    assert.ok(text.includes(`Script ${PWN} in a title`));

    // The query itself echoed back: in the boxes, the title and the feed links.
    for (const q of [PWN, `"><img src=x onerror="window.__pwned=1">`, `'onmouseover='window.__pwned=1`]) {
      await visit(`/search?q=${encodeURIComponent(q)}`);
      assert.equal(await page.locator('#site-q').inputValue(), q);
      assert.equal(await page.locator('#q').inputValue(), q);
      assert.ok((await page.title()).startsWith(q));
    }

    text = await visit('/paper/2608.90001');
    assert.equal(await page.locator('h1').innerText(), `Script ${PWN} in a title`);
    assert.ok(text.includes(`Eve ${IMG}`), 'an author shown as text');
    assert.ok(text.includes(`An ${IMG} and ${PWN} and <svg onload="alert(1)"> in a pwned abstract.`), 'the abstract shown as text');
    await screenshot(page, 'hostile-paper', 375, 'light');

    text = await visit('/paper/2608.90002');
    // \href and \url render as inert red text; broken TeX shows its source.
    assert.ok((await page.locator('h1 .katex').count()) > 0);
    assert.ok(text.includes('\\frac{1}{'), 'broken TeX shown as source');
    assert.ok(text.includes('$\\frac{ to the end'), 'an unclosed $ is plain text');

    text = await visit('/paper/2608.90003');
    assert.equal(await page.locator('h1').innerText(), 'Carriage returns in a title');
    assert.deepEqual(await page.locator('.abstract p').allInnerTexts(), ['First pwned paragraph with a CRLF break.', 'Second paragraph.']);
    assert.ok(text.includes('Line Break'));

    text = await visit('/paper/2608.90004');
    assert.equal(await page.locator('h1').innerText(), LONG_TITLE);
    assert.ok(text.includes(LONG_WORD));
    await screenshot(page, 'hostile-long-word', 375, 'light', { fullPage: false });

    await visit(`/author/${encodeURIComponent(PWN)}`);
    assert.equal(await page.locator('main h1').innerText(), PWN);
    text = await visit('/category/cs.CR');
    assert.ok(text.includes(`Script ${PWN} in a title`));

    // Feeds, opened in the browser: valid, escaped, nothing runs.
    for (const path of ['/feeds/trending.rss?window=new', '/feeds/trending.atom?window=new', `/feeds/search.rss?q=${encodeURIComponent(PWN)}`, '/feeds/search.atom?q=pwned', '/feeds/search.json?q=pwned']) {
      const res = await page.goto(hostile.url + path);
      assert.ok(res, path);
      const body = await res.text();
      assert.equal(await page.evaluate('typeof window.__pwned'), 'undefined', path);
      assert.ok(!/<script|<img|<svg/i.test(body), `${path}: markup from the data escaped`);
      assert.ok(feedTitles(body, res.headers()['content-type'] ?? '').includes(`Script ${PWN} in a title`), path);
    }
    hostileOverflow = wide;
    clean(w);
  } finally {
    await context.close();
  }
});

test(
  'hostile papers: long unbroken words wrap at 375 px',
  () => {
    assert.ok(hostileOverflow, 'the hostile test ran to the end');
    assert.deepEqual(hostileOverflow, []);
  },
);
