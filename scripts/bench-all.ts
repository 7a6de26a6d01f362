/**
 * `npm run bench`: runs every benchmark, one after another (they measure the machine, so never two
 * at once), then writes BENCHMARKS.md from their JSON results in bench/out/: the machine, the date,
 * and every goal with its figure, baseline and ratio as each benchmark states it.
 *
 *   npm run bench                 every benchmark at its default size (about 1.5 h on 2 cores)
 *   npm run bench -- --quick      the short variants (about 25 min)
 *   npm run bench -- --report     only rewrite BENCHMARKS.md from the results already in bench/out/
 *   npm run bench -- --only web,load   some of them
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const OUT = path.join(ROOT, 'bench', 'out');

interface Bench {
  name: string;
  script: string;
  json: string;
  title: string;
  baseline: string;
  quick: string[];
}

const BENCHES: Bench[] = [
  { name: 'ingest', script: 'bench:ingest', json: 'ingest.json', title: 'Ingest', baseline: 'bare better-sqlite3 inserts of the same rows', quick: ['--', '--records', '100000'] },
  { name: 'search', script: 'bench:search', json: 'search.json', title: 'Search', baseline: 'MiniSearch and Orama holding the same documents', quick: ['--', '--quick'] },
  { name: 'web', script: 'bench:web', json: 'web.json', title: 'Web', baseline: 'a bare Fastify route returning the same bytes', quick: ['--', '--seconds', '5'] },
  { name: 'digest', script: 'bench:digest', json: 'digest.json', title: 'Digest sending', baseline: 'nodemailer alone sending the same messages to the same SMTP sink', quick: ['--', '--quick'] },
  { name: 'scale', script: 'bench:scale', json: 'scale.json', title: 'Scale-out on PostgreSQL', baseline: 'one worker process on SQLite', quick: ['--', '--quick'] },
  { name: 'load', script: 'bench:load', json: 'load.json', title: 'Load and abuse', baseline: 'no 5xx, memory flat across rounds', quick: ['--', '--quick'] },
];

function parse(argv: string[]) {
  const o = { quick: false, report: false, only: null as string[] | null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') o.quick = true;
    else if (a === '--report') o.report = true;
    else if (a === '--only') o.only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (a === '--help') {
      process.stdout.write('usage: npm run bench -- [--quick] [--report] [--only ingest,search,web,digest,scale,load]\n');
      process.exit(0);
    } else throw new Error(`bench: unknown option ${a}`);
  }
  return o;
}

type Json = Record<string, unknown>;

function readJson(file: string): Json | null {
  try {
    return JSON.parse(readFileSync(path.join(OUT, file), 'utf8')) as Json;
  } catch {
    return null;
  }
}

const cell = (v: unknown) => String(v ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');

function goalsTable(j: Json): string[] {
  const goals = (Array.isArray(j.goals) ? j.goals : []) as { goal?: string; met?: boolean; value?: string }[];
  if (!goals.length) return [];
  return ['| goal | met | measured (against the baseline) |', '|---|---|---|', ...goals.map((g) => `| ${cell(g.goal)} | ${g.met ? 'yes' : '**no**'} | ${cell(g.value)} |`)];
}

/** Figures particular to a benchmark, beyond its goals. */
function extra(name: string, j: Json): string[] {
  if (name === 'load') {
    const rounds = (j.rounds ?? []) as Json[];
    const g = (j.goals ?? {}) as Json;
    return [
      '| round | requests | req/s | p50 ms | p99 ms | 5xx | errors | server RSS MB | ingest runs finished | digest runs finished |',
      '|---|---|---|---|---|---|---|---|---|---|',
      ...rounds.map((r) => `| ${r.round} | ${r.requests} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.fivexx} | ${r.errors} | ${r.rssMb} | ${r.ingestRunsFinished} | ${r.digestRunsFinished} |`),
      '',
      `No 5xx: ${g.no5xx ? 'yes' : '**no**'}. Server RSS last round / first round: ${g.rssGrowthLastOverFirst} (${g.memoryFlat ? 'flat' : '**growing**'}).`,
    ];
  }
  if (name === 'scale') {
    const d = ((j.summary as Json | undefined)?.digests ?? {}) as Json;
    const w = ((j.summary as Json | undefined)?.web ?? {}) as Json;
    const configs = (d.configs ?? []) as Json[];
    const runs = (w.runs ?? []) as Json[];
    const sat = (d.saturation ?? {}) as Json;
    return [
      `Digests: ${d.subscribers} due at once; every run delivered each exactly once.`,
      '',
      '| setup | digests/s | × SQLite | per core-second | exactly once |',
      '|---|---|---|---|---|',
      ...configs.map((c) => `| ${c.label} | ${c.digestsPerSecond} | ×${c.ratioToSqlite} | ${c.perCoreSecond} | ${c.exactlyOnce ? 'yes' : '**no**'} |`),
      '',
      `Where it saturates: ${sat.note ?? '?'}.`,
      '',
      `Web: ${w.papers} papers, ${w.connections} connections.`,
      '',
      '| database | processes | route | req/s | p99 ms | × one process | × SQLite |',
      '|---|---|---|---|---|---|---|',
      ...runs.map((r) => `| ${r.db} | ${r.processes} | \`${r.route}\` | ${r.rps} | ${r.p99} | ${r.ratioToOneProcess ?? ''} | ${r.ratioToSqlite ?? ''} |`),
    ];
  }
  if (name === 'ingest') {
    const p = j.paperboy as Json | undefined;
    const b = j.bare as Json | undefined;
    if (!p || !b) return [];
    return [`paperboy ${p.perSecond} records/s (peak RSS ${p.peakRssMb} MB) against bare inserts ${b.perSecond} records/s: ratio ${j.ratio}.`];
  }
  return [];
}

function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} × ${cpu.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
}

function report(ran: Map<string, { code: number | null; seconds: number }>): void {
  const lines = [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
    '',
    `Machine: ${machine()}.`,
    '',
    'Each benchmark measures paperboy against a baseline in the same run, so the ratios hold on other',
    'machines better than the absolute figures do. Timings are never asserted in tests; they live here.',
    'Re-run one with its own script (`npm run bench:NAME`), then `npm run bench -- --report`.',
    '',
  ];
  for (const b of BENCHES) {
    const j = readJson(b.json);
    lines.push(`## ${b.title} (\`npm run ${b.script}\`)`, '');
    lines.push(`Baseline: ${b.baseline}.`, '');
    if (!j) {
      lines.push('Not run yet.', '');
      continue;
    }
    const r = ran.get(b.name);
    lines.push(`Run ${String(j.date ?? '?').slice(0, 16).replace('T', ' ')} UTC${r ? ` (${Math.round(r.seconds)} s${r.code === 0 ? '' : `, exit ${r.code}`})` : ''}; full results in \`bench/out/${b.json}\`.`, '');
    const g = goalsTable(j);
    if (g.length) lines.push(...g, '');
    const x = extra(b.name, j);
    if (x.length) lines.push(...x, '');
  }
  writeFileSync(path.join(ROOT, 'BENCHMARKS.md'), `${lines.join('\n').trimEnd()}\n`);
  process.stdout.write(`bench: wrote BENCHMARKS.md\n`);
}

function main(): void {
  const o = parse(process.argv.slice(2));
  const ran = new Map<string, { code: number | null; seconds: number }>();
  if (!o.report) {
    for (const b of BENCHES) {
      if (o.only && !o.only.includes(b.name)) continue;
      if (!existsSync(path.join(ROOT, 'bench', `${b.name}.ts`))) continue;
      process.stdout.write(`\n== npm run ${b.script}${o.quick ? ` ${b.quick.join(' ')}` : ''}\n`);
      const t = Date.now();
      const r = spawnSync('npm', ['run', b.script, ...(o.quick ? b.quick : [])], { cwd: ROOT, stdio: 'inherit' });
      ran.set(b.name, { code: r.status, seconds: (Date.now() - t) / 1000 });
    }
  }
  report(ran);
  const failed = [...ran].filter(([, r]) => r.code !== 0);
  if (failed.length) {
    process.stderr.write(`bench: ${failed.map(([n, r]) => `${n} exited ${r.code}`).join(', ')}\n`);
    process.exit(1);
  }
}

main();
