import { similarNeighbours } from '../search/similar.ts';
import { papersWithoutSimilar } from '../store/similar.ts';
import type { JobDefinition } from './scheduler.ts';

/** Fills the similar-papers cache ahead of readers, newest papers first, a batch per run. */
export function similarJob(intervalMs = 10 * 60_000, batch = 1000): JobDefinition {
  return {
    name: 'similar',
    intervalMs,
    leaseMs: 30 * 60_000,
    async run(app) {
      const keys = await papersWithoutSimilar(app.db, batch);
      for (const key of keys) await similarNeighbours(app.db, key, { k: 10, now: app.now() });
      return `${keys.length} papers' neighbours computed`;
    },
  };
}
