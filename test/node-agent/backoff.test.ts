// Jittered exponential backoff, the abortable sleep every agent wait goes through, and the one decision of
// which failed calls to central are retried.
import { status as GrpcStatus } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { Backoff, sleep } from '../../node-agent/src/backoff.js';
import { grpcCode, isRetryable } from '../../node-agent/src/control/grpc-errors.js';
import { DEFAULTS } from '../../node-agent/src/config.js';

/** random() = 0.5 means no jitter at all: the delay is exactly the base. */
const noJitter = (): number => 0.5;

describe('backoff - delays', () => {
  it('backoff - grows from 1 s by 1.6 per attempt up to maxMs with the default settings', () => {
    const b = new Backoff(DEFAULTS.backoff, noJitter);
    const delays = Array.from({ length: 14 }, () => b.next());
    expect(delays.slice(0, 6)).toEqual([1_000, 1_600, 2_560, 4_096, 6_554, 10_486]);
    // 1000 × 1.6^10 ≈ 109 951 < 120 000 < 1000 × 1.6^11: the cap applies from the 12th delay on.
    expect(delays[10]).toBe(109_951);
    expect(delays.slice(11)).toEqual([120_000, 120_000, 120_000]);
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1]!);
    expect(b.attempts).toBe(14);
  });

  it('backoff - a small maxMs caps the delay early', () => {
    const b = new Backoff({ initialMs: 100, factor: 1.6, maxMs: 300, jitter: 0 }, Math.random);
    expect(Array.from({ length: 5 }, () => b.next())).toEqual([100, 160, 256, 300, 300]);
  });

  it('backoff - jitter stays within ±20 % of the base and reaches both ends', () => {
    const lowest = new Backoff(DEFAULTS.backoff, () => 0);
    const highest = new Backoff(DEFAULTS.backoff, () => 0.999_999);
    expect([lowest.next(), lowest.next()]).toEqual([800, 1_280]);
    const hi = [highest.next(), highest.next()];
    expect(hi[0]).toBeGreaterThan(1_199);
    expect(hi[0]).toBeLessThanOrEqual(1_200);
    expect(hi[1]).toBeGreaterThan(1_919);
    expect(hi[1]).toBeLessThanOrEqual(1_920);

    // A deterministic spread of random values over many attempts (including past the cap).
    let x = 0.123;
    const lcg = (): number => (x = (x * 9301 + 0.49297) % 1);
    const b = new Backoff(DEFAULTS.backoff, lcg);
    const seen: number[] = [];
    for (let attempt = 0; attempt < 30; attempt++) {
      const base = Math.min(120_000, 1_000 * 1.6 ** attempt);
      const d = b.next();
      seen.push(d / base);
      expect(d).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
      expect(d).toBeLessThanOrEqual(Math.ceil(base * 1.2));
    }
    // The jitter really varies the delay (not a constant factor).
    expect(Math.max(...seen) - Math.min(...seen)).toBeGreaterThan(0.1);
  });

  it('backoff - reset() starts again from the initial delay', () => {
    const b = new Backoff(DEFAULTS.backoff, noJitter);
    b.next();
    b.next();
    b.next();
    expect(b.attempts).toBe(3);
    b.reset();
    expect(b.attempts).toBe(0);
    expect([b.next(), b.next()]).toEqual([1_000, 1_600]);
  });
});

describe('backoff - sleep', () => {
  it('backoff - sleep resolves true after the delay when not aborted', async () => {
    const t0 = performance.now();
    expect(await sleep(30, new AbortController().signal)).toBe(true);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
    expect(await sleep(1)).toBe(true);
  });

  it('backoff - sleep resolves false at once when the signal is already aborted', async () => {
    const ctrl = new AbortController();
    ctrl.abort();
    const t0 = performance.now();
    expect(await sleep(5_000, ctrl.signal)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(1_000);
  });

  it('backoff - sleep resolves false early when the signal aborts during the wait', async () => {
    const ctrl = new AbortController();
    const t0 = performance.now();
    const slept = sleep(5_000, ctrl.signal);
    // Abort from another task while the sleep is pending (not synchronously after the call).
    setImmediate(() => ctrl.abort());
    expect(await slept).toBe(false);
    expect(performance.now() - t0).toBeLessThan(1_000);
  });
});

describe('retry - which failed calls to central are worth retrying', () => {
  const failed = (code: GrpcStatus): Error & { code: GrpcStatus } =>
    Object.assign(new Error(GrpcStatus[code]), { code });

  it('retry - central restarting, the network, overload and a cancelled call are retried', () => {
    const retried = [
      GrpcStatus.UNAVAILABLE,
      GrpcStatus.DEADLINE_EXCEEDED,
      GrpcStatus.RESOURCE_EXHAUSTED,
      GrpcStatus.ABORTED,
      GrpcStatus.INTERNAL,
      GrpcStatus.UNKNOWN,
      GrpcStatus.CANCELLED,
    ];
    expect(retried.filter((c) => !isRetryable(failed(c)))).toEqual([]);
    // A local failure without a gRPC status (e.g. a socket error before the call) is retried too.
    expect(isRetryable(new Error('connect ECONNREFUSED'))).toBe(true);
    expect(grpcCode(new Error('connect ECONNREFUSED'))).toBeUndefined();
  });

  it('retry - what central refuses is not retried: the same call would fail again', () => {
    const refused = [
      GrpcStatus.INVALID_ARGUMENT,
      GrpcStatus.NOT_FOUND,
      GrpcStatus.ALREADY_EXISTS,
      GrpcStatus.PERMISSION_DENIED,
      GrpcStatus.UNAUTHENTICATED,
      GrpcStatus.FAILED_PRECONDITION,
      GrpcStatus.OUT_OF_RANGE,
      GrpcStatus.UNIMPLEMENTED,
    ];
    expect(refused.filter((c) => isRetryable(failed(c)))).toEqual([]);
    expect(grpcCode(failed(GrpcStatus.NOT_FOUND))).toBe(GrpcStatus.NOT_FOUND);
  });
});
