import { createHash } from 'node:crypto';
import type { Sql } from '../db/sql.ts';
import { countToEmbed, deleteOtherModels, papersToEmbed, saveVectors, storedDims, touchVectors, vectorsOf } from '../store/vectors.ts';
import type { Embedder } from './embed/embedder.ts';
import { decodeInt8, encodeVector, VectorIndex, type SearchHit } from './vectors.ts';

export function embeddingText(p: { title: string; abstract: string }): string {
  return `${p.title}\n\n${p.abstract}`.slice(0, 4000);
}

function hashText(s: string): string {
  return createHash('sha256').update(s).digest('base64url').slice(0, 22);
}

/**
 * The in-memory vector index of one embedding model, loaded from the database
 * and kept up to date as this process embeds papers.
 */
export class SemanticIndex {
  private index: VectorIndex | undefined;
  private loading: Promise<void> | undefined;

  constructor(readonly embedder: Embedder) {}

  get size(): number {
    return this.index?.size ?? 0;
  }

  /** Loads the stored vectors of this model (once). */
  async load(sql: Sql): Promise<void> {
    this.loading ??= (async () => {
      const dims = this.embedder.dims ?? (await storedDims(sql, this.embedder.id));
      if (!dims) return;
      const index = new VectorIndex(dims);
      for await (const r of vectorsOf(sql, this.embedder.id, dims)) {
        const q = decodeInt8(r.vector, dims);
        index.addQuantized(r.paperId, q.q, q.scale);
      }
      this.index = index;
    })();
    await this.loading;
  }

  private ensure(dims: number): VectorIndex {
    this.index ??= new VectorIndex(dims);
    return this.index;
  }

  async search(sql: Sql, query: string, k: number): Promise<SearchHit[]> {
    await this.load(sql);
    const [v] = await this.embedder.embed([query], 'query');
    if (!v || !this.index || this.index.size === 0) return [];
    return this.index.search(v, k);
  }

  /** The papers nearest to a paper's own stored vector (itself left out); undefined when it has none. */
  async neighbours(sql: Sql, paperId: number, k: number): Promise<SearchHit[] | undefined> {
    await this.load(sql);
    const v = this.index?.get(paperId);
    if (!v || !this.index) return undefined;
    return this.index.search(v, k, (id) => id !== paperId);
  }

  /**
   * Embeds every paper that has no vector for this model (or whose text
   * changed), in batches, and drops other models' vectors: never a mix.
   */
  async embedMissing(sql: Sql, opts: { batchSize?: number; now?: () => Date; onProgress?: (done: number, total: number) => void } = {}): Promise<{ embedded: number; unchanged: number; dropped: number }> {
    await this.load(sql);
    const model = this.embedder.id;
    const now = opts.now ?? (() => new Date());
    const batchSize = opts.batchSize ?? 64;
    const total = await countToEmbed(sql, model);
    let after = 0;
    let embedded = 0;
    let unchanged = 0;
    for (;;) {
      const papers = await papersToEmbed(sql, model, after, batchSize);
      if (!papers.length) break;
      after = papers.at(-1)!.id;
      const texts = papers.map(embeddingText);
      const hashes = texts.map(hashText);
      const todo = papers.map((p, i) => ({ p, text: texts[i]!, hash: hashes[i]! })).filter((x) => x.hash !== x.p.storedHash);
      const same = papers.filter((p, i) => p.storedHash === hashes[i]).map((p) => p.id);
      const stamp = now().toISOString();
      if (todo.length) {
        const vectors = await this.embedder.embed(todo.map((x) => x.text), 'document');
        const dims = vectors[0]!.length;
        const index = this.ensure(dims);
        await saveVectors(
          sql,
          model,
          todo.map((x, i) => ({ paperId: x.p.id, dims, vector: encodeVector(vectors[i]!, 'int8'), textHash: x.hash })),
          stamp,
        );
        todo.forEach((x, i) => index.add(x.p.id, vectors[i]!));
        embedded += todo.length;
      }
      await touchVectors(sql, model, same, stamp);
      unchanged += same.length;
      opts.onProgress?.(embedded + unchanged, total);
    }
    const dropped = await deleteOtherModels(sql, model);
    return { embedded, unchanged, dropped };
  }
}
