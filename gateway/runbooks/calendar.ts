import { DateTime } from 'luxon';
import type { CalendarConfig } from '../config/schema.ts';
import type { TimeVariant } from './types.ts';

// The working calendar (handbook 第一节 一、值班制度), judged in the building's time
// zone. "Working time" in the emergency procedures is office-shift hours on a working
// day; nights, weekends and public holidays are non-working time. A working day is a
// configured weekday that is not a holiday, or a weekend day worked in exchange (调休).

export type Shift = 'office' | 'early' | 'late' | 'night' | 'any';

export class WorkingCalendar {
  private readonly holidays: Map<string, string>;
  private readonly extra: Set<string>;

  constructor(
    private readonly calendar: CalendarConfig,
    readonly timeZone: string,
  ) {
    this.holidays = new Map(calendar.holidays.map((h) => [h.date, h.name]));
    this.extra = new Set(calendar.extraWorkingDays);
  }

  isWorkingDay(at: number): boolean {
    const day = this.local(at);
    const date = day.toISODate()!;
    if (this.extra.has(date)) return true;
    return !this.holidays.has(date) && this.calendar.workingDays.includes(day.weekday);
  }

  /** Office-shift hours (08:30-12:00 and 13:00-17:30 in the handbook) on a working day. */
  isWorkingTime(at: number): boolean {
    return this.isWorkingDay(at) && this.calendar.shifts.office.some((s) => this.within(at, s));
  }

  variantAt(at: number): TimeVariant {
    return this.isWorkingTime(at) ? 'working' : 'non-working';
  }

  /** Whether someone on this shift is on duty at `at` (the roster's `shift`). */
  onShift(shift: Shift, at: number): boolean {
    if (shift === 'any') return true;
    if (shift === 'office') return this.isWorkingTime(at);
    const { early, late } = this.calendar.shifts;
    if (shift === 'night') return !this.isWorkingDay(at) || !this.within(at, { start: early.start, end: late.end });
    return this.isWorkingDay(at) && this.within(at, shift === 'early' ? early : late);
  }

  /**
   * "Within N working days" (第九节 六.4): the end of the last office shift on the
   * Nth working day after the local day of `from`.
   */
  addWorkingDays(from: number, days: number): number {
    let day = this.local(from).startOf('day');
    for (let counted = 0; counted < days; ) {
      day = day.plus({ days: 1 });
      if (this.isWorkingDay(day.plus({ hours: 12 }).toMillis())) counted++;
    }
    const end = this.calendar.shifts.office.map((s) => s.end).sort().at(-1)!;
    const [h, m] = end.split(':').map(Number);
    return day.set({ hour: h, minute: m }).toMillis();
  }

  /** The first day of each run of consecutive holiday dates with this name, as local midnight ms. */
  holidayStarts(name: string): Array<{ date: string; at: number }> {
    const dates = this.calendar.holidays.filter((h) => h.name === name).map((h) => h.date).sort();
    return dates
      .filter((d) => !dates.includes(DateTime.fromISO(d, { zone: this.timeZone }).minus({ days: 1 }).toISODate()!))
      .map((date) => ({ date, at: DateTime.fromISO(date, { zone: this.timeZone }).toMillis() }));
  }

  /** The local time, for messages. */
  format(at: number): string {
    return this.local(at).toFormat('yyyy-MM-dd HH:mm');
  }

  private local(at: number): DateTime {
    return DateTime.fromMillis(at, { zone: this.timeZone });
  }

  private within(at: number, shift: { start: string; end: string }): boolean {
    const hm = this.local(at).toFormat('HH:mm');
    return hm >= shift.start && hm < shift.end;
  }
}
