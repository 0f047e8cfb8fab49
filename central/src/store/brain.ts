// What the brain concluded, stored: clustering runs (clusters, members with their features) and surges
// (浪涌) with the actions taken. Rows are written by services/brain.ts only.
import type { TrafficPair } from '../domain/traffic.js';
import type { Db } from './db.js';

/** One clustering run, newest in force. */
export interface ClusterRunRecord {
  runId: string;
  createdAt: number;
  sinceMs: number;
  untilMs: number;
  bucketMs: number;
  pairs: number;
  k: number;
  criterion: unknown;
}

export interface ClusterRecord {
  runId: string;
  clusterId: number;
  size: number;
  label: unknown;
  profile: unknown;
  policy: unknown;
  silhouette: number;
}

export interface ClusterMemberRecord extends TrafficPair {
  runId: string;
  clusterId: number;
  features: unknown;
}

export type SurgeOrigin = 'live' | 'import';

/** A surge of one pair; endMs null while it lasts. */
export interface SurgeRecord extends TrafficPair {
  surgeId: string;
  origin: SurgeOrigin;
  startMs: number;
  endMs: number | null;
  detectedAtMs: number;
  /** Largest records per bucket seen during the surge. */
  peak: number;
  /** The forecast at the peak's bucket, records per bucket. */
  expected: number;
  evidence: unknown;
  actions: unknown[];
}

export interface SurgeFilter {
  fromNode?: string;
  toNode?: string;
  origin?: SurgeOrigin;
  /** Surges overlapping [sinceMs, untilMs). */
  sinceMs?: number;
  untilMs?: number;
  openOnly?: boolean;
  limit?: number;
}

type Row = Record<string, unknown>;
const json = (v: unknown): unknown => JSON.parse(String(v));

export class BrainStore {
  constructor(private readonly db: Db) {}

  /** Stores a whole run; runs older than the newest `keepRuns` are deleted with their clusters and members. */
  putRun(
    run: ClusterRunRecord,
    clusters: readonly ClusterRecord[],
    members: readonly ClusterMemberRecord[],
    keepRuns = 10,
  ): void {
    this.db
      .prepare(
        `INSERT INTO cluster_runs (run_id, created_at, since_ms, until_ms, bucket_ms, pairs, k, criterion_json)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        run.runId,
        run.createdAt,
        run.sinceMs,
        run.untilMs,
        run.bucketMs,
        run.pairs,
        run.k,
        JSON.stringify(run.criterion),
      );
    const c = this.db.prepare(
      `INSERT INTO clusters (run_id, cluster_id, size, label_json, profile_json, policy_json, silhouette)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const x of clusters)
      c.run(
        x.runId,
        x.clusterId,
        x.size,
        JSON.stringify(x.label),
        JSON.stringify(x.profile),
        JSON.stringify(x.policy),
        x.silhouette,
      );
    const m = this.db.prepare(
      `INSERT INTO cluster_members (run_id, from_node, to_node, resource, cluster_id, features_json) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    for (const x of members) m.run(x.runId, x.fromNode, x.toNode, x.resource, x.clusterId, JSON.stringify(x.features));
    this.db
      .prepare(
        `DELETE FROM cluster_runs WHERE run_id NOT IN
           (SELECT run_id FROM cluster_runs ORDER BY created_at DESC, run_id DESC LIMIT ?)`,
      )
      .run(keepRuns);
  }

  latestRun(): ClusterRunRecord | undefined {
    const r = this.db.prepare(`SELECT * FROM cluster_runs ORDER BY created_at DESC, run_id DESC LIMIT 1`).get() as
      Row | undefined;
    return r && runOf(r);
  }

  clusters(runId: string): ClusterRecord[] {
    return (this.db.prepare(`SELECT * FROM clusters WHERE run_id = ? ORDER BY cluster_id`).all(runId) as Row[]).map(
      (r) => ({
        runId: String(r['run_id']),
        clusterId: Number(r['cluster_id']),
        size: Number(r['size']),
        label: json(r['label_json']),
        profile: json(r['profile_json']),
        policy: json(r['policy_json']),
        silhouette: Number(r['silhouette']),
      }),
    );
  }

  members(runId: string, clusterId?: number): ClusterMemberRecord[] {
    const rows = (
      clusterId === undefined
        ? this.db
            .prepare(`SELECT * FROM cluster_members WHERE run_id = ? ORDER BY from_node, to_node, resource`)
            .all(runId)
        : this.db
            .prepare(
              `SELECT * FROM cluster_members WHERE run_id = ? AND cluster_id = ? ORDER BY from_node, to_node, resource`,
            )
            .all(runId, clusterId)
    ) as Row[];
    return rows.map((r) => ({
      runId: String(r['run_id']),
      fromNode: String(r['from_node']),
      toNode: String(r['to_node']),
      resource: String(r['resource']),
      clusterId: Number(r['cluster_id']),
      features: json(r['features_json']),
    }));
  }

  /** Inserts a surge or, when (pair, origin, start) is known, updates its end, peak, expected, evidence and actions. */
  upsertSurge(s: SurgeRecord): void {
    this.db
      .prepare(
        `INSERT INTO surges (surge_id, from_node, to_node, resource, origin, start_ms, end_ms, detected_at_ms, peak,
           expected, evidence_json, actions_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (from_node, to_node, resource, origin, start_ms) DO UPDATE SET end_ms = excluded.end_ms,
           peak = excluded.peak, expected = excluded.expected, evidence_json = excluded.evidence_json,
           actions_json = excluded.actions_json`,
      )
      .run(
        s.surgeId,
        s.fromNode,
        s.toNode,
        s.resource,
        s.origin,
        s.startMs,
        s.endMs,
        s.detectedAtMs,
        s.peak,
        s.expected,
        JSON.stringify(s.evidence),
        JSON.stringify(s.actions),
      );
  }

  /** Deletes a pair's surges of one origin starting in [sinceMs, untilMs) (a re-import replaces them). */
  deleteSurges(pair: TrafficPair, origin: SurgeOrigin, sinceMs: number, untilMs: number): number {
    return this.db
      .prepare(
        `DELETE FROM surges WHERE from_node = ? AND to_node = ? AND resource = ? AND origin = ? AND start_ms >= ? AND start_ms < ?`,
      )
      .run(pair.fromNode, pair.toNode, pair.resource, origin, sinceMs, untilMs).changes;
  }

  /** The static policy the brain keeps for a pair, if any. */
  staticPolicy(pair: TrafficPair): { policyId: string; runId: string } | undefined {
    const r = this.db
      .prepare(`SELECT policy_id, run_id FROM brain_policies WHERE from_node = ? AND to_node = ? AND resource = ?`)
      .get(pair.fromNode, pair.toNode, pair.resource) as Row | undefined;
    return r && { policyId: String(r['policy_id']), runId: String(r['run_id']) };
  }

  /** Every pair's static policy the brain keeps (the tide allocation walks them each minute). */
  staticPolicies(): { pair: TrafficPair; policyId: string }[] {
    const rows = this.db
      .prepare(
        `SELECT from_node, to_node, resource, policy_id FROM brain_policies ORDER BY from_node, to_node, resource`,
      )
      .all() as Row[];
    return rows.map((r) => ({
      pair: { fromNode: String(r['from_node']), toNode: String(r['to_node']), resource: String(r['resource']) },
      policyId: String(r['policy_id']),
    }));
  }

  setStaticPolicy(pair: TrafficPair, policyId: string, runId: string): void {
    this.db
      .prepare(
        `INSERT INTO brain_policies (from_node, to_node, resource, policy_id, run_id) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (from_node, to_node, resource) DO UPDATE SET policy_id = excluded.policy_id, run_id = excluded.run_id`,
      )
      .run(pair.fromNode, pair.toNode, pair.resource, policyId, runId);
  }

  getSurge(surgeId: string): SurgeRecord | undefined {
    const r = this.db.prepare(`SELECT * FROM surges WHERE surge_id = ?`).get(surgeId) as Row | undefined;
    return r && surgeOf(r);
  }

  /** Surges, oldest start first. */
  surges(f: SurgeFilter = {}): SurgeRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.fromNode !== undefined) {
      where.push('from_node = ?');
      args.push(f.fromNode);
    }
    if (f.toNode !== undefined) {
      where.push('to_node = ?');
      args.push(f.toNode);
    }
    if (f.origin !== undefined) {
      where.push('origin = ?');
      args.push(f.origin);
    }
    if (f.untilMs !== undefined) {
      where.push('start_ms < ?');
      args.push(f.untilMs);
    }
    if (f.sinceMs !== undefined) {
      where.push('(end_ms IS NULL OR end_ms > ?)');
      args.push(f.sinceMs);
    }
    if (f.openOnly) where.push('end_ms IS NULL');
    const sql = `SELECT * FROM surges ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY start_ms, from_node, to_node, resource LIMIT ?`;
    return (this.db.prepare(sql).all(...args, f.limit ?? 10_000) as Row[]).map(surgeOf);
  }
}

function runOf(r: Row): ClusterRunRecord {
  return {
    runId: String(r['run_id']),
    createdAt: Number(r['created_at']),
    sinceMs: Number(r['since_ms']),
    untilMs: Number(r['until_ms']),
    bucketMs: Number(r['bucket_ms']),
    pairs: Number(r['pairs']),
    k: Number(r['k']),
    criterion: json(r['criterion_json']),
  };
}

function surgeOf(r: Row): SurgeRecord {
  return {
    surgeId: String(r['surge_id']),
    fromNode: String(r['from_node']),
    toNode: String(r['to_node']),
    resource: String(r['resource']),
    origin: String(r['origin']) as SurgeOrigin,
    startMs: Number(r['start_ms']),
    endMs: r['end_ms'] === null ? null : Number(r['end_ms']),
    detectedAtMs: Number(r['detected_at_ms']),
    peak: Number(r['peak']),
    expected: Number(r['expected']),
    evidence: json(r['evidence_json']),
    actions: json(r['actions_json']) as unknown[],
  };
}
