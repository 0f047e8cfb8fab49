// Traffic history from a real exchange: nats-server, central with 1 s traffic buckets, a provider and a
// consumer agent. Rows are written to the source in waves over a few seconds; the consumer's agent counts
// what it commits per provider, resource and bucket and reports each bucket when it closes; central's buckets
// then hold exactly the rows delivered.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrafficHistory } from '../../central/src/api/traffic.js';
import { seedPopulation } from '../../scripts/synthetic.js';
import { Exchange } from '../helpers/exchange.js';
import { waitFor } from '../helpers/wait-for.js';

interface BucketRow {
  resource: string;
  bucket_start: number;
  batches: number;
  records: number;
  bytes: number;
  latency_p50_ms: number;
  latency_p99_ms: number;
  errors: number;
  origin: string;
}

describe('traffic - counted by a real consumer agent', () => {
  let x: Exchange;

  beforeAll(async () => {
    x = await Exchange.start({ rows: 2_000, centralEnv: { XCHG_CENTRAL_TRAFFIC_BUCKET_MS: '1000' } });
  });
  afterAll(async () => {
    await x?.stop();
  });

  function buckets(): BucketRow[] {
    const db = new Database(join(x.central.dataDir, 'central.db'), { readonly: true });
    try {
      return db
        .prepare('SELECT * FROM traffic_buckets WHERE from_node = ? AND to_node = ? ORDER BY bucket_start')
        .all(x.providerId, x.consumerId) as BucketRow[];
    } finally {
      db.close();
    }
  }

  it('traffic - the buckets central holds sum to the rows delivered, over several 1 s buckets', async () => {
    await x.subscribe();
    let total = 2_000;
    await waitFor(() => x.sinkCount() === total, 60_000, 50, 'first rows at the sink');
    for (let wave = 0; wave < 4; wave++) {
      const before = Date.now();
      seedPopulation(x.sourcePath, 1_500, { firstId: total + 1, seed: wave + 7 });
      total += 1_500;
      await waitFor(() => x.sinkCount() === total, 60_000, 50, `${total} rows at the sink`);
      // Waves at least 1.2 s apart: each lands in its own bucket.
      await waitFor(() => Date.now() - before >= 1_200, 5_000, 50, 'the next second');
    }
    expect(x.compare().problems).toEqual([]);
    const rows = await waitFor(
      () => {
        const b = buckets();
        return b.reduce((n, r) => n + r.records, 0) === total ? b : undefined;
      },
      30_000,
      200,
      `${total} records in central's traffic buckets`,
    ).catch(async (err: unknown) => {
      console.log('buckets', JSON.stringify(buckets()));
      console.log('events', JSON.stringify(await x.api.ok('GET', `/reports?node=${x.consumerId}&kind=event`)));
      throw err;
    });
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const r of rows) {
      expect(r.bucket_start % 1000).toBe(0);
      expect(r).toMatchObject({ origin: 'live', errors: 0 });
      expect(r.batches).toBeGreaterThan(0);
      expect(r.bytes).toBeGreaterThan(0);
      expect(r.latency_p50_ms).toBeLessThanOrEqual(r.latency_p99_ms);
    }
    // The same through the API xchg traffic show reads: 1 s steps over the exchange, totals equal.
    const since = rows[0]!.bucket_start;
    const until = rows.at(-1)!.bucket_start + 1000;
    const h = await x.api.ok<TrafficHistory>(
      'GET',
      `/traffic?from=${x.providerId}&to=${x.consumerId}&since=${since}&until=${until}&step=1s`,
    );
    expect(h.step).toBe('1s');
    expect(h.totals).toMatchObject({ records: total, batches: rows.reduce((n, r) => n + r.batches, 0), errors: 0 });
    expect(h.buckets.filter((b) => b.records > 0).length).toBe(rows.length);
    console.log(
      `traffic e2e: ${total} rows in ${rows.length} buckets of 1 s:`,
      rows.map((r) => `${r.records}r/${r.batches}b p50 ${r.latency_p50_ms} p99 ${r.latency_p99_ms} ms`).join(', '),
    );
  }, 120_000);

  it('traffic - buckets closed while central is down reach it after its restart (the report outbox)', async () => {
    const before = buckets().reduce((n, r) => n + r.records, 0);
    const total = x.sinkCount();
    expect(before).toBe(total);
    await x.central.stop();
    seedPopulation(x.sourcePath, 2_500, { firstId: total + 1, seed: 99 });
    await waitFor(() => x.sinkCount() === total + 2_500, 60_000, 50, 'rows at the sink while central is down');
    const sent = Date.now();
    await waitFor(() => Date.now() - sent >= 1_500, 5_000, 50, 'the bucket closed at the agent');
    await x.central.restart();
    const rows = await waitFor(
      () => {
        const b = buckets();
        return b.reduce((n, r) => n + r.records, 0) === total + 2_500 ? b : undefined;
      },
      60_000,
      200,
      `${total + 2_500} records in central's buckets after its restart`,
    );
    expect(rows.every((r) => r.errors === 0 && r.origin === 'live')).toBe(true);
  }, 120_000);
});
