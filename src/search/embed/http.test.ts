import { test } from 'node:test';
import assert from 'node:assert/strict';
import { embeddingsEndpoint, HttpEmbedder, type HttpEmbedderOptions } from './http.ts';
import { EmbedError } from './embedder.ts';
import { hashEmbedding, startOpenAIServer, type OpenAIServer, type OpenAIServerOptions } from '../../../test/helpers/openai-server.ts';

async function withServer(opts: OpenAIServerOptions, fn: (server: OpenAIServer) => Promise<void>): Promise<void> {
  const server = await startOpenAIServer(opts);
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

/** An embedder whose backoff sleeps are instant but recorded. */
function embedder(server: OpenAIServer, opts: Partial<HttpEmbedderOptions> = {}): { e: HttpEmbedder; sleeps: number[]; retries: string[] } {
  const sleeps: number[] = [];
  const retries: string[] = [];
  const e = new HttpEmbedder({
    url: server.url,
    model: 'test-embed',
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    onRetry: ({ reason }) => retries.push(reason),
    ...opts,
  });
  return { e, sleeps, retries };
}

function close(a: Float32Array, b: number[]): boolean {
  return a.length === b.length && b.every((x, i) => Math.abs((a[i] as number) - x) < 1e-6);
}

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<EmbedError> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof EmbedError, `expected an EmbedError, got ${String(caught)}`);
  assert.match(caught.message, pattern);
  return caught;
}

test('embeddingsEndpoint accepts a base URL with or without /v1, or the full endpoint', () => {
  assert.equal(embeddingsEndpoint('http://localhost:11434').href, 'http://localhost:11434/v1/embeddings');
  assert.equal(embeddingsEndpoint('http://localhost:11434/').href, 'http://localhost:11434/v1/embeddings');
  assert.equal(embeddingsEndpoint('http://localhost:8080/v1').href, 'http://localhost:8080/v1/embeddings');
  assert.equal(embeddingsEndpoint('http://localhost:8080/v1/').href, 'http://localhost:8080/v1/embeddings');
  assert.equal(embeddingsEndpoint('https://api.openai.com/v1/embeddings').href, 'https://api.openai.com/v1/embeddings');
  assert.equal(embeddingsEndpoint('http://proxy/tei').href, 'http://proxy/tei/v1/embeddings');
  assert.equal(embeddingsEndpoint('https://x.example/openai/v1?api-version=2024').href, 'https://x.example/openai/v1/embeddings?api-version=2024');
  assert.throws(() => embeddingsEndpoint('localhost:11434'), (e: unknown) => e instanceof EmbedError && /URL must be http/.test(e.message));
  assert.throws(() => embeddingsEndpoint('not a url'), /invalid URL/);
});

test('embeds in order, normalised, as the server computes them; id names the model', async () => {
  await withServer({ dims: 16 }, async (server) => {
    const { e } = embedder(server);
    assert.equal(e.id, 'http:test-embed');
    assert.equal(e.dims, undefined);
    const texts = ['sparse attention for long documents', 'protein folding', 'sparse attention'];
    const vectors = await e.embed(texts, 'document');
    assert.equal(e.dims, 16, 'dims learnt from the first answer');
    assert.equal(vectors.length, 3);
    vectors.forEach((v, i) => assert.ok(close(v, hashEmbedding(texts[i] as string, 16)), `vector ${i}`));
    for (const v of vectors) assert.ok(Math.abs(v.reduce((s, x) => s + x * x, 0) - 1) < 1e-5);
    const [req] = server.requests;
    assert.equal(req?.method, 'POST');
    assert.equal(req?.path, '/v1/embeddings');
    assert.deepEqual(req?.body, { model: 'test-embed', input: texts });
    assert.equal(req?.headers['content-type'], 'application/json');
    assert.equal(req?.headers.authorization, undefined, 'no key, no Authorization header');
    assert.deepEqual(await e.embed([], 'query'), []);
    assert.equal(server.requests.length, 1, 'no request for no texts');
  });
});

test('splits into batches of batchSize and keeps the overall order', async () => {
  await withServer({ dims: 8 }, async (server) => {
    const { e } = embedder(server, { batchSize: 4 });
    const texts = Array.from({ length: 10 }, (_, i) => `paper number ${i} about topic ${i % 3}`);
    const vectors = await e.embed(texts, 'document');
    assert.deepEqual(server.requests.map((r) => r.input.length), [4, 4, 2]);
    assert.deepEqual(server.requests.flatMap((r) => r.input), texts);
    vectors.forEach((v, i) => assert.ok(close(v, hashEmbedding(texts[i] as string, 8)), `vector ${i}`));
  });
});

test('query and document prefixes are applied by kind', async () => {
  await withServer({}, async (server) => {
    const { e } = embedder(server, { queryPrefix: 'Represent this sentence for searching relevant passages: ', documentPrefix: 'passage: ' });
    await e.embed(['sparse attention'], 'query');
    await e.embed(['A paper.'], 'document');
    assert.deepEqual(server.requests.map((r) => r.input), [
      ['Represent this sentence for searching relevant passages: sparse attention'],
      ['passage: A paper.'],
    ]);
  });
});

test('sends the API key as a bearer token; a wrong key fails without leaking it', async () => {
  await withServer({ apiKey: 'sk-right-key-123' }, async (server) => {
    const { e } = embedder(server, { apiKey: 'sk-right-key-123' });
    await e.embed(['hello'], 'query');
    assert.equal(server.requests[0]?.headers.authorization, 'Bearer sk-right-key-123');

    const { e: wrong, sleeps } = embedder(server, { apiKey: 'sk-wrong-key-456' });
    const err = await rejects(wrong.embed(['hello'], 'query'), /HTTP 401: Incorrect API key provided: \*\*\*/);
    assert.ok(!err.message.includes('sk-wrong-key-456'), err.message);
    assert.ok(!String(err.stack).includes('sk-wrong-key-456'));
    assert.equal(err.status, 401);
    assert.equal(err.transient, false);
    assert.deepEqual(sleeps, [], '401 is not retried');
  });
});

test('credentials in the URL become Basic auth and never appear in messages', async () => {
  await withServer({}, async (server) => {
    const url = server.url.replace('http://', 'http://user:s3cret-pass@') + '/v1?token=s3cret-token';
    const { e } = embedder(server, { url, dims: 5 });
    const err = await rejects(e.embed(['x'], 'query'), /returned 32 dimensions, expected 5/);
    assert.equal(server.requests[0]?.headers.authorization, `Basic ${Buffer.from('user:s3cret-pass').toString('base64')}`);
    assert.ok(!/s3cret/.test(err.message), err.message);
    assert.match(err.message, new RegExp(`at ${server.url.replace(/[.]/g, '\\.')}/v1/embeddings returned`));
  });
});

test('retries 500 and 429 with exponential backoff, then succeeds', async () => {
  await withServer({}, async (server) => {
    server.fail({ status: 500 }, { status: 429 }, { status: 503 });
    const { e, sleeps, retries } = embedder(server, { backoffMs: 100 });
    const [v] = await e.embed(['retry me'], 'document');
    assert.ok(v && close(v, hashEmbedding('retry me', 32)));
    assert.equal(server.requests.length, 4);
    assert.equal(sleeps.length, 3);
    // base 100 * 2^(n-1) plus up to 25 % jitter
    [100, 200, 400].forEach((base, i) => assert.ok((sleeps[i] as number) >= base && (sleeps[i] as number) <= base * 1.25, `sleep ${i}: ${sleeps[i]}`));
    assert.deepEqual(retries.map((r) => r.slice(0, 8)), ['HTTP 500', 'HTTP 429', 'HTTP 503']);
  });
});

test('Retry-After (seconds or a date) replaces the computed delay, capped at maxBackoffMs', async () => {
  await withServer({}, async (server) => {
    server.fail(
      { status: 429, headers: { 'retry-after': '2' } },
      { status: 503, headers: { 'retry-after': new Date(Date.now() + 3_600_000).toUTCString() } },
    );
    const { e, sleeps } = embedder(server, { maxBackoffMs: 10_000 });
    await e.embed(['x'], 'query');
    assert.deepEqual(sleeps, [2000, 10_000]);
  });
});

test('gives up after the configured retries with a clear, transient error', async () => {
  await withServer({}, async (server) => {
    server.fail({ status: 502 }, { status: 502 }, { status: 502 });
    const { e, sleeps } = embedder(server, { retries: 2 });
    const err = await rejects(e.embed(['x'], 'query'), /^http embedder: model test-embed at http:\/\/127\.0\.0\.1:\d+\/v1\/embeddings failed after 3 attempts: HTTP 502: injected HTTP 502$/);
    assert.equal(err.status, 502);
    assert.equal(err.transient, true);
    assert.equal(sleeps.length, 2);
  });
});

test('retries dropped connections and timeouts', async () => {
  await withServer({}, async (server) => {
    server.fail('drop', 'hang');
    const { e, retries } = embedder(server, { timeoutMs: 300 });
    const [v] = await e.embed(['eventually'], 'query');
    assert.ok(v);
    assert.equal(server.requests.length, 3);
    assert.match(retries[0] ?? '', /^network error/);
    assert.equal(retries[1], 'no answer within 300 ms');
  });
});

test('a refused connection is a network error naming the endpoint', async () => {
  const server = await startOpenAIServer();
  const url = server.url;
  await server.close();
  const e = new HttpEmbedder({ url, model: 'm', retries: 1, sleep: async () => {} });
  const err = await rejects(e.embed(['x'], 'query'), /model m at http:\/\/127\.0\.0\.1:\d+\/v1\/embeddings failed after 2 attempts: network error: ECONNREFUSED/);
  assert.equal(err.transient, true);
});

test('4xx other than 408/429 fails at once with the server message', async () => {
  await withServer({ models: ['other-model'] }, async (server) => {
    const { e, sleeps } = embedder(server);
    await rejects(e.embed(['x'], 'query'), /failed: HTTP 404: The model 'test-embed' does not exist$/);
    assert.deepEqual(sleeps, []);
  });
  await withServer({}, async (server) => {
    server.fail({ status: 413, body: JSON.stringify({ error: 'batch size 64 > maximum allowed batch size 32', error_type: 'Validation' }) });
    const { e } = embedder(server);
    await rejects(e.embed(['x'], 'query'), /HTTP 413: batch size 64 > maximum allowed batch size 32$/);
    server.fail({ status: 422, body: JSON.stringify({ detail: [{ msg: 'field required' }] }) });
    await rejects(e.embed(['x'], 'query'), /HTTP 422: \[\{"msg":"field required"\}\]$/);
  });
});

test('wrong dimensions are a clear error', async () => {
  await withServer({ dims: 512 }, async (server) => {
    const { e } = embedder(server, { model: 'nomic-embed-text', dims: 384 });
    const err = await rejects(e.embed(['x'], 'document'), /^http embedder: model nomic-embed-text at http:\/\/127\.0\.0\.1:\d+\/v1\/embeddings returned 512 dimensions, expected 384$/);
    assert.equal(err.transient, false);
  });
  await withServer({ dims: 16 }, async (server) => {
    const { e } = embedder(server);
    await e.embed(['first'], 'document');
    server.fail({ dims: 24 });
    await rejects(e.embed(['second'], 'document'), /returned 24 dimensions, earlier embeddings had 16$/);
    server.fail({ firstDims: 15 });
    await rejects(e.embed(['a', 'b'], 'document'), /returned 15 dimensions, earlier embeddings had 16$/);
  });
});

test('sendDimensions asks the server for shortened vectors and is part of the id', async () => {
  await withServer({ dims: 64 }, async (server) => {
    const { e } = embedder(server, { dims: 64, sendDimensions: true });
    assert.equal(e.id, 'http:test-embed@64');
    await e.embed(['x'], 'query');
    assert.deepEqual(server.requests[0]?.body, { model: 'test-embed', input: ['x'], dimensions: 64 });
  });
});

test('malformed answers are clear errors and are not retried', async () => {
  await withServer({}, async (server) => {
    const { e, sleeps } = embedder(server);
    server.fail('bad-json');
    await rejects(e.embed(['x'], 'query'), /failed: the answer is not JSON \(starts "\{\\"object\\": \\"list\\", \\"data\\": \[ <html>oops"\)$/);
    server.fail('no-data');
    await rejects(e.embed(['x'], 'query'), /answered without a "data" array/);
    server.fail('missing-one');
    await rejects(e.embed(['x', 'y', 'z'], 'query'), /returned 2 embeddings for 3 inputs$/);
    server.fail('non-numeric');
    await rejects(e.embed(['x', 'y'], 'query'), /returned data\[0\]\.embedding that is not an array of numbers$/);
    assert.deepEqual(sleeps, []);
  });
});

test('out-of-order answers are put back in order by index; base64 embeddings are accepted', async () => {
  await withServer({ dims: 12 }, async (server) => {
    const { e } = embedder(server);
    const texts = ['alpha beta', 'gamma', 'delta epsilon zeta', 'eta'];
    server.fail('reversed', 'base64');
    const a = await e.embed(texts, 'document');
    const b = await e.embed(texts, 'document');
    for (const vectors of [a, b]) vectors.forEach((v, i) => assert.ok(close(v, hashEmbedding(texts[i] as string, 12)), `vector ${i}`));
    // Without index fields the array order is all there is: reversed data then gives reversed vectors.
    server.fail('reversed-no-index');
    const c = await e.embed(texts, 'document');
    assert.ok(close(c[0] as Float32Array, hashEmbedding('eta', 12)));
  });
});

test('duplicate or out-of-range indexes are errors', async () => {
  await withServer({}, async (server) => {
    const { e } = embedder(server);
    // A 200 with a hand-made body, through the status fault.
    server.fail({ status: 200, body: JSON.stringify({ data: [{ index: 0, embedding: [1, 0] }, { index: 0, embedding: [0, 1] }] }) });
    await rejects(e.embed(['a', 'b'], 'query'), /returned index 0 twice$/);
    server.fail({ status: 200, body: JSON.stringify({ data: [{ index: 5, embedding: [1, 0] }] }) });
    await rejects(e.embed(['a'], 'query'), /returned data\[0\]\.index 5, outside 0\.\.0$/);
    server.fail({ status: 200, body: JSON.stringify({ data: [{ index: 0, embedding: [0, 0] }] }) });
    await rejects(e.embed(['a'], 'query'), /unusable embedding for input 0: the vector is all zeros$/);
  });
});

test('bad options are rejected up front', () => {
  assert.throws(() => new HttpEmbedder({ url: 'http://x', model: '' }), /a model name is required/);
  assert.throws(() => new HttpEmbedder({ url: 'http://x', model: 'm', batchSize: 0 }), /batchSize must be a positive integer/);
  assert.throws(() => new HttpEmbedder({ url: 'http://x', model: 'm', dims: 1.5 }), /dims must be a positive integer/);
  assert.throws(() => new HttpEmbedder({ url: 'http://x', model: 'm', sendDimensions: true }), /sendDimensions needs dims/);
});
