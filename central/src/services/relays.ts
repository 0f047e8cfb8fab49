// The relay (中继) role: an operator makes an enrolled node the relay of its home center; central hands that
// node a RelaySpec (its center, the neighbour centers from the links with the URLs it dials and their
// capacity, the probe interval). Invariants: at most one relay per center and one center per relay; the
// relay is homed at its center when designated (a node moved away stops receiving the RelaySpec until it is
// homed there again); whenever a relay's spec changes (designation, a link at its center, a neighbour's
// URLs) its generation and its node's assignment version go up in the transaction of the change, and its
// long-poll is woken after commit. Every designation and removal is audited.
import type { Relay } from '../api/routing.js';
import { SYSTEM_ACTOR, type Actor } from '../domain/roles.js';
import { ErrorCode, notFound, XchgError } from '../errors.js';
import type { RelayRecord, Store } from '../store/index.js';
import type { AssignmentService } from './assignments.js';
import type { AuditTrail } from './audit.js';

/** A RelaySpec assignment (the proto's Assignment with spec "relay"). */
export interface RelayAssignment {
  id: string;
  generation: number;
  spec: 'relay';
  relay: {
    center: string;
    neighbors: { center: string; linkId: string; natsUrls: string[]; capacityBps: number }[];
    probeIntervalMs: number;
  };
}

export class RelayService {
  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly audit: AuditTrail,
    private readonly assignments: Pick<AssignmentService, 'wakeNode'>,
    private readonly opts: { probeIntervalMs: number },
  ) {}

  list(filter: { centers?: ReadonlySet<string> } = {}): Relay[] {
    return this.store.routes
      .relays()
      .filter((r) => !filter.centers || filter.centers.has(r.center))
      .map((r) => this.view(r));
  }

  get(center: string): Relay {
    const r = this.store.routes.relay(center);
    if (!r) throw notFound('relay of center', center);
    return this.view(r);
  }

  /** Makes `nodeId` the relay of `center`; the node must be enabled and homed there. */
  set(center: string, nodeId: string, actor: Actor = SYSTEM_ACTOR): Relay {
    const woken: string[] = [];
    const relay = this.store.tx(() => {
      if (!this.store.centers.get(center)) throw notFound('center', center);
      const node = this.store.nodes.get(nodeId);
      if (!node)
        throw new XchgError(ErrorCode.INVALID_ARGUMENT, `nodeId: node ${JSON.stringify(nodeId)} not found`, {
          field: 'nodeId',
        });
      if (!node.enabled)
        throw new XchgError(ErrorCode.FAILED_PRECONDITION, `nodeId: node ${nodeId} is disabled`, { field: 'nodeId' });
      if (node.homeCenter !== center)
        throw new XchgError(
          ErrorCode.FAILED_PRECONDITION,
          `nodeId: node ${node.name} (${nodeId}) is homed at center ${node.homeCenter ?? '-'}, not ${center}; a relay relays its home center (move it first: xchg node move)`,
          { field: 'nodeId' },
        );
      const before = this.store.routes.relay(center);
      if (before?.nodeId === nodeId) return before;
      const now = this.clock();
      const r = this.store.routes.setRelay({
        center,
        nodeId,
        setAt: now,
        setBy: typeof actor === 'string' ? actor : actor.name,
      });
      for (const id of [nodeId, ...(before ? [before.nodeId] : [])]) {
        this.store.nodes.bumpAssignmentVersion(id);
        woken.push(id);
      }
      this.audit.record(
        actor,
        {
          action: 'center.relay.set',
          entityType: 'center',
          entityId: center,
          departmentCode: node.departmentCode,
          details: { nodeId, nodeName: node.name, previousNodeId: before?.nodeId ?? null, generation: r.generation },
        },
        now,
      );
      return r;
    });
    for (const id of woken) this.assignments.wakeNode(id);
    return this.view(relay);
  }

  /** Takes the relay role from the center's relay node. */
  clear(center: string, actor: Actor = SYSTEM_ACTOR): void {
    const nodeId = this.store.tx(() => {
      const r = this.store.routes.relay(center);
      if (!r) throw notFound('relay of center', center);
      this.store.routes.deleteRelay(center);
      this.store.nodes.bumpAssignmentVersion(r.nodeId);
      this.audit.record(actor, {
        action: 'center.relay.clear',
        entityType: 'center',
        entityId: center,
        details: { nodeId: r.nodeId },
      });
      return r.nodeId;
    });
    this.assignments.wakeNode(nodeId);
  }

  /**
   * Inside the transaction of a change to what relays at these centers are handed (a link, a center's URLs):
   * bumps their generation and their nodes' assignment versions; returns the node ids to wake after commit.
   */
  touch(centers: readonly string[]): string[] {
    const ids = this.store.routes.bumpRelays([...new Set(centers)]);
    for (const id of ids) this.store.nodes.bumpAssignmentVersion(id);
    return ids;
  }

  /**
   * At start: relays last handed another probe interval than this central's routing.probeIntervalMs (a
   * restart with a changed setting) get a new RelaySpec generation and assignment version, so they apply
   * the new interval. Returns their node ids.
   */
  syncProbeInterval(): string[] {
    return this.store.tx(() => {
      const ids = this.store.routes.syncRelayProbeInterval(this.opts.probeIntervalMs);
      for (const id of ids) this.store.nodes.bumpAssignmentVersion(id);
      return ids;
    });
  }

  wake(nodeIds: readonly string[]): void {
    for (const id of nodeIds) this.assignments.wakeNode(id);
  }

  /** The relay of the node's home center when the node is it (and homed there). */
  relayOf(nodeId: string): RelayRecord | undefined {
    const r = this.store.routes.relayOfNode(nodeId);
    const node = r && this.store.nodes.get(nodeId);
    return r && node?.homeCenter === r.center ? r : undefined;
  }

  /** The node's RelaySpec assignment, when it is the relay of its home center. */
  assignmentFor(nodeId: string): RelayAssignment | undefined {
    const r = this.relayOf(nodeId);
    if (!r) return undefined;
    return {
      id: `relay.${r.center}`,
      generation: r.generation,
      spec: 'relay',
      relay: { center: r.center, neighbors: this.neighbors(r.center), probeIntervalMs: this.opts.probeIntervalMs },
    };
  }

  private view(r: RelayRecord): Relay {
    return {
      ...r,
      nodeName: this.store.nodes.get(r.nodeId)?.name ?? r.nodeId,
      neighbors: this.neighbors(r.center),
      probeIntervalMs: this.opts.probeIntervalMs,
    };
  }

  /** The centers linked to `center`, each with the URLs this end dials (the link's, else the neighbour's own). */
  private neighbors(center: string): RelayAssignment['relay']['neighbors'] {
    return this.store.centers.listLinks({ center }).map((l) => {
      const fromA = l.a === center;
      const other = fromA ? l.b : l.a;
      const urls = (fromA ? l.urlsAToB : l.urlsBToA) ?? this.store.centers.get(other)?.natsUrls ?? [];
      return { center: other, linkId: l.id, natsUrls: [...urls], capacityBps: l.capacityBps };
    });
  }
}
