import { DateTime } from 'luxon';
import { Dec, sum } from './money.ts';

// What a unit owes from earlier statements, and the late fee on it (handbook 第三节:
// the notice shows the payment deadline and the late fee 滞纳金).
//
// Payments are the unit's, not a statement's: each is applied to the oldest unpaid
// statement first, and within a statement to its late fee before its charges. The
// late fee accrues per day on overdue charges (never on earlier late fees) from
// the day after the due date.

export interface LedgerEntry {
  period: string;
  company: string;
  /** The statement's current charges, late fee included. */
  charges: Dec;
  lateFee: Dec;
  /** Local date, YYYY-MM-DD. */
  dueDate: string;
}

export interface LedgerPayment {
  /** Local date the money arrived, YYYY-MM-DD. */
  date: string;
  amount: Dec;
}

export interface Unpaid {
  entry: LedgerEntry;
  unpaid: Dec;
}

/** Each entry's unpaid part after the payments made on or before `date` (oldest statement first). */
export function unpaidOn(entries: readonly LedgerEntry[], payments: readonly LedgerPayment[], date: string): Unpaid[] {
  let credit = sum(payments.filter((p) => p.date <= date).map((p) => p.amount));
  return [...entries]
    .sort((a, b) => a.dueDate.localeCompare(b.dueDate) || a.period.localeCompare(b.period))
    .map((entry) => {
      const paid = Dec.min(credit, entry.charges);
      credit = credit.minus(paid);
      return { entry, unpaid: entry.charges.minus(paid) };
    });
}

/** Credit left over after every entry is paid: an overpayment carried forward. */
export function creditOn(entries: readonly LedgerEntry[], payments: readonly LedgerPayment[], date: string): Dec {
  const paid = sum(payments.filter((p) => p.date <= date).map((p) => p.amount));
  return Dec.max(0, paid.minus(sum(entries.map((e) => e.charges))));
}

/**
 * The late fee for the local days after `fromDate` up to and including `toDate`:
 * each day, rate × the charges (not late fees) of statements due before that day
 * and still unpaid at its end. Exact; the caller rounds the line once.
 */
export function lateFee(entries: readonly LedgerEntry[], payments: readonly LedgerPayment[], fromDate: string, toDate: string, ratePerDay: string): { amount: Dec; days: number } {
  let amount = new Dec(0);
  let days = 0;
  for (let d = nextDate(fromDate); d <= toDate; d = nextDate(d)) {
    const overdue = sum(
      unpaidOn(entries, payments, d)
        .filter((u) => u.entry.dueDate < d)
        .map((u) => Dec.min(u.unpaid, u.entry.charges.minus(u.entry.lateFee))),
    );
    if (overdue.gt(0)) (amount = amount.plus(overdue.times(ratePerDay))), days++;
  }
  return { amount, days };
}

function nextDate(date: string): string {
  return DateTime.fromISO(date, { zone: 'UTC' }).plus({ days: 1 }).toISODate()!;
}
