import type { Sql } from '../db/sql.ts';
import { upsertPaper, type Outcome } from '../store/papers.ts';
import { normalise } from './normalise.ts';
import type { Incoming } from './paper.ts';
import type { ParseItem } from './record.ts';

export interface SkipReason {
  where: string;
  reason: string;
}

export interface IngestSummary {
  read: number;
  new: number;
  updated: number;
  unchanged: number;
  /** Invalid records plus records outside the requested filters. */
  skipped: number;
  /** Of the skipped: records left out by --categories/--since filters (not errors). */
  filtered: number;
  /** The first few reasons, each with the file:line or record it came from. */
  errors: SkipReason[];
  /** Failures of the run itself (a fetch that failed, an API error feed). */
  failures: SkipReason[];
}

export function emptySummary(): IngestSummary {
  return { read: 0, new: 0, updated: 0, unchanged: 0, skipped: 0, filtered: 0, errors: [], failures: [] };
}

/** What a source yields: parsed items, and 'filtered' marks for records outside the filters. */
export type SourceItem = ParseItem | { filtered: true; where: string };

export interface IngestOptions {
  sql: Sql;
  source: string;
  items: AsyncIterable<SourceItem> | Iterable<SourceItem>;
  batchSize?: number;
  maxErrors?: number;
  now?: () => Date;
  onProgress?: (s: Readonly<IngestSummary>) => void;
  /** Called for every skip, for logs. */
  onSkip?: (s: SkipReason) => void;
}

/** Raised by a source for a failure of the whole run; the pipeline records it and goes on with what it has. */
export class SourceError extends Error {
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(message);
    this.name = 'SourceError';
  }
}

/**
 * Parse → normalise → merge into the store, in batches of one transaction each.
 * Every record is accounted for: read = new + updated + unchanged + skipped.
 */
export async function ingest(opts: IngestOptions): Promise<IngestSummary> {
  const { sql, source } = opts;
  const batchSize = opts.batchSize ?? 1000;
  const maxErrors = opts.maxErrors ?? 20;
  const now = opts.now ?? (() => new Date());
  const s = emptySummary();
  let batch: Incoming[] = [];

  const noteSkip = (where: string, reason: string) => {
    s.skipped++;
    if (s.errors.length < maxErrors) s.errors.push({ where, reason });
    opts.onSkip?.({ where, reason });
  };

  const flush = async () => {
    if (batch.length === 0) return;
    const todo = batch;
    batch = [];
    const stamp = now().toISOString();
    const outcomes = await sql.tx(async (tx) => {
      const out: Outcome[] = [];
      for (const rec of todo) out.push(await upsertPaper(tx, source, rec, stamp));
      return out;
    });
    for (const o of outcomes) s[o]++;
    opts.onProgress?.(s);
  };

  try {
    for await (const it of opts.items) {
      s.read++;
      if ('filtered' in it) {
        s.skipped++;
        s.filtered++;
      } else if (!it.ok) {
        noteSkip(it.where, it.reason);
      } else {
        const n = normalise(it.where, it.record);
        if (n.ok) batch.push(n.value);
        else noteSkip(it.where, n.reason);
      }
      if (batch.length >= batchSize) await flush();
      else if ((s.read & 1023) === 0) opts.onProgress?.(s);
    }
  } catch (err) {
    if (!(err instanceof SourceError)) {
      await flush();
      throw err;
    }
    s.failures.push({ where: err.where, reason: err.message });
  }
  await flush();
  opts.onProgress?.(s);
  return s;
}
