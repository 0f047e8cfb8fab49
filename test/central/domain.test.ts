// Pure rules of central/src/domain: liveness, enrollment token verdicts, region hierarchy.
import { describe, it, expect } from 'vitest';
import { checkToken, type TokenState } from '../../central/src/domain/enrollment.js';
import {
  expiredNodes,
  heartbeatIntervalFor,
  onHeartbeat,
  type LivenessView,
} from '../../central/src/domain/liveness.js';
import { checkRegionParent } from '../../central/src/domain/regions.js';
import { ErrorCode } from '../../central/src/errors.js';

const T0 = 1_700_000_000_000;
const TTL = 15_000;

describe('domain liveness', () => {
  const online = (id: string, lastHeartbeatAt: number | null): LivenessView => ({
    id,
    status: 'online',
    lastHeartbeatAt,
  });

  it('liveness - a node silent for exactly the TTL is still online', () => {
    expect(expiredNodes([online('n1', T0)], TTL, T0 + TTL)).toEqual([]);
  });

  it('liveness - a node silent for one millisecond past the TTL goes offline with the silence in the reason', () => {
    const out = expiredNodes([online('n1', T0)], TTL, T0 + TTL + 1);
    expect(out).toEqual([
      { nodeId: 'n1', from: 'online', to: 'offline', reason: `no heartbeat for ${TTL + 1} ms (ttl ${TTL} ms)` },
    ]);
  });

  it('liveness - only online nodes past the TTL are returned, offline ones are left alone', () => {
    const nodes: LivenessView[] = [
      online('fresh', T0 + 10_000),
      online('stale', T0),
      { id: 'already-off', status: 'offline', lastHeartbeatAt: T0 - 100_000 },
      online('never', null),
    ];
    const out = expiredNodes(nodes, TTL, T0 + 20_000);
    expect(out.map((t) => t.nodeId)).toEqual(['stale', 'never']);
    expect(out.every((t) => t.from === 'online' && t.to === 'offline')).toBe(true);
  });

  it('liveness - onHeartbeat brings an offline node online and leaves an online one alone', () => {
    expect(onHeartbeat({ id: 'n1', status: 'offline', lastHeartbeatAt: null })).toEqual({
      nodeId: 'n1',
      from: 'offline',
      to: 'online',
      reason: 'heartbeat received',
    });
    expect(onHeartbeat({ id: 'n1', status: 'online', lastHeartbeatAt: T0 })).toBeUndefined();
  });

  it('liveness - the heartbeat interval gives three chances within the TTL, never below 50 ms', () => {
    expect(heartbeatIntervalFor(15_000)).toBe(5_000);
    expect(heartbeatIntervalFor(1_000)).toBe(333);
    expect(heartbeatIntervalFor(100)).toBe(50);
  });
});

describe('domain enrollment', () => {
  const fresh: TokenState = { expiresAt: T0 + 60_000, usedAt: null, revokedAt: null };

  it('enrollment - an unknown token is TOKEN_UNKNOWN', () => {
    const v = checkToken(undefined, T0);
    expect(v.ok).toBe(false);
    if (!v.ok) {
      expect(v.code).toBe(ErrorCode.TOKEN_UNKNOWN);
      expect(v.reason).toMatch(/unknown/);
    }
  });

  it('enrollment - a used token is TOKEN_USED naming the reuse', () => {
    const v = checkToken({ ...fresh, usedAt: T0 - 1 }, T0);
    expect(v).toEqual({ ok: false, code: ErrorCode.TOKEN_USED, reason: expect.stringMatching(/already used/) });
  });

  it('enrollment - a revoked token is refused naming the revocation', () => {
    const v = checkToken({ ...fresh, revokedAt: T0 - 1 }, T0);
    expect(v).toEqual({ ok: false, code: ErrorCode.TOKEN_USED, reason: expect.stringMatching(/revoked/) });
  });

  it('enrollment - a token is expired at its expiry instant and good one millisecond before', () => {
    expect(checkToken(fresh, fresh.expiresAt - 1)).toEqual({ ok: true });
    const v = checkToken(fresh, fresh.expiresAt);
    expect(v).toEqual({ ok: false, code: ErrorCode.TOKEN_EXPIRED, reason: expect.stringMatching(/expired/) });
  });

  it('enrollment - a fresh token is ok', () => {
    expect(checkToken(fresh, T0)).toEqual({ ok: true });
  });
});

describe('domain regions', () => {
  it('regions - a province takes no parent', () => {
    expect(checkRegionParent('province', undefined, null)).toBeUndefined();
    expect(checkRegionParent('province', { level: 'province' }, '110000')).toBe('a province has no parent region');
  });

  it('regions - a city needs a province parent', () => {
    expect(checkRegionParent('city', undefined, null)).toBe('a city needs a parent province');
    expect(checkRegionParent('city', { level: 'province' }, '360000')).toBeUndefined();
    expect(checkRegionParent('city', { level: 'city' }, '360100')).toBe(
      "a city's parent must be a province, but 360100 is a city",
    );
  });

  it('regions - a county needs a city parent, not a province', () => {
    expect(checkRegionParent('county', { level: 'city' }, '360100')).toBeUndefined();
    expect(checkRegionParent('county', { level: 'province' }, '360000')).toBe(
      "a county's parent must be a city, but 360000 is a province",
    );
    expect(checkRegionParent('county', undefined, null)).toBe('a county needs a parent city');
  });

  it('regions - a parent code that names no region is reported', () => {
    expect(checkRegionParent('city', undefined, '999999')).toBe('parent region "999999" not found');
  });
});
