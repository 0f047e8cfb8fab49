// The one publish path of the data plane: every unit a provider sends — a record batch from the outbox,
// a file chunk from its source file — goes to JetStream through send(): one window of async publishes
// shared by all streams, one message-id rule, one failure log.
//
// Invariants
//  - At most `window` publishes and `windowBytes` bytes are in flight (a unit larger than windowBytes goes
//    alone); room() says how many more may start now. The agent holds every unit until JetStream acks it
//    (the client also copies it into its write buffer), so windowBytes bounds that memory.
//  - The first send of a unit uses its id as Nats-Msg-Id; re-send n uses "<id>~<n>", so the broker's
//    dedup window cannot swallow a re-send of a unit the broker itself lost. A retry after a failed
//    publish keeps the id it had, so a copy the broker did store is deduplicated instead of doubled.
//  - The NATS client references `body` until the publish settles: a caller reuses a buffer only after
//    send() resolved (after a rejection the client may still hold it).
//  - Failures are logged at most every 5 s (a broker that is down fails every publish); callers retry.
//  - The publisher never marks anything delivered: only receipts do (receipts.ts).
import type { Logger } from 'pino';
import type { NatsTransport } from '../transport/nats-transport.js';

/** One unit to publish. */
export interface Outgoing {
  subject: string;
  body: Uint8Array;
  /** The unit's id (batch id, or "<file id>-<chunk>"). */
  id: string;
  /** How many times it was sent before and marked for re-sending (0 on the first send). */
  sendCount: number;
  /** Headers (a file chunk's envelope in split form). */
  headers?: Record<string, string> | undefined;
  /** What it is, for the failure log: an outbox batch (default) or a file chunk. */
  kind?: 'batch' | 'chunk';
}

/** Failure log phrases by unit kind (operators and tests look for them). */
const FAILED = {
  batch: 'publish failed; batches stay in the outbox',
  chunk: 'chunk publish failed; retrying',
} as const;

/** The JetStream message id of a unit's send number `sendCount`. */
export const messageId = (id: string, sendCount: number): string => (sendCount === 0 ? id : `${id}~${sendCount}`);

/** Publishes since start (read by the agent's /metrics): acknowledged by JetStream, failed, re-sends started. */
export interface PublishStats {
  acked: number;
  failed: number;
  resent: number;
}

export class Publisher {
  readonly stats: PublishStats = { acked: 0, failed: 0, resent: 0 };
  private inFlight = 0;
  private inFlightBytes = 0;
  private failedAt = 0;
  private lastFailureLog = 0;
  private readonly listeners = new Set<() => void>();

  /**
   * @param window publishes kept in flight at most (dataPlane.publishWindow, default 32)
   * @param windowBytes bytes of publishes in flight at most (dataPlane.publishWindowBytes, default 8 MiB)
   */
  constructor(
    private readonly window: number,
    private readonly windowBytes: number,
    private readonly log: Logger,
  ) {}

  /** Publishes of up to `unitBytes` each that may start now (0: count only). */
  room(unitBytes = 0): number {
    let units = this.window - this.inFlight;
    if (unitBytes > 0) units = Math.min(units, Math.floor((this.windowBytes - this.inFlightBytes) / unitBytes));
    return this.inFlight === 0 ? Math.max(units, 1) : Math.max(units, 0);
  }

  /** Bytes that may start now (windowBytes less the bytes in flight). */
  roomBytes(): number {
    return Math.max(0, this.windowBytes - this.inFlightBytes);
  }

  get busy(): number {
    return this.inFlight;
  }

  /** Whether a publish failed within the last `ms` (the broker is down or its stream full). */
  failedWithin(ms: number): boolean {
    return Date.now() - this.failedAt < ms;
  }

  /** Calls `fn` whenever a publish settles (pumps refill the window). Returns the unsubscribe. */
  onSettled(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Publishes one unit; resolves on the broker's ack, rejects (after logging, at most every 5 s) on failure. */
  async send(t: NatsTransport, m: Outgoing): Promise<void> {
    const bytes = m.body.byteLength;
    this.inFlight++;
    this.inFlightBytes += bytes;
    if (m.sendCount > 0) this.stats.resent++;
    try {
      await t.publish(m.subject, m.body, messageId(m.id, m.sendCount), m.headers);
      this.stats.acked++;
    } catch (err) {
      this.stats.failed++;
      this.failedAt = Date.now();
      if (this.failedAt - this.lastFailureLog > 5_000) {
        this.lastFailureLog = this.failedAt;
        this.log.warn({ err: (err as Error).message, id: m.id }, FAILED[m.kind ?? 'batch']);
      }
      throw err;
    } finally {
      this.inFlight--;
      this.inFlightBytes -= bytes;
      for (const fn of this.listeners) fn();
    }
  }
}
