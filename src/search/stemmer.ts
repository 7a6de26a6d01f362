import Database from 'better-sqlite3';

/**
 * Words → the terms FTS5 indexes them as (porter over unicode61, diacritics removed), computed by
 * SQLite's own tokeniser in a private in-memory database, so document-frequency look-ups and
 * snippet highlighting agree exactly with the index. Opened on first use, one per process.
 */
const TOKENIZE = 'porter unicode61 remove_diacritics 2';
const CACHE_MAX = 200_000;
const BATCH = 400;

let probe: { db: Database.Database; insert: Map<number, Database.Statement>; read: Database.Statement } | undefined;
const cache = new Map<string, string>();

function open(): NonNullable<typeof probe> {
  const db = new Database(':memory:');
  db.exec(`CREATE VIRTUAL TABLE w USING fts5 (t, tokenize = '${TOKENIZE}');
           CREATE VIRTUAL TABLE v USING fts5vocab (w, instance);`);
  return { db, insert: new Map(), read: db.prepare('SELECT term, doc FROM v WHERE "offset" = 0') };
}

/** The indexed term of each word ('' when the tokeniser keeps nothing of it). */
export function stems(words: readonly string[]): string[] {
  const missing = [...new Set(words.filter((w) => !cache.has(w)))];
  if (missing.length) {
    probe ??= open();
    const p = probe;
    const run = p.db.transaction((batch: string[]) => {
      p.db.exec('DELETE FROM w');
      let stmt = p.insert.get(batch.length);
      if (!stmt) {
        stmt = p.db.prepare(`INSERT INTO w (rowid, t) VALUES ${batch.map(() => '(?, ?)').join(',')}`);
        p.insert.set(batch.length, stmt);
      }
      stmt.run(batch.flatMap((w, i) => [i + 1, w]));
      const out = new Map<number, string>();
      for (const r of p.read.all() as { term: string; doc: number }[]) out.set(r.doc, r.term);
      return out;
    });
    if (cache.size + missing.length > CACHE_MAX) cache.clear();
    for (let i = 0; i < missing.length; i += BATCH) {
      const batch = missing.slice(i, i + BATCH);
      const got = run(batch);
      batch.forEach((w, j) => cache.set(w, got.get(j + 1) ?? ''));
    }
  }
  return words.map((w) => cache.get(w) ?? '');
}

export function stem(word: string): string {
  return stems([word])[0] ?? '';
}
