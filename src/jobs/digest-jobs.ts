import { expirePending } from '../store/subscribers.ts';
import type { JobDefinition } from './scheduler.ts';

/**
 * The digest's scheduled jobs (run by the one scheduler): every minute, create the outbox rows of
 * subscribers whose local hour has come; hourly, remove sign-ups never confirmed. Sending is not a
 * scheduled job: every worker process sends, see SendLoop.
 */
export function digestJobs(): JobDefinition[] {
  return [
    {
      name: 'digest-schedule',
      intervalMs: 60_000,
      leaseMs: 10 * 60_000,
      async run(app) {
        const r = await app.digests.schedule();
        return `${r.created} digests due, ${r.stale} stale skipped, ${r.scheduled} subscribers scheduled`;
      },
    },
    {
      name: 'subscribers-expire',
      intervalMs: 60 * 60_000,
      leaseMs: 10 * 60_000,
      async run(app) {
        const before = new Date(app.now().getTime() - app.config.digest.pendingExpiryHours * 3_600_000).toISOString();
        return `${await expirePending(app.db, before)} unconfirmed sign-ups removed`;
      },
    },
  ];
}
