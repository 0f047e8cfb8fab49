// The working-day calendar (工作日) of answer deadlines, pure: weekends and public holidays are not working
// days, make-up days (调休) are; dates are local dates at a fixed UTC offset (China has no daylight saving).
// Time is an argument.

export interface CalendarSpec {
  /** Public holidays, YYYY-MM-DD. */
  holidays: readonly string[];
  /** Weekend days that are working days (调休), YYYY-MM-DD. */
  workdays: readonly string[];
  /** Local time's offset from UTC in minutes (480 for China Standard Time). */
  utcOffsetMinutes: number;
}

const DAY_MS = 86_400_000;

export class WorkingCalendar {
  private readonly holidays: ReadonlySet<string>;
  private readonly workdays: ReadonlySet<string>;
  private readonly offsetMs: number;

  constructor(spec: CalendarSpec) {
    this.holidays = new Set(spec.holidays);
    this.workdays = new Set(spec.workdays);
    this.offsetMs = spec.utcOffsetMinutes * 60_000;
  }

  /** Local date (YYYY-MM-DD) of an instant. */
  dateOf(ms: number): string {
    return new Date(ms + this.offsetMs).toISOString().slice(0, 10);
  }

  /** The instant local midnight starts `date`. */
  startOf(date: string): number {
    return Date.parse(`${date}T00:00:00Z`) - this.offsetMs;
  }

  /** A make-up day works even on a weekend; a holiday rests even on a weekday; else Monday to Friday. */
  isWorkingDay(date: string): boolean {
    if (this.workdays.has(date)) return true;
    if (this.holidays.has(date)) return false;
    const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
    return weekday !== 0 && weekday !== 6;
  }

  /**
   * The deadline of something received at `fromMs` and due within `workingDays` working days: the end
   * (next local midnight) of the workingDays-th working day after the day it was received. The day of
   * receipt does not count, as in "within 10 working days of receipt".
   */
  deadline(fromMs: number, workingDays: number): number {
    if (!Number.isInteger(workingDays) || workingDays < 1)
      throw new RangeError('workingDays must be a whole number of at least 1');
    let day = this.startOf(this.dateOf(fromMs));
    let counted = 0;
    while (counted < workingDays) {
      day += DAY_MS;
      if (this.isWorkingDay(this.dateOf(day))) counted++;
    }
    return day + DAY_MS;
  }

  /** Working days from the day after `fromMs` up to and including the day of `toMs` (0 when the same day or earlier). */
  workingDaysBetween(fromMs: number, toMs: number): number {
    let n = 0;
    const last = this.startOf(this.dateOf(toMs));
    for (let day = this.startOf(this.dateOf(fromMs)) + DAY_MS; day <= last; day += DAY_MS)
      if (this.isWorkingDay(this.dateOf(day))) n++;
    return n;
  }
}
