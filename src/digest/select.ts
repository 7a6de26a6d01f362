import type { Sql } from '../db/sql.ts';
import { whyLine } from '../ranking/trending.ts';
import { keywordMatch } from '../search/fts-expr.ts';
import { parseQuery } from '../search/query.ts';
import { searchKeyword } from '../search/service.ts';
import { withoutStopwords } from '../search/stopwords.ts';
import { alreadySent } from '../store/digests.ts';
import { matchingAmong } from '../store/search.ts';
import { idsByKeys, papersByIds, type StoredPaper } from '../store/papers.ts';
import type { Subscriber } from '../store/subscribers.ts';
import { latestTrendingAt, listTrending, type TrendingRow } from '../store/trending.ts';
import { nextDate } from './schedule.ts';

export interface SelectedPaper {
  paper: StoredPaper;
  /** One line: "trending: 163 upvotes · ★ 1.2k" or "matches: edge inference". */
  reason: string;
}

const CANDIDATES = 300;
const TOPIC_HITS = 100;

/**
 * What goes into digests, for one run: the trending candidates and each topic's matches are looked
 * up once per (since-date, topic) and shared by every subscriber with the same ones.
 */
export class Selector {
  private readonly trending = new Map<string, Promise<TrendingRow[]>>();
  private readonly topics = new Map<string, Promise<{ id: number; score: number }[]>>();
  private readonly trendingTopics = new Map<string, Promise<Set<number>>>();
  private readonly papers = new Map<number, StoredPaper>();
  private anchor: Promise<string | null> | undefined;

  constructor(private readonly sql: Sql) {}

  /**
   * The day papers count from: the last issue, else two days before this one. When the collection
   * is not current (nothing since), the window ends at the newest activity instead, like the site's.
   */
  private async since(s: Subscriber, issueDate: string): Promise<string> {
    const wanted = s.lastIssueDate ? nextDate(s.lastIssueDate, -1) : nextDate(issueDate, -2);
    this.anchor ??= latestTrendingAt(this.sql);
    const latest = (await this.anchor)?.slice(0, 10);
    return latest && latest < wanted ? nextDate(latest, -2) : wanted;
  }

  private trendingSince(since: string): Promise<TrendingRow[]> {
    let p = this.trending.get(since);
    if (!p) {
      p = listTrending(this.sql, { order: 'hot', since, limit: CANDIDATES });
      this.trending.set(since, p);
    }
    return p;
  }

  private topicHits(topic: string, since: string): Promise<{ id: number; score: number }[]> {
    const key = `${since}\u0000${topic}`;
    let p = this.topics.get(key);
    if (!p) {
      p = (async () => {
        const a = await searchKeyword(this.sql, `${topic} since:${since}`, { limit: TOPIC_HITS, facets: false, snippets: false });
        const ids = await idsByKeys(this.sql, a.results.map((r) => r.id));
        return a.results.flatMap((r) => (ids.has(r.id) ? [{ id: ids.get(r.id)!, score: r.score }] : []));
      })();
      this.topics.set(key, p);
    }
    return p;
  }

  /**
   * Which trending candidates match a topic. Matched directly against the candidates, not through a
   * dated search: papers trend days after submission, so `since:` would miss them.
   */
  private trendingInTopic(topic: string, since: string, cands: readonly TrendingRow[]): Promise<Set<number>> {
    const key = `${since}\u0000${topic}`;
    let p = this.trendingTopics.get(key);
    if (!p) {
      p = (async () => {
        const q = parseQuery(topic);
        const match = keywordMatch({ ...q, terms: withoutStopwords(q.terms) }, { mode: 'and' });
        const ids = cands.map((c) => c.paperId);
        let hits = match ? await matchingAmong(this.sql, match, ids) : new Set(ids);
        if (q.categories.length || q.hasCode !== undefined || q.since || q.until) {
          await this.load([...hits]);
          hits = new Set(
            [...hits].filter((id) => {
              const paper = this.papers.get(id);
              if (!paper) return false;
              const day = paper.submittedAt?.slice(0, 10) ?? '';
              if (q.since && day < q.since) return false;
              if (q.until && day > q.until) return false;
              if (q.hasCode !== undefined && q.hasCode !== paper.links.some((l) => l.kind === 'code')) return false;
              return !q.categories.length || q.categories.some((c) => paper.categories.some((x) => (c.endsWith('.') ? x === c.slice(0, -1) || x.startsWith(c) : x === c)));
            }),
          );
        }
        return hits;
      })();
      this.trendingTopics.set(key, p);
    }
    return p;
  }

  private async load(ids: readonly number[]): Promise<void> {
    const missing = ids.filter((id) => !this.papers.has(id));
    if (missing.length) for (const [id, p] of await papersByIds(this.sql, missing)) this.papers.set(id, p);
  }

  /** The papers for one subscriber's issue, never one already sent to them, at most perDigest. */
  async select(s: Subscriber, issueDate: string): Promise<SelectedPaper[]> {
    const since = await this.since(s, issueDate);
    const cands = await this.trendingSince(since);
    const picked: { id: number; reason: string }[] = [];
    const seen = new Set<number>();
    const take = (id: number, reason: string) => {
      if (seen.has(id)) return;
      seen.add(id);
      picked.push({ id, reason });
    };
    if (!s.topics.length) {
      for (const c of cands) take(c.paperId, `trending: ${whyLine(c)}`);
    } else {
      const inTopic = await Promise.all(s.topics.map((t) => this.trendingInTopic(t, since, cands)));
      for (const c of cands) {
        const t = inTopic.findIndex((set) => set.has(c.paperId));
        if (t >= 0) take(c.paperId, `trending in “${s.topics[t]}”: ${whyLine(c)}`);
      }
      if (s.includeNew) {
        const hits = await Promise.all(s.topics.map((t) => this.topicHits(t, since)));
        // Round-robin over topics, best match first, so every topic gets a say.
        for (let i = 0; i < TOPIC_HITS; i++) {
          for (const [t, h] of hits.entries()) {
            const hit = h[i];
            if (hit) take(hit.id, `new in “${s.topics[t]}”`);
          }
        }
      }
    }
    const sent = await alreadySent(this.sql, s.id, picked.map((p) => p.id));
    const chosen = picked.filter((p) => !sent.has(p.id)).slice(0, s.perDigest);
    await this.load(chosen.map((c) => c.id));
    return chosen.flatMap((c) => {
      const paper = this.papers.get(c.id);
      return paper ? [{ paper, reason: c.reason }] : [];
    });
  }

  /** The papers of a digest selected before (a retry sends the same ones). */
  async reload(paperIds: readonly number[], reasons: ReadonlyMap<number, string> = new Map()): Promise<SelectedPaper[]> {
    await this.load(paperIds);
    return paperIds.flatMap((id) => {
      const paper = this.papers.get(id);
      return paper ? [{ paper, reason: reasons.get(id) ?? '' }] : [];
    });
  }
}
