// The readiness handshake: before a provider task's first unit goes out, its consumer is asked whether
// its exchange task for the subscription exists. While it answers "not yet" the task's units wait
// ('not-ready'; reading goes on into the spool). A consumer that does not answer at all is offline: units
// go to the broker, which keeps them for it (store and forward). A "ready" answer also acknowledges what
// the consumer already applied (after a restart, receipts may have been lost).
import { sleep } from '../backoff.js';
import type { DataSpool } from '../spool/data-spool.js';
import type { Link } from './link.js';
import type { ProgressAsker } from './progress.js';
import type { StreamRegistry, StreamState } from './streams.js';

/** How long a handshake question waits for its answer (ms). */
const HANDSHAKE_TIMEOUT_MS = 2_000;
/** How often a consumer that is not ready is asked again (ms). */
const NOT_READY_RETRY_MS = 1_000;

/** Runs the handshake of a registered stream until it is ready, unregistered or the link closes. */
export async function handshake(
  link: Link,
  registry: StreamRegistry,
  asker: ProgressAsker,
  spool: DataSpool,
  s: StreamState,
  ready: () => void,
): Promise<void> {
  const signal = link.signal;
  const t = await link.connectedOrAbort();
  let logged = false;
  while (t && !signal.aborted && registry.get(s.taskId) === s) {
    const epoch = spool.taskState(s.taskId, Date.now()).epoch;
    // No answer: offline (no responders) or slow: send anyway, the broker keeps the batches.
    const reply = await asker.ask(s.taskId, s.route, epoch, HANDSHAKE_TIMEOUT_MS).catch(() => undefined);
    // Moved or closed meanwhile: no answer is no evidence (a move starts the handshake again at the new center).
    if (registry.get(s.taskId) !== s || signal.aborted) return;
    if (!reply || reply.known) {
      if (reply) spool.acknowledge(s.taskId, epoch, reply.lastSequence);
      registry.setPhase(s, 'flowing');
      ready();
      return;
    }
    if (!logged)
      link.log.info(
        { taskId: s.taskId, destination: s.route.destinationNodeId, reason: reply.reason },
        'consumer not ready for this subscription yet; batches wait',
      );
    logged = true;
    registry.setPhase(s, 'not-ready');
    await sleep(NOT_READY_RETRY_MS, signal);
  }
}
