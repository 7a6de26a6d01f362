/**
 * Trending, as pure functions: no clock, no database.
 *
 * A paper's points add up what people did with it:
 *
 *   points = vote·(votes here) + upvote·(Hugging Face upvotes) + comment·(comments)
 *          + star·log2(1 + GitHub stars) + starGrowth·(stars gained in the last 7 days)
 *
 * and its hotness decays them with age, in the Hacker News / Lobsters family of gravity formulas,
 * written so that it never needs recomputing just because time passes:
 *
 *   hot = log2(1 + points) + hours(since the epoch, at the paper's trending date) / halfLife
 *
 * Sorting by `hot` is sorting by (1 + points) · 2^(−age / halfLife): a paper one half-life older
 * needs twice the points (plus one) to rank level. The trending date is when the paper first drew
 * attention (its first imported signal), else its submission date, else when it was first seen.
 */

export interface TrendingWeights {
  vote: number;
  upvote: number;
  comment: number;
  star: number;
  starGrowth: number;
  halfLifeHours: number;
}

export const DEFAULT_WEIGHTS: Readonly<TrendingWeights> = Object.freeze({
  vote: 2,
  upvote: 1,
  comment: 0.5,
  star: 0.5,
  starGrowth: 0.1,
  halfLifeHours: 24,
});

export interface PaperActivity {
  votes: number;
  upvotes: number;
  comments: number;
  stars: number;
  /** Stars gained over the last 7 days of observations (0 with a single observation). */
  starGrowth: number;
}

const nonNegative = (x: number): number => (Number.isFinite(x) && x > 0 ? x : 0);

export function points(a: PaperActivity, w: TrendingWeights = DEFAULT_WEIGHTS): number {
  return (
    w.vote * nonNegative(a.votes) +
    w.upvote * nonNegative(a.upvotes) +
    w.comment * nonNegative(a.comments) +
    w.star * Math.log2(1 + nonNegative(a.stars)) +
    w.starGrowth * nonNegative(a.starGrowth)
  );
}

export function hotness(pts: number, trendingAtMs: number, halfLifeHours: number): number {
  return Math.log2(1 + nonNegative(pts)) + trendingAtMs / 3_600_000 / halfLifeHours;
}

/** What a paper's points are worth at `nowMs` after decay: (1 + points)·2^(−age/halfLife) − 1. */
export function decayedPoints(hot: number, nowMs: number, halfLifeHours: number): number {
  return Math.max(0, 2 ** (hot - nowMs / 3_600_000 / halfLifeHours) - 1);
}

export interface Observation {
  value: number;
  /** ISO 8601 */
  at: string;
}

/** Latest value and its growth over the `days` before the latest observation. */
export function growth(observations: readonly Observation[], days = 7): { latest: number; growth: number } {
  if (!observations.length) return { latest: 0, growth: 0 };
  const sorted = [...observations].sort((a, b) => a.at.localeCompare(b.at));
  const last = sorted.at(-1)!;
  const from = Date.parse(last.at) - days * 86_400_000;
  const base = sorted.find((o) => Date.parse(o.at) >= from) ?? last;
  return { latest: nonNegative(last.value), growth: nonNegative(last.value - base.value) };
}

/** `vote=2,upvote=1,…` → weights (unknown names are an error; missing ones keep their default). */
export function parseWeights(spec: string | undefined, base: TrendingWeights = DEFAULT_WEIGHTS): TrendingWeights {
  const out = { ...base };
  if (!spec) return out;
  const names: Record<string, keyof TrendingWeights> = {
    vote: 'vote',
    votes: 'vote',
    upvote: 'upvote',
    upvotes: 'upvote',
    comment: 'comment',
    comments: 'comment',
    star: 'star',
    stars: 'star',
    star_growth: 'starGrowth',
    stargrowth: 'starGrowth',
  };
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z_]+)\s*=\s*(\d+(?:\.\d+)?)$/i.exec(part);
    const key = m && names[m[1]!.toLowerCase()];
    if (!m || !key) throw new Error(`expected name=number with names vote, upvote, comment, star, star_growth (got ${JSON.stringify(part)})`);
    out[key] = Number(m[2]);
  }
  return out;
}
