/**
 * Test helpers: a throwaway app on a fresh data dir (real, migrated SQLite),
 * and a runner for the real CLI (`node bin/paperboy.js …`) in a child process.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { createApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config/config.ts';

/** The project root (the directory holding package.json and bin/). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/[\\/]+$/, '');

/** The CLI entry point. */
export const BIN = path.join(ROOT, 'bin', 'paperboy.js');

/** The shared data sets, `../shared/data` from the project root. */
export const SHARED = fileURLToPath(new URL('../../../shared/data', import.meta.url));

/** A fresh, empty temporary directory; the caller removes it (see `removeDir`). */
export function tempDir(prefix = 'paperboy-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * Set (by `.ci/run`'s second pass) to a throwaway PostgreSQL server's URL: every test app and
 * every child `paperboy` then runs on PostgreSQL instead of SQLite, each in a schema of its own.
 */
export const TEST_PG_URL = process.env.PAPERBOY_TEST_DATABASE_URL || undefined;

/** The DATABASE_URL for one schema on the test PostgreSQL server. */
export function pgUrl(schema: string): string {
  if (!TEST_PG_URL) throw new Error('PAPERBOY_TEST_DATABASE_URL is not set');
  const u = new URL(TEST_PG_URL);
  u.searchParams.set('schema', schema);
  return u.toString();
}

/** The database for a test's data dir: SQLite inside it, or (PostgreSQL pass) a schema named after it. */
export function databaseEnv(dataDir: string): Record<string, string> {
  if (!TEST_PG_URL) return {};
  return { DATABASE_URL: pgUrl(`d_${createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16)}`) };
}

/**
 * A real app (migrated SQLite, or PostgreSQL on the PostgreSQL pass) on a fresh temp data dir. `close()` closes the
 * database and removes the dir.
 */
export async function tempApp(env: Record<string, string> = {}, opts: { now?: () => Date; log?: Logger } = {}): Promise<App & { dir: string }> {
  const dir = tempDir();
  try {
    // On PostgreSQL the schema is named after the data dir, so a child `paperboy` given the same
    // dir finds the same data; it is dropped with the dir when the dir is this app's own.
    const dataDir = env.PAPERBOY_DATA_DIR ?? dir;
    const dbEnv = env.DATABASE_URL === undefined ? databaseEnv(dataDir) : {};
    const config = loadConfig({ PAPERBOY_DATA_DIR: dir, LOG_LEVEL: 'silent', ...dbEnv, ...env });
    const schema = dbEnv.DATABASE_URL && dataDir === dir ? new URL(dbEnv.DATABASE_URL).searchParams.get('schema') : null;
    const app = await createApp(config, { ...(opts.now ? { now: opts.now } : {}), ...(opts.log ? { log: opts.log } : {}) });
    let closed = false;
    return {
      ...app,
      dir,
      async close() {
        if (closed) return;
        closed = true;
        try {
          if (schema) await app.db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
          await app.close();
        } finally {
          removeDir(dir);
        }
      },
    };
  } catch (err) {
    removeDir(dir);
    throw err;
  }
}

/**
 * The environment a child `paperboy` gets: only what a process needs to run
 * (PATH, HOME, TMPDIR) — never the caller's PAPERBOY_* / PORT / LOG_LEVEL — plus
 * `PAPERBOY_DEMO=0` and the given variables.
 */
export function childEnv(env: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'TMP', 'TEMP', 'SystemRoot']) {
    const v = process.env[name];
    if (v !== undefined) out[name] = v;
  }
  const db = env.PAPERBOY_DATA_DIR !== undefined && env.DATABASE_URL === undefined ? databaseEnv(env.PAPERBOY_DATA_DIR) : {};
  return { ...out, PAPERBOY_DEMO: '0', ...db, ...env };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node bin/paperboy.js …args` from the project root with no TTY (stdin
 * ignored, stdout/stderr piped). Without PAPERBOY_DATA_DIR in `env`, it gets a
 * temp data dir of its own, removed afterwards. Killed after `timeoutMs`.
 */
export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<CliResult> {
  const ownDir = env.PAPERBOY_DATA_DIR === undefined ? tempDir('paperboy-cli-') : undefined;
  const fullEnv = childEnv(ownDir ? { PAPERBOY_DATA_DIR: ownDir, ...env } : env);
  return new Promise<CliResult>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      if (ownDir) removeDir(ownDir);
    };
    child.once('error', (err) => {
      cleanup();
      reject(err);
    });
    child.once('close', (code, signal) => {
      cleanup();
      if (code === null) reject(new Error(`paperboy ${args.join(' ')}: killed by ${signal} (timeout ${timeoutMs} ms)\n${stderr}`));
      else resolve({ code, stdout, stderr });
    });
  });
}

/** The last non-empty line of a command's stdout, parsed as JSON (the `--json` contract). */
export function lastJson<T = Record<string, unknown>>(stdout: string): T {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  const last = lines.at(-1);
  if (last === undefined) throw new Error('no output on stdout');
  return JSON.parse(last) as T;
}
