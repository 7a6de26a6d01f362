import type { Sql } from '../db/sql.ts';

export interface VectorRow {
  paperId: number;
  dims: number;
  vector: Buffer;
  textHash: string;
}

/** Every int8 vector of one model, in id order, in pages (constant memory per page). */
export async function* vectorsOf(sql: Sql, model: string, dims: number, page = 5000): AsyncGenerator<{ paperId: number; vector: Buffer }> {
  let after = 0;
  for (;;) {
    const rows = await sql.all<{ paper_id: number; vector: Buffer }>(
      `SELECT paper_id, vector FROM paper_vectors WHERE model = ? AND dims = ? AND encoding = 'int8' AND paper_id > ? ORDER BY paper_id LIMIT ?`,
      [model, dims, after, page],
    );
    if (!rows.length) return;
    for (const r of rows) yield { paperId: r.paper_id, vector: r.vector };
    after = rows.at(-1)!.paper_id;
  }
}

export interface TextToEmbed {
  id: number;
  title: string;
  abstract: string;
  /** The hash stored with the current vector, if any. */
  storedHash: string | null;
}

/** Papers with no vector for this model, or whose text changed after it was embedded. */
export async function papersToEmbed(sql: Sql, model: string, afterId: number, limit: number): Promise<TextToEmbed[]> {
  const rows = await sql.all<{ id: number; title: string; abstract: string; text_hash: string | null }>(
    `SELECT p.id, p.title, p.abstract, v.text_hash FROM papers p
     LEFT JOIN paper_vectors v ON v.model = ? AND v.paper_id = p.id
     WHERE p.id > ? AND (v.paper_id IS NULL OR p.modified_at > v.embedded_at)
     ORDER BY p.id LIMIT ?`,
    [model, afterId, limit],
  );
  return rows.map((r) => ({ id: r.id, title: r.title, abstract: r.abstract, storedHash: r.text_hash }));
}

export async function countToEmbed(sql: Sql, model: string): Promise<number> {
  const r = await sql.get<{ n: number }>(
    `SELECT COUNT(*) AS n FROM papers p LEFT JOIN paper_vectors v ON v.model = ? AND v.paper_id = p.id
     WHERE v.paper_id IS NULL OR p.modified_at > v.embedded_at`,
    [model],
  );
  return r?.n ?? 0;
}

export async function saveVectors(sql: Sql, model: string, rows: readonly VectorRow[], at: string): Promise<void> {
  await sql.tx(async (tx) => {
    for (const r of rows) {
      await tx.run(
        `INSERT INTO paper_vectors (model, paper_id, dims, encoding, vector, text_hash, embedded_at) VALUES (?, ?, ?, 'int8', ?, ?, ?)
         ON CONFLICT (model, paper_id) DO UPDATE SET dims = excluded.dims, encoding = excluded.encoding, vector = excluded.vector,
           text_hash = excluded.text_hash, embedded_at = excluded.embedded_at`,
        [model, r.paperId, r.dims, r.vector, r.textHash, at],
      );
    }
  });
}

/** Marks papers whose text is unchanged as embedded now (their vector stays). */
export async function touchVectors(sql: Sql, model: string, ids: readonly number[], at: string): Promise<void> {
  if (!ids.length) return;
  await sql.run(`UPDATE paper_vectors SET embedded_at = ? WHERE model = ? AND paper_id IN (${ids.map(() => '?').join(',')})`, [at, model, ...ids]);
}

/** A changed model re-embeds everything: vectors of every other model are dropped. */
export async function deleteOtherModels(sql: Sql, model: string): Promise<number> {
  return (await sql.run('DELETE FROM paper_vectors WHERE model != ?', [model])).changes;
}

export async function vectorModels(sql: Sql): Promise<{ model: string; dims: number; n: number }[]> {
  return sql.all('SELECT model, dims, COUNT(*) AS n FROM paper_vectors GROUP BY model, dims ORDER BY n DESC');
}

export async function storedDims(sql: Sql, model: string): Promise<number | undefined> {
  const r = await sql.get<{ dims: number }>('SELECT dims FROM paper_vectors WHERE model = ? LIMIT 1', [model]);
  return r?.dims;
}
