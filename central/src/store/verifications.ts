// Verification runs (对账) and per-subscription schedules. Invariant: a run's state only moves forward,
// requested → running → done | failed (finish() refuses to touch a finished run).
import type { Verification, VerificationResult, VerificationState } from '../api/reconcile.js';
import type { Db } from './db.js';

export type {
  Verification,
  VerificationResult,
  VerificationState,
  VerifySchedule,
  VerificationTrigger,
} from '../api/reconcile.js';

interface Row {
  id: string;
  subscription_id: string;
  exchange_task_id: string;
  consumer_node_id: string;
  provider_node_id: string;
  repair: number;
  trigger: Verification['trigger'];
  state: VerificationState;
  requested_by: string;
  requested_at: number;
  started_at: number | null;
  finished_at: number | null;
  error: string;
  result_json: string | null;
}

const fromRow = (r: Row): Verification => ({
  id: r.id,
  subscriptionId: r.subscription_id,
  exchangeTaskId: r.exchange_task_id,
  consumerNodeId: r.consumer_node_id,
  providerNodeId: r.provider_node_id,
  repair: r.repair === 1,
  trigger: r.trigger,
  state: r.state,
  requestedBy: r.requested_by,
  requestedAt: r.requested_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  error: r.error,
  result: r.result_json ? (JSON.parse(r.result_json) as VerificationResult) : null,
});

export class VerificationStore {
  constructor(private readonly db: Db) {}

  insert(v: Verification): void {
    this.db
      .prepare(
        `INSERT INTO verifications (id, subscription_id, exchange_task_id, consumer_node_id, provider_node_id, repair, trigger, state, requested_by, requested_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        v.id,
        v.subscriptionId,
        v.exchangeTaskId,
        v.consumerNodeId,
        v.providerNodeId,
        v.repair ? 1 : 0,
        v.trigger,
        v.state,
        v.requestedBy,
        v.requestedAt,
      );
  }

  get(id: string): Verification | undefined {
    const r = this.db.prepare('SELECT * FROM verifications WHERE id = ?').get(id) as Row | undefined;
    return r && fromRow(r);
  }

  /** Runs of a subscription, newest first. */
  list(subscriptionId: string, limit = 100): Verification[] {
    return (
      this.db
        .prepare('SELECT * FROM verifications WHERE subscription_id = ? ORDER BY requested_at DESC, rowid DESC LIMIT ?')
        .all(subscriptionId, limit) as Row[]
    ).map(fromRow);
  }

  /** Requested or running runs a node carries out (its assignments). */
  openForNode(nodeId: string): Verification[] {
    return (
      this.db
        .prepare(
          `SELECT * FROM verifications WHERE consumer_node_id = ? AND state IN ('requested', 'running') ORDER BY requested_at`,
        )
        .all(nodeId) as Row[]
    ).map(fromRow);
  }

  /** The open run of a subscription, if any. */
  openFor(subscriptionId: string): Verification | undefined {
    const r = this.db
      .prepare(
        `SELECT * FROM verifications WHERE subscription_id = ? AND state IN ('requested', 'running') ORDER BY requested_at LIMIT 1`,
      )
      .get(subscriptionId) as Row | undefined;
    return r && fromRow(r);
  }

  /** Newest run's request time per subscription. */
  lastRequested(): Map<string, number> {
    const rows = this.db
      .prepare('SELECT subscription_id AS s, max(requested_at) AS at FROM verifications GROUP BY subscription_id')
      .all() as { s: string; at: number }[];
    return new Map(rows.map((r) => [r.s, r.at]));
  }

  markRunning(id: string, at: number): boolean {
    return (
      this.db
        .prepare(
          `UPDATE verifications SET state = 'running', started_at = coalesce(started_at, ?) WHERE id = ? AND state = 'requested'`,
        )
        .run(at, id).changes > 0
    );
  }

  /** Ends a run; false when it had already ended. */
  finish(id: string, state: 'done' | 'failed', at: number, result: VerificationResult | null, error: string): boolean {
    return (
      this.db
        .prepare(
          `UPDATE verifications SET state = ?, finished_at = ?, started_at = coalesce(started_at, ?), result_json = ?, error = ? WHERE id = ? AND state IN ('requested', 'running')`,
        )
        .run(state, at, at, result ? JSON.stringify(result) : null, error, id).changes > 0
    );
  }

  schedule(subscriptionId: string): number | undefined {
    return (
      this.db
        .prepare('SELECT interval_ms AS ms FROM verify_schedules WHERE subscription_id = ?')
        .get(subscriptionId) as { ms: number } | undefined
    )?.ms;
  }

  schedules(): Map<string, number> {
    return new Map(
      (
        this.db.prepare('SELECT subscription_id AS s, interval_ms AS ms FROM verify_schedules').all() as {
          s: string;
          ms: number;
        }[]
      ).map((r) => [r.s, r.ms]),
    );
  }

  setSchedule(subscriptionId: string, intervalMs: number | null, at: number): void {
    if (intervalMs === null)
      this.db.prepare('DELETE FROM verify_schedules WHERE subscription_id = ?').run(subscriptionId);
    else
      this.db
        .prepare(
          'INSERT INTO verify_schedules (subscription_id, interval_ms, updated_at) VALUES (?, ?, ?) ON CONFLICT (subscription_id) DO UPDATE SET interval_ms = excluded.interval_ms, updated_at = excluded.updated_at',
        )
        .run(subscriptionId, intervalMs, at);
  }
}
