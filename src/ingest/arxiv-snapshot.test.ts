import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { globToRegExp, parseSnapshotLine, type SnapshotFilter, type SnapshotItem } from './arxiv-snapshot.ts';
import { normalise } from './normalise.ts';
import type { PaperRecord } from './record.ts';

const SNAPSHOT = '/work/shared/data/arxiv-kaggle/snapshot-first200.jsonl';
const haveSample = existsSync(SNAPSHOT);
const lines = haveSample ? readFileSync(SNAPSHOT, 'utf8').split('\n').filter((l) => l.trim() !== '') : [];
const skipNoSample = { skip: !haveSample && 'sample data not present' };

function rec(item: SnapshotItem): PaperRecord {
  if ('filtered' in item) assert.fail('unexpectedly filtered');
  if (!item.ok) assert.fail(`expected ok, got: ${item.reason}`);
  return item.record;
}

function skipReason(line: string): string {
  const r = parseSnapshotLine(line, 'snap:9');
  assert.ok(!('filtered' in r), 'filtered instead of skipped');
  if (!('filtered' in r) && r.ok) assert.fail(`expected a skip, got ${JSON.stringify(r.record)}`);
  assert.equal(r.where, 'snap:9');
  return (r as { reason: string }).reason;
}

interface Raw {
  id: string;
  categories: string;
  update_date: string;
}

test('every line of the snapshot sample parses and normalises', skipNoSample, () => {
  assert.equal(lines.length, 200);
  const ids = new Set<string>();
  for (const [i, line] of lines.entries()) {
    const r = rec(parseSnapshotLine(line, `snap:${i + 1}`));
    const n = normalise(`snap:${i + 1}`, r);
    if (!n.ok) assert.fail(`line ${i + 1}: ${n.reason}`);
    const raw = JSON.parse(line) as Raw;
    assert.equal(n.value.paper.arxivId, raw.id);
    assert.equal(n.value.paper.key, raw.id);
    assert.ok(n.value.paper.version >= 1);
    assert.ok(n.value.paper.submittedAt);
    for (const a of n.value.paper.authors) assert.doesNotMatch(a, /[\\{}]/, `line ${i + 1}: ${a}`);
    ids.add(raw.id);
  }
  assert.equal(ids.size, 200);
});

test('record 0704.0001 in detail', skipNoSample, () => {
  const line = lines.find((l) => l.startsWith('{"id":"0704.0001"'));
  assert.ok(line);
  const r = rec(parseSnapshotLine(line, 'snap:1'));
  assert.equal(r.arxivId, '0704.0001');
  assert.deepEqual(r.authors, ['C. Balázs', 'E. L. Berger', 'P. M. Nadolsky', 'C.-P. Yuan']);
  assert.deepEqual(r.versions, [
    { version: 1, date: '2007-04-02T19:18:42.000Z' },
    { version: 2, date: '2007-07-24T20:10:27.000Z' },
  ]);
  assert.equal(r.version, 2);
  assert.equal(r.doi, '10.1103/PhysRevD.76.013009');
  assert.equal(r.journalRef, 'Phys.Rev.D76:013009,2007');
  assert.equal(r.comments, '37 pages, 15 figures; published version');
  assert.deepEqual(r.categories, ['hep-ph']);

  const n = normalise('snap:1', r);
  assert.ok(n.ok);
  if (!n.ok) return;
  const p = n.value.paper;
  assert.equal(p.title, 'Calculation of prompt diphoton production cross sections at Tevatron and LHC energies');
  assert.match(p.abstract, /^A fully differential calculation/);
  assert.doesNotMatch(p.abstract, /\n/); // one paragraph, hard wraps joined
  assert.equal(p.doi, '10.1103/physrevd.76.013009');
  assert.equal(p.submittedAt, '2007-04-02T19:18:42.000Z');
  assert.equal(p.updatedAt, '2007-07-24T20:10:27.000Z');
  assert.deepEqual(p.links, [
    { kind: 'abs', url: 'https://arxiv.org/abs/0704.0001' },
    { kind: 'pdf', url: 'https://arxiv.org/pdf/0704.0001' },
    { kind: 'doi', url: 'https://doi.org/10.1103/physrevd.76.013009' },
  ]);
});

test('authors from the authors string when authors_parsed is absent', () => {
  const r = rec(parseSnapshotLine(JSON.stringify({ id: '0704.0001', title: 'T', authors: "C. Bal\\'azs, E. L.\n  Berger and M\\\"uller" }), 'w'));
  assert.deepEqual(r.authors, ['C. Balázs', 'E. L. Berger', 'Müller']);
  const parsed = rec(
    parseSnapshotLine(JSON.stringify({ id: '0704.0001', title: 'T', authors: 'ignored', authors_parsed: [['Smith', 'J.', 'Jr'], ['Nobody'], 'junk', [3, null], ['', '']] }), 'w'),
  );
  assert.deepEqual(parsed.authors, ['J. Smith Jr', 'Nobody']);
});

test('globToRegExp: category globs', () => {
  const cs = globToRegExp(['cs.*']);
  assert.ok(cs.test('cs.AI') && cs.test('cs.LG'));
  assert.ok(!cs.test('csXAI') && !cs.test('physics.cs.AI') && !cs.test('econ.cs'));
  const hep = globToRegExp(['hep-*']);
  assert.ok(hep.test('hep-th') && hep.test('hep-ph') && hep.test('hep-ex') && hep.test('hep-lat'));
  assert.ok(!hep.test('hepth') && !hep.test('nucl-th'));
  const list = globToRegExp('math.CO,stat.ML'.split(','));
  assert.ok(list.test('math.CO') && list.test('stat.ML'));
  assert.ok(!list.test('math.CA') && !list.test('stat.MLX') && !list.test('xmath.CO'));
  assert.ok(globToRegExp([' cs.AI ', '']).test('cs.AI'));
});

test('category filters on the sample', skipNoSample, () => {
  const raws = lines.map((l) => JSON.parse(l) as Raw);
  const cases: [string[], (c: string) => boolean][] = [
    [['cs.*'], (c) => c.startsWith('cs.')],
    [['hep-*'], (c) => c.startsWith('hep-')],
    ['math.CO,stat.ML'.split(','), (c) => c === 'math.CO' || c === 'stat.ML'],
  ];
  for (const [globs, want] of cases) {
    const filter: SnapshotFilter = { categories: globs };
    const re = globToRegExp(globs);
    let kept = 0;
    for (const [i, line] of lines.entries()) {
      const expected = raws[i]!.categories.split(' ').some(want);
      // with and without a precompiled RegExp
      for (const r of [parseSnapshotLine(line, `snap:${i + 1}`, filter, re), parseSnapshotLine(line, `snap:${i + 1}`, filter)]) {
        if (expected) {
          assert.ok(!('filtered' in r) && r.ok, `${globs.join(',')} line ${i + 1}`);
        } else {
          assert.deepEqual(r, { filtered: true, where: `snap:${i + 1}` });
        }
      }
      if (expected) kept++;
    }
    assert.ok(kept > 0 && kept < lines.length, `${globs.join(',')} keeps some but not all`);
  }
});

test('--since filtering on the sample', skipNoSample, () => {
  const since = '2009-01-01';
  let kept = 0;
  for (const [i, line] of lines.entries()) {
    const raw = JSON.parse(line) as Raw;
    const r = parseSnapshotLine(line, `snap:${i + 1}`, { since });
    if (raw.update_date >= since) {
      assert.ok(!('filtered' in r) && r.ok);
      kept++;
    } else {
      assert.deepEqual(r, { filtered: true, where: `snap:${i + 1}` });
    }
  }
  assert.ok(kept > 0 && kept < lines.length);
  // combined with a category filter: both must pass
  const both = lines.filter((l) => 'ok' in parseSnapshotLine(l, 'w', { since, categories: ['hep-*'] }));
  for (const l of both) {
    const raw = JSON.parse(l) as Raw;
    assert.ok(raw.update_date >= since && /(^| )hep-/.test(raw.categories));
  }
});

test('--since without update_date uses the last version date', () => {
  const base = { id: '0704.0001', title: 'T', versions: [{ version: 'v1', created: 'Mon, 2 Apr 2007 19:18:42 GMT' }, { version: 'v2', created: 'Tue, 24 Jul 2007 20:10:27 GMT' }] };
  assert.ok('ok' in parseSnapshotLine(JSON.stringify(base), 'w', { since: '2007-07-24' }));
  assert.deepEqual(parseSnapshotLine(JSON.stringify(base), 'w', { since: '2007-07-25' }), { filtered: true, where: 'w' });
  assert.deepEqual(parseSnapshotLine(JSON.stringify({ id: '0704.0001', title: 'T' }), 'w', { since: '2000-01-01' }), { filtered: true, where: 'w' });
});

test('versions: garbage entries dropped', () => {
  const r = rec(
    parseSnapshotLine(
      JSON.stringify({ id: '0704.0001', title: 'T', versions: [{ version: 'v1', created: 'Mon, 2 Apr 2007 19:18:42 GMT' }, { version: 2, created: 'x' }, { version: 'v3', created: 'not a date' }, null, 'v4'] }),
      'w',
    ),
  );
  assert.deepEqual(r.versions, [{ version: 1, date: '2007-04-02T19:18:42.000Z' }]);
  assert.equal(r.version, 1);
  assert.deepEqual(rec(parseSnapshotLine(JSON.stringify({ id: '0704.0001', title: 'T', versions: 'v1' }), 'w')).versions, []);
});

test('doi: only the first of several', () => {
  assert.equal(rec(parseSnapshotLine(JSON.stringify({ id: '0704.0001', title: 'T', doi: '10.1000/a 10.1000/b' }), 'w')).doi, '10.1000/a');
});

test('bad lines are skipped with clear reasons', () => {
  assert.match(skipReason('{"id":"0704.0001","title":"Calc'), /^invalid JSON: /);
  assert.match(skipReason('[{"id":"0704.0001","title":"T"}]'), /expected a JSON object, got array/);
  assert.match(skipReason('null'), /expected a JSON object, got null/);
  assert.match(skipReason('{"id":"0704.0001","title":5}'), /title must be a string, got number/);
  assert.match(skipReason('{"id":"0704.0001"}'), /missing title/);
  assert.match(skipReason('{"title":"T"}'), /missing id/);
  assert.match(skipReason('{"id":704.0001,"title":"T"}'), /id must be a string, got number/);
  assert.match(skipReason('{"id":null,"title":"T"}'), /id must be a string, got null/);
  // a bad line is skipped, not filtered, even when a filter is set
  const r = parseSnapshotLine('{"title":"T"', 'w', { categories: ['cs.*'], since: '2020-01-01' });
  assert.ok(!('filtered' in r) && !r.ok);
});

test('an invalid arXiv id passes the parser but is refused by normalise', () => {
  const r = rec(parseSnapshotLine('{"id":"not-an-id","title":"T"}', 'w'));
  const n = normalise('w', r);
  assert.ok(!n.ok);
  if (!n.ok) assert.match(n.reason, /not an arXiv id/);
});

// --- properties --------------------------------------------------------------

function checkItem(r: SnapshotItem, where: string): void {
  assert.equal(r.where, where);
  if ('filtered' in r) return assert.equal(r.filtered, true);
  if (r.ok) {
    assert.equal(typeof r.record.title, 'string');
    const n = normalise(where, r.record);
    if (!n.ok) assert.ok(n.reason.length > 0);
  } else {
    assert.ok(r.reason.length > 0);
  }
}

const value = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.jsonValue());
const snapshotObject = fc.record(
  {
    id: fc.oneof(value, fc.constantFrom('0704.0001', 'hep-th/9901001')),
    title: value,
    abstract: value,
    authors: fc.oneof(value, fc.constant("C. Bal\\'azs and {\\\"O}zg\\\"ur")),
    authors_parsed: fc.oneof(value, fc.array(fc.array(fc.oneof(fc.string(), fc.jsonValue()), { maxLength: 4 }), { maxLength: 4 })),
    versions: fc.oneof(value, fc.array(fc.record({ version: fc.oneof(fc.constantFrom('v1', 'v2', 'v99999999999999999999'), value), created: fc.oneof(value, fc.date({ noInvalidDate: true }).map((d) => d.toUTCString())) }), { maxLength: 3 })),
    categories: fc.oneof(value, fc.constantFrom('cs.AI cs.LG', 'hep-th', '')),
    doi: value,
    'journal-ref': value,
    comments: value,
    update_date: fc.oneof(value, fc.constantFrom('2008-11-26', '2024-01-01')),
  },
  { requiredKeys: [] },
);
const filters = fc.record(
  { categories: fc.option(fc.array(fc.oneof(fc.constantFrom('cs.*', 'hep-*', 'math.CO', '*'), fc.string()), { maxLength: 3 }), { nil: undefined }), since: fc.option(fc.constantFrom('2008-01-01', '2020-01-01'), { nil: undefined }) },
  { requiredKeys: [] },
);

test('property: parseSnapshotLine never throws', () => {
  fc.assert(fc.property(fc.string(), (s) => checkItem(parseSnapshotLine(s, 'w'), 'w')), { numRuns: 300 });
  fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => checkItem(parseSnapshotLine(s, 'w'), 'w')), { numRuns: 300 });
  fc.assert(fc.property(fc.json(), (s) => checkItem(parseSnapshotLine(s, 'w'), 'w')), { numRuns: 300 });
  fc.assert(
    fc.property(snapshotObject, filters, (o, f) => checkItem(parseSnapshotLine(JSON.stringify(o), 'w', f), 'w')),
    { numRuns: 500 },
  );
});
