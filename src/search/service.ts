import type { Sql } from '../db/sql.ts';
import { escapeHtml } from '../web/html.ts';
import { getPaper, papersByIds, type StoredPaper } from '../store/papers.ts';
import {
  facets as facetCounts,
  filteredHits,
  keywordCount,
  keywordHits,
  MARK_END,
  MARK_START,
  maxPaperId,
  type Facets,
  type Hit,
  type KeywordMatch,
  type SearchFilters,
} from '../store/search.ts';
import { keywordExcluded, keywordMatch, needsOr } from './fts-expr.ts';
import { parseQuery, type ParsedQuery } from './query.ts';
import { withoutStopwords } from './stopwords.ts';
import { highlightOf, snippetsOf } from './snippet.ts';
import { DfCache } from './terms.ts';

export type SearchMode = 'keyword' | 'vector' | 'hybrid' | 'id' | 'filters';

export interface SearchOptions {
  limit?: number | undefined;
  offset?: number | undefined;
  /** How many top results the facet counts cover. */
  facetPool?: number | undefined;
  facets?: boolean | undefined;
  /** Document-frequency cache (one per process by default). */
  dfCache?: DfCache | undefined;
  snippets?: boolean | undefined;
  /**
   * Ranking work allowed per query, in postings (documents scored); default max(20,000, 10% of
   * the corpus). Beyond it, any-word queries drop their commonest words and the rest rank among
   * the newest papers (see `scope` in the answer).
   */
  budget?: number | undefined;
}

export interface SearchResultItem {
  id: string;
  title: string;
  authors: string[];
  /** The abstract around the matched words, HTML-escaped, with <mark> around each match. */
  snippet: string;
  score: number;
  categories: string[];
  submittedAt: string | null;
  updatedAt: string | null;
  links: StoredPaper['links'];
}

export interface SearchAnswer {
  query: string;
  mode: SearchMode;
  /** Keyword matching: all words required ('and') or any word, ranked ('or'). */
  match?: 'and' | 'or' | undefined;
  total: number;
  /** True when total was capped (there are at least that many). */
  totalCapped: boolean;
  limit: number;
  offset: number;
  results: SearchResultItem[];
  facets: Facets;
  ignored: string[];
  /**
   * Set when the words are so common that ranking every match would be slow: ranking covered
   * the `newest` papers only (numbered by arrival), out of `of`.
   */
  scope?: { newest: number; of: number } | undefined;
  /** Search by meaning: whether it took part, and why not when it did not. */
  vector?: { available: boolean; reason?: string; model?: string; candidates?: number } | undefined;
}

const TOTAL_CAP = 10_000;
/** Below this many papers, every query ranks every match. */
const SMALL_CORPUS = 1000;

export function defaultBudget(corpusSize: number): number {
  return Math.max(20_000, Math.round(corpusSize * 0.1));
}

function filtersOf(p: ParsedQuery): SearchFilters {
  return { categories: p.categories, since: p.since, until: p.until, hasCode: p.hasCode };
}

/** Escapes the snippet, then turns the private-use markers into <mark>. */
export function snippetHtml(s: string): string {
  return escapeHtml(s).replaceAll(MARK_START, '<mark>').replaceAll(MARK_END, '</mark>');
}

function firstWords(text: string, n = 40): string {
  const words = text.split(/\s+/);
  return words.length > n ? `${words.slice(0, n).join(' ')}…` : text;
}

/**
 * Keyword search with the query language. Short queries need every word and
 * fall back to any word when nothing has them all; long natural-language
 * queries rank any word by BM25 from the start.
 */
export async function searchKeyword(sql: Sql, query: string, opts: SearchOptions = {}): Promise<SearchAnswer> {
  const limit = Math.max(1, Math.min(opts.limit ?? 20, 100));
  const offset = Math.max(0, Math.min(opts.offset ?? 0, 10_000));
  const p = parseQuery(query);
  const answer: SearchAnswer = {
    query,
    mode: 'keyword',
    total: 0,
    totalCapped: false,
    limit,
    offset,
    results: [],
    facets: { categories: [], years: [], hasCode: 0 },
    ignored: [...p.ignored],
  };

  if (p.arxivId) {
    const paper = await getPaper(sql, p.arxivId);
    answer.mode = 'id';
    if (paper) {
      answer.total = 1;
      answer.results = offset === 0 ? [item(paper, 1, undefined)] : [];
    }
    return answer;
  }

  const filters = filtersOf(p);
  const ranked: ParsedQuery = { ...p, terms: withoutStopwords(p.terms) };
  // One ranking query feeds both the page and the facet counts.
  const want = limit + offset;
  const pool = opts.facets === false ? want : Math.max(want, opts.facetPool ?? 200);
  const dfCache = opts.dfCache ?? defaultDfCache;
  let hits: Hit[];
  if (!keywordMatch(ranked, { mode: 'and' })) {
    answer.mode = 'filters';
    const exclude = keywordExcluded(ranked);
    const r = await filteredHits(sql, exclude ? { ...filters, exclude } : filters, pool, 0);
    hits = r.hits;
    answer.total = r.total;
    answer.totalCapped = answer.total >= TOTAL_CAP;
  } else {
    const size = await maxPaperId(sql);
    const plan: Plan = { size, budget: opts.budget ?? defaultBudget(size), filters, want, pool, dfCache };
    let mode: 'and' | 'or' = needsOr(ranked) ? 'or' : 'and';
    if (mode === 'or') await prepareAnyWord(sql, query, ranked, answer.ignored, plan);
    let r = await rank(sql, ranked, mode, plan);
    if (mode === 'and' && r.hits.length === 0) {
      // No paper has every word: rank the papers that have any of them.
      const any: ParsedQuery = { ...ranked };
      const notes: string[] = [];
      await prepareAnyWord(sql, query, any, notes, plan);
      if (keywordMatch(any, { mode: 'or' })?.fts !== r.match.fts) {
        const o = await rank(sql, any, 'or', plan);
        if (o.hits.length) {
          mode = 'or';
          r = o;
          answer.ignored.push(...notes, 'no paper has all the words: showing papers with any of them');
        }
      }
    }
    hits = r.hits;
    answer.match = mode;
    if (r.window) {
      answer.scope = { newest: r.window, of: size };
      answer.ignored.push(`very common words: ranked among the newest ${r.window.toLocaleString('en-US')} papers`);
    }
    if (!r.window && hits.length < pool && !hasFilter(filters)) {
      answer.total = hits.length;
    } else {
      const c = await keywordCount(sql, r.match, filters, TOTAL_CAP);
      answer.total = Math.max(c.total, hits.length);
      answer.totalCapped = c.capped;
    }
  }

  const page = hits.slice(offset, offset + limit);
  const papers = await papersByIds(sql, page.map((h) => h.id));
  const found = page.flatMap((h) => {
    const paper = papers.get(h.id);
    return paper ? [{ paper, score: h.score }] : [];
  });
  const snips =
    answer.mode === 'keyword' && opts.snippets !== false
      ? snippetsOf(
          found.map((f) => f.paper.abstract),
          highlightOf(withoutStopwords([...p.terms, ...p.phrases.flat()]), p.prefixes),
        )
      : [];
  answer.results = found.map((f, i) => item(f.paper, f.score, snips[i]));
  if (opts.facets !== false) answer.facets = await facetCounts(sql, hits.map((h) => h.id));
  return answer;
}

interface Plan {
  size: number;
  budget: number;
  filters: SearchFilters;
  want: number;
  pool: number;
  dfCache: DfCache;
}

const hasFilter = (f: SearchFilters) => Boolean(f.categories?.length || f.since || f.until || f.hasCode !== undefined);

/**
 * Ranks the matches of q. When scoring them all would exceed the budget, ranks only the newest
 * papers, as many as the budget allows; if that does not fill the page, ranks everything.
 */
async function rank(sql: Sql, q: ParsedQuery, mode: 'and' | 'or', plan: Plan): Promise<{ hits: Hit[]; match: KeywordMatch; window?: number }> {
  const match = keywordMatch(q, { mode })!;
  const cost = plan.size < SMALL_CORPUS ? 0 : await estimateCost(sql, q, mode, plan);
  if (cost > plan.budget) {
    const window = Math.ceil((plan.size * plan.budget) / cost);
    const hits = await keywordHits(sql, match, plan.filters, plan.pool, 0, { afterRowid: plan.size - window });
    if (hits.length >= plan.want) return { hits, match, window };
  }
  return { hits: await keywordHits(sql, match, plan.filters, plan.pool), match };
}

/** Postings FTS5 would score: the rarest required item (all words) or the sum (any word). */
async function estimateCost(sql: Sql, q: ParsedQuery, mode: 'and' | 'or', plan: Plan): Promise<number> {
  const n = q.terms.length + q.phrases.length + q.prefixes.length;
  const factor = 1 + 0.5 * (n - 1) + 0.5 * q.phrases.length;
  // No word can be in more papers than there are: often no look-up is needed to know it fits.
  if (plan.size * (mode === 'and' ? factor : n) <= plan.budget) return 0;
  const { dfCache } = plan;
  const words = [...q.terms, ...q.phrases.flat()];
  const df = await dfCache.get(sql, words);
  const items = [
    ...q.terms.map((t) => df.get(t) ?? 0),
    ...q.phrases.map((ws) => Math.min(...ws.map((w) => df.get(w) ?? 0))),
    ...(await Promise.all(q.prefixes.map((x) => dfCache.prefix(sql, x)))),
  ];
  if (!items.length) return 0;
  if (mode === 'or') return items.reduce((a, b) => a + b, 0);
  // Every match is scored once per item, and a phrase checks positions: more work per match.
  return Math.min(...items) * factor;
}

/** Words in more than this share of papers are left out of any-word ranking (when others remain). */
const COMMON_SHARE = 0.25;
const defaultDfCache = new DfCache();

/**
 * Shapes a query for ranked any-word matching: hyphen-joined words count as
 * separate words (unless the user quoted phrases), and words so common they
 * barely move BM25 are dropped, because scoring them is most of the cost.
 */
async function prepareAnyWord(sql: Sql, query: string, q: ParsedQuery, notes: string[], plan: Plan): Promise<void> {
  if (!query.includes('"')) {
    q.terms = withoutStopwords([...new Set([...q.terms, ...q.phrases.flat()])]);
    q.phrases = [];
  }
  if (q.terms.length < 2 || plan.size < SMALL_CORPUS) return;
  const df = await plan.dfCache.get(sql, q.terms);
  const dfOf = (t: string) => df.get(t) ?? 0;
  const common = q.terms.filter((t) => dfOf(t) > plan.size * COMMON_SHARE);
  // Then the commonest words go until the rest fit the budget (the rarest always stays).
  const kept = q.terms.filter((t) => !common.includes(t)).sort((a, b) => dfOf(a) - dfOf(b));
  let sum = (await estimateCost(sql, { ...q, terms: [] }, 'or', { ...plan, size: Infinity })) + kept.reduce((a, t) => a + dfOf(t), 0);
  while (kept.length > 1 && sum > plan.budget) sum -= dfOf(kept.pop()!);
  const dropped = q.terms.filter((t) => !kept.includes(t));
  if (dropped.length && kept.length) {
    q.terms = q.terms.filter((t) => kept.includes(t));
    notes.push(`very common words not used for ranking: ${dropped.join(', ')}`);
  }
}

export function item(p: StoredPaper, score: number, snippet: string | undefined): SearchResultItem {
  return {
    id: p.key,
    title: p.title,
    authors: p.authors,
    snippet: snippet ? snippetHtml(snippet) : escapeHtml(firstWords(p.abstract)),
    score: Math.round(score * 1e4) / 1e4,
    categories: p.categories,
    submittedAt: p.submittedAt,
    updatedAt: p.updatedAt,
    links: p.links,
  };
}
