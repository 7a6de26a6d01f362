// Builds the bundled demo corpus from the recorded Daily Papers responses in ../shared/data:
// the last few weeks, slimmed to the fields paperboy reads. Run: node --import tsx scripts/make-demo.ts
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const src = path.resolve(import.meta.dirname, '../../shared/data/hf-daily-papers');
const dest = path.resolve(import.meta.dirname, '../demo/hf-daily');
const days = Number(process.argv[2] ?? 15);
mkdirSync(dest, { recursive: true });

const keepPaper = ['id', 'title', 'summary', 'publishedAt', 'upvotes', 'githubRepo', 'githubStars', 'projectPage'];
for (const name of readdirSync(src).filter((n) => n.endsWith('.json')).sort().slice(-days)) {
  const entries = JSON.parse(readFileSync(path.join(src, name), 'utf8')) as Record<string, unknown>[];
  const slim = entries.map((e) => {
    const p = e.paper as Record<string, unknown>;
    const paper: Record<string, unknown> = Object.fromEntries(keepPaper.filter((k) => k in p).map((k) => [k, p[k]]));
    paper.authors = (p.authors as { name: string }[]).map((a) => ({ name: a.name }));
    return { paper, numComments: e.numComments, publishedAt: e.publishedAt };
  });
  writeFileSync(path.join(dest, name), JSON.stringify(slim) + '\n');
}
