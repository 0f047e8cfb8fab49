// A relay's counters: units and bytes forwarded per neighbour, units quarantined, forwards that failed
// (redelivered later), requests relayed and dropped, and the backlog of its transit consumer (JetStream
// pending, what probes report as a link's queue depth). Counters only grow; a snapshot is a copy.

/** Forwarded to one neighbour since the relay started. */
export interface NeighborCounters {
  units: number;
  bytes: number;
  /** Forwards to it that failed (its center down or slow); those units are redelivered and retried. */
  failures: number;
}

export interface RelayStats {
  center: string;
  forwarded: Record<string, NeighborCounters>;
  quarantined: number;
  /** Units in the transit stream not yet forwarded (pending + delivered unacked); -1 until first read. */
  pending: number;
  requestsRelayed: number;
  /** Requests dropped: over the hop limit, no route, or no neighbour connection. */
  requestsDropped: number;
}

export class RelayCounters {
  private readonly forwarded = new Map<string, NeighborCounters>();
  quarantined = 0;
  pending = -1;
  requestsRelayed = 0;
  requestsDropped = 0;

  constructor(readonly center: string) {}

  private of(neighbor: string): NeighborCounters {
    let c = this.forwarded.get(neighbor);
    if (!c) this.forwarded.set(neighbor, (c = { units: 0, bytes: 0, failures: 0 }));
    return c;
  }

  sent(neighbor: string, bytes: number): void {
    const c = this.of(neighbor);
    c.units++;
    c.bytes += bytes;
  }

  failed(neighbor: string): void {
    this.of(neighbor).failures++;
  }

  snapshot(): RelayStats {
    const forwarded: Record<string, NeighborCounters> = {};
    for (const [k, v] of this.forwarded) forwarded[k] = { ...v };
    return {
      center: this.center,
      forwarded,
      quarantined: this.quarantined,
      pending: this.pending,
      requestsRelayed: this.requestsRelayed,
      requestsDropped: this.requestsDropped,
    };
  }
}
