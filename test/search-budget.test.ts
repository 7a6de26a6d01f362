/**
 * The work budget of keyword search on a collection big enough for it to matter (1,500 papers and
 * a budget of a few hundred scored documents): common words rank among the newest papers and say
 * so, any-word queries drop their commonest words first, rare words are untouched, and the stems
 * used for document frequencies and snippets agree with the FTS index itself.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { App } from '../src/app.ts';
import { runIngest } from '../src/ingest/run.ts';
import { searchKeyword } from '../src/search/service.ts';
import { highlightOf, snippetsOf } from '../src/search/snippet.ts';
import { stems } from '../src/search/stemmer.ts';
import { DfCache } from '../src/search/terms.ts';
import { MARK_END, MARK_START } from '../src/store/search.ts';
import { removeDir, tempApp } from './helpers/app.ts';

type TestApp = App & { dir: string };
let app: TestApp;
const N = 1500;

before(async () => {
  app = await tempApp();
  const lines: string[] = [];
  for (let i = 1; i <= N; i++) {
    const rare = i % 100 === 0 ? ' zeolite' : '';
    // alpha and beta are both common, but together only in the 100 oldest papers with i % 3 = 0.
    const ab = `${i % 3 === 0 ? ' alpha' : ''}${(i % 3 === 0 && i <= 300) || i % 3 === 1 ? ' beta' : ''}`;
    lines.push(
      JSON.stringify({
        id: `2401.${String(i).padStart(5, '0')}`,
        title: `Paper ${i} on learning models${rare}`,
        abstract: `We study learning with models of data in setting number ${i}. The models generalise.${rare}${ab}`,
        authors: ['A. Author'],
        date: '2024-01-01',
        categories: [i % 2 ? 'cs.LG' : 'cs.CV'],
      }),
    );
  }
  const file = path.join(app.dir, 'big.jsonl');
  writeFileSync(file, lines.join('\n') + '\n');
  const r = await runIngest(app, 'jsonl', { inputs: [file] });
  assert.equal(r.summary.new, N);
});

after(async () => {
  await app.close();
  removeDir(app.dir);
});

test('common words beyond the budget rank among the newest papers, and the answer says so', async () => {
  const a = await searchKeyword(app.db, 'learning models', { budget: 300, dfCache: new DfCache() });
  assert.equal(a.match, 'and');
  assert.ok(a.scope, JSON.stringify(a.ignored));
  assert.equal(a.scope.of, N);
  assert.ok(a.scope.newest < N && a.scope.newest >= 100, String(a.scope.newest));
  assert.ok(a.ignored.some((x) => x.includes('ranked among the newest')), a.ignored.join(' | '));
  assert.equal(a.results.length, 20);
  // The page comes from the newest papers (rowids arrive in ingest order here).
  for (const r of a.results) assert.ok(Number(r.id.slice(5)) > N - a.scope.newest, r.id);
  // The total is still counted over every match, as a lower bound past 10,000.
  assert.equal(a.total, N);
  // Within the default budget (20,000 at least) the same query ranks everything.
  const b = await searchKeyword(app.db, 'learning models', { dfCache: new DfCache() });
  assert.equal(b.scope, undefined);
  assert.equal(b.total, N);
});

test('a window that cannot fill the page falls back to ranking everything', async () => {
  // alpha and beta are each in a third of the papers or more: over budget, so the newest are
  // ranked first; but the papers with both are all old, so everything is ranked after all.
  const a = await searchKeyword(app.db, 'alpha beta', { budget: 300, dfCache: new DfCache() });
  assert.equal(a.scope, undefined);
  assert.equal(a.match, 'and');
  assert.equal(a.total, 100);
  assert.equal(a.results.length, 20);
});

test('rare words are never affected by the budget', async () => {
  const a = await searchKeyword(app.db, 'zeolite', { budget: 1, dfCache: new DfCache() });
  assert.equal(a.total, 15);
  assert.equal(a.results.length, 15);
});

test('any-word queries drop their commonest words first, keeping the rarest', async () => {
  const a = await searchKeyword(app.db, 'zeolite learning models data setting generalise', { budget: 100, dfCache: new DfCache() });
  assert.equal(a.match, 'or');
  const note = a.ignored.find((x) => x.startsWith('very common words not used for ranking'));
  assert.ok(note, a.ignored.join(' | '));
  assert.ok(!note.includes('zeolite'), note);
  // The rarest word decides the ranking: its papers come first.
  assert.ok(a.results.slice(0, 15).every((r) => r.title.includes('zeolite')), a.results.map((r) => r.title).join(' | '));
});

test('filters combine with a scoped ranking', async () => {
  const a = await searchKeyword(app.db, 'learning models cat:cs.CV', { budget: 300, dfCache: new DfCache() });
  assert.ok(a.results.length > 0);
  for (const r of a.results) assert.deepEqual(r.categories, ['cs.CV']);
});

test("stems are SQLite's own: document frequencies agree with the FTS vocabulary", async () => {
  assert.deepEqual(stems(['generalise', 'models', 'studies', 'running', 'Naïve', 'int8', '']), ['generalis', 'model', 'studi', 'run', 'naiv', 'int8', '']);
  const df = await new DfCache().get(app.db, ['models', 'model', 'generalise', 'zeolite', 'absent']);
  assert.equal(df.get('models'), N);
  assert.equal(df.get('model'), N);
  assert.equal(df.get('generalise'), N);
  assert.equal(df.get('zeolite'), 15);
  assert.equal(df.get('absent'), 0);
  // A prefix counts the documents of every term it expands to (an upper bound).
  assert.ok((await new DfCache().prefix(app.db, 'zeol')) === 15);
});

test('snippets: stemmed matches and prefixes are marked, the best window is chosen', () => {
  const text = `${'filler '.repeat(60)}Transformers generalise well; a transformer generalised. ${'tail '.repeat(60)}`;
  const [s] = snippetsOf([text], highlightOf(['generalisation'], ['transf']));
  assert.ok(s, 'a snippet');
  assert.ok(s.startsWith('…') && s.endsWith('…'), s);
  const marked = [...s.matchAll(new RegExp(`${MARK_START}([^${MARK_END}]*)${MARK_END}`, 'g'))].map((m) => m[1]);
  assert.deepEqual(marked, ['Transformers', 'generalise', 'transformer', 'generalised']);
  // No match: no snippet (the caller shows the start of the abstract).
  assert.deepEqual(snippetsOf(['nothing here'], highlightOf(['zeolite'], [])), [undefined]);
  // Short texts come whole.
  assert.equal(snippetsOf(['A zeolite.'], highlightOf(['zeolite'], []))[0], `A ${MARK_START}zeolite${MARK_END}.`);
});
