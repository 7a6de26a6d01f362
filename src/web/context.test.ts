import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Caches, CSRF_SLOT, fillPage } from './context.ts';

test('answer cache: computed once per TTL, least recently used evicted first, failures not kept', async () => {
  const c = new Caches(5_000, 30_000, 3);
  let n = 0;
  const get = (k: string, at: number) => c.answer(k, async () => `${k}${++n}`, at);
  assert.equal(await get('a', 0), 'a1');
  assert.equal(await get('a', 1), 'a1');
  await get('b', 2);
  await get('c', 3);
  await get('a', 4); // a is now the most recent
  await get('d', 5); // evicts b, the least recently used
  assert.equal(await get('a', 6), 'a1');
  assert.equal(await get('b', 7), 'b5');
  assert.equal(await get('a', 40_000), 'a6', 'expired after the TTL');
  await assert.rejects(c.answer('x', async () => Promise.reject(new Error('boom')), 8));
  assert.equal(await c.answer('x', async () => 'ok', 9), 'ok');
});

test('pages: bytes cut at the CSRF slots, filled per visitor; cleared by votes', () => {
  const c = new Caches(5_000, 30_000, 2);
  const e = c.setPage('home', `<form><input value="${CSRF_SLOT}"></form><b>é</b>${CSRF_SLOT}`, [1, 2], 0);
  assert.equal(fillPage(e.parts, 'tok').toString('utf8'), '<form><input value="tok"></form><b>é</b>tok');
  assert.ok(c.page('home', 1));
  assert.equal(c.page('home', 6_000), undefined);
  c.setPage('home', 'x', [], 10);
  c.clearPages();
  assert.equal(c.page('home', 11), undefined);
});
