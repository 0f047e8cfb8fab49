// The receipt protocol, provider side: the one consumer of receipts addressed to this node (<p>.n.<node>.r)
// for record batches and file chunks alike. Each receipt goes to its sender stream (streams.ts):
// committed/duplicate acknowledge up to its position, a gap goes to stall recovery's re-send, any other
// refusal to the stream.
//
// Invariants
//  - Receipts are cumulative: a receipt for position N acknowledges every unit ≤ N of that stream epoch.
//  - A record receipt acknowledges the outbox even when its task is not registered (any more): the outbox,
//    not the registration, holds the batches. A file receipt of a transfer no longer running is dropped.
//  - A receipt is acked to JetStream once dispatched, even if undecodable (terminated): receipts are hints.
import type { JsMsg } from '@nats-io/jetstream';
import type { DataSpool } from '../spool/data-spool.js';
import { decodeReceipt, type ReceiptData } from '../transport/envelope.js';
import type { Link } from './link.js';
import { RecordStream } from './outbox.js';
import type { Recovery } from './recovery.js';
import type { StreamRegistry } from './streams.js';

export class Receipts {
  private started = false;

  constructor(
    private readonly link: Link,
    private readonly registry: StreamRegistry,
    private readonly recovery: Recovery,
    private readonly spool: DataSpool,
  ) {}

  /** Starts the receipt consumer (once). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.link.run(() => this.run());
  }

  private async run(): Promise<void> {
    const t = await this.link.connectedOrAbort();
    if (!t) return;
    const node = this.link.nodeId;
    await t.consume(`r_${node}`, t.subjects.receipts(node), async (m) => this.onReceipt(m), this.link.signal, {
      batch: 256,
    });
  }

  private onReceipt(m: JsMsg): void {
    let r: ReceiptData;
    try {
      r = decodeReceipt(m.data);
    } catch (err) {
      this.link.log.warn({ err: (err as Error).message }, 'undecodable receipt dropped');
      m.term();
      return;
    }
    this.dispatch(r);
    m.ack();
  }

  private dispatch(r: ReceiptData): void {
    const s = this.registry.get(r.taskId);
    const stream = s?.stream.owns(r) ? s.stream : r.fileId ? undefined : new RecordStream(this.spool, r.taskId);
    if (!stream) return; // a late receipt of an earlier file transfer
    if (r.status === 'committed' || r.status === 'duplicate') {
      stream.acknowledgeQueued(r.streamEpoch, stream.receiptPosition(r));
      if (s?.stream === stream) this.recovery.received(s);
    } else if (isGap(r)) {
      if (s?.stream === stream) this.recovery.gap(s, r);
      else stream.acknowledgeQueued(r.streamEpoch, stream.gapPosition(r));
    } else {
      if (!r.fileId)
        this.link.log.warn({ taskId: r.taskId, sequence: r.sequence, reason: r.reason }, 'batch refused by consumer');
      stream.refused(r);
    }
  }
}

/** Receipt reason for a chunk whose running sha-256 did not match: re-sent from the committed point. */
export const CORRUPT_CHUNK = 'chunk checksum mismatch';

/** A refusal that asks for a re-send from the consumer's position: a gap, or a file chunk damaged on the way. */
export const isGap = (r: ReceiptData): boolean =>
  r.status === 'refused' && (r.reason === 'gap' || r.reason === CORRUPT_CHUNK);
