import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { ftsExcluded, ftsMatch, ftsString, needsOr } from './fts-expr.ts';
import { parseQuery } from './query.ts';

const db = new Database(':memory:');
db.exec(`CREATE VIRTUAL TABLE t USING fts5(title, abstract, authors, tokenize = 'porter unicode61')`);
const rows: [string, string, string][] = [
  ['Efficient LLaMA-2 inference with int8 transformers', 'We quantise on x86_64 CPUs.', 'Song Han, Ji Lin'],
  ['3D vision with GPT-4o', 'A naïve baseline for 注意力机制 and state space models.', 'Han Song'],
  ['Translation as retrieval', 'Llama 2 fine-tuning for machine translation.', 'Ada Lovelace'],
  ['Diffusion for images', 'Nothing about attention here; AND, OR, NOT and NEAR are words.', 'Alan Turing'],
];
const insert = db.prepare('INSERT INTO t (rowid, title, abstract, authors) VALUES (?, ?, ?, ?)');
rows.forEach((r, i) => insert.run(i + 1, ...r));
const select = db.prepare<[string], { rowid: number }>('SELECT rowid FROM t WHERE t MATCH ? ORDER BY rowid');

function match(expr: string): number[] {
  return select.all(expr).map((r) => r.rowid);
}

/** Runs the query in both modes; every non-null expression must be accepted by SQLite. */
function runBoth(query: string): void {
  const p = parseQuery(query);
  for (const mode of ['and', 'or'] as const) {
    const expr = ftsMatch(p, { mode });
    if (expr !== null) match(expr);
    const ex = ftsExcluded(p);
    if (ex !== null) match(ex);
  }
}

/** Outside FTS5 strings, only our own syntax may appear. */
function onlyOurSyntax(expr: string): boolean {
  const outside = expr.replace(/"(?:[^"]|"")*"/g, ' ');
  const tokens = outside.match(/[()*:]|[^\s()*:]+/g) ?? [];
  return tokens.every((tok) => /^(?:AND|OR|NOT|authors|[()*:])$/.test(tok));
}

test('ftsString quotes and doubles inner quotes', () => {
  assert.equal(ftsString('a'), '"a"');
  assert.equal(ftsString('say "hi"'), '"say ""hi"""');
  assert.equal(onlyOurSyntax('"a" NEAR("b")'), false); // the checker used below does check
  assert.equal(onlyOurSyntax('("a" OR "b" *) AND authors : ("c") NOT "d"'), true);
});

test('ftsMatch: exact expressions', () => {
  const cases: [string, string | null, string | null][] = [
    // [query, AND mode, OR mode]
    ['efficient transformers', '"efficient" AND "transformers"', '"efficient" OR "transformers"'],
    ['vision', '"vision"', '"vision"'],
    ['"state space" models', '"models" AND "state space"', '"models" OR "state space"'],
    ['LLaMA-2 trans*', '"llama 2" AND "trans" *', '"llama 2" OR "trans" *'],
    ['author:"Song Han"', 'authors : ("song han" OR "han song")', 'authors : ("song han" OR "han song")'],
    ['pruning author:"Song Han"', '"pruning" AND authors : ("song han" OR "han song")', '"pruning" AND authors : ("song han" OR "han song")'],
    ['a b author:han', '"a" AND "b" AND authors : "han"', '("a" OR "b") AND authors : "han"'],
    ['vision -diffusion', '"vision" NOT "diffusion"', '"vision" NOT "diffusion"'],
    ['a b -c -"d e"', '("a" AND "b") NOT "c" NOT "d e"', '("a" OR "b") NOT "c" NOT "d e"'],
    ['a author:x -c', '("a" AND authors : "x") NOT "c"', '("a" AND authors : "x") NOT "c"'],
    ['a b author:x -c', '("a" AND "b" AND authors : "x") NOT "c"', '(("a" OR "b") AND authors : "x") NOT "c"'],
    ['NEAR( AND OR NOT', '"near" AND "and" AND "or" AND "not"', '"near" OR "and" OR "or" OR "not"'],
    // Nothing to match: only filters, only exclusions, nothing, or an arXiv id.
    ['cat:cs.CV since:2025 has:code', null, null],
    ['-diffusion -"state space"', null, null],
    ['', null, null],
    ['* ^ : ( )', null, null],
    ['2401.01234', null, null],
  ];
  for (const [query, and, or] of cases) {
    const p = parseQuery(query);
    assert.equal(ftsMatch(p, { mode: 'and' }), and, `AND ${query}`);
    assert.equal(ftsMatch(p, { mode: 'or' }), or, `OR ${query}`);
  }
});

test('ftsExcluded: the exclusions alone, for exclusion-only queries', () => {
  assert.equal(ftsExcluded(parseQuery('-diffusion -"state space"')), '"diffusion" OR "state space"');
  assert.equal(ftsExcluded(parseQuery('diffusion')), null);
  assert.deepStrictEqual(match(ftsExcluded(parseQuery('-diffusion -"state space"')) ?? ''), [2, 4]);
});

test('needsOr: more than four terms, phrases and prefixes', () => {
  assert.equal(needsOr(parseQuery('efficient llama-2 inference trans*')), false);
  assert.equal(needsOr(parseQuery('how do I make llama-2 inference fast')), true);
  assert.equal(needsOr(parseQuery('a b c d -e -f -g author:x cat:cs.CV')), false);
  assert.equal(needsOr(parseQuery('a b c d e')), true);
});

test('expressions find what they should in SQLite', () => {
  const run = (query: string, mode: 'and' | 'or' = 'and') => match(ftsMatch(parseQuery(query), { mode }) ?? '');
  assert.deepStrictEqual(run('LLaMA-2'), [1, 3]); // "LLaMA-2" and "Llama 2" alike
  assert.deepStrictEqual(run('int8 x86_64'), [1]);
  assert.deepStrictEqual(run('GPT-4o 3D'), [2]);
  assert.deepStrictEqual(run('trans*'), [1, 3]);
  assert.deepStrictEqual(run('author:"Song Han"'), [1, 2]);
  assert.deepStrictEqual(run('han'), [1, 2]);
  assert.deepStrictEqual(run('translation author:lovelace'), [3]);
  assert.deepStrictEqual(run('translation author:han'), []);
  assert.deepStrictEqual(run('llama-2 -int8'), [3]);
  assert.deepStrictEqual(run('naive'), [2]); // unicode61 removes diacritics
  assert.deepStrictEqual(run('注意力机制'), [2]);
  assert.deepStrictEqual(run('"state space" models'), [2]);
  assert.deepStrictEqual(run('AND OR NOT NEAR'), [4]);
  assert.deepStrictEqual(run('diffusion translation'), []);
  assert.deepStrictEqual(run('diffusion translation', 'or'), [3, 4]);
  assert.deepStrictEqual(run('diffusion translation -machine', 'or'), [4]);
});

const HOSTILE = [
  '"unbalanced', 'a "b c', '"', '""', '"""', 'NEAR(', 'NEAR(a b, 2)', 'NEAR', '*', '**', 'a*b', '*a', '^', '^a', 'a^',
  'AND', 'OR', 'NOT', 'a AND', 'OR b', 'NOT NOT', 'a NOT', 'title:', 'title:foo', 'abstract:x', 'authors:y', 'rowid:1',
  '{title abstract}:x', '{', '}', ':', '::', '+', 'a + b', '-', '--', '-"', '-*', '-^', '(', ')', '(a', 'a)', '()',
  "'; DROP TABLE papers; --", "1' OR '1'='1", 'x"; SELECT * FROM t; --', '🚀', '👩‍🔬 science', '\u0000', '\u0001\u0002\u001f',
  '\uD800', '\uDFFF', 'a\uD800b', '\uFEFF', '\u0301', 'author:', 'author:"', 'author:""', 'author:*', 'cat:', 'since:',
  'has:', 'author:"NEAR("', 'cat:cs.CV"', '$\\alpha$', 'C++', 'C#', '-author:"x', 'x'.repeat(10_000),
  'NEAR( '.repeat(2000), '"a" '.repeat(3000), '-'.repeat(10_000), '"'.repeat(10_001), 'a:b:c:d', 'a:"b', 'author:a:b',
];

test('hostile queries: parseQuery never throws and SQLite accepts every expression', () => {
  for (const query of HOSTILE) {
    assert.doesNotThrow(() => runBoth(query), JSON.stringify(query.slice(0, 50)));
    for (const mode of ['and', 'or'] as const) {
      const expr = ftsMatch(parseQuery(query), { mode });
      assert.ok(expr === null || onlyOurSyntax(expr), String(expr));
    }
  }
});

const FRAGMENTS = [
  'NEAR(', 'NEAR', ')', '(', '"', '""', '*', '^', ':', 'title:', 'authors:', 'author:', 'cat:', 'cat:cs.', 'since:', 'until:',
  'has:', 'has:code', 'AND', 'OR', 'NOT', 'and', '{', '}', '+', '-', ',', "'", ';', '--', '$', '\\', '#', '.', '/',
  'foo', 'bar', 'llama-2', 'x86_64', 'trans*', '2401.01234', 'arXiv:', 'https://arxiv.org/abs/', '🚀', 'naïve', '注意',
  '\u0000', '\uD800', '\u0301', '\u00AD', '\t', '\n',
];
const mixed = fc
  .array(fc.tuple(fc.constantFrom(...FRAGMENTS), fc.constantFrom('', ' ', '  ')), { maxLength: 40 })
  .map((parts) => parts.map(([f, sep]) => f + sep).join(''));

test('property: every generated expression is accepted by SQLite and carries only our syntax', () => {
  const inputs = fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.string({ unit: 'grapheme', maxLength: 1000 }),
    mixed,
    mixed,
  );
  fc.assert(
    fc.property(inputs, (s) => {
      const p = parseQuery(s);
      for (const mode of ['and', 'or'] as const) {
        const expr = ftsMatch(p, { mode });
        if (expr === null) continue;
        if (!onlyOurSyntax(expr)) return false;
        match(expr);
      }
      const ex = ftsExcluded(p);
      if (ex !== null) match(ex);
      return true;
    }),
    { numRuns: 2000 },
  );
});
