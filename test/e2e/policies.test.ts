// Scheduling policies (策略) end to end: a real central, nats-server, and two real agents (provider and
// consumer). A policy written through central's API reaches the provider in its poll answer and changes its
// sync task without a restart: the batch sizes the consumer commits follow the policy's batch records (read
// from the consumer's own task_run reports), and a closed transfer window holds the flow until a surge
// (dynamic) policy opens it at a millisecond edge of its validity; the sink then equals the source.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyView } from '../../central/src/api/policies.js';
import { seedPopulation } from '../../scripts/synthetic.js';
import { Exchange } from '../helpers/exchange.js';
import { waitFor } from '../helpers/wait-for.js';

interface TaskView {
  id: string;
  kind: string;
  state: string;
}
interface RunReport {
  body: { taskId: string; records: number; batches: number };
}

describe('policies - applied by real agents', () => {
  let x: Exchange;
  let syncTask = '';
  let exchangeTask = '';

  beforeAll(async () => {
    x = await Exchange.start({ rows: 0 });
    await x.subscribe();
    syncTask = (await x.api.ok<TaskView[]>('GET', `/tasks?node=${x.providerId}`))[0]!.id;
    exchangeTask = (await x.api.ok<TaskView[]>('GET', `/tasks?node=${x.consumerId}`))[0]!.id;
  });
  afterAll(async () => {
    await x?.stop();
  });

  /** Records and batches the consumer's exchange task has committed, summed over its task_run reports. */
  async function consumed(): Promise<{ records: number; batches: number }> {
    const runs = await x.api.ok<RunReport[]>('GET', `/reports?node=${x.consumerId}&kind=task_run&limit=10000`);
    const mine = runs.filter((r) => r.body.taskId === exchangeTask);
    return {
      records: mine.reduce((n, r) => n + r.body.records, 0),
      batches: mine.reduce((n, r) => n + r.body.batches, 0),
    };
  }

  /** Waits until the provider acknowledged the policy's current generation as applied. */
  async function applied(id: string, generation: number): Promise<void> {
    await waitFor(
      async () => {
        const p = await x.api.ok<PolicyView>('GET', `/policies/${id}`);
        return p.generation === generation && p.delivery[0]?.outcome === 'applied';
      },
      20_000,
      100,
      `policy ${id} generation ${generation} applied by the provider`,
    );
  }

  /** Adds `count` people after those already in the source (a later cursor value each). */
  const addRows = (firstId: number, count: number): void =>
    seedPopulation(x.sourcePath, count, { firstId, seed: firstId });

  /** Waits until the consumer has reported `records` committed records; returns the totals. */
  async function consumedUntil(records: number): Promise<{ records: number; batches: number }> {
    await waitFor(() => x.sinkCount() === records, 60_000, 100, `${records} rows at the sink`);
    return waitFor(
      async () => {
        const c = await consumed();
        return c.records === records ? c : undefined;
      },
      30_000,
      200,
      `${records} records in the consumer's task_run reports`,
    );
  }

  it('policies - the batch records of a policy are the batch sizes the consumer commits, changed without a restart', async () => {
    const p = await x.api.ok<PolicyView>('POST', '/policies', {
      kind: 'static',
      taskIds: [syncTask],
      windows: [],
      outside: { batchRecords: 250 },
      reason: 'office-hours steady: small batches keep latency low',
      evidence: [{ kind: 'cluster', name: 'label', text: 'office-hours steady' }],
    });
    await applied(p.id, 1);
    addRows(1, 2000);
    // The agent's default is 1000 records per batch (2 batches); the policy's 250 makes 8.
    expect(await consumedUntil(2000)).toEqual({ records: 2000, batches: 8 });

    await x.api.ok('PUT', `/policies/${p.id}`, {
      kind: 'static',
      taskIds: [syncTask],
      windows: [],
      outside: { batchRecords: 100 },
      reason: 'office-hours steady: smaller batches still',
    });
    await applied(p.id, 2);
    addRows(2001, 1000);
    expect(await consumedUntil(3000)).toEqual({ records: 3000, batches: 18 });
    await x.provider.proc.waitForLog(
      (l) => l['msg'] === 'policy knobs changed' && l['from'] === 'batch 250' && l['to'] === 'batch 100',
    );
  });

  it('policies - a closed transfer window holds the flow; it resumes when a surge policy opens the window', async () => {
    const [tide] = await x.api.ok<PolicyView[]>('GET', `/policies?task=${syncTask}`);
    await x.api.ok('PUT', `/policies/${tide!.id}`, {
      kind: 'static',
      taskIds: [syncTask],
      windows: [],
      outside: { transfer: 'closed', batchRecords: 500 },
      reason: 'nightly bulk: transfers wait for the night window',
    });
    await applied(tide!.id, 3);
    const opensAt = Date.now() + 6_000;
    const surge = await x.api.ok<PolicyView>('POST', '/policies', {
      kind: 'dynamic',
      taskIds: [syncTask],
      validFromMs: opensAt,
      windows: [],
      outside: { transfer: 'open' },
      reason: 'surge: 3.1 x the forecast; transfer now',
    });
    await applied(surge.id, 1);
    addRows(3001, 1000);
    const writtenAt = Date.now();
    // The rows were written well before the window opens (a flow that is not held arrives within a second).
    expect(opensAt - writtenAt).toBeGreaterThan(2_000);
    let firstArrival = 0;
    await waitFor(
      () => {
        const n = x.sinkCount();
        if (n > 3000 && !firstArrival) firstArrival = Date.now();
        return n === 4000;
      },
      60_000,
      50,
      '4000 rows at the sink after the window opened',
    );
    expect(firstArrival).toBeGreaterThanOrEqual(opensAt);
    // Opened by the surge, still with the tide's batch records: 1000 rows in 2 batches of 500.
    expect(await consumedUntil(4000)).toEqual({ records: 4000, batches: 20 });
    const opened = await x.provider.proc.waitForLog(
      (l) => l['msg'] === 'policy knobs changed' && l['to'] === 'transfer open, batch 500',
    );
    expect(opened['policies']).toEqual([tide!.id, surge.id]);
    const { problems, rows } = x.compare();
    expect(problems).toEqual([]);
    expect(rows).toBe(4000);
  });
});
