import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { normaliseDoi, paperKey, parseArxivId, titleKey, type ArxivId } from './ids.ts';

const NEW_ID = /^\d{4}\.\d{4,5}$/;
const OLD_ID = /^[a-z-]+\/\d{7}$/;

function isCanonical(a: ArxivId): boolean {
  if (!NEW_ID.test(a.id) && !OLD_ID.test(a.id)) return false;
  if (a.version === undefined) return !('version' in a);
  return Number.isInteger(a.version) && a.version >= 1;
}

test('parseArxivId: new-style ids in every pasted form', () => {
  const cases: [string, ArxivId][] = [
    ['2401.01234', { id: '2401.01234' }],
    ['2401.01234v3', { id: '2401.01234', version: 3 }],
    ['arXiv:2401.01234', { id: '2401.01234' }],
    ['arxiv:2401.01234v2', { id: '2401.01234', version: 2 }],
    ['ARXIV:2401.01234', { id: '2401.01234' }],
    ['arXiv: 2401.01234', { id: '2401.01234' }],
    [' 2401.01234 ', { id: '2401.01234' }],
    ['\t2401.01234\n', { id: '2401.01234' }],
    ['oai:arXiv.org:2401.01234', { id: '2401.01234' }],
    ['https://arxiv.org/abs/2401.01234v2', { id: '2401.01234', version: 2 }],
    ['http://arxiv.org/pdf/2401.01234v1.pdf', { id: '2401.01234', version: 1 }],
    ['https://arxiv.org/pdf/2401.01234', { id: '2401.01234' }],
    ['https://arxiv.org/pdf/2401.01234v2.pdf?download=1', { id: '2401.01234', version: 2 }],
    ['https://arxiv.org/html/2401.01234v1', { id: '2401.01234', version: 1 }],
    ['https://arxiv.org/abs/2401.01234/', { id: '2401.01234' }],
    ['https://export.arxiv.org/abs/2401.01234', { id: '2401.01234' }],
    ['export.arxiv.org/abs/2401.01234v4', { id: '2401.01234', version: 4 }],
    ['arxiv.org/abs/2401.01234', { id: '2401.01234' }],
    ['HTTPS://ARXIV.ORG/ABS/2401.01234', { id: '2401.01234' }],
    ['https://arxiv.org/abs/2401.01234v2?context=cs', { id: '2401.01234', version: 2 }],
    ['https://arxiv.org/abs/2401.01234#S3', { id: '2401.01234' }],
    ['https://arxiv.org/abs/2401.01234v2?context=cs#x', { id: '2401.01234', version: 2 }],
    ['  https://arxiv.org/abs/2401.01234  ', { id: '2401.01234' }],
  ];
  for (const [input, want] of cases) assert.deepEqual(parseArxivId(input), want, input);
});

test('parseArxivId: 4-digit numbers up to 1412, 5-digit from 1501', () => {
  assert.deepEqual(parseArxivId('0704.0001'), { id: '0704.0001' });
  assert.deepEqual(parseArxivId('1412.9999'), { id: '1412.9999' });
  assert.deepEqual(parseArxivId('1501.00001'), { id: '1501.00001' });
  assert.deepEqual(parseArxivId('0912.1234v12'), { id: '0912.1234', version: 12 });
});

test('parseArxivId: old-style archive/YYMMNNN ids', () => {
  const cases: [string, ArxivId][] = [
    ['hep-th/9901001', { id: 'hep-th/9901001' }],
    ['hep-th/9901001v2', { id: 'hep-th/9901001', version: 2 }],
    ['HEP-TH/9901001', { id: 'hep-th/9901001' }],
    ['math.GT/0309136', { id: 'math/0309136' }],
    ['math.gt/0309136v1', { id: 'math/0309136', version: 1 }],
    ['astro-ph/0601001', { id: 'astro-ph/0601001' }],
    ['cond-mat/9112001', { id: 'cond-mat/9112001' }],
    ['arXiv:hep-th/9901001v3', { id: 'hep-th/9901001', version: 3 }],
    ['oai:arXiv.org:hep-th/9901001', { id: 'hep-th/9901001' }],
    ['https://www.arxiv.org/abs/hep-th/9901001', { id: 'hep-th/9901001' }],
    ['https://arxiv.org/pdf/hep-th/9901001v2.pdf', { id: 'hep-th/9901001', version: 2 }],
    ['https://arxiv.org/abs/math.GT/0309136', { id: 'math/0309136' }],
    ['https://arxiv.org/abs/math.GT%2F0309136', { id: 'math/0309136' }],
    ['export.arxiv.org/abs/astro-ph/0601001?fmt=txt', { id: 'astro-ph/0601001' }],
  ];
  for (const [input, want] of cases) assert.deepEqual(parseArxivId(input), want, input);
});

test('parseArxivId: rejects what is not an arXiv id', () => {
  const bad = [
    'abc',
    '',
    '   ',
    '0000.0000',
    '2413.00001', // month 13
    '2400.00001', // month 0
    '0701.0001', // new scheme starts at 0704
    '0612.0001',
    '1501.0001', // 4 digits after 2014
    '1412.00001', // 5 digits before 2015
    '0704.00001',
    '2401.1234',
    '2401.012345',
    '2401.01234 v2',
    '2401.01234v',
    '2401.01234v00001',
    'foo/9901001',
    'hep-th/991301', // too short
    'hep-th/9913001', // month 13
    'hep-th/99010011',
    'arXiv:',
    'arXiv:abc',
    'oai:arXiv.org:',
    'https://arxiv.org/abs/',
    'https://arxiv.org/abs/abc',
    'https://evil.example/arxiv.org/abs/2401.01234',
    'https://notarxiv.org/abs/2401.01234',
    'https://arxiv.org/list/cs.AI/recent',
    '10.1103/PhysRevD.76.013009',
    'x'.repeat(10_000),
    '2401.01234'.repeat(1_000),
    '2401.01234' + ' '.repeat(1_000),
    'https://arxiv.org/abs/' + '2'.repeat(100_000),
  ];
  for (const input of bad) assert.equal(parseArxivId(input), null, input.slice(0, 80));
});

test('parseArxivId: tolerates non-string input from untyped callers', () => {
  for (const v of [undefined, null, 42, {}, []]) assert.equal(parseArxivId(v as unknown as string), null);
});

test('parseArxivId: very long hostile input is rejected quickly', () => {
  const started = performance.now();
  for (let i = 0; i < 200; i++) parseArxivId('https://arxiv.org/abs/' + 'v.pdf/'.repeat(50) + '?'.repeat(20));
  parseArxivId('a'.repeat(5_000_000));
  assert.ok(performance.now() - started < 1_000);
});

test('normaliseDoi: resolver prefixes and case', () => {
  const cases: [string | undefined, string | undefined][] = [
    ['10.1103/PhysRevD.76.013009', '10.1103/physrevd.76.013009'],
    ['doi:10.1103/PhysRevD.76.013009', '10.1103/physrevd.76.013009'],
    ['DOI: 10.1234/ABC', '10.1234/abc'],
    ['https://doi.org/10.1145/3580305.3599256', '10.1145/3580305.3599256'],
    ['http://doi.org/10.1145/3580305.3599256', '10.1145/3580305.3599256'],
    ['https://dx.doi.org/10.1000/XYZ', '10.1000/xyz'],
    ['http://dx.doi.org/10.1000/xyz', '10.1000/xyz'],
    ['dx.doi.org/10.1000/xyz', '10.1000/xyz'],
    ['doi.org/10.1000/xyz', '10.1000/xyz'],
    ['HTTPS://DOI.ORG/10.1000/AbC', '10.1000/abc'],
    ['  10.1000/abc  ', '10.1000/abc'],
    ['https://doi.org/doi:10.1000/abc', '10.1000/abc'],
    ['10.1000/a(b)c-d_e;f', '10.1000/a(b)c-d_e;f'],
    // not DOIs
    [undefined, undefined],
    ['', undefined],
    ['   ', undefined],
    ['nope', undefined],
    ['doi:', undefined],
    ['10.1/x', undefined], // registrant code too short
    ['10.1000/', undefined],
    ['10.1000/a b', undefined],
    ['https://example.org/10.1000/abc', undefined],
    ['2401.01234', undefined],
  ];
  for (const [input, want] of cases) assert.equal(normaliseDoi(input), want, String(input));
});

test('normaliseDoi: idempotent, never throws', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('10.1000/ABC', 'doi:10.1234/x', 'https://doi.org/10.5555/Q')), (s) => {
      const d = normaliseDoi(s);
      if (d !== undefined) {
        assert.equal(d, d.toLowerCase());
        assert.equal(normaliseDoi(d), d);
        assert.equal(normaliseDoi(`https://doi.org/${d}`), d);
        assert.equal(normaliseDoi(`doi:${d}`), d);
      }
    }),
  );
});

test('titleKey: accents, punctuation, case and spacing ignored', () => {
  assert.equal(titleKey('Déjà Vu: A—Study!'), 'deja vu a study');
  assert.equal(titleKey('  deja   vu, a study. '), 'deja vu a study');
  assert.equal(titleKey('Ünïcödé'), 'unicode');
  assert.equal(titleKey('Attention Is All You Need'), titleKey('attention is all you need!'));
  assert.equal(titleKey('GPT-4 Technical\nReport'), 'gpt 4 technical report');
  assert.equal(titleKey('ﬁne-tuning'), 'fine tuning'); // NFKD ligature
  assert.equal(titleKey('Ω-Learning'), 'ω learning');
  assert.equal(titleKey('深度学习 (综述)'), '深度学习 综述');
  assert.equal(titleKey(''), '');
  assert.equal(titleKey('?!...'), '');
  assert.notEqual(titleKey('Deep Learning 2'), titleKey('Deep Learning 3'));
});

test('titleKey: idempotent and insensitive to case', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), (s) => {
      const k = titleKey(s);
      assert.equal(titleKey(k), k);
      assert.equal(k, k.trim());
      assert.doesNotMatch(k, / {2}/);
    }),
  );
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme-ascii' }), (s) => {
      assert.equal(titleKey(s.toUpperCase()), titleKey(s.toLowerCase()));
    }),
  );
});

test('paperKey: arXiv id over DOI over title hash', () => {
  assert.equal(paperKey({ arxivId: '2401.01234', doi: '10.1000/x', title: 'T' }), '2401.01234');
  assert.equal(paperKey({ arxivId: 'hep-th/9901001', title: 'T' }), 'hep-th/9901001');
  assert.equal(paperKey({ doi: '10.1000/x', title: 'T' }), 'doi:10.1000/x');
  assert.equal(paperKey({ arxivId: undefined, doi: '10.1000/x', title: 'T' }), 'doi:10.1000/x');
  assert.equal(paperKey({ arxivId: '', doi: '10.1000/x', title: 'T' }), 'doi:10.1000/x');
  const t = paperKey({ title: 'Hello, World!' });
  assert.match(t, /^t:[A-Za-z0-9_-]{16}$/);
  assert.equal(paperKey({ arxivId: '', doi: '', title: 'Hello, World!' }), t);
});

test('paperKey: title hash is stable modulo case, accents and punctuation', () => {
  const k = paperKey({ title: 'Déjà Vu: A Study of Things' });
  assert.equal(paperKey({ title: 'deja vu — a study of things.' }), k);
  assert.equal(paperKey({ title: 'DEJA VU A STUDY OF THINGS' }), k);
  assert.equal(paperKey({ title: '  Deja\nVu: a  study of things ' }), k);
  assert.notEqual(paperKey({ title: 'Deja Vu: A Study of Other Things' }), k);
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme-ascii', minLength: 1 }), (s) => {
      assert.equal(paperKey({ title: s }), paperKey({ title: `  ${s.toUpperCase()}!! ` }));
      assert.equal(paperKey({ title: s }), paperKey({ title: s }));
    }),
  );
});

// --- property tests --------------------------------------------------------

const arxivish = fc
  .array(
    fc.constantFrom(
      'arXiv:', 'oai:arXiv.org:', 'https://', 'http://', 'www.', 'export.', 'arxiv.org/', 'abs/', 'pdf/', 'html/',
      '.pdf', 'v', '2', '2401', '0704', '1412', '.', '01234', '0001', '/', 'hep-th', 'math.GT', '%', '%2F', '%E0%A4',
      '?', '#', ' ', '\n', '\u0000', '\ud800', 'é', '9901001',
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(''));

test('parseArxivId: never throws; result is null or canonical', () => {
  const check = (s: string) => {
    const r = parseArxivId(s);
    if (r !== null) {
      assert.ok(isCanonical(r), `${JSON.stringify(s)} → ${JSON.stringify(r)}`);
      // the canonical id is a fixed point
      assert.deepEqual(parseArxivId(r.id), { id: r.id });
    }
  };
  fc.assert(fc.property(fc.string(), check), { numRuns: 300 });
  fc.assert(fc.property(fc.string({ unit: 'binary' }), check), { numRuns: 300 });
  fc.assert(fc.property(arxivish, check), { numRuns: 1_000 });
});

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** Valid new-style ids: YYMM from 0704, 4-digit numbers to 1412, 5-digit from 1501. */
const newStyleId = fc
  .record({ yy: fc.integer({ min: 7, max: 40 }), mm: fc.integer({ min: 1, max: 12 }), n: fc.integer({ min: 1, max: 99_999 }) })
  .filter(({ yy, mm }) => yy > 7 || mm >= 4)
  .map(({ yy, mm, n }) => {
    const digits = yy > 14 ? 5 : 4;
    return `${pad(yy, 2)}${pad(mm, 2)}.${pad(n % 10 ** digits || 1, digits)}`;
  });

const OLD_ARCHIVES = ['hep-th', 'hep-ph', 'astro-ph', 'cond-mat', 'math', 'quant-ph', 'gr-qc', 'cs', 'physics', 'nlin', 'q-bio', 'math-ph'];

/** Valid old-style ids: archive/YYMMNNN, 1991 to 2007. */
const oldStyleId = fc
  .record({
    archive: fc.constantFrom(...OLD_ARCHIVES),
    yy: fc.constantFrom(91, 92, 95, 98, 99, 0, 1, 3, 5, 6, 7),
    mm: fc.integer({ min: 1, max: 12 }),
    n: fc.integer({ min: 1, max: 999 }),
  })
  .filter(({ yy, mm }) => yy !== 7 || mm <= 3)
  .map(({ archive, yy, mm, n }) => `${archive}/${pad(yy, 2)}${pad(mm, 2)}${pad(n, 3)}`);

const version = fc.option(fc.integer({ min: 1, max: 99 }), { nil: undefined });

function pastedForms(id: string, v: number | undefined): string[] {
  const withV = v === undefined ? id : `${id}v${v}`;
  return [
    withV,
    ` ${withV}\t`,
    `arXiv:${withV}`,
    `arxiv:${withV}`,
    `https://arxiv.org/abs/${withV}`,
    `http://arxiv.org/abs/${withV}`,
    `https://www.arxiv.org/abs/${withV}`,
    `https://export.arxiv.org/abs/${withV}`,
    `arxiv.org/abs/${withV}`,
    `https://arxiv.org/pdf/${withV}`,
    `https://arxiv.org/pdf/${withV}.pdf`,
    `http://arxiv.org/pdf/${withV}.pdf`,
    `https://arxiv.org/html/${withV}`,
    `https://arxiv.org/abs/${withV}?context=cs`,
    `https://arxiv.org/abs/${withV}#references`,
    `https://arxiv.org/abs/${withV}/`,
    ...(v === undefined ? [`oai:arXiv.org:${id}`] : []),
  ];
}

test('parseArxivId: round trip — every pasted form of a valid id gives the same id and version', () => {
  fc.assert(
    fc.property(fc.oneof(newStyleId, oldStyleId), version, (id, v) => {
      const want: ArxivId = v === undefined ? { id } : { id, version: v };
      for (const form of pastedForms(id, v)) assert.deepEqual(parseArxivId(form), want, form);
      // canonical form is a fixed point
      assert.deepEqual(parseArxivId(id), { id });
      const again = parseArxivId(want.version === undefined ? want.id : `${want.id}v${want.version}`);
      assert.deepEqual(again, want);
    }),
    { numRuns: 300 },
  );
});

test('parseArxivId: old-style ids with a subject class map to the bare archive', () => {
  fc.assert(
    fc.property(oldStyleId, fc.constantFrom('math', 'cs'), fc.constantFrom('GT', 'AG', 'AI', 'LG'), version, (old, archive, cls, v) => {
      const rest = old.split('/')[1] ?? '';
      const id = `${archive}/${rest}`;
      const withV = v === undefined ? `${archive}.${cls}/${rest}` : `${archive}.${cls}/${rest}v${v}`;
      const want: ArxivId = v === undefined ? { id } : { id, version: v };
      assert.deepEqual(parseArxivId(withV), want);
      assert.deepEqual(parseArxivId(`https://arxiv.org/abs/${withV}`), want);
    }),
    { numRuns: 100 },
  );
});
