// Pure rules of a center's health (domain/center-health.ts): which monitoring URLs are accepted, the figures
// read from /varz and /jsz answers (pending summed over every consumer), and what raises center_unreachable.
import { describe, expect, it } from 'vitest';
import {
  figuresOf,
  healthProblem,
  monitorUrlProblem,
  type CenterHealthSample,
} from '../../central/src/domain/center-health.js';

const sample = (over: Partial<CenterHealthSample> = {}): CenterHealthSample => ({
  centerCode: 'nanchang',
  monitorUrl: 'http://10.36.1.5:8222',
  sampledAt: 1,
  ok: true,
  error: '',
  serverVersion: '2.9.10',
  serverName: 'nc-1',
  jetStream: true,
  figures: figuresOf({ connections: 3 }, { storage: 10, config: { max_storage: 100 } }),
  ...over,
});

describe('center health - domain', () => {
  it('center health - monitoring URLs: http(s)://host:port only, each refusal says why', () => {
    expect(monitorUrlProblem('http://10.36.1.5:8222')).toBeUndefined();
    expect(monitorUrlProblem('https://nats.example.gov.cn:8222/')).toBeUndefined();
    expect(monitorUrlProblem('nats://10.36.1.5:4222')).toMatch(/speaks http:\/\/ or https:\/\/, not nats:\/\//);
    expect(monitorUrlProblem('http://u:p@10.36.1.5:8222')).toMatch(/credentials/);
    expect(monitorUrlProblem('http://10.36.1.5:8222/varz')).toMatch(/address only/);
    expect(monitorUrlProblem('10.36.1.5:8222')).toMatch(/speaks http|not a URL/);
    expect(monitorUrlProblem('')).toMatch(/not a URL/);
  });

  it('center health - figures from /varz and /jsz; pending summed over every consumer; odd fields count 0', () => {
    const jsz = {
      storage: 2048,
      memory: 10,
      reserved_storage: 4096,
      streams: 2,
      consumers: 3,
      messages: 70,
      config: { max_storage: 1_000_000 },
      api: { errors: 1 },
      account_details: [
        {
          stream_detail: [
            { consumer_detail: [{ num_pending: 5 }, { num_pending: 7 }] },
            { consumer_detail: [{ num_pending: 'x' }] },
          ],
        },
        { stream_detail: [{ consumer_detail: [{ num_pending: 30 }] }] },
      ],
    };
    expect(figuresOf({ connections: 4, mem: 1e6, cpu: 1.5, slow_consumers: -1 }, jsz)).toEqual({
      connections: 4,
      memBytes: 1e6,
      cpuPercent: 1.5,
      slowConsumers: 0,
      jsStorageBytes: 2048,
      jsMemoryBytes: 10,
      jsReservedStorageBytes: 4096,
      jsMaxStorageBytes: 1_000_000,
      jsStreams: 2,
      jsConsumers: 3,
      jsMessages: 70,
      jsPending: 42,
      jsApiErrors: 1,
    });
    expect(figuresOf(null, 'nonsense').jsPending).toBe(0);
  });

  it('center health - no answer or JetStream off is critical, storage at 90 % of its limit a warning', () => {
    expect(healthProblem(sample())).toBeUndefined();
    expect(healthProblem(sample({ ok: false, error: 'connection refused', figures: null }))).toEqual({
      severity: 'critical',
      message: 'monitoring endpoint http://10.36.1.5:8222 does not answer: connection refused',
    });
    expect(healthProblem(sample({ jetStream: false }))?.severity).toBe('critical');
    const full = figuresOf({}, { storage: 90, config: { max_storage: 100 } });
    expect(healthProblem(sample({ figures: full }))).toEqual({
      severity: 'warning',
      message: 'JetStream storage 90 % of its limit (90 bytes)',
    });
    expect(healthProblem(sample({ figures: figuresOf({}, { storage: 89, config: { max_storage: 100 } }) }))).toBe(
      undefined,
    );
    // No known limit: no ratio to judge.
    expect(healthProblem(sample({ figures: figuresOf({}, { storage: 1e12 }) }))).toBeUndefined();
  });
});
