// Exchange across centers end to end: a provider at city A and a consumer at city B, each center its own
// nats-server, a relay agent at every center, the route through the province (static routes in the
// agents' config), real central and agents; the province's relay SIGKILLed once mid-transfer.
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoutedExchange } from '../helpers/routed-exchange.js';
import { waitFor } from '../helpers/wait-for.js';

const ROWS = 20_000;

/** Messages of a stream at a center whose subject matches `filter`. */
async function streamCount(url: string, stream: string, filter: string): Promise<number> {
  const nc = await connect({ servers: url });
  try {
    const info = await (await jetstreamManager(nc)).streams.info(stream, { subjects_filter: filter });
    return Object.values(info.state.subjects ?? {}).reduce((n, c) => n + c, 0);
  } finally {
    await nc.close();
  }
}

describe('centers - provider at city A, consumer at city B, through the province', () => {
  let x: RoutedExchange;

  beforeAll(async () => {
    x = await RoutedExchange.start(ROWS);
    await x.subscribe();
  }, 180_000);
  afterAll(async () => {
    await x?.stop();
  });

  it('centers - the sink equals the source row for row, every unit crossed the province, receipts came back', async () => {
    await waitFor(() => x.sinkCount() >= ROWS / 4, 120_000, 100, 'a quarter of the rows at the sink');
    const relayP = x.relays.get('prov')!;
    await relayP.stop('SIGKILL');
    await relayP.restart();
    await waitFor(() => x.sinkCount() === ROWS, 180_000, 200, `${ROWS} rows at the sink`);
    const { problems, rows } = x.compare();
    expect(problems).toEqual([]);
    expect(rows).toBe(ROWS);
    // Data units for the consumer are in the province's transit stream (kept after forwarding), and the
    // receipts for the provider too: both directions crossed the province's relay.
    const transit = 'XCHG_DATA_TRANSIT';
    const prov = x.centers.url('prov');
    expect(await streamCount(prov, transit, `xchg.t.n.${x.consumerId}.d.>`)).toBeGreaterThan(0);
    expect(await streamCount(prov, transit, `xchg.t.n.${x.providerId}.r`)).toBeGreaterThan(0);
    // Nothing of this flow went to city A's own data stream for the consumer (no direct path).
    expect(await streamCount(x.centers.url('city-a'), 'XCHG_DATA', `xchg.n.${x.consumerId}.>`)).toBe(0);
    await waitFor(
      async () => {
        const nodes = await x.api.ok<{ id: string; health: { spoolDepth?: number } | null }[]>('GET', '/nodes');
        return nodes.find((n) => n.id === x.providerId)?.health?.spoolDepth === 0;
      },
      60_000,
      200,
      'provider outbox empty (receipts back through the relays)',
    );
  }, 400_000);

  it('centers - an online query crosses the centers hop by hop and is answered', async () => {
    const src = new Database(x.sourcePath, { readonly: true });
    const p = src.prepare('SELECT * FROM person WHERE id = 4242').get() as { id_no: string };
    src.close();
    const res = await fetch(`http://127.0.0.1:${x.queryPort}/v1/query/sub-population?sfzh=${p.id_no}`);
    const body = (await res.json()) as { found: boolean; record: Record<string, unknown> };
    expect(res.status).toBe(200);
    expect(body.found).toBe(true);
    expect(body.record['id']).toBe(4242);
  });
});
