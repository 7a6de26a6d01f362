import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseDateBound, parseQuery, type ParsedQuery } from './query.ts';

function q(over: Partial<ParsedQuery>): ParsedQuery {
  return {
    terms: [], phrases: [], prefixes: [], excludes: [], excludePhrases: [], authors: [], categories: [], ignored: [],
    ...over,
  } as ParsedQuery;
}

function check(cases: [string, ParsedQuery][]): void {
  for (const [input, want] of cases) assert.deepStrictEqual(parseQuery(input), want, JSON.stringify(input));
}

test('plain words are lower-cased, de-duplicated, kept in order', () => {
  check([
    ['Efficient Transformers', q({ terms: ['efficient', 'transformers'] })],
    ['  vision   vision  VISION ', q({ terms: ['vision'] })],
    ['', q({})],
    ['   ', q({})],
  ]);
});

test('quoted phrases, single-word phrases and empty quotes', () => {
  check([
    ['"Attention is all you need"', q({ phrases: [['attention', 'is', 'all', 'you', 'need']] })],
    ['"bert" model', q({ terms: ['bert', 'model'] })],
    ['"a b" "a b"', q({ phrases: [['a', 'b']] })],
    ['"" x', q({ terms: ['x'], ignored: ['"" (nothing searchable)'] })],
    ['"foo"bar', q({ terms: ['foo', 'bar'] })],
  ]);
});

test('exclusions: words, phrases and hyphenated words', () => {
  check([
    ['vision -diffusion', q({ terms: ['vision'], excludes: ['diffusion'] })],
    ['vision -"state space"', q({ terms: ['vision'], excludePhrases: [['state', 'space']] })],
    ['vision -llama-2', q({ terms: ['vision'], excludePhrases: [['llama', '2']] })],
    ['-only', q({ excludes: ['only'] })],
    ['a - b', q({ terms: ['a', 'b'], ignored: ['- (nothing searchable)'] })],
    ['a -trans*', q({ terms: ['a'], excludes: ['trans'], ignored: ['-trans* (prefix ignored in exclusions)'] })],
  ]);
});

test('prefixes', () => {
  check([
    ['trans*', q({ prefixes: ['trans'] })],
    ['Trans** quant*', q({ prefixes: ['trans', 'quant'] })],
    ['a*', q({ terms: ['a'], ignored: ['a* (prefix too short; searched as a word)'] })],
    ['gpt-4*', q({ phrases: [['gpt', '4']], ignored: ['gpt-4* (prefix only works on single words)'] })],
    ['*', q({ ignored: ['* (nothing searchable)'] })],
    ['*trans', q({ terms: ['trans'] })],
  ]);
});

test('author: quoted and bare, case-insensitive field name', () => {
  check([
    ['author:"Song Han"', q({ authors: ['song han'] })],
    ['author:han pruning', q({ authors: ['han'], terms: ['pruning'] })],
    ['AUTHOR:Han author:han', q({ authors: ['han'] })],
    ['author:"Song  Han" author:"Ji Lin"', q({ authors: ['song han', 'ji lin'] })],
    ['author:"Song Han', q({ authors: ['song'], terms: ['han'], ignored: ['unbalanced quote'] })],
    ['author: han', q({ terms: ['han'], ignored: ['author: (empty)'] })],
    ['author:"--"', q({ ignored: ['author:"--" (no name)'] })],
    ['-author:han x', q({ terms: ['x'], ignored: ['-author:han (negation not supported here)'] })],
  ]);
});

test('cat: shape-checked, canonical case, prefixes end with a dot', () => {
  check([
    ['cat:cs.CV', q({ categories: ['cs.CV'] })],
    ['cat:CS.cv', q({ categories: ['cs.CV'] })],
    ['cat:cs.*', q({ categories: ['cs.'] })],
    ['cat:cs', q({ categories: ['cs.'] })],
    ['cat:hep-th cat:astro-ph.GA', q({ categories: ['hep-th.', 'astro-ph.GA'] })],
    ['cat:physics.Optics cat:cond-mat.mes-hall', q({ categories: ['physics.optics', 'cond-mat.mes-hall'] })],
    ['cat:cs.CV cat:cs.cv', q({ categories: ['cs.CV'] })],
    ['cat:cs..CV', q({ ignored: ['cat:cs..CV (not a category)'] })],
    ['cat:"cs CV"', q({ ignored: ['cat:"cs CV" (not a category)'] })],
    ['cat:1cs', q({ ignored: ['cat:1cs (not a category)'] })],
  ]);
});

test('since: and until: accept YYYY, YYYY-MM, YYYY-MM-DD and expand to the first/last day', () => {
  check([
    ['since:2025-01-01', q({ since: '2025-01-01' })],
    ['since:2025', q({ since: '2025-01-01' })],
    ['since:2025-03', q({ since: '2025-03-01' })],
    ['until:2025', q({ until: '2025-12-31' })],
    ['until:2024-02', q({ until: '2024-02-29' })],
    ['until:2023-02', q({ until: '2023-02-28' })],
    ['until:1900-02 since:2000-02-29', q({ until: '1900-02-28', since: '2000-02-29' })],
    ['since:2025-3-5', q({ since: '2025-03-05' })],
    ['since:2025-13-01', q({ ignored: ['since:2025-13-01 (not a date)'] })],
    ['since:2023-02-29', q({ ignored: ['since:2023-02-29 (not a date)'] })],
    ['until:yesterday', q({ ignored: ['until:yesterday (not a date)'] })],
    ['since:2024 since:2025', q({ since: '2025-01-01', ignored: ['since:2024-01-01 (replaced by a later since:)'] })],
  ]);
  assert.equal(parseDateBound('2024-04', true), '2024-04-30');
  assert.equal(parseDateBound('2024-00', false), undefined);
});

test('has:code', () => {
  check([
    ['has:code', q({ hasCode: true })],
    ['has:CODE diffusion', q({ hasCode: true, terms: ['diffusion'] })],
    ['-has:code', q({ hasCode: false })],
    ['has:foo', q({ ignored: ['has:foo (unknown)'] })],
    ['-has:foo', q({ ignored: ['-has:foo (negation not supported here)'] })],
  ]);
});

test('a pasted arXiv id or URL goes straight to the paper', () => {
  for (const input of [
    '2401.01234', ' 2401.01234v3 ', 'arXiv:2401.01234', 'https://arxiv.org/abs/2401.01234v2',
    'http://arxiv.org/pdf/2401.01234v1.pdf', 'arxiv.org/html/2401.01234',
  ]) {
    assert.deepStrictEqual(parseQuery(input), q({ arxivId: '2401.01234' }), input);
  }
  assert.deepStrictEqual(parseQuery('hep-th/9901001'), q({ arxivId: 'hep-th/9901001' }));
});

test('an arXiv id inside a longer query is a phrase of its parts', () => {
  check([
    ['see 2401.01234', q({ terms: ['see'], phrases: [['2401', '01234']] })],
    ['see arXiv:2401.01234v2', q({ terms: ['see'], phrases: [['2401', '01234']] })],
    ['see https://arxiv.org/abs/2401.01234', q({ terms: ['see'], phrases: [['2401', '01234']] })],
  ]);
});

test('technical words', () => {
  check([
    ['int8 3D', q({ terms: ['int8', '3d'] })],
    ['LLaMA-2', q({ phrases: [['llama', '2']] })],
    ['GPT-4o', q({ phrases: [['gpt', '4o']] })],
    ['x86_64', q({ phrases: [['x86', '64']] })],
    ['state-of-the-art', q({ phrases: [['state', 'of', 'the', 'art']] })],
    ['$\\alpha$ divergence', q({ terms: ['alpha', 'divergence'] })],
    ['$\\alpha$-divergence', q({ phrases: [['alpha', 'divergence']] })],
    ['C++ templates', q({ terms: ['c', 'templates'], ignored: ['C++ (searched as "c")'] })],
    ['C# F#', q({ terms: ['c', 'f'], ignored: ['C# (searched as "c")', 'F# (searched as "f")'] })],
    ['naïve Bayes', q({ terms: ['naïve', 'bayes'] })],
    ['nai\u0308ve', q({ terms: ['naïve'] })], // NFD input is composed
    ['注意力机制 transformer', q({ terms: ['注意力机制', 'transformer'] })],
    ['ＧＰＴ', q({ terms: ['gpt'] })], // full-width folded by NFKC
    ['trans\u00ADformer', q({ terms: ['transformer'] })], // soft hyphen vanishes
    ['a\u0000b\tc\nd', q({ terms: ['a', 'b', 'c', 'd'] })],
    ['speed, accuracy; (robustness)', q({ terms: ['speed', 'accuracy', 'robustness'] })],
  ]);
});

test('FTS5 syntax and other hostile input are only words', () => {
  check([
    ['NEAR( a b )', q({ terms: ['near', 'a', 'b'], ignored: [') (nothing searchable)'] })],
    ['NEAR(a b)', q({ phrases: [['near', 'a']], terms: ['b'] })], // punctuation-joined, like x86_64
    ['cats AND dogs OR NOT mice', q({ terms: ['cats', 'and', 'dogs', 'or', 'not', 'mice'] })],
    ['^start +plus {a b}: c', q({ terms: ['start', 'plus', 'a', 'b', 'c'] })],
    ["'; DROP TABLE papers; --", q({ terms: ['drop', 'table', 'papers'], ignored: ["'; (nothing searchable)", '-- (nothing searchable)'] })],
    ['🚀 rocket', q({ terms: ['rocket'], ignored: ['🚀 (nothing searchable)'] })],
    ['lone \uD800 surrogate', q({ terms: ['lone', 'surrogate'], ignored: ['\uFFFD (nothing searchable)'] })],
  ]);
});

test('unknown fields: the value is searched as words, and noted', () => {
  check([
    ['title:foo', q({ terms: ['foo'], ignored: ['title: (unknown field; searched as words)'] })],
    ['title:"deep nets"', q({ phrases: [['deep', 'nets']], ignored: ['title: (unknown field; searched as words)'] })],
    ['title: x', q({ terms: ['x'], ignored: ['title: (unknown field)'] })],
    ['-title:foo', q({ excludes: ['foo'], ignored: ['title: (unknown field; searched as words)'] })],
    ['3:1 ratio', q({ phrases: [['3', '1']], terms: ['ratio'] })],
  ]);
});

test('unbalanced quotes degrade to plain words', () => {
  check([
    ['"graph neural', q({ terms: ['graph', 'neural'], ignored: ['unbalanced quote'] })],
    ['"a b" "c', q({ phrases: [['a', 'b']], terms: ['c'], ignored: ['unbalanced quote'] })],
    ['"', q({ ignored: ['unbalanced quote'] })],
  ]);
});

test('limits: 500 characters and 32 terms', () => {
  const long = parseQuery(`${'abcd '.repeat(200)}tail`);
  assert.deepStrictEqual(long, q({ terms: ['abcd'], ignored: ['query truncated to 500 characters'] }));

  const words = Array.from({ length: 40 }, (_, i) => `w${i}`);
  assert.deepStrictEqual(
    parseQuery(words.join(' ')),
    q({ terms: words.slice(0, 32), ignored: ['query limited to 32 terms'] }),
  );
  // Phrase words count too; filters do not.
  const p = parseQuery(`${words.slice(0, 30).join(' ')} llama-2-7b extra cat:cs.CV since:2024`);
  assert.deepStrictEqual(p, q({
    terms: [...words.slice(0, 30), 'extra'],
    categories: ['cs.CV'],
    since: '2024-01-01',
    ignored: ['query limited to 32 terms'],
  }));

  const huge = parseQuery('x'.repeat(10_000));
  assert.equal(huge.terms[0]?.length, 500);
});

test('notes are capped', () => {
  const p = parseQuery(Array.from({ length: 40 }, (_, i) => `has:x${i}`).join(' '));
  assert.equal(p.ignored.length, 21);
  assert.equal(p.ignored.at(-1), 'further notes left out');
  assert.equal(parseQuery(`has:${'y'.repeat(100)}`).ignored[0], `has:${'y'.repeat(36)}… (unknown)`);
});

test('non-string input does not throw', () => {
  assert.deepStrictEqual(parseQuery(undefined as unknown as string), q({}));
  assert.deepStrictEqual(parseQuery(42 as unknown as string), q({}));
});

const WORD = /^[\p{L}\p{N}\p{Co}][\p{L}\p{N}\p{Co}\p{M}]*$/u;

function wordsAreClean(p: ParsedQuery): boolean {
  const all = [
    ...p.terms, ...p.prefixes, ...p.excludes, ...p.phrases.flat(), ...p.excludePhrases.flat(),
    ...p.authors.flatMap((a) => a.split(' ')),
  ];
  const count = p.terms.length + p.prefixes.length + p.excludes.length + p.phrases.flat().length
    + p.excludePhrases.flat().length + p.authors.flatMap((a) => a.split(' ')).length;
  return all.every((w) => WORD.test(w) && w === w.toLowerCase()) && count <= 32;
}

test('property: parseQuery never throws and yields only clean words', () => {
  const inputs = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme', maxLength: 600 }));
  fc.assert(fc.property(inputs, (s) => wordsAreClean(parseQuery(s))), { numRuns: 1000 });
});
