import { skip, type ParseItem } from './record.ts';

export function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Parses one line that must hold a JSON object; anything else is a skip with the reason. */
export function jsonObjectLine(text: string, where: string): { object: Record<string, unknown> } | { skip: ParseItem } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return { skip: skip(where, `invalid JSON: ${(err as Error).message.slice(0, 120)}`) };
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return { skip: skip(where, `expected a JSON object, got ${typeName(v)}`) };
  return { object: v as Record<string, unknown> };
}
