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

/** A comma-separated list of names ("id,name,phone"), no empty items. */
export function parseList(text: string): string[] {
  const items = text.split(',').map((s) => s.trim());
  if (items.some((s) => !s)) throw new InvalidArgumentError('expected names separated by commas, e.g. id,name,phone');
  return items;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?$/;

/**
 * A point in time → ms since epoch: a local date ("2025-01-01", its start), a local date and time
 * ("2025-01-01 08:30"), "now", or a duration back from now ("7d", "12h").
 */
export function parseTime(text: string, nowMs: number = Date.now()): number {
  const s = text.trim();
  if (s === 'now') return nowMs;
  if (DATE_ONLY.test(s) || DATE_TIME.test(s)) {
    const t = new Date(DATE_ONLY.test(s) ? `${s}T00:00:00` : s.replace(' ', 'T')).getTime();
    if (Number.isFinite(t)) return t;
  }
  try {
    return nowMs - parseDuration(s);
  } catch {
    throw new InvalidArgumentError(
      'expected a date (2025-01-01), a date and time (2025-01-01 08:30), now, or a time back from now (7d, 12h)',
    );
  }
}

/** A date (YYYY-MM-DD, end of validity at the start of that local day) → ms since epoch. */
export function parseDate(text: string): number {
  const s = text.trim();
  const t = DATE_ONLY.test(s) ? new Date(`${s}T00:00:00`).getTime() : NaN;
  if (!Number.isFinite(t)) throw new InvalidArgumentError('expected a date such as 2026-12-31');
  return t;
}
