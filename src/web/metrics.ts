/**
 * Prometheus metrics in the text exposition format (version 0.0.4), without a client library:
 * counters and histograms kept in this process (requests), plus gauges read from the database at
 * scrape time (ingest, digests, bounces: the same figures whichever process is scraped, because the
 * work they count may have been done by any worker).
 */

type Labels = Record<string, string>;

/** Label values escaped as the format asks: backslash, double quote and newline. */
function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels: Labels): string {
  const keys = Object.keys(labels);
  if (!keys.length) return '';
  return `{${keys.map((k) => `${k}="${escapeLabel(labels[k]!)}"`).join(',')}}`;
}

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}

  observe(labels: Labels, value: number): void {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (!s) {
      // Bounded cardinality: labels come from route patterns, methods and status classes.
      if (this.series.size >= 2000) return;
      s = { labels, counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  render(): string {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket${labelText({ ...s.labels, le: num(b) })} ${s.counts[i]}`));
      out.push(`${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`);
      out.push(`${this.name}_sum${labelText(s.labels)} ${num(s.sum)}`);
      out.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return out.join('\n');
  }
}

export interface Sample {
  labels?: Labels;
  value: number;
}

/** One gauge or counter family, rendered from samples. */
export function family(name: string, type: 'gauge' | 'counter', help: string, samples: readonly Sample[]): string {
  const out = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const s of samples) out.push(`${name}${labelText(s.labels ?? {})} ${num(s.value)}`);
  return out.join('\n');
}

/** Seconds; from 1 ms to 10 s. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** The metrics this process keeps itself. */
export class ProcessMetrics {
  readonly requests = new Histogram('paperboy_http_request_duration_seconds', 'Time to answer HTTP requests, by route pattern, method and status class.', LATENCY_BUCKETS);
  private readonly started = Date.now();

  render(): string {
    const mem = process.memoryUsage();
    return [
      this.requests.render(),
      family('process_resident_memory_bytes', 'gauge', 'Resident memory of this process.', [{ value: mem.rss }]),
      family('nodejs_heap_used_bytes', 'gauge', 'V8 heap in use.', [{ value: mem.heapUsed }]),
      family('process_start_time_seconds', 'gauge', 'Start time of this process since the Unix epoch.', [{ value: Math.floor(this.started / 1000) }]),
    ].join('\n');
  }
}
