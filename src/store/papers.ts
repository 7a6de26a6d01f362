import type { Param, Sql } from '../db/sql.ts';
import { mergePapers, samePaper } from '../ingest/merge.ts';
import type { Incoming, Paper } from '../ingest/paper.ts';

export type Outcome = 'new' | 'updated' | 'unchanged';

interface PaperRow {
  id: number;
  key: string;
  arxiv_id: string | null;
  doi: string | null;
  title_key: string;
  title: string;
  abstract: string;
  authors: string;
  categories: string;
  primary_category: string | null;
  submitted_at: string | null;
  updated_at: string | null;
  version: number;
  versions: string;
  journal_ref: string | null;
  comments: string | null;
  links: string;
  created_at: string;
  modified_at: string;
}

export interface StoredPaper extends Paper {
  id: number;
  createdAt: string;
  modifiedAt: string;
}

const COLUMNS =
  'id, key, arxiv_id, doi, title_key, title, abstract, authors, categories, primary_category, submitted_at, updated_at, version, versions, journal_ref, comments, links, created_at, modified_at';

function parseJson<T>(s: string, fallback: T): T {
  try {
    return JSON.parse(s) as T;
  } catch {
    return fallback;
  }
}

function fromRow(r: PaperRow): StoredPaper {
  return {
    id: r.id,
    key: r.key,
    arxivId: r.arxiv_id,
    doi: r.doi,
    titleKey: r.title_key,
    title: r.title,
    abstract: r.abstract,
    authors: parseJson(r.authors, []),
    categories: parseJson(r.categories, []),
    submittedAt: r.submitted_at,
    updatedAt: r.updated_at,
    version: r.version,
    versions: parseJson(r.versions, []),
    journalRef: r.journal_ref,
    comments: r.comments,
    links: parseJson(r.links, []),
    createdAt: r.created_at,
    modifiedAt: r.modified_at,
  };
}

/** The papers row's content columns, in INSERT order (also used by the ingest benchmark's baseline). */
export function toParams(p: Paper): Param[] {
  return [
    p.key,
    p.arxivId,
    p.doi,
    p.titleKey,
    p.title,
    p.abstract,
    JSON.stringify(p.authors),
    JSON.stringify(p.categories),
    p.categories[0] ?? null,
    p.submittedAt,
    p.updatedAt,
    p.version,
    JSON.stringify(p.versions),
    p.journalRef,
    p.comments,
    JSON.stringify(p.links),
  ];
}

/** Titles shorter than this are too generic to identify a paper on their own. */
const MIN_TITLE_KEY = 12;

const BY_ARXIV = `SELECT ${COLUMNS} FROM papers WHERE arxiv_id = ?`;
// With an arXiv id, only records without one may match by DOI or title (never join two arXiv ids).
// Split per case so the (doi, arxiv_id) and (title_key, arxiv_id) indexes answer without reading rows.
const BY_DOI_ANY = `SELECT ${COLUMNS} FROM papers WHERE doi = ? ORDER BY id LIMIT 1`;
const BY_DOI_NO_ARXIV = `SELECT ${COLUMNS} FROM papers WHERE doi = ? AND arxiv_id IS NULL ORDER BY id LIMIT 1`;
const BY_TITLE_ANY = `SELECT ${COLUMNS} FROM papers WHERE title_key = ? ORDER BY id LIMIT 1`;
const BY_TITLE_NO_ARXIV = `SELECT ${COLUMNS} FROM papers WHERE title_key = ? AND arxiv_id IS NULL ORDER BY id LIMIT 1`;
const BY_KEY = `SELECT ${COLUMNS} FROM papers WHERE key = ?`;

/**
 * Finds the stored paper an incoming one is the same as: by arXiv id, else by
 * DOI, else by normalised title — but never joins two different arXiv ids.
 */
async function findMatch(sql: Sql, p: Paper): Promise<StoredPaper | undefined> {
  const hasArxiv = p.arxivId !== null;
  let row: PaperRow | undefined;
  if (hasArxiv) row = await sql.get<PaperRow>(BY_ARXIV, [p.arxivId]);
  if (!row && p.doi) row = await sql.get<PaperRow>(hasArxiv ? BY_DOI_NO_ARXIV : BY_DOI_ANY, [p.doi]);
  if (!row && p.titleKey.length >= MIN_TITLE_KEY) {
    row = await sql.get<PaperRow>(hasArxiv ? BY_TITLE_NO_ARXIV : BY_TITLE_ANY, [p.titleKey]);
  }
  // Without an arXiv id the key is derived from the DOI or title: a short title can still collide.
  if (!row && !hasArxiv) row = await sql.get<PaperRow>(BY_KEY, [p.key]);
  return row ? fromRow(row) : undefined;
}

const INSERT_PAPER = `INSERT INTO papers (key, arxiv_id, doi, title_key, title, abstract, authors, categories, primary_category,
  submitted_at, updated_at, version, versions, journal_ref, comments, links, created_at, modified_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`;

const UPDATE_PAPER = `UPDATE papers SET key = ?, arxiv_id = ?, doi = ?, title_key = ?, title = ?, abstract = ?, authors = ?,
  categories = ?, primary_category = ?, submitted_at = ?, updated_at = ?, version = ?, versions = ?, journal_ref = ?,
  comments = ?, links = ?, modified_at = ? WHERE id = ?`;

/**
 * Stores one incoming record: inserts it, merges it into the paper it matches,
 * and adds its signal observations to the history. Run inside a transaction.
 */
export async function upsertPaper(sql: Sql, source: string, rec: Incoming, now: string): Promise<Outcome> {
  const existing = await findMatch(sql, rec.paper);
  let paperId: number;
  let outcome: Outcome;
  if (!existing) {
    const row = await sql.get<{ id: number }>(INSERT_PAPER, [...toParams(rec.paper), now, now]);
    paperId = row!.id;
    outcome = 'new';
  } else {
    paperId = existing.id;
    const merged = mergePapers(existing, rec.paper);
    if (samePaper(existing, merged)) {
      outcome = 'unchanged';
    } else {
      await sql.run(UPDATE_PAPER, [...toParams(merged), now, paperId]);
      outcome = 'updated';
    }
  }
  await sql.run('INSERT INTO paper_sources (paper_id, source, first_seen_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [
    paperId,
    source,
    now,
  ]);
  let added = 0;
  for (const s of rec.signals) {
    const r = await sql.run(
      'INSERT INTO signals (paper_id, source, name, value, observed_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      [paperId, source, s.name, s.value, s.observedAt],
    );
    added += r.changes;
  }
  if (outcome === 'unchanged' && added > 0) outcome = 'updated';
  return outcome;
}

export async function getPaper(sql: Sql, key: string): Promise<StoredPaper | undefined> {
  const row = await sql.get<PaperRow>(`SELECT ${COLUMNS} FROM papers WHERE key = ? OR arxiv_id = ?`, [key, key]);
  return row ? fromRow(row) : undefined;
}

export interface ListOptions {
  limit: number;
  offset?: number;
}

/** Newest first by submission date; papers without a date last. */
export async function listRecent(sql: Sql, opts: ListOptions): Promise<StoredPaper[]> {
  const rows = await sql.all<PaperRow>(
    `SELECT ${COLUMNS} FROM papers ORDER BY submitted_at DESC NULLS LAST, id DESC LIMIT ? OFFSET ?`,
    [opts.limit, opts.offset ?? 0],
  );
  return rows.map(fromRow);
}

export interface SignalPoint {
  source: string;
  name: string;
  value: number;
  observedAt: string;
}

export async function signalHistory(sql: Sql, paperId: number): Promise<SignalPoint[]> {
  return sql.all<SignalPoint>(
    'SELECT source, name, value, observed_at AS "observedAt" FROM signals WHERE paper_id = ? ORDER BY name, observed_at',
    [paperId],
  );
}

export async function countPapers(sql: Sql): Promise<number> {
  const r = await sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM papers');
  return Number(r?.n ?? 0);
}

/** Papers by internal id, in one query per 500 ids. */
export async function papersByIds(sql: Sql, ids: readonly number[]): Promise<Map<number, StoredPaper>> {
  const out = new Map<number, StoredPaper>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const rows = await sql.all<PaperRow>(`SELECT ${COLUMNS} FROM papers WHERE id IN (${chunk.map(() => '?').join(',')})`, chunk);
    for (const r of rows) out.set(r.id, fromRow(r));
  }
  return out;
}

/** What a list of links to papers shows: title and authors. */
export type PaperCard = Pick<StoredPaper, 'id' | 'key' | 'title' | 'authors'>;

/** Cards of papers by internal id: only the columns a link list needs (no abstract to read). */
export async function paperCards(sql: Sql, ids: readonly number[]): Promise<Map<number, PaperCard>> {
  const out = new Map<number, PaperCard>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const rows = await sql.all<{ id: number; key: string; title: string; authors: string }>(
      `SELECT id, key, title, authors FROM papers WHERE id IN (${chunk.map(() => '?').join(',')})`,
      chunk,
    );
    for (const r of rows) out.set(r.id, { id: r.id, key: r.key, title: r.title, authors: parseJson(r.authors, []) });
  }
  return out;
}

/** Internal ids of papers by public key. */
export async function idsByKeys(sql: Sql, keys: readonly string[]): Promise<Map<string, number>> {
  if (!keys.length) return new Map();
  const rows = await sql.all<{ id: number; key: string }>(`SELECT id, key FROM papers WHERE key IN (${keys.map(() => '?').join(',')})`, keys);
  return new Map(rows.map((r) => [r.key, r.id]));
}

/** Papers in a category (exact, or any subject of an archive given as `cs.`), newest first. */
export async function papersInCategory(sql: Sql, category: string, limit: number, offset: number): Promise<StoredPaper[]> {
  const like = category.endsWith('.') ? `%"${category}%` : `%"${category}"%`;
  const rows = await sql.all<PaperRow>(
    `SELECT ${COLUMNS} FROM papers WHERE categories LIKE ? ORDER BY submitted_at DESC NULLS LAST, id DESC LIMIT ? OFFSET ?`,
    [like, limit, offset],
  );
  return rows.map(fromRow);
}

/** The most used categories, for the search filter. */
export async function topCategories(sql: Sql, limit: number): Promise<string[]> {
  const rows = await sql.all<{ primary_category: string; n: number }>(
    'SELECT primary_category, COUNT(*) AS n FROM papers WHERE primary_category IS NOT NULL GROUP BY primary_category ORDER BY n DESC LIMIT ?',
    [limit],
  );
  return rows.map((r) => r.primary_category).sort();
}
