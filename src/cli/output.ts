/** Where command results go: human text, or one JSON object as the last line of stdout. */
export interface Output {
  json: boolean;
  line(text: string): void;
  result(value: unknown): void;
}

export function createOutput(json: boolean, out: NodeJS.WritableStream = process.stdout): Output {
  return {
    json,
    line(text) {
      if (!json) out.write(text + '\n');
    },
    result(value) {
      if (json) out.write(JSON.stringify(value) + '\n');
    },
  };
}

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const fmt = (n: number) => n.toLocaleString('en-US');
