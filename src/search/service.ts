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
  snippets,
  type Facets,
  type Hit,
  type SearchFilters,
} from '../store/search.ts';
import { ftsExcluded, ftsMatch, needsOr } from './fts-expr.ts';
import { parseQuery, type ParsedQuery } from './query.ts';
import { withoutStopwords } from './stopwords.ts';
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
  /** Search by meaning: whether it took part, and why not when it did not. */
  vector?: { available: boolean; reason?: string; model?: string; candidates?: number } | undefined;
}

const TOTAL_CAP = 10_000;

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
  const pool = opts.facets === false ? want : Math.max(want, opts.facetPool ?? 500);
  let hits: Hit[];
  let match: string | null = null;
  if (!ftsMatch(ranked, { mode: 'and' })) {
    answer.mode = 'filters';
    const exclude = ftsExcluded(ranked);
    const r = await filteredHits(sql, exclude ? { ...filters, exclude } : filters, pool, 0);
    hits = r.hits;
    answer.total = r.total;
  } else {
    let mode: 'and' | 'or' = needsOr(ranked) ? 'or' : 'and';
    if (mode === 'or') await prepareAnyWord(sql, query, ranked, answer.ignored, opts.dfCache);
    match = ftsMatch(ranked, { mode })!;
    hits = await keywordHits(sql, match, filters, pool);
    answer.total = await keywordCount(sql, match, filters, TOTAL_CAP);
    if (mode === 'and' && hits.length === 0) {
      // No paper has every word: rank the papers that have any of them.
      await prepareAnyWord(sql, query, ranked, answer.ignored, opts.dfCache);
      const any = ftsMatch(ranked, { mode: 'or' });
      if (any && any !== match) {
        match = any;
        mode = 'or';
        hits = await keywordHits(sql, match, filters, pool);
        answer.total = await keywordCount(sql, match, filters, TOTAL_CAP);
        if (hits.length) answer.ignored.push('no paper has all the words: showing papers with any of them');
      }
    }
    answer.match = mode;
  }
  answer.totalCapped = answer.total >= TOTAL_CAP;

  const page = hits.slice(offset, offset + limit);
  const papers = await papersByIds(sql, page.map((h) => h.id));
  const snips = match && opts.snippets !== false ? await snippets(sql, match, page.map((h) => h.id)) : new Map<number, string>();
  answer.results = page.flatMap((h) => {
    const paper = papers.get(h.id);
    return paper ? [item(paper, h.score, snips.get(h.id))] : [];
  });
  if (opts.facets !== false) answer.facets = await facetCounts(sql, hits.map((h) => h.id));
  return answer;
}

/** Words in more than this share of papers are left out of any-word ranking (when others remain). */
const COMMON_SHARE = 0.25;
const defaultDfCache = new DfCache();

/**
 * Shapes a query for ranked any-word matching: hyphen-joined words count as
 * separate words (unless the user quoted phrases), and words so common they
 * barely move BM25 are dropped, because scoring them is most of the cost.
 */
async function prepareAnyWord(sql: Sql, query: string, q: ParsedQuery, notes: string[], dfCache = defaultDfCache): Promise<void> {
  if (!query.includes('"')) {
    q.terms = withoutStopwords([...new Set([...q.terms, ...q.phrases.flat()])]);
    q.phrases = [];
  }
  if (q.terms.length < 2) return;
  const size = await corpusSize(sql);
  if (size < 1000) return;
  const df = await dfCache.get(sql, q.terms);
  const common = q.terms.filter((t) => (df.get(t) ?? 0) > size * COMMON_SHARE);
  if (common.length && common.length < q.terms.length) {
    q.terms = q.terms.filter((t) => !common.includes(t));
    notes.push(`very common words not used for ranking: ${common.join(', ')}`);
  }
}

async function corpusSize(sql: Sql): Promise<number> {
  const r = await sql.get<{ n: number | null }>('SELECT MAX(id) AS n FROM papers');
  return r?.n ?? 0;
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
