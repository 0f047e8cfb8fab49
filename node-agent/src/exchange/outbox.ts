// Record streams: the record batches of sync tasks, held in the spool outbox. The pump drains the outbox
// through the publisher in outbox order; RecordStream is a task's outbox as the receipt and recovery
// protocols see it (SenderStream).
//
// Invariants
//  - The pump never deletes: a publish ack only sets published_at (the spool's markPublished). Batches
//    leave the outbox on a receipt or a progress answer (RecordStream.acknowledge*).
//  - Batches of a task whose consumer has not answered "ready" stay in the outbox (registry.waiting).
//  - After a failed publish the scan restarts at the failed batch, so batches go out in order once the
//    broker is back; a scan that finds nothing starts again from the first id (batches marked for
//    re-sending have lower ids).
import { sleep } from '../backoff.js';
import type { DataSpool, OutboxBatch } from '../spool/data-spool.js';
import type { NatsTransport } from '../transport/nats-transport.js';
import type { ProgressReply, ReceiptData } from '../transport/envelope.js';
import { Kick, type Link } from './link.js';
import type { Publisher } from './publisher.js';
import type { Pending, SenderStream } from './streams.js';

/** A sync task's outbox as one sender stream; positions are sequences of the stream's epoch. */
export class RecordStream implements SenderStream {
  readonly kind = 'records';

  constructor(
    private readonly spool: DataSpool,
    private readonly taskId: string,
  ) {}

  owns(r: ReceiptData): boolean {
    return !r.fileId;
  }
  receiptPosition(r: ReceiptData): number {
    return r.sequence;
  }
  gapPosition(r: ReceiptData): number {
    return r.sequence;
  }
  answerPosition(a: Required<ProgressReply>): number {
    return a.lastSequence;
  }
  acknowledgeQueued(epoch: string, position: number): void {
    this.spool.queueAcknowledge(this.taskId, epoch, position);
  }
  acknowledge(epoch: string, position: number): number {
    return this.spool.acknowledge(this.taskId, epoch, position);
  }
  resend(epoch: string, from: number, upTo: number): number {
    return this.spool.markForResend(this.taskId, epoch, from, upTo);
  }
  pending(): Pending | undefined {
    const oldest = this.spool.oldestUnacknowledged(this.taskId);
    if (!oldest || oldest.publishedAt === null) return undefined;
    return { sinceMs: oldest.publishedAt, epoch: oldest.epoch };
  }
  refused(): void {
    // Logged by the receipt protocol; the batch stays until the stream moves past it.
  }
}

export class OutboxPump {
  private readonly wake = new Kick();

  /**
   * @param waiting tasks whose batches must wait (their consumer is not ready)
   */
  constructor(
    private readonly link: Link,
    private readonly spool: DataSpool,
    private readonly publisher: Publisher,
    private readonly waiting: ReadonlySet<string>,
  ) {
    publisher.onSettled(() => this.wake.kick());
  }

  /** New batches are in the outbox (or a stream became ready, or batches were marked for re-sending). */
  kick(): void {
    this.wake.kick();
  }

  async run(): Promise<void> {
    const signal = this.link.signal;
    signal.addEventListener('abort', () => this.wake.kick(), { once: true });
    const t = await this.link.connectedOrAbort();
    if (!t) return;
    const scan = { afterId: 0 };
    const inFlight = new Set<number>();
    while (!signal.aborted) {
      const room = this.publisher.room();
      // Only what can be sent now: `room` rows within the publisher's free bytes (their envelopes are read
      // only then), so the pump never holds envelopes it cannot send. Rows still in flight (after a failed
      // publish rewound the scan) are stepped over.
      const rows =
        room > 0
          ? this.spool.unpublished(
              scan.afterId,
              room,
              [...this.waiting],
              this.publisher.roomBytes(),
              this.publisher.busy === 0,
            )
          : [];
      const batch = rows.filter((b) => !inFlight.has(b.id));
      if (rows.length > 0) scan.afterId = rows[rows.length - 1]!.id;
      for (const b of batch) {
        inFlight.add(b.id);
        this.publishOne(t, b).then(
          () => inFlight.delete(b.id),
          () => {
            inFlight.delete(b.id);
            // Restart the scan at the failed batch so batches go out in order once the broker is back.
            scan.afterId = Math.min(scan.afterId, b.id - 1);
          },
        );
      }
      if (this.publisher.failedWithin(250)) await sleep(250, signal);
      if (batch.length === 0 || this.publisher.room() <= 0) {
        const idle = batch.length === 0 && inFlight.size === 0;
        if (idle) scan.afterId = 0; // rescan: batches marked for re-sending have lower ids
        await this.wake.wait(idle ? 500 : 50);
      }
    }
  }

  private async publishOne(t: NatsTransport, b: OutboxBatch): Promise<void> {
    await this.publisher.send(t, { subject: b.subject, body: b.envelope, id: b.batchId, sendCount: b.sendCount });
    this.spool.markPublished(b.id, Date.now());
  }
}
