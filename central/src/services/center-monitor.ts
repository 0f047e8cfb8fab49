// Samples an exchange center's nats-server monitoring endpoint (its -m / http_port): GET /varz and
// GET /jsz?accounts=true&streams=true&consumers=true, read into CenterFigures (domain/center-health.ts) and
// kept as the center's latest sample in central.db. A center without a monitoring URL is not sampled.
// The alert rules call it every alerts.centerCheckIntervalMs (AlertRules.centers()).
import { figuresOf, type CenterHealthSample } from '../domain/center-health.js';

/** GET `url` as JSON within `signal`; throws with a sentence (HTTP status, refused, timed out). */
async function getJson(url: string, signal: AbortSignal): Promise<unknown> {
  const res = await fetch(url, { signal, headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return (await res.json()) as unknown;
}

function reason(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  if (e.cause?.code === 'ECONNREFUSED') return 'connection refused';
  return e.cause?.message ?? e.message ?? String(err);
}

/**
 * One sample of the monitoring endpoint at `monitorUrl` (http(s)://host:port), both requests within
 * `timeoutMs`. Never throws: a failure is a sample with ok false and the reason.
 */
export async function sampleCenter(
  centerCode: string,
  monitorUrl: string,
  timeoutMs: number,
  now: () => number,
): Promise<CenterHealthSample> {
  const base = monitorUrl.replace(/\/+$/, '');
  const signal = AbortSignal.timeout(timeoutMs);
  const empty = { serverVersion: '', serverName: '', jetStream: false, figures: null };
  try {
    const [varz, jsz] = await Promise.all([
      getJson(`${base}/varz`, signal),
      getJson(`${base}/jsz?accounts=true&streams=true&consumers=true`, signal),
    ]);
    const v = (varz ?? {}) as Record<string, unknown>;
    const js = v['jetstream'] as { config?: unknown } | undefined;
    return {
      centerCode,
      monitorUrl,
      sampledAt: now(),
      ok: true,
      error: '',
      serverVersion: typeof v['version'] === 'string' ? v['version'] : '',
      serverName: typeof v['server_name'] === 'string' ? v['server_name'] : '',
      jetStream: js?.config !== undefined,
      figures: figuresOf(varz, jsz),
    };
  } catch (err) {
    return { centerCode, monitorUrl, sampledAt: now(), ok: false, error: reason(err, timeoutMs), ...empty };
  }
}
