// Routes between exchange centers: the relay of each center, the route of each pair of centers with its
// alternatives and pin, the history of its changes, and the flows that cross centers (which pairs are needed).
import type { RouteCandidate, RouteChange, RouteState } from '../api/routing.js';
import type { Db } from './db.js';

/** The relay (中继) designation of a center. */
export interface RelayRecord {
  center: string;
  nodeId: string;
  generation: number;
  setAt: number;
  setBy: string;
}

/** What central keeps of a pair of centers between evaluations. */
export interface RoutePairRecord {
  from: string;
  to: string;
  /** Centers in order; null when no route exists. */
  route: string[] | null;
  since: number;
  reason: string;
  challenger: { centers: string[]; since: number } | null;
  pin: string[] | null;
  pinnedBy: string | null;
  generation: number;
  state: RouteState;
  cost: number | null;
  alternatives: RouteCandidate[];
  evaluatedAt: number;
}

/** A task whose node and peer node are homed at different centers. */
export interface CrossFlow {
  taskId: string;
  nodeId: string;
  nodeCenter: string;
  peerCenter: string;
}

export class RouteStore {
  constructor(private readonly db: Db) {}

  // --- relays

  relay(center: string): RelayRecord | undefined {
    const r = this.db.prepare('SELECT * FROM center_relays WHERE center = ?').get(center) as RelayRow | undefined;
    return r && toRelay(r);
  }

  relayOfNode(nodeId: string): RelayRecord | undefined {
    const r = this.db.prepare('SELECT * FROM center_relays WHERE node_id = ?').get(nodeId) as RelayRow | undefined;
    return r && toRelay(r);
  }

  relays(): RelayRecord[] {
    return (this.db.prepare('SELECT * FROM center_relays ORDER BY center').all() as RelayRow[]).map(toRelay);
  }

  /** Makes `nodeId` the relay of `center` (replacing another node), with the next generation. */
  setRelay(r: Omit<RelayRecord, 'generation'>): RelayRecord {
    this.db
      .prepare(
        `INSERT INTO center_relays (center, node_id, generation, set_at, set_by) VALUES (?, ?, 1, ?, ?)
         ON CONFLICT (center) DO UPDATE SET node_id = excluded.node_id, generation = generation + 1,
           set_at = excluded.set_at, set_by = excluded.set_by`,
      )
      .run(r.center, r.nodeId, r.setAt, r.setBy);
    return this.relay(r.center)!;
  }

  deleteRelay(center: string): void {
    this.db.prepare('DELETE FROM center_relays WHERE center = ?').run(center);
  }

  /** Bumps the generation of the relays at these centers; returns the relays' node ids. */
  /**
   * Records `probeIntervalMs` as what every relay is handed; the relays last handed another value (or none
   * recorded) get their generation bumped. Returns their node ids.
   */
  syncRelayProbeInterval(probeIntervalMs: number): string[] {
    const rows = this.db
      .prepare(
        `UPDATE center_relays SET generation = generation + 1, probe_interval_ms = ?
         WHERE probe_interval_ms IS NOT ? RETURNING node_id`,
      )
      .all(probeIntervalMs, probeIntervalMs) as { node_id: string }[];
    return rows.map((r) => r.node_id);
  }

  bumpRelays(centers: readonly string[]): string[] {
    const st = this.db.prepare(
      'UPDATE center_relays SET generation = generation + 1 WHERE center = ? RETURNING node_id',
    );
    return centers.flatMap((c) => (st.all(c) as { node_id: string }[]).map((r) => r.node_id));
  }

  // --- pairs

  pair(from: string, to: string): RoutePairRecord | undefined {
    const r = this.db.prepare('SELECT * FROM route_pairs WHERE from_center = ? AND to_center = ?').get(from, to) as
      PairRow | undefined;
    return r && toPair(r);
  }

  pairs(): RoutePairRecord[] {
    return (this.db.prepare('SELECT * FROM route_pairs ORDER BY from_center, to_center').all() as PairRow[]).map(
      toPair,
    );
  }

  upsertPair(p: RoutePairRecord): void {
    const json = (v: unknown): string | null => (v === null ? null : JSON.stringify(v));
    this.db
      .prepare(
        `INSERT INTO route_pairs (from_center, to_center, route, since, reason, challenger, pin, pinned_by, generation,
           state, cost, alternatives, evaluated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (from_center, to_center) DO UPDATE SET route = excluded.route, since = excluded.since,
           reason = excluded.reason, challenger = excluded.challenger, pin = excluded.pin,
           pinned_by = excluded.pinned_by, generation = excluded.generation, state = excluded.state,
           cost = excluded.cost, alternatives = excluded.alternatives, evaluated_at = excluded.evaluated_at`,
      )
      .run(
        p.from,
        p.to,
        json(p.route),
        p.since,
        p.reason,
        json(p.challenger),
        json(p.pin),
        p.pinnedBy,
        p.generation,
        p.state,
        finite(p.cost),
        JSON.stringify(p.alternatives),
        p.evaluatedAt,
      );
  }

  deletePair(from: string, to: string): void {
    this.db.prepare('DELETE FROM route_pairs WHERE from_center = ? AND to_center = ?').run(from, to);
  }

  // --- history

  addChange(from: string, to: string, c: RouteChange): void {
    this.db
      .prepare(
        `INSERT INTO route_changes (from_center, to_center, at, previous, route, reason, cost, pinned, actor)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        from,
        to,
        c.at,
        c.previous === null ? null : JSON.stringify(c.previous),
        JSON.stringify(c.route),
        c.reason,
        finite(c.cost),
        c.pinned ? 1 : 0,
        c.actor,
      );
  }

  /** The pair's choices and changes, latest first. */
  changes(from: string, to: string, limit = 20): RouteChange[] {
    const rows = this.db
      .prepare('SELECT * FROM route_changes WHERE from_center = ? AND to_center = ? ORDER BY id DESC LIMIT ?')
      .all(from, to, limit) as ChangeRow[];
    return rows.map((r) => ({
      at: r.at,
      previous: r.previous === null ? null : (JSON.parse(r.previous) as string[]),
      route: JSON.parse(r.route) as string[],
      reason: r.reason,
      cost: r.cost,
      pinned: r.pinned === 1,
      actor: r.actor,
    }));
  }

  /** Changes of route per pair "from>to" (first choices not counted). */
  changeCounts(): Map<string, number> {
    const rows = this.db
      .prepare(
        `SELECT from_center, to_center, count(*) AS n FROM route_changes WHERE previous IS NOT NULL
         GROUP BY from_center, to_center`,
      )
      .all() as { from_center: string; to_center: string; n: number }[];
    return new Map(rows.map((r) => [`${r.from_center}>${r.to_center}`, r.n]));
  }

  // --- flows

  /** Enabled tasks whose node and peer node are homed at different centers. */
  crossFlows(): CrossFlow[] {
    return this.db
      .prepare(
        `SELECT t.id AS taskId, t.node_id AS nodeId, n.home_center AS nodeCenter, p.home_center AS peerCenter
         FROM tasks t JOIN nodes n ON n.id = t.node_id JOIN nodes p ON p.id = t.peer_node_id
         WHERE t.deleted_at IS NULL AND t.enabled = 1 AND n.home_center IS NOT NULL AND p.home_center IS NOT NULL
           AND n.home_center <> p.home_center
         ORDER BY t.id`,
      )
      .all() as CrossFlow[];
  }

  /** Nodes with a task (not deleted) whose peer is `nodeId`. */
  nodesPeeringWith(nodeId: string): string[] {
    return (
      this.db
        .prepare('SELECT DISTINCT node_id FROM tasks WHERE peer_node_id = ? AND deleted_at IS NULL ORDER BY node_id')
        .all(nodeId) as { node_id: string }[]
    ).map((r) => r.node_id);
  }

  /** The home center of each peer node of a node's tasks (task id → center), deleted tasks left out. */
  peerCentersOf(nodeId: string): Map<string, string> {
    const rows = this.db
      .prepare(
        `SELECT t.id AS taskId, p.home_center AS center FROM tasks t JOIN nodes p ON p.id = t.peer_node_id
         WHERE t.node_id = ? AND t.deleted_at IS NULL AND p.home_center IS NOT NULL`,
      )
      .all(nodeId) as { taskId: string; center: string }[];
    return new Map(rows.map((r) => [r.taskId, r.center]));
  }
}

/** SQLite stores no Infinity: an infinite cost is stored as NULL. */
const finite = (n: number | null): number | null => (n === null || !Number.isFinite(n) ? null : n);

interface RelayRow {
  center: string;
  node_id: string;
  generation: number;
  set_at: number;
  set_by: string;
}
const toRelay = (r: RelayRow): RelayRecord => ({
  center: r.center,
  nodeId: r.node_id,
  generation: r.generation,
  setAt: r.set_at,
  setBy: r.set_by,
});

interface PairRow {
  from_center: string;
  to_center: string;
  route: string | null;
  since: number;
  reason: string;
  challenger: string | null;
  pin: string | null;
  pinned_by: string | null;
  generation: number;
  state: RouteState;
  cost: number | null;
  alternatives: string;
  evaluated_at: number;
}
const parse = <T>(s: string | null): T | null => (s === null ? null : (JSON.parse(s) as T));
const toPair = (r: PairRow): RoutePairRecord => ({
  from: r.from_center,
  to: r.to_center,
  route: parse<string[]>(r.route),
  since: r.since,
  reason: r.reason,
  challenger: parse<{ centers: string[]; since: number }>(r.challenger),
  pin: parse<string[]>(r.pin),
  pinnedBy: r.pinned_by,
  generation: r.generation,
  state: r.state,
  cost: r.cost,
  alternatives: JSON.parse(r.alternatives) as RouteCandidate[],
  evaluatedAt: r.evaluated_at,
});

interface ChangeRow {
  at: number;
  previous: string | null;
  route: string;
  reason: string;
  cost: number | null;
  pinned: number;
  actor: string;
}
