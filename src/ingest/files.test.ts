import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { bufferLines, decodeUtf8, expandInputs, readLines, type Line } from './files.ts';

let dir = '';

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'paperboy-files-'));
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

let counter = 0;
async function fileWith(body: Buffer, ext = '.jsonl'): Promise<string> {
  const file = path.join(dir, `f${++counter}${ext}`);
  await writeFile(file, body);
  return file;
}

async function collect(file: string): Promise<Line[]> {
  const out: Line[] = [];
  for await (const l of readLines(file)) out.push(l);
  return out;
}

/** CRLF endings, an invalid UTF-8 line in the middle, multi-byte text, no newline at the end. */
const MIXED = Buffer.concat([
  Buffer.from('first line\r\n'),
  Buffer.from('second ü\r\n'),
  Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe, 0x20, 0xc3, 0x0d, 0x0a]), // "bad\xff\xfe \xc3\r\n"
  Buffer.from('\r\n'), // an empty line
  Buffer.from('fifth 😀 é\n'),
  Buffer.from('last without newline'),
]);

const MIXED_LINES: Line[] = [
  { n: 1, text: 'first line' },
  { n: 2, text: 'second ü' },
  { n: 3, text: null },
  { n: 4, text: '' },
  { n: 5, text: 'fifth 😀 é' },
  { n: 6, text: 'last without newline' },
];

test('readLines: CRLF, invalid UTF-8 in the middle, last line without newline', async () => {
  const file = await fileWith(MIXED);
  const reader = readLines(file, MIXED.length);
  const lines: Line[] = [];
  for await (const l of reader) lines.push(l);
  assert.deepEqual(lines, MIXED_LINES);
  assert.equal(reader.bytesRead, MIXED.length);
  assert.equal(reader.totalBytes, MIXED.length);
});

test('bufferLines: same cases, same answers', () => {
  assert.deepEqual([...bufferLines(MIXED)], MIXED_LINES);
});

test('a gzip file is decompressed on the fly', async () => {
  const gz = gzipSync(MIXED);
  const file = await fileWith(gz, '.jsonl.gz');
  const reader = readLines(file, gz.length);
  const lines: Line[] = [];
  for await (const l of reader) lines.push(l);
  assert.deepEqual(lines, MIXED_LINES);
  assert.equal(reader.bytesRead, gz.length); // compressed bytes
});

test('empty files, lone newlines, a trailing newline adds no line', async () => {
  const cases: [string, Line[]][] = [
    ['', []],
    ['\n', [{ n: 1, text: '' }]],
    ['\r\n', [{ n: 1, text: '' }]],
    ['a\n', [{ n: 1, text: 'a' }]],
    ['a\n\n', [{ n: 1, text: 'a' }, { n: 2, text: '' }]],
    ['a\rb\n', [{ n: 1, text: 'a\rb' }]], // a lone CR inside a line is kept
    ['a\r', [{ n: 1, text: 'a' }]],
    ['\uFEFF{"a":1}\n', [{ n: 1, text: '{"a":1}' }]], // BOM dropped
  ];
  for (const [body, want] of cases) {
    const buf = Buffer.from(body);
    assert.deepEqual(await collect(await fileWith(buf)), want, JSON.stringify(body));
    assert.deepEqual([...bufferLines(buf)], want, JSON.stringify(body));
  }
});

test('a 10 MB line and a multi-byte character across a read chunk boundary', async () => {
  const big = 'x'.repeat(10 * 1024 * 1024);
  // 1 MiB is readLines' chunk size: put "é" (2 bytes) across the boundary
  const edge = 'a'.repeat((1 << 20) - 1) + 'é' + 'b';
  const body = Buffer.from(`${edge}\n${big}\r\nafter\n`);
  const lines = await collect(await fileWith(body));
  assert.equal(lines.length, 3);
  assert.deepEqual(lines[0], { n: 1, text: edge });
  assert.equal(lines[1]?.n, 2);
  assert.equal(lines[1]?.text?.length, big.length);
  assert.ok(lines[1]?.text === big);
  assert.deepEqual(lines[2], { n: 3, text: 'after' });

  const fromBuffer = [...bufferLines(body)];
  assert.equal(fromBuffer.length, 3);
  assert.ok(fromBuffer[1]?.text === big);
  assert.deepEqual(fromBuffer[2], { n: 3, text: 'after' });

});

test('a long line in a gzip file', async () => {
  const long = 'y'.repeat(2 * 1024 * 1024);
  const edge = 'a'.repeat((1 << 16) - 1) + 'é' + 'b'; // gunzip hands out 16 KiB chunks
  const lines = await collect(await fileWith(gzipSync(Buffer.from(`${edge}\n${long}\r\nafter`)), '.gz'));
  assert.equal(lines.length, 3);
  assert.ok(lines[0]?.text === edge);
  assert.ok(lines[1]?.text === long);
  assert.deepEqual(lines[2], { n: 3, text: 'after' });
});

test(
  'a 10 MB line in a gzip file (many small gunzip chunks) comes out whole',
  async () => {
    const big = 'x'.repeat(10 * 1024 * 1024);
    const file = await fileWith(gzipSync(Buffer.from(`${big}\nafter\n`)), '.gz');
    const lines = await collect(file);
    assert.equal(lines.length, 2);
    assert.ok(lines[0]?.text === big);
  },
);

test('decodeUtf8', () => {
  assert.deepEqual(decodeUtf8(Buffer.from('héllo')), { text: 'héllo', valid: true });
  assert.deepEqual(decodeUtf8(Buffer.from([0xef, 0xbb, 0xbf, 0x61])), { text: 'a', valid: true });
  assert.deepEqual(decodeUtf8(Buffer.from([0x61, 0xff])), { text: 'a\uFFFD', valid: false });
  assert.deepEqual(decodeUtf8(Buffer.from([0xed, 0xa0, 0x80])).valid, false); // encoded surrogate
  assert.deepEqual(decodeUtf8(new Uint8Array()), { text: '', valid: true });
});

test('readLines: a missing file rejects when read', async () => {
  await assert.rejects(collect(path.join(dir, 'does-not-exist.jsonl')), /ENOENT/);
});

test('expandInputs: directories sorted and filtered by extension, files kept as given', async () => {
  const d = path.join(dir, 'inputs');
  await mkdir(d);
  await mkdir(path.join(d, 'sub'));
  for (const n of ['b.jsonl', 'a.jsonl', '10.jsonl', '2.jsonl', 'notes.txt', 'c.jsonl.gz', 'd.json', 'B.jsonl']) {
    await writeFile(path.join(d, n), '{}\n');
  }
  const got = await expandInputs([d], ['.jsonl', '.jsonl.gz']);
  assert.deepEqual(
    got,
    ['10.jsonl', '2.jsonl', 'B.jsonl', 'a.jsonl', 'b.jsonl', 'c.jsonl.gz'].map((n) => path.join(d, n)),
  );
  // files named directly are kept whatever their extension, in the order given
  const txt = path.join(d, 'notes.txt');
  const b = path.join(d, 'b.jsonl');
  assert.deepEqual(await expandInputs([txt, b], ['.jsonl']), [txt, b]);
  assert.deepEqual(await expandInputs([b, d], ['.txt']), [b, txt]);
  assert.deepEqual(await expandInputs([], ['.jsonl']), []);
  assert.deepEqual(await expandInputs([path.join(d, 'sub')], ['.jsonl']), []);
});

test('expandInputs: a clear error for a missing path', async () => {
  const missing = path.join(dir, 'nope', 'papers.jsonl');
  await assert.rejects(expandInputs([missing], ['.jsonl']), (err: Error) => {
    assert.equal(err.message, `ingest: no such file or directory: ${missing}`);
    return true;
  });
});

// --- properties --------------------------------------------------------------

/** A reference model: split on \n, drop the empty tail, strip one trailing \r, strict UTF-8. */
function model(bytes: Uint8Array): Line[] {
  const out: Line[] = [];
  const buf = Buffer.from(bytes);
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0x0a) {
      parts.push(buf.subarray(start, i));
      start = i + 1;
    }
  }
  if (start < buf.length) parts.push(buf.subarray(start));
  for (const [i, p] of parts.entries()) {
    const b = p.length && p[p.length - 1] === 0x0d ? p.subarray(0, p.length - 1) : p;
    let text: string | null;
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(b);
    } catch {
      text = null;
    }
    out.push({ n: i + 1, text });
  }
  return out;
}

// bytes from a small alphabet: newlines, CRs, ASCII, valid and broken UTF-8 pieces (never a BOM)
const bytes = fc
  .array(fc.constantFrom([0x0a], [0x0d], [0x0d, 0x0a], [0x61], [0x7b, 0x7d], [0xc3, 0xa9], [0xc3], [0xa9], [0xff], [0xf0, 0x9f, 0x98, 0x80], [0xe2, 0x82]), { maxLength: 40 })
  .map((chunks) => Uint8Array.from(chunks.flat()));

test('property: bufferLines matches the reference model', () => {
  fc.assert(
    fc.property(bytes, (b) => {
      assert.deepEqual([...bufferLines(Buffer.from(b))], model(b));
    }),
    { numRuns: 1_000 },
  );
});

test('property: readLines (plain and gzip) agrees with bufferLines', async () => {
  await fc.assert(
    fc.asyncProperty(bytes, async (b) => {
      const buf = Buffer.from(b);
      const want = [...bufferLines(buf)];
      assert.deepEqual(await collect(await fileWith(buf)), want);
      assert.deepEqual(await collect(await fileWith(gzipSync(buf), '.gz')), want);
    }),
    { numRuns: 40 },
  );
});
