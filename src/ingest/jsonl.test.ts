import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parseJsonlLine, splitAuthors } from './jsonl.ts';
import { normalise } from './normalise.ts';
import type { PaperRecord, ParseItem } from './record.ts';

const SEED = '/work/shared/data/seed/papers.jsonl';

function record(line: string): PaperRecord {
  const r = parseJsonlLine(line, 'seed:1');
  if (!r.ok) assert.fail(`expected ok, got: ${r.reason}`);
  return r.record;
}

function skipReason(line: string): string {
  const r = parseJsonlLine(line, 'bad:7');
  if (r.ok) assert.fail(`expected a skip, got ${JSON.stringify(r.record)}`);
  assert.equal(r.where, 'bad:7');
  return r.reason;
}

test('every line of the seed sample parses and normalises', { skip: !existsSync(SEED) && 'sample data not present' }, () => {
  const lines = readFileSync(SEED, 'utf8').split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 119);
  const keys = new Set<string>();
  for (const [i, line] of lines.entries()) {
    const r = parseJsonlLine(line, `papers.jsonl:${i + 1}`);
    if (!r.ok) assert.fail(`line ${i + 1}: ${r.reason}`);
    assert.equal(r.where, `papers.jsonl:${i + 1}`);
    const raw = JSON.parse(line) as { title: string; abstract: string };
    assert.equal(r.record.title, raw.title);
    assert.equal(r.record.abstract, raw.abstract);
    const n = normalise(r.where, r.record);
    if (!n.ok) assert.fail(`line ${i + 1}: ${n.reason}`);
    assert.match(n.value.paper.key, /^t:/);
    keys.add(n.value.paper.key);
  }
  assert.ok(keys.size > 100, 'title keys are mostly distinct');
  // a code link written in brackets in an abstract is found
  const rtgs = lines.map((l) => parseJsonlLine(l, 'x')).find((r) => r.ok && r.record.title.startsWith('RTGS'));
  assert.ok(rtgs?.ok);
  if (rtgs?.ok) {
    const n = normalise('x', rtgs.record);
    assert.ok(n.ok);
    if (n.ok) assert.deepEqual(n.value.paper.links, [{ kind: 'code', url: 'https://github.com/horizon-research/Fov-3DGS' }]);
  }
});

test('authors as "A, B and C", with semicolons, as arrays or objects', () => {
  assert.deepEqual(record('{"title":"T","authors":"Ann Lee, Bob Smith and Cy Young"}').authors, ['Ann Lee', 'Bob Smith', 'Cy Young']);
  assert.deepEqual(record('{"title":"T","authors":"Ann Lee; Bob Smith"}').authors, ['Ann Lee', 'Bob Smith']);
  assert.deepEqual(record('{"title":"T","authors":"Alexander Anderson and Sandra Band"}').authors, ['Alexander Anderson', 'Sandra Band']);
  assert.deepEqual(record('{"title":"T","authors":["A","B"]}').authors, ['A', 'B']);
  assert.deepEqual(record('{"title":"T","authors":[{"name":"A"},3,null,"B",{"x":1}]}').authors, ['A', 'B']);
  assert.equal(record('{"title":"T","authors":42}').authors, undefined);
  assert.deepEqual(splitAuthors(' , and ,'), []);
  assert.equal(splitAuthors(undefined), undefined);
});

test('id as an arXiv id or URL, or a DOI', () => {
  assert.equal(record('{"title":"T","id":"2401.01234v2"}').arxivId, '2401.01234v2');
  assert.equal(record('{"title":"T","id":"https://arxiv.org/abs/2401.01234v2"}').arxivId, 'https://arxiv.org/abs/2401.01234v2');
  assert.equal(record('{"title":"T","arxiv_id":"hep-th/9901001"}').arxivId, 'hep-th/9901001');
  const doi = record('{"title":"T","id":"10.1145/3580305.3599256"}');
  assert.equal(doi.doi, '10.1145/3580305.3599256');
  assert.equal(doi.arxivId, undefined);
  assert.equal(record('{"title":"T","id":"https://doi.org/10.1145/X"}').doi, 'https://doi.org/10.1145/X');
  // an explicit doi field wins over a DOI-looking id
  assert.equal(record('{"title":"T","id":"10.1000/a","doi":"10.1000/b"}').doi, '10.1000/b');
  // the first arXiv id found is kept
  assert.equal(record('{"title":"T","id":"2401.00001","url":"https://arxiv.org/abs/2401.00002"}').arxivId, '2401.00001');
  // an id that is neither is ignored
  const neither = record('{"title":"T","id":"my-paper-1"}');
  assert.equal(neither.arxivId, undefined);
  assert.equal(neither.doi, undefined);
});

test('ids end up normalised after normalise()', () => {
  const n = normalise('x', record('{"title":"T","id":"https://arxiv.org/pdf/2401.01234v3.pdf","doi":"DOI:10.1000/ABC"}'));
  assert.ok(n.ok);
  if (n.ok) {
    assert.equal(n.value.paper.arxivId, '2401.01234');
    assert.equal(n.value.paper.version, 3);
    assert.equal(n.value.paper.doi, '10.1000/abc');
  }
});

test('url, dates, categories, summary', () => {
  const r = record('{"title":"T","url":"https://example.org/p","date":"2024-01-02","categories":"cs.AI, cs.LG","summary":"S"}');
  assert.deepEqual(r.links, [{ kind: 'other', url: 'https://example.org/p' }]);
  assert.equal(r.submittedAt, '2024-01-02');
  assert.deepEqual(r.categories, ['cs.AI', 'cs.LG']);
  assert.equal(r.abstract, 'S');
  assert.equal(record('{"title":"T","abstract":"A","summary":"S"}').abstract, 'A');
  assert.equal(record('{"title":"T","published":"2024-05-06"}').submittedAt, '2024-05-06');
  assert.deepEqual(record('{"title":"T","categories":["cs.AI",3,"stat.ML"]}').categories, ['cs.AI', 'stat.ML']);
  assert.equal(record('{"title":"T","url":"https://arxiv.org/abs/2401.01234"}').links, undefined);
});

test('a numeric (epoch ms) date survives to the normalised paper', () => {
  const n = normalise('x', record('{"title":"T","date":1700000000000}'));
  assert.ok(n.ok);
  if (n.ok) assert.equal(n.value.paper.submittedAt, '2023-11-14T22:13:20.000Z');
});

test('bad lines are skipped with clear reasons', () => {
  assert.match(skipReason('{"title":"T","abstract":"tru'), /^invalid JSON: /);
  assert.match(skipReason(''), /^invalid JSON/);
  assert.match(skipReason('[{"title":"T"}]'), /expected a JSON object, got array/);
  assert.match(skipReason('null'), /expected a JSON object, got null/);
  assert.match(skipReason('"a string"'), /expected a JSON object, got string/);
  assert.match(skipReason('42'), /expected a JSON object, got number/);
  assert.match(skipReason('{"title":5}'), /title must be a string, got number/);
  assert.match(skipReason('{"title":["T"]}'), /title must be a string, got array/);
  assert.match(skipReason('{"abstract":"A"}'), /missing title/);
  assert.match(skipReason('{"title":null}'), /missing title/);
  assert.match(skipReason('{"title":"T","abstract":{"x":1}}'), /abstract must be a string, got object/);
  // reasons stay short even for huge input
  assert.ok(skipReason('{"title":"' + 'x'.repeat(100_000)).length < 200);
});

// --- properties --------------------------------------------------------------

function checkItem(r: ParseItem, where: string): void {
  assert.equal(r.where, where);
  if (r.ok) {
    assert.equal(typeof r.record.title, 'string');
    // whatever the parser accepts, normalise copes with
    const n = normalise(where, r.record);
    if (!n.ok) assert.ok(n.reason.length > 0);
  } else {
    assert.ok(r.reason.length > 0);
  }
}

const fieldValue = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.jsonValue(), fc.constantFrom('2401.01234v2', '10.1000/x', 'https://arxiv.org/abs/2401.01234'));
const jsonlObject = fc.dictionary(
  fc.constantFrom('title', 'abstract', 'summary', 'id', 'arxiv_id', 'url', 'doi', 'authors', 'date', 'published', 'submitted', 'categories'),
  fieldValue,
);

test('property: parseJsonlLine never throws', () => {
  fc.assert(fc.property(fc.string(), (s) => checkItem(parseJsonlLine(s, 'w'), 'w')), { numRuns: 300 });
  fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => checkItem(parseJsonlLine(s, 'w'), 'w')), { numRuns: 300 });
  fc.assert(fc.property(fc.json(), (s) => checkItem(parseJsonlLine(s, 'w'), 'w')), { numRuns: 300 });
  fc.assert(fc.property(jsonlObject, (o) => checkItem(parseJsonlLine(JSON.stringify(o), 'w'), 'w')), { numRuns: 500 });
});
