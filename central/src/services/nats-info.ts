// Is an exchange center there? Opens a TCP connection to a nats:// or tls:// URL and reads the server's INFO
// line: a NATS server sends `INFO {json}\r\n` first on every client connection, in plain text even when
// it requires TLS next (not with `handshake_first`, which such a center needs `check: false` for).
import { connect } from 'node:net';
import { parseNatsUrl } from '../domain/centers.js';
import { ErrorCode, XchgError } from '../errors.js';

/** What one URL answered. */
export interface UrlAnswer {
  url: string;
  /** A NATS server sent its INFO line. */
  ok: boolean;
  /** Why not (connection refused, timed out after 2000 ms, …), or the server's name and version. */
  detail: string;
}

/** An INFO line longer than this is not waited for (real ones are a few KiB at most). */
const MAX_INFO_BYTES = 64 * 1024;

/** Connects to `url` and reads the NATS INFO line, giving up after `timeoutMs` (connect and read together). */
export function natsInfo(url: string, timeoutMs: number): Promise<UrlAnswer> {
  const parsed = parseNatsUrl(url);
  if (!parsed.ok) return Promise.resolve({ url, ok: false, detail: parsed.problem });
  const { host, port } = parsed.address;
  return new Promise((resolve) => {
    let buf = '';
    const socket = connect({ host, port });
    const finish = (ok: boolean, detail: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ url, ok, detail });
    };
    const timer = setTimeout(() => finish(false, `no NATS INFO within ${timeoutMs} ms`), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('error', (err: NodeJS.ErrnoException) => finish(false, REASONS[err.code ?? ''] ?? err.message));
    socket.on('close', () => finish(false, 'connection closed before a NATS INFO line'));
    socket.on('data', (chunk: string) => {
      buf += chunk;
      const end = buf.indexOf('\r\n');
      if (end < 0 && buf.length < MAX_INFO_BYTES && 'INFO '.startsWith(buf.slice(0, 5))) return;
      finish(...infoVerdict(end < 0 ? buf : buf.slice(0, end)));
    });
  });
}

/** Checks every URL at once; the answers come in the order of `urls`. */
export function checkNatsUrls(urls: readonly string[], timeoutMs: number): Promise<UrlAnswer[]> {
  return Promise.all(urls.map((u) => natsInfo(u, timeoutMs)));
}

function infoVerdict(line: string): [ok: boolean, detail: string] {
  if (!line.startsWith('INFO '))
    return [false, `answered, but not as a NATS server (${JSON.stringify(line.slice(0, 40))})`];
  try {
    const info = JSON.parse(line.slice(5)) as { server_name?: unknown; version?: unknown };
    return [true, `nats-server ${String(info.server_name ?? '?')} ${String(info.version ?? '')}`.trim()];
  } catch {
    return [false, 'answered INFO with a body that is not JSON'];
  }
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
};

/**
 * Resolves when at least one of `urls` answers as a NATS server; otherwise refuses with FAILED_PRECONDITION
 * naming every URL and what it answered (`field` is the request field the URLs came from).
 */
export async function requireNatsAnswer(field: string, urls: readonly string[], timeoutMs: number): Promise<void> {
  const answers = await checkNatsUrls(urls, timeoutMs);
  if (answers.some((a) => a.ok)) return;
  const tried = answers.map((a) => `${a.url} (${a.detail})`).join(', ');
  throw new XchgError(
    ErrorCode.FAILED_PRECONDITION,
    `${field}: no NATS server answered at ${tried}; start the exchange center (交换中心) or correct the URLs, ` +
      'or register it before it runs with check: false (xchg … --no-check)',
    { field },
  );
}
