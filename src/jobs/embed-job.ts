import type { JobDefinition } from './scheduler.ts';

/** Keeps vectors for search by meaning up to date: embeds new and changed papers every few minutes. */
export function embedJob(intervalMs = 5 * 60_000): JobDefinition {
  return {
    name: 'embed',
    intervalMs,
    leaseMs: 30 * 60_000,
    async run(app) {
      const { semantic, reason } = app.search.current();
      if (!semantic) return `skipped: ${reason ?? 'no embedder'}`;
      const r = await semantic.embedMissing(app.db, { now: app.now });
      if (r.embedded) app.log.info({ model: semantic.embedder.id, ...r }, `search: embedded ${r.embedded} papers`);
      return `${r.embedded} embedded, ${r.unchanged} unchanged, ${r.dropped} dropped`;
    },
  };
}
