// The stream-progress protocol (core NATS request/reply on <p>.ctl.<consumer node>): a provider asks how
// far the consumer has applied a stream (or written a file); the consumer answers from its exchange task.
// Used by the readiness handshake, stall recovery and a file transfer's resume. Stateless.
import {
  decodeProgressReply,
  decodeProgressRequest,
  encodeProgressReply,
  encodeProgressRequest,
  type ProgressReply,
} from '../transport/envelope.js';
import type { InboundHandler } from './inbound.js';
import type { Link } from './link.js';
import type { OutboundRoute } from './streams.js';

export const streamKey = (sourceNodeId: string, taskId: string, epoch: string): string =>
  `${sourceNodeId}/${taskId}/${epoch}`;

/** Provider side. */
export class ProgressAsker {
  constructor(private readonly link: Link) {}

  /** How far the consumer of `route` has applied a stream (or written a file); throws when it does not answer. */
  async ask(
    taskId: string,
    route: OutboundRoute,
    epoch: string,
    timeoutMs: number,
    fileId?: string,
  ): Promise<Required<ProgressReply>> {
    // Never waits out a move: the stall check that asks runs in a loop the move waits for.
    const t = this.link.current() ?? (await this.link.connectedOrAbort());
    if (!t) throw new Error('the data plane is moving to another center or closing');
    const req = encodeProgressRequest({
      sourceNodeId: this.link.nodeId,
      taskId,
      streamEpoch: epoch,
      subscriptionId: route.subscriptionId,
      ...(fileId && { fileId }),
    });
    return decodeProgressReply((await t.request(t.subjects.ctl(route.destinationNodeId), req, timeoutMs)).data);
  }
}

/** Consumer side: answers progress questions from the exchange tasks registered for their subscriptions. */
export async function answerProgress(
  data: Uint8Array,
  inbound: ReadonlyMap<string, InboundHandler>,
): Promise<Uint8Array> {
  try {
    const q = decodeProgressRequest(data);
    const h = inbound.get(q.subscriptionId);
    if (!h)
      return encodeProgressReply({
        known: false,
        lastSequence: 0,
        reason: `no exchange task for subscription ${q.subscriptionId}`,
      });
    if (q.fileId) {
      if (!h.fileProgress)
        return encodeProgressReply({
          known: false,
          lastSequence: 0,
          reason: `subscription ${q.subscriptionId} does not receive files here`,
        });
      return encodeProgressReply({ known: true, lastSequence: 0, reason: '', ...(await h.fileProgress(q.fileId)) });
    }
    return encodeProgressReply({
      known: true,
      lastSequence: await h.lastSequence(streamKey(q.sourceNodeId, q.taskId, q.streamEpoch)),
      reason: '',
    });
  } catch (err) {
    return encodeProgressReply({ known: false, lastSequence: 0, reason: (err as Error).message });
  }
}
