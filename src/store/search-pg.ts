import type { Param, Sql } from '../db/sql.ts';
import type { Hit, MatchSpec, Scope } from './search.ts';

/**
 * Keyword search on PostgreSQL (schema: search-pg-schema.ts), FTS5's BM25 computed over the
 * postings table: for each query item idf·f·(k1+1)/(f + k1·(1−b+b·dl/avgdl)), f its column-weighted
 * frequency, summed per paper, top k in the database. Every-item queries join the items' postings
 * on paper_id (the database intersects them, rarest first); any-item queries sum one postings
 * branch per item (the caller's work budget bounds them). The tsvector is read only to check
 * phrases and names on the papers their words found, and for exclusions (GIN).
 *
 * Differences from FTS5, all small: Snowball stems rather than Porter; a phrase's f is the least
 * frequency of its words and its document frequency the least of theirs; a prefix's document
 * frequency is the sum over the terms it expands to. N, avgdl and document frequencies are cached
 * per database for 30 s, and until a paper arrives.
 */

const K1 = 1.2;
const B = 0.75;
/** N, avgdl and document frequencies are cached per database this long (and until a paper arrives). */
const STATS_TTL_MS = 30_000;
const LEX_CACHE_MAX = 100_000;
const TOP = '\u{10FFFF}';

interface Stats {
  n: number;
  avgdl: number;
  maxId: number;
  at: number;
  df: Map<string, number>;
  /** Prefix → the lexemes it expands to (null: more than MAX_EXPANSION). */
  expand: Map<string, string[] | null>;
}

const statsOf = new WeakMap<Sql, Stats>();
/** Word (or prefix) → the lexemes it is indexed as; the same on every database (one configuration). */
const lexCache = new Map<string, string[]>();

/** One thing to match and score: a word, a phrase, a prefix or an author's name. */
interface Item {
  kind: 'term' | 'phrase' | 'prefix' | 'author';
  lex: string[];
}

async function lexemes(sql: Sql, words: readonly string[]): Promise<Map<string, string[]>> {
  const missing = [...new Set(words.filter((w) => !lexCache.has(w)))];
  if (missing.length) {
    const rows = await sql.all<{ w: string; l: string[] }>(
      'SELECT w, paperboy_search_lexemes(w) AS l FROM json_array_elements_text(?::json) AS w',
      [JSON.stringify(missing)],
    );
    if (lexCache.size + rows.length > LEX_CACHE_MAX) lexCache.clear();
    for (const r of rows) lexCache.set(r.w, r.l);
  }
  return new Map(words.map((w) => [w, lexCache.get(w) ?? []]));
}

async function stats(sql: Sql, now = Date.now()): Promise<Stats> {
  const s = statsOf.get(sql);
  const top = await sql.get<{ m: number | null }>('SELECT MAX(paper_id) AS m FROM search_docs');
  const maxId = top?.m ?? 0;
  if (s && s.maxId === maxId && now - s.at < STATS_TTL_MS) return s;
  const r = await sql.get<{ n: number; t: number | null }>('SELECT COUNT(*) AS n, SUM(dl) AS t FROM search_docs');
  const n = r?.n ?? 0;
  const fresh: Stats = { n, avgdl: n ? Math.max((r?.t ?? 0) / n, 1e-9) : 1, maxId, at: now, df: new Map(), expand: new Map() };
  statsOf.set(sql, fresh);
  return fresh;
}

async function lexemeDfs(sql: Sql, s: Stats, lex: readonly string[]): Promise<Map<string, number>> {
  const missing = [...new Set(lex.filter((l) => !s.df.has(l)))];
  if (missing.length) {
    const rows = await sql.all<{ lexeme: string; n: number }>(
      'SELECT lexeme, COUNT(*) AS n FROM search_postings WHERE lexeme IN (SELECT json_array_elements_text(?::json)) GROUP BY lexeme',
      [JSON.stringify(missing)],
    );
    for (const l of missing) s.df.set(l, 0);
    for (const r of rows) s.df.set(r.lexeme, r.n);
  }
  return new Map(lex.map((l) => [l, s.df.get(l) ?? 0]));
}

async function prefixDf(sql: Sql, s: Stats, prefix: string): Promise<number> {
  const key = `${prefix}*`; // a lexeme never contains '*' (punctuation is not indexed)
  const hit = s.df.get(key);
  if (hit !== undefined) return hit;
  const r = await sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM search_postings WHERE lexeme >= ? AND lexeme < ?', [prefix, prefix + TOP]);
  s.df.set(key, r?.n ?? 0);
  return r?.n ?? 0;
}

/** A prefix expanding to at most this many lexemes is checked per paper, lexeme by lexeme. */
const MAX_EXPANSION = 16;

/** The lexemes a prefix expands to, by a loose index scan (one probe per distinct lexeme). */
async function expansion(sql: Sql, s: Stats, prefix: string): Promise<string[] | null> {
  const hit = s.expand.get(prefix);
  if (hit !== undefined) return hit;
  const rows = await sql.all<{ l: string }>(
    `WITH RECURSIVE e(l) AS (
       (SELECT lexeme FROM search_postings WHERE lexeme >= ? AND lexeme < ? ORDER BY lexeme LIMIT 1)
       UNION ALL
       SELECT (SELECT lexeme FROM search_postings WHERE lexeme > e.l AND lexeme < ? ORDER BY lexeme LIMIT 1) FROM e WHERE e.l IS NOT NULL
     ) SELECT l FROM e WHERE l IS NOT NULL LIMIT ?`,
    [prefix, prefix + TOP, prefix + TOP, MAX_EXPANSION + 1],
  );
  const out = rows.length > MAX_EXPANSION ? null : rows.map((r) => r.l);
  s.expand.set(prefix, out);
  return out;
}

/** A PostgreSQL text[] literal. */
function textArray(xs: readonly string[]): string {
  return `{${xs.map((x) => `"${x.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join(',')}}`;
}

/** Documents containing each word as indexed (a word indexed as several lexemes: the rarest). */
export async function pgWordFrequencies(sql: Sql, words: readonly string[]): Promise<Map<string, number>> {
  const s = await stats(sql);
  const lex = await lexemes(sql, words);
  const df = await lexemeDfs(sql, s, [...lex.values()].flat());
  return new Map(words.map((w) => {
    const l = lex.get(w) ?? [];
    return [w, l.length ? Math.min(...l.map((x) => df.get(x) ?? 0)) : 0];
  }));
}

/** Documents per lexeme summed over every lexeme starting with the prefix as indexed (an upper bound). */
export async function pgPrefixFrequency(sql: Sql, prefix: string): Promise<number> {
  const s = await stats(sql);
  const l = (await lexemes(sql, [prefix])).get(prefix) ?? [];
  const last = l[l.length - 1];
  return last === undefined ? 0 : prefixDf(sql, s, last);
}

/** A tsquery operand: the lexeme quoted (never parsed again), with optional `:*` and weight. */
function operand(l: string, suffix = ''): string {
  return `'${l.replaceAll('\\', '\\\\').replaceAll("'", "''")}'${suffix}`;
}

/**
 * Lexemes in a row: `'a' <-> 'b'` (columns are apart in the tsvector, see the schema), or with a
 * column's weight label on each (`'a':C <-> 'b':C`, names). `prefixLast`: `'b':*`.
 */
function phraseQuery(lex: readonly string[], column = '', prefixLast = false): string {
  const q = lex.map((l, i) => operand(l, prefixLast && i === lex.length - 1 ? `:*${column}` : column ? `:${column}` : '')).join(' <-> ');
  return lex.length > 1 ? `(${q})` : q;
}

function itemQuery(it: Item): string {
  switch (it.kind) {
    case 'term':
      return operand(it.lex[0]!);
    case 'prefix':
      return phraseQuery(it.lex, '', true);
    case 'phrase':
      return phraseQuery(it.lex);
    case 'author': {
      const alts = [phraseQuery(it.lex, 'C')];
      if (it.lex.length === 2) alts.push(phraseQuery([it.lex[1]!, it.lex[0]!], 'C'));
      return alts.length > 1 ? `(${alts.join(' | ')})` : alts[0]!;
    }
  }
}

/** A query shaped for PostgreSQL: the items BM25 scores and matches by, the exclusions, the tsquery. */
export interface PgQuery {
  /** null: nothing can match. The whole query as one tsquery (matching a few given papers). */
  tsquery: string | null;
  /** Required items (`req`) must all match; with none optional, that is all; else one optional too. */
  items: (Item & { req: boolean })[];
  /** The exclusions as one any-of tsquery, or null. */
  exclude: string | null;
  /** The collection figures when the query was shaped (one look per search). */
  stats?: Stats;
}

export async function pgQuery(sql: Sql, spec: MatchSpec): Promise<PgQuery> {
  const words = [...spec.terms, ...spec.phrases.flat(), ...spec.prefixes, ...spec.authors.flatMap((a) => a.split(' ')), ...spec.excludes.flat()];
  const lex = await lexemes(sql, words);
  const of = (ws: readonly string[]) => ws.flatMap((w) => lex.get(w) ?? []);
  const wordItem = (ws: readonly string[]): Item | null => {
    const l = of(ws);
    return l.length === 0 ? null : { kind: l.length === 1 ? 'term' : 'phrase', lex: l };
  };
  const positives: (Item | null)[] = [
    ...spec.terms.map((t) => wordItem([t])),
    ...spec.phrases.map((ws) => wordItem(ws)),
    ...spec.prefixes.map((p): Item | null => {
      const l = of([p]);
      return l.length === 0 ? null : { kind: 'prefix', lex: l };
    }),
  ];
  const authors = spec.authors.map((a): Item | null => {
    const l = of(a.split(' '));
    return l.length === 0 ? null : { kind: 'author', lex: l };
  });
  const excluded = spec.excludes.map((ws) => wordItem(ws)).filter((x): x is Item => x !== null);
  const anyMode = spec.mode === 'or' && positives.length >= 2;
  const kept = positives.filter((x): x is Item => x !== null);
  // A required item that cannot be indexed matches nothing (as an empty FTS5 string would not).
  const none: PgQuery = { tsquery: null, items: [], exclude: null };
  if (authors.includes(null) || (anyMode ? kept.length === 0 : kept.length < positives.length)) return none;
  const auth = authors as Item[];
  const required = [...(anyMode ? [`(${kept.map(itemQuery).join(' | ')})`] : kept.map(itemQuery)), ...auth.map(itemQuery)];
  if (!required.length) return none;
  return {
    stats: await stats(sql),
    tsquery: [...required, ...excluded.map((e) => `!${itemQuery(e)}`)].join(' & '),
    items: [...kept.map((i) => ({ ...i, req: !anyMode })), ...auth.map((i) => ({ ...i, req: true }))],
    exclude: excluded.length ? excluded.map(itemQuery).join(' | ') : null,
  };
}

interface Bounds {
  scope?: Scope | undefined;
  /** A paper never returned (more-like-this leaves out the paper itself). */
  notId?: number | undefined;
}

/**
 * The matches as `SELECT … GROUP BY paper_id HAVING …` over one postings branch per item (with
 * the BM25 sum as `s` when scoring): index-only scans of the postings, the GIN index only for
 * phrases, names and exclusions. All the work is proportional to the items' postings.
 */
async function matchesSql(sql: Sql, q: PgQuery, score: boolean, bounds: Bounds): Promise<{ sql: string; params: Param[] }> {
  if (q.items.every((i) => i.req)) return allItemsSql(sql, q, score, bounds);
  const s = q.stats ?? (await stats(sql));
  const df = score ? await lexemeDfs(sql, s, q.items.filter((i) => i.kind !== 'prefix').flatMap((i) => i.lex)) : new Map<string, number>();
  const idf = (n: number) => Math.max(Math.log((s.n - n + 0.5) / (n + 0.5)), 1e-6);
  const bound: string[] = [];
  const boundParams: Param[] = [];
  if (bounds.scope?.afterRowid !== undefined) {
    bound.push(' AND paper_id > ?');
    boundParams.push(bounds.scope.afterRowid);
  }
  if (bounds.notId !== undefined) {
    bound.push(' AND paper_id <> ?');
    boundParams.push(bounds.notId);
  }
  const and = bound.join('');
  const params: Param[] = [];
  const branches: string[] = [];
  for (const it of q.items) {
    const head = `SELECT paper_id, ${it.req ? 'TRUE' : 'FALSE'} AS req${score ? ', ?::float8 AS idf' : ''}`;
    if (it.kind === 'term') {
      branches.push(`${head}${score ? ', tf AS f, dl' : ''} FROM search_postings WHERE lexeme = ?${and}`);
      if (score) params.push(idf(df.get(it.lex[0]!) ?? 0));
      params.push(it.lex[0]!, ...boundParams);
    } else if (it.kind === 'prefix' && it.lex.length === 1) {
      const p = it.lex[0]!;
      branches.push(`${head}${score ? ', SUM(tf) AS f, MAX(dl) AS dl' : ''} FROM search_postings WHERE lexeme >= ? AND lexeme < ?${and} GROUP BY paper_id`);
      if (score) params.push(idf(Math.min(await prefixDf(sql, s, p), s.n)));
      params.push(p, p + TOP, ...boundParams);
    } else {
      // A phrase or a name (or a prefix of several lexemes: its exact part): its words' least
      // frequency, in the papers where the phrase itself matches.
      const lex = [...new Set(it.kind === 'prefix' ? it.lex.slice(0, -1) : it.lex)];
      branches.push(
        `${head}${score ? ', MIN(tf) AS f, MAX(dl) AS dl' : ''} FROM search_postings
         WHERE lexeme IN (${lex.map(() => '?').join(',')})${and}
           AND paper_id IN (SELECT paper_id FROM search_docs WHERE tsv @@ ?::tsquery)
         GROUP BY paper_id HAVING COUNT(*) = ?`,
      );
      if (score) params.push(idf(Math.min(...lex.map((l) => df.get(l) ?? 0))));
      params.push(...lex, ...boundParams, itemQuery(it), lex.length);
    }
  }
  const where = q.exclude ? ' WHERE b.paper_id NOT IN (SELECT paper_id FROM search_docs WHERE tsv @@ ?::tsquery)' : '';
  if (q.exclude) params.push(q.exclude);
  const required = q.items.filter((i) => i.req).length;
  const optional = q.items.length - required;
  const having: string[] = [];
  if (required > 1 || (required === 1 && q.items.length > 1)) having.push(`COUNT(*) FILTER (WHERE b.req) = ${required}`);
  if (optional > 0 && required > 0) having.push('COUNT(*) FILTER (WHERE NOT b.req) > 0');
  const scoreSql = score ? `, SUM(b.idf * b.f * ${K1 + 1} / (b.f + ${K1} * (${1 - B} + ${B} * b.dl / ?::float8))) AS s` : '';
  return {
    sql: `SELECT b.paper_id AS id${scoreSql} FROM (${branches.join(' UNION ALL ')}) b${where} GROUP BY b.paper_id${having.length ? ` HAVING ${having.join(' AND ')}` : ''}`,
    params: score ? [s.avgdl, ...params] : params,
  };
}

/**
 * Every item required: a join of the items' postings on paper_id (the database intersects them by
 * merge joins or index probes, rarest first, as FTS5 does), the phrases and names checked on the
 * tsvector of the papers left. A phrase joins by its two rarest words; a prefix by its expansion.
 */
async function allItemsSql(sql: Sql, q: PgQuery, score: boolean, bounds: Bounds): Promise<{ sql: string; params: Param[] }> {
  const s = q.stats ?? (await stats(sql));
  const exact = (it: Item) => [...new Set(it.kind === 'prefix' ? it.lex.slice(0, -1) : it.lex)];
  const df = await lexemeDfs(sql, s, q.items.flatMap(exact));
  const dfOf = (l: string) => df.get(l) ?? 0;
  const idf = (n: number) => Math.max(Math.log((s.n - n + 0.5) / (n + 0.5)), 1e-6);
  const from: string[] = [];
  const fromParams: Param[] = [];
  const where: string[] = [];
  const whereParams: Param[] = [];
  const scores: string[] = [];
  const scoreParams: Param[] = [];
  const checks: string[] = [];
  const checkParams: Param[] = [];
  let n = 0;
  const bound = (alias: string) => {
    const out: string[] = [];
    const params: Param[] = [];
    if (bounds.scope?.afterRowid !== undefined) {
      out.push(`${alias}paper_id > ?`);
      params.push(bounds.scope.afterRowid);
    }
    if (bounds.notId !== undefined) {
      out.push(`${alias}paper_id <> ?`);
      params.push(bounds.notId);
    }
    return { out, params };
  };
  const leg = (lexeme: string): string => {
    const a = `t${n++}`;
    from.push(a === 't0' ? `search_postings ${a}` : `JOIN search_postings ${a} ON ${a}.paper_id = t0.paper_id`);
    const b = bound(`${a}.`);
    where.push(`${a}.lexeme = ?`, ...b.out);
    whereParams.push(lexeme, ...b.params);
    return a;
  };
  // The rarest single word first: it drives the join.
  const probeCheaper = async (p: string): Promise<boolean> => {
    const lex = await expansion(sql, s, p);
    return lex !== null && driving * lex.length < (await prefixDf(sql, s, p));
  };
  const rankOf = (i: Item) => (i.kind === 'term' ? 0 : i.kind === 'prefix' ? 2 : 1);
  const order = [...q.items].sort((x, y) => rankOf(x) - rankOf(y) || dfOf(x.lex[0]!) - dfOf(y.lex[0]!));
  const first = order[0]!;
  const driving = first.kind === 'prefix' ? Infinity : Math.min(...exact(first).map(dfOf));
  for (const it of order) {
    let f: string;
    let itemDf: number;
    if (it.kind === 'term') {
      f = `${leg(it.lex[0]!)}.tf`;
      itemDf = dfOf(it.lex[0]!);
    } else if (it.kind === 'prefix' && it.lex.length === 1 && n > 0 && (await probeCheaper(it.lex[0]!))) {
      // A prefix of few lexemes after the words: probed per paper the words left, when that reads
      // fewer postings than the whole expansion.
      const a = `t${n++}`;
      const p = it.lex[0]!;
      from.push(
        `JOIN LATERAL (SELECT SUM(x.tf) AS tf FROM search_postings x WHERE x.lexeme = ANY (?::text[]) AND x.paper_id = t0.paper_id) ${a} ON ${a}.tf IS NOT NULL`,
      );
      fromParams.push(textArray((await expansion(sql, s, p))!));
      f = `${a}.tf`;
      itemDf = score ? Math.min(await prefixDf(sql, s, p), s.n) : 0;
    } else if (it.kind === 'prefix' && it.lex.length === 1) {
      const a = `t${n++}`;
      const p = it.lex[0]!;
      const b = bound('');
      const sub = `(SELECT paper_id, SUM(tf) AS tf, MAX(dl) AS dl FROM search_postings WHERE lexeme >= ? AND lexeme < ?${b.out.map((x) => ` AND ${x}`).join('')} GROUP BY paper_id) ${a}`;
      from.push(a === 't0' ? sub : `JOIN ${sub} ON ${a}.paper_id = t0.paper_id`);
      fromParams.push(p, p + TOP, ...b.params);
      f = `${a}.tf`;
      itemDf = score ? Math.min(await prefixDf(sql, s, p), s.n) : 0;
    } else {
      const lex = exact(it).sort((x, y) => dfOf(x) - dfOf(y));
      const aliases = lex.slice(0, 2).map(leg);
      f = aliases.length > 1 ? `LEAST(${aliases.map((a) => `${a}.tf`).join(', ')})` : `${aliases[0]}.tf`;
      itemDf = dfOf(lex[0]!);
      checks.push('(SELECT d.tsv @@ ?::tsquery FROM search_docs d WHERE d.paper_id = t0.paper_id)');
      checkParams.push(itemQuery(it));
    }
    scores.push(`?::float8 * ${f} * ${K1 + 1} / (${f} + ${K1} * (${1 - B} + ${B} * t0.dl / ?::float8))`);
    scoreParams.push(idf(itemDf), s.avgdl);
  }
  if (q.exclude) {
    where.push('t0.paper_id NOT IN (SELECT paper_id FROM search_docs WHERE tsv @@ ?::tsquery)');
    whereParams.push(q.exclude);
  }
  // Phrase checks last: only the papers every word joined are read.
  const conditions = [...where, ...checks];
  return {
    sql: `SELECT t0.paper_id AS id${score ? `, ${scores.join(' + ')} AS s` : ''} FROM ${from.join(' ')}${conditions.length ? ` WHERE ${conditions.join(' AND ')}` : ''}`,
    params: [...(score ? scoreParams : []), ...fromParams, ...whereParams, ...checkParams],
  };
}

/** The matching paper ids as a subquery (`id`), or null when nothing can match. */
export async function pgMatchSql(sql: Sql, q: PgQuery): Promise<{ sql: string; params: Param[] } | null> {
  if (q.tsquery === null || !q.items.length) return null;
  return matchesSql(sql, q, false, {});
}

/** BM25 top-k, best first; ties in paper order. */
export async function pgRank(sql: Sql, q: PgQuery, k: number, bounds: Bounds = {}): Promise<Hit[]> {
  if (q.tsquery === null || !q.items.length || k <= 0) return [];
  const m = await matchesSql(sql, q, true, bounds);
  const rows = await sql.all<{ id: number; s: number }>(`${m.sql} ORDER BY s DESC, id LIMIT ?`, [...m.params, k]);
  return rows.map((r) => ({ id: r.id, score: r.s }));
}
