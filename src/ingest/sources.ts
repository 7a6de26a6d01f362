import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/config.ts';
import { parseArxivAtom } from './arxiv-atom.ts';
import { parseOaiPage } from './arxiv-oai.ts';
import { globToRegExp, parseSnapshotLine, type SnapshotFilter } from './arxiv-snapshot.ts';
import { bufferLines, decodeUtf8, expandInputs, readLines, readTextFile, type Line } from './files.ts';
import { parseHfDaily } from './hf-daily.ts';
import { HttpClient, HttpError, redactUrl } from './http.ts';
import { parseJsonlLine } from './jsonl.ts';
import { SourceError, type SourceItem } from './pipeline.ts';
import { skip, type ParseItem } from './record.ts';

export const SOURCES = ['hf-daily', 'arxiv-api', 'arxiv-oai', 'arxiv-snapshot', 'jsonl'] as const;
export type SourceName = (typeof SOURCES)[number];

export interface SourceArgs {
  /** Files, directories or URLs. Empty: fetch from the configured endpoint. */
  inputs: string[];
  /** YYYY-MM-DD */
  since?: string | undefined;
  until?: string | undefined;
  date?: string | undefined;
  categories?: string[] | undefined;
  query?: string | undefined;
  ids?: string[] | undefined;
  max?: number | undefined;
  pageSize?: number | undefined;
  set?: string | undefined;
}

export interface SourceContext {
  config: Config;
  now: () => Date;
  /** One line per notable event (a failed fetch, a retry). */
  log: (msg: string) => void;
}

export interface SourceRun {
  items: AsyncIterable<SourceItem>;
  /** Fraction done, when it can be known. */
  fraction(): number | undefined;
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

/**
 * The hosts ingest may contact: those of the configured endpoints (HF_API_URL, ARXIV_API_URL,
 * ARXIV_OAI_URL) and of URLs the operator named on the command line. Nothing parsed from a response
 * (links, resumption tokens) and no redirect can add a host.
 */
export function ingestHosts(config: Config, inputs: readonly string[] = []): string[] {
  const hosts = new Set<string>();
  for (const u of [config.endpoints.hfDaily, config.endpoints.arxivApi, config.endpoints.arxivOai, ...inputs.filter(isUrl)]) {
    try {
      hosts.add(new URL(u).host.toLowerCase());
    } catch {
      // not a URL: HttpClient.get reports it
    }
  }
  return [...hosts];
}

function client(ctx: SourceContext, inputs: readonly string[], minIntervalMs = 0): HttpClient {
  const h = ctx.config.http;
  return new HttpClient({
    allowedHosts: ingestHosts(ctx.config, inputs),
    minIntervalMs,
    retries: h.retries,
    backoffMs: h.backoffMs,
    timeoutMs: h.timeoutMs,
    onRetry: (r) => ctx.log(`http: retrying ${redactUrl(r.url)} in ${Math.round(r.delayMs)} ms (attempt ${r.attempt}): ${r.reason}`),
  });
}

/** Fetches a URL; failures become a SourceError that ends the run but keeps what was ingested. */
async function fetchText(http: HttpClient, url: string, okStatuses: number[] = [200]): Promise<{ status: number; text: string }> {
  try {
    const res = await http.get(url);
    if (!okStatuses.includes(res.status)) throw new SourceError(redactUrl(url), `HTTP ${res.status}`);
    return { status: res.status, text: decodeUtf8(res.body).text };
  } catch (err) {
    if (err instanceof SourceError) throw err;
    const reason = err instanceof HttpError ? err.message : `fetch failed: ${(err as Error).message}`;
    throw new SourceError(redactUrl(url), reason);
  }
}

function toItems(items: ParseItem[], invalidUtf8: boolean): ParseItem[] {
  if (!invalidUtf8) return items;
  return items.map((it) =>
    it.ok && JSON.stringify(it.record).includes('\uFFFD') ? skip(it.where, 'invalid UTF-8 in this record') : it,
  );
}

function dayRange(since: string, until: string): string[] {
  const out: string[] = [];
  const start = Date.parse(`${since}T00:00:00Z`);
  const end = Date.parse(`${until}T00:00:00Z`);
  if (!Number.isFinite(start) || !Number.isFinite(end)) throw new Error(`ingest: dates must be YYYY-MM-DD (got ${since}, ${until})`);
  for (let t = start; t <= end && out.length < 5000; t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

const DATE_IN_NAME = /(\d{4}-\d{2}-\d{2})/;

function hfDaily(args: SourceArgs, ctx: SourceContext): SourceRun {
  let done = 0;
  let total: number | undefined;
  async function* run(): AsyncGenerator<SourceItem> {
    const urls = args.inputs.filter(isUrl);
    const files = await expandInputs(args.inputs.filter((i) => !isUrl(i)), ['.json']);
    const today = ctx.now().toISOString().slice(0, 10);
    const days = args.inputs.length ? [] : args.since ? dayRange(args.since, args.until ?? today) : [args.date ?? today];
    total = files.length + urls.length + days.length;
    for (const file of files) {
      const { text, valid } = await readTextFile(file);
      const date = DATE_IN_NAME.exec(path.basename(file))?.[1];
      yield* toItems(parseHfDaily(text, { where: file, date }).items, !valid);
      done++;
    }
    const http = urls.length || days.length ? client(ctx, args.inputs) : undefined;
    const fetchOne = async (url: string, date: string | undefined) => {
      const { text } = await fetchText(http!, url);
      return parseHfDaily(text, { where: redactUrl(url), date, observedAt: ctx.now().toISOString() }).items;
    };
    for (const url of urls) {
      yield* await fetchOne(url, DATE_IN_NAME.exec(url)?.[1]);
      done++;
    }
    for (const day of days) {
      const url = `${ctx.config.endpoints.hfDaily}?date=${day}`;
      yield* await fetchOne(url, day);
      done++;
    }
  }
  return { items: run(), fraction: () => (total ? done / total : undefined) };
}

function arxivApi(args: SourceArgs, ctx: SourceContext): SourceRun {
  let fetched = 0;
  let total: number | undefined;
  async function* run(): AsyncGenerator<SourceItem> {
    const files = await expandInputs(args.inputs.filter((i) => !isUrl(i)), ['.xml', '.atom']);
    for (const file of files) {
      const { text, valid } = await readTextFile(file);
      const page = parseArxivAtom(text, file);
      if (page.error) throw new SourceError(file, `arXiv API error: ${page.error}`);
      yield* toItems(page.items, !valid);
    }
    const urlInputs = args.inputs.filter(isUrl);
    if (args.inputs.length && !urlInputs.length) return;
    const http = client(ctx, args.inputs, ctx.config.http.arxivMinIntervalMs);
    const pageSize = Math.min(Math.max(args.pageSize ?? 100, 1), 2000);
    const max = args.max ?? (args.ids?.length ? args.ids.length : 100);
    const bases = urlInputs.length ? urlInputs : [queryUrl(ctx.config.endpoints.arxivApi, args)];
    for (const base of bases) {
      let start = Number(new URL(base).searchParams.get('start') ?? 0);
      const first = start;
      for (;;) {
        const u = new URL(base);
        u.searchParams.set('start', String(start));
        if (!u.searchParams.has('max_results') || start !== first) u.searchParams.set('max_results', String(Math.min(pageSize, max - (start - first))));
        const { text } = await fetchText(http, u.toString(), [200, 400]);
        const page = parseArxivAtom(text, redactUrl(u.toString()));
        if (page.error) throw new SourceError(redactUrl(u.toString()), `arXiv API error: ${page.error}`);
        total = Math.min(page.totalResults ?? max, max);
        yield* page.items;
        const n = page.items.length;
        fetched += n;
        start += n;
        if (n === 0 || start - first >= max || (page.totalResults !== undefined && start >= page.totalResults)) break;
      }
    }
  }
  return { items: run(), fraction: () => (total ? Math.min(fetched / total, 1) : undefined) };
}

function queryUrl(base: string, args: SourceArgs): string {
  const u = new URL(base);
  if (args.ids?.length) u.searchParams.set('id_list', args.ids.join(','));
  if (args.query || !args.ids?.length) u.searchParams.set('search_query', args.query ?? 'cat:cs.*');
  u.searchParams.set('sortBy', 'submittedDate');
  u.searchParams.set('sortOrder', 'descending');
  return u.toString();
}

function arxivOai(args: SourceArgs, ctx: SourceContext): SourceRun {
  let cursor = 0;
  let total: number | undefined;
  async function* run(): AsyncGenerator<SourceItem> {
    const files = await expandInputs(args.inputs.filter((i) => !isUrl(i)), ['.xml']);
    for (const file of files) {
      const { text, valid } = await readTextFile(file);
      const page = parseOaiPage(text, file);
      if (page.error && page.error.code !== 'noRecordsMatch') throw new SourceError(file, `OAI-PMH error ${page.error.code}: ${page.error.message}`);
      yield* toItems(page.items, !valid);
    }
    const urlInputs = args.inputs.filter(isUrl);
    if (args.inputs.length && !urlInputs.length) return;
    const http = client(ctx, args.inputs, ctx.config.http.arxivMinIntervalMs);
    const base = urlInputs[0] ?? ctx.config.endpoints.arxivOai;
    let url: string;
    if (urlInputs.length) {
      url = base;
    } else {
      const u = new URL(base);
      if (args.ids?.length === 1) {
        u.searchParams.set('verb', 'GetRecord');
        u.searchParams.set('identifier', `oai:arXiv.org:${args.ids[0]}`);
      } else {
        u.searchParams.set('verb', 'ListRecords');
        if (args.set !== '') u.searchParams.set('set', args.set ?? ctx.config.ingest.arxivSet);
        if (args.since) u.searchParams.set('from', args.since);
        if (args.until) u.searchParams.set('until', args.until);
      }
      u.searchParams.set('metadataPrefix', 'arXiv');
      url = u.toString();
    }
    for (let pages = 0; pages < 100_000; pages++) {
      const { text } = await fetchText(http, url);
      const page = parseOaiPage(text, redactUrl(url));
      if (page.error) {
        if (page.error.code === 'noRecordsMatch') return;
        throw new SourceError(redactUrl(url), `OAI-PMH error ${page.error.code}: ${page.error.message}`);
      }
      yield* page.items;
      cursor += page.items.length;
      if (page.completeListSize !== undefined) total = page.completeListSize;
      if (!page.resumptionToken) return;
      const next = new URL(base);
      next.search = '';
      next.searchParams.set('verb', 'ListRecords');
      next.searchParams.set('resumptionToken', page.resumptionToken);
      url = next.toString();
    }
  }
  return { items: run(), fraction: () => (total ? Math.min(cursor / total, 1) : undefined) };
}

/** Line-oriented sources: each line parsed on its own; bytes read give the progress. */
function lineSource(
  args: SourceArgs,
  ctx: SourceContext,
  parse: (text: string, where: string) => SourceItem,
  extensions: string[],
): SourceRun {
  let bytesBefore = 0;
  let totalBytes = 0;
  let current: { bytesRead: number } | undefined;
  async function* linesOf(lines: Iterable<Line> | AsyncIterable<Line>, label: string): AsyncGenerator<SourceItem> {
    for await (const line of lines) {
      const where = `${label}:${line.n}`;
      if (line.text === null) yield skip(where, 'invalid UTF-8');
      else if (line.text.trim() !== '') yield parse(line.text, where);
    }
  }
  async function* run(): AsyncGenerator<SourceItem> {
    if (!args.inputs.length) throw new Error('ingest: give a file, directory or URL to read');
    const files = await expandInputs(args.inputs.filter((i) => !isUrl(i)), extensions);
    const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
    totalBytes = sizes.reduce((a, b) => a + b, 0);
    for (const [i, file] of files.entries()) {
      const reader = readLines(file, sizes[i]);
      current = reader;
      yield* linesOf(reader, file);
      bytesBefore += sizes[i] ?? 0;
      current = undefined;
    }
    const urls = args.inputs.filter(isUrl);
    if (urls.length) {
      const http = client(ctx, args.inputs);
      for (const url of urls) {
        try {
          const res = await http.get(url);
          if (res.status !== 200) throw new SourceError(redactUrl(url), `HTTP ${res.status}`);
          yield* linesOf(bufferLines(res.body), redactUrl(url));
        } catch (err) {
          if (err instanceof SourceError) throw err;
          throw new SourceError(redactUrl(url), (err as Error).message);
        }
      }
    }
  }
  return {
    items: run(),
    fraction: () => (totalBytes ? Math.min((bytesBefore + (current?.bytesRead ?? 0)) / totalBytes, 1) : undefined),
  };
}

export function openSource(name: SourceName, args: SourceArgs, ctx: SourceContext): SourceRun {
  switch (name) {
    case 'hf-daily':
      return hfDaily(args, ctx);
    case 'arxiv-api':
      return arxivApi(args, ctx);
    case 'arxiv-oai':
      return arxivOai(args, ctx);
    case 'arxiv-snapshot': {
      const filter: SnapshotFilter = { categories: args.categories, since: args.since };
      const re = args.categories?.length ? globToRegExp(args.categories) : undefined;
      return lineSource(args, ctx, (t, w) => parseSnapshotLine(t, w, filter, re), ['.json', '.jsonl', '.gz']);
    }
    case 'jsonl':
      return lineSource(args, ctx, parseJsonlLine, ['.jsonl', '.json', '.ndjson', '.gz']);
  }
}
