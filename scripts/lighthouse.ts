/**
 * Lighthouse (12.2.3, Debian's Chromium) on the home, search and paper pages of a demo instance.
 *
 *   npm run lighthouse            # mobile (Lighthouse's default: Moto G class device, slow 4G)
 *   npm run lighthouse -- --desktop
 *
 * Starts the real server on 127.0.0.1 with the bundled demo papers, runs Lighthouse on each page,
 * prints the category scores and the failing audits, writes the reports to test-artifacts/lighthouse/
 * and exits 1 when a page scores below 95 for performance or below 100 for accessibility.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as chromeLauncher from 'chrome-launcher';
import lighthouse from 'lighthouse';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config/config.ts';
import { loadDemoIfEmpty } from '../src/demo.ts';
import { buildServer } from '../src/web/server.ts';
import { removeDir, tempDir } from '../test/helpers/app.ts';

const desktop = process.argv.includes('--desktop');
const OUT = path.resolve('test-artifacts/lighthouse');
const GOALS = { performance: 95, accessibility: 100 };

const dir = tempDir('paperboy-lighthouse-');
const app = await createApp(loadConfig({ PAPERBOY_DATA_DIR: dir, LOG_LEVEL: 'warn', PAPERBOY_EMBEDDER: 'none', PAPERBOY_RATE_LIMIT: '0' }), { now: () => new Date('2026-08-22T12:00:00Z') });
await loadDemoIfEmpty(app);
const server = await buildServer(app);
const address = await server.listen({ host: '127.0.0.1', port: 0 });
const top = (await server.inject('/api/trending?limit=1')).json<{ results: { key: string }[] }>().results[0]?.key ?? '';
const pages = { home: '/', search: '/search?q=agent+reinforcement+learning', paper: `/paper/${encodeURIComponent(top)}` };

const chrome = await chromeLauncher.launch({
  chromePath: '/usr/bin/chromium',
  chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
mkdirSync(OUT, { recursive: true });
let failed = false;
try {
  for (const [name, url] of Object.entries(pages)) {
    const result = await lighthouse(
      `${address}${url}`,
      { port: chrome.port, output: 'html', logLevel: 'error', onlyCategories: ['performance', 'accessibility', 'best-practices', 'seo'] },
      desktop ? { extends: 'lighthouse:default', settings: { formFactor: 'desktop', screenEmulation: { mobile: false, width: 1350, height: 940, deviceScaleFactor: 1, disabled: false }, throttlingMethod: 'simulate' } } : undefined,
    );
    if (!result) throw new Error(`lighthouse: no result for ${url}`);
    const lhr = result.lhr;
    writeFileSync(path.join(OUT, `${name}${desktop ? '-desktop' : ''}.html`), String(result.report));
    const scores = Object.fromEntries(Object.entries(lhr.categories).map(([k, c]) => [k, Math.round((c.score ?? 0) * 100)]));
    const ok = scores['performance']! >= GOALS.performance && scores['accessibility']! >= GOALS.accessibility;
    failed ||= !ok;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${name.padEnd(7)} ${JSON.stringify(scores)}  ${url}`);
    const metrics = ['first-contentful-paint', 'largest-contentful-paint', 'total-blocking-time', 'cumulative-layout-shift', 'speed-index'];
    console.log(`     ${metrics.map((m) => `${m.replace(/-/g, ' ')} ${lhr.audits[m]?.displayValue ?? '?'}`).join(' · ')}`);
    for (const cat of ['performance', 'accessibility', 'best-practices', 'seo']) {
      for (const ref of lhr.categories[cat]?.auditRefs ?? []) {
        const a = lhr.audits[ref.id];
        if (ref.weight > 0 && a && a.score !== null && a.score < 0.9) console.log(`     ${cat}: ${a.id} (${a.score}) ${a.title}${a.displayValue ? `: ${a.displayValue}` : ''}`);
      }
    }
  }
} finally {
  chrome.kill();
  await server.close();
  await app.close();
  removeDir(dir);
}
console.log(`reports: ${path.relative(process.cwd(), OUT)}/`);
process.exit(failed ? 1 : 0);
