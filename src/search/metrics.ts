/** Retrieval metrics over graded relevance judgements (BEIR/TREC conventions). */
export type Qrels = Map<string, Map<string, number>>;

function dcg(gains: number[]): number {
  let s = 0;
  for (let i = 0; i < gains.length; i++) s += (2 ** gains[i]! - 1) / Math.log2(i + 2);
  return s;
}

export function ndcgAt(ranked: readonly string[], rel: Map<string, number>, k: number): number {
  const ideal = [...rel.values()].filter((g) => g > 0).sort((a, b) => b - a).slice(0, k);
  const best = dcg(ideal);
  return best === 0 ? 0 : dcg(ranked.slice(0, k).map((d) => rel.get(d) ?? 0)) / best;
}

export function recallAt(ranked: readonly string[], rel: Map<string, number>, k: number): number {
  const relevant = [...rel].filter(([, g]) => g > 0).map(([d]) => d);
  if (!relevant.length) return 0;
  const top = new Set(ranked.slice(0, k));
  return relevant.filter((d) => top.has(d)).length / relevant.length;
}

export function mrrAt(ranked: readonly string[], rel: Map<string, number>, k: number): number {
  const i = ranked.slice(0, k).findIndex((d) => (rel.get(d) ?? 0) > 0);
  return i === -1 ? 0 : 1 / (i + 1);
}

export function parseQrels(tsv: string): Qrels {
  const q: Qrels = new Map();
  for (const [i, line] of tsv.split(/\r?\n/).entries()) {
    const cols = line.split('\t');
    if (cols.length < 3 || (i === 0 && cols[0] === 'query-id')) continue;
    const [qid, did, score] = cols as [string, string, string];
    const g = Number(score);
    if (!Number.isFinite(g)) continue;
    if (!q.has(qid)) q.set(qid, new Map());
    q.get(qid)!.set(did, g);
  }
  return q;
}
