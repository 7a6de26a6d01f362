/**
 * When each subscriber's digest is due, as pure functions over IANA time zones (Intl, no tables of
 * our own). A digest is due at the subscriber's local delivery hour; its issue date is the local date
 * at that moment. Daylight-saving changes are handled by asking Intl what the local wall clock reads:
 *
 * - the hour that does not exist (spring forward, e.g. 02:00 in Europe/Berlin on the last Sunday of
 *   March) moves to the first instant after the gap;
 * - the hour that happens twice (fall back) is the first of the two;
 *
 * so every local day gets exactly one due instant.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True for a time zone Intl knows (IANA names such as Europe/Berlin, and UTC). */
export function isTimeZone(tz: string): boolean {
  if (!tz || tz.length > 64) return false;
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The wall-clock reading in a time zone at an instant. */
export function localTime(ms: number, timeZone: string): LocalTime {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { year: parts['year']!, month: parts['month']!, day: parts['day']!, hour: parts['hour']! % 24, minute: parts['minute']!, second: parts['second']! };
}

/** YYYY-MM-DD of the local date at an instant. */
export function localDate(ms: number, timeZone: string): string {
  const t = localTime(ms, timeZone);
  return `${t.year}-${String(t.month).padStart(2, '0')}-${String(t.day).padStart(2, '0')}`;
}

/** The zone's offset from UTC at an instant, in ms (local = utc + offset). */
export function offsetAt(ms: number, timeZone: string): number {
  const t = localTime(ms, timeZone);
  const asUtc = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant a local date's `hour:00` happens in a zone. In a spring-forward gap: the first instant
 * after it; in a repeated hour: the earlier one.
 */
export function instantOf(date: string, hour: number, timeZone: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d, hour, 0, 0);
  // Try the offsets in force around that wall time; keep the earliest instant that reads as it.
  const candidates = new Set([offsetAt(wall - 86_400_000, timeZone), offsetAt(wall, timeZone), offsetAt(wall + 86_400_000, timeZone)]);
  const exact = [...candidates].map((off) => wall - off).filter((ms) => {
    const t = localTime(ms, timeZone);
    return t.hour === hour && t.minute === 0 && localDate(ms, timeZone) === date;
  });
  if (exact.length) return Math.min(...exact);
  // The hour does not exist that day (a gap): the first instant after the gap.
  const before = Math.min(...[...candidates].map((off) => wall - off));
  for (let ms = before; ms < before + 4 * 3_600_000; ms += 60_000) {
    const t = localTime(ms, timeZone);
    if (localDate(ms, timeZone) === date && t.hour >= hour) return ms;
  }
  return before;
}

/** The local date after `date` (calendar arithmetic, no zone needed). */
export function nextDate(date: string, days = 1): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** ISO weekday of a date: 1 = Monday … 7 = Sunday. */
export function weekday(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return ((new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7) + 1;
}

export interface Cadence {
  timeZone: string;
  hour: number;
  frequency: 'daily' | 'weekly' | 'paused';
  /** For weekly: 1 = Monday … 7 = Sunday. */
  weekday: number;
}

/**
 * The next issue strictly after `afterDate` (or, with no previous issue, the first one at or after
 * `nowMs`): its local date and the instant it is due. Null when paused.
 */
export function nextIssue(c: Cadence, nowMs: number, afterDate: string | null): { date: string; dueMs: number } | null {
  if (c.frequency === 'paused') return null;
  let date = afterDate ? nextDate(afterDate) : localDate(nowMs, c.timeZone);
  for (let i = 0; i < 15; i++, date = nextDate(date)) {
    if (c.frequency === 'weekly' && weekday(date) !== c.weekday) continue;
    const dueMs = instantOf(date, c.hour, c.timeZone);
    if (!afterDate && dueMs < nowMs - 60_000) continue;
    return { date, dueMs };
  }
  throw new Error(`digest: no issue date found for ${JSON.stringify(c)}`);
}
