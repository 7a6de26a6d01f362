/**
 * Operating it: /healthz, /readyz (database, migrations, scheduler lag), /metrics in Prometheus'
 * text format (who may read it), request ids, and logs that never carry a full address or a token.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { createLogger, type App } from '../src/app.ts';
import { loadDemoIfEmpty } from '../src/demo.ts';
import { DEFAULT_PREFERENCES, insertSubscriber } from '../src/store/subscribers.ts';
import { ensureJob } from '../src/store/jobs.ts';
import { buildServer, logUrl } from '../src/web/server.ts';
import { networks } from '../src/web/routes/health.ts';
import { tempApp } from './helpers/app.ts';

const logLines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  },
});

let app: App & { dir: string };
let server: FastifyInstance;

before(async () => {
  app = await tempApp({ PAPERBOY_METRICS_TOKEN: 'metrics-token-0123456789', PAPERBOY_RATE_LIMIT: '0' }, { log: createLogger('debug', sink as unknown as pino.DestinationStream) });
  await loadDemoIfEmpty(app);
  server = await buildServer(app);
});

after(async () => {
  await server?.close();
  await app?.close();
});

test('/healthz answers; /readyz checks the database, the schema version and the scheduler lag', async () => {
  const h = await server.inject('/healthz');
  assert.equal(h.statusCode, 200);
  assert.deepEqual(h.json(), { ok: true });
  assert.equal(h.headers['cache-control'], 'no-store');

  const r = await server.inject('/readyz');
  assert.equal(r.statusCode, 200, r.body);
  const body = r.json<{ ok: boolean; checks: Record<string, { ok: boolean; detail: string }> }>();
  assert.equal(body.ok, true);
  assert.deepEqual(Object.keys(body.checks).sort(), ['database', 'migrations', 'scheduler']);

  // A job two hours late (no worker has run it): not ready, and the answer says which check failed.
  await ensureJob(app.db, 'ingest:late', new Date(Date.now() - 2 * 3_600_000).toISOString());
  await new Promise((res) => setTimeout(res, 5100)); // the figures are cached for 5 s
  const late = await server.inject('/readyz');
  assert.equal(late.statusCode, 503);
  const lb = late.json<{ ok: boolean; checks: Record<string, { ok: boolean; detail: string }> }>();
  assert.equal(lb.checks.scheduler!.ok, false);
  assert.match(lb.checks.scheduler!.detail, /7\d{3} s behind/);
  assert.equal(lb.checks.database!.ok, true);
  await app.db.run("DELETE FROM jobs WHERE name = 'ingest:late'");
});

test('/metrics: Prometheus text with request histograms by route, ingest, digest and bounce figures', async () => {
  for (const url of ['/', '/search?q=quantization', '/api/trending', '/nope']) await server.inject(url);
  await insertSubscriber(app.db, { email: 'm@example.org', emailKey: 'm@example.org', status: 'confirmed', prefs: DEFAULT_PREFERENCES, source: 'test', now: new Date().toISOString() });
  await new Promise((res) => setTimeout(res, 5100));
  const r = await server.inject('/metrics');
  assert.equal(r.statusCode, 200, r.body);
  assert.match(r.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
  const text = r.body;
  // Every sample line is `name{labels} value`, and every family has HELP and TYPE.
  for (const line of text.split('\n').filter(Boolean)) {
    if (line.startsWith('#')) assert.match(line, /^# (HELP|TYPE) [a-z_:][a-z0-9_:]* /);
    else assert.match(line, /^[a-z_:][a-z0-9_:]*(\{([a-z_]+="([^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/, line);
  }
  assert.match(text, /paperboy_http_request_duration_seconds_bucket\{route="\/",method="GET",status="2xx",le="0\.005"\} \d+/);
  assert.match(text, /paperboy_http_request_duration_seconds_count\{route="\/search",method="GET",status="2xx"\} 1/);
  assert.match(text, /status="4xx"/, 'the 404 is counted');
  assert.match(text, /paperboy_ingest_records_total\{source="jsonl",outcome="new"\} 119/);
  assert.match(text, /paperboy_digest_queue_depth 0/);
  assert.match(text, /paperboy_subscribers\{status="confirmed"\} 1/);
  assert.match(text, /# TYPE paperboy_bounce_rate_last_day gauge/);
  assert.match(text, /process_resident_memory_bytes \d+/);
});

test('/metrics is for the allowed networks or the token holder; a forwarded request is not local', async () => {
  const forwarded = await server.inject({ url: '/metrics', headers: { 'x-forwarded-for': '127.0.0.1' } });
  assert.equal(forwarded.statusCode, 403);
  assert.equal(forwarded.json<{ error: { code: string } }>().error.code, 'forbidden');
  const remote = await server.inject({ url: '/metrics', remoteAddress: '203.0.113.9' });
  assert.equal(remote.statusCode, 403);
  const wrong = await server.inject({ url: '/metrics', remoteAddress: '203.0.113.9', headers: { authorization: 'Bearer nope-nope-nope-nope' } });
  assert.equal(wrong.statusCode, 403);
  const bearer = await server.inject({ url: '/metrics', remoteAddress: '203.0.113.9', headers: { authorization: 'Bearer metrics-token-0123456789' } });
  assert.equal(bearer.statusCode, 200);

  const list = networks(['10.0.0.0/8', '::1/128', 'garbage', '192.168.1.7']);
  assert.equal(list.check('10.2.3.4', 'ipv4'), true);
  assert.equal(list.check('11.2.3.4', 'ipv4'), false);
  assert.equal(list.check('192.168.1.7', 'ipv4'), true);
  assert.equal(list.check('::1', 'ipv6'), true);
});

test('request ids: a plain X-Request-Id is kept, anything else replaced; logs carry it', async () => {
  const a = await server.inject({ url: '/about', headers: { 'x-request-id': 'abc-123' } });
  assert.equal(a.headers['x-request-id'], 'abc-123');
  const b = await server.inject({ url: '/about', headers: { 'x-request-id': 'evil\r\nSet-Cookie: x=1' } });
  assert.match(b.headers['x-request-id'] as string, /^[0-9a-f]{16}$/);
  assert.ok(logLines.some((l) => l.includes('"reqId":"abc-123"') && l.includes('"route":"/about"')), 'the access log line has the request id');
});

test('logs: no full email address, no signed token, no secret', async () => {
  logLines.length = 0;
  const email = 'private.person@example.org';
  const r = await server.inject({ method: 'POST', url: '/api/subscribe', payload: { email, topics: ['agents'] } });
  assert.equal(r.statusCode, 202, r.body);
  await server.inject('/u/some-signed-token-value');
  await server.inject('/prefs/another-signed-token?x=1');
  app.log.info({ email, token: 'tok-123456', authorization: 'Bearer zzz' }, 'a careless line');
  const all = logLines.join('\n');
  assert.ok(logLines.length > 0);
  assert.ok(!all.includes(email), 'the address is masked');
  assert.ok(!all.includes('some-signed-token-value') && !all.includes('another-signed-token'), 'tokens in URLs are left out');
  assert.ok(!all.includes('tok-123456') && !all.includes('Bearer zzz'), 'secret fields are censored');
  assert.ok(!all.includes(app.config.secretKey));
  assert.equal(logUrl('/confirm/abc.def?x=1'), '/confirm/…?…');
  assert.equal(logUrl('/search?q=private.person%40example.org'), '/search?…');
});

test('rate limits count by the connecting address: a client cannot pick its own with X-Forwarded-For', async () => {
  const limited = await tempApp({ PAPERBOY_RATE_LIMIT: '3' });
  const s = await buildServer(limited);
  try {
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await s.inject({ url: '/about', remoteAddress: '203.0.113.5', headers: { 'x-forwarded-for': `198.51.100.${i}` } });
      codes.push(r.statusCode);
    }
    assert.deepEqual(codes, [200, 200, 200, 429, 429], 'a direct client is one address whatever it claims');
    // Behind the trusted (loopback) proxy, the forwarded address is the client's.
    const viaProxy: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await s.inject({ url: '/about', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': `198.51.100.${i}` } });
      viaProxy.push(r.statusCode);
    }
    assert.deepEqual(viaProxy, [200, 200, 200, 200, 200], 'each forwarded client has its own bucket');
  } finally {
    await s.close();
    await limited.close();
  }
});
