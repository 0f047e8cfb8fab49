// The heartbeat loop: the node's health to central every interval (a third of central's TTL unless set),
// until shutdown.
//
// Invariants
//  - Central sets the TTL: a reply with a new TTL changes the interval from this beat on.
//  - A failed beat is retried sooner than the interval when the backoff is shorter (jittered, growing),
//    never later; a success resets the backoff. Every wait takes the shutdown signal, the call in flight
//    included (shutdown cancels it rather than wait up to its deadline).
import type { NodeHealth } from '../../../proto/index.js';
import { Backoff, sleep, type BackoffOptions } from '../backoff.js';
import type { CentralClient } from './central-client.js';
import type { CentralView } from './central-view.js';

/** Deadline of one Heartbeat call (ms). */
const HEARTBEAT_DEADLINE_MS = 10_000;

export interface HeartbeatDeps {
  client: CentralClient;
  central: CentralView;
  backoff: BackoffOptions;
  /** A health sample for this beat. */
  health: () => NodeHealth;
}

/** Sends heartbeats until the signal aborts. */
export async function runHeartbeats(deps: HeartbeatDeps, signal: AbortSignal): Promise<void> {
  const { central } = deps;
  const backoff = new Backoff(deps.backoff);
  while (!signal.aborted) {
    let delay = central.heartbeatIntervalMs();
    try {
      const res = await deps.client.heartbeat(deps.health(), HEARTBEAT_DEADLINE_MS, signal);
      if (res.ttlMs && res.ttlMs !== central.heartbeatTtlMs) {
        central.heartbeatTtlMs = res.ttlMs;
        delay = central.heartbeatIntervalMs();
      }
      central.markReachable(true);
      backoff.reset();
    } catch (err) {
      if (signal.aborted) break; // cancelled by shutdown: not a failure of central
      central.onError(err, 'heartbeat');
      delay = Math.min(delay, backoff.next());
    }
    await sleep(delay, signal);
  }
}
