// Reliability by breaking things: during a 200,000-record exchange, the provider agent, the consumer
// agent or the exchange center is killed or stopped at five random points (and once the broker loses its
// whole JetStream store). After recovery the sink must equal the source exactly — no record lost, none
// doubled, every value as masked.
import { describe, expect, it } from 'vitest';
import { Exchange } from '../helpers/exchange.js';
import { waitFor } from '../helpers/wait-for.js';

const ROWS = 200_000;
const POINTS = 5;
const FAULT_DP = { receiptTimeoutMs: 2_000, ackWaitMs: 2_000, batchRecords: 1000 };

type Fault = (x: Exchange) => Promise<void>;

/** Random progress points (sink row counts) spread over the run, one per fault. */
function faultPoints(): number[] {
  const seg = ROWS / (POINTS + 1);
  return Array.from({ length: POINTS }, (_, i) => Math.floor(seg * (i + 0.5 + Math.random() * 0.8)));
}

async function runWithFaults(fault: Fault, name: string): Promise<void> {
  const x = await Exchange.start({ rows: ROWS, dataPlane: FAULT_DP });
  try {
    await x.subscribe();
    const points = faultPoints();
    const log: string[] = [];
    for (const p of points) {
      // The sink may already be past a point when a previous fault recovered fast: still inject it.
      await waitFor(() => x.sinkCount() >= p, 180_000, 25, `sink to reach ${p} rows before fault "${name}"`);
      log.push(`${name} at ${x.sinkCount()} rows`);
      await fault(x);
    }
    await waitFor(() => x.sinkCount() >= ROWS, 300_000, 250, `all ${ROWS} rows after ${log.join(', ')}`);
    // Let stragglers settle (a duplicate would show as a count above ROWS or a wrong value).
    const result = await waitFor(
      () => {
        const c = x.compare();
        return c.problems.length === 0 && c.rows === ROWS && c;
      },
      60_000,
      500,
      'sink to equal the source',
    ).catch(() => x.compare());
    expect(result.problems).toEqual([]);
    expect(result.rows).toBe(ROWS);
    expect(x.sinkCount()).toBe(ROWS);
  } finally {
    await x.stop();
  }
}

describe('faults - the sink equals the source after every failure', () => {
  it('faults - SIGKILL of the provider agent at five random points', async () => {
    await runWithFaults(async (x) => {
      await x.provider.stop('SIGKILL');
      await x.provider.restart();
    }, 'provider SIGKILL');
  }, 600_000);

  it('faults - SIGKILL of the consumer agent at five random points', async () => {
    await runWithFaults(async (x) => {
      await x.consumer.stop('SIGKILL');
      await x.consumer.restart();
    }, 'consumer SIGKILL');
  }, 600_000);

  it('faults - SIGKILL of nats-server at five random points', async () => {
    await runWithFaults(async (x) => {
      await x.nats.kill();
      await x.nats.start();
    }, 'nats-server SIGKILL');
  }, 600_000);

  it('faults - nats-server lost its JetStream store (killed, store deleted) at five random points', async () => {
    await runWithFaults(async (x) => {
      await x.nats.kill();
      x.nats.wipeStore();
      await x.nats.start();
    }, 'nats-server store wiped');
  }, 600_000);

  it('faults - nats-server stopped for 60 s at five random points', async () => {
    await runWithFaults(async (x) => {
      await x.nats.stop();
      await new Promise((r) => setTimeout(r, 60_000));
      await x.nats.start();
    }, 'nats-server stopped 60 s');
  }, 900_000);
});
