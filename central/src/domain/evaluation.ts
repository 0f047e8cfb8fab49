// Evaluation (考核) arithmetic, pure: a node's online time over a period from its liveness events, and
// the rates the department and region reports show. Time is an argument.

export interface LivenessEvent {
  at: number;
  kind: string;
}

/**
 * Time online and time observed of one node in [since, until): observation starts at enrollment (or
 * `since`, when later); the node is online from an 'online' event to the next 'offline'. Other kinds
 * (enrolled, disabled, enabled) do not change liveness. `events` must be in time order.
 */
export function nodeUptime(
  events: readonly LivenessEvent[],
  enrolledAt: number,
  since: number,
  until: number,
): { onlineMs: number; observedMs: number } {
  const start = Math.max(since, enrolledAt);
  if (until <= start) return { onlineMs: 0, observedMs: 0 };
  let online = false;
  let onlineMs = 0;
  let mark = start;
  for (const e of events) {
    if (e.kind !== 'online' && e.kind !== 'offline') continue;
    const up = e.kind === 'online';
    if (e.at >= until) break;
    if (e.at <= start) {
      online = up;
      continue;
    }
    if (online && !up) onlineMs += e.at - mark;
    if (!online && up) mark = e.at;
    online = up;
  }
  if (online) onlineMs += until - mark;
  return { onlineMs, observedMs: until - start };
}

/** part / whole, rounded to 4 decimals; null when there is nothing to divide (no observations). */
export function rate(part: number, whole: number): number | null {
  return whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : null;
}
