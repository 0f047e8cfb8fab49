// Inbound dispatch, consumer side: the node's durable pull consumers (record batches, file chunks) hand
// each arriving unit to the exchange task registered for its subscription, then ack it and send the
// provider a receipt.
//
// Invariants
//  - A unit is acked to JetStream only after the task committed it (or found it a duplicate); the receipt
//    follows the ack and is best effort (a lost one costs a progress question, never data).
//  - Group commit: consecutive record batches of one stream that have already arrived are applied in one
//    sink transaction (a UnitGroup, at most GROUP_MAX_UNITS), committed when no more are waiting, before a
//    unit of another stream, or at the cap; only then are they acked and receipted. A failing group
//    redelivers every unit of it. One group is open at a time, and group work runs one step at a time.
//  - A gap (sequence not next) is answered with a "gap" receipt naming the last sequence applied.
//  - A unit for a subscription without an exchange task (yet) is nak'ed for redelivery, never dropped.
//  - A failing sink (the task throws) redelivers after a growing delay per subscription (1 s × 1.6 up to
//    1 min); only a written unit ends the failing spell.
//  - A unit (record batch or file chunk) from a node outside the flow (the handler's acceptsFrom() says no:
//    neither its provider nor a shard holder) reaches no handler; it is redelivered for foreignBatchGraceMs,
//    since the assignment naming a new shard holder may come after its first batches, then terminated (ERROR: a node is sending data it has no right to). Nothing is
//    lost by that: a legitimate sender keeps every unit in its outbox until receipted and re-sends it.
import type { JsMsg } from '@nats-io/jetstream';
import { Backoff } from '../backoff.js';
import {
  decodeEnvelope,
  encodeReceipt,
  ENVELOPE_HEADER,
  payloadIntact,
  type EnvelopeData,
  type ReceiptData,
} from '../transport/envelope.js';
import { YoungCollector } from '../heap.js';
import { releaseReceiveBuffer } from '../transport/nats-presize.js';
import type { NatsTransport } from '../transport/nats-transport.js';
import type { Link } from './link.js';
import { streamKey } from './progress.js';

/** What an exchange task's handler answers for one unit: the receipt status and counts. */
export interface Applied {
  status: ReceiptData['status'];
  written: number;
  quarantined: number;
  reason?: string;
}

/** What the data consumer hands to an exchange task. */
export interface InboundHandler {
  /**
   * Whether a unit sent by `nodeId` may be written: the flow's provider, or a node central assigned a shard
   * of it to. Checked by the dispatcher for record batches and file chunks alike, before handle().
   */
  acceptsFrom(nodeId: string): boolean;
  /** Applies one batch; resolves with the receipt status and counts. Throws to have it redelivered. */
  handle(env: EnvelopeData): Promise<Applied>;
  /** Highest sequence applied of a stream, for progress questions. */
  lastSequence(stream: string): Promise<number>;
  /** File transfers: how much of a file is written in order, for progress questions. */
  fileProgress?(fileId: string): Promise<{ committedBytes: number; complete: boolean }>;
  /** Group commit of record batches (optional): units of `stream` applied in one sink transaction. */
  openGroup?(stream: string): Promise<UnitGroup>;
}

/** Units of one stream in one sink transaction (InboundHandler.openGroup). */
export interface UnitGroup {
  /** Applies a unit inside the transaction; what it answers holds once commit() resolved. Rejects on any failure: the group is then over (rolled back). */
  add(env: EnvelopeData): Promise<Applied>;
  /** Commits every unit added. Rejects when the sink fails (nothing of the group is written). */
  commit(): Promise<void>;
}

/** Record batches applied in one transaction at most. */
export const GROUP_MAX_UNITS = 16;

/** An open group and the messages whose units it holds (acked once it commits). */
interface OpenGroup {
  t: NatsTransport;
  handler: InboundHandler;
  stream: string;
  group: UnitGroup;
  units: { m: JsMsg; env: EnvelopeData; res: Applied }[];
}

/** JetStream ack wait of the data consumers (ms); how long a unit from a node outside its flow is redelivered (ms). */
export interface InboundSettings {
  ackWaitMs: number;
  foreignBatchGraceMs: number;
}

/** Delay between redeliveries of a unit from a node outside its flow (ms), at most. */
const FOREIGN_RETRY_MS = 5_000;

export class Inbound {
  /** Exchange tasks by subscription. */
  readonly handlers = new Map<string, InboundHandler>();
  private started = false;
  private lastUnknownLog = 0;
  /** Frees the socket's dead read buffers as data comes in (heap.ts). */
  private readonly collector = new YoungCollector();
  /** Per subscription: consecutive sink failures and the redelivery delay they have grown to. */
  private readonly sinkBackoff = new Map<string, { backoff: Backoff; failures: number }>();
  /** The group of record batches being applied, if any. */
  private open: OpenGroup | undefined;
  /** Group work (adding a unit, committing) runs one step at a time, in arrival order. */
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly link: Link,
    private readonly settings: InboundSettings,
  ) {}

  /** Registers an exchange task for a subscription; starts the data consumers on first use. */
  register(subscriptionId: string, h: InboundHandler): void {
    this.handlers.set(subscriptionId, h);
    if (this.started) return;
    this.started = true;
    this.link.run(() => this.run());
  }

  unregister(subscriptionId: string): void {
    this.handlers.delete(subscriptionId);
  }

  private async run(): Promise<void> {
    const t = await this.link.connectedOrAbort();
    if (!t) return;
    const node = this.link.nodeId;
    const signal = this.link.signal;
    const opts = { ackWaitMs: this.settings.ackWaitMs };
    await Promise.all([
      t.consume(`d_${node}`, t.subjects.dataFilter(node), (m) => this.onUnit(t, m), signal, { batch: 16, ...opts }),
      // File chunks are megabytes: a pull asks for two at a time (one written while the next arrives), so
      // a fetch buffers at most two chunks (2 × 8 MiB at the broker's largest max_payload).
      t.consume(`f_${node}`, t.subjects.filesFilter(node), (m) => this.onUnit(t, m), signal, {
        batch: 2,
        ...opts,
        stream: t.fileStream,
      }),
    ]);
  }

  private async onUnit(t: NatsTransport, m: JsMsg): Promise<void> {
    this.collector.received(m.data.length);
    const env = this.decode(m);
    if (!env) return;
    const h = this.handlers.get(env.subscriptionId);
    if (!h) {
      // Usually the exchange task's assignment has not arrived yet: ask the broker to redeliver later.
      const now = Date.now();
      if (now - this.lastUnknownLog > 10_000) {
        this.lastUnknownLog = now;
        this.link.log.warn(
          { batchId: env.batchId, subscriptionId: env.subscriptionId },
          'no exchange task for this subscription yet; redelivery later',
        );
      }
      m.nak(2_000);
      return;
    }
    // Not refused for good: a standby's shard may reach this node before the assignment naming it does, so
    // the unit is redelivered for a while, and a legitimate sender re-sends it after that.
    if (!h.acceptsFrom(env.sourceNodeId)) return this.foreign(m, env);
    if (h.openGroup && !env.file) return this.serial(() => this.grouped(t, m, env, h));
    let res: Applied;
    try {
      res = await h.handle(env);
    } catch (err) {
      m.nak(this.sinkFailed(env, err as Error));
      return;
    }
    await this.settled(t, m, env, res, h);
  }

  private serial(work: () => Promise<void>): Promise<void> {
    const next = this.turn.then(work);
    this.turn = next.catch(() => undefined);
    return next;
  }

  /** Adds a record batch to the open group of its stream (committing another stream's group first). */
  private async grouped(t: NatsTransport, m: JsMsg, env: EnvelopeData, h: InboundHandler): Promise<void> {
    const stream = streamKey(env.sourceNodeId, env.taskId, env.streamEpoch);
    if (this.open && (this.open.handler !== h || this.open.stream !== stream)) await this.commitOpen();
    if (!this.open) {
      let group: UnitGroup;
      try {
        group = await h.openGroup!(stream);
      } catch (err) {
        m.nak(this.sinkFailed(env, err as Error));
        return;
      }
      this.open = { t, handler: h, stream, group, units: [] };
      // Batches that have already arrived are handed over before this runs: they join the group.
      setImmediate(() => void this.serial(() => this.commitOpen()));
    }
    const g = this.open;
    let res: Applied;
    try {
      res = await g.group.add(env);
    } catch (err) {
      this.open = undefined;
      const delayMs = this.sinkFailed(env, err as Error);
      for (const u of g.units) u.m.nak(delayMs);
      m.nak(delayMs);
      return;
    }
    g.units.push({ m, env, res });
    if (g.units.length >= GROUP_MAX_UNITS) await this.commitOpen();
  }

  /** Commits the open group, then acks and receipts its units; a failed commit redelivers them all. */
  private async commitOpen(): Promise<void> {
    const g = this.open;
    if (!g) return;
    this.open = undefined;
    try {
      await g.group.commit();
    } catch (err) {
      const delayMs = this.sinkFailed(g.units[0]!.env, err as Error);
      for (const u of g.units) u.m.nak(delayMs);
      return;
    }
    for (const u of g.units) await this.settled(g.t, u.m, u.env, u.res, g.handler);
  }

  /** A unit is done (committed, a duplicate, or refused): ack, then the receipt. */
  private async settled(t: NatsTransport, m: JsMsg, env: EnvelopeData, res: Applied, h: InboundHandler): Promise<void> {
    // Only a written batch ends the failing spell: a later batch answered "gap" (its predecessor is the one
    // failing) must not reset the delay to 1 s.
    if (res.status !== 'refused') this.sinkBackoff.delete(env.subscriptionId);
    m.ack();
    // A file chunk is written and hashed, and nothing keeps a view of it: its receive buffer can serve the
    // next chunk (nats-presize.ts). Record batches are not released: decoded values may view the payload.
    if (env.file && res.status !== 'refused') releaseReceiveBuffer(m.data);
    this.sendReceipt(
      t,
      env,
      res,
      res.status === 'refused' && res.reason === 'gap'
        ? await h.lastSequence(streamKey(env.sourceNodeId, env.taskId, env.streamEpoch))
        : env.sequence,
    );
  }

  /** The envelope of a message, or undefined when it is dropped (undecodable, damaged: the provider re-sends). */
  private decode(m: JsMsg): EnvelopeData | undefined {
    let env: EnvelopeData;
    try {
      env = decodeEnvelope(m.data, m.headers?.get(ENVELOPE_HEADER) || undefined);
    } catch (err) {
      this.link.log.error(
        { subject: m.subject, err: (err as Error).message },
        'undecodable envelope dropped (the provider keeps and re-sends it)',
      );
      m.term();
      return undefined;
    }
    if (!payloadIntact(env)) {
      this.link.log.error(
        { batchId: env.batchId, source: env.sourceNodeId },
        'payload checksum mismatch; dropped (the provider re-sends it)',
      );
      m.term();
      return undefined;
    }
    return env;
  }

  /**
   * The sink itself is failing (down, full, locked), not one record (those are quarantined by the sink):
   * redeliver after a growing delay (1 s × 1.6 up to 1 min), never a hot loop. Returns the delay (ms).
   */
  private sinkFailed(env: EnvelopeData, err: Error): number {
    let b = this.sinkBackoff.get(env.subscriptionId);
    if (!b)
      this.sinkBackoff.set(
        env.subscriptionId,
        (b = { backoff: new Backoff({ initialMs: 1_000, factor: 1.6, maxMs: 60_000, jitter: 0.2 }), failures: 0 }),
      );
    b.failures++;
    const delayMs = b.backoff.next();
    if (b.failures === 1 || b.failures % 10 === 0)
      this.link.log.warn(
        { batchId: env.batchId, failures: b.failures, retryInMs: delayMs, err: err.message },
        'sink write failed; batch will be redelivered',
      );
    return delayMs;
  }

  /**
   * A unit from a node outside its flow: redelivered every few seconds (not the sink's backoff: the sink is
   * fine) until foreignBatchGraceMs has passed by the count of deliveries, then terminated.
   */
  private foreign(m: JsMsg, env: EnvelopeData): void {
    const graceMs = this.settings.foreignBatchGraceMs;
    const retryMs = Math.max(100, Math.min(FOREIGN_RETRY_MS, Math.floor(graceMs / 3)));
    const deliveries = m.info.deliveryCount;
    const what = env.file ? `file chunk ${env.batchId}` : `batch ${env.batchId}`;
    const err = `${what} of subscription ${env.subscriptionId} comes from node ${env.sourceNodeId}: neither the provider of this flow nor a node holding a shard of it`;
    const fields = { batchId: env.batchId, source: env.sourceNodeId, taskId: env.taskId, deliveries, err };
    if (deliveries * retryMs >= graceMs) {
      this.link.log.error(fields, 'batch from a node outside the flow dropped');
      m.term();
      return;
    }
    if (deliveries === 1) this.link.log.warn(fields, 'batch from a node outside the flow; redelivery later');
    m.nak(retryMs);
  }

  /** Best effort: a lost receipt costs a progress question, never data. `sequence`: for a gap, the last applied. */
  private sendReceipt(t: NatsTransport, env: EnvelopeData, res: Applied, sequence: number): void {
    const receipt: ReceiptData = {
      batchId: env.batchId,
      taskId: env.taskId,
      receiverNodeId: this.link.nodeId,
      committedAtMs: Date.now(),
      recordsWritten: res.written,
      recordsQuarantined: res.quarantined,
      status: res.status,
      reason: res.reason ?? '',
      sequence,
      streamEpoch: env.streamEpoch,
      fileId: env.file?.fileId ?? '',
      chunkIndex: env.file?.chunkIndex ?? 0,
    };
    t.publish(t.subjects.receipts(env.sourceNodeId), encodeReceipt(receipt), `rc-${env.batchId}-${Date.now()}`).catch(
      (err: unknown) => this.link.log.debug({ err: (err as Error).message }, 'receipt not published'),
    );
  }
}
