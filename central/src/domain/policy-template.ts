// A cluster's static-policy template (cluster-policy.ts) as a policy body of the one contract
// (common/src/policy.ts), ready for PolicyService.create(body, 'brain'): its windows in local time with the
// calendar's day types carried in the spec, its knobs bounded to what the agents accept, and why. Pure.
import { KNOB_LIMITS, type PolicyBody, type PolicyKnobs, type PolicyWindow } from '../../../common/src/policy.js';
import type { CalendarSpec } from './calendar.js';
import type { PolicyTemplate, TransferWindow } from './cluster-policy.js';

export interface TemplatePolicyOptions {
  /** The pair's tasks it applies to (the provider's sync task, usually). */
  taskIds: string[];
  subscriptionId?: string;
  /** Holidays, make-up workdays and the UTC offset (central's governance calendar). */
  calendar: CalendarSpec;
  /** The cluster's label and id, for the explanation. */
  cluster: { id: string; label: string };
  /**
   * Hold bulk transfers outside the template's windows (transfer closed there, open inside). Default false:
   * outside a window the task keeps its own settings (rows that come then still go at once).
   */
  closedOutside?: boolean;
  validFromMs?: number;
  validUntilMs?: number;
}

const clamp = (v: number, { min, max }: { min: number; max: number }): number =>
  Math.max(min, Math.min(max, Math.round(v)));

/** A template window in minutes of the local day; an end at or before the start runs into the next day. */
function windowOf(w: TransferWindow, knobs: PolicyKnobs): PolicyWindow {
  const startMinute = (w.startHour % 24) * 60;
  let endMinute = w.endHour * 60;
  if (endMinute <= startMinute) endMinute += 1440;
  const days: Pick<PolicyWindow, 'dayType' | 'weekdays'> =
    w.days === 'working'
      ? { dayType: 'workday' }
      : w.days === 'rest'
        ? { dayType: 'rest-day' }
        : w.days === 'every'
          ? {}
          : { weekdays: [w.days] };
  return { ...days, startMinute, endMinute, knobs };
}

/** The static policy a template gives one pair's tasks. */
export function staticPolicyFromTemplate(t: PolicyTemplate, o: TemplatePolicyOptions): PolicyBody {
  const knobs: PolicyKnobs = {
    batchRecords: clamp(t.batchRecords, KNOB_LIMITS.batchRecords),
    concurrency: clamp(t.concurrency, KNOB_LIMITS.concurrency),
  };
  const closed = (o.closedOutside ?? false) && t.windows.length > 0;
  const windows = t.windows.map((w) => windowOf(w, closed ? { transfer: 'open', ...knobs } : knobs));
  return {
    kind: 'static',
    taskIds: o.taskIds,
    ...(o.subscriptionId && { subscriptionId: o.subscriptionId }),
    ...(o.validFromMs !== undefined && { validFromMs: o.validFromMs }),
    ...(o.validUntilMs !== undefined && { validUntilMs: o.validUntilMs }),
    utcOffsetMinutes: o.calendar.utcOffsetMinutes,
    windows,
    outside: closed ? { transfer: 'closed' } : windows.length ? {} : knobs,
    holidays: [...o.calendar.holidays],
    makeUpWorkdays: [...o.calendar.workdays],
    reason: `cluster ${o.cluster.label}: ${t.reason}`,
    evidence: [
      { kind: 'cluster', name: 'label', text: o.cluster.label },
      { kind: 'cluster', name: 'cluster_id', text: o.cluster.id },
      { kind: 'cluster', name: 'surge_sensitivity', text: t.surgeSensitivity },
      ...(t.prewarm.standby
        ? [
            {
              kind: 'cluster' as const,
              name: 'prewarm_before_local_hour',
              value: t.prewarm.beforeLocalHour ?? 0,
              unit: 'h',
              text: `standby warmed ${t.prewarm.leadMinutes} min before`,
            },
          ]
        : []),
    ],
  };
}
