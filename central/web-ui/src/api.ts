// The dashboard's calls to central: the same /api/v1 the CLI uses, authenticated by the session cookie
// (same origin, HttpOnly); a 401 means the session expired or was never opened.

/** Thrown for an answer other than 2xx; `status` is the HTTP status, `message` central's error message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Marks the dashboard's own state-changing calls (central refuses a cookie-authenticated write without it). */
export const DASHBOARD_HEADER = 'x-xchg-dashboard';

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: {
      [DASHBOARD_HEADER]: '1',
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  if (res.status === 204) return undefined as T;
  const data = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
  if (!res.ok) throw new ApiError(res.status, data.error?.message ?? res.statusText);
  return data as T;
}

export const get = <T>(path: string): Promise<T> => call<T>('GET', path);
export const post = <T>(path: string, body?: unknown): Promise<T> => call<T>('POST', path, body);
export const del = <T>(path: string): Promise<T> => call<T>('DELETE', path);

/** Who the session stands for (GET /api/v1/users/me). */
export interface Whoami {
  name: string;
  role: string;
  regionCode?: string;
  departmentCode?: string;
}

/** GET /api/v1/dashboard/summary (central/src/api/dashboard.ts DashboardSummary). */
export interface Summary {
  generatedAt: number;
  todayStartMs: number;
  timeZone: string;
  regionCode: string | null;
  departments: { total: number; connected: number };
  nodes: { total: number; online: number; onlineRate: number | null };
  today: { batches: number; records: number; bytes: number | null; errors: number };
  resources: { published: number };
  applications: { pending: number; overdue: number };
  alerts: { open: number; critical: number };
}

/** A trend range the page offers. */
export type TrendRange = 'today' | '7d' | '30d';

/** GET /api/v1/dashboard/trend (central/src/api/dashboard.ts DashboardTrend). */
export interface Trend {
  range: TrendRange;
  stepMs: number;
  sinceMs: number;
  untilMs: number;
  timeZone: string;
  buckets: { startMs: number; batches: number; records: number; bytes: number | null }[];
}
