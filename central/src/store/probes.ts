// Probe windows (测试粒子) relays report, stored once per report_id and kept for a bounded time, and the
// state of each link as the last route evaluation found it.
import type { LinkHealth } from '../api/routing.js';
import type { LinkEvidence, ProbeWindow } from '../domain/link-state.js';
import type { Db } from './db.js';

export type { ProbeWindow } from '../domain/link-state.js';

/** A link's state as stored by the evaluation (services/routing.ts). */
export interface LinkStateRecord {
  linkId: string;
  state: LinkHealth;
  reason: string | null;
  stateSince: number;
  healthySince: number | null;
  evidence: LinkEvidence | null;
  evaluatedAt: number;
}

export class ProbeStore {
  constructor(private readonly db: Db) {}

  /** Stores a window unless its report id is known; returns true when it was new. */
  insertWindow(reportId: string, nodeId: string, w: ProbeWindow): boolean {
    return (
      this.db
        .prepare(
          `INSERT INTO probe_windows (report_id, node_id, from_center, to_center, link_id, route, window_start,
             window_end, sent, answered, rtt_p50_us, rtt_p99_us, forwarded_bytes, probe_bytes, queue_depth, received_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (report_id) DO NOTHING`,
        )
        .run(
          reportId,
          nodeId,
          w.fromCenter,
          w.toCenter,
          w.linkId,
          JSON.stringify(w.route),
          w.windowStartMs,
          w.windowEndMs,
          w.sent,
          w.answered,
          w.rttP50Us,
          w.rttP99Us,
          w.forwardedBytes,
          w.probeBytes,
          w.queueDepth,
          w.receivedAt,
        ).changes === 1
    );
  }

  /** Link probe windows (link_id not empty) ending after `sinceMs`, grouped by link id. */
  linkWindowsSince(sinceMs: number): Map<string, ProbeWindow[]> {
    const rows = this.db
      .prepare(`SELECT * FROM probe_windows WHERE link_id <> '' AND window_end > ? ORDER BY window_end`)
      .all(sinceMs) as WindowRow[];
    const out = new Map<string, ProbeWindow[]>();
    for (const r of rows) {
      const list = out.get(r.link_id) ?? [];
      list.push(toWindow(r));
      out.set(r.link_id, list);
    }
    return out;
  }

  /** Route probe windows (link_id '') sent from `fromCenter` ending after `sinceMs`. */
  routeWindowsSince(fromCenter: string, sinceMs: number): ProbeWindow[] {
    return (
      this.db
        .prepare(
          `SELECT * FROM probe_windows WHERE link_id = '' AND from_center = ? AND window_end > ? ORDER BY window_end`,
        )
        .all(fromCenter, sinceMs) as WindowRow[]
    ).map(toWindow);
  }

  /** Deletes windows received before `beforeMs`; returns how many. */
  prune(beforeMs: number): number {
    return this.db.prepare('DELETE FROM probe_windows WHERE received_at < ?').run(beforeMs).changes;
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM probe_windows').get() as { n: number }).n;
  }

  linkState(linkId: string): LinkStateRecord | undefined {
    const r = this.db.prepare('SELECT * FROM link_states WHERE link_id = ?').get(linkId) as StateRow | undefined;
    return r && toState(r);
  }

  linkStates(): Map<string, LinkStateRecord> {
    const rows = this.db.prepare('SELECT * FROM link_states').all() as StateRow[];
    return new Map(rows.map((r) => [r.link_id, toState(r)]));
  }

  upsertLinkState(s: LinkStateRecord): void {
    this.db
      .prepare(
        `INSERT INTO link_states (link_id, state, reason, state_since, healthy_since, evidence, evaluated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (link_id) DO UPDATE SET state = excluded.state, reason = excluded.reason,
           state_since = excluded.state_since, healthy_since = excluded.healthy_since, evidence = excluded.evidence,
           evaluated_at = excluded.evaluated_at`,
      )
      .run(
        s.linkId,
        s.state,
        s.reason,
        s.stateSince,
        s.healthySince,
        s.evidence ? JSON.stringify(s.evidence) : null,
        s.evaluatedAt,
      );
  }

  /** Forgets the states of links that no longer exist. */
  deleteLinkStatesExcept(linkIds: readonly string[]): void {
    const keep = new Set(linkIds);
    const st = this.db.prepare('DELETE FROM link_states WHERE link_id = ?');
    for (const id of this.linkStates().keys()) if (!keep.has(id)) st.run(id);
  }
}

interface WindowRow {
  report_id: string;
  node_id: string;
  from_center: string;
  to_center: string;
  link_id: string;
  route: string;
  window_start: number;
  window_end: number;
  sent: number;
  answered: number;
  rtt_p50_us: number;
  rtt_p99_us: number;
  forwarded_bytes: number;
  probe_bytes: number;
  queue_depth: number;
  received_at: number;
}
const toWindow = (r: WindowRow): ProbeWindow => ({
  fromCenter: r.from_center,
  toCenter: r.to_center,
  linkId: r.link_id,
  route: JSON.parse(r.route) as string[],
  windowStartMs: r.window_start,
  windowEndMs: r.window_end,
  sent: r.sent,
  answered: r.answered,
  rttP50Us: r.rtt_p50_us,
  rttP99Us: r.rtt_p99_us,
  forwardedBytes: r.forwarded_bytes,
  probeBytes: r.probe_bytes,
  queueDepth: r.queue_depth,
  receivedAt: r.received_at,
});

interface StateRow {
  link_id: string;
  state: LinkHealth;
  reason: string | null;
  state_since: number;
  healthy_since: number | null;
  evidence: string | null;
  evaluated_at: number;
}
const toState = (r: StateRow): LinkStateRecord => ({
  linkId: r.link_id,
  state: r.state,
  reason: r.reason,
  stateSince: r.state_since,
  healthySince: r.healthy_since,
  evidence: r.evidence === null ? null : (JSON.parse(r.evidence) as LinkEvidence),
  evaluatedAt: r.evaluated_at,
});
