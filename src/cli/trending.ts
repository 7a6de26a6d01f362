import type { Command } from 'commander';
import { isWindow, trendingPage, WINDOWS, WINDOW_LABELS } from '../ranking/trending.ts';
import { recomputeTrending } from '../store/trending.ts';
import type { CliContext } from './context.ts';
import { createOutput, fmt, UsageError } from './output.ts';
import { createProgress } from './progress.ts';

export function registerTrending(program: Command, ctx: CliContext): void {
  program
    .command('trending')
    .description('The trending papers of a window, or --recompute every stored score')
    .option('--window <window>', `one of ${WINDOWS.join(', ')}`, 'trending')
    .option('--limit <n>', 'how many papers (1-100)', '20')
    .option('--recompute', 'rebuild every paper\'s stored score (after changing the weights, say)')
    .option('--json', 'print the result as JSON on the last line of stdout')
    .addHelpText(
      'after',
      `
Windows: trending (hot: points decayed by age), day, week, month (the most points among papers
whose trending date falls in the last 1, 7 or 30 days), new (newest first), top (all time).
Weights: PAPERBOY_TRENDING_WEIGHTS (default vote=2,upvote=1,comment=0.5,star=0.5,star_growth=0.1)
and PAPERBOY_TRENDING_HALF_LIFE_HOURS (default 24). See the About page for the formula.`,
    )
    .action(async (flags: { window: string; limit: string; recompute?: boolean; json?: boolean }) => {
      const out = createOutput(flags.json === true);
      if (!isWindow(flags.window)) throw new UsageError(`--window must be one of ${WINDOWS.join(', ')} (got ${JSON.stringify(flags.window)})`);
      const window = flags.window;
      const limit = Number.parseInt(flags.limit, 10);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new UsageError('--limit must be a whole number from 1 to 100');
      await ctx.withApp(async (app) => {
        if (flags.recompute) {
          const progress = createProgress('trending');
          const t = Date.now();
          const n = await recomputeTrending(app.db, 'all', app.config.trending, app.now(), (done, total) => progress.fraction(done, total));
          progress.done();
          out.line(`${fmt(n)} papers scored in ${((Date.now() - t) / 1000).toFixed(1)} s`);
          out.result({ recomputed: n });
          return;
        }
        const page = await trendingPage(app.db, window, { limit, now: app.now(), weights: app.config.trending });
        out.line(`${WINDOW_LABELS[window]}${page.from ? ` (${page.from.slice(0, 10)} to ${page.to?.slice(0, 10)})` : ''}: ${fmt(page.total)} papers`);
        for (const it of page.items) out.line(`${String(it.rank).padStart(3)}. ${it.paper.key.padEnd(12)} ${it.paper.title.slice(0, 90)}\n      ${it.why}`);
        out.result({
          window,
          from: page.from ?? null,
          to: page.to ?? null,
          total: page.total,
          results: page.items.map((it) => ({
            rank: it.rank,
            id: it.paper.key,
            title: it.paper.title,
            points: it.stats.points,
            hot: it.stats.hot,
            trendingAt: it.stats.trendingAt,
            why: it.why,
          })),
        });
      });
    });
}
