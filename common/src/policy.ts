// Scheduling policies (策略): the one contract between central, which stores, explains and delivers them
// (proto PolicySpec), and the agent, which applies the knobs in force (policy-knobs.ts). Declared once as
// TypeBox schemas; both sides check a policy with policyProblems() before storing or applying it.
import { Type, type Static } from 'typebox';

export const POLICY_KINDS = ['static', 'dynamic'] as const;
/** static (静态策略): set ahead of time for periodic tides; dynamic (动态策略): a surge's, overriding statics while valid. */
export type PolicyKind = (typeof POLICY_KINDS)[number];

export const DAY_TYPES = ['', 'workday', 'rest-day'] as const;
/** '' any day; workday / rest-day by the weekday, the policy's holidays and make-up workdays (调休). */
export type DayType = (typeof DAY_TYPES)[number];

export const TRANSFER_MODES = ['', 'open', 'closed'] as const;
export type TransferMode = (typeof TRANSFER_MODES)[number];

export const EVIDENCE_KINDS = ['cluster', 'forecast', 'surge', 'probe', 'history', 'operator'] as const;

export const GENERATED_BY = ['brain', 'operator'] as const;

/** Bounds of the knobs (a policy outside them is refused naming the knob). */
export const KNOB_LIMITS = {
  /** Records per batch. */
  batchRecords: { min: 1, max: 100_000 },
  /** Read slots held per step (read-slots.ts); the agent holds at most its own slot count. */
  concurrency: { min: 1, max: 8 },
  /** Wait after the source is read to its end, ms (up to a day). */
  pollIntervalMs: { min: 1, max: 86_400_000 },
} as const;

/** The knobs a policy sets; an absent knob is left to the task's own setting or an earlier policy. */
export const PolicyKnobsSchema = Type.Object(
  {
    transfer: Type.Optional(
      Type.Enum([...TRANSFER_MODES], {
        description: "'open': a bulk flow may read and send; 'closed': it waits until a window opens it; '': unset",
      }),
    ),
    batchRecords: Type.Optional(Type.Integer({ description: 'records per batch, 1..100000 (absent: unset)' })),
    concurrency: Type.Optional(
      Type.Integer({ description: 'read slots the task holds per step, 1..8; one page read per slot (absent: unset)' }),
    ),
    pollIntervalMs: Type.Optional(
      Type.Integer({ description: 'wait after the source is read to its end, ms, 1..86400000 (absent: unset)' }),
    ),
  },
  { additionalProperties: false },
);
export type PolicyKnobs = Static<typeof PolicyKnobsSchema>;

/** A window of local time: opens on a matching day at startMinute, closes at endMinute (above 1440: next day). */
export const PolicyWindowSchema = Type.Object(
  {
    dayType: Type.Optional(Type.Enum([...DAY_TYPES], { description: "'' (any day) | workday | rest-day" })),
    weekdays: Type.Optional(
      Type.Array(Type.Integer(), { description: 'ISO weekdays it opens on, 1 = Monday .. 7 = Sunday; empty: any' }),
    ),
    startMinute: Type.Integer({ description: 'minute of the local day it opens, 0..1439' }),
    endMinute: Type.Integer({
      description: 'minute it closes, startMinute < endMinute <= startMinute + 1440 (22:00-06:00 is 1320-1800)',
    }),
    knobs: PolicyKnobsSchema,
  },
  { additionalProperties: false },
);
export type PolicyWindow = Static<typeof PolicyWindowSchema>;

/** One figure a policy rests on (the cluster, a forecast, a surge, a probe). */
export const PolicyEvidenceSchema = Type.Object(
  {
    kind: Type.Enum([...EVIDENCE_KINDS]),
    name: Type.String({ minLength: 1, description: "what the figure is, e.g. 'label', 'peak_records', 'p99_ms'" }),
    value: Type.Optional(Type.Number()),
    unit: Type.Optional(Type.String()),
    text: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type PolicyEvidence = Static<typeof PolicyEvidenceSchema>;

/** What a policy says, as written by the brain or an operator (central adds id, generation, nodes). */
export const PolicyBodySchema = Type.Object(
  {
    kind: Type.Enum([...POLICY_KINDS]),
    taskIds: Type.Array(Type.String({ minLength: 1 }), { description: 'tasks it applies to (at least one)' }),
    subscriptionId: Type.Optional(Type.String({ description: 'the subscription whose flow it shapes' })),
    validFromMs: Type.Optional(
      Type.Integer({ minimum: 0, description: 'in force from, ms since epoch (0: since ever)' }),
    ),
    validUntilMs: Type.Optional(
      Type.Integer({ minimum: 0, description: 'in force until (exclusive), ms (0: no end)' }),
    ),
    utcOffsetMinutes: Type.Optional(
      Type.Integer({ description: 'local time - UTC in minutes, -840..840 (default 480, China Standard Time)' }),
    ),
    windows: Type.Array(PolicyWindowSchema),
    outside: Type.Optional(PolicyKnobsSchema),
    holidays: Type.Optional(Type.Array(Type.String(), { description: 'weekday rest days (法定节假日), YYYY-MM-DD' })),
    makeUpWorkdays: Type.Optional(Type.Array(Type.String(), { description: 'weekend workdays (调休), YYYY-MM-DD' })),
    reason: Type.String({ minLength: 1, description: 'why, in one sentence' }),
    evidence: Type.Optional(Type.Array(PolicyEvidenceSchema)),
  },
  { additionalProperties: false },
);
export type PolicyBody = Static<typeof PolicyBodySchema>;

/** A policy as both sides hold it: every optional part filled in. */
export interface PolicyDefinition {
  id: string;
  kind: PolicyKind;
  taskIds: string[];
  subscriptionId: string;
  /** ms since epoch; 0: since ever. */
  validFromMs: number;
  /** ms since epoch, exclusive; 0: no end. */
  validUntilMs: number;
  /** Local time - UTC, minutes (480: China Standard Time). */
  utcOffsetMinutes: number;
  windows: PolicyWindow[];
  outside: PolicyKnobs;
  holidays: string[];
  makeUpWorkdays: string[];
  reason: string;
  evidence: PolicyEvidence[];
}

/** China Standard Time: the default local time of windows. */
export const DEFAULT_UTC_OFFSET_MINUTES = 480;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Every problem of a policy, each naming its field (`windows[0].endMinute: ...`); empty when it is sound. */
export function policyProblems(p: PolicyDefinition): string[] {
  const out: string[] = [];
  if (!POLICY_KINDS.includes(p.kind)) out.push(`kind: must be static or dynamic, not ${JSON.stringify(p.kind)}`);
  if (!p.taskIds.length) out.push('taskIds: names no task (at least one is needed)');
  p.taskIds.forEach((t, i) => {
    if (!t) out.push(`taskIds[${i}]: is empty`);
  });
  if (p.validFromMs < 0) out.push('validFromMs: must be >= 0');
  if (p.validUntilMs < 0) out.push('validUntilMs: must be >= 0');
  if (p.validUntilMs && p.validUntilMs <= p.validFromMs)
    out.push(`validUntilMs: ${p.validUntilMs} is not after validFromMs ${p.validFromMs}`);
  if (!Number.isInteger(p.utcOffsetMinutes) || Math.abs(p.utcOffsetMinutes) > 840)
    out.push(`utcOffsetMinutes: ${p.utcOffsetMinutes} is outside -840..840`);
  p.windows.forEach((w, i) => out.push(...windowProblems(w, `windows[${i}]`)));
  out.push(...knobProblems(p.outside, 'outside'));
  p.holidays.forEach((d, i) => {
    if (!DATE.test(d)) out.push(`holidays[${i}]: ${JSON.stringify(d)} is not a date YYYY-MM-DD`);
  });
  p.makeUpWorkdays.forEach((d, i) => {
    if (!DATE.test(d)) out.push(`makeUpWorkdays[${i}]: ${JSON.stringify(d)} is not a date YYYY-MM-DD`);
  });
  if (!p.reason.trim()) out.push('reason: is empty (every policy says why)');
  return out;
}

function windowProblems(w: PolicyWindow, at: string): string[] {
  const out: string[] = [];
  const { startMinute: s, endMinute: e } = w;
  if (!Number.isInteger(s) || s < 0 || s > 1439) out.push(`${at}.startMinute: ${s} is outside 0..1439`);
  if (!Number.isInteger(e) || e <= s) out.push(`${at}.endMinute: ${e} is not after startMinute ${s}`);
  else if (e > s + 1440) out.push(`${at}.endMinute: ${e} is more than a day (1440 minutes) after startMinute ${s}`);
  if (w.dayType !== undefined && !DAY_TYPES.includes(w.dayType))
    out.push(`${at}.dayType: must be '', workday or rest-day, not ${JSON.stringify(w.dayType)}`);
  (w.weekdays ?? []).forEach((d, j) => {
    if (!Number.isInteger(d) || d < 1 || d > 7) out.push(`${at}.weekdays[${j}]: ${d} is outside 1..7 (1 = Monday)`);
  });
  out.push(...knobProblems(w.knobs, `${at}.knobs`));
  return out;
}

function knobProblems(k: PolicyKnobs, at: string): string[] {
  const out: string[] = [];
  if (k.transfer !== undefined && !TRANSFER_MODES.includes(k.transfer))
    out.push(`${at}.transfer: must be open, closed or '', not ${JSON.stringify(k.transfer)}`);
  for (const name of ['batchRecords', 'concurrency', 'pollIntervalMs'] as const) {
    const v = k[name];
    const { min, max } = KNOB_LIMITS[name];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < min || v > max) out.push(`${at}.${name}: ${v} is outside ${min}..${max}`);
  }
  return out;
}

/** A body with its optional parts filled in (defaults: since ever, no end, China Standard Time, no knobs outside). */
export function policyOf(id: string, b: PolicyBody): PolicyDefinition {
  return {
    id,
    kind: b.kind,
    taskIds: [...b.taskIds],
    subscriptionId: b.subscriptionId ?? '',
    validFromMs: b.validFromMs ?? 0,
    validUntilMs: b.validUntilMs ?? 0,
    utcOffsetMinutes: b.utcOffsetMinutes ?? DEFAULT_UTC_OFFSET_MINUTES,
    windows: b.windows.map((w) => ({ ...w, knobs: { ...w.knobs } })),
    outside: { ...(b.outside ?? {}) },
    holidays: [...(b.holidays ?? [])],
    makeUpWorkdays: [...(b.makeUpWorkdays ?? [])],
    reason: b.reason,
    evidence: [...(b.evidence ?? [])],
  };
}

/** Knobs without their unset values (0 or '' as the proto carries them, or absent). */
export function cleanKnobs(k: PolicyKnobs): PolicyKnobs {
  const out: PolicyKnobs = {};
  if (k.transfer) out.transfer = k.transfer;
  if (k.batchRecords) out.batchRecords = k.batchRecords;
  if (k.concurrency) out.concurrency = k.concurrency;
  if (k.pollIntervalMs) out.pollIntervalMs = k.pollIntervalMs;
  return out;
}
