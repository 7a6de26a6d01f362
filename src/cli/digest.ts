import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { App } from '../app.ts';
import { normaliseAddress } from '../digest/address.ts';
import { localDate } from '../digest/schedule.ts';
import { Selector } from '../digest/select.ts';
import { parsePreferences, parseTopics } from '../digest/subscriptions.ts';
import {
  clearBounces,
  countSubscribers,
  deleteSubscriber,

  dueSubscribers,
  insertSubscriber,
  listBounces,
  listSubscribers,
  listSuppressions,
  subscriberById,
  subscriberByKey,
  unsuppress,
  type Subscriber,
  type SubscriberStatus,
} from '../store/subscribers.ts';
import type { CliContext } from './context.ts';
import { createOutput, fmt, UsageError } from './output.ts';

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

async function findSubscriber(app: App, who: string): Promise<Subscriber> {
  const s = /^\d+$/.test(who) ? await subscriberById(app.db, Number(who)) : await subscriberByKey(app.db, normaliseAddress(who).key);
  if (!s) throw new UsageError(`no subscriber ${JSON.stringify(who)}`);
  return s;
}

/** RFC 4180-ish CSV: quoted fields with doubled quotes; a header row. */
function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      if (row.some((x) => x !== '')) rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  row.push(field);
  if (row.some((x) => x !== '')) rows.push(row);
  const [head, ...body] = rows;
  if (!head) return [];
  const names = head.map((h) => h.trim().toLowerCase());
  return body.map((r) => Object.fromEntries(names.map((n, i) => [n, (r[i] ?? '').trim()])));
}

const csvField = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

export function registerDigest(program: Command, ctx: CliContext): void {
  const digest = program.command('digest').description('Send and preview the daily digest');

  digest
    .command('run')
    .description('Send the digests that are due now (cron-friendly); with --date, every digest of that date not yet sent')
    .option('--date <YYYY-MM-DD>', 'send every confirmed subscriber their digest for this date, whatever their hour')
    .option('--dry-run', 'select and render, send nothing, change nothing')
    .option('--to <address>', 'send the due digests to this address instead (at most 20), and mark nothing sent')
    .option('--json', 'print the result as JSON on the last line of stdout')
    .addHelpText('after', '\nExit status: 0 when nothing failed, 1 when a digest failed for good (see paperboy bounces).')
    .action(async (flags: { date?: string; dryRun?: boolean; to?: string; json?: boolean }) => {
      const out = createOutput(flags.json === true);
      if (flags.date && !DATE_RE.test(flags.date)) throw new UsageError('--date must be YYYY-MM-DD');
      const to = flags.to ? normaliseAddress(flags.to) : undefined;
      if (to && !to.ok) throw new UsageError(`--to: ${to.reason}`);
      const r = await ctx.withApp(async (app) => {
        const now = app.now();
        if (flags.dryRun || to) {
          // Nothing is written: who is due, what they would get.
          const subs = flags.date ? await listSubscribers(app.db, { status: 'confirmed', limit: 1_000_000 }) : await dueSubscribers(app.db, now.toISOString(), 1_000_000);
          const selector = new Selector(app.db);
          let withPapers = 0;
          let sent = 0;
          for (const s of subs) {
            const date = flags.date ?? s.nextIssueDate ?? localDate(now.getTime(), s.timezone);
            const { papers, rendered } = await app.digests.render(s, date, selector);
            if (papers.length) withPapers++;
            out.line(`${s.email}: ${papers.length} papers · ${rendered.subject}`);
            if (to && sent < 20) {
              await app.digests.mailer.send(app.digests.mail(s, date, rendered, to.address));
              sent++;
            }
          }
          return { due: subs.length, withPapers, sent, failed: 0, skipped: subs.length - withPapers, retried: 0, dryRun: !to };
        }
        // SIGTERM/SIGINT: claim no more; the digests already claimed are sent and marked, and the
        // run ends as usual (the rest waits for the next run). A second signal kills.
        const stop = (signal: string) => {
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          process.stderr.write(`paperboy: ${signal}: finishing the digests in flight, claiming no more\n`);
          app.digests.stop();
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
        try {
          if (flags.date) await app.digests.scheduleDate(flags.date, now);
          else await app.digests.schedule(now);
          const s = await app.digests.sendDue({ date: flags.date });
          return { ...s, dryRun: false };
        } finally {
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
        }
      });
      out.line(`due ${fmt(r.due)} · sent ${fmt(r.sent)} · failed ${fmt(r.failed)} · skipped ${fmt(r.skipped)} · to retry ${fmt(r.retried)}${r.dryRun ? ' (dry run)' : ''}`);
      out.result(r);
      if (r.failed > 0) ctx.exit(1);
    });

  digest
    .command('preview <who>')
    .description('Render one subscriber\'s digest (by email or id) without sending it')
    .option('--date <YYYY-MM-DD>', 'the issue date (default: today in their time zone)')
    .option('--html', 'print the HTML part instead of the text part')
    .option('--json', 'print subject, papers and both parts as JSON')
    .action(async (who: string, flags: { date?: string; html?: boolean; json?: boolean }) => {
      const out = createOutput(flags.json === true);
      if (flags.date && !DATE_RE.test(flags.date)) throw new UsageError('--date must be YYYY-MM-DD');
      const r = await ctx.withApp(async (app) => {
        const s = await findSubscriber(app, who);
        const date = flags.date ?? localDate(app.now().getTime(), s.timezone);
        const { papers, rendered } = await app.digests.render(s, date);
        return { date, subject: rendered.subject, papers: papers.map((p) => ({ id: p.paper.key, title: p.paper.title, reason: p.reason })), text: rendered.text, html: rendered.html };
      });
      out.line(`Subject: ${r.subject}\n`);
      out.line(flags.html ? r.html : r.text);
      out.result(r);
    });

  const subs = program.command('subscribers').description('Manage subscribers (operators)');

  subs
    .command('add <email>')
    .description('Add a subscriber (pending, with a confirmation email; --confirmed to skip it when migrating a list)')
    .option('--confirmed', 'already confirmed (no email)')
    .option('--topic <search...>', 'a topic (repeatable)')
    .option('--timezone <zone>', 'IANA time zone', 'UTC')
    .option('--hour <h>', 'delivery hour 0-23', '7')
    .option('--json', 'print the result as JSON on the last line of stdout')
    .action(async (email: string, flags: { confirmed?: boolean; topic?: string[]; timezone: string; hour: string; json?: boolean }) => {
      const out = createOutput(flags.json === true);
      const a = normaliseAddress(email);
      if (!a.ok) throw new UsageError(`${email}: ${a.reason}`);
      let prefs;
      try {
        prefs = parsePreferences({ timezone: flags.timezone, deliveryHour: flags.hour, topics: flags.topic ?? [] });
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const r = await ctx.withApp(async (app) => {
        const id = await insertSubscriber(app.db, { email: a.address, emailKey: a.key, status: flags.confirmed ? 'confirmed' : 'pending', prefs, source: 'cli', now: app.now().toISOString() });
        if (id === undefined) throw new UsageError(`${a.address} is already a subscriber`);
        const s = (await subscriberById(app.db, id))!;
        if (flags.confirmed) await app.digests.scheduleNew();
        else await app.digests.sendConfirmation(s);
        return { id, email: s.email, status: s.status };
      });
      out.line(`added ${r.email} (${r.status})${r.status === 'pending' ? ': confirmation sent' : ''}`);
      out.result(r);
    });

  subs
    .command('import <csv>')
    .description('Import subscribers from CSV with a header row: email[,topics][,timezone][,hour] (topics separated by ";")')
    .option('--confirmed', 'mark them confirmed (a list that already opted in); otherwise each gets a confirmation email')
    .option('--json', 'print the result as JSON on the last line of stdout')
    .action(async (file: string, flags: { confirmed?: boolean; json?: boolean }) => {
      const out = createOutput(flags.json === true);
      let rows: Record<string, string>[];
      try {
        rows = parseCsv(readFileSync(file, 'utf8'));
      } catch (err) {
        throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
      }
      const r = await ctx.withApp(async (app) => {
        let added = 0;
        let existing = 0;
        const errors: string[] = [];
        for (const [i, row] of rows.entries()) {
          const where = `${file}:${i + 2}`;
          const a = normaliseAddress(row['email']);
          if (!a.ok) {
            errors.push(`${where}: ${a.reason}`);
            continue;
          }
          let prefs;
          try {
            prefs = parsePreferences({ ...(row['timezone'] ? { timezone: row['timezone'] } : {}), ...(row['hour'] ? { deliveryHour: row['hour'] } : {}), topics: parseTopics((row['topics'] ?? '').split(';')) });
          } catch (err) {
            errors.push(`${where}: ${(err as Error).message}`);
            continue;
          }
          const id = await insertSubscriber(app.db, { email: a.address, emailKey: a.key, status: flags.confirmed ? 'confirmed' : 'pending', prefs, source: 'import', now: app.now().toISOString() });
          if (id === undefined) existing++;
          else {
            added++;
            if (!flags.confirmed) await app.digests.sendConfirmation((await subscriberById(app.db, id))!);
          }
        }
        if (flags.confirmed) await app.digests.scheduleNew();
        return { rows: rows.length, added, existing, skipped: errors.length, errors };
      });
      for (const e of r.errors) process.stderr.write(`import: skipped ${e}\n`);
      out.line(`${fmt(r.added)} added, ${fmt(r.existing)} already there, ${fmt(r.skipped)} skipped (of ${fmt(r.rows)} rows)`);
      out.result(r);
      if (r.skipped) ctx.exit(1);
    });

  subs
    .command('export')
    .description('Export subscribers as CSV (or --json)')
    .option('--json', 'JSON lines instead of CSV')
    .action(async (flags: { json?: boolean }) => {
      await ctx.withApp(async (app) => {
        if (!flags.json) process.stdout.write('email,status,topics,timezone,hour,frequency,created_at\n');
        for (let after = 0; ; ) {
          const page = await listSubscribers(app.db, { limit: 1000, afterId: after });
          if (!page.length) break;
          after = page.at(-1)!.id;
          for (const s of page) {
            if (flags.json) process.stdout.write(JSON.stringify({ email: s.email, status: s.status, topics: s.topics, timezone: s.timezone, hour: s.deliveryHour, frequency: s.frequency, createdAt: s.createdAt }) + '\n');
            else process.stdout.write([s.email, s.status, s.topics.join(';'), s.timezone, String(s.deliveryHour), s.frequency, s.createdAt].map(csvField).join(',') + '\n');
          }
        }
      });
    });

  subs
    .command('remove <who>')
    .description('Delete a subscriber (by email or id) and everything stored about them')
    .option('--json', 'print the result as JSON on the last line of stdout')
    .action(async (who: string, flags: { json?: boolean }) => {
      const out = createOutput(flags.json === true);
      const r = await ctx.withApp(async (app) => {
        const s = await findSubscriber(app, who);
        await deleteSubscriber(app.db, s.id);
        return { removed: s.email };
      });
      out.line(`removed ${r.removed}`);
      out.result(r);
    });

  subs
    .command('list')
    .description('List subscribers with counts per status')
    .option('--status <status>', 'pending, confirmed, unsubscribed or failing')
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'print the result as JSON on the last line of stdout')
    .action(async (flags: { status?: string; limit: string; json?: boolean }) => {
      const out = createOutput(flags.json === true);
      if (flags.status && !['pending', 'confirmed', 'unsubscribed', 'failing'].includes(flags.status)) throw new UsageError('--status must be pending, confirmed, unsubscribed or failing');
      const r = await ctx.withApp(async (app) => {
        const counts = await countSubscribers(app.db);
        const list = await listSubscribers(app.db, { status: flags.status as SubscriberStatus | undefined, limit: Math.max(1, Math.min(Number(flags.limit) || 100, 100_000)) });
        return { counts, subscribers: list.map((s) => ({ id: s.id, email: s.email, status: s.status, topics: s.topics, timezone: s.timezone, hour: s.deliveryHour, frequency: s.frequency, nextDueAt: s.nextDueAt })) };
      });
      out.line(Object.entries(r.counts).map(([k, v]) => `${k} ${fmt(v)}`).join(' · '));
      for (const s of r.subscribers) out.line(`${String(s.id).padStart(6)}  ${s.email.padEnd(32)} ${s.status.padEnd(12)} ${String(s.hour).padStart(2, '0')}:00 ${s.timezone}  ${s.topics.join(' | ') || 'all trending'}`);
      out.result(r);
    });

  const bounces = program.command('bounces').description('Bounces, complaints and suppressed addresses');
  bounces
    .command('list')
    .description('Recent bounces and complaints, and suppressed addresses')
    .option('--json', 'print the result as JSON on the last line of stdout')
    .action(async (flags: { json?: boolean }) => {
      const out = createOutput(flags.json === true);
      const r = await ctx.withApp(async (app) => ({ bounces: await listBounces(app.db, 200), suppressed: await listSuppressions(app.db, 200) }));
      out.line(`${r.bounces.length} recent bounces, ${r.suppressed.length} suppressed addresses`);
      for (const b of r.bounces) out.line(`  ${b.createdAt}  ${b.kind.padEnd(9)} ${b.emailKey}  ${b.detail.slice(0, 80)}`);
      for (const s of r.suppressed) out.line(`  suppressed ${s.emailKey} (${s.reason.slice(0, 60)})`);
      out.result(r);
    });
  bounces
    .command('clear <email>')
    .description('Forget an address\'s bounces and lift its suppression (it can receive mail again)')
    .option('--json', 'print the result as JSON on the last line of stdout')
    .action(async (email: string, flags: { json?: boolean }) => {
      const out = createOutput(flags.json === true);
      const a = normaliseAddress(email);
      if (!a.ok) throw new UsageError(`${email}: ${a.reason}`);
      const r = await ctx.withApp(async (app) => ({ bounces: await clearBounces(app.db, a.key), unsuppressed: await unsuppress(app.db, a.key) }));
      out.line(`cleared ${r.bounces} bounces${r.unsuppressed ? ', suppression lifted' : ''}`);
      out.result(r);
    });

}
