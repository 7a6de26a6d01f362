import { createReadStream } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { createGunzip } from 'node:zlib';

/** Files and directories given on the command line → files, directories expanded (sorted) by extension. */
export async function expandInputs(inputs: readonly string[], extensions: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    let st;
    try {
      st = await stat(input);
    } catch {
      throw new Error(`ingest: no such file or directory: ${input}`);
    }
    if (st.isDirectory()) {
      const names = (await readdir(input)).filter((n) => extensions.some((e) => n.endsWith(e))).sort();
      out.push(...names.map((n) => path.join(input, n)));
    } else {
      out.push(input);
    }
  }
  return out;
}

const strict = new TextDecoder('utf-8', { fatal: true });
const lenient = new TextDecoder('utf-8');

/** Decodes UTF-8; invalid bytes become U+FFFD and `valid` is false. A BOM is dropped. */
export function decodeUtf8(buf: Uint8Array): { text: string; valid: boolean } {
  try {
    return { text: strict.decode(buf).replace(/^\uFEFF/, ''), valid: true };
  } catch {
    return { text: lenient.decode(buf).replace(/^\uFEFF/, ''), valid: false };
  }
}

export async function readTextFile(file: string): Promise<{ text: string; valid: boolean }> {
  return decodeUtf8(await readFile(file));
}

export interface Line {
  /** 1-based line number. */
  n: number;
  /** The line, or null when it is not valid UTF-8. */
  text: string | null;
}

export interface LineReader extends AsyncIterable<Line> {
  /** Bytes of the file read so far, and its size (compressed size for .gz). */
  readonly bytesRead: number;
  readonly totalBytes: number | undefined;
}

/**
 * Streams a file's lines in constant memory (plus the longest line), checking
 * each line's UTF-8 on its own so one bad line never spoils the others.
 * `.gz` files are decompressed on the fly.
 */
export function readLines(file: string, totalBytes?: number): LineReader {
  let bytesRead = 0;
  const reader: LineReader = {
    get bytesRead() {
      return bytesRead;
    },
    totalBytes,
    async *[Symbol.asyncIterator]() {
      const raw = createReadStream(file, { highWaterMark: 1 << 16 });
      raw.on('data', (c) => (bytesRead += c.length));
      const stream = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
      let n = 0;
      // The unfinished line, kept as chunks so a long line is copied once, not once per chunk.
      let pending: Buffer[] = [];
      const emit = (b: Buffer): Line => {
        n++;
        const end = b.length > 0 && b[b.length - 1] === 0x0d ? b.length - 1 : b.length;
        const d = decodeUtf8(b.subarray(0, end));
        return { n, text: d.valid ? d.text : null };
      };
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        let start = 0;
        let i = chunk.indexOf(0x0a);
        if (i === -1) {
          pending.push(chunk);
          continue;
        }
        if (pending.length) {
          pending.push(chunk.subarray(0, i));
          yield emit(Buffer.concat(pending));
          pending = [];
          start = i + 1;
          i = chunk.indexOf(0x0a, start);
        }
        while (i !== -1) {
          yield emit(chunk.subarray(start, i));
          start = i + 1;
          i = chunk.indexOf(0x0a, start);
        }
        if (start < chunk.length) pending.push(chunk.subarray(start));
      }
      if (pending.length) yield emit(Buffer.concat(pending));
    },
  };
  return reader;
}

/** Lines of an in-memory body (an HTTP response), same contract as readLines. */
export function* bufferLines(body: Buffer): Generator<Line> {
  let n = 0;
  let start = 0;
  while (start < body.length) {
    let i = body.indexOf(0x0a, start);
    if (i === -1) i = body.length;
    n++;
    let end = i;
    if (end > start && body[end - 1] === 0x0d) end--;
    const d = decodeUtf8(body.subarray(start, end));
    yield { n, text: d.valid ? d.text : null };
    start = i + 1;
  }
}
