/**
 * PostgreSQL keyword search against SQLite's FTS5 on the same papers (runs on the PostgreSQL pass
 * only, when PAPERBOY_TEST_DATABASE_URL is set): the same matches for the whole query language,
 * and the same BM25 scores where the two stemmers agree on the words.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { migrate } from '../src/db/migrations.ts';
import { openPostgres } from '../src/db/postgres.ts';
import { openSqlite } from '../src/db/sqlite.ts';
import type { Database } from '../src/db/sql.ts';
import { normalise } from '../src/ingest/normalise.ts';
import { searchKeyword } from '../src/search/service.ts';
import { similarPapers } from '../src/search/similar.ts';
import { upsertPaper } from '../src/store/papers.ts';
import { pgUrl, removeDir, tempDir, TEST_PG_URL } from './helpers/app.ts';

const skip = TEST_PG_URL ? false : 'PostgreSQL only (set PAPERBOY_TEST_DATABASE_URL)';
const schema = `t_search_pg_${process.pid}`;
let dir = '';
let lite: Database;
let pg: Database;

/** Words Porter and Snowball stem alike (most are left as they are). */
const VOCAB = (
  'llama int8 quantum graph robot vision kernel sparse token pixel sensor lattice photon tensor vector cache ' +
  'router prompt agent reward policy matrix signal spectrum orbit galaxy protein enzyme genome cell'
).split(' ');
const NAMES = ['Song Han', 'Wei Li', 'Ada Lovelace', 'Han Song', 'Alan Turing', 'Grace Hopper'];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

before(async () => {
  if (skip) return;
  dir = tempDir();
  lite = openSqlite(path.join(dir, 'p.db'));
  pg = openPostgres(pgUrl(schema));
  await Promise.all([migrate(lite), migrate(pg)]);
  const r = rng(7);
  const pick = (n: number) => Array.from({ length: n }, () => VOCAB[Math.floor(r() * r() * VOCAB.length)]!).join(' ');
  for (let i = 1; i <= 120; i++) {
    const rec = {
      id: `2402.${String(i).padStart(5, '0')}`,
      title: `${pick(2 + Math.floor(r() * 5))}${i % 10 === 0 ? ' state of the art' : ''}`,
      abstract: `${pick(10 + Math.floor(r() * 60))}. ${i % 7 === 0 ? 'The state of the art in' : 'We study'} ${pick(5)}.`,
      authors: [NAMES[i % NAMES.length]!, NAMES[(i * 5 + 1) % NAMES.length]!],
      date: `2024-0${1 + (i % 9)}-1${i % 10}`,
      categories: [i % 3 ? 'cs.LG' : 'cs.CV'],
    };
    const n = normalise(`t#${i}`, rec);
    if (!n.ok) throw new Error(n.reason);
    for (const db of [lite, pg]) await upsertPaper(db, 'test', n.value, '2024-10-01T00:00:00Z');
  }
});

after(async () => {
  if (skip) return;
  await pg.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await Promise.all([pg.close(), lite.close()]);
  removeDir(dir);
});

const both = async (q: string, opts = {}) => {
  const [a, b] = await Promise.all([searchKeyword(lite, q, { limit: 100, ...opts }), searchKeyword(pg, q, { limit: 100, ...opts })]);
  return { a, b };
};

test('the same BM25 ranking and scores as FTS5 (single words, all words, any word)', { skip }, async () => {
  const queries = ['llama', 'quantum graph', 'kernel sparse token', 'llama int8 quantum graph robot vision', 'galaxy protein enzyme genome cell orbit', 'photon'];
  for (const q of queries) {
    const { a, b } = await both(q);
    assert.ok(a.results.length > 0, q);
    assert.equal(b.match, a.match, q);
    assert.equal(b.total, a.total, q);
    assert.deepEqual(
      b.results.map((r) => [r.id, r.score]),
      a.results.map((r) => [r.id, r.score]),
      q,
    );
  }
});

test('the same matches for phrases, prefixes, names, exclusions and filters', { skip }, async () => {
  const queries = [
    '"state of the art"',
    '"state of the art" llama',
    'lat*',
    'spec* orbit',
    'author:"Song Han"',
    'author:"han song" llama',
    'author:turing -llama',
    'llama -quantum -"state of the art"',
    '-llama cat:cs.CV',
    'llama cat:cs.CV since:2024-03 until:2024-06',
    'zzzabsent',
    'llama zzzabsent',
  ];
  // A phrase from the end of a title into the start of its abstract is no phrase.
  const first = await lite.get<{ title: string; abstract: string }>('SELECT title, abstract FROM papers ORDER BY id LIMIT 1');
  queries.push(`"${first!.title.split(' ').at(-1)} ${first!.abstract.split(' ')[0]}"`);
  for (const q of queries) {
    const { a, b } = await both(q);
    assert.equal(b.mode, a.mode, q);
    assert.equal(b.match, a.match, q);
    assert.equal(b.total, a.total, q);
    assert.deepEqual(b.results.map((r) => r.id).sort(), a.results.map((r) => r.id).sort(), q);
    assert.deepEqual(b.facets, a.facets, q);
  }
});

test('more-like-this finds the same neighbours', { skip }, async () => {
  for (const { key } of await lite.all<{ key: string }>('SELECT key FROM papers WHERE id IN (5, 42)')) {
    const [a, b] = await Promise.all([similarPapers(lite, key, { k: 5 }), similarPapers(pg, key, { k: 5 })]);
    assert.ok(a?.results.length);
    assert.deepEqual(
      b?.results.map((r) => [r.key, r.score]),
      a?.results.map((r) => [r.key, r.score]),
    );
  }
});

test('the index follows updates and deletes', { skip }, async () => {
  const key = (await pg.get<{ key: string }>('SELECT key FROM papers ORDER BY id LIMIT 1 OFFSET 2'))!.key;
  assert.equal((await pg.run("UPDATE papers SET title = 'wombat burrows' WHERE key = ?", [key])).changes, 1);
  assert.deepEqual((await searchKeyword(pg, 'wombat')).results.map((r) => r.id), [key]);
  assert.equal((await pg.run('DELETE FROM papers WHERE key = ?', [key])).changes, 1);
  assert.deepEqual((await searchKeyword(pg, 'wombat')).results, []);
  const stray = await pg.get<{ n: number }>('SELECT COUNT(*) AS n FROM search_postings WHERE paper_id NOT IN (SELECT id FROM papers)');
  assert.equal(stray?.n, 0);
});
