// Number formatting for the cards: grouped integers, bytes in binary units, a rate as a percentage.
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

/** An instant as local date and time to the second; "—" when there is none. */
export function dateTime(ms: number | null): string {
  if (ms === null) return '—';
  return new Date(ms).toLocaleString(locale(), { hour12: false });
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
