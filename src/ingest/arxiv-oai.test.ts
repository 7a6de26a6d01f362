import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parseOaiPage, type OaiPage } from './arxiv-oai.ts';
import type { PaperRecord } from './record.ts';

const DIR = new URL('../../../shared/data/arxiv-oai/', import.meta.url);
const files = readdirSync(DIR).filter((f) => f.endsWith('.xml')).sort();
const body = (suffix: string): string => {
  const f = files.find((x) => x.endsWith(suffix));
  assert.ok(f, `no recorded file *${suffix}`);
  return readFileSync(new URL(f, DIR), 'utf8');
};
const HEP_EX = body('hep-ex.xml');
const SINGLE = body('single.xml');

function records(page: OaiPage): PaperRecord[] {
  return page.items.map((i) => {
    assert.ok(i.ok, `expected a record at ${i.where}: ${i.ok ? '' : i.reason}`);
    return i.record;
  });
}
const reasons = (page: OaiPage): string[] => page.items.map((i) => (i.ok ? 'ok' : i.reason));
/** The <record> elements of the recorded hep-ex ListRecords response. */
const hepExRecords = [...HEP_EX.matchAll(/<record>[\s\S]*?<\/record>/g)].map((m) => m[0]);

const OAI_OPEN = `<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">
<responseDate>2017-12-14T13:00:41Z</responseDate>`;
const listRecords = (recs: string[], tail = ''): string =>
  `${OAI_OPEN}\n<request verb="ListRecords" metadataPrefix="arXiv" set="physics:hep-ex">http://export.arxiv.org/oai2</request>\n<ListRecords>\n${recs.join('\n')}\n${tail}</ListRecords>\n</OAI-PMH>\n`;
const errorResponse = (code: string, message: string): string =>
  `${OAI_OPEN}\n<request verb="ListRecords">http://export.arxiv.org/oai2</request>\n<error code="${code}">${message}</error>\n</OAI-PMH>\n`;
const arxivRecord = (meta: string, header = '<identifier>oai:arXiv.org:1706.05371</identifier><datestamp>2017-12-14</datestamp>'): string =>
  `<record><header>${header}</header><metadata><arXiv xmlns="http://arxiv.org/OAI/arXiv/">${meta}</arXiv></metadata></record>`;

test('every recorded response parses: one record per <record>, no paging, no error', () => {
  assert.equal(files.length, 3);
  for (const f of files) {
    const xml = readFileSync(new URL(f, DIR), 'utf8');
    const page = parseOaiPage(xml, f);
    assert.equal(page.items.length, xml.match(/<record>/g)?.length, f);
    assert.deepEqual(Object.keys(page), ['items'], f);
    page.items.forEach((it, i) => {
      assert.equal(it.where, `${f}#${i + 1}`);
      assert.ok(it.ok);
      const id = [...xml.matchAll(/<id>([^<]+)<\/id>/g)][i]?.[1];
      assert.equal(it.record.arxivId, id);
      assert.equal(it.record.categories?.[0], [...xml.matchAll(/<categories>([^\s<]+)/g)][i]?.[1], 'primary category first');
    });
  }
  assert.deepEqual(records(parseOaiPage(body('hep-th.xml'), 't')).map((r) => r.arxivId), ['1412.8323', '1507.07790', '1607.01710']);
});

test('a known record, field by field', () => {
  const r = records(parseOaiPage(HEP_EX, 'x'))[1];
  assert.ok(r);
  const { abstract, ...rest } = r;
  assert.deepEqual(rest, {
    arxivId: '1706.09418',
    title: 'R-Parity Violation at the LHC',
    authors: ['Daniel Dercks', 'Herbi Dreiner', 'Manuel E. Krauss', 'Toby Opferkuch', 'Annika Reinert'],
    categories: ['hep-ph', 'hep-ex'],
    submittedAt: '2017-06-28T00:00:00Z',
    updatedAt: '2017-11-26T00:00:00Z',
    doi: '10.1140/epjc/s10052-017-5414-4',
    journalRef: 'Eur. Phys. J. C (2017) 77:856',
    comments: '43 pages, 13 tables, 17 figures; updated Figs. 11-17 and Tab. 12\n  including NLO corrections; version accepted for publication in EPJC',
    links: [
      { kind: 'abs', url: 'https://arxiv.org/abs/1706.09418' },
      { kind: 'pdf', url: 'https://arxiv.org/pdf/1706.09418' },
    ],
  });
  assert.ok(abstract?.startsWith('  We investigate the phenomenology of the MSSM extended by a single R-parity\nviolating'));
  assert.ok(abstract?.endsWith('all relevant supersymmetric particles.\n'));
  assert.ok(abstract?.includes('$\\bar U\\bar D\\bar D$'));

  const first = records(parseOaiPage(HEP_EX, 'x'))[0];
  assert.equal(first?.title, 'Evaluation of Silicon Photomultipliers for use as Photosensors in Liquid\n  Xenon Detectors');
  assert.equal(first?.authors?.length, 13);
  assert.equal(first?.doi, undefined);
  assert.equal(first?.journalRef, undefined);
  assert.deepEqual(first?.categories, ['physics.ins-det', 'hep-ex']);
});

test('GetRecord response', () => {
  const page = parseOaiPage(SINGLE, 'g');
  const [r] = records(page);
  assert.equal(page.items.length, 1);
  assert.equal(r?.arxivId, '1401.2122');
  assert.deepEqual(r?.authors, ['A. Sergyeyev']);
  assert.deepEqual(r?.categories, ['math.AP', 'hep-th', 'math-ph', 'math.DG', 'math.MP', 'nlin.SI']);
  assert.equal(r?.journalRef, 'Lett. Math. Phys. 108 (2018), no. 2, 359-376');
  assert.equal(r?.doi, '10.1007/s11005-017-1013-4');
  assert.equal(r?.submittedAt, '2014-01-09T00:00:00Z');
  assert.equal(r?.updatedAt, '2017-10-23T00:00:00Z');
});

test('author names: forenames keyname suffix; collaborations; old-style ids; dates', () => {
  const xml = listRecords([
    arxivRecord(`<id>hep-th/9901001</id><created>1999-01-01</created><authors>
      <author><keyname>Smith</keyname><forenames>John</forenames><suffix>Jr</suffix><affiliation>MIT</affiliation></author>
      <author><keyname>ATLAS Collaboration</keyname></author>
      <author><keyname>  </keyname></author>
      <author><keyname>M&#252;ller</keyname><forenames>J&amp;K</forenames></author>
    </authors><title>Old</title><categories>hep-th  gr-qc hep-th</categories>`),
    arxivRecord('<id>1706.05371</id><created>June 2017</created><updated>2017-12-12T10:00:00Z</updated><title>Dates</title>'),
  ]);
  const [old, dates] = records(parseOaiPage(xml, 'a'));
  assert.deepEqual(old?.authors, ['John Smith Jr', 'ATLAS Collaboration', 'J&K Müller']);
  assert.deepEqual(old?.categories, ['hep-th', 'gr-qc']);
  assert.equal(old?.submittedAt, '1999-01-01T00:00:00Z');
  assert.equal(old?.updatedAt, undefined);
  assert.deepEqual(old?.links, [
    { kind: 'abs', url: 'https://arxiv.org/abs/hep-th/9901001' },
    { kind: 'pdf', url: 'https://arxiv.org/pdf/hep-th/9901001' },
  ]);
  assert.equal(dates?.submittedAt, undefined, 'an unreadable date is dropped, not guessed');
  assert.equal(dates?.updatedAt, '2017-12-12T10:00:00Z');
  assert.equal(dates?.authors, undefined);
});

test('paging: resumptionToken, completeListSize, cursor; an empty token ends the list', () => {
  const first = parseOaiPage(
    listRecords(hepExRecords.slice(0, 2), '<resumptionToken cursor="0" completeListSize="3">6960524|1001</resumptionToken>\n'),
    'p1',
  );
  assert.deepEqual(records(first).map((r) => r.arxivId), ['1706.05371', '1706.09418']);
  assert.equal(first.resumptionToken, '6960524|1001');
  assert.equal(first.completeListSize, 3);
  assert.equal(first.cursor, 0);

  for (const tail of ['<resumptionToken cursor="2" completeListSize="3"/>', '<resumptionToken cursor="2" completeListSize="3">  </resumptionToken>']) {
    const last = parseOaiPage(listRecords(hepExRecords.slice(2), tail), 'p2');
    assert.deepEqual(records(last).map((r) => r.arxivId), ['1707.00874']);
    assert.equal(last.resumptionToken, undefined);
    assert.equal(last.completeListSize, 3);
    assert.equal(last.cursor, 2);
    assert.equal(last.items[0]?.where, 'p2#1');
  }

  const escaped = parseOaiPage(listRecords([], '<resumptionToken expirationDate="2017-12-15T13:00:41Z">set=physics:hep-ex&amp;skip=1000</resumptionToken>'), 'p3');
  assert.equal(escaped.resumptionToken, 'set=physics:hep-ex&skip=1000');
  assert.equal(escaped.completeListSize, undefined);
  assert.deepEqual(escaped.items, []);
});

test('OAI errors: noRecordsMatch, badResumptionToken, badArgument', () => {
  assert.deepEqual(parseOaiPage(errorResponse('noRecordsMatch', 'No records match the query'), 'e'), {
    items: [],
    error: { code: 'noRecordsMatch', message: 'No records match the query' },
  });
  assert.deepEqual(parseOaiPage(errorResponse('badResumptionToken', 'Invalid or expired resumption token'), 'e').error, {
    code: 'badResumptionToken',
    message: 'Invalid or expired resumption token',
  });
  assert.deepEqual(parseOaiPage(errorResponse('badArgument', 'Illegal argument &quot;x&quot;'), 'e').error, {
    code: 'badArgument',
    message: 'Illegal argument "x"',
  });
  assert.deepEqual(parseOaiPage(errorResponse('', ''), 'e').error, { code: 'unknown', message: '' });
  for (const junk of ['', '<html><body>503</body></html>', '{"records": []}', '<<<']) {
    assert.deepEqual(parseOaiPage(junk, 'j'), { items: [], error: { code: 'invalidResponse', message: 'not an OAI-PMH response' } });
  }
  assert.equal(parseOaiPage(7 as unknown as string, 'n').error?.code, 'invalidResponse');
});

test('deleted records are skips; the rest still parse', () => {
  const deleted = '<record><header status="deleted"><identifier>oai:arXiv.org:1706.05371</identifier><datestamp>2017-12-14</datestamp><setSpec>physics:hep-ex</setSpec></header></record>';
  const page = parseOaiPage(listRecords([deleted, ...hepExRecords.slice(1)]), 'd');
  assert.deepEqual(page.items[0], { ok: false, where: 'd#1', reason: 'deleted record' });
  assert.deepEqual(reasons(page), ['deleted record', 'ok', 'ok']);
});

test('a truncated response keeps its complete records and adds one skip', () => {
  const cutAt = HEP_EX.indexOf('We investigate the phenomenology'); // inside record 2
  const page = parseOaiPage(HEP_EX.slice(0, cutAt), 'h');
  assert.deepEqual(page.items.slice(0, 1), parseOaiPage(HEP_EX, 'h').items.slice(0, 1));
  assert.deepEqual(page.items[1], { ok: false, where: 'h#2', reason: 'truncated XML: record 2 is incomplete' });
  assert.equal(page.items.length, 2);
});

test('records without a usable id, title or arXiv metadata are skips with a reason', () => {
  const page = parseOaiPage(
    listRecords([
      arxivRecord('<title>No id</title>', '<datestamp>2017-12-14</datestamp>'),
      arxivRecord('<title>Id from the header</title>'),
      arxivRecord('<id>not-an-id</id><title>Bad</title>'),
      arxivRecord('<id>1706.05371</id><title> </title>'),
      arxivRecord('<id>1706.05371</id>'),
      '<record><header><identifier>oai:arXiv.org:1706.05371</identifier></header><metadata><oai_dc:dc xmlns:oai_dc="x"><dc:title>t</dc:title></oai_dc:dc></metadata></record>',
      arxivRecord('<id>1706.05371</id><title>Broken</title></arXiv></metadata>'),
      '<record/>',
      hepExRecords[0] ?? '',
    ]),
    'm',
  );
  const r = reasons(page);
  assert.deepEqual(r.slice(0, 6), [
    'record has no <id>',
    'ok',
    'record id is not an arXiv id: "not-an-id"',
    'record 1706.05371 has no title',
    'record 1706.05371 has no title',
    'record has no <metadata><arXiv> (is metadataPrefix=arXiv?)',
  ]);
  assert.match(r[6] ?? '', /^invalid XML: /);
  assert.deepEqual(r.slice(7), ['record has no <metadata><arXiv> (is metadataPrefix=arXiv?)', 'ok']);
  assert.equal(page.items[1]?.ok && page.items[1].record.arxivId, '1706.05371');
});

test('hostile text is returned as text', () => {
  const script = '<script>alert(1)</script>';
  const page = parseOaiPage(
    listRecords([
      arxivRecord(`<id>1706.05371</id><title>&lt;script&gt;alert(1)&lt;/script&gt;</title><abstract><![CDATA[${script} </record> & ]]></abstract>`),
      arxivRecord('<id>1706.09418</id><title><![CDATA[<!DOCTYPE x [<!ENTITY a "b">]>]]> &#x2603;</title><comments>&a; &#1114112;</comments>'),
    ]),
    's',
  );
  const [a, b] = records(page);
  assert.equal(a?.title, script);
  assert.equal(a?.abstract, `${script} </record> & `);
  assert.equal(b?.title, '<!DOCTYPE x [<!ENTITY a "b">]> ☃');
  assert.equal(b?.comments, '&a; &#1114112;');
});

test('a 10 MB abstract does not crash', () => {
  const big = 'y'.repeat(10 * 1024 * 1024);
  const page = parseOaiPage(listRecords([arxivRecord(`<id>1706.05371</id><title>Big</title><abstract>${big}</abstract>`), ...hepExRecords.slice(1)]), 'b');
  assert.equal(records(page)[0]?.abstract?.length, big.length);
  assert.equal(page.items.length, 3);
});

// ---- properties ------------------------------------------------------------

function wellFormed(page: OaiPage, where: string): void {
  assert.ok(Array.isArray(page.items));
  page.items.forEach((it, i) => {
    assert.equal(it.where, `${where}#${i + 1}`);
    if (it.ok) assert.ok(typeof it.record.title === 'string' && it.record.title.trim() !== '');
    else assert.ok(typeof it.reason === 'string' && it.reason !== '');
  });
  if (page.error) assert.ok(typeof page.error.code === 'string' && typeof page.error.message === 'string');
}

const fragments = fc.constantFrom(
  '<OAI-PMH>', '</OAI-PMH>', '<record>', '</record>', '<record/>', '<header status="deleted">', '<header>', '</header>', '<metadata>', '<arXiv>',
  '</arXiv>', '</metadata>', '<id>', '</id>', '1706.05371', '<title>', '</title>', '<authors><author><keyname>', '</keyname>', '<![CDATA[', ']]>',
  '<!--', '-->', '&amp;', '&#', ';', '<', '>', '"', '/', 'x', ' ', '<resumptionToken cursor="', '</resumptionToken>', '<error code="', '</error>',
);

test('property: never throws on arbitrary strings', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 300 }), fc.array(fragments, { maxLength: 60 }).map((a) => a.join(''))), (s) => {
      wellFormed(parseOaiPage(s, 'r'), 'r');
    }),
    { numRuns: 500 },
  );
});

test('property: truncating a real body keeps the complete records unchanged', () => {
  const full = parseOaiPage(HEP_EX, 't').items;
  fc.assert(
    fc.property(fc.integer({ min: 0, max: HEP_EX.length }), (n) => {
      const page = parseOaiPage(HEP_EX.slice(0, n), 't');
      wellFormed(page, 't');
      page.items.forEach((it, i) => {
        if (it.ok) assert.deepEqual(it, full[i]);
        else {
          assert.equal(i, page.items.length - 1, 'only the last item can be a skip');
          assert.equal(it.reason, `truncated XML: record ${i + 1} is incomplete`);
        }
      });
    }),
    { numRuns: 200 },
  );
});

test('property: random insertions and deletions in real bodies never throw', () => {
  const edit = fc.record({
    at: fc.nat(),
    del: fc.nat({ max: 40 }),
    ins: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('<', '>', '&', '</record>', '<record>', ']]>', '<![CDATA[', '"', '\u0000')),
  });
  fc.assert(
    fc.property(fc.constantFrom(...files.map((f) => readFileSync(new URL(f, DIR), 'utf8'))), fc.array(edit, { minLength: 1, maxLength: 6 }), (xml, edits) => {
      let s = xml;
      for (const e of edits) {
        const at = e.at % (s.length + 1);
        s = s.slice(0, at) + e.ins + s.slice(at + e.del);
      }
      wellFormed(parseOaiPage(s, 'm'), 'm');
    }),
    { numRuns: 300 },
  );
});
