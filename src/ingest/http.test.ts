import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpClient, HttpError, redactUrl } from './http.ts';
import type { HttpOptions } from './http.ts';
import { recordedArxivApi, startReplayServer } from '../../test/helpers/replay-server.ts';
import type { ReplayHandler, ReplayServer } from '../../test/helpers/replay-server.ts';

const SHARED_DATA = '/work/shared/data';
const TESTING_10 = '/api/query?search_query=testing&id_list=&sortBy=relevance&sortOrder=descending&start=0&max_results=10';
const BAD_ID = '/api/query?search_query=&id_list=abc&sortBy=relevance&sortOrder=descending&start=0&max_results=100';

/** A client whose sleeps are instant but recorded. */
function fastClient(opts: HttpOptions = {}): { client: HttpClient; sleeps: number[]; retries: { attempt: number; delayMs: number; reason: string }[] } {
  const sleeps: number[] = [];
  const retries: { attempt: number; delayMs: number; reason: string }[] = [];
  const client = new HttpClient({
    backoffMs: 100,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    onRetry: ({ attempt, delayMs, reason }) => retries.push({ attempt, delayMs, reason }),
    ...opts,
  });
  return { client, sleeps, retries };
}

async function withServer(handler: ReplayHandler, fn: (server: ReplayServer) => Promise<void>): Promise<void> {
  const server = await startReplayServer(handler);
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

test('200 passes a recorded arXiv body through unchanged', async () => {
  const recorded = recordedArxivApi(SHARED_DATA);
  const rec = recorded.get(TESTING_10);
  assert.ok(rec, 'recorded response for the testing query');
  await withServer(
    ({ url }) => {
      const hit = recorded.get(url.pathname + url.search);
      return hit ? { status: hit.status, body: hit.body, headers: { 'content-type': 'application/atom+xml' } } : { status: 404, body: 'no recording' };
    },
    async (server) => {
      const { client, sleeps } = fastClient();
      const res = await client.get(server.url + TESTING_10);
      assert.equal(res.status, 200);
      assert.equal(res.body.toString('utf8'), rec.body);
      assert.equal(res.headers.get('content-type'), 'application/atom+xml');
      assert.equal(res.url, server.url + TESTING_10);
      assert.deepEqual(server.requests.map((r) => r.url), [TESTING_10]);
      assert.deepEqual(sleeps, []);
    },
  );
});

test('HTTP 500 twice then success returns the body after 3 requests', async () => {
  await withServer(
    ({ count }) => (count <= 2 ? { status: 500, body: 'oops' } : { body: 'ok' }),
    async (server) => {
      const { client, retries, sleeps } = fastClient();
      const res = await client.get(`${server.url}/x`);
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'ok');
      assert.equal(server.requests.length, 3);
      assert.deepEqual(retries.map((r) => [r.attempt, r.reason]), [[1, 'HTTP 500'], [2, 'HTTP 500']]);
      // Exponential backoff: base * 2^(attempt-1) plus at most 25 % jitter.
      assert.ok(sleeps[0]! >= 100 && sleeps[0]! <= 125, `first backoff ${sleeps[0]}`);
      assert.ok(sleeps[1]! >= 200 && sleeps[1]! <= 250, `second backoff ${sleeps[1]}`);
    },
  );
});

test('Retry-After on 503 and 429 replaces the backoff (seconds, HTTP date, capped)', async () => {
  await withServer(
    ({ url, count }) => {
      if (count > 1) return { body: 'ok' };
      if (url.pathname === '/seconds') return { status: 503, body: '', headers: { 'retry-after': '1' } };
      if (url.pathname === '/date') return { status: 429, body: '', headers: { 'retry-after': 'Mon, 01 Jan 2024 00:00:02 GMT' } };
      return { status: 503, body: '', headers: { 'retry-after': '3600' } };
    },
    async (server) => {
      const { client, sleeps } = fastClient({ now: () => Date.parse('2024-01-01T00:00:00Z'), maxBackoffMs: 5000 });
      for (const path of ['/seconds', '/date', '/capped']) {
        assert.equal((await client.get(server.url + path)).body.toString(), 'ok');
      }
      assert.deepEqual(sleeps, [1000, 2000, 5000]);
      assert.equal(server.requests.length, 6);
    },
  );
});

test('HTTP 400 (the arXiv API error feed) is returned without retry', async () => {
  const rec = recordedArxivApi(SHARED_DATA).get(BAD_ID);
  assert.ok(rec && rec.status === 400, 'recorded 400 response');
  await withServer(
    () => ({ status: rec.status, body: rec.body }),
    async (server) => {
      const { client, retries } = fastClient();
      const res = await client.get(server.url + BAD_ID);
      assert.equal(res.status, 400);
      assert.match(res.body.toString(), /<feed/);
      assert.equal(server.requests.length, 1);
      assert.deepEqual(retries, []);
    },
  );
});

test('persistent 500 throws HttpError after retries + 1 attempts', async () => {
  await withServer(
    () => ({ status: 500, body: 'down' }),
    async (server) => {
      const { client, retries } = fastClient({ retries: 2 });
      const err = await client.get(`${server.url}/x`).then(
        () => assert.fail('expected HttpError'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof HttpError);
      assert.equal(err.message, `http: GET ${server.url}/x failed after 3 attempts: HTTP 500`);
      assert.equal(err.status, 500);
      assert.equal(err.attempts, 3);
      assert.equal(err.url, `${server.url}/x`);
      assert.equal(server.requests.length, 3);
      assert.equal(retries.length, 2);
    },
  );
});

test('a dropped connection is retried; persistent drops fail with a network reason', async () => {
  await withServer(
    ({ url, count }) => (url.pathname === '/always' || count === 1 ? 'drop' : { body: 'ok' }),
    async (server) => {
      const { client, retries } = fastClient({ retries: 1 });
      const res = await client.get(`${server.url}/once`);
      assert.equal(res.body.toString(), 'ok');
      assert.equal(retries.length, 1);
      assert.match(retries[0]!.reason, /^network error/);

      const err = await client.get(`${server.url}/always`).then(
        () => assert.fail('expected HttpError'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof HttpError);
      assert.equal(err.status, undefined);
      assert.equal(err.attempts, 2);
      assert.match(err.message, /\/always failed after 2 attempts: network error/);
    },
  );
});

test('a hanging server times out and the request is retried', async () => {
  await withServer(
    ({ count }) => (count === 1 ? 'hang' : { body: 'late but fine' }),
    async (server) => {
      const { client, retries } = fastClient({ timeoutMs: 150 });
      const res = await client.get(`${server.url}/slow`);
      assert.equal(res.body.toString(), 'late but fine');
      // On a loaded machine a retry may itself time out; the first failure must be the hang.
      assert.ok(server.requests.length >= 2);
      assert.equal(retries[0]?.reason, 'timeout after 150 ms');
    },
  );
});

/** Records when the client actually calls fetch (server arrival times jitter on a loaded machine). */
async function withFetchStarts(fn: (starts: number[]) => Promise<void>): Promise<void> {
  const realFetch = globalThis.fetch;
  const starts: number[] = [];
  globalThis.fetch = (...args: Parameters<typeof fetch>) => {
    starts.push(Date.now());
    return realFetch(...args);
  };
  try {
    await fn(starts);
  } finally {
    globalThis.fetch = realFetch;
  }
}

test('minIntervalMs spaces sequential and concurrent request starts to one host', async () => {
  const interval = 150;
  const tolerance = 5;
  await withServer(
    () => ({ body: 'ok' }),
    async (server) => {
      await withFetchStarts(async (starts) => {
        const client = new HttpClient({ minIntervalMs: interval });
        for (let i = 0; i < 3; i++) await client.get(`${server.url}/seq/${i}`);
        await Promise.all([0, 1, 2].map((i) => client.get(`${server.url}/par/${i}`)));
        assert.equal(starts.length, 6);
        const gaps = starts.slice(1).map((t, i) => t - (starts[i] ?? 0));
        for (const gap of gaps) assert.ok(gap >= interval - tolerance, `gap ${gap} ms < ${interval} ms`);
      });
      // Concurrent calls are served one after another, in call order.
      assert.deepEqual(server.requests.slice(3).map((r) => r.url), ['/par/0', '/par/1', '/par/2']);
    },
  );
});

test('one request at a time per host, but hosts do not block each other', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  await withServer(
    async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 20));
      inFlight--;
      return { body: 'ok' };
    },
    async (server) => {
      const client = new HttpClient();
      await Promise.all([0, 1, 2, 3].map((i) => client.get(`${server.url}/p/${i}`)));
      assert.equal(maxInFlight, 1);

      // A request hanging on one host does not hold up another host.
      const hanging = await startReplayServer(() => 'hang');
      const stuck = new HttpClient({ retries: 0 }).get(`${hanging.url}/stuck`);
      const stuckOutcome = stuck.then(
        () => 'resolved',
        (e: unknown) => (e instanceof HttpError ? 'HttpError' : 'other'),
      );
      try {
        const res = await client.get(`${server.url}/other-host`);
        assert.equal(res.body.toString(), 'ok');
      } finally {
        await hanging.close();
      }
      assert.equal(await stuckOutcome, 'HttpError');
    },
  );
});

test('maxBytes refuses oversized bodies without retrying', async () => {
  const big = 'x'.repeat(2000);
  await withServer(
    ({ url }) => (url.pathname === '/chunked' ? { body: big, headers: { 'transfer-encoding': 'chunked' } } : { body: big }),
    async (server) => {
      const { client, retries } = fastClient({ maxBytes: 1000 });
      for (const path of ['/sized', '/chunked']) {
        const err = await client.get(server.url + path).then(
          () => assert.fail('expected HttpError'),
          (e: unknown) => e,
        );
        assert.ok(err instanceof HttpError, path);
        assert.match(err.message, /exceeds maxBytes 1000/);
        assert.equal(err.attempts, 1);
      }
      assert.equal(server.requests.length, 2);
      assert.deepEqual(retries, []);
      assert.equal((await fastClient({ maxBytes: 2000 }).client.get(`${server.url}/sized`)).body.length, 2000);
    },
  );
});

test('redactUrl hides passwords and key/token/api_key values, keeping the rest', () => {
  assert.equal(redactUrl('https://user:s3cret@example.org/a?b=1'), 'https://user@example.org/a?b=1');
  assert.equal(
    redactUrl('https://example.org/q?id_list=0808.05394%2C1707.08567&api_key=abc&token=t&KEY=k&keyword=x'),
    'https://example.org/q?id_list=0808.05394%2C1707.08567&api_key=REDACTED&token=REDACTED&KEY=REDACTED&keyword=x',
  );
  assert.equal(redactUrl('http://127.0.0.1:1234/x'), 'http://127.0.0.1:1234/x');
  assert.equal(redactUrl('not a url'), 'not a url');
});

test('HttpError messages name the redacted URL', async () => {
  await withServer(
    () => ({ status: 502, body: '' }),
    async (server) => {
      const { client } = fastClient({ retries: 0 });
      const err = await client.get(`${server.url}/x?token=hunter2`).then(
        () => assert.fail('expected HttpError'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof HttpError);
      assert.equal(err.message, `http: GET ${server.url}/x?token=REDACTED failed after 1 attempts: HTTP 502`);
      assert.doesNotMatch(err.message + err.url, /hunter2/);
    },
  );
});
