// Peak resident memory of child processes over one phase of the bench (Linux /proc).
// Invariant: a phase's figure is the highest RSS each process reached between start() and stop(), not at
// any moment before: the kernel's high-water mark (VmHWM) is reset at start() by writing 5 to clear_refs.
import { readFileSync, writeFileSync } from 'node:fs';

/** One process's RSS figures in KiB from /proc/<pid>/status (undefined when unreadable, e.g. not Linux). */
function status(pid: number): { rssKiB: number; hwmKiB: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
    return { rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM') };
  } catch {
    return undefined;
  }
}

/** Measures the peak RSS of `pids` over a phase. */
export interface PeakRss {
  /** Ends the phase: the peak RSS of each pid in MiB (rounded), in the order given; 0 when unreadable. */
  stop(): number[];
}

/**
 * Starts a phase. Where the kernel refuses the reset (no clear_refs, another user's process), the peak is
 * the highest of VmRSS samples taken every `sampleMs` (default 20 ms) instead, which can miss a spike
 * shorter than that.
 */
export function startPeakRss(pids: number[], sampleMs = 20): PeakRss {
  const resetOk = pids.map((pid) => {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
      return true;
    } catch {
      return false;
    }
  });
  const sampled = pids.map(() => 0);
  const sample = (): void => {
    pids.forEach((pid, i) => {
      sampled[i] = Math.max(sampled[i]!, status(pid)?.rssKiB ?? 0);
    });
  };
  sample();
  const timer = resetOk.every(Boolean) ? undefined : setInterval(sample, sampleMs);
  timer?.unref();
  return {
    stop() {
      if (timer) clearInterval(timer);
      sample();
      return pids.map((pid, i) => {
        const hwm = resetOk[i] ? (status(pid)?.hwmKiB ?? 0) : 0;
        return Math.round(Math.max(hwm, sampled[i]!) / 1024);
      });
    },
  };
}
