// Node liveness, pure: a node is online while its last heartbeat is within the TTL central asked for.
// Transitions are computed here and recorded by the caller; time is an argument.
export type Liveness = 'online' | 'offline';

export interface LivenessView {
  id: string;
  status: Liveness;
  lastHeartbeatAt: number | null;
}

export interface LivenessTransition {
  nodeId: string;
  from: Liveness;
  to: Liveness;
  reason: string;
}

/** Online nodes whose TTL has run out at `now`. */
export function expiredNodes(nodes: readonly LivenessView[], ttlMs: number, now: number): LivenessTransition[] {
  const out: LivenessTransition[] = [];
  for (const n of nodes) {
    if (n.status !== 'online') continue;
    const last = n.lastHeartbeatAt ?? 0;
    const silentMs = now - last;
    if (silentMs > ttlMs)
      out.push({
        nodeId: n.id,
        from: 'online',
        to: 'offline',
        reason: `no heartbeat for ${silentMs} ms (ttl ${ttlMs} ms)`,
      });
  }
  return out;
}

/** A heartbeat brings an offline node back online; an online one stays. */
export function onHeartbeat(node: LivenessView): LivenessTransition | undefined {
  return node.status === 'online'
    ? undefined
    : { nodeId: node.id, from: node.status, to: 'online', reason: 'heartbeat received' };
}

/** Heartbeat interval an agent should use for a TTL: three chances before the TTL runs out. */
export function heartbeatIntervalFor(ttlMs: number): number {
  return Math.max(50, Math.floor(ttlMs / 3));
}
