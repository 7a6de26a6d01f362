/**
 * Subscriptions and the digest end to end against a real SMTP server (smtp-server on 127.0.0.1,
 * mail parsed back with mailparser), on a real migrated database with real Daily Papers data, and
 * an injectable clock: double opt-in, the digest's papers and headers, RFC 8058 one-click, tokens,
 * injection, delivery under SMTP faults, and time zones across a daylight-saving change.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { App } from '../src/app.ts';
import { SmtpMailer } from '../src/digest/mailer.ts';
import { localTime } from '../src/digest/schedule.ts';
import { DEMO_DIR } from '../src/demo.ts';
import { runIngest } from '../src/ingest/run.ts';
import { DEFAULT_PREFERENCES, insertSubscriber, subscriberByKey } from '../src/store/subscribers.ts';
import { buildServer } from '../src/web/server.ts';
import { tempApp } from './helpers/app.ts';
import { SmtpSink } from './helpers/smtp.ts';

type TestApp = App & { dir: string };
const clock = { ms: Date.parse('2026-08-22T04:00:00Z') };
let sink: SmtpSink;
let app: TestApp;
let server: FastifyInstance;

before(async () => {
  sink = await new SmtpSink().start();
  app = await tempApp({ SMTP_URL: sink.url, BASE_URL: 'https://papers.example.org', PAPERBOY_DIGEST_CONCURRENCY: '4' }, { now: () => new Date(clock.ms) });
  // Retries come fast in tests: the mailer is real, the pool small.
  (app.digests as unknown as { mailer: SmtpMailer }).mailer = new SmtpMailer({ url: sink.url, poolSize: 2, ratePerSecond: 0 });
  const daily = path.join(app.dir, 'daily');
  mkdirSync(daily);
  for (const d of ['2026-08-20.json', '2026-08-21.json']) copyFileSync(path.join(DEMO_DIR, 'hf-daily', d), path.join(daily, d));
  await runIngest(app, 'hf-daily', { inputs: [daily] });
  server = await buildServer(app);
});

after(async () => {
  await server.close();
  await app.close();
  await sink.stop();
});

async function visitor(): Promise<{ cookie: string; csrf: string }> {
  const res = await server.inject('/');
  const cookie = String(res.headers['set-cookie'] ?? '').split(';')[0] ?? '';
  return { cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(res.body)?.[1] ?? '' };
}

function form(url: string, fields: Record<string, string>, cookie = '') {
  return server.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) }, payload: new URLSearchParams(fields).toString() });
}

/** The header block with folded lines joined (RFC 5322 folding). */
const headersOf = (raw: string) => raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');

const linkIn = (text: string, route: string) => new RegExp(`https://papers\\.example\\.org(/${route}/[A-Za-z0-9._-]+)`).exec(text)?.[1];

/** Runs the scheduler and the sender until nothing is claimable (retries included, the clock moved past backoffs). */
async function deliver(maxRounds = 30): Promise<void> {
  for (let i = 0; i < maxRounds; i++) {
    await app.digests.schedule();
    const r = await app.digests.sendDue();
    if (r.due === 0) return;
    clock.ms += 61 * 60_000; // past any backoff (at most an hour)
  }
}

test('double opt-in: sign up, the email link opens a page with a button, the POST confirms', async () => {
  const v = await visitor();
  const res = await form('/subscribe', { _csrf: v.csrf, email: 'Ada@Example.org', topic: 'agent', timezone: 'Europe/Berlin', website: '' }, v.cookie);
  assert.equal(res.statusCode, 200);
  assert.match(res.body, /Check your inbox/);
  const mail = sink.to('Ada@example.org').at(-1);
  assert.ok(mail, 'a confirmation email');
  assert.equal(mail.parsed.subject, 'Confirm your paperboy subscription');
  const link = linkIn(mail.parsed.text ?? '', 'confirm');
  assert.ok(link, mail.parsed.text);
  // Following the link (a mail scanner would) changes nothing.
  const page = await server.inject(link);
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /<form method="post" action="\/confirm\//);
  assert.equal((await subscriberByKey(app.db, 'ada@example.org'))?.status, 'pending');
  const ok = await server.inject({ method: 'POST', url: link });
  assert.equal(ok.statusCode, 200);
  const s = await subscriberByKey(app.db, 'ada@example.org');
  assert.equal(s?.status, 'confirmed');
  assert.deepEqual(s?.topics, ['agent']);
  assert.equal(s?.timezone, 'Europe/Berlin');
  assert.ok(s?.nextDueAt, 'scheduled');
});

test('no address enumeration: the same answer for new, pending, subscribed and invalid-but-plausible addresses', async () => {
  clock.ms += 11 * 60_000; // past the ten-minute limit on sign-up emails per address
  const v = await visitor();
  const bodies: string[] = [];
  for (const email of ['new-person@example.org', 'Ada@Example.org', 'new-person@example.org']) {
    const r = await form('/subscribe', { _csrf: v.csrf, email }, v.cookie);
    assert.equal(r.statusCode, 200);
    bodies.push(/<main[\s\S]*<\/main>/.exec(r.body)?.[0] ?? '');
  }
  assert.equal(new Set(bodies).size, 1);
  // The subscribed address got its preferences link instead of a confirmation.
  assert.ok(sink.to('Ada@example.org').some((m) => m.parsed.subject === 'You are already subscribed to paperboy'));
  // A filled honeypot: same answer, no mail.
  const before = sink.received.length;
  const bot = await form('/subscribe', { _csrf: v.csrf, email: 'bot@example.org', website: 'http://spam' }, v.cookie);
  assert.match(bot.body, /Check your inbox/);
  assert.equal(sink.received.length, before);
  // A malformed address is a clear error.
  const bad = await form('/subscribe', { _csrf: v.csrf, email: 'not an address' }, v.cookie);
  assert.equal(bad.statusCode, 400);
});

test('the digest: expected papers in both parts, exact headers, a stable Message-ID', async () => {
  const s = (await subscriberByKey(app.db, 'ada@example.org'))!;
  clock.ms = Date.parse(s.nextDueAt!) + 60_000;
  await deliver();
  const digests = sink.to('Ada@example.org').filter((m) => m.messageId.startsWith('digest-'));
  assert.equal(digests.length, 1);
  const d = digests[0]!;
  assert.equal(d.messageId, `digest-${s.id}-${s.nextIssueDate}@papers.example.org`);
  const text = d.parsed.text ?? '';
  const html = String(d.parsed.html);
  assert.match(text, /papers for 22 Aug 2026 · topics: agent/);
  const titles = [...text.matchAll(/^\d+\. (.+)$/gm)].map((m) => m[1]!);
  assert.ok(titles.length >= 1 && titles.length <= 10, text);
  for (const t of titles) assert.ok(html.includes(t.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll("'", '&#39;').replaceAll('"', '&quot;')), t);
  assert.match(text, /(trending in|new in) “agent”/);
  assert.equal(d.parsed.subject, `22 Aug 2026: ${titles[0]}`);
  const head = headersOf(d.raw);
  assert.match(head, /^List-Unsubscribe: <https:\/\/papers\.example\.org\/u\/[A-Za-z0-9._-]+>\r?$/m);
  assert.match(head, /^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
  assert.match(head, /^Message-ID: <digest-\d+-2026-08-22@papers\.example\.org>\r?$/m);
  assert.match(html, /href="https:\/\/papers\.example\.org\/prefs\//);
  assert.match(html, /You receive this because Ada@example\.org subscribed/);
  // The scheduler again at the same time: no second digest for that day.
  await deliver();
  assert.equal(sink.to('Ada@example.org').filter((m) => m.messageId.startsWith('digest-')).length, 1);
});

test('one-click unsubscribe: POST without cookies unsubscribes (repeatable); GET never does; forged tokens 404', async () => {
  const d = sink.to('Ada@example.org').find((m) => m.messageId.startsWith('digest-'))!;
  const url = /^List-Unsubscribe: <https:\/\/papers\.example\.org(\/u\/[^>]+)>/m.exec(headersOf(d.raw))![1]!;
  const get = await server.inject(url);
  assert.equal(get.statusCode, 200);
  assert.match(get.body, /<button type="submit">Unsubscribe<\/button>/);
  assert.equal((await subscriberByKey(app.db, 'ada@example.org'))?.status, 'confirmed');
  for (let i = 0; i < 2; i++) {
    const post = await server.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' });
    assert.equal(post.statusCode, 200);
    assert.equal(post.headers.location, undefined);
    assert.equal(post.headers['set-cookie'] === undefined || String(post.headers['set-cookie']).startsWith('pb_v='), true);
  }
  assert.equal((await subscriberByKey(app.db, 'ada@example.org'))?.status, 'unsubscribed');
  const tok = url.slice(3);
  for (const forged of [`${tok.slice(0, -1)}${tok.endsWith('A') ? 'B' : 'A'}`, tok.replace(/^u(\d+)/, (_, n: string) => `u${Number(n) + 1}`), 'u1.abcdefgh.0.xxxxxxxxxxxxxxxxxxxxxxxxxxx', '<script>']) {
    for (const method of ['GET', 'POST'] as const) {
      const r = await server.inject({ method, url: `/u/${encodeURIComponent(forged)}` });
      assert.equal(r.statusCode, 404, `${method} ${forged}`);
      assert.ok(!r.body.includes('example.org') || !r.body.includes('@'), 'reveals no address');
    }
  }
  // A prefs or confirm token is not an unsubscribe token.
  const prefs = /https:\/\/papers\.example\.org\/prefs\/([^"]+)"/.exec(String(d.parsed.html))![1]!;
  assert.equal((await server.inject({ method: 'POST', url: `/u/${prefs}` })).statusCode, 404);
});

test('CRLF and HTML in names, topics and titles cannot change headers or markup', async () => {
  const id = await insertSubscriber(app.db, {
    email: 'mallory@example.org',
    emailKey: 'mallory@example.org',
    status: 'confirmed',
    prefs: { ...DEFAULT_PREFERENCES, topics: ['agent\r\nBcc: victim@example.org', '<script>alert(1)</script> agent'], includeNew: true },
    source: 'test',
    now: new Date(clock.ms).toISOString(),
  });
  assert.ok(id);
  await app.db.run('UPDATE papers SET title = ? || title WHERE id IN (SELECT paper_id FROM trending ORDER BY hot DESC LIMIT 3)', ['Agent <img src=x onerror=alert(1)>\r\nBcc: evil@example.org ']);
  await app.digests.scheduleDate('2026-08-23');
  await deliver();
  const m = sink.to('mallory@example.org').at(-1);
  assert.ok(m, 'a digest');
  const headerBlock = headersOf(m.raw);
  assert.ok(!/^Bcc:/im.test(headerBlock), headerBlock);
  assert.deepEqual(m.to, ['mallory@example.org']);
  const html = String(m.parsed.html);
  assert.ok(!html.includes('<script'), 'no script');
  assert.ok(!html.includes('<img src=x'), 'no injected img');
  assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
});

test('SMTP faults: 421/451/452 for a while then accepted → each delivered once; 550 marks only that address failing', async () => {
  for (const [i, email] of ['f1@example.org', 'f2@example.org', 'f3@example.org', 'reject@example.org'].entries()) {
    await insertSubscriber(app.db, { email, emailKey: email, status: 'confirmed', prefs: { ...DEFAULT_PREFERENCES, skipEmpty: false }, source: 'test', now: new Date(clock.ms + i).toISOString() });
  }
  const codes = [421, 451, 452];
  sink.fault = (to, attempt) => {
    if (to.includes('reject@example.org')) return { code: 550, message: '5.1.1 no such user' };
    if (to.some((t) => t.startsWith('f')) && attempt <= 2) return { code: codes[attempt % 3]!, message: '4.3.0 try again later' };
    return null;
  };
  try {
    await app.digests.scheduleDate('2026-08-24');
    await deliver();
  } finally {
    sink.fault = () => null;
  }
  for (const email of ['f1@example.org', 'f2@example.org', 'f3@example.org']) {
    const got = sink.to(email).filter((m) => m.messageId.endsWith('2026-08-24@papers.example.org'));
    assert.equal(got.length, 1, email);
  }
  assert.equal(sink.to('reject@example.org').length, 0);
  assert.equal((await subscriberByKey(app.db, 'reject@example.org'))?.status, 'failing');
  assert.equal((await subscriberByKey(app.db, 'f1@example.org'))?.status, 'confirmed');
  const rows = await app.db.all<{ email_key: string; status: string }>(
    "SELECT s.email_key, d.status FROM digests d JOIN subscribers s ON s.id = d.subscriber_id WHERE d.issue_date = '2026-08-24' AND (s.email_key LIKE 'f_@example.org' OR s.email_key = 'reject@example.org') ORDER BY s.email_key",
  );
  assert.deepEqual(rows.map((r) => `${r.email_key} ${r.status}`), ['f1@example.org sent', 'f2@example.org sent', 'f3@example.org sent', 'reject@example.org failed']);
});

test('a connection dropped after DATA is retried: the message arrives (at most the in-flight one twice)', async () => {
  await insertSubscriber(app.db, { email: 'drop@example.org', emailKey: 'drop@example.org', status: 'confirmed', prefs: { ...DEFAULT_PREFERENCES, skipEmpty: false }, source: 'test', now: new Date(clock.ms).toISOString() });
  sink.fault = (to, attempt) => (to.includes('drop@example.org') && attempt === 1 ? 'drop' : null);
  try {
    await app.digests.scheduleDate('2026-08-25');
    await deliver();
  } finally {
    sink.fault = () => null;
  }
  const got = sink.to('drop@example.org').filter((m) => m.messageId.endsWith('2026-08-25@papers.example.org'));
  assert.equal(got.length, 1);
  const row = await app.db.get<{ status: string; attempts: number }>("SELECT d.status, d.attempts FROM digests d JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email_key = 'drop@example.org' AND d.issue_date = '2026-08-25'");
  assert.equal(row?.status, 'sent');
  assert.ok((row?.attempts ?? 0) >= 2);
});

test('five time zones across a daylight-saving change: one digest each local day, at the local hour', async () => {
  // Europe changes on 2026-10-25, the US on 2026-11-01: walk 2026-10-23 .. 2026-10-28 hour by hour.
  const zones = ['Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Sydney', 'UTC'];
  await app.db.run("UPDATE subscribers SET status = 'unsubscribed'");
  const start = Date.parse('2026-10-23T00:00:00Z');
  clock.ms = start;
  for (const tz of zones) {
    const email = `tz-${tz.replace('/', '-').toLowerCase()}@example.org`;
    await insertSubscriber(app.db, { email, emailKey: email, status: 'confirmed', prefs: { ...DEFAULT_PREFERENCES, timezone: tz, deliveryHour: 7, skipEmpty: false }, source: 'test', now: new Date(clock.ms).toISOString() });
  }
  const sentAt = new Map<string, number[]>();
  for (let h = 0; h < 6 * 24; h++) {
    clock.ms = start + h * 3_600_000 + 5 * 60_000;
    await app.digests.schedule();
    const before = sink.received.length;
    await app.digests.sendDue();
    for (const m of sink.received.slice(before)) for (const to of m.to) sentAt.set(to, [...(sentAt.get(to) ?? []), clock.ms]);
  }
  for (const tz of zones) {
    const email = `tz-${tz.replace('/', '-').toLowerCase()}@example.org`;
    const times = sentAt.get(email) ?? [];
    assert.ok(times.length >= 5 && times.length <= 6, `${tz}: ${times.length} digests`);
    const days = times.map((ms) => new Date(ms).toLocaleDateString('en-CA', { timeZone: tz }));
    assert.equal(new Set(days).size, days.length, `${tz}: one per local day ${days.join(' ')}`);
    for (const ms of times) assert.equal(localTime(ms, tz).hour, 7, `${tz} at ${new Date(ms).toISOString()}`);
  }
});
