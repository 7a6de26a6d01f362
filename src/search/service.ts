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
import { ftsMatch, needsOr } from './fts-expr.ts';
import { parseQuery, type ParsedQuery } from './query.ts';
import { withoutStopwords } from './stopwords.ts';

export type SearchMode = 'keyword' | 'vector' | 'hybrid' | 'id' | 'filters';

export interface SearchOptions {
  limit?: number | undefined;
  offset?: number | undefined;
  /** How many top results the facet counts cover. */
  facetPool?: number | undefined;
  facets?: boolean | undefined;
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
  let hits: Hit[];
  let match: string | null = null;
  if (!ftsMatch(ranked, { mode: 'and' })) {
    answer.mode = 'filters';
    const r = await filteredHits(sql, filters, limit, offset);
    hits = r.hits;
    answer.total = r.total;
  } else {
    let mode: 'and' | 'or' = needsOr(ranked) ? 'or' : 'and';
    if (mode === 'or' && !query.includes('"')) {
      // Ranked any-word matching for natural-language queries: words joined by
      // hyphens (`low-rank`) count as separate words here (+1 point nDCG@10 on SciFact).
      Object.assign(ranked, { terms: withoutStopwords([...new Set([...ranked.terms, ...ranked.phrases.flat()])]), phrases: [] });
    }
    match = ftsMatch(ranked, { mode })!;
    hits = await keywordHits(sql, match, filters, limit + offset);
    answer.total = await keywordCount(sql, match, filters, TOTAL_CAP);
    const any = mode === 'and' ? ftsMatch(ranked, { mode: 'or' }) : null;
    if (any && any !== match && hits.length < limit + offset) {
      // Papers with every word first, then those with some of them, by BM25.
      const seen = new Set(hits.map((h) => h.id));
      const more = (await keywordHits(sql, any, filters, limit + offset)).filter((h) => !seen.has(h.id));
      if (more.length && hits.length === 0) answer.ignored.push('no paper has all the words: showing papers with any of them');
      const floor = hits.length ? Math.min(...hits.map((h) => h.score)) : 0;
      const top = more.length ? more[0]!.score : 0;
      // Keep the order: every "some words" score is placed below the lowest "all words" score.
      hits = [...hits, ...more.map((h) => ({ id: h.id, score: hits.length ? (floor * h.score) / (top + 1e-9) - 1e-6 : h.score }))];
      mode = hits.length && seen.size ? 'and' : 'or';
      if (!seen.size) match = any;
      answer.total = Math.max(answer.total, await keywordCount(sql, any, filters, TOTAL_CAP));
      if (seen.size) match = any; // snippets highlight every word
    }
    hits = hits.slice(offset, offset + limit);
    answer.match = mode;
  }
  answer.totalCapped = answer.total >= TOTAL_CAP;

  const papers = await papersByIds(sql, hits.map((h) => h.id));
  const snips = match && opts.snippets !== false ? await snippets(sql, match, hits.map((h) => h.id)) : new Map<number, string>();
  answer.results = hits.flatMap((h) => {
    const paper = papers.get(h.id);
    return paper ? [item(paper, h.score, snips.get(h.id))] : [];
  });
  if (opts.facets !== false) {
    const pool = opts.facetPool ?? 500;
    const poolIds = match ? (await keywordHits(sql, match, filters, pool)).map((h) => h.id) : (await filteredHits(sql, filters, pool)).hits.map((h) => h.id);
    answer.facets = await facetCounts(sql, poolIds);
  }
  return answer;
}

function item(p: StoredPaper, score: number, snippet: string | undefined): SearchResultItem {
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
