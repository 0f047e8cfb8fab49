// Dynamic node allocation (动态节点分配): the shard plan of one sync task — its flow split by key-hash shard
// over the task's own node (the primary, shard 0) and standby agents of the provider department (shards 1..n-1),
// and merged back. Pure: the state machine and what each agent is told (ShardSpec); time is an argument.
//
// Why it is exact (the agents' side is node-agent/src/exchange/shard-role.ts): each key belongs to exactly one
// shard (shard = the first 32 bits of MD5(key text) mod n), and a shard changes hands only after its previous
// owner's batches were all receipted. So no key is written by two streams at once and no older version of a
// key arrives after a newer one; each node's stream keeps its own exactly-once ledger at the consumer.
//   single ─spread→ splitting ─split-ready(c)→ split ─unspread→ merging ─every shard-done(c_i), merged→ single
//   splitting ─unspread→ merging: the standbys never started; at split-ready their shards are done at c.
// A standby that dies keeps its shard (its cursor and outbox live in its spool): the shard waits for it, delayed,
// never lost or doubled. It is not moved to another agent (that cannot be done without its spool).

/** The plan's state. */
export type PlanState = 'single' | 'splitting' | 'split' | 'merging';
/**
 * Who spread a flow, stored with its plan: the brain's tide allocation (a pre-warm window) or surge watch, or an
 * operator (xchg task spread). The brain merges only plans of its own origin, never an operator's.
 */
export const SPREAD_ORIGINS = ['tide', 'surge', 'operator'] as const;
export type SpreadOrigin = (typeof SPREAD_ORIGINS)[number];
/** A standby shard's state: waiting for the split, reading, told to hand back, handed back. */
export type ShardState = 'pending' | 'active' | 'withdrawn' | 'done';

export interface StandbyShard {
  index: number;
  nodeId: string;
  state: ShardState;
  /** Where the standby's shard stood when handed back (cursor JSON), once done. */
  cursorJson: string | null;
}

export interface ShardPlan {
  taskId: string;
  /** Plan number, one per spread (1, 2, ...). */
  epoch: number;
  /** Shards: the primary's and one per standby. */
  count: number;
  state: PlanState;
  /** The primary's cursor at the split (JSON), once reported. */
  splitCursorJson: string | null;
  standbys: StandbyShard[];
  /** Why it was spread (the tide window, the surge, or the operator's words). */
  reason: string;
  /** Who spread it (or adopted it since: a surge adopts a tide's spread, a window its surge's; see ShardService). */
  origin: SpreadOrigin;
  /**
   * An operator merged the flow while the tide's pre-warm window held: the tide does not spread it again before
   * this instant (that window's end), ms since epoch; null: no hold. A spread by the brain keeps it while in force,
   * an operator's spread ends it.
   */
  heldUntilMs: number | null;
  updatedAt: number;
}

/** What the agent of one node is told about a plan (proto ShardSpec). */
export interface ShardView {
  epoch: number;
  count: number;
  role: 'primary' | 'standby';
  index: number;
  state: Exclude<PlanState, 'single'>;
  startCursorJson: string;
  withdrawn: boolean;
  returned: { index: number; cursorJson: string }[];
}

/** Largest number of standbys of one plan (9 shards: node-agent/src/connectors/shards.ts MAX_SHARDS). */
export const MAX_STANDBYS = 8;

/** A refused transition, with the reason. */
export class PlanConflict extends Error {}

/** A new plan spreading the flow over `nodeIds` (the standbys, in shard order). */
export function spreadPlan(
  prev: ShardPlan | undefined,
  taskId: string,
  nodeIds: string[],
  origin: SpreadOrigin,
  reason: string,
  now: number,
): ShardPlan {
  if (prev && prev.state !== 'single')
    throw new PlanConflict(`task ${taskId} is already spread (plan ${prev.epoch}, ${prev.state})`);
  if (nodeIds.length === 0 || nodeIds.length > MAX_STANDBYS)
    throw new PlanConflict(`a flow is spread over 1..${MAX_STANDBYS} standby agents, not ${nodeIds.length}`);
  const held = prev?.heldUntilMs ?? 0;
  return {
    taskId,
    epoch: (prev?.epoch ?? 0) + 1,
    count: nodeIds.length + 1,
    state: 'splitting',
    splitCursorJson: null,
    standbys: nodeIds.map((nodeId, i) => ({ index: i + 1, nodeId, state: 'pending', cursorJson: null })),
    reason,
    origin,
    heldUntilMs: origin !== 'operator' && held > now ? held : null,
    updatedAt: now,
  };
}

/** The operator's or the brain's merge: standbys hand their shards back. */
export function unspreadPlan(p: ShardPlan, now: number): ShardPlan {
  if (p.state === 'single' || p.state === 'merging') throw new PlanConflict(`task ${p.taskId} is not spread`);
  return {
    ...p,
    state: 'merging',
    standbys: p.standbys.map((s) => (s.state === 'active' ? { ...s, state: 'withdrawn' } : s)),
    updatedAt: now,
  };
}

/** A report of an agent applied to the plan; undefined when it changes nothing (stale, repeated, foreign). */
export function applyReport(
  p: ShardPlan,
  nodeId: string,
  primaryNodeId: string,
  r: { epoch: number; kind: string; index: number; cursorJson: string },
  now: number,
): ShardPlan | undefined {
  if (r.epoch !== p.epoch || p.state === 'single') return undefined;
  if (r.kind === 'split-ready' && nodeId === primaryNodeId && p.splitCursorJson === null) {
    const c = r.cursorJson;
    // Split while still splitting: the standbys start. Merging already: they never started, their shards are done at c.
    const standbys = p.standbys.map((s): StandbyShard =>
      s.state !== 'pending'
        ? s
        : p.state === 'merging'
          ? { ...s, state: 'done', cursorJson: c }
          : { ...s, state: 'active' },
    );
    return { ...p, state: p.state === 'splitting' ? 'split' : p.state, splitCursorJson: c, standbys, updatedAt: now };
  }
  if (r.kind === 'shard-done' && p.state === 'merging') {
    const s = p.standbys.find((x) => x.index === r.index && x.nodeId === nodeId && x.state === 'withdrawn');
    if (!s) return undefined;
    const standbys = p.standbys.map((x) => (x === s ? { ...x, state: 'done' as const, cursorJson: r.cursorJson } : x));
    return { ...p, standbys, updatedAt: now };
  }
  if (r.kind === 'merged' && nodeId === primaryNodeId && p.state === 'merging') {
    if (!p.standbys.every((s) => s.state === 'done')) return undefined;
    return { ...p, state: 'single', updatedAt: now };
  }
  return undefined;
}

/** What the primary is told, or undefined when the flow is not spread. */
export function primaryView(p: ShardPlan | undefined): ShardView | undefined {
  if (!p || p.state === 'single') return undefined;
  return {
    epoch: p.epoch,
    count: p.count,
    role: 'primary',
    index: 0,
    state: p.state,
    startCursorJson: p.splitCursorJson ?? '',
    withdrawn: false,
    returned: p.standbys
      .filter((s) => s.state === 'done' && s.cursorJson !== null)
      .map((s) => ({ index: s.index, cursorJson: s.cursorJson! })),
  };
}

/** What a standby node is told: its shard while it reads or hands it back. */
export function standbyView(p: ShardPlan | undefined, nodeId: string): ShardView | undefined {
  if (!p || p.state === 'single' || p.splitCursorJson === null) return undefined;
  const s = p.standbys.find((x) => x.nodeId === nodeId && (x.state === 'active' || x.state === 'withdrawn'));
  if (!s) return undefined;
  return {
    epoch: p.epoch,
    count: p.count,
    role: 'standby',
    index: s.index,
    state: p.state,
    startCursorJson: p.splitCursorJson,
    withdrawn: s.state === 'withdrawn',
    returned: [],
  };
}

/** Nodes besides the primary whose batches of the flow the consumer accepts (standbys reading or draining). */
export function acceptedSources(p: ShardPlan | undefined): string[] {
  if (!p || p.state === 'single') return [];
  return p.standbys.filter((s) => s.state === 'active' || s.state === 'withdrawn').map((s) => s.nodeId);
}
