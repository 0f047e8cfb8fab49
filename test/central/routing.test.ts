// Routing between exchange centers (domain/routing.ts): link health and cost, candidate routes, and the
// route choice with hysteresis — reroute at once on degradation, move back only after a healthy hold,
// no flapping under noise within thresholds, pins.
import { describe, expect, it } from 'vitest';
import {
  chooseRoute,
  linkCost,
  linkHealth,
  rateRoutes,
  ROUTING_DEFAULTS as P,
  type LinkMeasure,
  type LinkSpec,
  type PairRouteState,
} from '../../central/src/domain/routing.js';

const links: LinkSpec[] = [
  { id: 'P-NC', a: 'province', b: 'nanchang', capacityBps: 100e6 },
  { id: 'P-GZ', a: 'province', b: 'ganzhou', capacityBps: 100e6 },
  { id: 'NC-GZ', a: 'nanchang', b: 'ganzhou', capacityBps: 100e6 },
];
const ok = (p50: number, now: number, extra: Partial<LinkMeasure> = {}): LinkMeasure => ({
  latencyP50Ms: p50,
  latencyP99Ms: p50 * 2,
  loss: 0,
  loadBps: 0,
  measuredAt: now,
  healthySince: 0,
  ...extra,
});
const direct = ['nanchang', 'ganzhou'];
const viaProvince = ['nanchang', 'province', 'ganzhou'];

/** Mulberry32: a small seeded PRNG so the noise test is the same on every run. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('routing', () => {
  it('routing - link health: stale or fully lost is down, loss or p99 over threshold is degraded', () => {
    const now = 100_000;
    expect(linkHealth(undefined, P, now).health).toBe('down');
    expect(linkHealth(ok(10, now - P.staleAfterMs - 1), P, now)).toEqual({
      health: 'down',
      reason: 'no probe answer for 15001 ms',
    });
    expect(linkHealth(ok(10, now, { loss: 1 }), P, now).health).toBe('down');
    expect(linkHealth(ok(10, now, { loss: 0.06 }), P, now)).toEqual({
      health: 'degraded',
      reason: 'loss 6 % over 5 %',
    });
    expect(linkHealth(ok(10, now, { latencyP99Ms: 251 }), P, now).reason).toBe('p99 251 ms over 250 ms');
    expect(linkHealth(ok(10, now), P, now)).toEqual({ health: 'up' });
  });

  it('routing - link cost is p50 plus the loss and queueing terms of the stated formula', () => {
    const now = 1;
    const l = links[0]!;
    expect(linkCost(l, ok(10, now), P, now)).toBe(10);
    // loss 0.04: 1000 × 0.04 / 0.96 = 41.67 ms of expected re-sends
    expect(linkCost(l, ok(10, now, { loss: 0.04 }), P, now)).toBeCloseTo(10 + 1000 * (0.04 / 0.96), 6);
    // utilisation 0.5: p50 × 0.5 / 0.5 = 10 ms of queueing
    expect(linkCost(l, ok(10, now, { loadBps: 50e6 }), P, now)).toBeCloseTo(20, 6);
    // degraded adds the penalty; down is unusable
    expect(linkCost(l, ok(10, now, { latencyP99Ms: 600 }), P, now)).toBe(10 + P.degradedPenaltyMs);
    expect(linkCost(l, ok(10, now, { loss: 1 }), P, now)).toBe(Infinity);
  });

  it('routing - candidates are every loop-free route, cheapest first', () => {
    const now = 1;
    const m = new Map([
      ['P-NC', ok(8, now)],
      ['P-GZ', ok(9, now)],
      ['NC-GZ', ok(12, now)],
    ]);
    const rated = rateRoutes(links, m, 'nanchang', 'ganzhou', P, now);
    expect(rated.map((r) => [r.centers.join('>'), r.cost])).toEqual([
      ['nanchang>ganzhou', 12],
      ['nanchang>province>ganzhou', 17],
    ]);
    expect(rated[1]!.links).toEqual(['P-NC', 'P-GZ']);
    expect(rateRoutes(links, m, 'nanchang', 'nanchang', P, now)).toEqual([]);
    expect(rateRoutes(links, m, 'nanchang', 'nowhere', P, now)).toEqual([]);
  });

  it('routing - a degraded link moves the pair at once; it moves back only after the link is healthy for the hold time', () => {
    let now = 1_000_000;
    const m = new Map([
      ['P-NC', ok(8, now)],
      ['P-GZ', ok(9, now)],
      ['NC-GZ', ok(12, now)],
    ]);
    let state: PairRouteState | undefined;
    const round = () => {
      const c = chooseRoute(rateRoutes(links, m, 'nanchang', 'ganzhou', P, now), state, undefined, P, now)!;
      state = c;
      return c;
    };
    expect(round()).toMatchObject({ centers: direct, changed: true });
    // +500 ms on the direct link: degraded, left in the same round.
    m.set('NC-GZ', ok(512, now, { latencyP99Ms: 1024, healthySince: undefined }));
    const moved = round();
    expect(moved).toMatchObject({ centers: viaProvince, changed: true });
    expect(moved.reason).toMatch(/degraded; moved to the cheapest healthy route/);
    // Healthy again: not yet back (the hold), then back once it has been healthy for recoverHoldMs.
    now += 5_000;
    m.set('NC-GZ', ok(12, now, { healthySince: now }));
    for (const k of ['P-NC', 'P-GZ']) m.set(k, { ...m.get(k)!, measuredAt: now });
    expect(round()).toMatchObject({ centers: viaProvince, changed: false });
    now += P.recoverHoldMs;
    for (const k of ['P-NC', 'P-GZ', 'NC-GZ']) m.set(k, { ...m.get(k)!, measuredAt: now });
    expect(round()).toMatchObject({
      centers: viaProvince,
      changed: false,
      challenger: { centers: direct, since: now },
    });
    now += P.switchHoldMs;
    for (const k of ['P-NC', 'P-GZ', 'NC-GZ']) m.set(k, { ...m.get(k)!, measuredAt: now });
    const back = round();
    expect(back).toMatchObject({ centers: direct, changed: true });
    expect(back.reason).toMatch(/^cheaper by/);
  });

  it('routing - a center that stops answering (stale probes) moves the pair to the route around it', () => {
    let now = 1_000_000;
    const m = new Map([
      ['P-NC', ok(8, now)],
      ['P-GZ', ok(9, now)],
      ['NC-GZ', ok(30, now)],
    ]);
    const rated0 = rateRoutes(links, m, 'nanchang', 'ganzhou', P, now);
    const first = chooseRoute(rated0, undefined, undefined, P, now)!;
    expect(first.centers).toEqual(viaProvince);
    // The province center is killed: its links get no probe answers and go stale.
    now += P.staleAfterMs + 1;
    m.set('NC-GZ', { ...m.get('NC-GZ')!, measuredAt: now });
    const state = { centers: first.centers, since: 0, reason: first.reason };
    const next = chooseRoute(rateRoutes(links, m, 'nanchang', 'ganzhou', P, now), state, undefined, P, now)!;
    expect(next).toMatchObject({ centers: direct, changed: true });
    expect(next.reason).toMatch(/down; moved/);
  });

  it('routing - steady noise within thresholds causes no route change (5 seeds × 4,000 rounds of 5 s)', () => {
    for (const seed of [1, 2, 3, 42, 2026]) {
      const rnd = prng(seed);
      const jitter = (ms: number) => ms * (0.8 + 0.4 * rnd());
      let now = 0;
      let state: PairRouteState | undefined;
      let changes = 0;
      for (let i = 0; i < 4_000; i++) {
        now += 5_000;
        // Two near-equal routes (direct 20 ms; via the province 2 × 10 ms), each link's p50 ±20 % per round.
        const m = new Map([
          ['P-NC', ok(jitter(10), now)],
          ['P-GZ', ok(jitter(10), now)],
          ['NC-GZ', ok(jitter(20), now)],
        ]);
        const c = chooseRoute(rateRoutes(links, m, 'nanchang', 'ganzhou', P, now), state, undefined, P, now)!;
        if (c.changed) changes++;
        state = c;
      }
      expect({ seed, changes }).toEqual({ seed, changes: 1 }); // the first choice only
    }
  });

  it('routing - without hysteresis the same noise would flap (the noise test can fail)', () => {
    const rnd = prng(42);
    const jitter = (ms: number) => ms * (0.8 + 0.4 * rnd());
    const noHold = { ...P, switchMargin: 0, recoverHoldMs: 0, switchHoldMs: 0 };
    let state: PairRouteState | undefined;
    let changes = 0;
    for (let i = 0; i < 1_000; i++) {
      const m = new Map([
        ['P-NC', ok(jitter(10), i)],
        ['P-GZ', ok(jitter(10), i)],
        ['NC-GZ', ok(jitter(20), i)],
      ]);
      const c = chooseRoute(rateRoutes(links, m, 'nanchang', 'ganzhou', noHold, i), state, undefined, noHold, i)!;
      if (c.changed) changes++;
      state = c;
    }
    expect(changes).toBeGreaterThan(100);
  });

  it('routing - a pinned route is kept even when degraded, and says so; with every route down the last one is kept', () => {
    const now = 1_000_000;
    const m = new Map([
      ['P-NC', ok(8, now)],
      ['P-GZ', ok(9, now, { loss: 0.2 })],
      ['NC-GZ', ok(12, now)],
    ]);
    const rated = rateRoutes(links, m, 'nanchang', 'ganzhou', P, now);
    const pinned = chooseRoute(rated, undefined, viaProvince, P, now)!;
    expect(pinned).toMatchObject({
      centers: viaProvince,
      changed: true,
      reason: 'pinned by an operator; its state is degraded',
    });
    const dead = new Map<string, LinkMeasure>();
    const state = { centers: direct, since: 0, reason: 'cheapest route (12 ms)' };
    const kept = chooseRoute(rateRoutes(links, dead, 'nanchang', 'ganzhou', P, now), state, undefined, P, now)!;
    expect(kept).toMatchObject({
      centers: direct,
      changed: false,
      reason: 'every route is down; keeping the last one',
    });
  });
});
