// Parsers of flag values (commander argParsers). A bad value throws InvalidArgumentError, which commander
// turns into "option '--ttl <duration>' argument '7x' is invalid. ..." — the message names the flag.
import { InvalidArgumentError } from 'commander';

const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "500ms", "30s", "5m", "2h", "7d" or combinations ("1h30m") → milliseconds; "0" is zero. */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (s === '0') return 0;
  if (!DURATION.test(s)) throw new InvalidArgumentError('expected a duration such as 500ms, 30s, 5m, 2h or 7d');
  let ms = 0;
  for (const m of s.matchAll(PART)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  if (!Number.isSafeInteger(Math.round(ms))) throw new InvalidArgumentError('duration is too long');
  return Math.round(ms);
}

export function parseBoolean(text: string): boolean {
  const s = text.trim().toLowerCase();
  if (s === 'true' || s === 'yes') return true;
  if (s === 'false' || s === 'no') return false;
  throw new InvalidArgumentError('expected true or false');
}

/** A JSON object (task parameters): `{"table":"people"}`. */
export function parseJsonObject(text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new InvalidArgumentError('expected a JSON object such as \'{"table":"people"}\'');
  return v as Record<string, unknown>;
}

/** A whole number ≥ `min` (limits, sequence numbers). */
export function integerAtLeast(min: number): (text: string) => number {
  return (text: string) => {
    const s = text.trim();
    const n = Number(s);
    if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`expected a whole number of at least ${min}`);
    return n;
  };
}
