// Preloaded (`node --import ./bench/rss-preload.mjs …`) into the processes bench/ingest.ts measures.
// On exit it writes the process's own peak resident set size (getrusage ru_maxrss, the same figure
// as VmHWM in /proc/<pid>/status) and CPU times to the file named by BENCH_RSS_FILE.
import { writeFileSync } from 'node:fs';

const out = process.env.BENCH_RSS_FILE;
if (out) {
  process.on('exit', () => {
    const r = process.resourceUsage();
    writeFileSync(out, JSON.stringify({ maxRssKb: r.maxRSS, userCpuUs: r.userCPUTime, systemCpuUs: r.systemCPUTime }));
  });
}
