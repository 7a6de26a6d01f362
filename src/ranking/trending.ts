import type { Sql } from '../db/sql.ts';
import { papersByIds, type StoredPaper } from '../store/papers.ts';
import { countPapers, listRecent } from '../store/papers.ts';
import { countTrending, latestTrendingAt, listTrending, trendingOf, type TrendingRow } from '../store/trending.ts';
import { decayedPoints, type TrendingWeights } from './score.ts';

export const WINDOWS = ['trending', 'day', 'week', 'month', 'new', 'top'] as const;
export type TrendingWindow = (typeof WINDOWS)[number];

export const WINDOW_LABELS: Record<TrendingWindow, string> = {
  trending: 'Trending',
  day: 'Today',
  week: 'This week',
  month: 'This month',
  new: 'New',
  top: 'Top',
};

const WINDOW_DAYS: Partial<Record<TrendingWindow, number>> = { day: 1, week: 7, month: 30 };

export function isWindow(s: unknown): s is TrendingWindow {
  return typeof s === 'string' && (WINDOWS as readonly string[]).includes(s);
}

export interface TrendingItem {
  paper: StoredPaper;
  rank: number;
  stats: TrendingRow;
  /** Points left after decay, now. */
  decayed: number;
  /** One line on why the paper is here, e.g. "42 upvotes · 3 votes here · ★ 1.2k (+120 this week)". */
  why: string;
}

export interface TrendingPage {
  window: TrendingWindow;
  /** For day/week/month: the span covered (ISO), ending at the newest activity or now, whichever is earlier. */
  from?: string | undefined;
  to?: string | undefined;
  total: number;
  limit: number;
  offset: number;
  items: TrendingItem[];
}

export function compact(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1).replace(/\.0$/, '')}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e4 ? 0 : 1).replace(/\.0$/, '')}k`;
  return String(Math.round(n));
}

const plural = (n: number, one: string, many = `${one}s`) => `${compact(n)} ${n === 1 ? one : many}`;

export function whyLine(s: TrendingRow): string {
  const parts: string[] = [];
  if (s.upvotes > 0) parts.push(plural(s.upvotes, 'upvote'));
  if (s.votes > 0) parts.push(`${plural(s.votes, 'vote')} here`);
  if (s.comments > 0) parts.push(plural(s.comments, 'comment'));
  if (s.stars > 0) parts.push(`★ ${compact(s.stars)}${s.starGrowth > 0 ? ` (+${compact(s.starGrowth)} this week)` : ''}`);
  return parts.join(' · ') || 'no votes yet';
}

/** A page of trending papers for a window, with each paper's figures and the reason it is here. */
export async function trendingPage(
  sql: Sql,
  window: TrendingWindow,
  opts: { limit: number; offset?: number; now: Date; weights: TrendingWeights },
): Promise<TrendingPage> {
  const limit = Math.max(1, Math.min(opts.limit, 100));
  const offset = Math.max(0, Math.min(opts.offset ?? 0, 10_000));
  const days = WINDOW_DAYS[window];
  let from: string | undefined;
  let to: string | undefined;
  if (days) {
    const latest = await latestTrendingAt(sql);
    const end = Math.min(opts.now.getTime(), latest ? Date.parse(latest) : opts.now.getTime());
    to = new Date(end).toISOString();
    from = new Date(end - days * 86_400_000).toISOString();
  }
  if (window === 'new') {
    // Every paper, newest first by its date (scored or not).
    const [papers, total] = await Promise.all([listRecent(sql, { limit, offset }), countPapers(sql)]);
    const stats = await trendingOf(sql, papers.map((p) => p.id));
    const items = papers.map((paper, i) => {
      const s = stats.get(paper.id) ?? zeroRow(paper);
      return { paper, rank: offset + i + 1, stats: s, decayed: stats.has(paper.id) ? decayedPoints(s.hot, opts.now.getTime(), opts.weights.halfLifeHours) : 0, why: whyLine(s) };
    });
    return { window, total, limit, offset, items };
  }
  const order = window === 'trending' ? 'hot' : 'points';
  const [rows, total] = await Promise.all([listTrending(sql, { order, since: from, limit, offset }), countTrending(sql, order, from)]);
  const papers = await papersByIds(sql, rows.map((r) => r.paperId));
  const items = rows.flatMap((r, i) => {
    const paper = papers.get(r.paperId);
    if (!paper) return [];
    return [{ paper, rank: offset + i + 1, stats: r, decayed: decayedPoints(r.hot, opts.now.getTime(), opts.weights.halfLifeHours), why: whyLine(r) }];
  });
  return { window, from, to, total, limit, offset, items };
}

function zeroRow(p: StoredPaper): TrendingRow {
  return { paperId: p.id, hot: 0, points: 0, trendingAt: p.submittedAt ?? p.createdAt, votes: 0, upvotes: 0, comments: 0, stars: 0, starGrowth: 0 };
}
