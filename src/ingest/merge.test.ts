import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { paperKey, titleKey } from './ids.ts';
import { mergePapers, samePaper } from './merge.ts';
import type { Paper } from './paper.ts';
import type { LinkKind } from './record.ts';

function paper(p: Partial<Paper> = {}): Paper {
  const title = p.title ?? 'A Title';
  const arxivId = p.arxivId === undefined ? '2401.01234' : p.arxivId;
  const doi = p.doi === undefined ? null : p.doi;
  return {
    key: p.key ?? paperKey({ arxivId: arxivId ?? undefined, doi: doi ?? undefined, title }),
    arxivId,
    doi,
    titleKey: p.titleKey ?? titleKey(title),
    title,
    abstract: p.abstract ?? 'An abstract.',
    authors: p.authors ?? ['Ann Lee'],
    categories: p.categories ?? ['cs.LG'],
    submittedAt: p.submittedAt === undefined ? '2024-01-01T00:00:00.000Z' : p.submittedAt,
    updatedAt: p.updatedAt === undefined ? '2024-01-01T00:00:00.000Z' : p.updatedAt,
    version: p.version ?? 1,
    versions: p.versions ?? [{ version: 1, date: '2024-01-01T00:00:00.000Z' }],
    journalRef: p.journalRef === undefined ? null : p.journalRef,
    comments: p.comments === undefined ? null : p.comments,
    links: p.links ?? [],
  };
}

const v1 = paper({
  title: 'Old Title',
  abstract: 'Old abstract.',
  authors: ['Ann Lee'],
  version: 1,
  versions: [{ version: 1, date: '2024-01-01T00:00:00.000Z' }],
  submittedAt: '2024-01-01T00:00:00.000Z',
  updatedAt: '2024-01-01T00:00:00.000Z',
});
const v2 = paper({
  title: 'New Title',
  abstract: 'New abstract.',
  authors: ['Ann Lee', 'Bob Smith'],
  version: 2,
  versions: [{ version: 2, date: '2024-02-01T00:00:00.000Z' }],
  submittedAt: '2024-02-01T00:00:00.000Z',
  updatedAt: '2024-02-01T00:00:00.000Z',
});

test('the higher version’s text wins, whichever side it is on', () => {
  for (const m of [mergePapers(v1, v2), mergePapers(v2, v1)]) {
    assert.equal(m.title, 'New Title');
    assert.equal(m.titleKey, 'new title');
    assert.equal(m.abstract, 'New abstract.');
    assert.deepEqual(m.authors, ['Ann Lee', 'Bob Smith']);
    assert.equal(m.version, 2);
    assert.deepEqual(m.versions, [
      { version: 1, date: '2024-01-01T00:00:00.000Z' },
      { version: 2, date: '2024-02-01T00:00:00.000Z' },
    ]);
    assert.equal(m.submittedAt, '2024-01-01T00:00:00.000Z');
    assert.equal(m.updatedAt, '2024-02-01T00:00:00.000Z');
  }
});

test('same version: the later updatedAt wins', () => {
  const early = paper({ title: 'Early', version: 1, updatedAt: '2024-01-01T00:00:00.000Z' });
  const late = paper({ title: 'Late', version: 1, updatedAt: '2024-01-05T00:00:00.000Z' });
  assert.equal(mergePapers(early, late).title, 'Late');
  assert.equal(mergePapers(late, early).title, 'Late');
  // a known date beats an unknown one
  const unknown = paper({ title: 'Unknown', version: 1, updatedAt: null });
  assert.equal(mergePapers(unknown, early).title, 'Early');
  assert.equal(mergePapers(early, unknown).title, 'Early');
});

test('a full tie keeps what is stored', () => {
  const a = paper({ title: 'Stored', abstract: 'S', authors: ['S'] });
  const b = paper({ title: 'Incoming', abstract: 'I', authors: ['I'] });
  const m = mergePapers(a, b);
  assert.equal(m.title, 'Stored');
  assert.equal(m.abstract, 'S');
  assert.deepEqual(m.authors, ['S']);
  assert.equal(mergePapers(b, a).title, 'Incoming');
  const nullDates = mergePapers(paper({ title: 'Stored', updatedAt: null }), paper({ title: 'Incoming', updatedAt: null }));
  assert.equal(nullDates.title, 'Stored');
});

test('empty fields of the winner are filled from the other', () => {
  const rich = paper({ version: 1, abstract: 'Has abstract', authors: ['Ann'], doi: '10.1000/x', journalRef: 'J. Foo 1', comments: '10 pages' });
  const bare = paper({ version: 2, abstract: '', authors: [], doi: null, journalRef: null, comments: null, updatedAt: '2024-03-01T00:00:00.000Z' });
  for (const m of [mergePapers(rich, bare), mergePapers(bare, rich)]) {
    assert.equal(m.version, 2);
    assert.equal(m.abstract, 'Has abstract');
    assert.deepEqual(m.authors, ['Ann']);
    assert.equal(m.doi, '10.1000/x');
    assert.equal(m.journalRef, 'J. Foo 1');
    assert.equal(m.comments, '10 pages');
  }
  // the winner's own values are kept when present
  const m = mergePapers(rich, paper({ version: 2, doi: '10.1000/y', journalRef: 'J. Bar 2', comments: 'v2' }));
  assert.deepEqual([m.doi, m.journalRef, m.comments], ['10.1000/y', 'J. Bar 2', 'v2']);
  // arXiv id is filled from either side
  assert.equal(mergePapers(paper({ arxivId: null, doi: '10.1000/x' }), paper({ arxivId: '2401.01234', doi: '10.1000/x' })).arxivId, '2401.01234');
});

test('versions are unioned and sorted; submittedAt is the min, updatedAt the max', () => {
  const a = paper({
    version: 3,
    versions: [
      { version: 3, date: '2024-03-01T00:00:00.000Z' },
      { version: 1, date: '2024-01-01T00:00:00.000Z' },
    ],
    submittedAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-03-01T00:00:00.000Z',
  });
  const b = paper({
    version: 2,
    versions: [{ version: 2, date: '2024-02-01T00:00:00.000Z' }],
    submittedAt: '2023-12-31T00:00:00.000Z',
    updatedAt: '2024-04-01T00:00:00.000Z',
  });
  for (const m of [mergePapers(a, b), mergePapers(b, a)]) {
    assert.deepEqual(
      m.versions.map((v) => v.version),
      [1, 2, 3],
    );
    assert.equal(m.submittedAt, '2023-12-31T00:00:00.000Z');
    assert.equal(m.updatedAt, '2024-04-01T00:00:00.000Z');
    assert.equal(m.version, 3);
  }
  const noDates = mergePapers(paper({ submittedAt: null, updatedAt: null }), paper({ submittedAt: '2024-01-01T00:00:00.000Z', updatedAt: null }));
  assert.equal(noDates.submittedAt, '2024-01-01T00:00:00.000Z');
  assert.equal(noDates.updatedAt, null);
});

test('categories: union, with the winner’s primary first', () => {
  const stored = paper({ version: 1, categories: ['hep-ph', 'hep-th'] });
  const newer = paper({ version: 2, categories: ['hep-th', 'astro-ph'] });
  assert.deepEqual(mergePapers(stored, newer).categories, ['hep-th', 'astro-ph', 'hep-ph']);
  assert.deepEqual(mergePapers(newer, stored).categories, ['hep-th', 'astro-ph', 'hep-ph']);
  const older = paper({ version: 0, categories: ['cs.AI'] });
  assert.deepEqual(mergePapers(stored, older).categories, ['hep-ph', 'hep-th', 'cs.AI']);
});

test('links: unioned without case-insensitive duplicates, winner first', () => {
  const a = paper({ version: 1, links: [{ kind: 'code', url: 'https://github.com/a/b' }] });
  const b = paper({
    version: 2,
    links: [
      { kind: 'project', url: 'https://a.github.io/' },
      { kind: 'code', url: 'https://GitHub.com/a/b' },
    ],
  });
  assert.deepEqual(mergePapers(a, b).links, [
    { kind: 'project', url: 'https://a.github.io/' },
    { kind: 'code', url: 'https://GitHub.com/a/b' },
  ]);
});

test('key upgrades t: → doi: → arXiv id', () => {
  const byTitle = paper({ arxivId: null, doi: null, title: 'Some Paper' });
  assert.match(byTitle.key, /^t:/);
  const withDoi = paper({ arxivId: null, doi: '10.1000/x', title: 'Some Paper' });
  const withArxiv = paper({ arxivId: '2401.01234', doi: null, title: 'Some Paper' });

  const m1 = mergePapers(byTitle, withDoi);
  assert.equal(m1.key, 'doi:10.1000/x');
  const m2 = mergePapers(m1, withArxiv);
  assert.equal(m2.key, '2401.01234');
  assert.equal(mergePapers(byTitle, withArxiv).key, '2401.01234');
});

test('key never downgrades, and a same-rank key is kept', () => {
  const arx = paper({ arxivId: '2401.01234', doi: '10.1000/x' });
  assert.equal(mergePapers(arx, paper({ arxivId: null, doi: '10.1000/x', version: 5 })).key, '2401.01234');
  const doiA = paper({ arxivId: null, doi: '10.1000/a', version: 1 });
  const doiB = paper({ arxivId: null, doi: '10.1000/b', version: 2 });
  const m = mergePapers(doiA, doiB);
  assert.equal(m.doi, '10.1000/b');
  assert.equal(m.key, 'doi:10.1000/a');
  // a retitled paper keeps its title hash
  const t1 = paper({ arxivId: null, title: 'First Title', version: 1 });
  const t2 = paper({ arxivId: null, title: 'Second Title', version: 2 });
  const mt = mergePapers(t1, t2);
  assert.equal(mt.title, 'Second Title');
  assert.equal(mt.key, t1.key);
});

test('idempotence: merging the same record again changes nothing', () => {
  const m = mergePapers(v1, v2);
  const again = mergePapers(m, v2);
  assert.ok(samePaper(again, m));
  assert.deepEqual(again, m);
  assert.ok(samePaper(mergePapers(m, v1), m));
  assert.ok(samePaper(mergePapers(v1, v1), v1));
});

test('samePaper tells different papers apart', () => {
  assert.ok(samePaper(v1, { ...v1 }));
  assert.ok(!samePaper(v1, v2));
  assert.ok(!samePaper(v1, { ...v1, abstract: 'x' }));
  assert.ok(!samePaper(v1, { ...v1, links: [{ kind: 'code', url: 'https://github.com/a/b' }] }));
  assert.ok(!samePaper(v1, { ...v1, versions: [] }));
});

// --- properties --------------------------------------------------------------

const iso = fc.integer({ min: Date.UTC(2007, 0, 1), max: Date.UTC(2030, 0, 1) }).map((t) => new Date(t).toISOString());
const word = fc.constantFrom('alpha', 'beta', 'Gamma', 'delta', 'ε', 'zeta', '');
const text = fc.array(word, { maxLength: 4 }).map((w) => w.join(' ').trim());
const nonEmpty = fc.array(word.filter(Boolean), { minLength: 1, maxLength: 4 }).map((w) => w.join(' '));
const orNull = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });

const paperArb = (version: fc.Arbitrary<number>): fc.Arbitrary<Paper> =>
  fc
    .record({
      arxivId: orNull(fc.constantFrom('2401.01234', 'hep-th/9901001')),
      doi: orNull(fc.constantFrom('10.1000/a', '10.1000/b')),
      title: nonEmpty,
      abstract: text,
      authors: fc.array(fc.constantFrom('Ann', 'Bob', 'Cy', 'Di'), { maxLength: 3 }),
      categories: fc.uniqueArray(fc.constantFrom('cs.LG', 'cs.AI', 'stat.ML', 'hep-th'), { maxLength: 3 }),
      submittedAt: orNull(iso),
      updatedAt: orNull(iso),
      version,
      versions: fc.uniqueArray(fc.record({ version: fc.integer({ min: 1, max: 6 }), date: iso }), { selector: (v) => v.version, maxLength: 4 }),
      journalRef: orNull(nonEmpty),
      comments: orNull(nonEmpty),
      links: fc.array(
        fc.record({
          kind: fc.constantFrom<LinkKind>('code', 'project', 'abs'),
          url: fc.constantFrom('https://github.com/a/b', 'https://GITHUB.com/a/b', 'https://x.org/', 'https://arxiv.org/abs/2401.01234'),
        }),
        { maxLength: 3 },
      ),
    })
    .map((r) => ({
      ...r,
      versions: [...r.versions].sort((a, b) => a.version - b.version),
      titleKey: titleKey(r.title),
      key: paperKey({ arxivId: r.arxivId ?? undefined, doi: r.doi ?? undefined, title: r.title }),
    }));

const rank = (k: string) => (k.startsWith('t:') ? 0 : k.startsWith('doi:') ? 1 : 2);

test('property: idempotent — merge(merge(a, b), b) is merge(a, b)', () => {
  fc.assert(
    fc.property(paperArb(fc.integer({ min: 0, max: 4 })), paperArb(fc.integer({ min: 0, max: 4 })), (a, b) => {
      const m = mergePapers(a, b);
      const again = mergePapers(m, b);
      assert.ok(samePaper(again, m), JSON.stringify({ m, again }));
      assert.ok(samePaper(mergePapers(m, a), m));
    }),
    { numRuns: 300 },
  );
});

test('property: the key never downgrades and the merge keeps every version', () => {
  fc.assert(
    fc.property(paperArb(fc.integer({ min: 0, max: 4 })), paperArb(fc.integer({ min: 0, max: 4 })), (a, b) => {
      const m = mergePapers(a, b);
      assert.ok(rank(m.key) >= rank(a.key));
      assert.equal(m.version, Math.max(a.version, b.version));
      const vs = m.versions.map((v) => v.version);
      assert.deepEqual(vs, [...new Set([...a.versions, ...b.versions].map((v) => v.version))].sort((x, y) => x - y));
      for (const c of [...a.categories, ...b.categories]) assert.ok(m.categories.includes(c));
      assert.equal(new Set(m.links.map((l) => l.url.toLowerCase())).size, m.links.length);
      assert.equal(m.titleKey, titleKey(m.title));
    }),
    { numRuns: 300 },
  );
});

test('property: with distinct versions, the final text does not depend on the order', () => {
  const pair = fc
    .tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 }))
    .filter(([x, y]) => x !== y)
    .chain(([x, y]) => fc.tuple(paperArb(fc.constant(x)), paperArb(fc.constant(y))));
  fc.assert(
    fc.property(pair, ([a, b]) => {
      const ab = mergePapers(a, b);
      const ba = mergePapers(b, a);
      const text = (p: Paper) => ({ title: p.title, abstract: p.abstract, authors: p.authors, version: p.version, versions: p.versions });
      assert.deepEqual(text(ab), text(ba));
      // the higher version's non-empty text is the one kept
      const hi = a.version > b.version ? a : b;
      assert.equal(ab.title, hi.title);
      if (hi.abstract !== '') assert.equal(ab.abstract, hi.abstract);
      if (hi.authors.length) assert.deepEqual(ab.authors, hi.authors);
      assert.equal(ab.submittedAt, ba.submittedAt);
      assert.equal(ab.updatedAt, ba.updatedAt);
    }),
    { numRuns: 300 },
  );
});
