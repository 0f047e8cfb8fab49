// Local time in an IANA time zone (Asia/Shanghai by default), pure: offsets from the runtime's ICU data
// (Node 20 ships full ICU), never from the machine's own zone. Used to read and write history files and to
// cut days; the working-day calendar (calendar.ts) keeps its fixed offset.

const MINUTE_MS = 60_000;
/** Offsets are cached per quarter hour of UTC: zone transitions fall on quarter hours. */
const CACHE_SLOT_MS = 15 * MINUTE_MS;
const CACHE_MAX = 200_000;

/** A named time zone. */
export class TimeZone {
  private readonly fmt: Intl.DateTimeFormat;
  private readonly cache = new Map<number, number>();

  /** Throws RangeError naming the zone when the runtime does not know it. */
  constructor(readonly name: string) {
    try {
      this.fmt = new Intl.DateTimeFormat('en-US', {
        timeZone: name,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new RangeError(`unknown time zone ${JSON.stringify(name)} (an IANA name such as Asia/Shanghai)`);
    }
  }

  /** Local time minus UTC at the instant `utcMs`, ms (Asia/Shanghai: 28 800 000). */
  offsetMs(utcMs: number): number {
    const slot = Math.floor(utcMs / CACHE_SLOT_MS);
    const hit = this.cache.get(slot);
    if (hit !== undefined) return hit;
    const at = slot * CACHE_SLOT_MS;
    const p: Record<string, number> = {};
    for (const part of this.fmt.formatToParts(at)) if (part.type !== 'literal') p[part.type] = Number(part.value);
    const local = Date.UTC(p['year']!, p['month']! - 1, p['day']!, p['hour']!, p['minute']!, p['second']!);
    const offset = local - at;
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(slot, offset);
    return offset;
  }

  /**
   * The instant a local wall-clock time names (fields as Date.UTC takes them). In a gap (clocks put forward)
   * the time is read with the offset before the change; in an overlap the earlier instant is taken.
   */
  toUtc(year: number, month0: number, day: number, hour: number, minute: number, second: number, ms = 0): number {
    const wall = Date.UTC(year, month0, day, hour, minute, second, ms);
    const first = wall - this.offsetMs(wall - this.offsetMs(wall));
    const earlier = wall - this.offsetMs(first - 3 * 3_600_000);
    return this.offsetMs(earlier) === wall - earlier ? Math.min(first, earlier) : first;
  }

  /** `YYYY-MM-DD HH:MM:SS` local time. */
  format(utcMs: number): string {
    return new Date(utcMs + this.offsetMs(utcMs)).toISOString().slice(0, 19).replace('T', ' ');
  }

  /** ISO 8601 local time with its offset, `YYYY-MM-DDTHH:MM:SS+08:00`. */
  iso(utcMs: number): string {
    const off = this.offsetMs(utcMs);
    const sign = off < 0 ? '-' : '+';
    const abs = Math.abs(off) / MINUTE_MS;
    const hh = String(Math.floor(abs / 60)).padStart(2, '0');
    const mm = String(abs % 60).padStart(2, '0');
    return `${new Date(utcMs + off).toISOString().slice(0, 19)}${sign}${hh}:${mm}`;
  }

  /** The instant the local day holding `utcMs` starts (local midnight). */
  dayStart(utcMs: number): number {
    const local = new Date(utcMs + this.offsetMs(utcMs));
    return this.toUtc(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate(), 0, 0, 0);
  }

  /** The instant the next local day after the one holding `utcMs` starts. */
  nextDayStart(utcMs: number): number {
    const local = new Date(utcMs + this.offsetMs(utcMs));
    return this.toUtc(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + 1, 0, 0, 0);
  }

  /**
   * The zone's offset (ms) when it is the same at every instant of [fromMs, untilMs] (sampled every 15 days, where
   * daylight saving time would show) and a whole number of hours, so that local days are whole hours; else null.
   * Asia/Shanghai: 28 800 000.
   */
  fixedOffsetMs(fromMs: number, untilMs: number): number | null {
    const first = this.offsetMs(fromMs);
    if (first % 3_600_000 !== 0) return null;
    for (let t = fromMs; t <= untilMs; t += 15 * 86_400_000) if (this.offsetMs(t) !== first) return null;
    return this.offsetMs(untilMs) === first ? first : null;
  }
}
