/**
 * Keyword search end to end on real, migrated SQLite: the query language, ranking, facets,
 * snippets, pagination, FTS5 kept in sync by the triggers, hostile queries over HTTP, a
 * property test that no query string ever throws, and the `search` / `eval` CLI commands.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import type { App } from '../src/app.ts';
import { runIngest } from '../src/ingest/run.ts';
import { searchKeyword, type SearchAnswer, type SearchOptions } from '../src/search/service.ts';
import { buildServer } from '../src/web/server.ts';
import { lastJson, removeDir, runCli, SHARED, tempApp, tempDir } from './helpers/app.ts';

type TestApp = App & { dir: string };

interface Rec {
  id?: string;
  title: string;
  abstract?: string;
  authors?: string[];
  date?: string;
  categories?: string[];
}

const SCRIPT = '<script>alert(1)</script>';

/** The small corpus: every id is the paper's public key (arXiv ids without a version). */
const CORPUS: Rec[] = [
  {
    id: '2401.00001',
    title: 'LLaMA-2 on Jetson with INT8',
    abstract: 'We quantise the weights of a large model to eight bits and serve it on an embedded Orin board. Code: https://github.com/example/llama-jetson',
    authors: ['Ji Lin', 'Song Han'],
    date: '2024-01-15',
    categories: ['cs.LG'],
  },
  {
    id: '2305.00002',
    title: 'Running language models on phones',
    abstract: 'We show that Llama 2 runs on commodity phones with 4-bit weights and careful memory planning.',
    authors: ['Alice Smith', 'Bob Jones'],
    date: '2023-05-10',
    categories: ['cs.CL'],
  },
  {
    id: '2502.00003',
    title: 'Efficient transformers for 3D point clouds',
    abstract: 'A sparse attention backbone for detection from lidar point clouds. https://github.com/example/pointformer',
    authors: ['Zhijian Liu', 'Song Han'],
    date: '2025-02-14',
    categories: ['cs.CV', 'cs.LG'],
  },
  {
    id: '2310.00004',
    title: 'Neural machine translation for low-resource languages',
    abstract: 'We revisit machine translation between low-resource languages with an encoder-decoder network.',
    authors: ['Maria Garcia'],
    date: '2023-10-01',
    categories: ['cs.CL'],
  },
  {
    id: '2406.00005',
    title: 'Variational inference beyond the KL objective',
    abstract: 'We minimise the $\\alpha$-divergence between the posterior and a Gaussian family, generalising the usual objective.',
    authors: ['Yee Teh'],
    date: '2024-06-15',
    categories: ['stat.ML'],
  },
  {
    id: '2411.00006',
    title: 'Real-time object detection on embedded devices',
    abstract: 'A detector benchmarked on the Jetson Nano and on phones, without any quantisation.',
    authors: ['Carol White'],
    date: '2024-11-20',
    categories: ['cs.CV'],
  },
  {
    id: '2312.00007',
    title: 'Graph neural networks for molecules',
    abstract: 'Message passing on molecular graphs. Code and data: https://github.com/example/molgnn',
    authors: ['Dan Brown'],
    date: '2023-12-05',
    categories: ['cs.LG', 'stat.ML'],
  },
  {
    id: '2501.00008',
    title: 'Knowledge distillation for small vision models',
    abstract: 'A compact student network learns from a large teacher on image classification.',
    authors: ['Erin Black'],
    date: '2025-01-10',
    categories: ['cs.CV'],
  },
  {
    id: '2407.00009',
    title: 'Robust image classifiers under distribution shift',
    abstract: 'Our recipe combines augmentation with distillation and improves accuracy on shifted test sets.',
    authors: ['Frank Green'],
    date: '2024-07-04',
    categories: ['cs.CV'],
  },
  {
    id: '2308.00010',
    title: 'Instruction tuning Llama 2 for code generation',
    abstract: 'Fine-tuning an open model on programming instructions.',
    authors: ['Grace Hopper'],
    date: '2023-08-01',
    categories: ['cs.CL'],
  },
  {
    id: '2403.00011',
    title: '3D Gaussian splatting for dynamic scenes',
    abstract: 'Rendering moving scenes in real time with deformable Gaussians.',
    authors: ['Heidi Klum'],
    date: '2024-03-03',
    categories: ['cs.CV'],
  },
  {
    id: '2302.00012',
    title: 'Int8 matrix multiplication for transformers at scale',
    abstract: 'Outlier-aware eight-bit inference for very large networks.',
    authors: ['Ivan Petrov'],
    date: '2023-02-20',
    categories: ['cs.LG'],
  },
  {
    id: '2409.00013',
    title: 'Privacy attacks on large language models',
    abstract: 'Membership inference and training data extraction from deployed chat systems.',
    // Both of Song Han's names, on two different people.
    authors: ['Song Li', 'Wei Han'],
    date: '2024-09-09',
    categories: ['cs.CL', 'cs.CR'],
  },
  {
    id: '2504.00014',
    title: 'Sanitising untrusted markup in web applications',
    abstract: `A payload such as ${SCRIPT} is neutralised by our sanitiser before rendering.`,
    authors: ['Mallory Evans'],
    date: '2025-04-01',
    categories: ['cs.CR'],
  },
  {
    id: '2311.00015',
    title: 'Speculative decoding for faster generation',
    abstract: 'A small draft model proposes tokens that a large model verifies in parallel.',
    authors: ['Judy Blue'],
    date: '2023-11-11',
    categories: ['cs.CL', 'cs.LG'],
  },
];

const HAS_CODE = new Set(['2401.00001', '2502.00003', '2312.00007']);

function byId(id: string): Rec {
  const r = CORPUS.find((x) => x.id === id);
  assert.ok(r, `no paper ${id} in the corpus`);
  return r;
}

function writeJsonl(dir: string, name: string, records: readonly object[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return file;
}

async function ingestRecords(app: TestApp, name: string, records: readonly object[]) {
  const r = await runIngest(app, 'jsonl', { inputs: [writeJsonl(app.dir, name, records)] });
  assert.deepEqual(r.summary.errors, []);
  return r.summary;
}

/** One app with the corpus, shared by the read-only tests below (and closed after them). */
let corpusApp: Promise<TestApp> | undefined;
function corpus(): Promise<TestApp> {
  corpusApp ??= (async () => {
    const app = await tempApp();
    const s = await ingestRecords(app, 'corpus.jsonl', CORPUS);
    assert.equal(s.new, CORPUS.length);
    return app;
  })();
  return corpusApp;
}
after(async () => {
  if (corpusApp) await (await corpusApp).close();
});

async function search(q: string, opts: SearchOptions = {}): Promise<SearchAnswer> {
  const app = await corpus();
  return searchKeyword(app.db, q, opts);
}

const ids = (a: SearchAnswer) => a.results.map((r) => r.id);
const sorted = (xs: readonly string[]) => [...xs].sort();

/** Asserts the answer's results are exactly these papers, in any order. */
async function expectIds(q: string, want: readonly string[]): Promise<SearchAnswer> {
  const a = await search(q, { limit: 100 });
  assert.deepEqual(sorted(ids(a)), sorted(want), `results for ${JSON.stringify(q)}`);
  return a;
}

// ---------------------------------------------------------------- words and ranking

/**
 * Asserts the papers with every word come first (in any order among themselves). Papers with only
 * some of the words may follow them: searchKeyword pads a short AND page with any-word matches.
 */
async function expectAllWordsFirst(q: string, want: readonly string[]): Promise<SearchAnswer> {
  const a = await search(q, { limit: 100 });
  assert.deepEqual(sorted(ids(a).slice(0, want.length)), sorted(want), `papers with every word first for ${JSON.stringify(q)}: ${ids(a).join(' ')}`);
  assert.equal(a.match, 'and', q);
  assert.ok(!a.ignored.some((n) => /any of them/.test(n)), `no fallback note when some paper has every word: ${JSON.stringify(a.ignored)}`);
  return a;
}

test('words: papers with every word come first', async () => {
  const a = await expectAllWordsFirst('jetson int8', ['2401.00001']);
  assert.equal(a.mode, 'keyword');
  assert.deepEqual(a.ignored, []);
  // Case does not matter, and the words may come in any order.
  await expectAllWordsFirst('INT8 Jetson', ['2401.00001']);
  await expectAllWordsFirst('speculative decoding', ['2311.00015']);
  await expectAllWordsFirst('llama phones', ['2305.00002']);
  // Function words are dropped from word queries (but "on" alone is still searched).
  await expectAllWordsFirst('the jetson with int8', ['2401.00001']);
});

test(
  'words: every word is required when some paper has them all (no any-word padding)',
  async () => {
    const a = await expectIds('jetson int8', ['2401.00001']);
    assert.equal(a.total, 1);
    await expectIds('"language models" privacy', ['2409.00013']);
  },
);

test('ranking: a title match outranks an abstract-only match', async () => {
  const a = await search('distillation');
  assert.deepEqual(ids(a), ['2501.00008', '2407.00009']);
  assert.ok(a.results[0]!.score > a.results[1]!.score, 'scores descend');
  const b = await search('jetson');
  assert.deepEqual(ids(b), ['2401.00001', '2411.00006']);
});

test('"exact phrase": the words next to each other, in that order', async () => {
  await expectIds('"running language models"', ['2305.00002']);
  await expectIds('"machine translation"', ['2310.00004']);
  // The same words in another order are not the phrase.
  const a = await search('"models language running"');
  assert.deepEqual(ids(a), []);
  assert.equal(a.total, 0);
  // A phrase together with a word: both required (first).
  await expectAllWordsFirst('"language models" privacy', ['2409.00013']);
});

test('-exclude and -"phrase"', async () => {
  await expectIds('phones', ['2305.00002', '2411.00006']);
  await expectIds('phones -detector', ['2305.00002']);
  await expectIds('transformers', ['2502.00003', '2302.00012']);
  await expectIds('transformers -"point clouds"', ['2302.00012']);
  // Only the phrase is excluded, not its words one by one.
  await expectIds('translation -"translation languages"', ['2310.00004']);
  await expectIds('translation -"machine translation"', []);
  await expectIds('translation -machine', []);
  // Exclusions apply to the any-word fallback too.
  const a = await search('jetson phones -detector', { limit: 100 });
  assert.deepEqual(sorted(ids(a)), sorted(['2401.00001', '2305.00002']));
});

test('prefix: trans* matches every word starting with trans', async () => {
  const a = await expectIds('trans*', ['2502.00003', '2310.00004', '2302.00012']);
  assert.equal(a.mode, 'keyword');
  await expectIds('trans* -translation', ['2502.00003', '2302.00012']);
  // A one-letter prefix is searched as a word and noted.
  const b = await search('t*');
  assert.ok(b.ignored.some((n) => /prefix too short/.test(n)), JSON.stringify(b.ignored));
});

test('author:"Song Han" finds his papers', async () => {
  const a = await search('author:"Song Han"', { limit: 100 });
  assert.ok(ids(a).includes('2401.00001'));
  assert.ok(ids(a).includes('2502.00003'));
  for (const r of a.results) {
    const names = r.authors.join(' ').toLowerCase();
    assert.ok(names.includes('song') && names.includes('han'), `${r.id}: ${names}`);
  }
  // With words: both required.
  await expectIds('author:"Song Han" int8', ['2401.00001']);
  await expectIds('author:"Song Han" point', ['2502.00003']);
  await expectIds('author:"Maria Garcia"', ['2310.00004']);
  await expectIds('author:nobody', []);
});

test(
  'author:"Song Han" does not match a paper by "Song Li" and "Wei Han"',
  async () => {
    await expectIds('author:"Song Han"', ['2401.00001', '2502.00003']);
  },
);

test('cat:cs.CV exactly, cat:cs for the whole archive', async () => {
  const cv = CORPUS.filter((r) => r.categories?.includes('cs.CV')).map((r) => r.id!);
  const a = await expectIds('cat:cs.CV', cv);
  assert.equal(a.mode, 'filters');
  await expectIds('cat:cs.cv', cv); // subject classes are upper-cased
  const cs = CORPUS.filter((r) => r.categories?.some((c) => c.startsWith('cs.'))).map((r) => r.id!);
  assert.equal(cs.length, CORPUS.length - 1); // all but the stat.ML-only paper
  await expectIds('cat:cs', cs);
  await expectIds('cat:cs.*', cs);
  await expectIds('cat:stat.ML', ['2406.00005', '2312.00007']);
  await expectIds('cat:stat', ['2406.00005', '2312.00007']);
  // With words.
  await expectIds('cat:cs.CV 3d', ['2502.00003', '2403.00011']);
  await expectIds('cat:cs.CL llama', ['2305.00002', '2308.00010']);
  // Two categories: either one.
  await expectIds('cat:stat.ML cat:cs.CR', ['2406.00005', '2312.00007', '2409.00013', '2504.00014']);
});

test('since: and until: with YYYY, YYYY-MM and YYYY-MM-DD (inclusive)', async () => {
  const within = (from: string, to: string) =>
    CORPUS.filter((r) => r.date! >= from && r.date! <= to).map((r) => r.id!);
  await expectIds('since:2025', within('2025-01-01', '2025-12-31'));
  await expectIds('until:2023', within('2023-01-01', '2023-12-31'));
  await expectIds('since:2024-06', within('2024-06-01', '9999'));
  await expectIds('until:2024-03', within('0000', '2024-03-31'));
  await expectIds('since:2024-01-15 until:2024-01-15', ['2401.00001']);
  await expectIds('since:2024-01-16 until:2024-03-03', ['2403.00011']);
  await expectIds('since:2024 until:2024', within('2024-01-01', '2024-12-31'));
  await expectIds('since:2024 llama', ['2401.00001']);
  await expectIds('until:2023-12-31 llama', ['2305.00002', '2308.00010']);
  const bad = await search('since:2024-13 llama');
  assert.ok(bad.ignored.some((n) => /not a date/.test(n)), JSON.stringify(bad.ignored));
  assert.equal(bad.total, 3); // the bad date is ignored, not applied
});

test('has:code and -has:code', async () => {
  const a = await expectIds('has:code', [...HAS_CODE]);
  assert.equal(a.mode, 'filters');
  for (const r of a.results) assert.ok(r.links.some((l) => l.kind === 'code'), r.id);
  await expectIds(
    '-has:code',
    CORPUS.map((r) => r.id!).filter((id) => !HAS_CODE.has(id)),
  );
  await expectIds('has:code transformers', ['2502.00003']);
  await expectIds('-has:code transformers', ['2302.00012']);
  await expectIds('has:code cat:cs.CV', ['2502.00003']);
});

test('a pasted arXiv id, abs URL or pdf URL goes straight to that paper', async () => {
  for (const q of [
    '2401.00001',
    '2401.00001v2',
    'arXiv:2401.00001',
    ' https://arxiv.org/abs/2401.00001 ',
    'https://arxiv.org/abs/2401.00001v3',
    'https://arxiv.org/pdf/2401.00001',
    'https://arxiv.org/pdf/2401.00001v1.pdf',
    'http://export.arxiv.org/abs/2401.00001?context=cs',
  ]) {
    const a = await search(q);
    assert.equal(a.mode, 'id', q);
    assert.equal(a.total, 1, q);
    assert.deepEqual(ids(a), ['2401.00001'], q);
    assert.equal(a.results[0]!.title, 'LLaMA-2 on Jetson with INT8');
  }
  const missing = await search('2401.99999');
  assert.equal(missing.mode, 'id');
  assert.equal(missing.total, 0);
  assert.deepEqual(missing.results, []);
});

test('filters only (no words) → mode "filters", newest first', async () => {
  for (const q of ['cat:cs.CV', 'cat:cs', 'since:2023', 'has:code', '-has:code', '', '   ', 'until:2024']) {
    const a = await search(q, { limit: 100 });
    assert.equal(a.mode, 'filters', q);
    assert.ok(a.results.length > 0, q);
    assert.equal(a.total, a.results.length, q);
    const dates = a.results.map((r) => r.submittedAt ?? '');
    assert.deepEqual(dates, [...dates].sort().reverse(), `newest first for ${JSON.stringify(q)}`);
  }
  const all = await search('', { limit: 100 });
  assert.equal(all.total, CORPUS.length);
  assert.equal(all.results[0]!.id, '2504.00014');
  // Only exclusions: nothing for FTS5 to match, so the filters list (and the note-free answer).
  const ex = await search('-llama', { limit: 100 });
  assert.equal(ex.mode, 'filters');
});

test(
  'a query of exclusions only leaves the excluded papers out',
  async () => {
    const a = await search('-llama', { limit: 100 });
    const llama = ['2401.00001', '2305.00002', '2308.00010'];
    for (const id of llama) assert.ok(!ids(a).includes(id), `${id} should be excluded`);
    assert.equal(a.total, CORPUS.length - llama.length);
  },
);

test('AND with no full match falls back to papers with any word, with a note', async () => {
  const a = await search('jetson phones', { limit: 100 });
  assert.equal(a.mode, 'keyword');
  // The Jetson detector mentions both words in its abstract: the only paper with all of them.
  assert.equal(ids(a)[0], '2411.00006');
  const b = await search('gaussian molecules', { limit: 100 });
  assert.deepEqual(sorted(ids(b)), sorted(['2406.00005', '2403.00011', '2312.00007']));
  assert.equal(b.match, 'or');
  assert.ok(
    b.ignored.some((n) => /any of them/.test(n)),
    `a note about the fallback: ${JSON.stringify(b.ignored)}`,
  );
  assert.equal(b.total, 3);
  // Nothing at all: no fallback note, no results.
  const c = await search('zzyzx qqqqq');
  assert.deepEqual(c.results, []);
  assert.equal(c.total, 0);
  assert.ok(!c.ignored.some((n) => /any of them/.test(n)));
});

test('hyphenated llama-2 finds "LLaMA-2" and "Llama 2"; int8 and 3D are words', async () => {
  await expectIds('llama-2', ['2401.00001', '2305.00002', '2308.00010']);
  await expectIds('LLaMA-2', ['2401.00001', '2305.00002', '2308.00010']);
  await expectIds('"llama 2"', ['2401.00001', '2305.00002', '2308.00010']);
  await expectIds('int8', ['2401.00001', '2302.00012']);
  await expectIds('INT8', ['2401.00001', '2302.00012']);
  await expectIds('3D', ['2502.00003', '2403.00011']);
  await expectIds('3d', ['2502.00003', '2403.00011']);
  // The excluded form works too.
  await expectIds('llama -llama-2', []);
  // LaTeX in an abstract: `$\alpha$-divergence` is the words alpha and divergence.
  await expectIds('alpha-divergence', ['2406.00005']);
  await expectIds('$\\alpha$-divergence', ['2406.00005']);
});

test('facets are consistent with the result set', async () => {
  for (const q of ['llama', 'cat:cs', 'has:code', 'trans*', 'jetson phones', 'since:2024', '']) {
    const a = await search(q, { limit: 100 });
    assert.ok(a.results.length > 0, q);
    const cats = new Map<string, number>();
    const years = new Map<string, number>();
    let code = 0;
    for (const r of a.results) {
      const rec = byId(r.id);
      assert.deepEqual(r.categories, rec.categories);
      for (const c of r.categories) cats.set(c, (cats.get(c) ?? 0) + 1);
      const y = r.submittedAt!.slice(0, 4);
      years.set(y, (years.get(y) ?? 0) + 1);
      if (r.links.some((l) => l.kind === 'code')) code++;
    }
    assert.deepEqual(
      new Map(a.facets.categories.map((c) => [c.value, c.count])),
      cats,
      `category facets for ${JSON.stringify(q)}`,
    );
    assert.deepEqual(new Map(a.facets.years.map((c) => [c.value, c.count])), years, `year facets for ${JSON.stringify(q)}`);
    assert.equal(a.facets.hasCode, code, `hasCode for ${JSON.stringify(q)}`);
    // Categories by count, most first; years newest first.
    const counts = a.facets.categories.map((c) => c.count);
    assert.deepEqual(counts, [...counts].sort((x, y) => y - x));
    const ys = a.facets.years.map((y) => y.value);
    assert.deepEqual(ys, [...ys].sort().reverse());
  }
  const none = await search('zzyzx');
  assert.deepEqual(none.facets, { categories: [], years: [], hasCode: 0 });
  const off = await search('llama', { facets: false });
  assert.deepEqual(off.facets, { categories: [], years: [], hasCode: 0 });
});

test('snippets mark the matched words', async () => {
  const a = await search('quantise orin');
  assert.equal(ids(a)[0], '2401.00001');
  const s = a.results[0]!.snippet;
  assert.match(s, /<mark>quantise<\/mark>/i);
  assert.match(s, /<mark>Orin<\/mark>/);
  // Porter stemming: `detect` matches and marks "detection".
  const b = await search('detect', { limit: 100 });
  const pc = b.results.find((r) => r.id === '2502.00003');
  assert.ok(pc, ids(b).join(' '));
  assert.match(pc.snippet, /<mark>detection<\/mark>/);
  // A phrase is marked word by word, inside LaTeX too.
  const e = await search('alpha-divergence');
  // Matched as a phrase, so the whole phrase is marked (or each word, in any-word mode).
  assert.match(e.results[0]!.snippet, /\$\\<mark>alpha(<\/mark>\$-<mark>|\$-)divergence<\/mark>/);
  // A title-only match still gets the start of its abstract, escaped.
  const c = await search('splatting');
  assert.equal(c.results[0]!.id, '2403.00011');
  assert.match(c.results[0]!.snippet, /Rendering moving scenes/);
  // Snippets off: the start of the abstract, unmarked.
  const d = await search('quantise', { snippets: false });
  assert.ok(!d.results[0]!.snippet.includes('<mark>'));
});

test('snippets are HTML-escaped: no raw markup from an abstract', async () => {
  const a = await search('payload');
  assert.deepEqual(ids(a), ['2504.00014']);
  const s = a.results[0]!.snippet;
  assert.match(s, /<mark>payload<\/mark>/i);
  assert.ok(s.includes('&lt;script&gt;'), s);
  assert.ok(!s.includes('<script'), s);
  // The only tags left are <mark> and </mark>.
  assert.ok(!s.replaceAll('<mark>', '').replaceAll('</mark>', '').includes('<'), s);
  // Matching inside the markup itself, too.
  const b = await search('alert');
  assert.deepEqual(ids(b), ['2504.00014']);
  assert.ok(!b.results[0]!.snippet.includes('<script'), b.results[0]!.snippet);
  assert.match(b.results[0]!.snippet, /&lt;script&gt;<mark>alert<\/mark>\(1\)&lt;\/script&gt;/);
  // Search terms are not echoed as HTML anywhere in the answer's results.
  const c = await search(`${SCRIPT} sanitiser`);
  for (const r of c.results) assert.ok(!r.snippet.includes('<script'), r.snippet);
});

test(
  'snippets: private-use characters stored in an abstract do not become <mark> tags',
  async () => {
    const app = await tempApp();
    try {
      await ingestRecords(app, 'pua.jsonl', [
        { id: '2401.00031', title: 'Private use characters', abstract: 'Before \uE000 after: a llama stays unmarked here.', date: '2024-01-01' },
      ]);
      const a = await searchKeyword(app.db, 'llama');
      const s = a.results[0]!.snippet;
      assert.equal(s.split('<mark>').length, s.split('</mark>').length, `balanced marks: ${s}`);
      assert.ok(!s.startsWith('Before <mark> after'), s);
    } finally {
      await app.close();
    }
  },
);

test('pagination: limit and offset page through without overlap; total stays put', async () => {
  for (const q of ['cat:cs', 'trans* OR llama', 'llama', 'language models phones edge inference', '']) {
    const all = await search(q, { limit: 100 });
    assert.ok(all.results.length >= 2, q);
    const seen: string[] = [];
    for (let offset = 0; offset < all.results.length + 2; offset += 2) {
      const page = await search(q, { limit: 2, offset });
      assert.equal(page.limit, 2);
      assert.equal(page.offset, offset);
      assert.equal(page.total, all.total, `total for ${JSON.stringify(q)} at offset ${offset}`);
      assert.ok(page.results.length <= 2);
      seen.push(...ids(page));
    }
    assert.equal(new Set(seen).size, seen.length, `no overlap for ${JSON.stringify(q)}: ${seen.join(' ')}`);
    assert.deepEqual(seen, ids(all), `pages make up the whole list for ${JSON.stringify(q)}`);
  }
  // Out-of-range options are clamped, not errors.
  const a = await search('llama', { limit: 0, offset: -5 });
  assert.equal(a.limit, 1);
  assert.equal(a.offset, 0);
  const b = await search('llama', { limit: 1000 });
  assert.equal(b.limit, 100);
  const past = await search('llama', { offset: 50 });
  assert.deepEqual(past.results, []);
  assert.equal(past.total, 3);
  // An id query has one result, on the first page only.
  const id2 = await search('2401.00001', { offset: 1 });
  assert.equal(id2.total, 1);
  assert.deepEqual(id2.results, []);
});

// ---------------------------------------------------------------- FTS kept in sync

/**
 * The keyword index agrees with itself and with the papers table: FTS5's integrity checks on
 * SQLite; on PostgreSQL, one search_docs row per paper with the tsvector its text gives, and
 * postings that are exactly the lexemes of those tsvectors, with their weighted counts.
 */
async function checkIndex(app: App): Promise<void> {
  if (app.db.dialect === 'sqlite') {
    await app.db.run("INSERT INTO papers_fts(papers_fts) VALUES('integrity-check')");
    await app.db.run("INSERT INTO papers_fts(papers_fts, rank) VALUES('integrity-check', 1)");
    return;
  }
  const docs = await app.db.get<{ n: number }>(
    `SELECT COUNT(*) AS n FROM papers p FULL JOIN search_docs d ON d.paper_id = p.id
     WHERE p.id IS NULL OR d.paper_id IS NULL OR d.tsv <> paperboy_search_tsv(p.title, p.abstract, p.authors)`,
  );
  assert.equal(docs?.n, 0, 'search_docs agrees with papers');
  const expected = `SELECT u.lexeme COLLATE "C" AS lexeme, d.paper_id,
      (SELECT SUM(CASE w WHEN 'A' THEN 3 WHEN 'B' THEN 1 ELSE 2 END) FROM unnest(u.weights) w)::real AS tf, d.dl
    FROM search_docs d, unnest(d.tsv) u`;
  const postings = await app.db.get<{ n: number }>(
    `SELECT COUNT(*) AS n FROM ((${expected} EXCEPT SELECT lexeme, paper_id, tf, dl FROM search_postings)
       UNION ALL (SELECT lexeme, paper_id, tf, dl FROM search_postings EXCEPT ${expected})) x`,
  );
  assert.equal(postings?.n, 0, 'search_postings agrees with search_docs');
}

test('FTS follows updates, merges and deletes; integrity-check passes', async () => {
  const app = await tempApp();
  try {
    const q = async (s: string) => ids(await searchKeyword(app.db, s, { limit: 100 }));
    await ingestRecords(app, 'base.jsonl', CORPUS.slice(0, 5));

    // Update: a later version of the same arXiv id with a new title.
    const v1 = { id: '2404.00020v1', title: 'Bananas considered harmful', abstract: 'An essay about yellow fruit.', date: '2024-04-01', categories: ['cs.LG'] };
    const v2 = { id: '2404.00020v2', title: 'Kiwis considered helpful', abstract: 'An essay about green fruit.', date: '2024-04-01', categories: ['cs.LG'] };
    assert.equal((await ingestRecords(app, 'v1.jsonl', [v1])).new, 1);
    assert.deepEqual(await q('bananas'), ['2404.00020']);
    assert.equal((await ingestRecords(app, 'v2.jsonl', [v2])).updated, 1);
    assert.deepEqual(await q('bananas'), [], 'old title words no longer find it');
    assert.deepEqual(await q('yellow'), [], 'old abstract words no longer find it');
    assert.deepEqual(await q('kiwis'), ['2404.00020']);
    assert.deepEqual(await q('"kiwis considered helpful"'), ['2404.00020']);
    assert.deepEqual(await q('green fruit'), ['2404.00020']);

    // Merge: a title-only record (with the abstract the arXiv record lacks) joins it by title.
    const arxiv = { id: '2405.00021', title: 'Mixture of experts routing at scale', date: '2024-05-02', categories: ['cs.LG'] };
    const titleOnly = {
      title: 'Mixture of Experts: Routing at Scale',
      abstract: 'Load balancing with auxiliary losses keeps every zebrafish expert busy.',
      authors: ['Ada Lovelace', 'Charles Babbage'],
    };
    assert.equal((await ingestRecords(app, 'arxiv.jsonl', [arxiv])).new, 1);
    const merged = await ingestRecords(app, 'title-only.jsonl', [titleOnly]);
    assert.equal(merged.new, 0);
    assert.equal(merged.updated, 1);
    assert.deepEqual(await q('zebrafish'), ['2405.00021'], 'found by the merged abstract');
    assert.deepEqual(await q('mixture experts routing'), ['2405.00021'], 'one result, not two');
    assert.deepEqual(await q('author:Babbage'), ['2405.00021']);
    const n = await app.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM papers WHERE title_key LIKE 'mixture%'");
    assert.equal(n?.n, 1);

    // The other way round: a title-only record first, then the arXiv record with the same title.
    const firstTitleOnly = { title: 'Tokenizer free language modelling with bytes', abstract: 'Platypus bytes all the way down.' };
    const laterArxiv = { id: '2406.00022', title: 'Tokenizer-free language modelling with bytes', abstract: '', date: '2024-06-03', categories: ['cs.CL'] };
    await ingestRecords(app, 'first.jsonl', [firstTitleOnly]);
    assert.equal((await q('platypus'))[0]?.startsWith('t:'), true);
    assert.equal((await ingestRecords(app, 'later.jsonl', [laterArxiv])).updated, 1);
    assert.deepEqual(await q('platypus'), ['2406.00022'], 'the merged paper takes the arXiv id');
    assert.deepEqual(await q('tokenizer bytes'), ['2406.00022']);

    // Delete: gone from the index with the row.
    const del = await app.db.run('DELETE FROM papers WHERE key = ?', ['2404.00020']);
    assert.equal(del.changes, 1);
    assert.deepEqual(await q('kiwis'), []);
    assert.deepEqual(await q('green fruit'), []);
    assert.deepEqual(await q('2404.00020'), []);
    const gone = await searchKeyword(app.db, '', { limit: 100 });
    assert.ok(!ids(gone).includes('2404.00020'));

    // A direct UPDATE of the text columns is followed too.
    await app.db.run('UPDATE papers SET abstract = ? WHERE key = ?', ['Now about wombats.', '2405.00021']);
    assert.deepEqual(await q('zebrafish'), []);
    assert.deepEqual(await q('wombats'), ['2405.00021']);

    // The index agrees with itself and with the papers table.
    await checkIndex(app);
    const rows = await app.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM papers');
    const all = await searchKeyword(app.db, '', { limit: 100 });
    assert.equal(all.total, rows?.n);
  } finally {
    await app.close();
  }
});

// ---------------------------------------------------------------- hostile queries

const HOSTILE = [
  '"foo',
  'foo"',
  'NEAR(',
  'NEAR(llama int8',
  'NEAR(llama int8, 2)',
  '*',
  '^',
  '^llama',
  '"',
  '""',
  '"""',
  'AND',
  'OR NOT',
  'llama AND',
  'NOT llama',
  'llama OR',
  '(',
  ')',
  '(llama',
  'title:',
  'title:llama',
  'abstract:"int8"',
  '{}',
  '{title abstract}: llama',
  ':::',
  'a:b:c',
  '-',
  '--',
  '- -',
  '-"',
  '-""',
  '+llama',
  'llama*',
  '*llama',
  'll*ma',
  'x'.repeat(10 * 1024),
  'llama '.repeat(1800),
  '"a '.repeat(3000),
  "'; DROP TABLE papers; --",
  "%' OR 1=1 --",
  "1' UNION SELECT * FROM papers --",
  'papers_fts MATCH',
  '\\',
  '%',
  '_',
  '🤖📄',
  'llama 🤖',
  '\u0000',
  'llama\u0000int8',
  '\u0001\u0002\u001b[31m\u007f',
  'llama\r\n\tint8',
  '\u200b\u200d\ufeff',
  '\u00ad',
  'Z̸̢̛a̷̛l̴g̷o̷',
  'ｌｌａｍａ',
  'cat:',
  'cat:*',
  'cat:cs.',
  'cat:..',
  'cat:"cs.CV"',
  'cat:cs.CV.extra',
  'since:',
  'since:notadate',
  'since:2024-02-30',
  'since:99999',
  'until:0000-00-00',
  'author:',
  'author:"',
  'author:""',
  'author:"***"',
  'has:',
  'has:nothing',
  '-has:code -has:code has:code',
  '-author:x',
  '2401.00001 llama',
  'arXiv:',
  'https://arxiv.org/abs/',
  'https://arxiv.org/abs/%E0%A4%A',
  'javascript:alert(1)',
  '<script>alert(1)</script>',
];

test('hostile queries over HTTP: always 200 with an answer, never an error', async () => {
  const app = await corpus();
  const server = await buildServer(app);
  try {
    const urls = [...HOSTILE.map((q) => `/api/search?q=${encodeURIComponent(q)}`), '/api/search?q=%ED%A0%80', '/api/search?q=%ED%A0%80llama', '/api/search?q=%FF%FE', '/api/search?q=%'];
    for (const url of urls) {
      const res = await server.inject({ method: 'GET', url });
      const what = url.length > 80 ? `${url.slice(0, 80)}…` : url;
      assert.equal(res.statusCode, 200, `${what}: ${res.body.slice(0, 300)}`);
      assert.match(String(res.headers['content-type']), /^application\/json/, what);
      const body = res.json<SearchAnswer>();
      assert.ok(Array.isArray(body.results), what);
      assert.equal(typeof body.mode, 'string', what);
      assert.ok(Array.isArray(body.ignored), what);
      assert.equal(typeof body.total, 'number', what);
    }
    // Unusual limit/offset values are clamped.
    for (const qs of ['limit=abc', 'limit=-1', 'limit=1e9', 'offset=-3', 'offset=NaN', 'offset=99999999', 'limit=1&limit=2']) {
      const res = await server.inject({ url: `/api/search?q=llama&${qs}` });
      assert.equal(res.statusCode, 200, `${qs}: ${res.body.slice(0, 300)}`);
    }
    // The table survived every one of them.
    const n = await app.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM papers');
    assert.equal(n?.n, CORPUS.length);
    await checkIndex(app);
  } finally {
    await server.close();
  }
});

test('hostile queries: specific answers', async () => {
  // Operators typed by the user are only words.
  const and = await search('llama AND int8');
  assert.equal(and.mode, 'keyword');
  assert.equal(ids(and)[0], '2401.00001');
  assert.ok(!and.ignored.some((n) => /any of them/.test(n)), 'AND is a (stop) word, not an operator');
  // An unbalanced quote is noted and the rest searched.
  const q = await search('"llama int8');
  assert.ok(q.ignored.includes('unbalanced quote'), JSON.stringify(q.ignored));
  assert.equal(ids(q)[0], '2401.00001');
  // SQL is just words; nothing matches them all.
  const sqlish = await search("'; DROP TABLE papers; --");
  assert.ok(Array.isArray(sqlish.results));
  // Nothing searchable at all: the filters list (everything), with a note.
  const stars = await search('*', { limit: 100 });
  assert.equal(stars.mode, 'filters');
  assert.equal(stars.total, CORPUS.length);
  // Empty fields are noted.
  const empty = await search('cat: author: since:');
  assert.ok(empty.ignored.length >= 3, JSON.stringify(empty.ignored));
  // Very long queries are cut and noted.
  const long = await search('llama '.repeat(2000));
  assert.ok(long.ignored.some((n) => /truncated/.test(n)), JSON.stringify(long.ignored));
  assert.equal(long.results.length, 3);
  // Full-width letters are folded (NFKC).
  await expectIds('ｌｌａｍａ', ['2401.00001', '2305.00002', '2308.00010']);
});

test('GET /api/search without q → 400 with {error: {code, message}}', async () => {
  const app = await corpus();
  const server = await buildServer(app);
  try {
    for (const url of ['/api/search', '/api/search?q=', '/api/search?q=%20%20', '/api/search?q=%0D%0A%09', '/api/search?limit=5', '/api/search?q[]=x']) {
      const res = await server.inject({ url });
      assert.equal(res.statusCode, 400, url);
      const body = res.json<{ error: { code: string; message: string } }>();
      assert.equal(typeof body.error.code, 'string', url);
      assert.ok(body.error.code.length > 0);
      assert.equal(typeof body.error.message, 'string', url);
      assert.ok(body.error.message.length > 0);
    }
    const ok = await server.inject({ url: '/api/search?q=llama&limit=2&offset=1' });
    assert.equal(ok.statusCode, 200);
    const a = ok.json<SearchAnswer>();
    assert.equal(a.total, 3);
    assert.equal(a.limit, 2);
    assert.equal(a.offset, 1);
    assert.equal(a.results.length, 2);
  } finally {
    await server.close();
  }
});

const FTS_TOKENS = [
  'AND', 'OR', 'NOT', 'NEAR', 'NEAR(', '(', ')', '"', '""', '*', '^', ':', '-', '+', ',', '{', '}', '[', ']',
  'title:', 'abstract:', 'authors:', 'author:', 'cat:', 'since:', 'until:', 'has:', 'has:code', '-has:code',
  'cat:cs', 'cat:cs.CV', 'since:2024', 'until:2023-02', 'author:"Song Han"', 'rank', 'bm25', 'rowid',
  'llama', 'llama-2', 'int8', '3D', 'trans*', 'the', 'of', 'x86_64', 'c++', 'c#', '2401.00001',
  'https://arxiv.org/abs/2401.00001', "'", ';', '--', '%', '_', '\\', '$\\alpha$', 'é', 'e\u0301', '🤖',
  '\u0000', '\ud800', '\udc00', '\u00ad', '\ufeff', '\ue000', '\ue001',
];

const hostileQuery = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom(...FTS_TOKENS), fc.string({ maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 4 })),
      fc.constantFrom('', ' ', '  ', '\t', '"', '-', '*'),
    ),
    { maxLength: 24 },
  )
  .map((parts) => parts.map(([a, b]) => a + b).join(''));

test('property: no query string makes searchKeyword throw', async () => {
  const app = await corpus();
  const check = async (q: string) => {
    const a = await searchKeyword(app.db, q, { limit: 5 });
    assert.ok(Array.isArray(a.results));
    assert.ok(a.results.length <= 5);
    assert.ok(Array.isArray(a.ignored));
    assert.ok(['keyword', 'id', 'filters'].includes(a.mode));
    assert.ok(Number.isInteger(a.total) && a.total >= a.results.length);
  };
  await fc.assert(fc.asyncProperty(fc.string({ unit: 'binary' }), check), { numRuns: 200 });
  await fc.assert(fc.asyncProperty(hostileQuery, check), { numRuns: 200 });
});

// ---------------------------------------------------------------- CLI

test('CLI: paperboy search --json, and a bad --limit', async () => {
  const dir = tempDir('paperboy-search-cli-');
  try {
    const file = writeJsonl(dir, 'corpus.jsonl', CORPUS);
    const env = { PAPERBOY_DATA_DIR: dir };
    const ing = await runCli(['ingest', 'jsonl', file, '--no-progress'], env);
    assert.equal(ing.code, 0, ing.stderr);

    const r = await runCli(['search', 'llama int8', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const a = lastJson<SearchAnswer>(r.stdout);
    assert.equal(a.mode, 'keyword');
    assert.equal(ids(a)[0], '2401.00001');
    assert.equal(a.results[0]!.title, 'LLaMA-2 on Jetson with INT8');
    assert.equal(a.match, 'and');
    assert.equal(a.limit, 10);

    // Several arguments are one query.
    const words = await runCli(['search', 'cat:cs.CV', '3d', '--json', '--limit', '1'], env);
    assert.equal(words.code, 0, words.stderr);
    const w = lastJson<SearchAnswer>(words.stdout);
    assert.equal(w.total, 2);
    assert.equal(w.results.length, 1);

    // Human output: a count line and one line per result.
    const human = await runCli(['search', 'llama'], env);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /3 papers/);
    assert.match(human.stdout, /LLaMA-2 on Jetson with INT8/);

    for (const args of [
      ['search', '--limit', 'abc', 'x'],
      ['search', '--limit', '-1', 'x'],
      ['search', '--offset', '1.5', 'x'],
      ['search'],
    ]) {
      const bad = await runCli(args, env);
      assert.equal(bad.code, 2, `${args.join(' ')}: ${bad.stdout}${bad.stderr}`);
    }
  } finally {
    removeDir(dir);
  }
});

test('CLI: paperboy eval on SciFact (train qrels) reaches nDCG@10 ≥ 0.70', async () => {
  const sci = path.join(SHARED, 'scifact');
  const r = await runCli(
    [
      'eval',
      '--corpus', path.join(sci, 'corpus.jsonl'),
      '--queries', path.join(sci, 'queries.jsonl'),
      '--qrels', path.join(sci, 'qrels', 'train.tsv'),
      '--json',
    ],
    {},
    120_000,
  );
  assert.equal(r.code, 0, r.stderr);
  const m = lastJson<{ ndcg10: number; recall100: number; mrr10: number; queries: number; documents: number; mode: string }>(r.stdout);
  assert.equal(m.queries, 809);
  assert.equal(m.mode, 'keyword');
  assert.ok(m.documents > 5000, `documents: ${m.documents}`);
  assert.ok(m.ndcg10 >= 0.7, `nDCG@10 ${m.ndcg10}`);
  assert.ok(m.recall100 > m.ndcg10 && m.recall100 <= 1, `Recall@100 ${m.recall100}`);
  assert.ok(m.mrr10 > 0 && m.mrr10 <= 1, `MRR@10 ${m.mrr10}`);
});
