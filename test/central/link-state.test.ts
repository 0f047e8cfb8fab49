// Link state from probe windows (domain/link-state.ts) and the check of a pinned route (domain/routing.ts
// pinProblem): the aggregation's figures, the sliding window, both directions as one state, and each refusal.
import { describe, expect, it } from 'vitest';
import {
  aggregateLink,
  nextHealthySince,
  probeOverheadPct,
  type ProbeWindow,
} from '../../central/src/domain/link-state.js';
import { chooseRoute, pinProblem, rateRoutes, ROUTING_DEFAULTS } from '../../central/src/domain/routing.js';

const NOW = 1_000_000;
const win = (endMs: number, extra: Partial<ProbeWindow> = {}): ProbeWindow => ({
  fromCenter: 'nanchang',
  toCenter: 'province',
  linkId: 'lk-1',
  route: [],
  windowStartMs: endMs - 5_000,
  windowEndMs: endMs,
  sent: 10,
  answered: 10,
  rttP50Us: 20_000,
  rttP99Us: 40_000,
  forwardedBytes: 5_000_000,
  probeBytes: 2_000,
  queueDepth: 3,
  receivedAt: endMs + 100,
  ...extra,
});

describe('link state', () => {
  it('link state - latency is half the round trip; p50 a weighted median, p99 the worst window; loss from the sums', () => {
    const ev = aggregateLink(
      [
        win(NOW - 20_000, { rttP50Us: 10_000, answered: 8 }),
        win(NOW - 10_000, { rttP50Us: 30_000, rttP99Us: 90_000, answered: 1 }),
        win(NOW - 1_000, { rttP50Us: 12_000, answered: 10 }),
      ],
      NOW + 200,
      30_000,
    )!;
    // answered 8 @ 10 ms, 1 @ 30 ms, 10 @ 12 ms RTT: the weighted median RTT is 12 ms → 6 ms one way.
    expect(ev.latencyP50Ms).toBe(6);
    expect(ev.latencyP99Ms).toBe(45);
    expect(ev.loss).toBeCloseTo(1 - 19 / 30, 10);
    expect(ev.sent).toBe(30);
    expect(ev.windows).toBe(3);
    // 15 MB forwarded over 15 s of windows one way: 1 MB/s; probes 6 000 B over 15 s = 400 B/s.
    expect(ev.loadBps).toBe(1_000_000);
    expect(ev.probeBps).toBe(400);
    expect(ev.measuredAt).toBe(NOW - 1_000);
    expect(probeOverheadPct(ev.probeBps, 12_500_000)).toBeCloseTo(0.0032, 6);
  });

  it('link state - windows out of the sliding window are left out; both directions count as one link', () => {
    const ev = aggregateLink(
      [
        win(NOW - 40_000, { answered: 0 }), // too old
        win(NOW - 2_000, { queueDepth: 7 }),
        win(NOW - 1_000, { fromCenter: 'province', toCenter: 'nanchang', forwardedBytes: 10_000_000, queueDepth: 2 }),
      ],
      NOW + 200,
      30_000,
    )!;
    expect(ev.windows).toBe(2);
    expect(ev.loss).toBe(0);
    // The busier direction's load (2 MB/s), the deeper direction's queue, probes of both directions summed.
    expect(ev.loadBps).toBe(2_000_000);
    expect(ev.queueDepth).toBe(7);
    expect(ev.probeBps).toBe(800);
    expect(aggregateLink([win(NOW - 40_000)], NOW, 30_000)).toBeUndefined();
  });

  it('link state - every probe lost reads as loss 1 measured now, not as never measured', () => {
    const ev = aggregateLink([win(NOW - 1_000, { answered: 0 })], NOW, 30_000)!;
    expect(ev).toMatchObject({ loss: 1, measuredAt: NOW - 1_000, latencyP50Ms: 0 });
  });

  it('link state - a window is never newer than its arrival (a relay clock ahead)', () => {
    const ev = aggregateLink([win(NOW + 60_000, { receivedAt: NOW - 500 })], NOW, 30_000)!;
    expect(ev.measuredAt).toBe(NOW - 500);
  });

  it('link state - healthySince is kept while up and cleared by any other state', () => {
    expect(nextHealthySince(undefined, 'up', 5)).toBe(5);
    expect(nextHealthySince(3, 'up', 5)).toBe(3);
    expect(nextHealthySince(3, 'degraded', 5)).toBeUndefined();
    expect(nextHealthySince(3, 'down', 5)).toBeUndefined();
  });

  it('pin - a route through an unknown center, over centers with no link, or with a loop is refused naming it', () => {
    const centers = new Set(['province', 'nanchang', 'ganzhou', 'jiujiang']);
    const links = new Set(['province nanchang', 'province ganzhou', 'nanchang ganzhou']);
    const check = (route: string[], from = 'nanchang', to = 'ganzhou') =>
      pinProblem(
        route,
        from,
        to,
        (c) => centers.has(c),
        (a, b) => links.has(`${a} ${b}`) || links.has(`${b} ${a}`),
      );
    expect(check(['nanchang', 'province', 'ganzhou'])).toBeUndefined();
    expect(check(['nanchang', 'ganzhou'])).toBeUndefined();
    expect(check(['nanchang', 'yichun', 'ganzhou'])).toEqual({
      field: 'route.1',
      problem: 'center "yichun" does not exist',
    });
    expect(check(['nanchang', 'jiujiang', 'ganzhou'])).toEqual({
      field: 'route.1',
      problem:
        'no link between nanchang and jiujiang (route nanchang>jiujiang>ganzhou); create one with xchg link create',
    });
    expect(check(['nanchang', 'province', 'nanchang', 'ganzhou'])).toEqual({
      field: 'route.2',
      problem: 'route nanchang>province>nanchang>ganzhou visits nanchang twice (a loop)',
    });
    expect(check(['province', 'ganzhou'])?.problem).toBe(
      'route province>ganzhou must start at nanchang and end at ganzhou',
    );
    expect(check(['nanchang', 'ganzhou'], 'nanchang', 'nanchang')?.field).toBe('to');
  });
});

describe('routing - reasons', () => {
  it('routing - a route kept from a round when every route was down says its links are up once they are', () => {
    const links = [{ id: 'L', a: 'x', b: 'y', capacityBps: 0 }];
    const now = 100_000;
    const up = new Map([
      ['L', { latencyP50Ms: 4, latencyP99Ms: 8, loss: 0, loadBps: 0, measuredAt: now, healthySince: now }],
    ]);
    const first = chooseRoute(
      rateRoutes(links, new Map(), 'x', 'y', ROUTING_DEFAULTS, now),
      undefined,
      undefined,
      ROUTING_DEFAULTS,
      now,
    )!;
    expect(first.reason).toBe('every route is down');
    const next = chooseRoute(
      rateRoutes(links, up, 'x', 'y', ROUTING_DEFAULTS, now),
      first,
      undefined,
      ROUTING_DEFAULTS,
      now,
    )!;
    expect(next).toMatchObject({ changed: false, reason: 'its links are up (4 ms); kept' });
  });
});
