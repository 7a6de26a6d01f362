import type { App } from '../app.ts';
import type { Config } from '../config/config.ts';

export interface CliContext {
  /** Loads the config (validated) — lazily, so `--help` works with a broken environment. */
  config(): Config;
  /** Opens the app (database migrated), runs fn, closes it. */
  withApp<T>(fn: (app: App) => Promise<T>): Promise<T>;
  /** Sets the process exit status. */
  exit(code: number): void;
}
