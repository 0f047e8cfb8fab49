// How values read in tables: local times, ages ("3s ago"), durations ("1h30m"), byte sizes ("1.5 MiB").
// Values the API leaves empty (null, never happened) print as "-".

const two = (n: number): string => String(n).padStart(2, '0');

/** Local time as "YYYY-MM-DD HH:MM:SS"; "-" when absent. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms <= 0) return '-';
  const d = new Date(ms);
  const date = `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
  return `${date} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

const UNITS: ReadonlyArray<readonly [suffix: string, ms: number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** A duration in at most two units, largest first: "250ms", "30s", "5m", "1h30m", "7d". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  let rest = Math.floor(ms / 1000) * 1000;
  const parts: string[] = [];
  for (const [suffix, size] of UNITS) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)}${suffix}`);
      rest %= size;
    } else if (parts.length) break; // keep the two units adjacent: "1d2h", never "1d5s"
  }
  return parts.join('');
}

/** How long ago (or, for future times, how long until) `ms` is: "3s ago", "1m5s ago", "in 6d23h"; "never" when absent. */
export function formatAge(ms: number | null | undefined, nowMs: number): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms <= 0) return 'never';
  const delta = nowMs - ms;
  const span = Math.abs(delta) < 1000 ? '0s' : formatDuration(Math.abs(delta));
  return delta >= 0 ? `${span} ago` : `in ${span}`;
}

/** Time and age together, for detail views: "2025-01-02 03:04:05 (3s ago)". */
export function formatTimeAndAge(ms: number | null | undefined, nowMs: number): string {
  const t = formatTime(ms);
  return t === '-' ? t : `${t} (${formatAge(ms, nowMs)})`;
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '-';
  let v = n;
  let i = 0;
  while (v >= 1024 && i < BYTE_UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${BYTE_UNITS[i]}`;
}

export const yesNo = (b: boolean): string => (b ? 'yes' : 'no');
