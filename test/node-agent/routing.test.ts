// Routing on the wire without a broker: subjects of units in transit and relayed requests, the agent's
// route table (addressing by route, the direct path kept for peers at the same center), and the relay's
// decision for one unit (forward or quarantine, from the headers alone).
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Assignment__Output } from '../../proto/index.js';
import { decodeRouting, peerCenters } from '../../node-agent/src/control/assignment-decode.js';
import { RoutingHost } from '../../node-agent/src/relay/host.js';
import { decide } from '../../node-agent/src/relay/forward.js';
import { relaySpecProblem } from '../../node-agent/src/relay/spec.js';
import {
  HOP_HEADER,
  NoRouteError,
  REQUEST_HOPS_HEADER,
  ROUTE_HEADER,
  RouteTable,
} from '../../node-agent/src/transport/routing.js';
import { Subjects } from '../../node-agent/src/transport/subjects.js';

const s = new Subjects('xchg');

describe('routing - subjects', () => {
  it('routing - transit and request-via subjects map back to the unit or request they carry', () => {
    expect(s.transit(s.data('n-1', 't-1'))).toBe('xchg.t.n.n-1.d.t-1');
    expect(s.fromTransit('xchg.t.n.n-1.d.t-1')).toBe('xchg.n.n-1.d.t-1');
    expect(s.fromTransit(s.transit(s.receipts('n-2')))).toBe('xchg.n.n-2.r');
    expect(s.fromTransit(s.transit(s.files('n-3', 't-3')))).toBe('xchg.f.n-3.t-3');
    for (const bad of ['xchg.n.n-1.d.t', 'xchg.t.ctl.n-1', 'xchg.t.zz.n-1', 'xchg.t.n', 'other.t.n.n-1.r'])
      expect(s.fromTransit(bad), bad).toBeUndefined();
    expect(s.requestVia('city-b', s.ctl('n-9'))).toBe('xchg.tq.city-b.ctl.n-9');
    expect(s.fromRequestVia('xchg.tq.city-b.q.n-9')).toEqual({ center: 'city-b', subject: 'xchg.q.n-9' });
    expect(s.fromRequestVia('xchg.tq.city-b')).toBeUndefined();
    expect(s.destinationNode(s.reconcile('n-7'))).toBe('n-7');
    expect(s.destinationNode('xchg.t.n.n-7.r')).toBeUndefined();
  });
});

describe('routing - route table', () => {
  const peers = new Map([
    ['n-far', 'city-b'],
    ['n-near', 'city-a'],
    ['n-lost', 'county-x'],
  ]);

  it('routing - a unit for a peer at another center goes on the transit subject with its whole route and hop 0', () => {
    const t = new RouteTable('city-a', s);
    expect(t.update([{ destinationCenter: 'city-b', hops: ['city-a', 'prov', 'city-b'] }], peers)).toEqual(new Map());
    expect(t.address(s.data('n-far', 'task'))).toEqual({
      subject: 'xchg.t.n.n-far.d.task',
      headers: { [ROUTE_HEADER]: 'city-a,prov,city-b', [HOP_HEADER]: '0' },
    });
    expect(t.addressRequest(s.ctl('n-far'))).toEqual({
      subject: 'xchg.tq.city-b.ctl.n-far',
      headers: { [REQUEST_HOPS_HEADER]: '0' },
    });
  });

  it('routing - peers at the same center, of no known center, or any center without a home keep the direct path', () => {
    const t = new RouteTable('city-a', s);
    t.update([{ destinationCenter: 'city-b', hops: ['city-a', 'city-b'] }], peers);
    expect(t.address(s.data('n-near', 'task'))).toEqual({ subject: 'xchg.n.n-near.d.task' });
    expect(t.address(s.receipts('n-unknown'))).toEqual({ subject: 'xchg.n.n-unknown.r' });
    expect(t.addressRequest(s.query('n-near'))).toEqual({ subject: 'xchg.q.n-near' });
    const homeless = new RouteTable('', s);
    homeless.update([], peers);
    expect(homeless.address(s.data('n-far', 'task'))).toEqual({ subject: 'xchg.n.n-far.d.task' });
  });

  it('routing - a unit for a center without a route throws (it stays in the spool); bad routes are refused with the reason', () => {
    const t = new RouteTable('city-a', s);
    const refused = t.update(
      [
        { destinationCenter: 'city-b', hops: ['prov', 'city-b'] },
        { destinationCenter: 'county-x', hops: ['city-a', 'prov', 'city-a', 'county-x'] },
        { destinationCenter: 'city-c', hops: ['city-a'] },
        { destinationCenter: 'city-d', hops: ['city-a', 'prov'] },
      ],
      peers,
    );
    expect(Object.fromEntries(refused)).toEqual({
      'city-b': 'route starts at prov, this node is at city-a',
      'county-x': 'route city-a,prov,city-a,county-x visits a center twice',
      'city-c': 'a route needs at least two centers, got 1',
      'city-d': 'route does not end at city-d',
    });
    expect(() => t.address(s.data('n-lost', 'task'))).toThrow(NoRouteError);
    expect(() => t.address(s.data('n-lost', 'task'))).toThrow('no route to exchange center county-x (node n-lost)');
  });
});

describe('routing - the relay decision', () => {
  const neighbors = new Set(['prov', 'city-a']);
  const unit = 'xchg.t.n.n-far.d.task';
  const h = (route: string, hop: string, id = 'b-1'): Record<string, string> => ({
    [ROUTE_HEADER]: route,
    [HOP_HEADER]: hop,
    'Nats-Msg-Id': id,
    'Xchg-Envelope': 'abc',
  });

  it('routing - forwards on the transit subject to a middle center, on the unit subject to the last, hop + 1, headers kept', () => {
    expect(decide('city-a', neighbors, s, unit, h('city-a,prov,city-b', '0'))).toEqual({
      kind: 'forward',
      next: 'prov',
      subject: unit,
      msgId: 'b-1',
      headers: { [ROUTE_HEADER]: 'city-a,prov,city-b', [HOP_HEADER]: '1', 'Xchg-Envelope': 'abc' },
    });
    const last = decide('prov', new Set(['city-b']), s, unit, h('city-a,prov,city-b', '1'));
    expect(last).toMatchObject({ kind: 'forward', next: 'city-b', subject: 'xchg.n.n-far.d.task', msgId: 'b-1' });
  });

  it('routing - quarantines a unit whose route is malformed, does not name this center, or leads to a non-neighbour', () => {
    const reason = (subject: string, headers: Record<string, string>): string => {
      const d = decide('city-a', neighbors, s, subject, headers);
      return d.kind === 'quarantine' ? d.reason : 'forwarded';
    };
    expect(reason(unit, h('city-a', '0'))).toContain('at least two centers');
    expect(reason(unit, h('city-a,city-a', '0'))).toContain('visits a center twice');
    expect(reason(unit, h('prov,city-a,city-b', '0'))).toContain('names prov at hop 0, this relay is at city-a');
    expect(reason(unit, h('city-a,city-b', '0'))).toContain('next center city-b is not a neighbour of city-a');
    expect(reason(unit, h('city-a,prov', '1'))).toContain('is not a hop before the end');
    expect(reason(unit, h('city-a,prov', 'x'))).toContain('is not a hop before the end');
    expect(reason(unit, h('city-a,prov', '0', ''))).toContain('no Nats-Msg-Id');
    expect(reason(unit, {})).toContain('no Xchg-Route header');
    expect(reason('xchg.t.ctl.n-far', h('city-a,prov', '0'))).toContain('does not name a unit in transit');
    expect(reason(unit, h('city-a,prov', '0'))).toBe('forwarded');
  });

  it('routing - a relay spec for another center, without neighbours, or naming itself as one is refused', () => {
    const n = (center: string): { center: string; linkId: string; natsUrls: string[]; capacityBps: number } => ({
      center,
      linkId: '',
      natsUrls: ['nats://127.0.0.1:4222'],
      capacityBps: 0,
    });
    expect(relaySpecProblem({ center: 'prov', neighbors: [n('city-a')], probeIntervalMs: 0 }, 'prov')).toBeUndefined();
    expect(relaySpecProblem({ center: 'prov', neighbors: [n('city-a')], probeIntervalMs: 0 }, 'city-a')).toBe(
      'relay spec is for center prov, this node is homed at city-a',
    );
    expect(relaySpecProblem({ center: 'prov', neighbors: [], probeIntervalMs: 0 }, 'prov')).toContain('no neighbour');
    expect(relaySpecProblem({ center: 'prov', neighbors: [n('prov')], probeIntervalMs: 0 }, 'prov')).toContain(
      "relay's own",
    );
  });
});

describe('routing - assignments', () => {
  const route = (id: string, generation: number, hops: string[]): Assignment__Output =>
    ({
      id,
      generation,
      spec: 'route',
      route: {
        routeId: id,
        destinationNodeId: '',
        hops,
        reason: 'test',
        destinationCenter: hops[hops.length - 1]!,
        pinned: false,
        changedAtMs: 0,
      },
    }) as unknown as Assignment__Output;
  const relay = (id: string, center: string): Assignment__Output =>
    ({
      id,
      generation: 1,
      spec: 'relay',
      relay: {
        center,
        neighbors: [{ center: 'city-b', linkId: 'l-1', natsUrls: ['nats://127.0.0.1:1'], capacityBps: 1e6 }],
        probeIntervalMs: 0,
      },
    }) as unknown as Assignment__Output;

  it("routing - central's routes replace the config's, a refused one leaves the config's, each generation is answered once", async () => {
    const table = new RouteTable('city-a', s);
    const host = new RoutingHost({
      routes: table,
      home: { natsUrls: ['nats://127.0.0.1:1'], prefix: 'xchg', stream: 'XCHG_DATA' },
      staticRoutes: [
        { destinationCenter: 'city-b', hops: ['city-a', 'city-b'] },
        { destinationCenter: 'city-c', hops: ['city-a', 'city-c'] },
      ],
      staticRelay: undefined,
      logger: pino({ level: 'silent' }),
    });
    const set = decodeRouting([
      route('r-b', 1, ['city-a', 'prov', 'city-b']),
      route('r-c', 1, ['prov', 'city-c']),
      relay('relay', 'prov'),
    ]);
    const peers = peerCenters([
      { peerNodeId: 'n-b', peerCenter: 'city-b' },
      { peerNodeId: 'n-c', peerCenter: 'city-c' },
      { peerNodeId: 'n-a', peerCenter: '' },
    ] as unknown as Parameters<typeof peerCenters>[0]);
    expect(host.apply(set, peers)).toEqual([
      { assignmentId: 'r-b', generation: 1, applied: true, reason: '' },
      { assignmentId: 'r-c', generation: 1, applied: false, reason: 'route starts at prov, this node is at city-a' },
      {
        assignmentId: 'relay',
        generation: 1,
        applied: false,
        reason: 'relay spec is for center prov, this node is homed at city-a',
      },
    ]);
    expect(table.routeTo('city-b')).toEqual(['city-a', 'prov', 'city-b']);
    expect(table.routeTo('city-c')).toEqual(['city-a', 'city-c']);
    expect(table.address(s.data('n-c', 't')).headers?.[ROUTE_HEADER]).toBe('city-a,city-c');
    expect(table.address(s.data('n-a', 't'))).toEqual({ subject: 'xchg.n.n-a.d.t' });
    expect(host.apply(set, peers)).toEqual([]);
    const next = decodeRouting([route('r-b', 2, ['city-a', 'city-b'])]);
    expect(host.apply(next, peers)).toEqual([{ assignmentId: 'r-b', generation: 2, applied: true, reason: '' }]);
    expect(table.routeTo('city-b')).toEqual(['city-a', 'city-b']);
    expect(host.relayStats()).toBeUndefined();
    await host.close();
  });
});
