import { Decimal } from 'decimal.js';

// Money is exact (CONVENTIONS.md habit 7). One private decimal.js constructor so
// no global setting can change how bohub rounds.
//
// The rounding rule, the only one: every charge line (use × price, the pro-rated
// management fee, the late fee) is computed exactly and then rounded once to the
// cent, half up (0.005 → 0.01, as a cashier rounds). Totals are sums of rounded
// lines, so a notice always adds up. Use quantities are never rounded.

export const Dec = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });
export type Dec = InstanceType<typeof Dec>;

/** Rounds an exact amount to the cent by the rule above. */
export function toCents(amount: Dec): Dec {
  return amount.toDecimalPlaces(2, Dec.ROUND_HALF_UP);
}

/** An amount as written on statements and in CSV: always two decimals, e.g. "1234.50". */
export function formatMoney(amount: Dec): string {
  return toCents(amount).toFixed(2);
}

/** Sums amounts exactly. */
export function sum(values: readonly Dec[]): Dec {
  return values.reduce((a, b) => a.plus(b), new Dec(0));
}
