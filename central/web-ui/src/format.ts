// Number and time formatting for every page: grouped integers, bytes in binary units, a rate as a percentage,
// and times, always in central's time zone (given by GET /dashboard/session), never the browser's.
import { currentLang } from './i18n/index.js';

export function int(n: number): string {
  return n.toLocaleString(currentLang() === 'zh' ? 'zh-CN' : 'en-US');
}

/** Bytes in B/KiB/MiB/GiB/TiB with one decimal; "—" when unknown (imported history without bytes). */
export function bytes(n: number | null): string {
  if (n === null) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** A rate in [0, 1] as a percentage with one decimal; "—" when there is nothing to rate. */
export function percent(rate: number | null): string {
  return rate === null ? '—' : `${(rate * 100).toFixed(1)}%`;
}

const locale = (): string => (currentLang() === 'zh' ? 'zh-CN' : 'en-GB');

let zone: string | undefined;

/** Sets central's IANA time zone (traffic.timeZone, from GET /dashboard/session) every time is shown in. */
export function setTimeZone(timeZone: string): void {
  zone = timeZone;
}

/**
 * How much of an instant a page shows: second (date and time to the second), minute (date and time to the
 * minute), time (time of day to the second), hourMinute (a chart's hours), monthDay (a chart's days),
 * monthDayMinute (a chart's hours over days).
 */
export type TimeStyle = 'second' | 'minute' | 'time' | 'hourMinute' | 'monthDay' | 'monthDayMinute';

const STYLES: Record<TimeStyle, Intl.DateTimeFormatOptions> = {
  second: { year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' },
  minute: { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' },
  time: { hour: '2-digit', minute: '2-digit', second: '2-digit' },
  hourMinute: { hour: '2-digit', minute: '2-digit' },
  monthDay: { month: '2-digit', day: '2-digit' },
  monthDayMinute: { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' },
};

/**
 * The one time formatter of the pages: instant `ms` (epoch ms) in central's time zone, in the current language,
 * 24-hour; "—" when there is none. Before the session has given the zone it is the browser's.
 */
export function formatTime(ms: number | null, style: TimeStyle = 'second'): string {
  if (ms === null) return '—';
  return new Date(ms).toLocaleString(locale(), { ...STYLES[style], hourCycle: 'h23', timeZone: zone });
}

/** An instant as date and time to the second in central's time zone; "—" when there is none. */
export function dateTime(ms: number | null): string {
  return formatTime(ms, 'second');
}

/** A duration in the largest whole unit (s, min, h, d); "—" when unknown. */
export function age(ms: number | null): string {
  if (ms === null) return '—';
  const s = Math.floor(ms / 1000);
  const zh = currentLang() === 'zh';
  if (s < 60) return zh ? `${s} 秒` : `${s} s`;
  if (s < 3600) return zh ? `${Math.floor(s / 60)} 分钟` : `${Math.floor(s / 60)} min`;
  if (s < 86_400) return zh ? `${Math.floor(s / 3600)} 小时` : `${Math.floor(s / 3600)} h`;
  return zh ? `${Math.floor(s / 86_400)} 天` : `${Math.floor(s / 86_400)} d`;
}

/** A number with one decimal (working days, CPU %); "—" when unknown. */
export function dec1(n: number | null): string {
  return n === null ? '—' : n.toLocaleString(locale(), { minimumFractionDigits: 1, maximumFractionDigits: 1 });
}
