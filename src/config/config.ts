import { parseWeights, type TrendingWeights } from '../ranking/score.ts';
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** Sources the scheduler knows how to fetch on its own. */
export const SCHEDULABLE_SOURCES = ['hf-daily', 'arxiv-oai', 'arxiv-api'] as const;

const csv = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((s) => ['1', 'true', 'yes', 'on'].includes(s));

const url = z.string().url();

const schema = z.object({
  PAPERBOY_DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z.string().optional(),
  /** PostgreSQL connections per process. */
  PAPERBOY_DB_POOL: z.coerce.number().int().min(1).max(200).default(10),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  BASE_URL: url.optional(),
  SECRET_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PAPERBOY_DEMO: bool.default(true),
  PAPERBOY_SCHEDULER: bool.default(true),
  PAPERBOY_ROLES: csv.pipe(z.array(z.enum(['web', 'worker'])).min(1)).default(['web', 'worker']),
  PAPERBOY_SCHEDULER_TICK_SECONDS: z.coerce.number().positive().max(3600).default(15),
  PAPERBOY_SEND_POLL_SECONDS: z.coerce.number().positive().max(3600).default(5),
  PAPERBOY_READY_MAX_LAG_SECONDS: z.coerce.number().min(0).default(900),
  PAPERBOY_METRICS_ALLOWED_NETWORKS: csv.default(['127.0.0.1/8', '::1/128']),
  PAPERBOY_TRUST_PROXY: z.string().min(1).default('loopback'),
  PAPERBOY_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  PAPERBOY_INGEST_SOURCES: csv
    .transform((list) => (list.length === 1 && list[0] === 'none' ? [] : list))
    .pipe(z.array(z.enum(SCHEDULABLE_SOURCES)))
    .default(['hf-daily', 'arxiv-oai']),
  PAPERBOY_INGEST_INTERVAL_MINUTES: z.coerce.number().positive().default(60),
  PAPERBOY_ARXIV_SET: z.string().min(1).default('cs'),
  PAPERBOY_ARXIV_QUERY: z.string().min(1).default('cat:cs.*'),
  HF_API_URL: url.default('https://huggingface.co/api/daily_papers'),
  ARXIV_API_URL: url.default('https://export.arxiv.org/api/query'),
  ARXIV_OAI_URL: url.default('https://oaipmh.arxiv.org/oai'),
  PAPERBOY_HTTP_MIN_INTERVAL_MS: z.coerce.number().int().min(0).optional(),
  PAPERBOY_HTTP_RETRIES: z.coerce.number().int().min(0).max(20).default(4),
  PAPERBOY_HTTP_BACKOFF_MS: z.coerce.number().int().min(0).default(1000),
  PAPERBOY_HTTP_TIMEOUT_MS: z.coerce.number().int().positive().default(30000),
  PAPERBOY_EMBEDDER: z.enum(['auto', 'http', 'onnx', 'none']).default('auto'),
  PAPERBOY_EMBEDDER_URL: url.optional(),
  PAPERBOY_EMBEDDER_MODEL: z.string().min(1).optional(),
  PAPERBOY_EMBEDDER_KEY: z.string().min(1).optional(),
  PAPERBOY_EMBEDDER_DIMS: z.coerce.number().int().positive().max(8192).optional(),
  PAPERBOY_EMBEDDER_BATCH_SIZE: z.coerce.number().int().positive().max(4096).optional(),
  PAPERBOY_EMBEDDER_TIMEOUT_MS: z.coerce.number().int().positive().default(60000),
  PAPERBOY_EMBEDDER_RETRIES: z.coerce.number().int().min(0).max(20).default(4),
  PAPERBOY_EMBEDDER_QUERY_PREFIX: z.string().optional(),
  PAPERBOY_EMBEDDER_DOCUMENT_PREFIX: z.string().optional(),
  PAPERBOY_EMBEDDER_OFFLINE: bool.default(false),
  PAPERBOY_HYBRID_WEIGHT: z.coerce.number().min(0).max(1).default(0.5),
  PAPERBOY_TRENDING_WEIGHTS: z
    .string()
    .optional()
    .transform((s, ctx) => {
      try {
        return parseWeights(s);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  PAPERBOY_TRENDING_HALF_LIFE_HOURS: z.coerce.number().positive().max(24 * 365).default(24),
  PAPERBOY_TRENDING_INTERVAL_MINUTES: z.coerce.number().positive().default(60),
  PAPERBOY_RATE_LIMIT: z.coerce.number().int().min(0).default(600),
  PAPERBOY_OLD_SECRETS: z.string().optional(),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//i, 'must start with smtp:// or smtps://')
    .optional(),
  MAIL_FROM: z
    .string()
    .regex(/^[^\r\n]+$/, 'must be one line')
    .optional(),
  SMTP_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(5),
  SMTP_RATE_PER_SECOND: z.coerce.number().min(0).default(0),
  DKIM_DOMAIN: z.string().optional(),
  DKIM_SELECTOR: z.string().optional(),
  DKIM_PRIVATE_KEY: z.string().optional(),
  PAPERBOY_DIGEST_GRACE_HOURS: z.coerce.number().min(0).max(24).default(6),
  PAPERBOY_DIGEST_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
  PAPERBOY_DIGEST_LEASE_SECONDS: z.coerce.number().min(1).max(86_400).default(300),
  PAPERBOY_DIGEST_CONCURRENCY: z.coerce.number().int().min(1).max(200).default(10),
  PAPERBOY_PENDING_EXPIRY_HOURS: z.coerce.number().positive().default(72),
  PAPERBOY_BLOCKED_DOMAINS: z.string().optional(),
  PAPERBOY_SUPPRESS_AFTER_BOUNCES: z.coerce.number().int().min(1).default(3),
  PAPERBOY_WEBHOOK_TOKEN: z.string().min(16).optional(),
  ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces').optional(),
}).superRefine((e, ctx) => {
  if (e.PAPERBOY_EMBEDDER === 'http' && !e.PAPERBOY_EMBEDDER_URL) {
    ctx.addIssue({ code: 'custom', path: ['PAPERBOY_EMBEDDER_URL'], message: 'required when PAPERBOY_EMBEDDER=http' });
  }
  if (e.PAPERBOY_EMBEDDER === 'http' && !e.PAPERBOY_EMBEDDER_MODEL) {
    ctx.addIssue({ code: 'custom', path: ['PAPERBOY_EMBEDDER_MODEL'], message: 'required when PAPERBOY_EMBEDDER=http' });
  }
});

export interface Config {
  readonly dataDir: string;
  readonly database: { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'postgres'; readonly url: string; readonly poolSize: number };
  readonly host: string;
  readonly port: number;
  readonly baseUrl: string;
  readonly secretKey: string;
  /** Where the secret came from: SECRET_KEY, or a file created once in the data dir. */
  readonly secretKeySource: 'env' | 'data-dir';
  readonly logLevel: string;
  readonly demo: boolean;
  readonly scheduler: boolean;
  /** What `paperboy start` runs: the web site, the worker (scheduler and sending), or both. */
  readonly roles: readonly ('web' | 'worker')[];
  /** How often workers look for due jobs (and a follower for a vacant leadership). */
  readonly schedulerTickMs: number;
  /** How long an idle worker waits before it looks for digests to send again. */
  readonly sendPollMs: number;
  /**
   * Which proxies' X-Forwarded-For is believed (client addresses for rate limits and logs):
   * `loopback` (default), `false`, `true` (any: only behind a proxy that overwrites the header),
   * or comma-separated addresses/CIDRs.
   */
  readonly trustProxy: boolean | string | string[];
  /** /readyz fails when a scheduled job is this late (0: never). */
  readonly readyMaxLagSeconds: number;
  /** Who may read /metrics: client networks (CIDR, connected directly), or anyone with the token. */
  readonly metrics: { readonly allowedNetworks: readonly string[]; readonly token: string | undefined };
  readonly ingest: {
    readonly sources: readonly (typeof SCHEDULABLE_SOURCES)[number][];
    readonly intervalMinutes: number;
    readonly arxivSet: string;
    readonly arxivQuery: string;
  };
  readonly endpoints: { readonly hfDaily: string; readonly arxivApi: string; readonly arxivOai: string };
  readonly embedder: {
    readonly provider: 'auto' | 'http' | 'onnx' | 'none';
    readonly url: string | undefined;
    readonly model: string | undefined;
    readonly key: string | undefined;
    readonly dims: number | undefined;
    readonly batchSize: number | undefined;
    readonly timeoutMs: number;
    readonly retries: number;
    /** 'none' turns a model's default prefix off. */
    readonly queryPrefix: string | undefined;
    readonly documentPrefix: string | undefined;
    readonly offline: boolean;
    readonly modelsDir: string;
  };
  /** Weight of the vector score in hybrid ranking (keyword gets 1 − this). */
  readonly hybridWeight: number;
  /** Trending: weights of each kind of activity, the half-life, and how often everything is recomputed. */
  readonly trending: Readonly<TrendingWeights> & { readonly intervalMinutes: number };
  /** Requests per minute per client address (0: no limit; votes have their own, lower limit). */
  readonly rateLimit: number;
  /** Older secrets still accepted for signed links (rotation); SECRET_KEY signs. */
  readonly oldSecrets: readonly string[];
  readonly mail: {
    /** SMTP URL, or undefined: mail goes to the file outbox in the data dir. */
    readonly smtpUrl: string | undefined;
    readonly from: string;
    readonly poolSize: number;
    readonly ratePerSecond: number;
    readonly dkim: { readonly domainName: string; readonly keySelector: string; readonly privateKey: string } | undefined;
    readonly outboxDir: string;
  };
  readonly digest: {
    readonly graceHours: number;
    readonly maxAttempts: number;
    /** How long a worker holds claimed digests (renewed while it works); a dead worker's expire. */
    readonly leaseMs: number;
    readonly concurrency: number;
    readonly pendingExpiryHours: number;
    readonly blockedDomains: readonly string[];
    readonly suppressAfterBounces: number;
    readonly webhookToken: string | undefined;
  };
  /** The admin area's token (sign-in form or `Authorization: Bearer`); unset: the admin area is loopback-only. */
  readonly adminToken: string | undefined;
  readonly http: {
    /** Minimum spacing between requests to one host; arXiv asks for 3 s. */
    readonly arxivMinIntervalMs: number;
    readonly retries: number;
    readonly backoffMs: number;
    readonly timeoutMs: number;
  };
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function databaseFrom(raw: string | undefined, dataDir: string, poolSize: number): Config['database'] {
  if (!raw) return { kind: 'sqlite', path: path.join(dataDir, 'paperboy.db') };
  if (/^postgres(ql)?:\/\//i.test(raw)) return { kind: 'postgres', url: raw, poolSize };
  const m = /^sqlite:(?:\/\/)?(.+)$/i.exec(raw);
  if (m?.[1]) return { kind: 'sqlite', path: m[1] === ':memory:' ? ':memory:' : path.resolve(m[1]) };
  throw new ConfigError(`config: DATABASE_URL must start with sqlite: or postgres:// (got ${JSON.stringify(raw.slice(0, 40))})`);
}

function trustProxyFrom(v: string): boolean | string | string[] {
  const t = v.trim().toLowerCase();
  if (['true', '1', 'yes', 'all'].includes(t)) return true;
  if (['false', '0', 'no', 'none'].includes(t)) return false;
  const list = v.split(',').map((x) => x.trim()).filter(Boolean);
  return list.length === 1 ? list[0]! : list;
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname || 'localhost';
  } catch {
    return 'localhost';
  }
}

/** A PEM key given inline, or a path to a file holding one. */
function readKey(v: string): string {
  if (v.includes('-----BEGIN')) return v.replace(/\\n/g, '\n');
  try {
    return readFileSync(v, 'utf8');
  } catch {
    throw new ConfigError(`config: DKIM_PRIVATE_KEY: not a PEM key and not a readable file (${v.slice(0, 60)})`);
  }
}

/**
 * Reads the secret from the data dir, creating it once when absent. Processes that start together
 * on a new data dir (web and worker) agree on one secret: each writes its own candidate to a
 * temporary file and links it into place, which succeeds for exactly one of them and publishes the
 * file whole; the others read the winner's.
 */
function loadOrCreateSecret(dataDir: string): string {
  const file = path.join(dataDir, 'secret.key');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    const candidate = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(candidate, randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
    try {
      linkSync(candidate, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      rmSync(candidate, { force: true });
    }
  }
  const secret = readFileSync(file, 'utf8').trim();
  if (!secret) throw new ConfigError(`config: ${file} is empty; delete it to have a new secret made, or set SECRET_KEY`);
  return secret;
}

/**
 * The one place that reads the environment. Validates everything, names the bad
 * variable in the error, and returns a frozen, typed object.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`config: invalid environment\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.PAPERBOY_DATA_DIR);
  const database = databaseFrom(e.DATABASE_URL, dataDir, e.PAPERBOY_DB_POOL);
  const config: Config = {
    dataDir,
    database,
    host: e.HOST,
    port: e.PORT,
    baseUrl: (e.BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    secretKey: e.SECRET_KEY ?? loadOrCreateSecret(dataDir),
    secretKeySource: e.SECRET_KEY ? 'env' : 'data-dir',
    logLevel: e.LOG_LEVEL,
    demo: e.PAPERBOY_DEMO,
    scheduler: e.PAPERBOY_SCHEDULER,
    roles: [...new Set(e.PAPERBOY_ROLES)],
    schedulerTickMs: e.PAPERBOY_SCHEDULER_TICK_SECONDS * 1000,
    sendPollMs: e.PAPERBOY_SEND_POLL_SECONDS * 1000,
    trustProxy: trustProxyFrom(e.PAPERBOY_TRUST_PROXY),
    readyMaxLagSeconds: e.PAPERBOY_READY_MAX_LAG_SECONDS,
    metrics: { allowedNetworks: e.PAPERBOY_METRICS_ALLOWED_NETWORKS, token: e.PAPERBOY_METRICS_TOKEN },
    ingest: {
      sources: e.PAPERBOY_INGEST_SOURCES,
      intervalMinutes: e.PAPERBOY_INGEST_INTERVAL_MINUTES,
      arxivSet: e.PAPERBOY_ARXIV_SET,
      arxivQuery: e.PAPERBOY_ARXIV_QUERY,
    },
    endpoints: { hfDaily: e.HF_API_URL, arxivApi: e.ARXIV_API_URL, arxivOai: e.ARXIV_OAI_URL },
    embedder: {
      provider: e.PAPERBOY_EMBEDDER,
      url: e.PAPERBOY_EMBEDDER_URL,
      model: e.PAPERBOY_EMBEDDER_MODEL,
      key: e.PAPERBOY_EMBEDDER_KEY,
      dims: e.PAPERBOY_EMBEDDER_DIMS,
      batchSize: e.PAPERBOY_EMBEDDER_BATCH_SIZE,
      timeoutMs: e.PAPERBOY_EMBEDDER_TIMEOUT_MS,
      retries: e.PAPERBOY_EMBEDDER_RETRIES,
      queryPrefix: e.PAPERBOY_EMBEDDER_QUERY_PREFIX === 'none' ? '' : e.PAPERBOY_EMBEDDER_QUERY_PREFIX,
      documentPrefix: e.PAPERBOY_EMBEDDER_DOCUMENT_PREFIX === 'none' ? '' : e.PAPERBOY_EMBEDDER_DOCUMENT_PREFIX,
      offline: e.PAPERBOY_EMBEDDER_OFFLINE,
      modelsDir: path.join(dataDir, 'models'),
    },
    hybridWeight: e.PAPERBOY_HYBRID_WEIGHT,
    rateLimit: e.PAPERBOY_RATE_LIMIT,
    oldSecrets: (e.PAPERBOY_OLD_SECRETS ?? '').split(',').map((x) => x.trim()).filter((x) => x.length >= 16),
    mail: {
      smtpUrl: e.SMTP_URL,
      from: e.MAIL_FROM ?? `paperboy <digest@${hostOf(e.BASE_URL ?? 'http://localhost')}>`,
      poolSize: e.SMTP_POOL_SIZE,
      ratePerSecond: e.SMTP_RATE_PER_SECOND,
      dkim:
        e.DKIM_DOMAIN && e.DKIM_SELECTOR && e.DKIM_PRIVATE_KEY
          ? { domainName: e.DKIM_DOMAIN, keySelector: e.DKIM_SELECTOR, privateKey: readKey(e.DKIM_PRIVATE_KEY) }
          : undefined,
      outboxDir: path.join(dataDir, 'outbox'),
    },
    digest: {
      graceHours: e.PAPERBOY_DIGEST_GRACE_HOURS,
      maxAttempts: e.PAPERBOY_DIGEST_MAX_ATTEMPTS,
      leaseMs: e.PAPERBOY_DIGEST_LEASE_SECONDS * 1000,
      concurrency: e.PAPERBOY_DIGEST_CONCURRENCY,
      pendingExpiryHours: e.PAPERBOY_PENDING_EXPIRY_HOURS,
      blockedDomains: (e.PAPERBOY_BLOCKED_DOMAINS ?? '').split(',').map((x) => x.trim().toLowerCase()).filter(Boolean),
      suppressAfterBounces: e.PAPERBOY_SUPPRESS_AFTER_BOUNCES,
      webhookToken: e.PAPERBOY_WEBHOOK_TOKEN,
    },
    adminToken: e.ADMIN_TOKEN,
    trending: { ...e.PAPERBOY_TRENDING_WEIGHTS, halfLifeHours: e.PAPERBOY_TRENDING_HALF_LIFE_HOURS, intervalMinutes: e.PAPERBOY_TRENDING_INTERVAL_MINUTES },
    http: {
      arxivMinIntervalMs: e.PAPERBOY_HTTP_MIN_INTERVAL_MS ?? 3000,
      retries: e.PAPERBOY_HTTP_RETRIES,
      backoffMs: e.PAPERBOY_HTTP_BACKOFF_MS,
      timeoutMs: e.PAPERBOY_HTTP_TIMEOUT_MS,
    },
  };
  return deepFreeze(config);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
