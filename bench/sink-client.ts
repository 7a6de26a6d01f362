/**
 * The bench process's handle on the SMTP sink (bench/digest-sink.ts), which runs in a process of its
 * own: start it, ask for its counters, reset them between runs, stop it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { SinkStats } from './digest-lib.ts';

const SINK = path.join(import.meta.dirname, 'digest-sink.ts');

export class Sink {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  /** Starts the sink; `onChild` learns of the process (to kill it on Ctrl-C). */
  static async start(onChild?: (child: ChildProcess) => void): Promise<Sink> {
    const child = fork(SINK, [], { cwd: path.dirname(import.meta.dirname), execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    onChild?.(child);
    const port = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`bench: the SMTP sink exited (${code})`)));
      child.on('message', (m: { type?: string; port?: number }) => m.type === 'ready' && resolve(m.port!));
    });
    child.removeAllListeners('exit');
    return new Sink(child, port);
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid!;
  }

  private ask<T>(type: string, answer: string, key: string): Promise<T> {
    return new Promise((resolve, reject) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return reject(new Error('bench: the SMTP sink is gone'));
      const on = (m: Record<string, unknown>) => {
        if (m.type !== answer) return;
        this.child.off('message', on);
        this.child.off('exit', gone);
        resolve(m[key] as T);
      };
      const gone = () => reject(new Error('bench: the SMTP sink exited'));
      this.child.on('message', on);
      this.child.once('exit', gone);
      this.child.send({ type });
    });
  }

  stats(): Promise<SinkStats> {
    return this.ask<SinkStats>('stats', 'stats', 'stats');
  }

  /** Forgets everything counted so far. */
  async reset(): Promise<void> {
    await this.ask<unknown>('reset', 'reset-done', 'type');
  }

  async stop(): Promise<void> {
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ type: 'stop' });
    await gone;
  }
}
