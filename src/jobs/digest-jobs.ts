import { expirePending } from '../store/subscribers.ts';
import type { JobDefinition } from './scheduler.ts';

/**
 * The digest's jobs: every minute, create the outbox rows of subscribers whose local hour has come,
 * then send what is claimable (rows of any worker whose lease expired included); hourly, remove
 * sign-ups never confirmed.
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
      name: 'digest-send',
      intervalMs: 60_000,
      leaseMs: 30 * 60_000,
      async run(app) {
        const r = await app.digests.sendDue();
        return `${r.sent} sent, ${r.failed} failed, ${r.skipped} skipped, ${r.retried} to retry`;
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
