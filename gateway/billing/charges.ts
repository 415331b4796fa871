import type { TariffsConfig } from '../config/schema.ts';
import { Dec, formatMoney, toCents } from './money.ts';
import type { Bilingual, StatementLine } from './types.ts';

// Charge lines from the tariffs in the building file. Each line is exact until it
// is rounded once to the cent (money.ts); quantities are never rounded.

/** The electricity lines: one at the flat price, or one per tier the use reaches. */
export function electricityLines(useKWh: Dec, tariffs: TariffsConfig): StatementLine[] {
  if (tariffs.electricityTiers.length === 0) return [line('electricity', useKWh, tariffs.electricityPerKWh, FLAT)];
  const lines: StatementLine[] = [];
  let lower = new Dec(0);
  for (const tier of tariffs.electricityTiers) {
    const upper = tier.uptoKWh === undefined ? undefined : new Dec(tier.uptoKWh);
    const inTier = Dec.max(0, Dec.min(useKWh, upper ?? useKWh).minus(lower));
    if (inTier.gt(0) || lines.length === 0) lines.push(line('electricity', inTier, tier.pricePerKWh, { en: `tier ${lower.toString()}–${upper?.toString() ?? '∞'} kWh`, zh: `阶梯 ${lower.toString()}–${upper?.toString() ?? '∞'} kWh` }));
    if (!upper || useKWh.lte(upper)) break;
    lower = upper;
  }
  return lines;
}

export function waterLine(useM3: Dec, tariffs: TariffsConfig): StatementLine {
  return line('water', useM3, tariffs.waterPerM3, FLAT);
}

/** The management fee for the days of the month the tenant held the unit (pro-rated by days, handbook 第三节). */
export function managementFeeLine(areaM2: number, days: number, daysInMonth: number, tariffs: TariffsConfig): StatementLine {
  const area = new Dec(String(areaM2));
  const amount = area.times(tariffs.managementFeePerM2Month).times(days).div(daysInMonth);
  return { code: 'management_fee', quantity: area.toString(), unitPrice: tariffs.managementFeePerM2Month, amount: formatMoney(amount), basis: days === daysInMonth ? { en: 'full month', zh: '整月' } : { en: `${days}/${daysInMonth} days`, zh: `${days}/${daysInMonth} 天` } };
}

export function lateFeeLine(amount: Dec, basis: Bilingual, tariffs: TariffsConfig): StatementLine {
  return { code: 'late_fee', quantity: '1', unitPrice: tariffs.lateFeePerDay, amount: formatMoney(amount), basis };
}

const FLAT: Bilingual = { en: 'flat price', zh: '单一价格' };

function line(code: 'electricity' | 'water', quantity: Dec, price: string, basis: Bilingual): StatementLine {
  return { code, quantity: quantity.toString(), unitPrice: price, amount: toCents(quantity.times(price)).toFixed(2), basis };
}
