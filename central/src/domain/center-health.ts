// An exchange center's health as its nats-server monitoring endpoint tells it (/varz and /jsz), pure: what
// makes a monitoring URL acceptable, the figures read from the two answers, and what about them is worth an
// alert. Fetching the answers is services/center-monitor.ts.

/** The figures of one sample (bytes, counts); every field a number so /metrics can export it as is. */
export interface CenterFigures {
  /** Client connections now (/varz connections). */
  connections: number;
  /** Resident memory of the nats-server process, bytes (/varz mem). */
  memBytes: number;
  /** CPU of the nats-server process, percent of one core (/varz cpu). */
  cpuPercent: number;
  /** Slow consumers since the server started (/varz slow_consumers). */
  slowConsumers: number;
  /** JetStream file storage used, bytes (/jsz storage). */
  jsStorageBytes: number;
  /** JetStream memory storage used, bytes (/jsz memory). */
  jsMemoryBytes: number;
  /** File storage reserved by streams with a max_bytes, bytes (/jsz reserved_storage). */
  jsReservedStorageBytes: number;
  /** The server's JetStream file storage limit, bytes (/jsz config.max_storage; 0 when unknown). */
  jsMaxStorageBytes: number;
  jsStreams: number;
  jsConsumers: number;
  /** Messages held in all streams (/jsz messages). */
  jsMessages: number;
  /** Messages not yet delivered to their consumers, summed over every consumer (num_pending). */
  jsPending: number;
  /** JetStream API errors since the server started (/jsz api.errors). */
  jsApiErrors: number;
}

/** The latest sample of a center: when, whether the endpoint answered, why not, what it said. */
export interface CenterHealthSample {
  centerCode: string;
  monitorUrl: string;
  sampledAt: number;
  ok: boolean;
  /** Why the endpoint gave no sample ('' when ok). */
  error: string;
  /** nats-server version and name (from /varz), '' when not ok. */
  serverVersion: string;
  serverName: string;
  /** Whether JetStream is enabled on the server (/varz jetstream.config present). */
  jetStream: boolean;
  /** null when not ok. */
  figures: CenterFigures | null;
}

/** JetStream storage used at or above this share of the server's limit is a warning. */
export const STORAGE_WARN_RATIO = 0.9;

/** Why `url` is not a monitoring URL (http:// or https://, host and port, no path, no credentials), or undefined. */
export function monitorUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `${JSON.stringify(url)} is not a URL: give nats-server's monitoring address, e.g. http://10.36.1.5:8222`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    return `${JSON.stringify(url)}: the monitoring endpoint speaks http:// or https://, not ${u.protocol}//`;
  if (u.username || u.password) return `${JSON.stringify(url)}: credentials in a URL would be shown to every reader`;
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash)
    return `${JSON.stringify(url)}: give the address only (central asks /varz and /jsz itself)`;
  return undefined;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
const obj = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Sum of num_pending over every consumer of a /jsz?accounts=true&streams=true&consumers=true answer. */
function pendingOf(jsz: Record<string, unknown>): number {
  let n = 0;
  for (const account of arr(jsz['account_details']))
    for (const stream of arr(obj(account)['stream_detail']))
      for (const consumer of arr(obj(stream)['consumer_detail'])) n += num(obj(consumer)['num_pending']);
  return n;
}

/** The figures of a /varz and a /jsz answer (parsed JSON); a missing or odd field counts 0. */
export function figuresOf(varzJson: unknown, jszJson: unknown): CenterFigures {
  const varz = obj(varzJson);
  const jsz = obj(jszJson);
  return {
    connections: num(varz['connections']),
    memBytes: num(varz['mem']),
    cpuPercent: num(varz['cpu']),
    slowConsumers: num(varz['slow_consumers']),
    jsStorageBytes: num(jsz['storage']),
    jsMemoryBytes: num(jsz['memory']),
    jsReservedStorageBytes: num(jsz['reserved_storage']),
    jsMaxStorageBytes: num(obj(jsz['config'])['max_storage']),
    jsStreams: num(jsz['streams']),
    jsConsumers: num(jsz['consumers']),
    jsMessages: num(jsz['messages']),
    jsPending: pendingOf(jsz),
    jsApiErrors: num(obj(jsz['api'])['errors']),
  };
}

/** What a sample says is wrong with a center (for center_unreachable): a sentence and a severity, or undefined. */
export function healthProblem(
  s: CenterHealthSample,
): { severity: 'warning' | 'critical'; message: string } | undefined {
  if (!s.ok)
    return { severity: 'critical', message: `monitoring endpoint ${s.monitorUrl} does not answer: ${s.error}` };
  if (!s.jetStream) return { severity: 'critical', message: `JetStream is not enabled on nats-server ${s.serverName}` };
  const f = s.figures;
  if (f && f.jsMaxStorageBytes > 0 && f.jsStorageBytes >= STORAGE_WARN_RATIO * f.jsMaxStorageBytes) {
    const pct = Math.round((100 * f.jsStorageBytes) / f.jsMaxStorageBytes);
    return { severity: 'warning', message: `JetStream storage ${pct} % of its limit (${f.jsStorageBytes} bytes)` };
  }
  return undefined;
}
