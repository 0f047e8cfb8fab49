// A node moved to another exchange center mid-exchange, end to end with real processes: a province and a city
// center (separate nats-servers, TCP proxies on the link), central, a relay agent at each center and a provider
// and consumer enrolled at the province. The relays' probe windows reach central through the Report RPC and
// become the link's state; `xchg node move` takes the consumer to the city without a restart, and the rows
// written after the move cross the link. Everything across centers comes from central.
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliJson } from '../helpers/cli.js';
import { CITY, LINK_CAPACITY_BPS, MovingExchange, PROBE_INTERVAL_MS, PROVINCE } from '../helpers/moving-exchange.js';
import { waitFor } from '../helpers/wait-for.js';

const ROWS = 40_000;
const MORE = 10_000;

interface LinkJson {
  id: string;
  state: {
    state: string;
    latencyP50Ms: number | null;
    probes: { windows: number; sent: number; answered: number };
    probeBps: number | null;
    probeOverheadPct: number | null;
  };
}

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

describe('node move - a consumer moved from the province to a city center mid-exchange', () => {
  let x: MovingExchange;

  beforeAll(async () => {
    x = await MovingExchange.start(ROWS);
  }, 180_000);
  afterAll(async () => {
    await x?.stop();
  });

  it('node move - the relays probe their link; central turns the reported windows into the link state', async () => {
    const links = await waitFor(
      async () => {
        const all = await cliJson<LinkJson[]>(x.central.url, x.central.adminToken, ['link', 'list']);
        const l = all.find((k) => k.id === x.linkId);
        return l && l.state.state === 'up' && l.state.probes.answered >= 6 ? l : undefined;
      },
      60_000,
      500,
      'the link up from probe evidence',
    );
    const s = links.state;
    console.log(
      `link ${x.linkId}: ${s.probes.windows} windows, ${s.probes.answered}/${s.probes.sent} answered, ` +
        `p50 ${s.latencyP50Ms} ms, probes ${s.probeBps} B/s = ${s.probeOverheadPct} % of ${LINK_CAPACITY_BPS} B/s ` +
        `at ${PROBE_INTERVAL_MS} ms rounds`,
    );
    expect(s.probes.windows).toBeGreaterThanOrEqual(2);
    expect(s.latencyP50Ms).toBeGreaterThan(0);
    expect(s.probeOverheadPct).not.toBeNull();
    expect(s.probeOverheadPct!).toBeLessThan(1);
    for (const relay of x.relays.values()) expect(relay.proc.output()).not.toContain('report set aside');
  }, 90_000);

  it('node move - rows written after the move cross to the city; the sink equals the source exactly', async () => {
    await x.subscribe();
    await waitFor(() => x.sinkCount() >= ROWS / 4, 120_000, 20, 'a quarter of the rows at the sink (province)');
    const atMove = x.sinkCount();
    const moved = await x.move(x.consumerId, CITY);
    expect(moved.homeCenter).toBe(CITY);
    const line = await x.consumer.proc.waitForLog((l) => l['msg'] === 'node moved to another exchange center', 30_000);
    expect(line).toMatchObject({ from: PROVINCE, to: CITY, toUrls: [x.centers.url(CITY)] });
    x.addRows(ROWS, MORE);
    const movedAt = Date.now();
    await waitFor(() => x.sinkCount() === ROWS + MORE, 240_000, 200, `${ROWS + MORE} rows at the sink`);
    console.log(
      `moved with ${atMove} of ${ROWS} rows at the sink; ${MORE} more written after the move; all ` +
        `${ROWS + MORE} at the sink ${Date.now() - movedAt} ms after the move was seen`,
    );
    expect(atMove).toBeLessThan(ROWS);
    const { problems, rows } = x.compare();
    expect(problems).toEqual([]);
    expect(rows).toBe(ROWS + MORE);
    // Logged once; saved in the identity (a restart stays at the city).
    const moves = x.consumer.proc.output().match(/"msg":"node moved to another exchange center"/g) ?? [];
    expect(moves).toHaveLength(1);
    const identity = JSON.parse(readFileSync(join(x.consumer.dataDir, 'identity.json'), 'utf8')) as {
      dataPlane: { homeCenter: string; natsUrls: string[] };
    };
    expect(identity.dataPlane).toMatchObject({ homeCenter: CITY, natsUrls: [x.centers.url(CITY)] });
    // After the move the consumer's units crossed the link: in the province's transit stream, and its
    // receipts in the city's.
    const transit = 'XCHG_DATA_TRANSIT';
    expect(await streamCount(x.centers.url(PROVINCE), transit, `xchg.t.n.${x.consumerId}.d.>`)).toBeGreaterThan(0);
    expect(await streamCount(x.centers.url(CITY), transit, `xchg.t.n.${x.providerId}.r`)).toBeGreaterThan(0);
    await waitFor(
      async () => {
        const nodes = await x.api.ok<{ id: string; health: { spoolDepth?: number } | null }[]>('GET', '/nodes');
        return nodes.find((n) => n.id === x.providerId)?.health?.spoolDepth === 0;
      },
      60_000,
      200,
      'provider outbox empty (every batch receipted)',
    );
  }, 400_000);

  it('node move - moved back while stopped, its city center then killed: the units stranded there are re-sent to the province; the sink equals the source', async () => {
    const base = ROWS + MORE;
    const city = x.centers.url(CITY);
    x.consumer.proc.child.kill('SIGSTOP');
    let stranded = 0;
    try {
      x.addRows(base, 5_000); // sent to the city (the consumer is there) where nobody reads them now
      const filter = `xchg.n.${x.consumerId}.d.>`;
      stranded = await waitFor(async () => streamCount(city, 'XCHG_DATA', filter), 60_000, 100, 'units at the city');
      await x.centers.kill(CITY); // the units there are out of reach; the consumer moves from a dead center
      await x.move(x.consumerId, PROVINCE);
      await x.provider.proc.waitForLog((l) => l['msg'] === 'routes changed' && JSON.stringify(l['routes']) === '{}');
      x.addRows(base + 5_000, 5_000); // sent to the province directly
    } finally {
      x.consumer.proc.child.kill('SIGCONT');
    }
    await waitFor(
      () => (x.consumer.proc.output().match(/"msg":"node moved to another exchange center"/g) ?? []).length === 2,
      30_000,
      50,
      'the second move logged',
    );
    await waitFor(() => x.sinkCount() === base + 10_000, 240_000, 200, `${base + 10_000} rows at the sink`);
    const { problems, rows } = x.compare();
    expect(problems).toEqual([]);
    expect(rows).toBe(base + 10_000);
    const phrases = [
      'receipts stalled: re-sending unacknowledged batches',
      'consumer missed batches: re-sending from its last applied sequence',
    ];
    const resent = x.provider.proc
      .output()
      .split('\n')
      .filter((l) => phrases.some((p) => l.includes(p)));
    console.log(`${stranded} batches stranded at the killed city center; provider re-send log lines: ${resent.length}`);
    expect(stranded).toBeGreaterThan(0);
    expect(resent.length).toBeGreaterThan(0);
  }, 400_000);
});
