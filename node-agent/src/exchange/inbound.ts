// Inbound dispatch, consumer side: the node's durable pull consumers (record batches, file chunks) hand
// each arriving unit to the exchange task registered for its subscription, then ack it and send the
// provider a receipt.
//
// Invariants
//  - A unit is acked to JetStream only after the task committed it (or found it a duplicate); the receipt
//    follows the ack and is best effort (a lost one costs a progress question, never data).
//  - A gap (sequence not next) is answered with a "gap" receipt naming the last sequence applied.
//  - A unit for a subscription without an exchange task (yet) is nak'ed for redelivery, never dropped.
//  - A failing sink (the task throws) redelivers after a growing delay per subscription (1 s × 1.6 up to
//    1 min); only a written unit ends the failing spell.
//  - A unit from a node outside the flow (ForeignSourceError: neither its provider nor a shard holder) is
//    redelivered for foreignBatchGraceMs, since the assignment naming a new shard holder may come after
//    its first batches, then terminated (ERROR: a node is sending data it has no right to). Nothing is
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
  /** Applies one batch; resolves with the receipt status and counts. Throws to have it redelivered. */
  handle(env: EnvelopeData): Promise<Applied>;
  /** Highest sequence applied of a stream, for progress questions. */
  lastSequence(stream: string): Promise<number>;
  /** File transfers: how much of a file is written in order, for progress questions. */
  fileProgress?(fileId: string): Promise<{ committedBytes: number; complete: boolean }>;
}

/** JetStream ack wait of the data consumers (ms); how long a unit from a node outside its flow is redelivered (ms). */
export interface InboundSettings {
  ackWaitMs: number;
  foreignBatchGraceMs: number;
}

/** Thrown by a handler for a unit whose sending node has no part in the flow (inbound redelivers, then drops it). */
export class ForeignSourceError extends Error {}

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
    let res: Applied;
    try {
      res = await h.handle(env);
    } catch (err) {
      if (err instanceof ForeignSourceError) this.foreign(m, env, err);
      else m.nak(this.sinkFailed(env, err as Error));
      return;
    }
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
  private foreign(m: JsMsg, env: EnvelopeData, err: ForeignSourceError): void {
    const graceMs = this.settings.foreignBatchGraceMs;
    const retryMs = Math.max(100, Math.min(FOREIGN_RETRY_MS, Math.floor(graceMs / 3)));
    const deliveries = m.info.deliveryCount;
    const fields = { batchId: env.batchId, source: env.sourceNodeId, taskId: env.taskId, deliveries, err: err.message };
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
