// What the agent knows of central, shared by its control loops: whether it answers, the heartbeat TTL it
// sets, and the message limit a Report call must fit. Also the one place that says what a failed call means.
//
// Invariants
//  - "central reachable" / "central unreachable" are logged on a change only, never per failed call.
//  - The report call budget is the lowest limit known (the agent's setting, central's announcement, a limit
//    learned from a refusal) less CALL_HEADROOM_BYTES; a refusal only ever lowers it, never below
//    MIN_MESSAGE_BYTES.
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { grpcCode, isRetryable } from './grpc-errors.js';
import { CALL_HEADROOM_BYTES } from './report-fit.js';

/** Lowest message limit the agent lowers itself to when central refuses calls as too large. */
export const MIN_MESSAGE_BYTES = 64 * 1024;

export interface CentralViewOptions {
  log: Logger;
  /** Fixed heartbeat interval (ms); 0: a third of central's TTL. */
  heartbeatIntervalMs: number;
  /** The agent's own cap on one Report call (bytes). */
  reportMaxMessageBytes: number;
  /** The node id, for logs (undefined before enrollment). */
  nodeId: () => string | undefined;
}

export class CentralView {
  /** Heartbeat TTL central set (ms); 15 s until it says. */
  heartbeatTtlMs = 15_000;
  private reachable = false;
  /** Central's message limit as announced in its poll replies (0: not announced yet). */
  private announcedMaxMessageBytes = 0;
  /** A lower limit learned from central refusing a call as too large (0: none). */
  private refusedMaxMessageBytes = 0;

  constructor(private readonly opts: CentralViewOptions) {}

  /** How often to send a heartbeat (ms): the configured interval, or a third of the TTL (at least 50 ms). */
  heartbeatIntervalMs(): number {
    return this.opts.heartbeatIntervalMs || Math.max(50, Math.floor(this.heartbeatTtlMs / 3));
  }

  /** Central's message limit from a poll reply (0 or unchanged: nothing to do). */
  announceMaxMessageBytes(bytes: number): void {
    if (!bytes || bytes === this.announcedMaxMessageBytes) return;
    this.announcedMaxMessageBytes = bytes;
    this.opts.log.info({ maxMessageBytes: bytes }, 'central message limit announced');
  }

  /** Bytes one Report call may hold: the lowest limit known, less a headroom. */
  reportCallBudget(): number {
    const limits = [this.opts.reportMaxMessageBytes, this.announcedMaxMessageBytes, this.refusedMaxMessageBytes];
    return Math.min(...limits.filter((n) => n > 0)) - CALL_HEADROOM_BYTES;
  }

  /**
   * Central refused a call as larger than it accepts although it fitted the limit believed: believe the
   * limit it named (or half the call). Returns false when the limit cannot usefully go lower.
   */
  lowerMessageLimit(namedMaxBytes: number | undefined, callBytes: number): boolean {
    const current = this.reportCallBudget() + CALL_HEADROOM_BYTES;
    const next = Math.max(MIN_MESSAGE_BYTES, namedMaxBytes ?? Math.floor((callBytes + CALL_HEADROOM_BYTES) / 2));
    if (next >= current) return false;
    this.refusedMaxMessageBytes = next;
    this.opts.log.warn(
      { fromBytes: current, toBytes: next },
      'central refused a report call as too large; message limit lowered',
    );
    return true;
  }

  /** Whether central answered the last call (false until the first answer). */
  get isReachable(): boolean {
    return this.reachable;
  }

  /** Records whether central answers; logs only a change. */
  markReachable(reachable: boolean): void {
    if (reachable === this.reachable) return;
    this.reachable = reachable;
    if (reachable) this.opts.log.info('central reachable');
    else this.opts.log.warn('central unreachable; running the last assignment set, reports kept in outbox');
  }

  /** Logs what a failed call means: the node unknown or refused (operator acts), or central unreachable. */
  onError(err: unknown, what: string): void {
    const code = grpcCode(err);
    const log = this.opts.log;
    if (code === GrpcStatus.NOT_FOUND)
      log.error(
        { what, nodeId: this.opts.nodeId() },
        'central does not know this node; enroll it again with a new token',
      );
    else if (code === GrpcStatus.UNAUTHENTICATED) log.error({ what }, 'central rejected this node credentials');
    else if (code === GrpcStatus.PERMISSION_DENIED)
      log.warn({ what, reason: (err as { details?: string }).details }, 'central refused the call');
    else if (isRetryable(err)) this.markReachable(false);
    else log.warn({ what, err: (err as Error).message }, 'central call failed');
  }
}
