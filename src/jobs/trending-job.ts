import { recomputeTrending } from '../store/trending.ts';
import type { JobDefinition } from './scheduler.ts';

/**
 * Recomputes every scored paper on its interval: votes' 24-hour counts, changed weights. (Votes
 * and new signals already rescore their papers at once.)
 */
export function trendingJob(intervalMs: number): JobDefinition {
  return {
    name: 'trending',
    intervalMs,
    leaseMs: 30 * 60_000,
    async run(app) {
      const n = await recomputeTrending(app.db, 'all', app.config.trending, app.now());
      return `${n} papers scored`;
    },
  };
}
