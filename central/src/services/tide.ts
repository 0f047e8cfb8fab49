// Tide allocation (潮汐预热): a pair whose brain static policy came from a template with prewarm.standby (its
// evidence 'opens_before_peak') has its sync tasks spread over the provider department's standbys while the
// policy's window holds (it opens leadMinutes before the predicted peak), and merged outside it. Spread wanted =
// tide window open OR surge live: this step does not merge a flow while the pair has a live surge, and the surge's
// end does not merge one while its window is open (ShardService.tideWindow: the spread passes to the tide). It
// merges only spreads of its own (origin 'tide'), never an operator's; an operator's merge inside a window holds
// until its end (the plan's heldUntilMs): the tide spreads that task again at its next window. One allocator:
// ShardService. A tick
// that finds the wanted state changes nothing; a spread with no standby online is logged once per window.
import type { Logger } from 'pino';
import { knobsInForce } from '../../../common/src/policy-knobs.js';
import { DAY_MS, type TrafficPair } from '../domain/traffic.js';
import { XchgError } from '../errors.js';
import type { PolicyRecord } from '../store/policies.js';
import type { Store } from '../store/index.js';
import type { PolicyService } from './policies.js';
import type { ShardService } from './shards.js';

/** What one tide tick did to a task's allocation. */
export interface TideAction {
  taskId: string;
  action: 'spread' | 'unspread';
  /** The plan's reason ('tide window 07:45-19:00 opens before the predicted peak') or why it was merged. */
  reason: string;
}

export class TideService {
  /** Tasks whose spread found no standby in the current window (logged once, retried each tick quietly). */
  private readonly skipped = new Set<string>();
  /** Tasks an operator holds merged in the current window (logged once). */
  private readonly held = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly policies: PolicyService,
    private readonly shards: Pick<ShardService, 'plan' | 'spread' | 'unspread'>,
    private readonly clock: () => number,
    /** Standby agents a tide spreads a flow over at most (config brain.spreadAgentsMax; 0: never). */
    private readonly agentsMax: number,
    private readonly logger?: Logger,
  ) {}

  /** The task's open pre-warm window at `nowMs` as the plan's reason, or undefined (closed, or no tide policy). */
  windowOf(taskId: string, nowMs: number = this.clock()): string | undefined {
    return this.windowAt(taskId, nowMs)?.why;
  }

  /** The task's open pre-warm window at `nowMs`: the plan's reason and the window's end (ms since epoch). */
  windowAt(taskId: string, nowMs: number = this.clock()): { why: string; endMs: number } | undefined {
    for (const { policy } of this.tides()) {
      const w = policy.taskIds.includes(taskId) ? openWindow(policy, taskId, nowMs) : undefined;
      if (w) return w;
    }
    return undefined;
  }

  /** Spreads the sync tasks of pairs whose pre-warm window holds `nowMs`, merges those whose window closed. */
  tick(nowMs: number = this.clock()): TideAction[] {
    const out: TideAction[] = [];
    if (this.agentsMax <= 0) return out;
    for (const { pair, policy } of this.tides()) {
      const surge = this.surgeLive(pair);
      for (const taskId of policy.taskIds) {
        if (this.store.tasks.get(taskId)?.kind !== 'sync') continue;
        const window = openWindow(policy, taskId, nowMs);
        const plan = this.shards.plan(taskId);
        const spread = plan !== undefined && (plan.state === 'splitting' || plan.state === 'split');
        // An operator merged it in this window: not again before its end.
        const held = (plan?.heldUntilMs ?? 0) > nowMs;
        if (window && !spread && !held) this.spread(taskId, window.why, out);
        if (window && !spread && held) this.holdSeen(taskId, window.why, plan?.heldUntilMs);
        if (window) continue;
        this.skipped.delete(taskId);
        this.held.delete(taskId);
        if (!spread || surge || plan.origin !== 'tide') continue;
        const done = this.shards.unspread(taskId, 'the tide window closed', 'tide', 'brain');
        out.push({ taskId, action: 'unspread', reason: done.reason });
      }
    }
    return out;
  }

  private spread(taskId: string, reason: string, out: TideAction[]): void {
    try {
      this.shards.spread(taskId, { agents: this.agentsMax, reason, origin: 'tide' }, 'brain');
      this.skipped.delete(taskId);
      out.push({ taskId, action: 'spread', reason });
    } catch (err) {
      if (!(err instanceof XchgError)) throw err;
      if (!this.skipped.has(taskId)) this.logger?.info({ taskId, reason: err.message }, 'tide flow not spread');
      this.skipped.add(taskId);
    }
  }

  private holdSeen(taskId: string, window: string, heldUntilMs: number | null | undefined): void {
    if (this.held.has(taskId)) return;
    this.held.add(taskId);
    this.logger?.info({ taskId, window, heldUntilMs }, 'tide spread held off by an operator');
  }

  /** The brain's live static policies that pre-warm standbys, with their pairs. */
  private tides(): { pair: TrafficPair; policy: PolicyRecord }[] {
    const out: { pair: TrafficPair; policy: PolicyRecord }[] = [];
    for (const { pair, policyId } of this.store.brain.staticPolicies()) {
      if (!this.policies.isLive(policyId)) continue;
      const policy = this.policies.get(policyId);
      if (policy.evidence.some((e) => e.name === 'opens_before_peak' && (e.value ?? 0) > 0)) out.push({ pair, policy });
    }
    return out;
  }

  private surgeLive(pair: TrafficPair): boolean {
    const open = this.store.brain.surges({
      fromNode: pair.fromNode,
      toNode: pair.toNode,
      origin: 'live',
      openOnly: true,
    });
    return open.some((s) => s.resource === pair.resource);
  }
}

/**
 * The window of the policy holding `nowMs`: why ('tide window hh:mm-hh:mm opens before the predicted peak') and
 * when this opening of it ends (ms since epoch), or undefined.
 */
function openWindow(p: PolicyRecord, taskId: string, nowMs: number): { why: string; endMs: number } | undefined {
  const i = knobsInForce([p], taskId, nowMs).sources[0]?.window;
  const w = i === undefined || i === 'outside' ? undefined : p.windows[i];
  if (!w) return undefined;
  return {
    why: `tide window ${hhmm(w.startMinute)}-${hhmm(w.endMinute)} opens before the predicted peak`,
    endMs: windowEndMs(p, w, nowMs),
  };
}

/**
 * The end of the opening of window `w` that holds `nowMs` (it opened today or yesterday, local time). Openings of
 * one window are at most a day long and start at the same minute each day, so at most one holds a given instant.
 */
function windowEndMs(p: PolicyRecord, w: PolicyRecord['windows'][number], nowMs: number): number {
  const offsetMs = p.utcOffsetMinutes * MINUTE_MS;
  const today = Math.floor((nowMs + offsetMs) / DAY_MS);
  for (const day of [today - 1, today]) {
    const startMs = day * DAY_MS + w.startMinute * MINUTE_MS - offsetMs;
    const endMs = day * DAY_MS + w.endMinute * MINUTE_MS - offsetMs;
    if (nowMs >= startMs && nowMs < endMs) return endMs;
  }
  return nowMs; // not reached: knobsInForce found it holding
}

const MINUTE_MS = 60_000;
const hhmm = (minute: number): string =>
  `${String(Math.floor(minute / 60) % 24).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
