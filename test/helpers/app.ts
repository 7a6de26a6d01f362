/**
 * Test helpers: a throwaway app on a fresh data dir (real, migrated SQLite),
 * and a runner for the real CLI (`node bin/paperboy.js …`) in a child process.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
 * A real app (migrated SQLite) on a fresh temp data dir. `close()` closes the
 * database and removes the dir.
 */
export async function tempApp(env: Record<string, string> = {}, opts: { now?: () => Date } = {}): Promise<App & { dir: string }> {
  const dir = tempDir();
  try {
    const config = loadConfig({ PAPERBOY_DATA_DIR: dir, LOG_LEVEL: 'silent', ...env });
    const app = await createApp(config, opts.now ? { now: opts.now } : {});
    let closed = false;
    return {
      ...app,
      dir,
      async close() {
        if (closed) return;
        closed = true;
        try {
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
  return { ...out, PAPERBOY_DEMO: '0', ...env };
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
