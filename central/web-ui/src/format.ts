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
