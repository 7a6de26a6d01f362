import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cleanUrl, LIMITS, linksInText, normalise, oneLine, paragraphs, type Normalised } from './normalise.ts';
import type { Incoming } from './paper.ts';
import type { PaperRecord } from './record.ts';

function ok(r: unknown): Incoming {
  const n = normalise('test:1', r as PaperRecord);
  if (!n.ok) assert.fail(`expected ok, got: ${n.reason}`);
  return n.value;
}

function reason(r: unknown): string {
  const n = normalise('test:1', r as PaperRecord);
  if (n.ok) assert.fail(`expected a failure, got ${JSON.stringify(n.value.paper).slice(0, 200)}`);
  assert.equal(typeof n.reason, 'string');
  assert.ok(n.reason.length > 0);
  return n.reason;
}

test('a minimal record', () => {
  const v = ok({ title: 'A Title' });
  assert.equal(v.where, 'test:1');
  assert.deepEqual(v.paper, {
    key: v.paper.key,
    arxivId: null,
    doi: null,
    titleKey: 'a title',
    title: 'A Title',
    abstract: '',
    authors: [],
    categories: [],
    submittedAt: null,
    updatedAt: null,
    version: 0,
    versions: [],
    journalRef: null,
    comments: null,
    links: [],
  });
  assert.match(v.paper.key, /^t:/);
  assert.deepEqual(v.signals, []);
});

test('markup in a title is kept as text: escaping is the renderer’s job', () => {
  const p = ok({ title: '<script>alert("x")</script> & <b>Bold</b>', abstract: '<img src=x onerror=alert(1)>' }).paper;
  assert.equal(p.title, '<script>alert("x")</script> & <b>Bold</b>');
  assert.equal(p.abstract, '<img src=x onerror=alert(1)>');
});

test('CRLF and other line breaks in a title collapse to one line', () => {
  assert.equal(ok({ title: 'Line one\r\nLine two\r\n' }).paper.title, 'Line one Line two');
  assert.equal(ok({ title: '  Calculation of\n  LHC energies ' }).paper.title, 'Calculation of LHC energies');
  assert.equal(ok({ title: 'A\rB\u2028C\u2029D\tE\u00a0F' }).paper.title, 'A B C D E F');
  // \v and \f are control characters: removed, not turned into spaces
  assert.equal(ok({ title: 'E\vF\fG' }).paper.title, 'EFG');
});

test('control characters are removed', () => {
  assert.equal(ok({ title: 'A\u0000B\u0007C\u001bD\u007fE\u0085F\u009fG\uFEFFH' }).paper.title, 'ABCDEFGH');
  const p = ok({ title: 'T', abstract: 'x\u0000y\u001bz', authors: ['Ann\u0000 Lee'], comments: 'c\u0007d', journalRef: 'J\u0001R' }).paper;
  assert.equal(p.abstract, 'xyz');
  assert.deepEqual(p.authors, ['Ann Lee']);
  assert.equal(p.comments, 'cd');
  assert.equal(p.journalRef, 'JR');
});

test('lone surrogates become U+FFFD', () => {
  const p = ok({ title: 'Lone \ud800 high and \udc00 low', abstract: 'end \ud83d', authors: ['\udfff'] }).paper;
  assert.equal(p.title, 'Lone \uFFFD high and \uFFFD low');
  assert.equal(p.abstract, 'end \uFFFD');
  assert.ok(p.title.isWellFormed() && p.abstract.isWellFormed());
  assert.deepEqual(p.authors, ['\uFFFD']);
  // well-formed pairs are kept
  assert.equal(ok({ title: 'emoji 😀' }).paper.title, 'emoji 😀');
});

test('a 10 MB abstract is refused with the size and the limit', () => {
  const r = reason({ title: 'T', abstract: 'x'.repeat(10_000_000) });
  assert.match(r, /abstract/);
  assert.match(r, /10,000,000/);
  assert.match(r, new RegExp(LIMITS.abstractChars.toLocaleString('en-US')));
});

test('an abstract just over the limit after cleaning is refused; white space does not count', () => {
  assert.match(reason({ title: 'T', abstract: 'ab'.repeat(LIMITS.abstractChars / 2 + 1) }), /abstract is 100,002 characters; the limit is 100,000/);
  // 150k raw characters that clean down to under the limit pass
  const p = ok({ title: 'T', abstract: 'word  \n'.repeat(20_000) }).paper;
  assert.ok(p.abstract.length <= LIMITS.abstractChars);
});

test('over-long titles are refused with the size and the limit', () => {
  const r = reason({ title: 'x'.repeat(100_000) });
  assert.match(r, /title/);
  assert.match(r, /100,000/);
  assert.match(r, /1,000/);
  assert.match(reason({ title: 'x'.repeat(1_001) }), /title is 1,001 characters; the limit is 1,000/);
  assert.equal(ok({ title: 'x'.repeat(1_000) }).paper.title.length, 1_000);
  // white space that collapses does not count against the limit
  assert.equal(ok({ title: `${'a '.repeat(500)}\n\n\n` }).paper.title.length, 999);
});

test('missing, empty or non-string titles are refused', () => {
  assert.match(reason({}), /missing title/);
  assert.match(reason({ abstract: 'A' }), /missing title/);
  assert.match(reason({ title: '' }), /empty title/);
  assert.match(reason({ title: '  \r\n\t ' }), /empty title/);
  assert.match(reason({ title: '\u0000\u0007' }), /empty title/);
  for (const title of [42, null, ['a'], { a: 1 }, true]) assert.match(reason({ title }), /title/);
  for (const r of [null, undefined, 'a string', 42]) assert.match(reason(r), /not an object/);
});

test('an invalid arXiv id is refused with the id in the reason', () => {
  assert.match(reason({ title: 'T', arxivId: 'nope' }), /not an arXiv id: "nope"/);
  assert.match(reason({ title: 'T', arxivId: '2413.00001' }), /2413\.00001/);
  assert.match(reason({ title: 'T', arxivId: 12345 }), /not an arXiv id/);
  // the reason quotes at most a short prefix
  assert.ok(reason({ title: 'T', arxivId: 'z'.repeat(10_000) }).length < 200);
  // absent or empty ids are fine
  assert.equal(ok({ title: 'T', arxivId: '' }).paper.arxivId, null);
  assert.equal(ok({ title: 'T', arxivId: null }).paper.arxivId, null);
});

test('arXiv ids are normalised, with the version taken from the id', () => {
  const p = ok({ title: 'T', arxivId: 'https://arxiv.org/abs/2401.01234v3' }).paper;
  assert.equal(p.arxivId, '2401.01234');
  assert.equal(p.key, '2401.01234');
  assert.equal(p.version, 3);
  assert.equal(ok({ title: 'T', arxivId: '2401.01234', version: 2 }).paper.version, 2);
  assert.equal(ok({ title: 'T', arxivId: 'arXiv:2401.01234v4', version: 2 }).paper.version, 4);
  for (const version of [-1, 0, 1.5, NaN, '2', null]) assert.equal(ok({ title: 'T', version }).paper.version, 0);
});

test('wrong types in optional fields are ignored', () => {
  const v = ok({
    title: 'T',
    abstract: 42,
    authors: ['Ann Lee', 3, null, { name: 'X' }, '', '  ', ' Bob\nSmith '],
    categories: 'cs.AI',
    versions: 'garbage',
    signals: [
      { name: 'hf_upvotes', value: NaN, observedAt: '2024-01-01' },
      { name: 'hf_upvotes', value: '3', observedAt: '2024-01-01' },
      { name: 'hf_upvotes', value: Infinity, observedAt: '2024-01-01' },
      { name: 'Bad-Name', value: 1, observedAt: '2024-01-01' },
      { name: 'hf_upvotes', value: 1, observedAt: 'not a date' },
      { name: 'hf_upvotes', value: 1 },
      5,
      null,
      'str',
      { name: 'github_stars', value: 12, observedAt: '2024-01-01T00:00:00Z' },
    ],
    doi: 10.1,
    journalRef: 5,
    comments: ['x'],
    links: 'https://example.org',
    submittedAt: {},
    updatedAt: [],
  });
  const p = v.paper;
  assert.equal(p.abstract, '');
  assert.deepEqual(p.authors, ['Ann Lee', 'Bob Smith']);
  assert.deepEqual(p.categories, []);
  assert.deepEqual(p.versions, []);
  assert.equal(p.doi, null);
  assert.equal(p.journalRef, null);
  assert.equal(p.comments, null);
  assert.deepEqual(p.links, []);
  assert.equal(p.submittedAt, null);
  assert.equal(p.updatedAt, null);
  assert.deepEqual(v.signals, [{ name: 'github_stars', value: 12, observedAt: '2024-01-01T00:00:00.000Z' }]);

  for (const bad of [{}, 42, null, 'x', [1, 2]]) {
    const q = ok({ title: 'T', authors: bad, categories: bad, versions: bad, signals: bad, links: bad }).paper;
    assert.deepEqual([q.authors, q.categories, q.versions, q.links], [[], [], [], []]);
  }
});

test('categories: valid names kept in order, duplicates and junk dropped', () => {
  const p = ok({ title: 'T', categories: ['cs.LG', 3, 'cs.LG', ' stat.ML ', 'bad cat', 'cs.AI; DROP', 'hep-th', '', 'x'.repeat(50)] }).paper;
  assert.deepEqual(p.categories, ['cs.LG', 'stat.ML', 'hep-th']);
});

test('versions: garbage entries dropped, sorted, dates fill submittedAt/updatedAt/version', () => {
  const p = ok({
    title: 'T',
    versions: [
      { version: 'v1', date: '2024-01-01' },
      { version: 2, date: '2024-02-01' },
      { version: 1, date: '2024-01-01' },
      { version: 1.5, date: '2024-01-15' },
      { version: 3, date: 'nope' },
      { version: 0, date: '2024-01-01' },
      null,
      7,
    ],
  }).paper;
  assert.deepEqual(p.versions, [
    { version: 1, date: '2024-01-01T00:00:00.000Z' },
    { version: 2, date: '2024-02-01T00:00:00.000Z' },
  ]);
  assert.equal(p.version, 2);
  assert.equal(p.submittedAt, '2024-01-01T00:00:00.000Z');
  assert.equal(p.updatedAt, '2024-02-01T00:00:00.000Z');
});

test('dates: ISO strings normalised, out-of-range years dropped', () => {
  const p = ok({ title: 'T', submittedAt: '2024-01-05T10:00:00+02:00', updatedAt: '2024-03-01' }).paper;
  assert.equal(p.submittedAt, '2024-01-05T08:00:00.000Z');
  assert.equal(p.updatedAt, '2024-03-01T00:00:00.000Z');
  assert.equal(ok({ title: 'T', submittedAt: '1850-01-01' }).paper.submittedAt, null);
  assert.equal(ok({ title: 'T', submittedAt: '2999-01-01' }).paper.submittedAt, null);
  // updatedAt falls back to submittedAt
  assert.equal(ok({ title: 'T', submittedAt: '2024-01-05' }).paper.updatedAt, '2024-01-05T00:00:00.000Z');
});

test('dates: free text that is not a date is not turned into one', () => {
  assert.equal(ok({ title: 'T', submittedAt: 'Version 2' }).paper.submittedAt, null);
  assert.equal(ok({ title: 'T', submittedAt: '12' }).paper.submittedAt, null);
});

test('links: code and project pages are extracted from the abstract', () => {
  const p = ok({
    title: 'T',
    abstract:
      'Code: https://github.com/owner/repo. Mirror https://github.com/Owner/Repo.git, page https://owner.github.io/proj/), ' +
      'see (https://gitlab.com/group/tool) and [https://github.com/horizon-research/Fov-3DGS]; ' +
      'weights at https://huggingface.co/org/model; also https://arxiv.org/abs/2401.00001 and https://github.com/owner/repo/tree/main!',
  }).paper;
  assert.deepEqual(p.links, [
    { kind: 'code', url: 'https://github.com/owner/repo' },
    { kind: 'project', url: 'https://owner.github.io/proj/' },
    { kind: 'code', url: 'https://gitlab.com/group/tool' },
    { kind: 'code', url: 'https://github.com/horizon-research/Fov-3DGS' },
    { kind: 'code', url: 'https://huggingface.co/org/model' },
  ]);
});

test('cleanUrl: trailing punctuation, .git, owner/repo, refusals', () => {
  const cases: [string, string | null][] = [
    ['https://github.com/owner/repo.', 'https://github.com/owner/repo'],
    ['https://github.com/owner/repo.git', 'https://github.com/owner/repo'],
    ['https://github.com/owner/repo.git).', 'https://github.com/owner/repo'],
    ['https://www.github.com/owner/repo/blob/main/README.md', 'https://github.com/owner/repo'],
    ['https://GitHub.com/Owner/Repo?tab=readme', 'https://github.com/Owner/Repo'],
    ['https://codeberg.org/a/b/', 'https://codeberg.org/a/b'],
    ['https://example.org/page,', 'https://example.org/page'],
    ['https://github.com/owner', null],
    ['ftp://example.org/x', null],
    ['javascript:alert(1)', null],
    ['https://localhost/x', null],
    ['https://user:pw@example.org/', null],
    ['not a url', null],
    [`https://example.org/${'a'.repeat(LIMITS.urlChars)}`, null],
  ];
  for (const [input, want] of cases) assert.equal(cleanUrl(input), want, input.slice(0, 60));
  assert.equal(cleanUrl(42), null);
  assert.equal(cleanUrl(undefined), null);
});

test('linksInText: github.io is a project page, arXiv links skipped', () => {
  assert.deepEqual(linksInText('at https://nvlabs.github.io/thing. and http://arxiv.org/abs/2401.01234'), [
    { kind: 'project', url: 'https://nvlabs.github.io/thing' },
  ]);
  assert.deepEqual(linksInText('no links here'), []);
});

test('links: abs/pdf for arXiv ids, a doi link, record links cleaned, all deduplicated', () => {
  const p = ok({
    title: 'T',
    arxivId: 'arXiv:2401.01234v2',
    doi: 'https://doi.org/10.1234/ABC',
    links: [
      { kind: 'code', url: 'https://github.com/a/b.git' },
      { kind: 'code', url: 'https://GITHUB.com/a/b' },
      { kind: 'project', url: 'javascript:alert(1)' },
      { url: 'https://no-kind.example' },
      'str',
      null,
      { kind: 'abs', url: 'https://arxiv.org/abs/2401.01234' },
    ],
    abstract: 'Code at https://github.com/a/b and https://github.com/A/B.',
  }).paper;
  assert.equal(p.doi, '10.1234/abc');
  assert.deepEqual(p.links, [
    { kind: 'code', url: 'https://github.com/a/b' },
    { kind: 'abs', url: 'https://arxiv.org/abs/2401.01234' },
    { kind: 'pdf', url: 'https://arxiv.org/pdf/2401.01234' },
    { kind: 'doi', url: 'https://doi.org/10.1234/abc' },
  ]);
  const old = ok({ title: 'T', arxivId: 'math.GT/0309136' }).paper;
  assert.deepEqual(old.links, [
    { kind: 'abs', url: 'https://arxiv.org/abs/math/0309136' },
    { kind: 'pdf', url: 'https://arxiv.org/pdf/math/0309136' },
  ]);
});

test('links: capped', () => {
  const abstract = Array.from({ length: 300 }, (_, i) => `https://example.org/p${i}`).join(' ');
  assert.equal(ok({ title: 'T', abstract }).paper.links.length, LIMITS.links);
});

test('authors: order kept, names cleaned and capped', () => {
  const p = ok({ title: 'T', authors: ['Zoë Z', 'Adam A', 'Mike M', 'x'.repeat(1_000)] }).paper;
  assert.deepEqual(p.authors.slice(0, 3), ['Zoë Z', 'Adam A', 'Mike M']);
  assert.equal(p.authors[3]?.length, LIMITS.authorChars);
  assert.match(reason({ title: 'T', authors: Array.from({ length: LIMITS.authors + 1 }, () => 'A') }), /10,001 authors; the limit is 10,000/);
});

test('abstract: paragraphs kept, hard wraps joined', () => {
  assert.equal(ok({ title: 'T', abstract: '  p1 line\r\nwrap\r\n\r\np2\n \n\n\np3  ' }).paper.abstract, 'p1 line wrap\n\np2\n\np3');
  assert.equal(paragraphs('a\rb'), 'a b');
  assert.equal(oneLine(' a \n b '), 'a b');
});

test('doi as key when there is no arXiv id', () => {
  const p = ok({ title: 'T', doi: 'doi:10.1145/XYZ' }).paper;
  assert.equal(p.key, 'doi:10.1145/xyz');
  assert.equal(ok({ title: 'T', doi: 'not a doi' }).paper.doi, null);
});

// --- properties --------------------------------------------------------------

function checkOk(n: Normalised): void {
  if (!n.ok) {
    assert.equal(typeof n.reason, 'string');
    assert.ok(n.reason.length > 0);
    return;
  }
  const p = n.value.paper;
  assert.ok(p.title.length > 0 && p.title.length <= LIMITS.titleChars);
  assert.doesNotMatch(p.title, /[\r\n]/);
  assert.equal(p.title, p.title.trim());
  assert.ok(p.title.isWellFormed());
  assert.ok(p.abstract.length <= LIMITS.abstractChars);
  assert.ok(p.key.length > 0);
  for (const a of p.authors) assert.ok(a.length > 0 && a.length <= LIMITS.authorChars && !/[\r\n]/.test(a));
  for (const l of p.links) assert.match(l.url, /^https?:\/\//);
  assert.ok(p.links.length <= LIMITS.links);
  assert.ok(Number.isInteger(p.version) && p.version >= 0);
  for (const s of n.value.signals) assert.ok(Number.isFinite(s.value));
}

test('property: normalise never throws on anything', () => {
  fc.assert(
    fc.property(fc.anything(), (v) => {
      checkOk(normalise('p', v as PaperRecord));
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.dictionary(fc.constantFrom('title', 'abstract', 'authors', 'categories', 'versions', 'signals', 'links', 'arxivId', 'doi', 'version', 'submittedAt', 'updatedAt', 'journalRef', 'comments'), fc.anything()), (v) => {
      checkOk(normalise('p', v as unknown as PaperRecord));
    }),
    { numRuns: 500 },
  );
});

const str = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme', maxLength: 40 }));
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

const stringRecord = fc.record(
  {
    title: fc.oneof(str, fc.constantFrom('  ', '\r\n', 'A\r\nB', 'x'.repeat(1_001), ' y'.repeat(600))),
    abstract: opt(fc.oneof(str, fc.constant('see https://github.com/a/b. and https://x.github.io/'))),
    arxivId: opt(fc.oneof(str, fc.constantFrom('2401.01234v2', 'hep-th/9901001', 'https://arxiv.org/abs/2401.01234'))),
    doi: opt(fc.oneof(str, fc.constant('10.1234/ABC'))),
    authors: opt(fc.array(str, { maxLength: 5 })),
    categories: opt(fc.array(str, { maxLength: 5 })),
    submittedAt: opt(fc.oneof(str, fc.date({ noInvalidDate: false }).map((d) => (Number.isFinite(d.getTime()) ? d.toISOString() : 'Invalid')))),
    updatedAt: opt(str),
    journalRef: opt(str),
    comments: opt(str),
    versions: opt(fc.array(fc.record({ version: fc.integer({ min: -2, max: 20 }), date: str }), { maxLength: 4 })),
    links: opt(fc.array(fc.record({ kind: fc.constantFrom('code', 'project', 'other'), url: fc.oneof(str, fc.webUrl()) }), { maxLength: 4 })),
  },
  { requiredKeys: ['title'] },
);

test('property: records built from arbitrary strings; when ok the title is one clean line within the limit', () => {
  fc.assert(
    fc.property(stringRecord, (r) => {
      checkOk(normalise('p', r as PaperRecord));
    }),
    { numRuns: 500 },
  );
});

test('property: a title that normalises is stable under normalising again', () => {
  fc.assert(
    fc.property(str, (title) => {
      const a = normalise('p', { title });
      if (!a.ok) return;
      const b = normalise('p', { title: a.value.paper.title });
      assert.ok(b.ok);
      if (b.ok) {
        assert.equal(b.value.paper.title, a.value.paper.title);
        assert.equal(b.value.paper.key, a.value.paper.key);
      }
    }),
    { numRuns: 300 },
  );
});
