// The knobs in force (策略生效): which batch size, concurrency, transfer window and poll interval a task runs
// with at a given time, from its policies alone. Pure (time is an argument; local time from the policy's UTC
// offset, day types from its holidays and make-up workdays), so the agent needs no time-zone database.
import type { PolicyDefinition, PolicyKnobs, PolicyWindow } from './policy.js';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** Where a knob in force comes from: a policy's window (its index) or its outside knobs. */
export interface KnobSource {
  policyId: string;
  kind: PolicyDefinition['kind'];
  /** Index of the window that holds the time, or 'outside'. */
  window: number | 'outside';
}

export interface KnobsInForce {
  /** The knobs set by policies (absent: the task's own setting). */
  knobs: PolicyKnobs;
  /** The policies that contributed, in the order they were applied. */
  sources: KnobSource[];
  /** When the knobs may next change (a window or validity edge), ms since epoch; undefined: never. */
  nextChangeMs: number | undefined;
}

/** Whether a policy is valid at `nowMs` (validFromMs inclusive, validUntilMs exclusive, 0 = open end). */
export function isValidAt(p: PolicyDefinition, nowMs: number): boolean {
  return (p.validFromMs === 0 || nowMs >= p.validFromMs) && (p.validUntilMs === 0 || nowMs < p.validUntilMs);
}

/**
 * The knobs in force for `taskId` at `nowMs`. Statics valid now first, then dynamics (a surge overrides
 * the tide), each group by validFromMs then id; a later policy's knob replaces an earlier one's. A policy
 * gives the knobs of its first window holding the time, else its outside knobs.
 */
export function knobsInForce(policies: readonly PolicyDefinition[], taskId: string, nowMs: number): KnobsInForce {
  const mine = policies.filter((p) => p.taskIds.includes(taskId));
  const valid = mine
    .filter((p) => isValidAt(p, nowMs))
    .sort(
      (a, b) =>
        (a.kind === b.kind ? 0 : a.kind === 'static' ? -1 : 1) ||
        a.validFromMs - b.validFromMs ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
  const knobs: PolicyKnobs = {};
  const sources: KnobSource[] = [];
  for (const p of valid) {
    const i = p.windows.findIndex((w) => windowHolds(p, w, nowMs));
    Object.assign(knobs, i >= 0 ? p.windows[i]!.knobs : p.outside);
    sources.push({ policyId: p.id, kind: p.kind, window: i >= 0 ? i : 'outside' });
  }
  return { knobs, sources, nextChangeMs: nextChange(mine, nowMs) };
}

/** Local day number (days since 1970-01-01 local) and ms into it. */
function localDay(p: PolicyDefinition, ms: number): { day: number; msOfDay: number } {
  const local = ms + p.utcOffsetMinutes * MINUTE_MS;
  const day = Math.floor(local / DAY_MS);
  return { day, msOfDay: local - day * DAY_MS };
}

/** ISO weekday of a local day number (1970-01-01 was a Thursday, 4). */
const isoWeekday = (day: number): number => ((((day + 3) % 7) + 7) % 7) + 1;

/** The local date of a day number, YYYY-MM-DD. */
const dateOf = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);

/** 'workday' or 'rest-day' of a local day: holidays rest, make-up workdays work, else Monday-Friday work. */
export function dayTypeOf(
  p: Pick<PolicyDefinition, 'holidays' | 'makeUpWorkdays'>,
  day: number,
): 'workday' | 'rest-day' {
  const date = dateOf(day);
  if (p.holidays.includes(date)) return 'rest-day';
  if (p.makeUpWorkdays.includes(date)) return 'workday';
  return isoWeekday(day) <= 5 ? 'workday' : 'rest-day';
}

/** Whether a window opens on local day `day`. */
function opensOn(p: PolicyDefinition, w: PolicyWindow, day: number): boolean {
  if (w.weekdays?.length && !w.weekdays.includes(isoWeekday(day))) return false;
  return !w.dayType || dayTypeOf(p, day) === w.dayType;
}

/** Whether the window holds `nowMs`: opened today, or yesterday and running past midnight. */
function windowHolds(p: PolicyDefinition, w: PolicyWindow, nowMs: number): boolean {
  const { day, msOfDay } = localDay(p, nowMs);
  for (const d of [day, day - 1]) {
    const at = msOfDay + (day - d) * DAY_MS;
    if (at >= w.startMinute * MINUTE_MS && at < w.endMinute * MINUTE_MS && opensOn(p, w, d)) return true;
  }
  return false;
}

/** The first edge after `nowMs` of a policy's validity or of a window (opening or closing), if any. */
function nextChange(policies: readonly PolicyDefinition[], nowMs: number): number | undefined {
  let next: number | undefined;
  const consider = (t: number): void => {
    if (t > nowMs && (next === undefined || t < next)) next = t;
  };
  for (const p of policies) {
    if (p.validFromMs) consider(p.validFromMs);
    if (p.validUntilMs) consider(p.validUntilMs);
    if (p.validUntilMs && p.validUntilMs <= nowMs) continue;
    const { day } = localDay(p, nowMs);
    const offsetMs = p.utcOffsetMinutes * MINUTE_MS;
    for (let d = day - 1; d <= day + 8; d++)
      for (const w of p.windows) {
        if (!opensOn(p, w, d)) continue;
        consider(d * DAY_MS + w.startMinute * MINUTE_MS - offsetMs);
        consider(d * DAY_MS + w.endMinute * MINUTE_MS - offsetMs);
      }
  }
  return next;
}

/** Knobs as one line for logs and the CLI ("transfer closed, batch 500, concurrency 2, poll 1000 ms"). */
export function describeKnobs(k: PolicyKnobs): string {
  const parts: string[] = [];
  if (k.transfer) parts.push(`transfer ${k.transfer}`);
  if (k.batchRecords) parts.push(`batch ${k.batchRecords}`);
  if (k.concurrency) parts.push(`concurrency ${k.concurrency}`);
  if (k.pollIntervalMs) parts.push(`poll ${k.pollIntervalMs} ms`);
  return parts.join(', ') || 'task defaults';
}
