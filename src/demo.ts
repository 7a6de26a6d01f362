import path from 'node:path';
import type { App } from './app.ts';
import { runIngest } from './ingest/run.ts';
import { countPapers } from './store/papers.ts';

export const DEMO_DIR = path.resolve(import.meta.dirname, '../demo');

/** On an empty database, loads the bundled demo corpus so a newcomer sees a real site at once. */
export async function loadDemoIfEmpty(app: App): Promise<boolean> {
  if ((await countPapers(app.db)) > 0) return false;
  app.log.info('demo: empty database, loading the bundled demo papers');
  const a = await runIngest(app, 'jsonl', { inputs: [path.join(DEMO_DIR, 'papers.jsonl')] }, { idempotencyKey: 'demo:jsonl' });
  const b = await runIngest(app, 'hf-daily', { inputs: [path.join(DEMO_DIR, 'hf-daily')] }, { idempotencyKey: 'demo:hf-daily' });
  app.log.info({ papers: await countPapers(app.db), seed: a.summary.new, daily: b.summary.new }, 'demo: loaded');
  return true;
}
