import type { Sql } from '../db/sql.ts';
import { pgPrefixFrequency, pgWordFrequencies } from '../store/search-pg.ts';
import { documentFrequencies, prefixFrequency } from '../store/similar.ts';
import { stems } from './stemmer.ts';

/**
 * Document frequencies of words and prefixes, looked up in the FTS index under the exact terms it
 * indexes (SQLite's own Porter stemmer, see stemmer.ts), kept for a few minutes per process.
 * A prefix's figure is the sum over the terms it expands to: an upper bound on its documents.
 * On PostgreSQL the figures come from the postings table, under its own (Snowball) stems.
 */
export class DfCache {
  private readonly cache = new Map<string, { df: number; at: number }>();
  constructor(private readonly ttlMs = 10 * 60_000) {}

  private fresh(key: string, now: number): number | undefined {
    const c = this.cache.get(key);
    return c && now - c.at < this.ttlMs ? c.df : undefined;
  }

  private keep(key: string, df: number, now: number): void {
    if (this.cache.size > 50_000) this.cache.clear();
    this.cache.set(key, { df, at: now });
  }

  async get(sql: Sql, words: readonly string[], now = Date.now()): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const missing: string[] = [];
    for (const w of words) {
      const d = this.fresh(`w:${w}`, now);
      if (d === undefined) missing.push(w);
      else out.set(w, d);
    }
    if (missing.length && sql.dialect === 'postgres') {
      const df = await pgWordFrequencies(sql, missing);
      for (const w of missing) {
        out.set(w, df.get(w) ?? 0);
        this.keep(`w:${w}`, df.get(w) ?? 0, now);
      }
    } else if (missing.length) {
      const terms = stems(missing);
      const df = await documentFrequencies(sql, [...new Set(terms.filter(Boolean))]);
      missing.forEach((w, i) => {
        const d = df.get(terms[i]!) ?? 0;
        out.set(w, d);
        this.keep(`w:${w}`, d, now);
      });
    }
    return out;
  }

  async prefix(sql: Sql, prefix: string, now = Date.now()): Promise<number> {
    const cached = this.fresh(`p:${prefix}`, now);
    if (cached !== undefined) return cached;
    // FTS5 runs the tokeniser over a prefix too (`trans*` looks up terms starting with `tran`).
    const d = sql.dialect === 'postgres' ? await pgPrefixFrequency(sql, prefix) : await prefixFrequency(sql, stems([prefix])[0] || prefix);
    this.keep(`p:${prefix}`, d, now);
    return d;
  }
}
