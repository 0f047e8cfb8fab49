// A JSON client of central's HTTP API over Node's global fetch. Every failure becomes a CliError with one
// readable line: the API's own error message, or why central could not be reached.
import type { ApiErrorBody } from '../api/common.js';
import { CliError } from './errors.js';

/** How long one request may take before the CLI gives up (30 s). */
export const REQUEST_TIMEOUT_MS = 30_000;

export type Query = Record<string, string | number | boolean | undefined>;

/**
 * API body or query field → the flag that set it ({ regionCode: '--region' }), so that an error about a field reads
 * "--region: region \"x\" not found" for the operator who typed --region.
 */
export type FieldFlags = Readonly<Record<string, string>>;

export interface ApiClientOptions {
  /** Central's base URL without a trailing slash. */
  server: string;
  /** Bearer token sent with every request. */
  token: string;
  /** How long one request may take, in ms (default 30 000). */
  timeoutMs?: number;
}

export class ApiClient {
  private readonly timeoutMs: number;

  constructor(private readonly opts: ApiClientOptions) {
    this.timeoutMs = opts.timeoutMs ?? REQUEST_TIMEOUT_MS;
  }

  get<T>(path: string, query?: Query, flags?: FieldFlags): Promise<T> {
    return this.request<T>('GET', path, { ...(query && { query }), ...(flags && { flags }) });
  }
  post<T>(path: string, body: unknown = {}, flags?: FieldFlags): Promise<T> {
    return this.request<T>('POST', path, { body, ...(flags && { flags }) });
  }
  put<T>(path: string, body: unknown, flags?: FieldFlags): Promise<T> {
    return this.request<T>('PUT', path, { body, ...(flags && { flags }) });
  }
  patch<T>(path: string, body: unknown, flags?: FieldFlags): Promise<T> {
    return this.request<T>('PATCH', path, { body, ...(flags && { flags }) });
  }
  delete<T = void>(path: string): Promise<T> {
    return this.request<T>('DELETE', path, {});
  }

  /** Sends one request to /api/v1`path`; resolves with the parsed JSON body (undefined for 204). */
  async request<T>(
    method: string,
    path: string,
    { query, body, flags }: { query?: Query; body?: unknown; flags?: FieldFlags },
  ): Promise<T> {
    const url = new URL(`${this.opts.server}/api/v1${path}`);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method,
        // content-type only with a body: fastify rejects an empty body declared as JSON.
        headers: {
          authorization: `Bearer ${this.opts.token}`,
          accept: 'application/json',
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw new CliError(`cannot reach central at ${this.opts.server}: ${networkReason(err, this.timeoutMs)}`);
    }
    let parsed: unknown;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new CliError(
          `central at ${this.opts.server} answered HTTP ${res.status} with a body that is not JSON (is --server right?)`,
        );
      }
    }
    if (!res.ok)
      throw new CliError(apiMessage(parsed, flags) ?? `central answered HTTP ${res.status} ${res.statusText}`.trim());
    return parsed as T;
  }
}

/**
 * The API's error message; a leading "field: " (or "body.field: ", "querystring.field: ") becomes the flag
 * that set the field.
 */
function apiMessage(body: unknown, flags: FieldFlags | undefined): string | undefined {
  const e = (body as Partial<ApiErrorBody> | undefined)?.error;
  if (!e || typeof e.message !== 'string' || !e.message) return undefined;
  const field = typeof e.field === 'string' ? e.field : '';
  const flag = flags?.[field.replace(/^(body|querystring)\./, '')];
  return flag && e.message.startsWith(`${field}: `) ? `${flag}: ${e.message.slice(field.length + 2)}` : e.message;
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed TLS certificate',
  CERT_HAS_EXPIRED: 'TLS certificate has expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate does not match the host name',
};

/** fetch() hides the cause ("fetch failed"); dig out the system error code, also inside an AggregateError (IPv4 + IPv6). */
function networkReason(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
    return `no answer within ${timeoutMs / 1000} s`;
  let cause: unknown = err instanceof Error && err.cause !== undefined ? err.cause : err;
  if (cause instanceof AggregateError && !(cause as NodeJS.ErrnoException).code) cause = cause.errors[0] ?? cause;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code && REASONS[code]) return REASONS[code];
  if (cause instanceof Error && cause.message) return code ? `${cause.message} (${code})` : cause.message;
  return String(cause);
}
