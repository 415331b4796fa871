import type { LoadedConfig } from '../config/load.ts';
import type { MeterConfig } from '../config/schema.ts';
import type { PointValue } from '../events.ts';
import { Dec } from './money.ts';
import type { NewRead, ReadKind, ReadSource } from './types.ts';

// Each meter's billing register, from its device profile, and how a decoded value
// of it becomes a billing read.

export interface BillingRegister {
  meter: MeterConfig;
  /** The profile point finance bills from (kWh or m³). */
  point: string;
  /** Decimal places the meter itself shows (from the profile's rolloverAt, e.g. 999999.99 → 2). */
  decimals: number;
}

export function billingRegisters(config: LoadedConfig): Map<string, BillingRegister> {
  return new Map(
    config.building.modbus.meters.map((meter) => {
      const billing = config.profiles.get(meter.profile)!.billing;
      return [meter.id, { meter, point: billing.point, decimals: new Dec(String(billing.rolloverAt)).decimalPlaces() }];
    }),
  );
}

/**
 * A billing read from a decoded register value. Registers decode to binary floats
 * (float32, or a scaled integer: 12345 × 0.001 is 12.345000000000001), while the
 * meter shows `decimals` places; that shown value is the read.
 */
export function readFromValue(reg: BillingRegister, v: PointValue, source: ReadSource, kind: ReadKind = 'actual', readAt = v.sourceTime): NewRead {
  const value = new Dec(v.value!).toDecimalPlaces(reg.decimals, Dec.ROUND_HALF_UP).toFixed(reg.decimals);
  return { meterId: reg.meter.id, serial: reg.meter.serial, readAt, value, multiplier: String(reg.meter.ctRatio), kind, source, quality: 'good' };
}
