import type { Sql } from '../db/sql.ts';
import { documentFrequencies } from '../store/similar.ts';

/** Crude English variants, to find a word's indexed (Porter-stemmed) form in the FTS vocabulary. */
export function variants(w: string): string[] {
  const v = [w];
  for (const suf of ['ing', 'ed', 'es', 's', 'ly', 'ation', 'ations', 'ity', 'ness', 'ment', 'ments']) {
    if (w.length > suf.length + 3 && w.endsWith(suf)) v.push(w.slice(0, -suf.length));
  }
  return v;
}

/**
 * Document frequencies of words, looked up in the FTS index and kept for a few
 * minutes per database (FTS5 counts a term's documents by reading its postings).
 */
export class DfCache {
  private readonly cache = new Map<string, { df: number; at: number }>();
  constructor(private readonly ttlMs = 10 * 60_000) {}

  async get(sql: Sql, words: readonly string[], now = Date.now()): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const missing: string[] = [];
    for (const w of words) {
      const c = this.cache.get(w);
      if (c && now - c.at < this.ttlMs) out.set(w, c.df);
      else missing.push(w);
    }
    if (missing.length) {
      const df = await documentFrequencies(sql, [...new Set(missing.flatMap(variants))]);
      for (const w of missing) {
        const d = Math.max(0, ...variants(w).map((x) => df.get(x) ?? 0));
        out.set(w, d);
        if (this.cache.size > 50_000) this.cache.clear();
        this.cache.set(w, { df: d, at: now });
      }
    }
    return out;
  }
}
