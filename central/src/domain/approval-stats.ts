// Approval response times against the deadline, pure (time and calendar are arguments): per group of
// applications the median and 90th percentile of the answered ones' response in working days, and the share
// answered on time among those already due (answered, or pending past the deadline).
import type { WorkingCalendar } from './calendar.js';

/** What the statistics read of an application. */
export interface ApplicationTimes {
  status: string;
  submittedAt: number;
  deadlineAt: number;
  answeredAt: number | null;
}

export interface ApprovalFigures {
  received: number;
  answered: number;
  answeredOnTime: number;
  pending: number;
  overdue: number;
  /** In working days (a half when the count is even); null when nothing was answered. */
  medianWorkingDays: number | null;
  /** Nearest-rank 90th percentile in working days; null when nothing was answered. */
  p90WorkingDays: number | null;
  /** answeredOnTime / (answered + overdue), 0..1; null when neither. */
  onTimeShare: number | null;
}

/** The q-quantile (0 < q ≤ 1) of ascending `sorted` by nearest rank; undefined when empty. */
export function nearestRank(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}

/** The median of ascending `sorted` (the mean of the middle two when even); undefined when empty. */
export function median(sorted: readonly number[]): number | undefined {
  const n = sorted.length;
  if (n === 0) return undefined;
  return n % 2 === 1 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

/** The figures of a group of applications at `nowMs`. */
export function approvalFigures(
  apps: readonly ApplicationTimes[],
  calendar: WorkingCalendar,
  nowMs: number,
): ApprovalFigures {
  const days: number[] = [];
  let onTime = 0;
  let pending = 0;
  let overdue = 0;
  for (const a of apps) {
    if (a.answeredAt !== null) {
      days.push(calendar.workingDaysBetween(a.submittedAt, a.answeredAt));
      if (a.answeredAt < a.deadlineAt) onTime++;
    } else if (a.status === 'pending') {
      pending++;
      if (a.deadlineAt <= nowMs) overdue++;
    }
  }
  days.sort((x, y) => x - y);
  const due = days.length + overdue;
  return {
    received: apps.length,
    answered: days.length,
    answeredOnTime: onTime,
    pending,
    overdue,
    medianWorkingDays: median(days) ?? null,
    p90WorkingDays: nearestRank(days, 0.9) ?? null,
    onTimeShare: due === 0 ? null : onTime / due,
  };
}
