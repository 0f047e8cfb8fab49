// Stall recovery and gap re-sends: the one re-send strategy of the data plane, for record streams and file
// transfers alike (SenderStream). It recovers from a broker that lost what it acknowledged, from lost
// receipts and from a consumer that dropped units out of order.
//
// Invariants
//  - A stall (no receipt for receiptTimeoutMs × factor while a unit waits for its receipt) triggers a
//    progress question ('stalled'); units are re-sent only when the consumer answers and has made no
//    progress since its last answer, so a slow consumer working through a backlog is not flooded with
//    copies. Unanswered questions back off ('silent', factor ×2 up to 16×); a receipt resets it.
//  - A consumer that does not answer is offline: what is in the broker waits for it and nothing is re-sent.
//  - A gap receipt (the consumer dropped a unit whose predecessor it lacks) re-sends from the consumer's
//    position, at most once a second per stream; a gap reported meanwhile is handled when that second
//    is over (the latest position wins).
import type { Logger } from 'pino';
import { sleep } from '../backoff.js';
import type { ReceiptData } from '../transport/envelope.js';
import type { Link } from './link.js';
import type { ProgressAsker } from './progress.js';
import type { StreamRegistry, StreamState } from './streams.js';

export interface RecoverySettings {
  /** How long a published unit may wait for its receipt before the provider asks the consumer (ms). */
  receiptTimeoutMs: number;
  /** Record batches re-sent at most per stall of one stream. */
  resendWindow: number;
}

/** Log phrases by stream kind (operators and tests look for them). */
const PHRASES = {
  records: {
    silent: 'consumer not answering; batches kept',
    unknown: 'consumer has no exchange task for this stream yet',
    progressed: '',
    resend: 'receipts stalled: re-sending unacknowledged batches',
  },
  file: {
    silent: 'file receipts stalled and the consumer does not answer; waiting',
    unknown: 'file receipts stalled and the consumer does not answer; waiting',
    progressed: 'file receipts stalled but the consumer made progress; receipts were lost, not chunks',
    resend: 'file receipts stalled and the consumer made no progress; resending from its committed point',
  },
} as const;

/** Longest wait between unanswered stall questions, as a multiple of receiptTimeoutMs. */
const MAX_FACTOR = 16;
/** Gap re-sends of one stream at most this often (ms). */
const GAP_RESEND_MS = 1_000;

export class Recovery {
  private readonly log: Logger;

  constructor(
    private readonly link: Link,
    private readonly registry: StreamRegistry,
    private readonly asker: ProgressAsker,
    private readonly settings: RecoverySettings,
    /** Wakes the publishers after units were marked for re-sending. */
    private readonly resent: () => void,
  ) {
    this.log = link.log;
  }

  /** A receipt arrived: the consumer is alive and moving. */
  received(s: StreamState): void {
    s.lastReceiptAt = Date.now();
    s.factor = 1;
    if (s.phase === 'stalled' || s.phase === 'silent') this.registry.setPhase(s, 'flowing');
  }

  /** The consumer dropped units out of order; it has applied up to `r`'s gap position: re-send the rest. */
  gap(s: StreamState, r: ReceiptData): void {
    const position = s.stream.gapPosition(r);
    s.stream.acknowledgeQueued(r.streamEpoch, position);
    const now = Date.now();
    const wait = GAP_RESEND_MS - (now - s.lastGapResendAt);
    if (wait > 0) {
      if (!s.pendingGap || s.pendingGap.position < position) {
        if (s.pendingGap) clearTimeout(s.pendingGap.timer);
        const timer = setTimeout(() => {
          s.pendingGap = undefined;
          if (!this.link.signal.aborted && this.registry.get(s.taskId) === s) this.gap(s, r);
        }, wait);
        s.pendingGap = { position, timer };
      }
      return;
    }
    s.lastGapResendAt = now;
    s.lastReceiptAt = now;
    const marked = s.stream.resend(r.streamEpoch, position, Number.MAX_SAFE_INTEGER);
    if (marked)
      this.log.info(
        { taskId: s.taskId, consumerAt: position, resending: marked },
        'consumer missed batches: re-sending from its last applied sequence',
      );
    this.resent();
  }

  async run(): Promise<void> {
    const signal = this.link.signal;
    const checkMs = Math.max(50, Math.min(1_000, Math.floor(this.settings.receiptTimeoutMs / 4)));
    while (await sleep(checkMs, signal)) {
      if (!this.link.current()) continue;
      for (const s of this.registry.all()) {
        try {
          await this.check(s);
        } catch (err) {
          this.log.debug({ taskId: s.taskId, err: (err as Error).message }, 'stall check failed');
        }
      }
    }
  }

  private async check(s: StreamState): Promise<void> {
    if (s.phase === 'handshake' || s.phase === 'not-ready') return;
    const oldest = s.stream.pending();
    if (!oldest) return;
    const now = Date.now();
    const since = Math.max(s.lastReceiptAt, oldest.sinceMs);
    if (now - since < this.settings.receiptTimeoutMs * s.factor) return;
    s.lastReceiptAt = now; // next question no sooner than one timeout from now
    this.registry.setPhase(s, 'stalled');
    const reply = await this.asker
      .ask(s.taskId, s.route, oldest.epoch, Math.min(5_000, this.settings.receiptTimeoutMs), oldest.fileId)
      .catch((err: unknown) => err as Error);
    if (this.registry.get(s.taskId) !== s) return; // unregistered (or a file task's next transfer) meanwhile
    const say = PHRASES[s.stream.kind];
    const where = { taskId: s.taskId, ...(oldest.fileId && { fileId: oldest.fileId }) };
    if (reply instanceof Error || !reply.known) {
      this.backOff(s);
      if (reply instanceof Error)
        this.log.info({ ...where, destination: s.route.destinationNodeId, err: reply.message }, say.silent);
      else this.log.info({ ...where, reason: reply.reason }, say.unknown);
      return;
    }
    const position = s.stream.answerPosition(reply);
    const acked = s.stream.acknowledge(oldest.epoch, position);
    const progressed = position > s.lastAnswer;
    s.lastAnswer = position;
    if (progressed && acked > 0) {
      s.factor = 1;
      this.registry.setPhase(s, 'flowing');
      if (say.progressed) this.log.info({ ...where, consumerAt: position }, say.progressed);
      return; // the consumer is working through a backlog: receipts were lost or slow, not units
    }
    const marked = s.stream.resend(oldest.epoch, position, position + this.settings.resendWindow);
    s.factor = Math.min(MAX_FACTOR, s.factor * 2);
    this.registry.setPhase(s, 'flowing');
    this.log.warn({ ...where, consumerAt: position, resending: marked }, say.resend);
    this.resent();
  }

  private backOff(s: StreamState): void {
    s.factor = Math.min(MAX_FACTOR, s.factor * 2);
    this.registry.setPhase(s, 'silent');
  }
}
