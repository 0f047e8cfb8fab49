// Day types for forecasting, pure: which past days look like a given day (same working/rest type, same type
// of the day before, same weekday) by the WorkingCalendar, so holidays and make-up days (调休) are handled.
import type { CalendarSpec } from './calendar.js';
import { WorkingCalendar } from './calendar.js';
import { DAY_MS } from './traffic.js';

/** A local day's type: working or not, the day before working or not, and its weekday (0 = Sunday). */
export interface DayType {
  working: boolean;
  prevWorking: boolean;
  weekday: number;
}

/**
 * Local day numbers (floor((ms + utcOffset) / day)) and their types, cached: a forecast asks for the same
 * few dozen days many times.
 */
export class DayTypes {
  readonly offsetMs: number;
  private readonly cal: WorkingCalendar;
  private readonly cache = new Map<number, DayType>();

  constructor(spec: CalendarSpec) {
    this.cal = new WorkingCalendar(spec);
    this.offsetMs = spec.utcOffsetMinutes * 60_000;
  }

  /** Local day number of an instant. */
  dayOf(ms: number): number {
    return Math.floor((ms + this.offsetMs) / DAY_MS);
  }

  /** The instant local day `dayNo` starts. */
  startOfDay(dayNo: number): number {
    return dayNo * DAY_MS - this.offsetMs;
  }

  typeOf(dayNo: number): DayType {
    let t = this.cache.get(dayNo);
    if (t === undefined) {
      const date = new Date(dayNo * DAY_MS).toISOString().slice(0, 10);
      const prev = new Date((dayNo - 1) * DAY_MS).toISOString().slice(0, 10);
      t = {
        working: this.cal.isWorkingDay(date),
        prevWorking: this.cal.isWorkingDay(prev),
        weekday: new Date(dayNo * DAY_MS).getUTCDay(),
      };
      this.cache.set(dayNo, t);
    }
    return t;
  }
}

/**
 * How closely a past day matches a target day, 0 = not at all: 3 same working type, same type of the day
 * before and same weekday; 2 the same types on another weekday; 1 the same working type only. A forecast
 * uses the days of the best level that has enough of them (ForecastOptions.minGroupDays).
 */
export function matchLevel(target: DayType, past: DayType): number {
  if (target.working !== past.working) return 0;
  if (target.prevWorking !== past.prevWorking) return 1;
  return target.weekday === past.weekday ? 3 : 2;
}

/** A stable key of a day type, for caching profiles. */
export function dayTypeKey(t: DayType): string {
  return `${t.working ? 'W' : 'R'}${t.prevWorking ? 'W' : 'R'}${t.weekday}`;
}
