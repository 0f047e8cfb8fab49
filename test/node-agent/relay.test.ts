// The relay between exchange centers, with real nats-servers (one per center) and relays as processes of
// their own (dist/, test/helpers/relay-main.mjs) SIGKILLed at random points.
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsTransport } from '../../node-agent/src/transport/nats-transport.js';
import { HOP_HEADER, REQUEST_HOPS_HEADER, ROUTE_HEADER, RouteTable } from '../../node-agent/src/transport/routing.js';
import { Subjects } from '../../node-agent/src/transport/subjects.js';
import { Centers } from '../helpers/centers.js';
import { distFile, ROOT, spawnNode, type Proc } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait-for.js';

const PREFIX = 'xchg';
const STREAM = 'XCHG_DATA';
const UNITS = 20_000;
const DEST_NODE = 'n-dest';
const subjects = new Subjects(PREFIX);

/** A relay process at `center` with its neighbours' URLs. */
class RelayProc {
  proc!: Proc;
  starts = 0;
  constructor(
    readonly center: string,
    private readonly homeUrl: string,
    private readonly neighbors: { center: string; url: string }[],
    private readonly routes: Record<string, string[]> = {},
  ) {}

  start(): void {
    distFile('node-agent/src/relay/relay.js');
    const opts = {
      spec: {
        center: this.center,
        neighbors: this.neighbors.map((n) => ({ center: n.center, linkId: '', natsUrls: [n.url], capacityBps: 0 })),
        probeIntervalMs: 0,
      },
      homeUrls: [this.homeUrl],
      prefix: PREFIX,
      stream: STREAM,
      settings: { ackWaitMs: 3_000, forwardTimeoutMs: 2_000, backlogIntervalMs: 200, statsLogIntervalMs: 200 },
      routes: this.routes,
    };
    this.proc = spawnNode(join(ROOT, 'test/helpers/relay-main.mjs'), [JSON.stringify(opts)]);
    this.starts++;
  }

  async kill(): Promise<void> {
    await this.proc.kill('SIGKILL');
  }
}

const body = (i: number): Buffer => Buffer.from(`unit ${i} ${'x'.repeat(100 + (i % 50))}`);

/** Every message of a stream: its Nats-Msg-Id, body and subject (acked: a work-queue stream is emptied). */
async function readAll(url: string, stream: string): Promise<{ id: string; data: string; subject: string }[]> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const total = (await jsm.streams.info(stream)).state.messages;
    const out: { id: string; data: string; subject: string }[] = [];
    await jsm.consumers.add(stream, { durable_name: 'reader', ack_policy: AckPolicy.Explicit });
    const c = await jetstream(nc).consumers.get(stream, 'reader');
    while (out.length < total) {
      for await (const m of await c.fetch({ max_messages: 1_000, expires: 2_000 })) {
        out.push({ id: m.headers?.get('Nats-Msg-Id') ?? '', data: Buffer.from(m.data).toString(), subject: m.subject });
        m.ack();
      }
    }
    return out;
  } finally {
    await nc.close();
  }
}

async function messages(url: string, stream: string): Promise<number> {
  const nc = await connect({ servers: url });
  try {
    return (await (await jetstreamManager(nc)).streams.info(stream)).state.messages;
  } catch {
    return 0;
  } finally {
    await nc.close();
  }
}

describe('relay - hop by hop between independent centers', () => {
  let centers: Centers;
  let relayA: RelayProc;
  let relayP: RelayProc;
  let sender: NatsTransport;

  beforeAll(async () => {
    centers = await Centers.start(['a', 'p', 'c']);
    const ap = await centers.link('a', 'p');
    const pa = await centers.link('p', 'a');
    const pc = await centers.link('p', 'c');
    relayA = new RelayProc('a', centers.url('a'), [{ center: 'p', url: ap.url }], { c: ['a', 'p', 'c'] });
    relayP = new RelayProc('p', centers.url('p'), [
      { center: 'a', url: pa.url },
      { center: 'c', url: pc.url },
    ]);
    relayA.start();
    relayP.start();
    sender = await NatsTransport.connect({
      servers: [centers.url('a')],
      prefix: PREFIX,
      stream: STREAM,
      nodeId: 'n-sender',
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(async () => {
    await sender?.close();
    await Promise.all([relayA?.proc.kill('SIGKILL'), relayP?.proc.kill('SIGKILL')]);
    await centers?.stop();
  });

  it('relay - 20,000 units cross A→P→C exactly once each while relays are SIGKILLed at five random points', async () => {
    const table = new RouteTable('a', subjects);
    expect(table.update([{ destinationCenter: 'c', hops: ['a', 'p', 'c'] }], new Map([[DEST_NODE, 'c']]))).toEqual(
      new Map(),
    );
    const addressed = table.address(subjects.data(DEST_NODE, 'task1'));
    expect(addressed).toEqual({
      subject: `${PREFIX}.t.n.${DEST_NODE}.d.task1`,
      headers: { [ROUTE_HEADER]: 'a,p,c', [HOP_HEADER]: '0' },
    });
    const kills = Array.from({ length: 5 }, () => 1_000 + Math.floor(Math.random() * (UNITS - 2_000))).sort(
      (x, y) => x - y,
    );
    const sending = (async () => {
      for (let i = 0; i < UNITS; i += 500) {
        const acks = [];
        for (let j = i; j < Math.min(UNITS, i + 500); j++)
          acks.push(sender.publish(addressed.subject, body(j), `u-${j}`, addressed.headers));
        await Promise.all(acks);
      }
    })();
    const killed: string[] = [];
    for (const at of kills) {
      await waitFor(async () => (await messages(centers.url('c'), STREAM)) >= at, 60_000, 20, `${at} units at C`);
      const r = Math.random() < 0.5 ? relayA : relayP;
      await r.kill();
      killed.push(`${r.center}@${at}`);
      r.start();
    }
    await sending;
    await waitFor(async () => (await messages(centers.url('c'), STREAM)) >= UNITS, 90_000, 100, 'all units at C');
    const got = await readAll(centers.url('c'), STREAM);
    const ids = new Set(got.map((m) => m.id));
    console.log(`relay kills at ${killed.join(', ')}; ${got.length} messages at C, ${ids.size} distinct ids`);
    expect(got.length).toBe(UNITS);
    expect(ids.size).toBe(UNITS);
    const wrong = got.filter(
      (m) => m.data !== body(Number(m.id.slice(2))).toString() || !m.subject.startsWith(`${PREFIX}.n.`),
    );
    expect(wrong).toEqual([]);
    expect(relayA.starts + relayP.starts).toBe(7);
  }, 240_000);

  it('relay - a unit it cannot route is quarantined with the reason, never dropped', async () => {
    const bad: [string, Record<string, string>][] = [
      ['too short', { [ROUTE_HEADER]: 'a', [HOP_HEADER]: '0' }],
      ['not this center', { [ROUTE_HEADER]: 'x,p,c', [HOP_HEADER]: '0' }],
      ['not a neighbour', { [ROUTE_HEADER]: 'a,c', [HOP_HEADER]: '0' }],
      ['no route', {}],
      ['hop past the end', { [ROUTE_HEADER]: 'a,p,c', [HOP_HEADER]: '2' }],
    ];
    for (const [i, [, h]] of bad.entries())
      await sender.publish(`${PREFIX}.t.n.${DEST_NODE}.d.bad`, Buffer.from(`bad ${i}`), `bad-${i}`, h);
    const quarantine = `${STREAM}_QUARANTINE`;
    await waitFor(async () => (await messages(centers.url('a'), quarantine)) >= bad.length, 30_000, 100, 'quarantined');
    const q = await readAll(centers.url('a'), quarantine);
    expect(q.map((m) => m.id).sort()).toEqual(bad.map((_, i) => `bad-${i}`).sort());
    expect(q.map((m) => m.data).sort()).toEqual(bad.map((_, i) => `bad ${i}`).sort());
    await waitFor(
      () =>
        relayA.proc
          .output()
          .split('\n')
          .filter((l) => l.includes('unit in transit quarantined')).length >= 5,
      10_000,
      100,
      'five quarantine log lines',
    );
    expect(relayA.proc.output()).toContain('is not a neighbour of a');
    expect(relayA.proc.output()).toContain('names x at hop 0');
  });

  it('relay - a request for a node at another center is relayed hop by hop and answered; past the hop limit it is dropped', async () => {
    const nc = await connect({ servers: centers.url('c') });
    nc.subscribe(`${PREFIX}.q.${DEST_NODE}`, {
      callback: (_err, m) => void m.respond(Buffer.concat([Buffer.from('answer:'), m.data])),
    });
    await nc.flush();
    const table = new RouteTable('a', subjects);
    table.update([], new Map([[DEST_NODE, 'c']]));
    const asker = await NatsTransport.connect({
      servers: [centers.url('a')],
      prefix: PREFIX,
      stream: STREAM,
      nodeId: 'n-asker',
      logger: pino({ level: 'silent' }),
      routes: table,
    });
    try {
      const reply = await waitFor(
        () => asker.request(subjects.query(DEST_NODE), Buffer.from('q1'), 2_000).catch(() => undefined),
        30_000,
        100,
        'an answer from center c',
      );
      expect(Buffer.from(reply.data).toString()).toBe('answer:q1');
      await expect(
        sender.request(`${PREFIX}.tq.c.q.${DEST_NODE}`, Buffer.from('q2'), 1_500, { [REQUEST_HOPS_HEADER]: '8' }),
      ).rejects.toThrow();
      await waitFor(() => relayA.proc.output().includes('over the hop limit'), 5_000, 50, 'the drop logged');
    } finally {
      await asker.close();
      await nc.close();
    }
  });
});
