// Which route each committed batch travelled, seen at the consumer's exchange center: a core subscription
// there gets a copy of every data unit the relays deliver for the consumer (with the Xchg-Route header the
// sender stamped and its Nats-Msg-Id) and of every receipt the consumer sends back (with the batch id,
// status and the consumer's commit time). A batch counts as committed over a route only when every copy of
// it that reached the center before its receipt came over that route: it cannot be credited to a route
// it did not travel.
import { connect } from '@nats-io/transport-node';
import type { NatsConnection, Msg } from '@nats-io/nats-core';
import { decodeReceipt } from '../../node-agent/src/transport/envelope.js';
import { ROUTE_HEADER } from '../../node-agent/src/transport/routing.js';

/** One copy of a data unit as it arrived at the consumer's center. */
export interface UnitCopy {
  msgId: string;
  /** Centers joined with '>' (from the Xchg-Route header; '' when the unit came without one). */
  route: string;
  /** The provider's task (last token of the data subject). */
  task: string;
  at: number;
}

/** A batch the consumer committed (receipt status committed). */
export interface Commit {
  batchId: string;
  task: string;
  /** The consumer's commit time (its clock: the same machine's). */
  at: number;
  records: number;
  sequence: number;
  /** The routes of the copies that arrived before the receipt, distinct, in arrival order. */
  routes: string[];
  /** When the first copy arrived. */
  firstCopyAt: number;
}

export class RouteWatch {
  private readonly copies = new Map<string, UnitCopy[]>();
  readonly commits: Commit[] = [];

  private constructor(private readonly nc: NatsConnection) {}

  /**
   * Watches at `url` (the consumer's home center) the data units for `consumerId` and the receipts it
   * sends to `providerId` (they leave on the transit subject: the provider is at another center).
   */
  static async start(url: string, prefix: string, consumerId: string, providerId: string): Promise<RouteWatch> {
    const nc = await connect({ servers: url, name: 'route-watch', maxReconnectAttempts: -1 });
    const w = new RouteWatch(nc);
    nc.subscribe(`${prefix}.n.${consumerId}.d.>`, { callback: (err, m) => void (err || w.onUnit(m)) });
    nc.subscribe(`${prefix}.t.n.${providerId}.r`, { callback: (err, m) => void (err || w.onReceipt(m)) });
    await nc.flush();
    return w;
  }

  private onUnit(m: Msg): void {
    const msgId = m.headers?.get('Nats-Msg-Id') ?? '';
    const batchId = msgId.replace(/~\d+$/, '');
    const copy = {
      msgId,
      route: (m.headers?.get(ROUTE_HEADER) ?? '').split(',').join('>'),
      task: m.subject.split('.').at(-1) ?? '',
      at: Date.now(),
    };
    const list = this.copies.get(batchId) ?? [];
    list.push(copy);
    this.copies.set(batchId, list);
  }

  private onReceipt(m: Msg): void {
    const r = decodeReceipt(m.data);
    if (r.status !== 'committed') return;
    const seen = this.copies.get(r.batchId) ?? [];
    this.commits.push({
      batchId: r.batchId,
      task: seen[0]?.task ?? '',
      at: r.committedAtMs,
      records: r.recordsWritten,
      sequence: r.sequence,
      routes: [...new Set(seen.map((c) => c.route))],
      firstCopyAt: seen[0]?.at ?? 0,
    });
  }

  /** Commits of one task (every task when undefined), by commit time. */
  commitsOf(task?: string): Commit[] {
    return this.commits.filter((c) => task === undefined || c.task === task).sort((a, b) => a.at - b.at);
  }

  /**
   * The first batch committed after `after` that travelled `route` only (every copy of it that arrived came
   * over it) and whose first copy arrived after `after`: traffic that took the route since then.
   */
  firstCommitVia(route: readonly string[], after: number, task?: string): Commit | undefined {
    const r = route.join('>');
    return this.commitsOf(task).find(
      (c) => c.at > after && c.firstCopyAt > after && c.routes.length === 1 && c.routes[0] === r,
    );
  }

  /** Committed batches (and their records) by the route they travelled ('a|b' when copies came both ways). */
  byRoute(task?: string, from = 0, to = Infinity): Record<string, { batches: number; records: number }> {
    const out: Record<string, { batches: number; records: number }> = {};
    for (const c of this.commitsOf(task)) {
      if (c.at < from || c.at >= to) continue;
      const k = c.routes.join('|') || '(no copy seen)';
      const v = (out[k] ??= { batches: 0, records: 0 });
      v.batches++;
      v.records += c.records;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.nc.close();
  }
}
