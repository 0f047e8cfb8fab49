// Sender streams and their state: what a provider sends is an ordered stream of units — the record batches
// of a sync task (held in the spool outbox) or the chunks of one file transfer (held in the source file).
// The readiness handshake, the receipt protocol and stall recovery see every stream through SenderStream,
// so records and files share one receipt path and one re-send strategy; this registry keeps each
// stream's state in one record instead of a map per concern.
//
// Invariants
//  - A stream's position counts the units the consumer has applied in order: a record stream's last
//    sequence, a file transfer's committed chunks. Receipts are cumulative: position N acknowledges ≤ N.
//  - A registered stream is in exactly one phase (StreamPhase); its batches are published only in
//    'flowing', 'stalled' and 'silent' (isReady), never while the handshake has not answered "ready".
//  - `waiting` holds exactly the registered tasks not ready yet (the outbox pump skips their batches).
import type { ProgressReply, ReceiptData } from '../transport/envelope.js';

/**
 * Where a provider's stream stands with its consumer:
 *  - 'handshake': asking the consumer whether its exchange task exists; nothing is published yet.
 *  - 'not-ready': it answered "no exchange task yet": units wait, asked again every second.
 *  - 'flowing':   units go out and receipts come back (or nothing is outstanding).
 *  - 'stalled':   no receipt for receiptTimeoutMs × backoff: a progress question is out.
 *  - 'silent':    the last question got no answer, or "unknown stream": questions back off (×2 up to 16).
 */
export type StreamPhase = 'handshake' | 'not-ready' | 'flowing' | 'stalled' | 'silent';

/** Where a provider task's units go (for progress questions). */
export interface OutboundRoute {
  destinationNodeId: string;
  subscriptionId: string;
}

/** What a stall question is about: the oldest unit still waiting for its receipt. */
export interface Pending {
  /** When that unit was published (or the stream last moved), ms. */
  sinceMs: number;
  /** Stream epoch (record streams) or file id (file transfers). */
  epoch: string;
  fileId?: string | undefined;
}

/** One ordered stream as the receipt and recovery protocols see it. */
export interface SenderStream {
  readonly kind: 'records' | 'file';
  /** Whether a receipt belongs to this stream (a file stream ignores receipts of earlier transfers). */
  owns(r: ReceiptData): boolean;
  /** The position a committed/duplicate receipt reports. */
  receiptPosition(r: ReceiptData): number;
  /** The position a gap receipt asks to re-send from. */
  gapPosition(r: ReceiptData): number;
  /** The position a progress answer reports. */
  answerPosition(a: Required<ProgressReply>): number;
  /** A receipt's acknowledgement of ≤ position (may be queued: a hint safe to lose). */
  acknowledgeQueued(epoch: string, position: number): void;
  /** Acknowledges ≤ position now; returns how many units this newly acknowledged. */
  acknowledge(epoch: string, position: number): number;
  /** Marks the units after `from`, up to `upTo`, for re-sending; returns how many it marked. */
  resend(epoch: string, from: number, upTo: number): number;
  /** The oldest unit waiting for its receipt, or undefined when none is (nothing published, or in flight). */
  pending(): Pending | undefined;
  /** A refusal other than a gap (policy, checksum of a whole file). */
  refused(r: ReceiptData): void;
}

/** The state of one registered stream (see the invariants above). */
export interface StreamState {
  readonly taskId: string;
  readonly route: OutboundRoute;
  stream: SenderStream;
  phase: StreamPhase;
  /** Stall questions wait receiptTimeoutMs × factor (1, doubling up to 16 while the consumer stays stuck). */
  factor: number;
  lastReceiptAt: number;
  /** The consumer's position in its last progress answer. */
  lastAnswer: number;
  lastGapResendAt: number;
  pendingGap?: { position: number; timer: NodeJS.Timeout } | undefined;
}

export class StreamRegistry {
  private readonly states = new Map<string, StreamState>();
  /** Registered tasks whose consumer has not said it is ready (their outbox batches wait). */
  readonly waiting = new Set<string>();

  add(taskId: string, route: OutboundRoute, stream: SenderStream): StreamState {
    this.remove(taskId);
    const s: StreamState = {
      taskId,
      route,
      stream,
      phase: 'handshake',
      factor: 1,
      lastReceiptAt: 0,
      lastAnswer: 0,
      lastGapResendAt: 0,
    };
    this.states.set(taskId, s);
    this.waiting.add(taskId);
    return s;
  }

  /** Replaces the stream of a registered task (a file task's next transfer); keeps its readiness. */
  replace(taskId: string, stream: SenderStream): void {
    const s = this.states.get(taskId);
    if (!s) return;
    if (s.pendingGap) clearTimeout(s.pendingGap.timer);
    Object.assign(s, { stream, factor: 1, lastReceiptAt: 0, lastAnswer: 0, lastGapResendAt: 0, pendingGap: undefined });
    if (s.phase === 'stalled' || s.phase === 'silent') s.phase = 'flowing';
  }

  get(taskId: string): StreamState | undefined {
    return this.states.get(taskId);
  }

  remove(taskId: string): void {
    const s = this.states.get(taskId);
    if (s?.pendingGap) clearTimeout(s.pendingGap.timer);
    this.states.delete(taskId);
    this.waiting.delete(taskId);
  }

  setPhase(s: StreamState, phase: StreamPhase): void {
    s.phase = phase;
    if (phase === 'handshake' || phase === 'not-ready') this.waiting.add(s.taskId);
    else this.waiting.delete(s.taskId);
  }

  isReady(taskId: string): boolean {
    const s = this.states.get(taskId);
    return s !== undefined && !this.waiting.has(taskId);
  }

  all(): StreamState[] {
    return [...this.states.values()];
  }

  clear(): void {
    for (const id of [...this.states.keys()]) this.remove(id);
  }
}
