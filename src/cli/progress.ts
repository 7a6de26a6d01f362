import type { IngestSummary } from '../ingest/pipeline.ts';

export interface Progress {
  update(s: Readonly<IngestSummary>, fraction: number | undefined): void;
  /** A plain count of a known total (reindex, eval). */
  fraction(done: number, total: number): void;
  done(): void;
}

function tty0(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY === true;
}

function duration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '--:--';
  const s = Math.round(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${r}` : `${m}:${r}`;
}

const n = (x: number) => x.toLocaleString('en-US');

/**
 * On a terminal: a redrawn bar with records/s and ETA. Otherwise: one log line
 * every `intervalMs`, so cron mail and CI logs stay readable.
 */
export function createProgress(label: string, stream: NodeJS.WriteStream = process.stderr, intervalMs = 5000): Progress {
  const started = Date.now();
  let last = tty0(stream) ? 0 : started;
  const tty = stream.isTTY === true;
  let drawn = false;
  return {
    update(s, fraction) {
      const now = Date.now();
      if (now - last < (tty ? 100 : intervalMs)) return;
      last = now;
      const secs = (now - started) / 1000;
      const rate = secs > 0 ? s.read / secs : 0;
      const eta = fraction && fraction > 0 ? duration((secs * (1 - fraction)) / fraction) : '--:--';
      const counts = `${n(s.read)} read, ${n(s.new)} new, ${n(s.updated)} updated, ${n(s.skipped)} skipped`;
      if (tty) {
        const width = 24;
        const filled = fraction === undefined ? 0 : Math.round(Math.min(fraction, 1) * width);
        const bar = fraction === undefined ? '' : `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% `;
        const line = `${label} ${bar}${counts} · ${n(Math.round(rate))} rec/s · ETA ${eta}`;
        stream.write(`\r\x1b[2K${line.slice(0, (stream.columns || 120) - 1)}`);
        drawn = true;
      } else {
        const pct = fraction === undefined ? '' : ` (${(fraction * 100).toFixed(1)}%, ETA ${eta})`;
        stream.write(`${label}: ${counts}, ${n(Math.round(rate))} rec/s${pct}\n`);
      }
    },
    fraction(done, total) {
      const s = { read: done, new: 0, updated: 0, unchanged: 0, skipped: 0, filtered: 0, errors: [], failures: [] };
      const now = Date.now();
      if (now - last < (tty ? 100 : intervalMs)) return;
      last = now;
      const secs = (now - started) / 1000;
      const f = total ? done / total : undefined;
      const eta = f && f > 0 ? duration((secs * (1 - f)) / f) : '--:--';
      const line = `${label} ${n(done)}/${n(total)}${f === undefined ? '' : ` (${(f * 100).toFixed(0)}%)`} · ${n(Math.round(secs > 0 ? s.read / secs : 0))}/s · ETA ${eta}`;
      if (tty) {
        stream.write(`\r\x1b[2K${line.slice(0, (stream.columns || 120) - 1)}`);
        drawn = true;
      } else {
        stream.write(line + '\n');
      }
    },
    done() {
      if (tty && drawn) stream.write('\r\x1b[2K');
    },
  };
}
