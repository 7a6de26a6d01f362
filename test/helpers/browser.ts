/**
 * Browser test helpers: Debian's Chromium driven by playwright-core (never a downloaded browser),
 * the real server on a free local port over a real app with the demo papers, a watch on a page for
 * anything that went wrong (console errors, page errors, failed requests, error responses, dialogs),
 * and screenshots kept under test-artifacts/.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import assert from 'node:assert/strict';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import type { App } from '../../src/app.ts';
import { loadDemoIfEmpty } from '../../src/demo.ts';
import type { IngestSummary } from '../../src/ingest/pipeline.ts';
import { runIngest } from '../../src/ingest/run.ts';
import { buildServer } from '../../src/web/server.ts';
import { ROOT, tempApp } from './app.ts';

/** Debian's package; CI installs it (.ci/run). */
export const CHROMIUM = '/usr/bin/chromium';

/** The clock every browser test runs at: the day after the newest demo Daily Papers file. */
export const NOW = new Date('2026-08-22T12:00:00Z');

export const SCREENSHOTS = path.join(ROOT, 'test-artifacts', 'screenshots');

/** Launches headless Chromium; fails loudly (it never skips) when the browser is not installed. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `browser tests: Chromium is missing at ${CHROMIUM}. Install Debian's package: ` +
        '`sudo apt-get install -y chromium` (.ci/run does this). Do not download a browser with npx playwright.',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

export interface Site {
  /** http://127.0.0.1:<port>, no trailing slash. */
  url: string;
  app: App & { dir: string };
  server: FastifyInstance;
  /** What ingesting the extra papers did (skips and their reasons included). */
  extra: IngestSummary | undefined;
  close(): Promise<void>;
}

/** A port free on 127.0.0.1 right now (the OS picks it; the caller listens on it at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface SiteOptions {
  /** Extra papers, in the `jsonl` source's format. */
  papers?: readonly object[];
  /** Extra environment for the app's config (SMTP_URL …). */
  env?: Record<string, string>;
  /** The app's clock (default: always `NOW`). */
  now?: () => Date;
  /**
   * BASE_URL is the site's own http://127.0.0.1:<port>, so that links in its emails open in the
   * browser (a free port is picked first, since the config is read before the server listens).
   */
  ownBaseUrl?: boolean;
}

/**
 * The real site on 127.0.0.1 (a free port): a fresh migrated database with the bundled demo
 * papers, plus `papers` (objects in the `jsonl` source's format), with the clock at `NOW` unless
 * `now` is given.
 */
export async function startSite(opts: SiteOptions = {}): Promise<Site> {
  const port = opts.ownBaseUrl ? await freePort() : 0;
  const env = { ...(port ? { BASE_URL: `http://127.0.0.1:${port}` } : {}), ...opts.env };
  const app = await tempApp(env, { now: opts.now ?? (() => NOW) });
  let server: FastifyInstance | undefined;
  try {
    await loadDemoIfEmpty(app);
    let extra: IngestSummary | undefined;
    if (opts.papers?.length) {
      const file = path.join(app.dir, 'extra.jsonl');
      writeFileSync(file, opts.papers.map((p) => JSON.stringify(p)).join('\n') + '\n');
      extra = (await runIngest(app, 'jsonl', { inputs: [file] })).summary;
    }
    server = await buildServer(app);
    const url = await server.listen({ host: '127.0.0.1', port });
    const srv = server;
    return {
      url,
      app,
      server: srv,
      extra,
      async close() {
        try {
          await srv.close();
        } finally {
          await app.close();
        }
      },
    };
  } catch (err) {
    await server?.close();
    await app.close();
    throw err;
  }
}

export interface Watch {
  /** Everything that went wrong on the page so far, one line each. */
  problems: string[];
  /** Dialogs (alert, confirm, prompt) the page opened; each is dismissed. */
  dialogs: string[];
  /** Main-frame navigations (the first load included). */
  navigations: string[];
}

/** Records console errors, uncaught exceptions, failed requests, HTTP errors, dialogs and navigations. */
export function watch(page: Page): Watch {
  const w: Watch = { problems: [], dialogs: [], navigations: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') w.problems.push(`console error: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => w.problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    const why = r.failure()?.errorText ?? '?';
    // Cancelled by the browser itself (a font still loading when the test moves to the next page).
    if (why !== 'net::ERR_ABORTED') w.problems.push(`request failed: ${r.method()} ${r.url()}: ${why}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) w.problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  page.on('dialog', (d) => {
    w.dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss().catch(() => undefined);
  });
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) w.navigations.push(f.url());
  });
  return w;
}

export type Scheme = 'light' | 'dark';

/** Sets the viewport width and colour scheme the page is shown at. */
export async function view(page: Page, width: number, scheme: Scheme): Promise<void> {
  await page.setViewportSize({ width, height: width < 600 ? 800 : 900 });
  await page.emulateMedia({ colorScheme: scheme });
}

/**
 * A PNG of the whole page (or only the viewport: a page tens of thousands of pixels wide is too big
 * to capture) at test-artifacts/screenshots/<name>-<width>-<scheme>.png; returns its path.
 */
export async function screenshot(page: Page, name: string, width: number, scheme: Scheme, opts: { fullPage?: boolean } = {}): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}-${width}-${scheme}.png`);
  await page.screenshot({ path: file, fullPage: opts.fullPage ?? true });
  return file;
}

/** How wide the document is (more than the viewport means a horizontal scroll bar). */
export function scrollWidth(page: Page): Promise<number> {
  return page.evaluate<number>('document.documentElement.scrollWidth');
}

/**
 * What sticks out past the right edge of a viewport `width` px wide, for an overflow report: text
 * (by its element) and childless elements (inputs, images), leaving out the visually hidden.
 */
export function overflowing(page: Page, width: number, max = 6): Promise<string[]> {
  return page.evaluate<string[]>(`(() => {
    const hidden = (e) => Boolean(e.closest('.visually-hidden, .skip, .hp, .katex-mathml'));
    const name = (e) => e.tagName.toLowerCase() + (typeof e.className === 'string' && e.className ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n && out.length < ${max}; n = walker.nextNode()) {
      const e = n.parentElement;
      if (!e || hidden(e) || !n.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(n);
      const right = range.getBoundingClientRect().right;
      if (right > ${width} + 0.5) out.push(name(e) + ' "' + n.textContent.trim().slice(0, 40) + '" to ' + Math.round(right) + ' px');
    }
    for (const e of document.querySelectorAll('body *')) {
      if (out.length >= ${max}) break;
      if (e.childElementCount || e.textContent.trim() || hidden(e)) continue;
      const right = e.getBoundingClientRect().right;
      if (right > ${width} + 0.5) out.push(name(e) + ' to ' + Math.round(right) + ' px');
    }
    return out;
  })()`);
}

/** A new visitor (own cookies) with one page, watched for errors. */
export async function visitor(browser: Browser, options: BrowserContextOptions = {}): Promise<{ context: BrowserContext; page: Page; w: Watch }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  return { context, page, w: watch(page) };
}

/** Nothing went wrong on the page: no console error, exception, failed request, HTTP error or dialog. */
export function clean(w: Watch): void {
  assert.deepEqual(w.problems, [], 'console errors, failed requests or HTTP errors');
  assert.deepEqual(w.dialogs, [], 'dialogs');
}

/** Clicks and waits for the page it leads to. */
export async function follow(page: Page, url: RegExp, click: () => Promise<void>): Promise<void> {
  await Promise.all([page.waitForURL(url), click()]);
}
