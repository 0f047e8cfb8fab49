// The agent's data plane (数据传输组件): one NATS connection, the publisher that drains the spool outbox
// into JetStream, the receipt consumer that empties it, the data consumer that dispatches arriving
// batches to exchange tasks, and the stream-progress protocol that recovers from a broker which lost
// what it acknowledged.
//
// Invariants
//  - The publisher never deletes: a JetStream publish ack only sets published_at. Batches leave the
//    outbox on a receipt (cumulative: sequence N acknowledges ≤ N) or on the consumer's reported progress.
//  - First send of a batch uses its batch id as Nats-Msg-Id; a re-send after a stall uses "<id>~<n>" so
//    the broker's dedup window cannot swallow a re-send of a batch the broker itself lost.
//  - Before a provider task's first batch goes out, the consumer is asked whether its exchange task for
//    the subscription exists; while it answers "not yet", the task's batches wait in the outbox (reading
//    goes on). A consumer that does not answer at all is offline: batches go to the broker, which keeps
//    them for it (store and forward).
//  - A stall (no receipt for receiptTimeoutMs while batches are published) triggers a progress question;
//    batches are re-sent only when the consumer answers and has made no progress since the last answer,
//    so a slow consumer working through a backlog is not flooded with copies. Unanswered questions back
//    off (×2 up to 16× the timeout).
//  - On the consumer, a batch is acked to JetStream only after the sink committed it (or found it a
//    duplicate); a receipt follows the ack. A gap (sequence not next) is dropped and answered with a
//    "gap" receipt naming the last sequence applied: the provider, which still holds every batch after
//    it, re-sends them in order (at most once a second per task). A batch for a subscription the node
//    has no exchange task for (yet) is nak'ed for redelivery a little later, never dropped.
import { setMaxListeners } from 'node:events';
import type { JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { Backoff, sleep } from '../backoff.js';
import type { NodeIdentity } from '../identity.js';
import type { DataSpool, OutboxBatch } from '../spool/data-spool.js';
import {
  decodeEnvelope,
  decodeProgressReply,
  decodeProgressRequest,
  decodeReceipt,
  encodeProgressReply,
  encodeProgressRequest,
  encodeReceipt,
  ENVELOPE_HEADER,
  payloadIntact,
  type EnvelopeData,
  type ProgressReply,
  type ReceiptData,
} from '../transport/envelope.js';
import { NatsTransport, Subjects } from '../transport/nats-transport.js';

export interface DataPlaneSettings {
  /** Async JetStream publishes kept in flight. */
  publishWindow: number;
  /** How long a published batch may wait for its receipt before the provider asks the consumer. */
  receiptTimeoutMs: number;
  /** Batches re-sent at most per stall of one task. */
  resendWindow: number;
  /** JetStream ack wait of the data consumer. */
  ackWaitMs: number;
}

/** What the data consumer hands to an exchange task. */
export interface InboundHandler {
  /** Applies one batch; resolves with the receipt status and counts. Throws to have it redelivered. */
  handle(env: EnvelopeData): Promise<{ status: ReceiptData['status']; written: number; quarantined: number; reason?: string }>;
  /** Highest sequence applied of a stream, for progress questions. */
  lastSequence(stream: string): Promise<number>;
  /** File transfers: how much of a file is written in order, for progress questions. */
  fileProgress?(fileId: string): Promise<{ committedBytes: number; complete: boolean }>;
}

/** Online query (联机查询): a keyed question from a consumer's agent to the provider's agent. */
export interface QueryRequest {
  subscriptionId: string;
  requester: string;
  /** One field (by its name at the consumer) and the value looked for. */
  key: Record<string, unknown>;
}
export type QueryReply = { ok: true; found: boolean; record?: Record<string, unknown> } | { ok: false; error: string };
export type QueryHandler = (q: QueryRequest) => Promise<QueryReply>;

/** What a provider task registers: where its batches go, for progress questions. */
export interface OutboundStream {
  destinationNodeId: string;
  subscriptionId: string;
}

export const streamKey = (sourceNodeId: string, taskId: string, epoch: string): string => `${sourceNodeId}/${taskId}/${epoch}`;

/** The addressing part of every envelope a provider task sends (who, to whom, under which agreement). */
export function addressing(
  task: { id: string; resourceCode: string; subscriptionId: string; peerNodeId: string },
  sourceNodeId: string,
  agreementId: string,
): Pick<EnvelopeData, 'resourceCode' | 'subscriptionId' | 'taskId' | 'sourceNodeId' | 'destinationNodeId' | 'route' | 'hopIndex' | 'schemaVersion' | 'createdAtMs' | 'agreementId'> {
  return {
    resourceCode: task.resourceCode,
    subscriptionId: task.subscriptionId,
    taskId: task.id,
    sourceNodeId,
    destinationNodeId: task.peerNodeId,
    route: [],
    hopIndex: 0,
    schemaVersion: 1,
    createdAtMs: Date.now(),
    agreementId,
  };
}

export class DataPlane {
  private transport: NatsTransport | undefined;
  private connecting: Promise<NatsTransport> | undefined;
  // Every registered task waits on this signal (handshakes, stalls): as many listeners as tasks is normal.
  private readonly abort = (() => {
    const c = new AbortController();
    setMaxListeners(0, c.signal);
    return c;
  })();
  private readonly inbound = new Map<string, InboundHandler>();
  private readonly outbound = new Map<string, OutboundStream>();
  private readonly lastReceiptAt = new Map<string, number>();
  private readonly lastProgress = new Map<string, number>();
  private readonly stallFactor = new Map<string, number>();
  private readonly lastGapResend = new Map<string, number>();
  private readonly pendingGaps = new Map<string, { r: ReceiptData; timer: NodeJS.Timeout }>();
  /** Provider tasks whose consumer said it is not ready yet (their batches wait). */
  private readonly notReady = new Set<string>();
  private loops: Promise<void>[] = [];
  private readonly fileReceipts = new Map<string, (r: ReceiptData) => void>();
  private readonly queryHandlers = new Map<string, QueryHandler>();
  private readonly queryTargets = new Map<string, string>();
  private querySubscribed = false;
  private dataConsumerStarted = false;
  private lastUnknownLog = 0;
  /** Per subscription: consecutive sink failures and the redelivery delay they have grown to. */
  private readonly sinkBackoff = new Map<string, { backoff: Backoff; failures: number }>();
  private receiptConsumerStarted = false;
  private publisherStarted = false;
  private kick: (() => void) | undefined;
  private readonly log: Logger;
  readonly subjects: Subjects;
  /** Receipts seen, for tests and metrics. */
  receiptsReceived = 0;
  batchesPublished = 0;

  constructor(
    private readonly identity: NodeIdentity,
    private readonly spool: DataSpool,
    private readonly settings: DataPlaneSettings,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'data-plane' });
    this.subjects = new Subjects(identity.dataPlane.subjectPrefix);
  }

  get nodeId(): string {
    return this.identity.nodeId;
  }

  /** The transport, connecting on first use (in the background: reading into the spool goes on meanwhile). */
  connected(): Promise<NatsTransport> {
    this.connecting ??= NatsTransport.connect({
      servers: this.identity.dataPlane.natsUrls,
      prefix: this.identity.dataPlane.subjectPrefix,
      stream: this.identity.dataPlane.stream,
      nodeId: this.identity.nodeId,
      logger: this.log,
    }).then((t) => {
      this.transport = t;
      t.subscribe(t.subjects.ctl(this.nodeId), (m) => this.answerProgress(m.data).then((reply) => void m.respond(reply)));
      this.log.info({ servers: this.identity.dataPlane.natsUrls }, 'exchange center connected');
      return t;
    });
    return this.connecting;
  }

  /** Largest envelope the broker accepts. */
  maxPayload(): number {
    return this.transport?.nc.info?.max_payload ?? 1024 * 1024;
  }

  /** The broker's max payload once connected, else undefined. */
  knownMaxPayload(): number | undefined {
    return this.transport?.nc.info?.max_payload;
  }

  /** Registers a provider task; starts the publisher and receipt consumer on first use. */
  registerOutbound(taskId: string, s: OutboundStream): void {
    this.outbound.set(taskId, s);
    this.notReady.add(taskId);
    void this.handshake(taskId, s);
    this.startReceipts();
    if (!this.publisherStarted) {
      this.publisherStarted = true;
      this.loops.push(this.publishLoop(), this.stallLoop());
    }
    this.kick?.();
  }

  /** Registers a file-sending task: receipts naming a file go to `onReceipt` instead of the outbox. */
  registerFileReceipts(taskId: string, onReceipt: (r: ReceiptData) => void): void {
    this.fileReceipts.set(taskId, onReceipt);
    this.startReceipts();
  }

  unregisterFileReceipts(taskId: string): void {
    this.fileReceipts.delete(taskId);
  }

  /**
   * Asks the consumer of a file-sending task how much of a file it has written. Undefined when it does
   * not answer (offline, or the broker is down): the caller must not take silence for "nothing".
   */
  async fileProgress(taskId: string, fileId: string, timeoutMs: number): Promise<Required<ProgressReply> | undefined> {
    const out = this.outbound.get(taskId);
    const t = this.transport;
    if (!out || !t) return undefined;
    return this.askProgress(t, taskId, out, fileId, timeoutMs, fileId).catch(() => undefined);
  }

  /** Asks the consumer of a provider task how far it has applied a stream (or written a file); throws when it does not answer. */
  private async askProgress(t: NatsTransport, taskId: string, out: OutboundStream, epoch: string, timeoutMs: number, fileId?: string): Promise<Required<ProgressReply>> {
    const req = encodeProgressRequest({ sourceNodeId: this.nodeId, taskId, streamEpoch: epoch, subscriptionId: out.subscriptionId, ...(fileId && { fileId }) });
    return decodeProgressReply((await t.request(t.subjects.ctl(out.destinationNodeId), req, timeoutMs)).data);
  }

  private startReceipts(): void {
    if (this.receiptConsumerStarted) return;
    this.receiptConsumerStarted = true;
    this.loops.push(this.receiptLoop());
  }

  /** Whether the consumer of a provider task has answered that it is ready (or is offline). */
  isReady(taskId: string): boolean {
    return this.outbound.has(taskId) && !this.notReady.has(taskId);
  }

  unregisterOutbound(taskId: string): void {
    this.outbound.delete(taskId);
    this.notReady.delete(taskId);
  }

  /** Asks the consumer whether it is ready for the task's stream, until it is or does not answer. */
  private async handshake(taskId: string, s: OutboundStream): Promise<void> {
    const signal = this.abort.signal;
    const t = await this.connectedOrAbort();
    let logged = false;
    while (t && !signal.aborted && this.outbound.get(taskId) === s) {
      const epoch = this.spool.taskState(taskId, Date.now()).epoch;
      // No answer: offline (no responders) or slow: send anyway, the broker keeps the batches.
      const reply = await this.askProgress(t, taskId, s, epoch, 2_000).catch(() => undefined);
      if (!reply || reply.known) {
        if (reply) this.spool.acknowledge(taskId, epoch, reply.lastSequence);
        this.notReady.delete(taskId);
        this.kick?.();
        return;
      }
      if (!logged) this.log.info({ taskId, destination: s.destinationNodeId, reason: reply.reason }, 'consumer not ready for this subscription yet; batches wait');
      logged = true;
      await sleep(1_000, signal);
    }
  }

  /** Registers an exchange task for a subscription; starts the data consumer on first use. */
  registerInbound(subscriptionId: string, h: InboundHandler): void {
    this.inbound.set(subscriptionId, h);
    if (!this.dataConsumerStarted) {
      this.dataConsumerStarted = true;
      this.loops.push(this.dataLoop());
    }
  }

  unregisterInbound(subscriptionId: string): void {
    this.inbound.delete(subscriptionId);
  }

  /** Provider: answers online queries of a subscription (one subscription per agent, dispatched here). */
  registerQuery(subscriptionId: string, h: QueryHandler): void {
    this.queryHandlers.set(subscriptionId, h);
    if (this.querySubscribed) return;
    this.querySubscribed = true;
    void this.connected().then((t) =>
      t.subscribe(t.subjects.query(this.nodeId), async (m) => {
        let reply: QueryReply;
        try {
          const q = JSON.parse(Buffer.from(m.data).toString('utf8')) as QueryRequest;
          const h = this.queryHandlers.get(q.subscriptionId);
          reply = h ? await h(q) : { ok: false, error: `no sync task of subscription ${q.subscriptionId} on this node` };
        } catch (err) {
          reply = { ok: false, error: `bad query: ${(err as Error).message}` };
        }
        this.respondJson(m, reply, 'the record');
      }),
    );
  }

  /**
   * Answers a request with JSON; an answer the broker cannot carry would never arrive and the asker would
   * only see a timeout, so it is replaced by an error saying how large it was.
   */
  private respondJson(m: { respond(data: Uint8Array): boolean }, reply: unknown, what: string): void {
    let bytes = Buffer.from(JSON.stringify(reply));
    const max = this.maxPayload() - 1024;
    if (bytes.length > max) bytes = Buffer.from(JSON.stringify({ ok: false, error: `${what} is too large to send: ${bytes.length} bytes, the exchange center carries at most ${max}` }));
    m.respond(bytes);
  }

  unregisterQuery(subscriptionId: string): void {
    this.queryHandlers.delete(subscriptionId);
  }

  /** Consumer: remembers which provider node answers queries of a subscription. */
  registerQueryTarget(subscriptionId: string, providerNodeId: string): void {
    this.queryTargets.set(subscriptionId, providerNodeId);
  }

  unregisterQueryTarget(subscriptionId: string): void {
    this.queryTargets.delete(subscriptionId);
  }

  /** Consumer: asks the provider of a subscription one keyed question. */
  async query(subscriptionId: string, key: Record<string, unknown>, timeoutMs: number): Promise<QueryReply> {
    const provider = this.queryTargets.get(subscriptionId);
    if (!provider) return { ok: false, error: `this node has no exchange task of subscription ${subscriptionId}` };
    const t = await this.connected();
    const req: QueryRequest = { subscriptionId, requester: this.nodeId, key };
    try {
      const m = await t.request(t.subjects.query(provider), Buffer.from(JSON.stringify(req)), timeoutMs);
      return JSON.parse(Buffer.from(m.data).toString('utf8')) as QueryReply;
    } catch (err) {
      return { ok: false, error: `provider ${provider} did not answer: ${(err as Error).message}` };
    }
  }

  // --- reconciliation (对账): JSON questions from a consumer's agent to the provider's, on <p>.rc.<node>
  // (see reconcile/protocol.ts); one subscription per node, dispatched by subscription id.
  private readonly reconcileHandlers = new Map<string, (q: Record<string, unknown>) => Promise<unknown>>();
  private reconcileSubscribed = false;

  /** Provider: answers reconciliation questions about a subscription. */
  registerReconcile(subscriptionId: string, h: (q: Record<string, unknown>) => Promise<unknown>): void {
    this.reconcileHandlers.set(subscriptionId, h);
    if (this.reconcileSubscribed) return;
    this.reconcileSubscribed = true;
    void this.connected().then((t) =>
      t.subscribe(`${this.subjects.prefix}.rc.${this.nodeId}`, async (m) => {
        let reply: unknown;
        try {
          const q = JSON.parse(Buffer.from(m.data).toString('utf8')) as Record<string, unknown>;
          const h = this.reconcileHandlers.get(String(q['subscriptionId']));
          reply = h ? await h(q) : { ok: false, error: `no sync task of subscription ${String(q['subscriptionId'])} on node ${this.nodeId}` };
        } catch (err) {
          reply = { ok: false, error: `bad reconciliation question: ${(err as Error).message}` };
        }
        this.respondJson(m, reply, 'the answer');
      }),
    );
  }

  unregisterReconcile(subscriptionId: string): void {
    this.reconcileHandlers.delete(subscriptionId);
  }

  /** Consumer: asks the provider node one reconciliation question; throws when it does not answer in time. */
  async askReconcile(providerNodeId: string, q: Record<string, unknown>, timeoutMs: number): Promise<Record<string, unknown>> {
    const t = await this.connected();
    const m = await t.request(`${this.subjects.prefix}.rc.${providerNodeId}`, Buffer.from(JSON.stringify({ ...q, requester: this.nodeId })), timeoutMs);
    return JSON.parse(Buffer.from(m.data).toString('utf8')) as Record<string, unknown>;
  }

  /** New batches are in the outbox. */
  notify(): void {
    this.kick?.();
  }

  async close(): Promise<void> {
    this.abort.abort();
    for (const g of this.pendingGaps.values()) clearTimeout(g.timer);
    this.kick?.();
    await Promise.allSettled(this.loops);
    await this.transport?.close();
    this.spool.flush();
  }

  // --- provider side

  private async publishLoop(): Promise<void> {
    const signal = this.abort.signal;
    const t = await this.connectedOrAbort();
    if (!t) return;
    let afterId = 0;
    const inFlight = new Set<number>();
    let failedAt = 0;
    while (!signal.aborted) {
      const room = this.settings.publishWindow - inFlight.size;
      const batch = room > 0 ? this.spool.unpublished(afterId, room + inFlight.size, [...this.notReady]).filter((b) => !inFlight.has(b.id)).slice(0, room) : [];
      for (const b of batch) {
        afterId = b.id;
        inFlight.add(b.id);
        this.publishOne(t, b).then(
          () => {
            inFlight.delete(b.id);
            this.kick?.();
          },
          (err: unknown) => {
            inFlight.delete(b.id);
            // Restart the scan at the failed batch so batches go out in order once the broker is back.
            afterId = Math.min(afterId, b.id - 1);
            if (Date.now() - failedAt > 5_000) this.log.warn({ err: (err as Error).message, batchId: b.batchId }, 'publish failed; batches stay in the outbox');
            failedAt = Date.now();
            this.kick?.();
          },
        );
      }
      if (Date.now() - failedAt < 250) await sleep(250, signal);
      if (batch.length === 0 || inFlight.size >= this.settings.publishWindow) {
        if (batch.length === 0 && inFlight.size === 0) afterId = 0; // rescan: batches marked for re-sending have lower ids
        await this.waitKick(batch.length === 0 && inFlight.size === 0 ? 500 : 50);
      }
    }
  }

  private async publishOne(t: NatsTransport, b: OutboxBatch): Promise<void> {
    const msgId = b.sendCount === 0 ? b.batchId : `${b.batchId}~${b.sendCount}`;
    await t.publish(b.subject, b.envelope, msgId);
    this.spool.markPublished(b.id, Date.now());
    this.batchesPublished++;
  }

  private async receiptLoop(): Promise<void> {
    const t = await this.connectedOrAbort();
    if (!t) return;
    await t.consume(`r_${this.nodeId}`, t.subjects.receipts(this.nodeId), async (m) => this.onReceipt(m), this.abort.signal, { batch: 256 });
  }

  private onReceipt(m: JsMsg): void {
    let r: ReceiptData;
    try {
      r = decodeReceipt(m.data);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'undecodable receipt dropped');
      m.term();
      return;
    }
    this.receiptsReceived++;
    if (r.fileId) {
      this.fileReceipts.get(r.taskId)?.(r);
      m.ack();
      return;
    }
    if (r.status === 'committed' || r.status === 'duplicate') {
      this.spool.queueAcknowledge(r.taskId, r.streamEpoch, r.sequence);
      this.lastReceiptAt.set(r.taskId, Date.now());
      this.stallFactor.delete(r.taskId);
    } else if (r.reason === 'gap') this.onGap(r);
    else this.log.warn({ taskId: r.taskId, sequence: r.sequence, reason: r.reason }, 'batch refused by consumer');
    m.ack();
  }

  /**
   * The consumer dropped a batch out of order; it has applied up to r.sequence: re-send the rest. At most
   * once a second per task; a gap reported meanwhile is handled when that second is over.
   */
  private onGap(r: ReceiptData): void {
    const now = Date.now();
    this.spool.queueAcknowledge(r.taskId, r.streamEpoch, r.sequence);
    const wait = 1_000 - (now - (this.lastGapResend.get(r.taskId) ?? 0));
    if (wait > 0) {
      const pending = this.pendingGaps.get(r.taskId);
      if (!pending || pending.r.sequence < r.sequence) {
        if (pending) clearTimeout(pending.timer);
        const timer = setTimeout(() => {
          this.pendingGaps.delete(r.taskId);
          if (!this.abort.signal.aborted) this.onGap(r);
        }, wait);
        this.pendingGaps.set(r.taskId, { r, timer });
      }
      return;
    }
    this.lastGapResend.set(r.taskId, now);
    this.lastReceiptAt.set(r.taskId, now);
    const marked = this.spool.markForResend(r.taskId, r.streamEpoch, r.sequence, Number.MAX_SAFE_INTEGER);
    if (marked) this.log.info({ taskId: r.taskId, consumerAt: r.sequence, resending: marked }, 'consumer missed batches: re-sending from its last applied sequence');
    this.kick?.();
  }

  private async stallLoop(): Promise<void> {
    const signal = this.abort.signal;
    const checkMs = Math.max(50, Math.min(1_000, Math.floor(this.settings.receiptTimeoutMs / 4)));
    while (await sleep(checkMs, signal)) {
      if (!this.transport) continue;
      for (const taskId of this.spool.tasksWithBatches()) {
        try {
          await this.checkStall(this.transport, taskId);
        } catch (err) {
          this.log.debug({ taskId, err: (err as Error).message }, 'stall check failed');
        }
      }
    }
  }

  private async checkStall(t: NatsTransport, taskId: string): Promise<void> {
    const oldest = this.spool.oldestUnacknowledged(taskId);
    const out = this.outbound.get(taskId);
    if (!oldest || oldest.publishedAt === null || !out) return;
    const now = Date.now();
    const factor = this.stallFactor.get(taskId) ?? 1;
    const since = Math.max(this.lastReceiptAt.get(taskId) ?? 0, oldest.publishedAt);
    if (now - since < this.settings.receiptTimeoutMs * factor) return;
    this.lastReceiptAt.set(taskId, now); // next question no sooner than one timeout from now
    let reply: ProgressReply;
    try {
      reply = await this.askProgress(t, taskId, out, oldest.epoch, Math.min(5_000, this.settings.receiptTimeoutMs));
    } catch (err) {
      this.stallFactor.set(taskId, Math.min(16, factor * 2));
      this.log.info({ taskId, destination: out.destinationNodeId, err: (err as Error).message }, 'consumer not answering; batches kept');
      return;
    }
    if (!reply.known) {
      this.stallFactor.set(taskId, Math.min(16, factor * 2));
      this.log.info({ taskId, reason: reply.reason }, 'consumer has no exchange task for this stream yet');
      return;
    }
    const acked = this.spool.acknowledge(taskId, oldest.epoch, reply.lastSequence);
    const progressed = reply.lastSequence > (this.lastProgress.get(taskId) ?? 0);
    this.lastProgress.set(taskId, reply.lastSequence);
    if (progressed && acked > 0) {
      this.stallFactor.delete(taskId);
      return; // the consumer is working through a backlog: receipts were lost or slow, not batches
    }
    const marked = this.spool.markForResend(taskId, oldest.epoch, reply.lastSequence, reply.lastSequence + this.settings.resendWindow);
    this.stallFactor.set(taskId, Math.min(16, factor * 2));
    this.log.warn({ taskId, consumerAt: reply.lastSequence, resending: marked }, 'receipts stalled: re-sending unacknowledged batches');
    this.kick?.();
  }

  // --- consumer side

  private async dataLoop(): Promise<void> {
    const t = await this.connectedOrAbort();
    if (!t) return;
    await Promise.all([
      t.consume(`d_${this.nodeId}`, t.subjects.dataFilter(this.nodeId), (m) => this.onData(t, m), this.abort.signal, {
        batch: 64,
        ackWaitMs: this.settings.ackWaitMs,
      }),
      // File chunks are megabytes: a pull asks for a few at a time, so a fetch never buffers hundreds of MB.
      t.consume(`f_${this.nodeId}`, t.subjects.filesFilter(this.nodeId), (m) => this.onData(t, m), this.abort.signal, {
        batch: 4,
        ackWaitMs: this.settings.ackWaitMs,
        stream: t.fileStream,
      }),
    ]);
  }

  private async onData(t: NatsTransport, m: JsMsg): Promise<void> {
    let env: EnvelopeData;
    try {
      env = decodeEnvelope(m.data, m.headers?.get(ENVELOPE_HEADER) || undefined);
    } catch (err) {
      this.log.error({ subject: m.subject, err: (err as Error).message }, 'undecodable envelope dropped (the provider keeps and re-sends it)');
      m.term();
      return;
    }
    if (!payloadIntact(env)) {
      this.log.error({ batchId: env.batchId, source: env.sourceNodeId }, 'payload checksum mismatch; dropped (the provider re-sends it)');
      m.term();
      return;
    }
    const h = this.inbound.get(env.subscriptionId);
    if (!h) {
      // Usually the exchange task's assignment has not arrived yet: ask the broker to redeliver later.
      const now = Date.now();
      if (now - this.lastUnknownLog > 10_000) {
        this.lastUnknownLog = now;
        this.log.warn({ batchId: env.batchId, subscriptionId: env.subscriptionId }, 'no exchange task for this subscription yet; redelivery later');
      }
      m.nak(2_000);
      return;
    }
    let res: Awaited<ReturnType<InboundHandler['handle']>>;
    try {
      res = await h.handle(env);
    } catch (err) {
      // The sink itself is failing (down, full, locked), not one record (those are quarantined by the
      // sink): redeliver after a growing delay (1 s × 1.6 up to 1 min), never a hot loop.
      let b = this.sinkBackoff.get(env.subscriptionId);
      if (!b) this.sinkBackoff.set(env.subscriptionId, (b = { backoff: new Backoff({ initialMs: 1_000, factor: 1.6, maxMs: 60_000, jitter: 0.2 }), failures: 0 }));
      b.failures++;
      const delayMs = b.backoff.next();
      if (b.failures === 1 || b.failures % 10 === 0)
        this.log.warn({ batchId: env.batchId, failures: b.failures, retryInMs: delayMs, err: (err as Error).message }, 'sink write failed; batch will be redelivered');
      m.nak(delayMs);
      return;
    }
    // Only a written batch ends the failing spell: a later batch answered "gap" (its predecessor is the one
    // failing) must not reset the delay to 1 s.
    if (res.status !== 'refused') this.sinkBackoff.delete(env.subscriptionId);
    m.ack();
    const gap = res.status === 'refused' && res.reason === 'gap';
    const receipt: ReceiptData = {
      batchId: env.batchId,
      taskId: env.taskId,
      receiverNodeId: this.nodeId,
      committedAtMs: Date.now(),
      recordsWritten: res.written,
      recordsQuarantined: res.quarantined,
      status: res.status,
      reason: res.reason ?? '',
      // For a gap: the last sequence applied, so the provider knows where to re-send from.
      sequence: gap ? await h.lastSequence(streamKey(env.sourceNodeId, env.taskId, env.streamEpoch)) : env.sequence,
      streamEpoch: env.streamEpoch,
      fileId: env.file?.fileId ?? '',
      chunkIndex: env.file?.chunkIndex ?? 0,
    };
    // Best effort: a lost receipt costs a progress question, never data.
    t.publish(t.subjects.receipts(env.sourceNodeId), encodeReceipt(receipt), `rc-${env.batchId}-${Date.now()}`).catch((err: unknown) =>
      this.log.debug({ err: (err as Error).message }, 'receipt not published'),
    );
  }

  private async answerProgress(data: Uint8Array): Promise<Uint8Array> {
    try {
      const q = decodeProgressRequest(data);
      const h = this.inbound.get(q.subscriptionId);
      if (!h) return encodeProgressReply({ known: false, lastSequence: 0, reason: `no exchange task for subscription ${q.subscriptionId}` });
      if (q.fileId) {
        if (!h.fileProgress) return encodeProgressReply({ known: false, lastSequence: 0, reason: `subscription ${q.subscriptionId} does not receive files here` });
        return encodeProgressReply({ known: true, lastSequence: 0, reason: '', ...(await h.fileProgress(q.fileId)) });
      }
      return encodeProgressReply({ known: true, lastSequence: await h.lastSequence(streamKey(q.sourceNodeId, q.taskId, q.streamEpoch)), reason: '' });
    } catch (err) {
      return encodeProgressReply({ known: false, lastSequence: 0, reason: (err as Error).message });
    }
  }

  // --- helpers

  private async connectedOrAbort(): Promise<NatsTransport | undefined> {
    const signal = this.abort.signal;
    const aborted = new Promise<undefined>((r) => signal.addEventListener('abort', () => r(undefined), { once: true }));
    return Promise.race([this.connected(), aborted]);
  }

  private waitKick(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.kick = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.kick = done;
    });
  }
}
