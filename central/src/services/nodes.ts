// Nodes: enrollment with one-time tokens, authentication of every later call, heartbeats and the
// liveness sweep. Invariants: a token enrolls at most one node (marked used in the same transaction that
// creates the node); every online/offline transition is written to node_events with the status change.
import { hostname as osHostname } from 'node:os';
import type { IssuedToken } from '../api/nodes.js';
import { checkToken } from '../domain/enrollment.js';
import { expiredNodes, onHeartbeat, type LivenessTransition } from '../domain/liveness.js';
import { SYSTEM_ACTOR, type Actor } from '../domain/roles.js';
import { ErrorCode, XchgError, invalid, notFound } from '../errors.js';
import { hashSecret, newId, newSecret, secretMatches } from '../ids.js';
import type { EnrollmentToken, NodeRecord, Store } from '../store/index.js';
import type { AuditTrail } from './audit.js';

export interface EnrollInput {
  token: string;
  hostname: string;
  agentVersion: string;
  labels: Record<string, string>;
}

export interface NodeServiceOptions {
  heartbeatTtlMs: number;
  enrollTokenTtlMs: number;
  /** The exchange center new nodes attach to (config dataPlane.homeCenter); it exists once CenterService.bootstrap() ran. */
  homeCenter: string;
  /** Called after each liveness transition is stored (metrics, alerts). */
  onTransition?: (t: LivenessTransition, at: number) => void;
}

export class NodeService {
  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly opts: NodeServiceOptions,
    private readonly audit: AuditTrail,
  ) {}

  get heartbeatTtlMs(): number {
    return this.opts.heartbeatTtlMs;
  }

  createToken(
    input: { departmentCode: string; nodeName: string; ttlMs?: number },
    actor: Actor = SYSTEM_ACTOR,
  ): IssuedToken {
    const now = this.clock();
    const ttlMs = input.ttlMs ?? this.opts.enrollTokenTtlMs;
    if (!Number.isInteger(ttlMs) || ttlMs < 1000) throw invalid('ttlMs', 'must be an integer of at least 1000');
    const token = newSecret('xet_');
    const record: EnrollmentToken = {
      id: newId('tk'),
      departmentCode: input.departmentCode,
      nodeName: input.nodeName,
      createdAt: now,
      expiresAt: now + ttlMs,
      usedAt: null,
      usedByNodeId: null,
      revokedAt: null,
    };
    this.store.tx(() => {
      if (!this.store.regions.getDepartment(input.departmentCode))
        throw invalid('departmentCode', `department ${JSON.stringify(input.departmentCode)} not found`);
      if (this.store.nodes.existsByName(input.departmentCode, input.nodeName))
        throw new XchgError(
          ErrorCode.ALREADY_EXISTS,
          `node ${JSON.stringify(input.nodeName)} of ${input.departmentCode} already exists`,
          { field: 'nodeName' },
        );
      this.store.nodes.insertToken({ ...record, tokenHash: hashSecret(token) });
      this.audit.record(
        actor,
        {
          action: 'token.create',
          entityType: 'token',
          entityId: record.id,
          departmentCode: record.departmentCode,
          details: { nodeName: record.nodeName, expiresAt: record.expiresAt },
        },
        now,
      );
    });
    return { token, record };
  }

  revokeToken(id: string, actor: Actor = SYSTEM_ACTOR): void {
    this.store.tx(() => {
      const t = this.store.nodes.token(id);
      if (!t) throw notFound('token', id);
      if (t.usedAt !== null)
        throw new XchgError(
          ErrorCode.FAILED_PRECONDITION,
          `token ${id} was already used by node ${t.usedByNodeId ?? '?'}; disable the node instead`,
          { field: 'id' },
        );
      if (t.revokedAt !== null) return;
      this.store.nodes.revokeToken(id, this.clock());
      this.audit.record(actor, {
        action: 'token.revoke',
        entityType: 'token',
        entityId: id,
        departmentCode: t.departmentCode,
        details: { nodeName: t.nodeName, wasUsed: t.usedAt !== null },
      });
    });
  }

  listTokens(departmentCodes?: readonly string[]): EnrollmentToken[] {
    return this.store.nodes.listTokens(departmentCodes);
  }

  /** Exchanges a one-time token for a node id and secret. */
  enroll(input: EnrollInput): { node: NodeRecord; secret: string } {
    if (!input.token) throw new XchgError(ErrorCode.TOKEN_UNKNOWN, 'enrollment token is missing', { field: 'token' });
    const now = this.clock();
    const secret = newSecret('xns_');
    const nodeId = newId('nd');
    const node = this.store.tx(() => {
      const token = this.store.nodes.tokenByHash(hashSecret(input.token));
      const verdict = checkToken(token, now);
      if (!verdict.ok) throw new XchgError(verdict.code, verdict.reason, { field: 'token' });
      const t = token!;
      // Two tokens may be issued for one name before either is used; the second must not reach the UNIQUE index.
      if (this.store.nodes.existsByName(t.departmentCode, t.nodeName))
        throw new XchgError(
          ErrorCode.ALREADY_EXISTS,
          `node ${JSON.stringify(t.nodeName)} of ${t.departmentCode} is already enrolled`,
          { field: 'token' },
        );
      this.store.nodes.insert({
        id: nodeId,
        name: t.nodeName,
        departmentCode: t.departmentCode,
        hostname: input.hostname.slice(0, 255) || osHostname(),
        agentVersion: input.agentVersion.slice(0, 64),
        labels: input.labels,
        secretHash: hashSecret(secret),
        enrolledAt: now,
        homeCenter: this.opts.homeCenter,
      });
      if (!this.store.nodes.useToken(t.id, nodeId, now))
        throw new XchgError(ErrorCode.TOKEN_USED, 'enrollment token was already used; ask for a new one', {
          field: 'token',
        });
      this.store.nodes.addEvent({ nodeId, at: now, kind: 'enrolled', reason: `token ${t.id}` });
      const node = this.store.nodes.get(nodeId)!;
      this.audit.record(
        `token:${t.id}`,
        {
          action: 'node.enroll',
          entityType: 'node',
          entityId: nodeId,
          departmentCode: t.departmentCode,
          details: {
            name: node.name,
            hostname: node.hostname,
            agentVersion: node.agentVersion,
            tokenId: t.id,
            homeCenter: node.homeCenter,
          },
        },
        now,
      );
      return node;
    });
    return { node, secret };
  }

  /** Checks a node's credentials; throws NODE_UNKNOWN / UNAUTHENTICATED / NODE_DISABLED. */
  authenticate(nodeId: string, secret: string): NodeRecord {
    if (!nodeId) throw new XchgError(ErrorCode.UNAUTHENTICATED, 'missing x-xchg-node-id metadata');
    const hash = this.store.nodes.secretHash(nodeId);
    if (hash === undefined)
      throw new XchgError(ErrorCode.NODE_UNKNOWN, `node ${JSON.stringify(nodeId)} is not enrolled here`);
    if (!secret || !secretMatches(secret, hash))
      throw new XchgError(ErrorCode.UNAUTHENTICATED, `bad credentials for node ${nodeId}`);
    const node = this.store.nodes.get(nodeId)!;
    if (!node.enabled) throw new XchgError(ErrorCode.NODE_DISABLED, `node ${nodeId} is disabled by an operator`);
    return node;
  }

  heartbeat(node: NodeRecord, health: Record<string, unknown>, agentVersion: string): void {
    const now = this.clock();
    let transition: LivenessTransition | undefined;
    this.store.tx(() => {
      const current = this.store.nodes.get(node.id);
      if (!current) throw notFound('node', node.id);
      this.store.nodes.recordHeartbeat(node.id, now, health, agentVersion);
      transition = onHeartbeat(current);
      if (transition) this.apply(transition, now);
    });
    if (transition) this.opts.onTransition?.(transition, now);
  }

  /** Marks online nodes whose TTL ran out as offline; returns the transitions made. */
  sweep(): LivenessTransition[] {
    const now = this.clock();
    const done = this.store.tx(() => {
      const ts = expiredNodes(this.store.nodes.list({ status: 'online' }), this.opts.heartbeatTtlMs, now);
      for (const t of ts) this.apply(t, now);
      return ts;
    });
    for (const t of done) this.opts.onTransition?.(t, now);
    return done;
  }

  setEnabled(nodeId: string, enabled: boolean, reason: string, actor: Actor = SYSTEM_ACTOR): NodeRecord {
    return this.store.tx(() => {
      const n = this.store.nodes.get(nodeId);
      if (!n) throw notFound('node', nodeId);
      if (n.enabled !== enabled) {
        const at = this.clock();
        this.store.nodes.setEnabled(nodeId, enabled);
        this.store.nodes.addEvent({ nodeId, at, kind: enabled ? 'enabled' : 'disabled', reason });
        this.audit.record(
          actor,
          {
            action: enabled ? 'node.enable' : 'node.disable',
            entityType: 'node',
            entityId: nodeId,
            departmentCode: n.departmentCode,
            details: { reason },
          },
          at,
        );
      }
      return this.store.nodes.get(nodeId)!;
    });
  }

  get(nodeId: string): NodeRecord {
    const n = this.store.nodes.get(nodeId);
    if (!n) throw notFound('node', nodeId);
    return n;
  }

  events(nodeId: string): ReturnType<Store['nodes']['events']> {
    return this.store.nodes.events(nodeId);
  }

  list(filter: Parameters<Store['nodes']['list']>[0] = {}): NodeRecord[] {
    return this.store.nodes.list(filter);
  }

  private apply(t: LivenessTransition, at: number): void {
    this.store.nodes.setStatus(t.nodeId, t.to);
    this.store.nodes.addEvent({ nodeId: t.nodeId, at, kind: t.to, reason: t.reason });
  }
}
