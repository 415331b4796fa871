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

  /**
   * Each run of consecutive holiday dates with this name: its first day, local
   * midnight when it begins, and local midnight after its last day.
   */
  holidayRuns(name: string): Array<{ date: string; at: number; endAt: number }> {
    const dates = new Set(this.calendar.holidays.filter((h) => h.name === name).map((h) => h.date));
    const day = (d: string) => DateTime.fromISO(d, { zone: this.timeZone });
    return [...dates].sort()
      .filter((d) => !dates.has(day(d).minus({ days: 1 }).toISODate()!))
      .map((date) => {
        let last = day(date);
        while (dates.has(last.plus({ days: 1 }).toISODate()!)) last = last.plus({ days: 1 });
        return { date, at: day(date).toMillis(), endAt: last.plus({ days: 1 }).toMillis() };
      });
  }

  /** Local midnight `days` days before `at` (DST-safe, unlike subtracting 24 h). */
  daysBefore(at: number, days: number): number {
    return this.local(at).minus({ days }).toMillis();
  }

  /** The next local midnight after `at`. */
  nextMidnight(at: number): number {
    return this.local(at).startOf('day').plus({ days: 1 }).toMillis();
  }

  /** The next moment working time begins or ends (an office shift's start or end on a working day). */
  nextChange(at: number): number | undefined {
    const shifts = this.calendar.shifts.office.flatMap((s) => [s.start, s.end]);
    for (let d = 0, day = this.local(at).startOf('day'); d < 60; d++, day = day.plus({ days: 1 })) {
      if (!this.isWorkingDay(day.plus({ hours: 12 }).toMillis())) continue;
      const times = shifts.map((hm) => day.set({ hour: Number(hm.slice(0, 2)), minute: Number(hm.slice(3)) }).toMillis()).filter((t) => t > at).sort((a, b) => a - b);
      // Back-to-back shifts (12:00-12:00) do not change anything; the first real change wins.
      for (const t of times) if (this.isWorkingTime(t) !== this.isWorkingTime(at)) return t;
    }
    return undefined;
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
