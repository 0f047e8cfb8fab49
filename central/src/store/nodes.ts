// Nodes (前置节点), their liveness events, enrollment tokens and assignment acknowledgements.
import type {
  AssignmentAck,
  EnrollmentToken,
  Node as NodeRecord,
  NodeEvent,
  NodeHealth,
  NodeStatus,
} from '../api/nodes.js';
import type { Db } from './db.js';

export type { AssignmentAck, EnrollmentToken, Node as NodeRecord, NodeEvent, NodeStatus } from '../api/nodes.js';

const NODE_SELECT = `SELECT n.*, d.region_code FROM nodes n JOIN departments d ON d.code = n.department_code`;

export class NodeStore {
  constructor(private readonly db: Db) {}

  get(id: string): NodeRecord | undefined {
    const r = this.db.prepare(`${NODE_SELECT} WHERE n.id = ?`).get(id) as NodeRow | undefined;
    return r && toNode(r);
  }

  secretHash(id: string): string | undefined {
    return (
      this.db.prepare('SELECT secret_hash FROM nodes WHERE id = ?').get(id) as { secret_hash: string } | undefined
    )?.secret_hash;
  }

  list(filter: { regionCodes?: readonly string[]; departmentCode?: string; status?: NodeStatus } = {}): NodeRecord[] {
    const rows = this.db.prepare(`${NODE_SELECT} ORDER BY n.department_code, n.name`).all() as NodeRow[];
    const scope = filter.regionCodes && new Set(filter.regionCodes);
    return rows
      .map(toNode)
      .filter(
        (n) =>
          (!scope || scope.has(n.regionCode)) &&
          (!filter.departmentCode || n.departmentCode === filter.departmentCode) &&
          (!filter.status || n.status === filter.status),
      );
  }

  existsByName(departmentCode: string, name: string): boolean {
    return (
      this.db.prepare('SELECT 1 FROM nodes WHERE department_code = ? AND name = ?').get(departmentCode, name) !==
      undefined
    );
  }

  insert(n: {
    id: string;
    name: string;
    departmentCode: string;
    hostname: string;
    agentVersion: string;
    labels: Record<string, string>;
    secretHash: string;
    enrolledAt: number;
    /** Its exchange center; absent: none yet (central's start gives it the default one). */
    homeCenter?: string | null;
  }): void {
    this.db
      .prepare(
        `INSERT INTO nodes (id, name, department_code, hostname, agent_version, labels_json, secret_hash, status, enrolled_at, home_center)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'offline', ?, ?)`,
      )
      .run(
        n.id,
        n.name,
        n.departmentCode,
        n.hostname,
        n.agentVersion,
        JSON.stringify(n.labels),
        n.secretHash,
        n.enrolledAt,
        n.homeCenter ?? null,
      );
  }

  recordHeartbeat(id: string, at: number, health: Record<string, unknown>, agentVersion: string): void {
    this.db
      .prepare('UPDATE nodes SET last_heartbeat_at = ?, health_json = ?, agent_version = ? WHERE id = ?')
      .run(at, JSON.stringify(health), agentVersion, id);
  }

  setStatus(id: string, status: NodeStatus): void {
    this.db.prepare('UPDATE nodes SET status = ? WHERE id = ?').run(status, id);
  }

  setEnabled(id: string, enabled: boolean): void {
    this.db.prepare('UPDATE nodes SET enabled = ? WHERE id = ?').run(enabled ? 1 : 0, id);
  }

  /** Bumps the node's assignment version; returns the new one. */
  bumpAssignmentVersion(id: string): number {
    const r = this.db
      .prepare('UPDATE nodes SET assignment_version = assignment_version + 1 WHERE id = ? RETURNING assignment_version')
      .get(id) as { assignment_version: number } | undefined;
    return r?.assignment_version ?? 0;
  }

  addEvent(e: Omit<NodeEvent, 'id'>): void {
    this.db
      .prepare('INSERT INTO node_events (node_id, at, kind, reason) VALUES (?, ?, ?, ?)')
      .run(e.nodeId, e.at, e.kind, e.reason);
  }

  events(nodeId: string, limit = 100): NodeEvent[] {
    return (
      this.db
        .prepare(
          'SELECT id, node_id AS nodeId, at, kind, reason FROM node_events WHERE node_id = ? ORDER BY id DESC LIMIT ?',
        )
        .all(nodeId, limit) as NodeEvent[]
    ).reverse();
  }

  // --- enrollment tokens

  insertToken(t: EnrollmentToken & { tokenHash: string }): void {
    this.db
      .prepare(
        `INSERT INTO enrollment_tokens (id, token_hash, department_code, node_name, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(t.id, t.tokenHash, t.departmentCode, t.nodeName, t.createdAt, t.expiresAt);
  }

  tokenByHash(hash: string): EnrollmentToken | undefined {
    const r = this.db.prepare('SELECT * FROM enrollment_tokens WHERE token_hash = ?').get(hash) as TokenRow | undefined;
    return r && toToken(r);
  }

  token(id: string): EnrollmentToken | undefined {
    const r = this.db.prepare('SELECT * FROM enrollment_tokens WHERE id = ?').get(id) as TokenRow | undefined;
    return r && toToken(r);
  }

  listTokens(departmentCodes?: readonly string[]): EnrollmentToken[] {
    const scope = departmentCodes && new Set(departmentCodes);
    return (this.db.prepare('SELECT * FROM enrollment_tokens ORDER BY created_at, id').all() as TokenRow[])
      .map(toToken)
      .filter((t) => !scope || scope.has(t.departmentCode));
  }

  /** Marks the token used; returns false when another enrollment got there first. */
  useToken(id: string, nodeId: string, at: number): boolean {
    return (
      this.db
        .prepare(
          'UPDATE enrollment_tokens SET used_at = ?, used_by_node_id = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL',
        )
        .run(at, nodeId, id).changes === 1
    );
  }

  revokeToken(id: string, at: number): void {
    this.db.prepare('UPDATE enrollment_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id);
  }

  // --- assignment acknowledgements

  upsertAck(a: AssignmentAck): void {
    this.db
      .prepare(
        `INSERT INTO assignment_acks (node_id, assignment_id, generation, outcome, reason, at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (node_id, assignment_id) DO UPDATE SET generation = excluded.generation, outcome = excluded.outcome,
           reason = excluded.reason, at = excluded.at`,
      )
      .run(a.nodeId, a.assignmentId, a.generation, a.outcome, a.reason, a.at);
  }

  /** The latest acknowledgement of one assignment by a node, if any. */
  ack(nodeId: string, assignmentId: string): AssignmentAck | undefined {
    return this.db
      .prepare(
        'SELECT node_id AS nodeId, assignment_id AS assignmentId, generation, outcome, reason, at FROM assignment_acks WHERE node_id = ? AND assignment_id = ?',
      )
      .get(nodeId, assignmentId) as AssignmentAck | undefined;
  }

  acks(nodeId: string): AssignmentAck[] {
    return this.db
      .prepare(
        'SELECT node_id AS nodeId, assignment_id AS assignmentId, generation, outcome, reason, at FROM assignment_acks WHERE node_id = ?',
      )
      .all(nodeId) as AssignmentAck[];
  }
}

interface NodeRow {
  id: string;
  name: string;
  department_code: string;
  region_code: string;
  hostname: string;
  agent_version: string;
  labels_json: string;
  status: NodeStatus;
  enabled: number;
  enrolled_at: number;
  last_heartbeat_at: number | null;
  health_json: string | null;
  assignment_version: number;
  home_center: string | null;
}
const toNode = (r: NodeRow): NodeRecord => ({
  id: r.id,
  name: r.name,
  departmentCode: r.department_code,
  regionCode: r.region_code,
  hostname: r.hostname,
  agentVersion: r.agent_version,
  labels: JSON.parse(r.labels_json) as Record<string, string>,
  status: r.status,
  enabled: r.enabled === 1,
  enrolledAt: r.enrolled_at,
  lastHeartbeatAt: r.last_heartbeat_at,
  health: r.health_json === null ? null : (JSON.parse(r.health_json) as NodeHealth),
  assignmentVersion: r.assignment_version,
  homeCenter: r.home_center,
});

interface TokenRow {
  id: string;
  department_code: string;
  node_name: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  used_by_node_id: string | null;
  revoked_at: number | null;
}
const toToken = (r: TokenRow): EnrollmentToken => ({
  id: r.id,
  departmentCode: r.department_code,
  nodeName: r.node_name,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  usedAt: r.used_at,
  usedByNodeId: r.used_by_node_id,
  revokedAt: r.revoked_at,
});
