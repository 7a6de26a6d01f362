import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parseArxivAtom, type AtomPage } from './arxiv-atom.ts';
import type { PaperRecord, ParseItem } from './record.ts';

const RECORDED = new URL('../../../shared/data/arxiv-api/recorded/', import.meta.url);
const LEGACY = new URL('../../test/fixtures/arxiv-atom-legacy.xml', import.meta.url);
const xmlFiles = readdirSync(RECORDED).filter((f) => f.endsWith('.xml')).sort();
const body = (name: string): string => readFileSync(new URL(name, RECORDED), 'utf8');
const fileLike = (prefix: string): string => {
  const f = xmlFiles.find((x) => x.startsWith(prefix));
  assert.ok(f, `no recorded file ${prefix}*`);
  return f;
};

const PAGE10 = fileLike('q_testing_s0_m10_');
const ERROR_FEED = fileLike('id_abc_');

function records(page: AtomPage): PaperRecord[] {
  return page.items.map((i) => {
    assert.ok(i.ok, `expected a record at ${i.where}: ${i.ok ? '' : i.reason}`);
    return i.record;
  });
}
function byId(page: AtomPage, id: string): PaperRecord {
  const r = records(page).find((x) => x.arxivId === id);
  assert.ok(r, `no record ${id}`);
  return r;
}
const squash = (s: string | undefined): string | undefined => s?.replace(/\s+/g, ' ').trim();
const feed = (entries: string, head = ''): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">${head}${entries}</feed>`;
const entry = (inner: string): string => `<entry>${inner}</entry>`;
const ID = (id: string): string => `<id>http://arxiv.org/abs/${id}</id>`;
const reasons = (page: AtomPage): string[] => page.items.map((i) => (i.ok ? 'ok' : i.reason));

test('every recorded response parses: one item per <entry>, opensearch counts read', () => {
  assert.ok(xmlFiles.length >= 20);
  for (const f of xmlFiles) {
    const xml = body(f);
    const page = parseArxivAtom(xml, f);
    const entries = xml.match(/<entry>/g)?.length ?? 0;
    const num = (tag: string): number => Number(new RegExp(`<opensearch:${tag}>(\\d+)<`).exec(xml)?.[1]);
    assert.equal(page.totalResults, num('totalResults'), f);
    assert.equal(page.startIndex, num('startIndex'), f);
    assert.equal(page.itemsPerPage, num('itemsPerPage'), f);
    if (f === ERROR_FEED) continue;
    assert.equal(page.error, undefined, f);
    assert.equal(page.items.length, entries, f);
    page.items.forEach((it, i) => {
      assert.equal(it.where, `${f}#${i + 1}`);
      assert.ok(it.ok, `${f}#${i + 1}`);
      assert.ok(it.record.arxivId && it.record.title && it.record.version, `${f}#${i + 1}`);
      assert.equal(it.record.categories?.[0], /<arxiv:primary_category term="([^"]+)"/.exec(xml.split('<entry>')[i + 1] ?? '')?.[1]);
    });
  }
});

test('the .json recordings hold the same bodies and parse the same', () => {
  for (const f of xmlFiles) {
    const rec = JSON.parse(readFileSync(new URL(f.replace(/\.xml$/, '.json'), RECORDED), 'utf8')) as { url: string; status_code: number; body: string };
    assert.deepEqual(parseArxivAtom(rec.body, f), parseArxivAtom(body(f), f));
    assert.equal(rec.status_code, f === ERROR_FEED ? 400 : 200);
  }
});

test('paging: startIndex/itemsPerPage follow the request, pages line up with the 100-entry page', () => {
  const all = records(parseArxivAtom(body(fileLike('q_testing_s0_m100_')), 'all')).map((r) => r.arxivId);
  assert.equal(all.length, 100);
  const paged = xmlFiles.filter((f) => /^q_testing_s\d+_m(10|15)_/.test(f));
  assert.equal(paged.length, 10);
  for (const f of paged) {
    const [, s, m] = /_s(\d+)_m(\d+)_/.exec(f) ?? [];
    const page = parseArxivAtom(body(f), f);
    assert.equal(page.startIndex, Number(s));
    assert.equal(page.itemsPerPage, Number(m));
    assert.equal(page.totalResults, 214881);
    assert.deepEqual(records(page).map((r) => r.arxivId), all.slice(Number(s), Number(s) + Number(m)), f);
  }
});

test('empty results: no items, no error', () => {
  for (const prefix of ['id_0000.0000_', 'id_0808.05394_s0_']) {
    const page = parseArxivAtom(body(fileLike(prefix)), prefix);
    assert.deepEqual(page, { items: [], totalResults: 0, startIndex: 0, itemsPerPage: 100 });
  }
});

test('the HTTP 400 error feed becomes `error` and no items', () => {
  const page = parseArxivAtom(body(ERROR_FEED), 'abc');
  assert.equal(page.error, 'incorrect id format for abc');
  assert.deepEqual(page.items, []);
});

test('a known entry, field by field', () => {
  const page = parseArxivAtom(body(PAGE10), 'p');
  assert.deepEqual(page.items[0], {
    ok: true,
    where: 'p#1',
    record: {
      arxivId: '2202.12139',
      version: 1,
      title: 'Testing Deep Learning Models: A First Comparative Study of Multiple Testing Techniques',
      abstract: byId(page, '2202.12139').abstract,
      authors: ['Mohit Kumar Ahuja', 'Arnaud Gotlieb', 'Helge Spieker'],
      categories: ['cs.SE', 'cs.LG'],
      submittedAt: '2022-02-24T15:05:19Z',
      updatedAt: '2022-02-24T15:05:19Z',
      versions: [{ version: 1, date: '2022-02-24T15:05:19Z' }],
      doi: '10.1109/ICSTW55395.2022.00035',
      journalRef:
        'Artificial Intelligence in Software Testing @ 2022 IEEE International Conference on Software Testing, Verification and Validation Workshops (ICSTW)',
      comments: 'Artificial Intelligence in Software Testing 2022 workshop @ ICST 2022',
      links: [
        { kind: 'abs', url: 'https://arxiv.org/abs/2202.12139v1' },
        { kind: 'pdf', url: 'https://arxiv.org/pdf/2202.12139v1' },
        { kind: 'doi', url: 'https://doi.org/10.1109/ICSTW55395.2022.00035' },
      ],
    },
  });
  const abs = byId(page, '2202.12139').abstract ?? '';
  assert.ok(abs.startsWith('Deep Learning (DL) has revolutionized') && abs.endsWith('discuss its results.'));

  const v2 = byId(page, '2005.14124');
  assert.equal(v2.version, 2);
  assert.deepEqual(v2.versions, [
    { version: 1, date: '2020-05-28T16:19:50Z' },
    { version: 2, date: '2020-07-16T08:15:48Z' },
  ]);
  assert.deepEqual(v2.categories, ['cs.SE', 'cs.CR', 'cs.LG']);
});

test('old-style ids, entities, affiliations, primary category first', () => {
  const astro = byId(parseArxivAtom(body(fileLike('id_astro-ph_0601001_')), 'a'), 'astro-ph/0601001');
  assert.equal(astro.version, 1);
  assert.deepEqual(astro.authors, ['Andrew Gould', 'Susan Dorsher', 'B. Scott Gaudi', 'Andrzej Udalski']);
  assert.equal(astro.journalRef, 'ActaAstron.56:1-50,2006');
  assert.equal(astro.doi, undefined);
  assert.ok(astro.abstract?.startsWith('  We derive'), 'leading spaces kept');
  assert.ok(astro.abstract?.includes('following Gould & Morgan (2003)'));
  assert.ok(astro.abstract?.includes('limit of V_max<17.5.'));
  assert.deepEqual(astro.categories, ['astro-ph']);

  const quant = byId(parseArxivAtom(body(fileLike('id_quant-ph_0201082v1_')), 'q'), 'quant-ph/0201082');
  assert.deepEqual(quant.categories, ['quant-ph', 'cs.PL']);
  assert.equal(quant.comments, '32 pages');

  const zero = byId(parseArxivAtom(body(fileLike('id_2104.12255v1_')), 'z'), '2104.12255');
  assert.equal(zero.title, '0', 'a numeric title stays a string');
  assert.ok(zero.abstract?.includes('$35,000'));

  const many = byId(parseArxivAtom(body(fileLike('id_1707.08567_')), 'm'), '1707.08567');
  assert.equal(many.authors?.length, 34);
  assert.equal(many.authors?.[0], 'Kees A. Schouhamer Immink');
  assert.equal(many.authors?.[33], 'Hirosuke Yamamoto');
});

test('legacy feed format (inline namespaces, wrapped text, http links, dx.doi.org)', () => {
  const legacy = parseArxivAtom(readFileSync(LEGACY, 'utf8'), 'legacy');
  assert.equal(legacy.error, undefined);
  assert.equal(legacy.totalResults, 214881);
  assert.equal(legacy.startIndex, 0);
  assert.equal(legacy.itemsPerPage, 3);
  assert.deepEqual(records(legacy).map((r) => r.arxivId), ['2005.14124', '2405.13786', 'astro-ph/0601001']);

  const current = [...records(parseArxivAtom(body(PAGE10), 'c')), ...records(parseArxivAtom(body(fileLike('id_astro-ph_0601001_')), 'a'))];
  for (const old of records(legacy)) {
    const now = current.find((r) => r.arxivId === old.arxivId);
    assert.ok(now);
    for (const k of ['version', 'categories', 'submittedAt', 'updatedAt', 'versions', 'doi'] as const) {
      assert.deepEqual(old[k], now[k], `${old.arxivId} ${k}`);
    }
    for (const k of ['title', 'abstract', 'comments', 'journalRef'] as const) {
      assert.equal(squash(old[k]), squash(now[k]), `${old.arxivId} ${k}`);
    }
  }

  const fuzz = byId(legacy, '2005.14124');
  assert.equal(fuzz.title, 'Active Fuzzing for Testing and Securing Cyber-Physical Systems');
  assert.ok(fuzz.abstract?.startsWith('  Cyber-physical systems (CPSs) in critical infrastructure face a pervasive\nthreat'));
  assert.deepEqual(fuzz.authors, ['Yuqi Chen', 'Bohan Xuan', 'Christopher M. Poskitt', 'Jun Sun', 'Fan Zhang']);
  assert.equal(fuzz.comments, 'Accepted by the ACM SIGSOFT International Symposium on Software Testing and\n  Analysis (ISSTA 2020)');
  assert.deepEqual(fuzz.links, [
    { kind: 'doi', url: 'http://dx.doi.org/10.1145/3395363.3397376' },
    { kind: 'abs', url: 'http://arxiv.org/abs/2005.14124v2' },
    { kind: 'pdf', url: 'http://arxiv.org/pdf/2005.14124v2' },
  ]);
  assert.deepEqual(byId(legacy, '2405.13786').authors, ['Aurora Ramírez', 'Mario Berrios', 'José Raúl Romero', 'Robert Feldt']);
  const astro = byId(legacy, 'astro-ph/0601001');
  assert.equal(astro.title, 'Frequency of Hot Jupiters and Very Hot Jupiters from the OGLE-III Transit\n  Surveys Toward the Galactic Bulge and Carina');
  assert.deepEqual(astro.authors, ['Andrew Gould', 'Susan Dorsher', 'B. Scott Gaudi', 'Andrzej Udalski'], 'affiliations are not names');
});

test('a prefixed Atom namespace and a DOI known only from its link', () => {
  const xml = `<a:feed xmlns:a="http://www.w3.org/2005/Atom"><a:entry>${'<a:id>http://arxiv.org/abs/2202.12139v3</a:id>'}<a:title>T</a:title>
    <a:link title="doi" href="https://doi.org/10.1109/X.1" rel="related"/></a:entry></a:feed>`;
  const r = records(parseArxivAtom(xml, 'p'))[0];
  assert.equal(r?.doi, '10.1109/X.1');
  assert.equal(r?.version, 3);
  assert.equal(r?.versions, undefined, 'no dates, no versions');
});

test('a truncated feed keeps its complete entries and adds one skip', () => {
  const xml = body(PAGE10);
  const full = parseArxivAtom(xml, 'p').items;
  const starts = [...xml.matchAll(/<entry>/g)].map((m) => m.index);
  const cut = xml.slice(0, (starts[3] ?? 0) + 1500); // in the middle of entry 4
  const page = parseArxivAtom(cut, 'p');
  assert.equal(page.items.length, 4);
  assert.deepEqual(page.items.slice(0, 3), full.slice(0, 3));
  assert.deepEqual(page.items[3], { ok: false, where: 'p#4', reason: 'truncated XML: entry 4 is incomplete' });
  assert.equal(page.totalResults, 214881);
  assert.equal(page.error, undefined);

  // cut inside a closing tag, and right after one
  const end3 = xml.indexOf('</entry>', starts[2]);
  assert.deepEqual(reasons(parseArxivAtom(xml.slice(0, end3 + 4), 'p')), ['ok', 'ok', 'truncated XML: entry 3 is incomplete']);
  assert.deepEqual(reasons(parseArxivAtom(xml.slice(0, end3 + 8), 'p')), ['ok', 'ok', 'ok']);
});

test('entries without a usable id or title are skips with a reason; neighbours survive', () => {
  const good = entry(`${ID('2202.12139v1')}<title>Good</title>`);
  const page = parseArxivAtom(
    feed(
      [
        entry('<title>No id</title>'),
        entry('<id>https://example.org/not-arxiv</id><title>Bad id</title>'),
        entry(ID('2202.12139v1')),
        entry(`${ID('2202.12139v1')}<title>  \n </title>`),
        entry(`${ID('2202.12139v1')}<title>x</titel>`),
        good,
        '<entry/>',
        entry(`<id>${'9'.repeat(5000)}</id><title>long</title>`),
      ].join('\n'),
    ),
    'f',
  );
  assert.deepEqual(reasons(page), [
    'entry has no <id>',
    'entry id is not an arXiv id: "https://example.org/not-arxiv"',
    'entry 2202.12139 has no title',
    'entry 2202.12139 has no title',
    reasons(page)[4],
    'ok',
    'entry has no <id>',
    `entry id is not an arXiv id: ${JSON.stringify('9'.repeat(200))}`,
  ]);
  assert.match(reasons(page)[4] ?? '', /^invalid XML: Expected closing tag 'title'/);
  assert.deepEqual(page.items.map((i) => i.where), ['f#1', 'f#2', 'f#3', 'f#4', 'f#5', 'f#6', 'f#7', 'f#8']);
  // an entry that never closes before the next one starts
  const unclosed = parseArxivAtom(feed(`<entry>${ID('2202.12139v1')}<title>A</title>${good}`), 'u');
  assert.deepEqual(reasons(unclosed), ['invalid XML: entry 1 is not closed before the next one', 'ok']);
});

test('wrong shapes do not throw and do not invent data', () => {
  const page = parseArxivAtom(
    feed(
      entry(`${ID('2202.12139v1')}<title>First</title><title>Second</title>
        <author name="attr only"/><author><name></name></author><author><name>Real Name</name></author>
        <category/><category term=""/><category term="cs.SE"/><arxiv:primary_category term="cs.SE"/>
        <link/><link href="https://x.org/a"/><link href="https://x.org/a" title="pdf"/>
        <published><b>nested</b></published><summary type="html"/>`),
    ),
    'w',
  );
  const [r] = records(page);
  assert.equal(r?.title, 'First');
  assert.deepEqual(r?.authors, ['Real Name']);
  assert.deepEqual(r?.categories, ['cs.SE']);
  assert.deepEqual(r?.links, [{ kind: 'other', url: 'https://x.org/a' }]);
  assert.equal(r?.submittedAt, undefined);
  assert.equal(r?.abstract, undefined);

  for (const junk of ['', 'null', '{"items": []}', '<html><body>503 Service Unavailable</body></html>', '<<<>>>', '\u0000\uFFFF']) {
    const p = parseArxivAtom(junk, 'j');
    assert.deepEqual(p.items, []);
    assert.equal(p.error, 'not an Atom feed', JSON.stringify(junk));
  }
  assert.deepEqual(parseArxivAtom(42 as unknown as string, 'n').items, []);
});

test('hostile text is returned as text', () => {
  const script = '<script>alert("x")</script>';
  const page = parseArxivAtom(
    feed(
      [
        entry(`${ID('2202.12139v1')}<title>&lt;script&gt;alert("x")&lt;/script&gt;</title><summary><![CDATA[${script} & </entry> <entry> ]]> tail</summary>`),
        entry(`${ID('2202.12140v1')}<title>&#233;&#xE9; &#x1F600; &amp;lt; &nbsp; &#0; &#xD800;</title><summary>a<!-- </entry> -->b</summary>`),
        entry(`${ID('2202.12141v1')}<title><![CDATA[<!DOCTYPE html>]]></title><__proto__>x</__proto__><constructor>y</constructor>`),
      ].join(''),
    ),
    'h',
  );
  const [a, b, c] = page.items;
  assert.ok(a?.ok && b?.ok, JSON.stringify(page.items));
  assert.equal(a.record.title, script);
  assert.equal(a.record.abstract, `${script} & </entry> <entry>  tail`);
  assert.equal(b.record.title, 'éé 😀 &lt; &nbsp; &#0; &#xD800;');
  assert.equal(b.record.abstract, 'ab');
  assert.ok(c?.ok, 'elements named like Object.prototype members do not cost the entry');
  assert.equal(c.record.title, '<!DOCTYPE html>');
  assert.equal(({} as Record<string, unknown>)['x'], undefined);
});

test('DOCTYPE entities are never expanded', () => {
  const lol = '<!DOCTYPE feed [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>';
  const xml = `<?xml version="1.0"?>\n${lol}\n${feed(entry(`${ID('2202.12139v1')}<title>&c;</title><summary>&a;<!DOCTYPE x [<!ENTITY d "d">]></summary>`))}`;
  const page = parseArxivAtom(xml, 'd');
  assert.deepEqual(reasons(page), ['invalid XML: DOCTYPE inside an element']);
  const plain = parseArxivAtom(`${lol}${feed(entry(`${ID('2202.12139v1')}<title>&c;</title>`))}`, 'd');
  assert.equal(records(plain)[0]?.title, '&c;');
});

test('a 10 MB summary does not crash', () => {
  const big = 'x'.repeat(10 * 1024 * 1024);
  const page = parseArxivAtom(feed(entry(`${ID('2202.12139v1')}<title>Big</title><summary>${big}</summary>`) + entry(`${ID('2202.12140v1')}<title>Next</title>`)), 'b');
  const [r, next] = records(page);
  assert.equal(r?.abstract?.length, big.length);
  assert.equal(next?.title, 'Next');
});

// ---- properties ------------------------------------------------------------

function wellFormed(page: AtomPage, where: string): void {
  assert.ok(Array.isArray(page.items));
  page.items.forEach((it: ParseItem, i) => {
    assert.equal(it.where, `${where}#${i + 1}`);
    if (it.ok) assert.ok(typeof it.record.title === 'string' && it.record.title.trim() !== '');
    else assert.ok(typeof it.reason === 'string' && it.reason !== '');
  });
}

const fragments = fc.constantFrom(
  '<feed>', '</feed>', '<entry>', '</entry>', '<entry/>', '<id>', '</id>', 'http://arxiv.org/abs/2202.12139v1', '<title>', '</title>',
  '<![CDATA[', ']]>', '<!--', '-->', '<?x ?>', '&amp;', '&#', ';', '<', '>', '"', "'", '/', 'x', ' ', '\n', '<arxiv:doi>', '<author><name>',
  '<link href="', '<category term="', '<!DOCTYPE feed [<!ENTITY a "b">]>', '<opensearch:totalResults>', '12',
);

test('property: never throws on arbitrary strings', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 300 }), fc.array(fragments, { maxLength: 60 }).map((a) => a.join(''))), (s) => {
      wellFormed(parseArxivAtom(s, 'r'), 'r');
    }),
    { numRuns: 500 },
  );
});

test('property: truncating a real body keeps the complete entries unchanged', () => {
  const xml = body(PAGE10);
  const full = parseArxivAtom(xml, 't').items;
  fc.assert(
    fc.property(fc.integer({ min: 0, max: xml.length }), (n) => {
      const page = parseArxivAtom(xml.slice(0, n), 't');
      wellFormed(page, 't');
      page.items.forEach((it, i) => {
        if (it.ok) assert.deepEqual(it, full[i]);
        else {
          assert.equal(i, page.items.length - 1, 'only the last item can be a skip');
          assert.equal(it.reason, `truncated XML: entry ${i + 1} is incomplete`);
        }
      });
    }),
    { numRuns: 200 },
  );
});

test('property: random insertions and deletions in real bodies never throw', () => {
  const bodies = [body(PAGE10), body(fileLike('id_astro-ph_0601001_')), readFileSync(LEGACY, 'utf8')];
  const edit = fc.record({
    at: fc.nat(),
    del: fc.nat({ max: 40 }),
    ins: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('<', '>', '&', '</entry>', '<entry>', ']]>', '<![CDATA[', '"', '\u0000')),
  });
  fc.assert(
    fc.property(fc.constantFrom(...bodies), fc.array(edit, { minLength: 1, maxLength: 6 }), (xml, edits) => {
      let s = xml;
      for (const e of edits) {
        const at = e.at % (s.length + 1);
        s = s.slice(0, at) + e.ins + s.slice(at + e.del);
      }
      wellFormed(parseArxivAtom(s, 'm'), 'm');
    }),
    { numRuns: 300 },
  );
});
