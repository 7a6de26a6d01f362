import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parseHfDaily } from './hf-daily.ts';
import type { PaperRecord, ParseItem } from './record.ts';

const DIR = new URL('../../../shared/data/hf-daily-papers/', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, DIR), 'utf8');

function okRecords(items: ParseItem[]): PaperRecord[] {
  return items.map((it) => {
    assert.ok(it.ok, `${it.where}: ${it.ok ? '' : it.reason}`);
    return it.record;
  });
}

const reasons = (items: ParseItem[]): string[] => items.map((it) => (it.ok ? 'ok' : it.reason));

/** A minimal valid entry, with overrides for the paper object and the entry. */
function entry(paper: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    paper: { id: '2405.15738', title: 'A title', summary: 'An abstract', upvotes: 3, ...paper },
    numComments: 1,
    ...extra,
  };
}

const parseJson = (value: unknown, date?: string) => parseHfDaily(JSON.stringify(value), { where: 't', date });

test('a normal file', () => {
  const text = read('2024-05-27.json');
  const { items, date } = parseHfDaily(text, { where: 'hf/2024-05-27.json', date: '2024-05-27' });
  assert.equal(date, '2024-05-27');
  const records = okRecords(items);
  assert.equal(records.length, (JSON.parse(text) as unknown[]).length);
  assert.equal(items[0]?.where, 'hf/2024-05-27.json#1');
  assert.equal(items.at(-1)?.where, `hf/2024-05-27.json#${items.length}`);
  const first = records[0];
  assert.ok(first);
  assert.equal(first.arxivId, '2405.15738');
  assert.equal(first.title, 'ConvLLaVA: Hierarchical Backbones as Visual Encoder for Large Multimodal\n  Models');
  assert.deepEqual(first.authors?.slice(0, 3), ['Chunjiang Ge', 'Sijie Cheng', 'Ziming Wang']);
  assert.ok(first.abstract && first.abstract.length > 100);
  assert.match(first.submittedAt ?? '', /^2024-05-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual(first.links?.slice(0, 2), [
    { kind: 'abs', url: 'https://arxiv.org/abs/2405.15738' },
    { kind: 'pdf', url: 'https://arxiv.org/pdf/2405.15738' },
  ]);
  const names = first.signals?.map((s) => s.name);
  assert.deepEqual(names, ['hf_upvotes', 'hf_comments']);
  for (const s of first.signals ?? []) assert.equal(s.observedAt, '2024-05-27T00:00:00.000Z');
});

test('a file of Python-repr entries', () => {
  const text = read('2024-12-11.json');
  const raw = JSON.parse(text) as unknown[];
  assert.ok(raw.every((e) => typeof e === 'string'));
  const records = okRecords(parseHfDaily(text, { where: 'f', date: '2024-12-11' }).items);
  assert.equal(records.length, raw.length);
  assert.equal(records[0]?.arxivId, '2412.07730');
  assert.equal(records[0]?.authors?.[0], 'Zongyu Lin');
  assert.ok(records.every((r) => r.title.length > 0 && r.abstract !== undefined && (r.authors?.length ?? 0) > 0));
});

test('the wrapped object file', () => {
  const text = read('2025-01-10.json');
  const wrapper = JSON.parse(text) as { date: string; data: unknown[] };
  const { items, date } = parseHfDaily(text, { where: 'f' });
  assert.equal(date, '2025-01-10');
  const records = okRecords(items);
  assert.equal(records.length, wrapper.data.length);
  assert.equal(records[0]?.arxivId, '2501.05441');
  assert.equal(records[0]?.signals?.[0]?.observedAt, '2025-01-10T00:00:00.000Z');
});

test('every entry of every file is accounted for', (t) => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));
  assert.equal(files.length, 580);
  let entries = 0;
  let ok = 0;
  const skipped = new Map<string, number>();
  for (const f of files) {
    const text = read(f);
    const root = JSON.parse(text) as unknown;
    const list = Array.isArray(root) ? root : (root as { data: unknown[] }).data;
    entries += list.length;
    const { items } = parseHfDaily(text, { where: f, date: f.slice(0, 10) });
    assert.equal(items.length, list.length, f);
    items.forEach((it, k) => assert.equal(it.where, `${f}#${k + 1}`));
    for (const it of items) {
      if (it.ok) ok++;
      else skipped.set(it.reason, (skipped.get(it.reason) ?? 0) + 1);
    }
  }
  assert.equal(entries, 9881);
  t.diagnostic(`${ok} ok, ${entries - ok} skipped${skipped.size ? `: ${JSON.stringify([...skipped])}` : ''}`);
  assert.equal(ok, entries);
});

test('non-object entries are skipped, one item each', () => {
  const { items } = parseJson([1, null, 'not a repr', [], true, entry()]);
  assert.deepEqual(reasons(items), [
    'entry 1: not an object (number)',
    'entry 2: not an object (null)',
    "entry 3: unreadable Python repr: unknown name 'not' at position 0",
    'entry 4: not an object (array)',
    'entry 5: not an object (boolean)',
    'ok',
  ]);
  assert.deepEqual(
    items.map((it) => it.where),
    ['t#1', 't#2', 't#3', 't#4', 't#5', 't#6'],
  );
  assert.deepEqual(reasons(parseJson(["'a string'", '[1]']).items), [
    'entry 1: not an object (string)',
    'entry 2: not an object (array)',
  ]);
});

test('missing or invalid required fields are skip reasons', () => {
  const { items } = parseJson([
    {},
    { paper: 'x' },
    entry({ id: undefined }),
    entry({ id: 2405.15738 }),
    entry({ id: 'foo' }),
    entry({ title: undefined }),
    entry({ title: 42 }),
    entry({ title: '   ' }),
    entry({ title: null }, { title: 'Entry title' }),
    entry({ id: 'arXiv:2405.15738v2' }),
  ]);
  assert.deepEqual(reasons(items), [
    'entry 1: missing paper',
    'entry 2: paper is not an object (string)',
    'entry 3: missing paper.id',
    'entry 4: paper.id is not a string (number)',
    "entry 5: paper.id is not an arXiv id: 'foo'",
    'entry 6: missing paper.title',
    'entry 7: paper.title is not a string (number)',
    'entry 8: paper.title is empty',
    'ok',
    'ok',
  ]);
  const last = items.slice(-2).map((it) => (it.ok ? it.record : undefined));
  assert.equal(last[0]?.title, 'Entry title');
  assert.equal(last[1]?.arxivId, '2405.15738v2');
  assert.equal(last[1]?.links?.[0]?.url, 'https://arxiv.org/abs/2405.15738v2');
});

test('wrong types in optional fields are ignored, not skips', () => {
  const [rec] = okRecords(
    parseJson([
      entry(
        {
          summary: 12,
          authors: [{ name: 'A' }, { name: 5 }, 'B', null, { user: {} }, { name: ' C ' }],
          publishedAt: 'yesterday',
          upvotes: '5',
          githubStars: -1,
          githubRepo: 'javascript:alert(1)',
          projectPage: ' https://example.org/p ',
        },
        { numComments: Infinity, summary: 'Entry abstract' },
      ),
      entry({ authors: 'nobody', githubRepo: 7, projectPage: 'not a url', upvotes: NaN }, { numComments: 2.5 }),
    ], '2024-05-27').items,
  );
  assert.ok(rec);
  assert.equal(rec.abstract, 'Entry abstract');
  assert.deepEqual(rec.authors, ['A', 'B', ' C ']);
  assert.equal(rec.submittedAt, undefined);
  assert.equal(rec.signals, undefined);
  assert.deepEqual(rec.links?.slice(2), [{ kind: 'project', url: 'https://example.org/p' }]);

  const { items } = parseJson([
    entry({ githubRepo: 'https://github.com/a/b', githubStars: 10, upvotes: 0, publishedAt: '2024-05-24T17:59:27+02:00' }),
  ], '2024-05-27');
  const [full] = okRecords(items);
  assert.deepEqual(full?.links?.[2], { kind: 'code', url: 'https://github.com/a/b' });
  assert.equal(full?.submittedAt, '2024-05-24T15:59:27.000Z');
  assert.deepEqual(
    full?.signals?.map((s) => [s.name, s.value]),
    [
      ['hf_upvotes', 0],
      ['hf_comments', 1],
      ['github_stars', 10],
    ],
  );
});

test('observation dates: observedAt, then the daily date, then the entry', () => {
  const body = JSON.stringify([
    entry({ submittedOnDailyAt: '2024-06-02T08:00:00.000Z' }, { publishedAt: '2024-06-01T00:00:00.000Z' }),
    entry({}, { publishedAt: '2024-06-01T00:00:00.000Z' }),
    entry(),
  ]);
  const at = (opts: { date?: string; observedAt?: string }) =>
    parseHfDaily(body, { where: 'w', ...opts }).items.map((it) => (it.ok ? it.record.signals?.[0]?.observedAt : 'skip'));
  const live = '2024-06-03T12:00:00.000Z';
  assert.deepEqual(at({ observedAt: live, date: '2024-06-03' }), [live, live, live]);
  assert.deepEqual(at({ date: '2024-06-03' }), Array(3).fill('2024-06-03T00:00:00.000Z'));
  assert.deepEqual(at({}), ['2024-06-02T08:00:00.000Z', '2024-06-01T00:00:00.000Z', undefined]);
  assert.deepEqual(at({ date: 'garbage', observedAt: 'soon' }), at({}));
});

test('truncated JSON keeps the complete leading entries', () => {
  const text = read('2024-05-27.json');
  const total = (JSON.parse(text) as unknown[]).length;
  const cut = text.slice(0, Math.floor(text.length / 2));
  const { items } = parseHfDaily(cut, { where: 'f', date: '2024-05-27' });
  const tail = items.at(-1);
  const complete = items.length - 1;
  assert.ok(complete > 0 && complete < total, `${complete} of ${total}`);
  okRecords(items.slice(0, -1));
  assert.deepEqual(tail, { ok: false, where: `f#${complete + 1}`, reason: `truncated JSON after entry ${complete}` });
  const full = parseHfDaily(text, { where: 'f', date: '2024-05-27' }).items;
  assert.deepEqual(items.slice(0, -1), full.slice(0, complete));

  // Every cut point of a small body: never throws, leading entries survive.
  const small = JSON.stringify([entry(), entry({ title: 'with "quotes" and [brackets] {}' }), entry()], null, 2);
  for (let n = 0; n < small.length; n++) {
    const got = parseHfDaily(small.slice(0, n), { where: 's' }).items;
    assert.ok(got.length >= 1);
    assert.ok(got.slice(0, -1).every((it) => it.ok));
  }

  const wrapped = read('2025-01-10.json');
  const w = parseHfDaily(wrapped.slice(0, Math.floor(wrapped.length * 0.7)), { where: 'w' }).items;
  assert.ok(w.length > 2 && w.slice(0, -1).every((it) => it.ok));
  assert.match(reasons(w).at(-1) ?? '', /^truncated JSON after entry \d+$/);
});

test('invalid JSON that cannot be recovered is one skip', () => {
  for (const text of ['', '   ', 'garbage', '{"status":', '[', '<html>Bad gateway</html>']) {
    const { items } = parseHfDaily(text, { where: 'w' });
    assert.equal(items.length, 1, JSON.stringify(text));
    assert.equal(items[0]?.where, 'w');
    assert.match(reasons(items)[0] ?? '', /^invalid JSON: /);
  }
});

test('a broken entry in an otherwise complete array', () => {
  const body = `[${JSON.stringify(entry())}, {"paper": oops}, ${JSON.stringify(entry())}]`;
  const r = reasons(parseHfDaily(body, { where: 'w' }).items);
  assert.equal(r.length, 3);
  assert.equal(r[0], 'ok');
  assert.match(r[1] ?? '', /^entry 2: invalid JSON: /);
  assert.equal(r[2], 'ok');
  const trailing = reasons(parseHfDaily(`${JSON.stringify([entry()])} trailing`, { where: 'w' }).items);
  assert.equal(trailing[0], 'ok');
  assert.match(trailing[1] ?? '', /^invalid JSON after entry 1: /);
});

test('odd bodies', () => {
  const one = (text: string): string[] => reasons(parseHfDaily(text, { where: 'w' }).items);
  assert.deepEqual(one('[]'), []);
  assert.deepEqual(one('{"status":"success","date":"2025-01-10","count":0,"data":[]}'), []);
  assert.deepEqual(one('null'), ['not a list of entries (null)']);
  assert.deepEqual(one('42'), ['not a list of entries (number)']);
  assert.deepEqual(one('{"data": {}}'), ['not a list of entries (object)']);
  assert.deepEqual(one('{"error": "Invalid date"}'), ['API error: Invalid date']);
  assert.deepEqual(one(`\uFEFF${JSON.stringify([entry()])}`), ['ok']);
  const proto = parseHfDaily('[{"paper": {"id": "2405.15738", "title": "T", "__proto__": {"upvotes": 5}, "constructor": 1}}]', {
    where: 'w',
    date: '2024-05-27',
  }).items;
  assert.deepEqual(okRecords(proto)[0]?.signals, undefined);
  assert.deepEqual(one('[' + '['.repeat(100_000) + ']'.repeat(100_000) + ']'), ['entry 1: not an object (array)']);
  assert.deepEqual(one(JSON.stringify([JSON.stringify(entry())])), ['ok']); // a JSON string entry
  assert.deepEqual(parseHfDaily('[]', { where: 'w', date: '2024-02-30' }).date, undefined);
});

test('a 10 MB summary is passed through', () => {
  const summary = 'word '.repeat(2_000_000);
  const [rec] = okRecords(parseJson([entry({ summary })]).items);
  assert.equal(rec?.abstract?.length, summary.length);
  const repr = `{'paper': {'id': '2412.07730', 'title': 'T', 'summary': '${summary}'}}`;
  const [fromRepr] = okRecords(parseJson([repr]).items);
  assert.equal(fromRepr?.abstract, summary);
});

test('property: never throws on arbitrary strings', () => {
  const chars = fc.constantFrom(...'[]{}",:\\ \'0123456789.-truefalsnul'.split(''));
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: chars, maxLength: 60 })), (s) => {
      const { items } = parseHfDaily(s, { where: 'p' });
      assert.ok(Array.isArray(items));
    }),
    { numRuns: 2000 },
  );
});

test('property: never throws on arbitrary JSON values, one item per entry', () => {
  const body = fc.oneof(
    fc.json(),
    fc.anything().map((v) => JSON.stringify(v) ?? 'undefined'),
    fc.array(fc.anything()).map((v) => JSON.stringify(v)),
    fc.array(fc.record({ paper: fc.anything(), numComments: fc.anything() })).map((v) => JSON.stringify(v)),
  );
  fc.assert(
    fc.property(body, (text) => {
      const { items } = parseHfDaily(text, { where: 'p' });
      const root = JSON.parse(text === 'undefined' ? 'null' : text) as unknown;
      if (Array.isArray(root)) assert.equal(items.length, root.length);
      for (const it of items) {
        if (it.ok) assert.equal(typeof it.record.title, 'string');
        else assert.ok(it.reason.length > 0);
      }
    }),
    { numRuns: 1000 },
  );
});
