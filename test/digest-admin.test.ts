/**
 * Operating the digest: the `subscribers`, `digest` and `bounces` commands against a real data dir
 * (mail to the file outbox, shown at /admin/outbox), the bounce webhook in both formats, DKIM
 * signing that covers List-Unsubscribe-Post, and preferences export/delete.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEMO_DIR } from '../src/demo.ts';
import { SmtpMailer } from '../src/digest/mailer.ts';
import { buildServer } from '../src/web/server.ts';
import { lastJson, removeDir, runCli, tempApp, tempDir } from './helpers/app.ts';
import { SmtpSink } from './helpers/smtp.ts';

let dir: string;
let env: Record<string, string>;

before(async () => {
  dir = tempDir('paperboy-digest-admin-');
  const daily = path.join(dir, 'daily');
  mkdirSync(daily);
  for (const d of ['2026-08-20.json', '2026-08-21.json']) copyFileSync(path.join(DEMO_DIR, 'hf-daily', d), path.join(daily, d));
  env = { PAPERBOY_DATA_DIR: dir, BASE_URL: 'https://papers.example.org', PAPERBOY_WEBHOOK_TOKEN: 'webhook-token-0123456789' };
  const r = await runCli(['ingest', 'hf-daily', daily, '--json'], env, 60_000);
  assert.equal(r.code, 0, r.stderr);
});

after(() => removeDir(dir));

test('subscribers add/import/list/export/remove, digest preview and run --date into the file outbox', async () => {
  let r = await runCli(['subscribers', 'add', 'Op@Example.org', '--confirmed', '--topic', 'agent', '--timezone', 'Asia/Kolkata', '--json'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(lastJson<{ status: string }>(r.stdout).status, 'confirmed');
  r = await runCli(['subscribers', 'add', 'op@example.org', '--confirmed'], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /already a subscriber/);
  const csv = path.join(dir, 'list.csv');
  writeFileSync(csv, 'email,topics,timezone,hour\r\n"a@example.org","agent;diffusion",Europe/Berlin,8\r\nnot-an-address,,,\r\nb@example.org,,,\r\n');
  r = await runCli(['subscribers', 'import', csv, '--confirmed', '--json'], env);
  assert.equal(r.code, 1, 'a skipped row is exit 1');
  const imp = lastJson<{ added: number; skipped: number; errors: string[] }>(r.stdout);
  assert.equal(imp.added, 2);
  assert.equal(imp.skipped, 1);
  assert.match(imp.errors[0]!, /list\.csv:3: that does not look like an email address/);
  r = await runCli(['subscribers', 'list', '--json'], env);
  const list = lastJson<{ counts: { confirmed: number }; subscribers: { email: string; topics: string[]; timezone: string; hour: number }[] }>(r.stdout);
  assert.equal(list.counts.confirmed, 3);
  assert.deepEqual(list.subscribers.find((s) => s.email === 'a@example.org'), { ...list.subscribers.find((s) => s.email === 'a@example.org'), topics: ['agent', 'diffusion'], timezone: 'Europe/Berlin', hour: 8 });
  r = await runCli(['subscribers', 'export'], env);
  assert.match(r.stdout, /^email,status,topics,timezone,hour,frequency,created_at\n/);
  assert.match(r.stdout, /a@example\.org,confirmed,agent;diffusion,Europe\/Berlin,8,daily,/);

  r = await runCli(['digest', 'preview', 'op@example.org', '--date', '2026-08-22', '--json'], env);
  assert.equal(r.code, 0, r.stderr);
  const pv = lastJson<{ subject: string; papers: { id: string; reason: string }[]; text: string }>(r.stdout);
  assert.ok(pv.papers.length > 0);
  assert.match(pv.subject, /^22 Aug 2026: /);
  assert.match(pv.text, /https:\/\/papers\.example\.org\/u\//);

  r = await runCli(['digest', 'run', '--date', '2026-08-22', '--dry-run', '--json'], env);
  assert.equal(lastJson<{ due: number; sent: number; dryRun: boolean }>(r.stdout).dryRun, true);
  assert.deepEqual(readdirSafe(path.join(dir, 'outbox', '2026-08-22')), []);

  r = await runCli(['digest', 'run', '--date', '2026-08-22', '--json'], env, 60_000);
  assert.equal(r.code, 0, r.stderr);
  const run = lastJson<{ due: number; sent: number; failed: number }>(r.stdout);
  assert.equal(run.sent, 3);
  assert.equal(run.failed, 0);
  const files = readdirSafe(path.join(dir, 'outbox', '2026-08-22')).filter((f) => f.endsWith('.eml'));
  assert.equal(files.length, 3);
  // Again: every digest of that date is already sent.
  r = await runCli(['digest', 'run', '--date', '2026-08-22', '--json'], env);
  assert.equal(lastJson<{ due: number }>(r.stdout).due, 0);

  r = await runCli(['subscribers', 'remove', 'b@example.org', '--json'], env);
  assert.equal(r.code, 0, r.stderr);
  r = await runCli(['subscribers', 'list', '--json'], env);
  assert.equal(lastJson<{ counts: { confirmed: number } }>(r.stdout).counts.confirmed, 2);
});

function readdirSafe(d: string): string[] {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}

test('the outbox page lists the file outbox and shows a message, from this machine only', async () => {
  const app = await tempApp({ ...env, PAPERBOY_DATA_DIR: dir });
  const server = await buildServer(app);
  try {
    const page = await server.inject({ url: '/admin/outbox', remoteAddress: '127.0.0.1' });
    assert.equal(page.statusCode, 200);
    const link = /href="(\/admin\/outbox\/2026-08-22\/[^"?]+\.eml)"/.exec(page.body)?.[1];
    assert.ok(link, page.body.slice(0, 500));
    const eml = await server.inject({ url: link, remoteAddress: '127.0.0.1' });
    assert.match(eml.body, /^List-Unsubscribe-Post: List-Unsubscribe=One-Click/m);
    const view = await server.inject({ url: `${link}?view=html`, remoteAddress: '127.0.0.1' });
    assert.match(String(view.headers['content-security-policy']), /sandbox/);
    assert.equal((await server.inject({ url: '/admin/outbox', remoteAddress: '203.0.113.5' })).statusCode, 404);
    // Through a reverse proxy on the same machine: not local.
    assert.equal((await server.inject({ url: '/admin/outbox', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.5' } })).statusCode, 404);
    assert.equal((await server.inject({ url: '/admin/outbox/2026-08-22/..%2F..%2Fsecret.key', remoteAddress: '127.0.0.1' })).statusCode, 404);
  } finally {
    await server.close();
    await app.close();
  }
});

test('bounce webhook: token required; generic JSON and Amazon SES (SNS) formats; complaints suppress', async () => {
  const app = await tempApp({ ...env, PAPERBOY_DATA_DIR: dir, PAPERBOY_SUPPRESS_AFTER_BOUNCES: '2' });
  const server = await buildServer(app);
  const post = (payload: unknown, auth = 'Bearer webhook-token-0123456789', type = 'application/json') =>
    server.inject({ method: 'POST', url: '/webhooks/bounces', headers: { authorization: auth, 'content-type': type }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });
  try {
    assert.equal((await post({ type: 'bounce', email: 'a@example.org' }, 'Bearer wrong')).statusCode, 401);
    assert.equal((await post({ nothing: true })).statusCode, 400);
    let r = await post({ type: 'bounce', email: 'a@example.org', hard: true, detail: '550 5.1.1 user unknown' });
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.json(), { received: 1, suppressed: 0, ignored: 0 });
    // SES via SNS (posted as text/plain): a second hard bounce suppresses.
    const ses = { Type: 'Notification', Message: JSON.stringify({ notificationType: 'Bounce', bounce: { bounceType: 'Permanent', bouncedRecipients: [{ emailAddress: 'A@example.org', diagnosticCode: 'smtp; 550 5.1.1' }] } }) };
    r = await post(JSON.stringify(ses), 'Bearer webhook-token-0123456789', 'text/plain');
    assert.deepEqual(r.json(), { received: 1, suppressed: 1, ignored: 0 });
    const complaint = { Type: 'Notification', Message: JSON.stringify({ notificationType: 'Complaint', complaint: { complainedRecipients: [{ emailAddress: 'op@example.org' }], complaintFeedbackType: 'abuse' } }) };
    r = await post(complaint);
    assert.deepEqual(r.json(), { received: 1, suppressed: 1, ignored: 0 });
    const sub = await app.db.get<{ status: string }>("SELECT status FROM subscribers WHERE email_key = 'op@example.org'");
    assert.equal(sub?.status, 'unsubscribed');
  } finally {
    await server.close();
    await app.close();
  }
  let r = await runCli(['bounces', 'list', '--json'], env);
  const b = lastJson<{ bounces: unknown[]; suppressed: { emailKey: string }[] }>(r.stdout);
  assert.equal(b.bounces.length, 3);
  assert.deepEqual(b.suppressed.map((s) => s.emailKey).sort(), ['a@example.org', 'op@example.org']);
  r = await runCli(['bounces', 'clear', 'a@example.org', '--json'], env);
  assert.deepEqual(lastJson(r.stdout), { bounces: 2, unsuppressed: true });
  // A suppressed address gets no mail, and the sign-up answer does not say so.
  r = await runCli(['bounces', 'list', '--json'], env);
  assert.deepEqual(lastJson<{ suppressed: { emailKey: string }[] }>(r.stdout).suppressed.map((s) => s.emailKey), ['op@example.org']);
});

test('DKIM: messages are signed and List-Unsubscribe-Post is among the signed headers', async () => {
  const sink = await new SmtpSink().start();
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const mailer = new SmtpMailer({ url: sink.url, poolSize: 1, ratePerSecond: 0, dkim: { domainName: 'example.org', keySelector: 'pb', privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString() } });
  try {
    await mailer.send({
      from: 'paperboy <digest@example.org>',
      to: 'x@example.org',
      subject: 'Hello',
      text: 'Hi',
      html: '<p>Hi</p>',
      messageId: 'digest-1-2026-08-22@example.org',
      headers: { 'List-Unsubscribe': '<https://example.org/u/x>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
      day: '2026-08-22',
    });
    const raw = sink.received[0]!.raw.replace(/\r?\n[ \t]+/g, ' ');
    const sig = /^DKIM-Signature: (.+)$/m.exec(raw)?.[1] ?? '';
    assert.match(sig, /d=example\.org/);
    assert.match(sig, /s=pb/);
    const h = /\bh=([^;]+)/.exec(sig)?.[1]?.split(':').map((x) => x.trim().toLowerCase()) ?? [];
    for (const name of ['from', 'subject', 'message-id', 'list-unsubscribe', 'list-unsubscribe-post']) assert.ok(h.includes(name), `${name} signed: ${h.join(':')}`);
  } finally {
    await mailer.close();
    await sink.stop();
  }
});

test('preferences: export and delete my data from the signed page', async () => {
  const app = await tempApp({ ...env, PAPERBOY_DATA_DIR: dir });
  const server = await buildServer(app);
  try {
    const s = await app.db.get<{ id: number; nonce: string }>("SELECT id, nonce FROM subscribers WHERE email_key = 'a@example.org'");
    assert.ok(s);
    const url = new URL(app.digests.link('prefs', s)).pathname;
    const page = await server.inject(url);
    assert.equal(page.statusCode, 200);
    const cookie = String(page.headers['set-cookie'] ?? '').split(';')[0]!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    // "Send me today's digest now": a preview in the outbox, recorded nowhere.
    const before = await app.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM digests');
    const pv = await server.inject({ method: 'POST', url: `${url}/preview`, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${csrf}` });
    assert.equal(pv.statusCode, 200);
    assert.match(pv.body, /Today&#39;s digest is on its way to a@example\.org/);
    assert.match(pv.body, /href="\/admin\/outbox"/);
    const outbox = readdirSafe(path.join(dir, 'outbox', new Date().toISOString().slice(0, 10))).concat(readdirSafe(path.join(dir, 'outbox')));
    assert.ok(outbox.length > 0);
    assert.deepEqual(await app.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM digests'), before);
    const exp = await server.inject({ method: 'POST', url: `${url}/export`, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${csrf}` });
    assert.equal(exp.statusCode, 200);
    assert.match(String(exp.headers['content-disposition']), /attachment/);
    const data = exp.json<{ subscriber: { email: string; nonce?: string }; digests: unknown[] }>();
    assert.equal(data.subscriber.email, 'a@example.org');
    assert.equal(data.subscriber.nonce, undefined);
    const del = await server.inject({ method: 'POST', url: `${url}/delete`, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${csrf}` });
    assert.equal(del.statusCode, 200);
    assert.equal(await app.db.get("SELECT 1 FROM subscribers WHERE email_key = 'a@example.org'"), undefined);
    // The link is dead now.
    assert.equal((await server.inject(url)).statusCode, 404);
  } finally {
    await server.close();
    await app.close();
  }
});
