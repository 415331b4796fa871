import { DateTime } from 'luxon';
import type { BillingConfig } from '../config/schema.ts';

// The billing calendar (handbook 第三节), judged in the building's time zone and
// never in UTC (home-assistant/core #82784 cut monthly cycles on UTC).
//
// Period "2026-11":
//   meter reads     from local midnight of 2026-10-25 to local midnight of 2026-11-25 (readingDay)
//   management fee  the calendar month 2026-11
//   notice          by 2026-12-01, due 2026-12-05, phone reminder 2026-12-18,
//                   dunning letter 2026-12-23, suspension list 2026-12-31

export interface BillingPeriod {
  /** "YYYY-MM". */
  id: string;
  /** Local midnight of the previous month's reading day, ms since epoch. */
  opensAt: number;
  /** Local midnight of this month's reading day, ms since epoch. */
  closesAt: number;
  /** The calendar month whose management fee the statement charges: [start, end). */
  feeMonth: { start: number; end: number; days: number };
  /** Local dates, YYYY-MM-DD. */
  noticeDate: string;
  dueDate: string;
  reminderDate: string;
  dunningDate: string;
  suspensionDate: string;
  timeZone: string;
}

const PERIOD = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function isPeriodId(text: string): boolean {
  return PERIOD.test(text);
}

export function billingPeriod(id: string, billing: BillingConfig, timeZone: string): BillingPeriod {
  if (!PERIOD.test(id)) throw new RangeError(`"${id}" is not a billing period; write YYYY-MM, e.g. 2026-11`);
  const month = DateTime.fromISO(`${id}-01`, { zone: timeZone });
  const next = month.plus({ months: 1 });
  const local = (d: DateTime, day: number) => d.set({ day }).toISODate()!;
  return {
    id,
    opensAt: month.minus({ months: 1 }).set({ day: billing.readingDay }).toMillis(),
    closesAt: month.set({ day: billing.readingDay }).toMillis(),
    feeMonth: { start: month.toMillis(), end: next.toMillis(), days: month.daysInMonth! },
    noticeDate: local(next, billing.noticeDay),
    dueDate: local(next, billing.paymentDueDay),
    reminderDate: local(next, billing.reminderDay),
    dunningDate: local(next, billing.dunningDay),
    suspensionDate: next.endOf('month').toISODate()!,
    timeZone,
  };
}

/** The period before, e.g. "2026-01" → "2025-12". */
export function previousPeriodId(id: string): string {
  return DateTime.fromISO(`${id}-01`, { zone: 'UTC' }).minus({ months: 1 }).toFormat('yyyy-MM');
}

/** The period whose reads close at or after `at`: the one a reading taken at `at` belongs to. */
export function periodContaining(at: number, billing: BillingConfig, timeZone: string): string {
  const t = DateTime.fromMillis(at, { zone: timeZone });
  const closes = t.set({ day: billing.readingDay }).startOf('day');
  return (t < closes ? t : t.plus({ months: 1 })).toFormat('yyyy-MM');
}

/** Local midnight at the start of a local date (YYYY-MM-DD) in the zone, ms since epoch. */
export function startOfLocalDate(date: string, timeZone: string): number {
  return DateTime.fromISO(date, { zone: timeZone }).startOf('day').toMillis();
}

/** The local date (YYYY-MM-DD) of an instant in the zone. */
export function localDate(at: number, timeZone: string): string {
  return DateTime.fromMillis(at, { zone: timeZone }).toISODate()!;
}

/** Whole local days from a to b (dates YYYY-MM-DD); correct across daylight-saving changes. */
export function daysBetween(a: string, b: string): number {
  return Math.round(DateTime.fromISO(b, { zone: 'UTC' }).diff(DateTime.fromISO(a, { zone: 'UTC' }), 'days').days);
}
