import { BlockList, isIP } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../app.ts';
import { appliedVersion, latestVersion } from '../../db/migrations.ts';
import { dbFigures, ping, type DbFigures } from '../../store/metrics.ts';
import { family, type ProcessMetrics } from '../metrics.ts';
import { sameString } from '../session.ts';

/** Networks from CIDR strings (`10.0.0.0/8`, `::1/128`, or a bare address). Bad entries are ignored. */
export function networks(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const c of cidrs) {
    const [addr = '', bits] = c.split('/');
    const type = isIP(addr) === 6 ? 'ipv6' : isIP(addr) === 4 ? 'ipv4' : null;
    if (!type) continue;
    const prefix = bits === undefined ? (type === 'ipv4' ? 32 : 128) : Number(bits);
    if (Number.isInteger(prefix) && prefix >= 0 && prefix <= (type === 'ipv4' ? 32 : 128)) list.addSubnet(addr, prefix, type);
  }
  return list;
}

function allowed(app: App, list: BlockList, req: FastifyRequest): boolean {
  const token = app.config.metrics.token;
  const auth = req.headers.authorization ?? '';
  if (token && auth.startsWith('Bearer ') && sameString(auth.slice(7), token)) return true;
  // The connecting address, not X-Forwarded-For (a client can write that); a forwarded request is not direct.
  if (req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined) return false;
  let addr = req.socket.remoteAddress ?? '';
  if (addr.startsWith('::ffff:') && isIP(addr.slice(7)) === 4) addr = addr.slice(7);
  const type = isIP(addr);
  return type !== 0 && list.check(addr, type === 4 ? 'ipv4' : 'ipv6');
}

/** The database figures, read at most every 5 s however often Prometheus scrapes. */
class FiguresCache {
  private at = 0;
  private value: Promise<DbFigures> | undefined;
  constructor(private readonly app: App) {}
  get(): Promise<DbFigures> {
    const now = Date.now();
    if (!this.value || now - this.at > 5000) {
      this.at = now;
      this.value = dbFigures(this.app.db, this.app.now());
      this.value.catch(() => (this.value = undefined));
    }
    return this.value;
  }
}

function renderFigures(f: DbFigures): string {
  const outcome = ['read', 'new', 'updated', 'unchanged', 'skipped'] as const;
  const sent = f.digests.find((d) => d.status === 'sent')?.n ?? 0;
  return [
    family(
      'paperboy_ingest_records_total',
      'counter',
      'Records read by ingest runs, by source and outcome.',
      f.ingest.flatMap((r) => outcome.map((o) => ({ labels: { source: r.source, outcome: o }, value: r[o] }))),
    ),
    family('paperboy_ingest_runs_total', 'counter', 'Ingest runs by source and status.', f.ingestRuns.map((r) => ({ labels: { source: r.source, status: r.status }, value: r.n }))),
    family('paperboy_digests_total', 'counter', 'Digests in the outbox by status (sent, failed, skipped are outcomes; pending, sending are queued).', f.digests.map((d) => ({ labels: { status: d.status }, value: d.n }))),
    family('paperboy_digest_queue_depth', 'gauge', 'Digests pending or being sent.', [{ value: f.queueDepth }]),
    family('paperboy_digest_queue_lag_seconds', 'gauge', 'How long the oldest due digest has waited.', [{ value: f.queueLagSeconds }]),
    family('paperboy_digests_sent_last_day', 'gauge', 'Digests sent in the last 24 hours.', [{ value: f.sentLastDay }]),
    family('paperboy_bounces_total', 'counter', 'Bounces and complaints by kind.', f.bounces.map((b) => ({ labels: { kind: b.kind }, value: b.total }))),
    family(
      'paperboy_bounce_rate_last_day',
      'gauge',
      'Bounces (hard, soft) and complaints in the last 24 hours per digest sent in that time.',
      f.bounces.map((b) => ({ labels: { kind: b.kind }, value: f.sentLastDay ? b.lastDay / f.sentLastDay : 0 })),
    ),
    family('paperboy_digest_sent_ratio', 'gauge', 'Share of finished digests that were sent.', [
      { value: (() => {
        const done = f.digests.filter((d) => ['sent', 'failed'].includes(d.status)).reduce((s, d) => s + d.n, 0);
        return done ? sent / done : 1;
      })() },
    ]),
    family('paperboy_subscribers', 'gauge', 'Subscribers by status.', f.subscribers.map((s) => ({ labels: { status: s.status }, value: s.n }))),
    family('paperboy_job_lag_seconds', 'gauge', 'How late each scheduled job is (0 while it runs or before it is due).', f.jobs.map((j) => ({ labels: { job: j.name }, value: j.lagSeconds }))),
    family('paperboy_job_last_failed', 'gauge', '1 when the last run of the job failed.', f.jobs.map((j) => ({ labels: { job: j.name }, value: j.lastStatus === 'failed' ? 1 : 0 }))),
  ].join('\n');
}

/** /healthz (the process answers), /readyz (it can do its work), /metrics (Prometheus). */
export function registerHealth(server: FastifyInstance, app: App, metrics: ProcessMetrics): void {
  const figures = new FiguresCache(app);
  const list = networks(app.config.metrics.allowedNetworks);
  const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

  server.get('/healthz', { config: { rateLimit: false } }, async (_req, reply) => {
    noStore(reply);
    return { ok: true };
  });

  server.get('/readyz', { config: { rateLimit: false } }, async (_req, reply) => {
    noStore(reply);
    const checks: Record<string, { ok: boolean; detail: string }> = {};
    try {
      await ping(app.db);
      checks.database = { ok: true, detail: 'reachable' };
      const v = await appliedVersion(app.db);
      checks.migrations = { ok: v === latestVersion, detail: `schema ${v} of ${latestVersion}` };
      const bound = app.config.readyMaxLagSeconds;
      const jobs = (await figures.get()).jobs;
      const late = jobs.reduce((m, j) => Math.max(m, j.lagSeconds), 0);
      checks.scheduler = { ok: bound === 0 || late <= bound, detail: `most late job ${Math.round(late)} s behind (bound ${bound || 'off'})` };
    } catch (err) {
      checks.database ??= { ok: false, detail: (err as Error).message.replace(/postgres(ql)?:\/\/[^\s]*/gi, 'postgres://…') };
    }
    const ok = Object.values(checks).every((c) => c.ok) && checks.migrations !== undefined;
    reply.code(ok ? 200 : 503);
    return { ok, checks };
  });

  server.get('/metrics', { config: { rateLimit: false } }, async (req, reply) => {
    noStore(reply);
    if (!allowed(app, list, req)) {
      reply.code(403);
      return { error: { code: 'forbidden', message: 'Metrics are served to the networks in PAPERBOY_METRICS_ALLOWED_NETWORKS or with PAPERBOY_METRICS_TOKEN' } };
    }
    let db: string;
    try {
      db = renderFigures(await figures.get());
    } catch (err) {
      app.log.warn(`metrics: unable to read the database: ${(err as Error).message}`);
      db = family('paperboy_database_up', 'gauge', 'Whether the database answered.', [{ value: 0 }]);
    }
    reply.type('text/plain; version=0.0.4; charset=utf-8');
    return `${metrics.render()}\n${db}\n`;
  });
}
