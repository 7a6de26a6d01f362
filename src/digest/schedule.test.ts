import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { instantOf, isTimeZone, localDate, localTime, nextDate, nextIssue, weekday } from './schedule.ts';

const iso = (ms: number) => new Date(ms).toISOString();

test('time zones: IANA names and UTC are known, junk is not', () => {
  for (const tz of ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham']) assert.ok(isTimeZone(tz), tz);
  for (const tz of ['', 'Mars/Olympus', 'Europe/Berlin\r\nX-Evil: 1', 'x'.repeat(100)]) assert.ok(!isTimeZone(tz), tz);
});

test('the local hour in ordinary days, east and west of UTC, and half-hour zones', () => {
  assert.equal(iso(instantOf('2026-06-10', 7, 'Europe/Berlin')), '2026-06-10T05:00:00.000Z');
  assert.equal(iso(instantOf('2026-01-10', 7, 'Europe/Berlin')), '2026-01-10T06:00:00.000Z');
  assert.equal(iso(instantOf('2026-01-10', 7, 'America/New_York')), '2026-01-10T12:00:00.000Z');
  assert.equal(iso(instantOf('2026-01-10', 7, 'Asia/Kolkata')), '2026-01-10T01:30:00.000Z');
  assert.equal(iso(instantOf('2026-01-10', 0, 'Pacific/Auckland')), '2026-01-09T11:00:00.000Z');
  assert.equal(iso(instantOf('2026-01-10', 23, 'UTC')), '2026-01-10T23:00:00.000Z');
});

test('daylight saving: the missing hour moves past the gap, the repeated hour is the first one', () => {
  // Berlin springs forward at 02:00 on 2026-03-29: 02:00 does not exist → 03:00 CEST = 01:00Z.
  assert.equal(iso(instantOf('2026-03-29', 2, 'Europe/Berlin')), '2026-03-29T01:00:00.000Z');
  assert.equal(iso(instantOf('2026-03-29', 7, 'Europe/Berlin')), '2026-03-29T05:00:00.000Z');
  // It falls back at 03:00 on 2026-10-25: 02:00 happens twice; the first is 00:00Z.
  assert.equal(iso(instantOf('2026-10-25', 2, 'Europe/Berlin')), '2026-10-25T00:00:00.000Z');
  // New York: spring forward 2026-03-08 at 02:00.
  assert.equal(iso(instantOf('2026-03-08', 2, 'America/New_York')), '2026-03-08T07:00:00.000Z');
  assert.equal(iso(instantOf('2026-03-08', 8, 'America/New_York')), '2026-03-08T12:00:00.000Z');
  // Lord Howe shifts by half an hour.
  assert.equal(localTime(instantOf('2026-10-04', 7, 'Australia/Lord_Howe'), 'Australia/Lord_Howe').hour, 7);
});

test('property: every local day has exactly one due instant, at the hour (or just after a gap)', () => {
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'America/Sao_Paulo', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham', 'America/St_Johns'];
  fc.assert(
    fc.property(fc.constantFrom(...zones), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 800 }), (tz, hour, dayOffset) => {
      const date = nextDate('2025-12-01', dayOffset);
      const ms = instantOf(date, hour, tz);
      assert.equal(localDate(ms, tz), date);
      const t = localTime(ms, tz);
      assert.ok(t.hour === hour || (t.hour > hour && t.hour <= hour + 2), `${tz} ${date} ${hour} → ${t.hour}:${t.minute}`);
      // Consecutive days are 23 to 25 hours apart (more only across a zone's own rule changes).
      const next = instantOf(nextDate(date), hour, tz);
      assert.ok(next - ms >= 22 * 3_600_000 && next - ms <= 26 * 3_600_000, `${tz} ${date}`);
    }),
    { numRuns: 300 },
  );
});

test('next issues: daily, weekly, paused; never twice for one date', () => {
  const c = { timeZone: 'Europe/Berlin', hour: 7, frequency: 'daily' as const, weekday: 1 };
  const now = Date.parse('2026-03-27T10:00:00Z'); // 11:00 in Berlin: today's 07:00 has passed
  const first = nextIssue(c, now, null)!;
  assert.deepEqual({ date: first.date, due: iso(first.dueMs) }, { date: '2026-03-28', due: '2026-03-28T06:00:00.000Z' });
  const second = nextIssue(c, now, first.date)!;
  // Across the spring-forward night: 07:00 CEST is 05:00Z.
  assert.deepEqual({ date: second.date, due: iso(second.dueMs) }, { date: '2026-03-29', due: '2026-03-29T05:00:00.000Z' });
  const early = nextIssue(c, Date.parse('2026-03-27T05:00:00Z'), null)!;
  assert.equal(early.date, '2026-03-27');
  const weekly = nextIssue({ ...c, frequency: 'weekly', weekday: 1 }, now, null)!;
  assert.equal(weekday(weekly.date), 1);
  assert.equal(weekly.date, '2026-03-30');
  assert.equal(nextIssue({ ...c, frequency: 'paused' }, now, null), null);
});
