// The flags of xchg policy create/replace turned into a policy body, and a policy's windows and knobs as
// text: "workday 22:00-06:00 transfer=open,batch=5000,concurrency=2,poll=30s".
import { InvalidArgumentError } from 'commander';
import type { PolicyBody, PolicyKnobs, PolicyWindow } from '../../../../common/src/policy.js';
import { formatDuration } from '../format.js';
import { parseDuration } from '../parse.js';

const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const HHMM = /^(\d{1,2}):(\d{2})$/;

/** "transfer=open,batch=5000,concurrency=2,poll=30s" → knobs (an empty text: none). */
export function parseKnobs(text: string): PolicyKnobs {
  const k: PolicyKnobs = {};
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [name, value = ''] = part.split('=').map((s) => s.trim());
    if (name === 'transfer') {
      if (value !== 'open' && value !== 'closed') throw new InvalidArgumentError('transfer= takes open or closed');
      k.transfer = value;
    } else if (name === 'batch' || name === 'concurrency') {
      // Whole numbers only; the range is central's to check (it names the field).
      if (!/^\d+$/.test(value))
        throw new InvalidArgumentError(`${name}= takes a whole number, not ${JSON.stringify(value)}`);
      k[name === 'batch' ? 'batchRecords' : 'concurrency'] = Number(value);
    } else if (name === 'poll') k.pollIntervalMs = parseDuration(value);
    else
      throw new InvalidArgumentError(
        `unknown knob ${JSON.stringify(name)}: use transfer=open|closed, batch=<records>, concurrency=<slots>, poll=<duration>`,
      );
  }
  return k;
}

/** "HH:MM" → minute of the day (24:00 allowed as the end of a day). */
function minuteOf(text: string): number {
  const m = HHMM.exec(text);
  const min = m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
  if (!m || Number(m[2]) > 59 || min > 1440)
    throw new InvalidArgumentError(`${JSON.stringify(text)} is not a time HH:MM`);
  return min;
}

/**
 * "[days] HH:MM-HH:MM [knobs]": days are any (default), workday, rest-day, or weekdays such as mon-fri or
 * sat,sun; an end at or before the start runs into the next day (22:00-06:00).
 */
export function parseWindow(text: string): PolicyWindow {
  const words = text.trim().split(/\s+/);
  const span = words.findIndex((w) => w.includes(':'));
  if (span < 0)
    throw new InvalidArgumentError('expected "[days] HH:MM-HH:MM [knobs]", e.g. "workday 22:00-06:00 transfer=open"');
  const [from = '', to = ''] = words[span]!.split('-');
  const start = minuteOf(from);
  let end = minuteOf(to);
  if (end <= start) end += 1440;
  const w: PolicyWindow = { startMinute: start, endMinute: end, knobs: parseKnobs(words.slice(span + 1).join(',')) };
  const days = words.slice(0, span).join(',');
  if (days === 'workday' || days === 'rest-day') w.dayType = days;
  else if (days && days !== 'any') w.weekdays = parseWeekdays(days);
  return w;
}

/** "mon-fri", "sat,sun", "mon,wed-fri" → ISO weekdays. */
function parseWeekdays(text: string): number[] {
  const out = new Set<number>();
  const day = (s: string): number => {
    const i = DAY_NAMES.indexOf(s as (typeof DAY_NAMES)[number]);
    if (i < 0) throw new InvalidArgumentError(`unknown day ${JSON.stringify(s)}: use workday, rest-day or mon..sun`);
    return i + 1;
  };
  for (const part of text.split(',')) {
    const [a = '', b] = part.split('-');
    const lo = day(a);
    const hi = b === undefined ? lo : day(b);
    for (let d = lo; d <= hi; d++) out.add(d);
  }
  return [...out];
}

/** A point in time: now, +<duration> from now, or an ISO 8601 date-time (with its offset, or UTC). */
export function parseInstant(text: string, nowMs = Date.now()): number {
  const s = text.trim();
  if (s === 'now') return nowMs;
  if (s.startsWith('+')) return nowMs + parseDuration(s.slice(1));
  const t = Date.parse(s);
  if (!Number.isFinite(t)) throw new InvalidArgumentError('expected now, +<duration> (+2h) or an ISO 8601 time');
  return t;
}

/** Flags of create/replace (commander's parsed values). */
export interface PolicyFlags {
  kind: 'static' | 'dynamic';
  task: string[];
  subscription?: string;
  from?: number;
  until?: number;
  utcOffset?: number;
  window?: PolicyWindow[];
  outside?: PolicyKnobs;
  holidays?: string[];
  workdays?: string[];
  reason: string;
  evidence?: PolicyBody['evidence'];
}

export function bodyOf(o: PolicyFlags): PolicyBody {
  return {
    kind: o.kind,
    taskIds: o.task,
    ...(o.subscription && { subscriptionId: o.subscription }),
    ...(o.from !== undefined && { validFromMs: o.from }),
    ...(o.until !== undefined && { validUntilMs: o.until }),
    ...(o.utcOffset !== undefined && { utcOffsetMinutes: o.utcOffset }),
    windows: o.window ?? [],
    ...(o.outside && { outside: o.outside }),
    ...(o.holidays && { holidays: o.holidays }),
    ...(o.workdays && { makeUpWorkdays: o.workdays }),
    reason: o.reason,
    ...(o.evidence && { evidence: o.evidence }),
  };
}

/** A minute of the day as HH:MM; the end of a day is 24:00, a minute of the next day is its own time. */
const hhmm = (min: number): string => {
  const m = min > 1440 ? min - 1440 : min;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
};

/** Knobs as text: "transfer open, batch 5000, concurrency 2, poll 30s" ('-' when none). */
export function knobsText(k: PolicyKnobs): string {
  const parts: string[] = [];
  if (k.transfer) parts.push(`transfer ${k.transfer}`);
  if (k.batchRecords) parts.push(`batch ${k.batchRecords}`);
  if (k.concurrency) parts.push(`concurrency ${k.concurrency}`);
  if (k.pollIntervalMs) parts.push(`poll ${formatDuration(k.pollIntervalMs)}`);
  return parts.join(', ') || '-';
}

/** The days and hours of a window: "workday 22:00-06:00 (next day)". */
export function windowText(w: PolicyWindow): string {
  const days = w.dayType || (w.weekdays?.length ? w.weekdays.map((d) => DAY_NAMES[d - 1] ?? d).join(',') : 'every day');
  const next = w.endMinute > 1440 ? ' (next day)' : '';
  return `${days} ${hhmm(w.startMinute)}-${hhmm(w.endMinute)}${next}`;
}

/** "UTC+08:00". */
export function offsetText(min: number): string {
  const a = Math.abs(min);
  return `UTC${min < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}
