// Request/reply between agents over core NATS, outside the streams: the online query (联机查询, protobuf
// QueryRequest/QueryReply on <p>.q.<provider>) and reconciliation questions (对账, JSON on <p>.rc.<provider>,
// see reconcile/protocol.ts). One subscription per node and kind, dispatched by subscription id.
//
// Invariants
//  - An answer the broker cannot carry would never arrive (the asker would only see a timeout): it is
//    replaced by an error saying how large it was.
//  - A node subscribes to its query or reconcile subject only once a provider task registers for it, and
//    again on each new connection (after a move to another center).
import {
  decodeQueryReply,
  decodeQueryRequest,
  encodeQueryReply,
  encodeQueryRequest,
  type QueryReply,
  type QueryRequest,
} from '../transport/envelope.js';
import type { Link } from './link.js';

export type QueryHandler = (q: QueryRequest) => Promise<QueryReply>;
export type ReconcileHandler = (q: Record<string, unknown>) => Promise<unknown>;

/** Room left in a reply for the broker's own framing (bytes). */
const REPLY_MARGIN_BYTES = 1024;

export class Online {
  private readonly queryHandlers = new Map<string, QueryHandler>();
  private readonly queryTargets = new Map<string, string>();
  private readonly reconcileHandlers = new Map<string, ReconcileHandler>();
  private querySubscribed = false;
  private reconcileSubscribed = false;

  constructor(private readonly link: Link) {}

  /** Provider: answers online queries of a subscription. */
  registerQuery(subscriptionId: string, h: QueryHandler): void {
    this.queryHandlers.set(subscriptionId, h);
    if (this.querySubscribed) return;
    this.querySubscribed = true;
    // On each connection: a node moved to another center subscribes there.
    this.link.onConnect((t) =>
      t.subscribe(t.subjects.query(this.link.nodeId), async (m) => void m.respond(await this.answerQuery(m.data))),
    );
    void this.link.connected();
  }

  unregisterQuery(subscriptionId: string): void {
    this.queryHandlers.delete(subscriptionId);
  }

  private async answerQuery(data: Uint8Array): Promise<Uint8Array> {
    let reply: QueryReply;
    try {
      const q = decodeQueryRequest(data);
      const h = this.queryHandlers.get(q.subscriptionId);
      reply = h ? await h(q) : { ok: false, error: `no sync task of subscription ${q.subscriptionId} on this node` };
    } catch (err) {
      reply = { ok: false, error: `bad query: ${(err as Error).message}` };
    }
    const bytes = encodeQueryReply(reply);
    const max = this.link.maxPayload() - REPLY_MARGIN_BYTES;
    if (bytes.length <= max) return bytes;
    return encodeQueryReply({
      ok: false,
      error: `the record is too large to send: ${bytes.length} bytes, the exchange center carries at most ${max}`,
    });
  }

  /** Consumer: remembers which provider node answers queries of a subscription. */
  registerQueryTarget(subscriptionId: string, providerNodeId: string): void {
    this.queryTargets.set(subscriptionId, providerNodeId);
  }

  unregisterQueryTarget(subscriptionId: string): void {
    this.queryTargets.delete(subscriptionId);
  }

  /** Consumer: asks the provider of a subscription one keyed question. */
  async query(subscriptionId: string, key: Record<string, string>, timeoutMs: number): Promise<QueryReply> {
    const provider = this.queryTargets.get(subscriptionId);
    if (!provider) return { ok: false, error: `this node has no exchange task of subscription ${subscriptionId}` };
    const t = await this.link.connected();
    try {
      const m = await t.request(
        t.subjects.query(provider),
        encodeQueryRequest({ subscriptionId, requester: this.link.nodeId, key }),
        timeoutMs,
      );
      return decodeQueryReply(m.data);
    } catch (err) {
      return { ok: false, error: `provider ${provider} did not answer: ${(err as Error).message}` };
    }
  }

  /** Provider: answers reconciliation questions about a subscription. */
  registerReconcile(subscriptionId: string, h: ReconcileHandler): void {
    this.reconcileHandlers.set(subscriptionId, h);
    if (this.reconcileSubscribed) return;
    this.reconcileSubscribed = true;
    this.link.onConnect((t) =>
      t.subscribe(
        t.subjects.reconcile(this.link.nodeId),
        async (m) => void m.respond(await this.answerReconcile(m.data)),
      ),
    );
    void this.link.connected();
  }

  unregisterReconcile(subscriptionId: string): void {
    this.reconcileHandlers.delete(subscriptionId);
  }

  private async answerReconcile(data: Uint8Array): Promise<Uint8Array> {
    let reply: unknown;
    try {
      const q = JSON.parse(Buffer.from(data).toString('utf8')) as Record<string, unknown>;
      const h = this.reconcileHandlers.get(String(q['subscriptionId']));
      reply = h
        ? await h(q)
        : {
            ok: false,
            error: `no sync task of subscription ${String(q['subscriptionId'])} on node ${this.link.nodeId}`,
          };
    } catch (err) {
      reply = { ok: false, error: `bad reconciliation question: ${(err as Error).message}` };
    }
    const bytes = Buffer.from(JSON.stringify(reply));
    const max = this.link.maxPayload() - REPLY_MARGIN_BYTES;
    if (bytes.length <= max) return bytes;
    return Buffer.from(
      JSON.stringify({
        ok: false,
        error: `the answer is too large to send: ${bytes.length} bytes, the exchange center carries at most ${max}`,
      }),
    );
  }

  /** Consumer: asks the provider node one reconciliation question; throws when it does not answer in time. */
  async askReconcile(
    providerNodeId: string,
    q: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<Record<string, unknown>> {
    const t = await this.link.connected();
    const m = await t.request(
      t.subjects.reconcile(providerNodeId),
      Buffer.from(JSON.stringify({ ...q, requester: this.link.nodeId })),
      timeoutMs,
    );
    return JSON.parse(Buffer.from(m.data).toString('utf8')) as Record<string, unknown>;
  }
}
