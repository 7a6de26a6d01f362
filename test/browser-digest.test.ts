/**
 * The subscription journey in a real browser (Debian's Chromium through playwright-core) against
 * the real server, with real mail: a real SMTP server on 127.0.0.1 receives what the site sends, and
 * the links in those emails are opened in the browser (BASE_URL is the site's own address). Sign up
 * at the top of the home page, confirm from the email, change preferences, receive a digest,
 * unsubscribe from its List-Unsubscribe link; "email me this search daily"; and the digest email
 * itself rendered in Chromium at phone and desktop widths, light and dark (screenshots kept in
 * test-artifacts/); the digest loads nothing from third parties (no web fonts), the preferences page's
 * unsubscribe link works, and topic digests include papers trending in the window.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContextOptions } from 'playwright-core';
import { DEFAULT_PREFERENCES, insertSubscriber, subscriberByKey } from '../src/store/subscribers.ts';
import { clean, follow, launchBrowser, visitor as newVisitor, NOW, overflowing, screenshot, scrollWidth, startSite, view, watch, type Site } from './helpers/browser.ts';
import { SmtpSink, type Received } from './helpers/smtp.ts';

/** The app's clock: starts at the browser tests' `NOW` (2026-08-22 12:00 UTC); tests move it. */
const clock = { ms: NOW.getTime() };
let sink: SmtpSink;
let browser: Browser;
let site: Site;
/** What the digest email asked the network for in Chromium (filled by the screenshot test). */
let emailRequests: string[] | undefined;

before(async () => {
  sink = await new SmtpSink().start();
  const [b, s] = await Promise.allSettled([
    launchBrowser(),
    startSite({ ownBaseUrl: true, env: { SMTP_URL: sink.url, SMTP_POOL_SIZE: '2' }, now: () => new Date(clock.ms) }),
  ]);
  // Keep whatever started, so that `after` stops it even when something else failed.
  if (b.status === 'fulfilled') browser = b.value;
  if (s.status === 'fulfilled') site = s.value;
  for (const r of [b, s]) if (r.status === 'rejected') throw r.reason;
});

after(async () => {
  await Promise.all([browser?.close(), site?.close()]);
  await sink?.stop();
});

/** A new visitor on this file's browser. */
const visitor = (options: BrowserContextOptions = {}) => newVisitor(browser, options);

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The header block with folded lines joined (RFC 5322 folding). */
const headersOf = (raw: string) => raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');

/** A link to the site's `route` in a text, e.g. the confirmation link in an email's text part. */
function siteLink(text: string, route: string): string | undefined {
  return new RegExp(`${escapeRe(site.url)}/${route}/[A-Za-z0-9._-]+`).exec(text)?.[0];
}

/** The newest message to `to` that `pick` accepts, waiting briefly for it (delivery is real SMTP). */
async function mailTo(to: string, pick: (m: Received) => boolean): Promise<Received> {
  for (let i = 0; i < 50; i++) {
    const m = sink.to(to).filter(pick).at(-1);
    if (m) return m;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`no matching email to ${to}; received: ${sink.received.map((m) => `${m.to.join(',')}: ${m.parsed.subject ?? ''}`).join('; ')}`);
}

const status = async (key: string) => (await subscriberByKey(site.app.db, key))?.status;

test('the journey: subscribe at the top of the home page, confirm from the email, change preferences, a digest, unsubscribe from its header', async () => {
  const email = 'Grace@Example.org';
  const key = 'grace@example.org';
  const to = 'Grace@example.org'; // the domain lower-cased, the local part kept
  const { context, page, w } = await visitor({ timezoneId: 'Europe/Berlin' });
  try {
    // The subscribe box at the top of the home page.
    await page.goto(`${site.url}/`);
    const box = page.locator('section.promise form');
    await box.locator('#subscribe-email').fill(email);
    await follow(page, /\/subscribe$/, () => box.getByRole('button', { name: 'Subscribe' }).click());
    assert.equal(await page.locator('main h1').innerText(), 'Check your inbox');
    let s = await subscriberByKey(site.app.db, key);
    assert.equal(s?.status, 'pending');
    assert.equal(s?.timezone, 'Europe/Berlin', "the browser's time zone, filled in by app.js");
    assert.deepEqual(s?.topics, []);

    // The confirmation email, over SMTP; its link opens a page with a button and changes nothing.
    const confirmation = await mailTo(to, (m) => m.parsed.subject === 'Confirm your paperboy subscription');
    const confirmUrl = siteLink(confirmation.parsed.text ?? '', 'confirm');
    assert.ok(confirmUrl, confirmation.parsed.text);
    await page.goto(confirmUrl);
    assert.equal(await page.locator('main h1').innerText(), 'Confirm your subscription');
    const confirmButton = page.getByRole('button', { name: 'Confirm' });
    assert.ok(await confirmButton.isVisible());
    assert.equal(await status(key), 'pending', 'opening the link alone confirms nothing');
    await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST' && r.url() === confirmUrl), confirmButton.click()]);
    await page.locator('main h1', { hasText: 'Your digest' }).waitFor();
    assert.match(await page.locator('.notice[role="status"]').innerText(), /^Subscribed!/);
    assert.match(await page.locator('main .meta').first().innerText(), /· subscribed$/);
    assert.equal(await status(key), 'confirmed');

    // Preferences: two topics, 06:00 in Los Angeles.
    await page.locator('#p-topics').fill('agent\nreasoning');
    await page.locator('#p-hour').selectOption('6');
    await page.locator('#p-tz').fill('America/Los_Angeles');
    await follow(page, /\/prefs\/p[^/]+$/, () => page.getByRole('button', { name: 'Save preferences' }).click());
    assert.equal(await page.locator('.notice[role="status"]').innerText(), 'Saved.');
    assert.equal(await page.locator('#p-topics').inputValue(), 'agent\nreasoning');
    assert.equal(await page.locator('#p-hour').inputValue(), '6');
    assert.equal(await page.locator('#p-tz').inputValue(), 'America/Los_Angeles');
    s = await subscriberByKey(site.app.db, key);
    assert.ok(s);
    assert.deepEqual(s.topics, ['agent', 'reasoning']);
    assert.equal(s.deliveryHour, 6);
    assert.equal(s.timezone, 'America/Los_Angeles');
    assert.equal(s.status, 'confirmed');
    // 12:00 UTC is 05:00 in Los Angeles (summer time): the next 06:00 there is within the hour.
    assert.equal(s.nextIssueDate, '2026-08-22');
    assert.equal(s.nextDueAt, '2026-08-22T13:00:00.000Z');

    // The digest, when its hour comes.
    clock.ms = Date.parse(s.nextDueAt) + 60_000;
    const scheduled = await site.app.digests.schedule();
    assert.equal(scheduled.created, 1, JSON.stringify(scheduled));
    const sent = await site.app.digests.sendDue();
    assert.equal(sent.sent, 1, JSON.stringify(sent));
    const digest = await mailTo(to, (m) => m.messageId.startsWith('digest-'));
    assert.equal(digest.messageId, `digest-${s.id}-2026-08-22@127.0.0.1`);
    const text = digest.parsed.text ?? '';
    assert.match(text, /papers for 22 Aug 2026 · topics: agent, reasoning/);
    assert.ok(/^1\. .+$/m.test(text), `papers in the digest:\n${text}`);

    // Its preferences link opens the saved preferences.
    const prefsUrl = /href="([^"]+\/prefs\/[^"]+)"/.exec(String(digest.parsed.html))?.[1];
    assert.ok(prefsUrl, 'the preferences link');
    assert.ok(prefsUrl.startsWith(`${site.url}/prefs/`), prefsUrl);
    await page.goto(prefsUrl);
    assert.equal(await page.locator('#p-topics').inputValue(), 'agent\nreasoning');

    // Unsubscribe from the List-Unsubscribe header: a page with a button; the click unsubscribes.
    const unsubUrl = /^List-Unsubscribe: <([^>]+)>\r?$/m.exec(headersOf(digest.raw))?.[1];
    assert.ok(unsubUrl, 'a List-Unsubscribe header');
    assert.ok(unsubUrl.startsWith(`${site.url}/u/`), unsubUrl);
    await page.goto(unsubUrl);
    assert.equal(await page.locator('main h1').innerText(), 'Unsubscribe');
    assert.match(await page.locator('main').innerText(), /Stop the daily digest to Grace@example\.org\?/);
    const unsubButton = page.getByRole('button', { name: 'Unsubscribe' });
    assert.ok(await unsubButton.isVisible());
    assert.equal(await status(key), 'confirmed', 'opening the link alone unsubscribes nobody');
    await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST' && r.url() === unsubUrl), unsubButton.click()]);
    await page.locator('main h1', { hasText: 'You are unsubscribed' }).waitFor();
    assert.equal(await status(key), 'unsubscribed');
    // The link again says so, and offers no button.
    await page.goto(unsubUrl);
    assert.equal(await page.locator('main h1').innerText(), 'You are unsubscribed');
    assert.equal(await page.getByRole('button', { name: 'Unsubscribe' }).count(), 0);
    clean(w);
  } finally {
    await context.close();
  }
});

test('"Email me this search daily" from search results pre-fills the topic; the sign-up keeps it', async () => {
  const key = 'searcher@example.org';
  const { context, page, w } = await visitor({ timezoneId: 'Asia/Tokyo' });
  try {
    await page.goto(`${site.url}/search?q=${encodeURIComponent('agent memory')}`);
    await follow(page, /\/subscribe\?topic=agent(\+|%20)memory$/, () => page.getByRole('link', { name: 'Email me this search daily' }).click());
    assert.equal(await page.locator('#sub-topic').inputValue(), 'agent memory');
    assert.equal(await page.locator('section.promise').count(), 0, 'no second subscribe box on the subscribe page');
    await page.locator('#sub-email').fill(key);
    await follow(page, /\/subscribe$/, () => page.locator('main').getByRole('button', { name: 'Subscribe' }).click());
    assert.equal(await page.locator('main h1').innerText(), 'Check your inbox');
    const s = await subscriberByKey(site.app.db, key);
    assert.equal(s?.status, 'pending');
    assert.deepEqual(s?.topics, ['agent memory']);
    assert.equal(s?.timezone, 'Asia/Tokyo');
    await mailTo(key, (m) => m.parsed.subject === 'Confirm your paperboy subscription');
    clean(w);
  } finally {
    await context.close();
  }
});

test('the digest email in Chromium at 375 and 800 px, light and dark: screenshots kept, nothing wider than a phone', async () => {
  // A subscriber to everything trending: a full digest of ten papers, delivered over SMTP.
  const key = 'screens@example.org';
  const id = await insertSubscriber(site.app.db, { email: key, emailKey: key, status: 'confirmed', prefs: { ...DEFAULT_PREFERENCES, timezone: 'UTC' }, source: 'test', now: new Date(clock.ms).toISOString() });
  assert.ok(id);
  await site.app.digests.scheduleDate('2026-08-22');
  await site.app.digests.sendDue();
  const digest = await mailTo(key, (m) => m.messageId.startsWith('digest-'));
  const html = String(digest.parsed.html);
  assert.ok(html.includes('<!doctype html>') || html.includes('<!DOCTYPE html>'), 'the HTML part');

  // A mail client shows the message without scripts or the network.
  const context = await browser.newContext({ javaScriptEnabled: false });
  context.setDefaultTimeout(10_000);
  const requests: string[] = [];
  await context.route('**/*', (route) => {
    requests.push(route.request().url());
    return route.abort();
  });
  const page = await context.newPage();
  const w = watch(page);
  const wide: string[] = [];
  try {
    for (const scheme of ['light', 'dark'] as const) {
      for (const width of [375, 800]) {
        await view(page, width, scheme);
        await page.setContent(html, { waitUntil: 'load' });
        assert.equal(await page.locator('a[href*="/paper/"]').count(), 10, 'ten papers');
        const sw = await scrollWidth(page);
        if (sw > width) wide.push(`${width} px ${scheme}: ${sw} px wide: ${(await overflowing(page, width)).join('; ')}`);
        const colours = await page.evaluate<{ body: string; title: string }>(`(() => ({
          body: getComputedStyle(document.body).backgroundColor,
          title: getComputedStyle(document.querySelector('.pb-title a')).color,
        }))()`);
        if (scheme === 'light') {
          assert.equal(colours.body, 'rgb(255, 255, 255)');
          assert.equal(colours.title, 'rgb(26, 26, 31)');
        } else {
          // The template's prefers-color-scheme block: the page dark, the titles light.
          assert.equal(colours.body, 'rgb(19, 19, 22)', `body background at ${width} px`);
          assert.equal(colours.title, 'rgb(233, 233, 238)');
        }
        await screenshot(page, 'digest', width, scheme);
      }
    }
    emailRequests = [...new Set(requests)];
    assert.deepEqual(wide, []);
    // Blocked requests are the next test's business; anything else that went wrong is not.
    assert.deepEqual(w.problems.filter((p) => !emailRequests!.some((u) => p.includes(u))), []);
    assert.deepEqual(w.dialogs, []);
  } finally {
    await context.close();
  }
});

test(
  'the digest email asks the network for nothing when opened (no web fonts, no images)',
  () => {
    assert.ok(emailRequests, 'the screenshot test ran');
    assert.deepEqual(emailRequests, []);
  },
);

test(
  'the preferences page links to a working unsubscribe page',
  async () => {
    const key = 'prefs-unsub@example.org';
    const id = await insertSubscriber(site.app.db, { email: key, emailKey: key, status: 'confirmed', prefs: DEFAULT_PREFERENCES, source: 'test', now: new Date(clock.ms).toISOString() });
    assert.ok(id);
    const s = (await subscriberByKey(site.app.db, key))!;
    const { context, page } = await visitor();
    try {
      await page.goto(site.app.digests.link('prefs', s));
      const [res] = await Promise.all([page.waitForNavigation(), page.locator('main').getByRole('link', { name: 'Unsubscribe' }).click()]);
      assert.equal(res?.status(), 200, page.url());
      assert.equal(await page.locator('main h1').innerText(), 'Unsubscribe');
      assert.ok(await page.getByRole('button', { name: 'Unsubscribe' }).isVisible());
    } finally {
      await context.close();
    }
  },
);

test(
  "a topic subscriber's digest includes trending papers in the topic that were submitted before the window",
  async () => {
    // Featured on Daily Papers on 2026-08-21 and about agents (PolicyGuide, submitted 2026-08-20):
    // the issue of 2026-08-23 counts papers from 2026-08-21, so it belongs in an "agent" digest.
    const key = 'agent-topic@example.org';
    const id = await insertSubscriber(site.app.db, { email: key, emailKey: key, status: 'confirmed', prefs: { ...DEFAULT_PREFERENCES, topics: ['agent'] }, source: 'test', now: new Date(clock.ms).toISOString() });
    assert.ok(id);
    const { papers } = await site.app.digests.render((await subscriberByKey(site.app.db, key))!, '2026-08-23');
    assert.ok(papers.some((p) => p.paper.key === '2608.19861'), papers.map((p) => p.paper.key).join(', ') || 'no papers');
  },
);
