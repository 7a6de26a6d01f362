import type { App } from '../app.ts';
import { finishRun, startRun } from '../store/ingest-runs.ts';
import { maxSignalId, papersWithSignalsAfter, recomputeTrending } from '../store/trending.ts';
import { ingest, type IngestSummary } from './pipeline.ts';
import { openSource, type SourceArgs, type SourceName } from './sources.ts';

export interface RunOptions {
  /** A run with the same key that already finished (or is running) is not repeated. */
  idempotencyKey?: string | undefined;
  onProgress?: (s: Readonly<IngestSummary>, fraction: number | undefined) => void;
  batchSize?: number;
}

export interface RunResult {
  summary: IngestSummary;
  /** True when the idempotency key said this work was already done. */
  alreadyDone: boolean;
  runId: number | null;
}

/** One ingest run, recorded in ingest_runs. The CLI and the scheduler both call this. */
export async function runIngest(app: App, source: SourceName, args: SourceArgs, opts: RunOptions = {}): Promise<RunResult> {
  const { db, log } = app;
  const runId = await startRun(db, source, args, app.now().toISOString(), opts.idempotencyKey ?? null);
  if (runId === null) {
    return { summary: (await import('./pipeline.ts')).emptySummary(), alreadyDone: true, runId: null };
  }
  const src = openSource(source, args, {
    config: app.config,
    now: app.now,
    log: (msg) => log.debug({ source }, msg),
  });
  let summary: IngestSummary;
  const signalsBefore = await maxSignalId(db);
  try {
    summary = await ingest({
      sql: db,
      source,
      items: src.items,
      now: app.now,
      ...(opts.batchSize ? { batchSize: opts.batchSize } : {}),
      onProgress: (s) => opts.onProgress?.(s, src.fraction()),
      onSkip: (s) => log.debug({ source, where: s.where }, `ingest: skipped: ${s.reason}`),
    });
  } catch (err) {
    const { failRun } = await import('../store/ingest-runs.ts');
    await failRun(db, runId, (err as Error).message, app.now().toISOString());
    throw err;
  }
  // New signals move papers up or down trending at once (papers without any wait for the job).
  const touched = await papersWithSignalsAfter(db, signalsBefore);
  if (touched.length) await recomputeTrending(db, touched, app.config.trending, app.now());
  await finishRun(db, runId, summary, app.now().toISOString());
  return { summary, alreadyDone: false, runId };
}
