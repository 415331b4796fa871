import { DateTime } from 'luxon';

// The billing calendar of handbook 第三节 (费用收缴): meters are read by the 25th
// (the reading day closes period YYYY-MM), the notices go out by the 1st of the
// next month, payment is due by the 5th, unpaid units are phoned on the 18th and
// get a dunning letter on the 23rd. Dates are local dates in the BUILDING's zone
// (gateway/billing/calendar.ts judges them the same way), never the browser's.
//
// The hub's config may move these days (building.billing.*Day); the API does not
// send them, so the page shows the handbook's days (see the helper's report).

export type DeadlineKey = 'reads' | 'notices' | 'payment' | 'reminders' | 'letters';

export interface Deadline {
  key: DeadlineKey;
  /** The billing period it belongs to, YYYY-MM. */
  period: string;
  /** Local date, YYYY-MM-DD. */
  date: string;
}

/** 第三节: reading day 25 of the period's month; the rest in the month after. */
const HANDBOOK_DAYS: ReadonlyArray<{ key: DeadlineKey; nextMonth: boolean; day: number }> = [
  { key: 'reads', nextMonth: false, day: 25 },
  { key: 'notices', nextMonth: true, day: 1 },
  { key: 'payment', nextMonth: true, day: 5 },
  { key: 'reminders', nextMonth: true, day: 18 },
  { key: 'letters', nextMonth: true, day: 23 },
];

export const PERIOD_RE = /^\d{4}-(0[1-9]|1[0-2])$/;

/** The period `months` after (or before) `period`. */
export function shiftPeriod(period: string, months: number): string {
  return DateTime.fromISO(`${period}-01`, { zone: 'UTC' }).plus({ months }).toFormat('yyyy-MM');
}

/** The five deadlines of one period, in calendar order. */
export function deadlinesOf(period: string): Deadline[] {
  return HANDBOOK_DAYS.map(({ key, nextMonth, day }) => {
    const month = nextMonth ? shiftPeriod(period, 1) : period;
    return { key, period, date: `${month}-${String(day).padStart(2, '0')}` };
  });
}

/** Today's local date in the building's zone. */
export function localToday(now: number, zone: string): string {
  return DateTime.fromMillis(now, { zone }).toISODate()!;
}

/** The first deadline on or after `today` (a deadline is still to meet on its own day). */
export function nextDeadline(today: string): Deadline {
  const month = today.slice(0, 7);
  const all = [-1, 0, 1].flatMap((m) => deadlinesOf(shiftPeriod(month, m)));
  return all.filter((d) => d.date >= today).sort((a, b) => a.date.localeCompare(b.date))[0]!;
}

/** The period whose reads closed most recently: this month's from the 25th on, else last month's. */
export function lastClosedPeriod(today: string): string {
  const month = today.slice(0, 7);
  return Number(today.slice(8, 10)) >= 25 ? month : shiftPeriod(month, -1);
}

/** Whole days from today to a local date (negative when past). */
export function daysUntil(today: string, date: string): number {
  return Math.round(DateTime.fromISO(date, { zone: 'UTC' }).diff(DateTime.fromISO(today, { zone: 'UTC' }), 'days').days);
}
