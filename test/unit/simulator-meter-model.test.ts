import { describe, expect, it } from 'vitest';
import { loadProfiles } from '../../gateway/config/load.ts';
import type { MeterConfig } from '../../gateway/config/schema.ts';
import { localTime } from '../../simulators/modbus/load-curve.ts';
import { MeterModel, type SiteCalendar } from '../../simulators/modbus/meter-model.ts';

// The meter model alone: an office day in Shanghai time, deterministic per meter
// id, billing registers that only rise, values derived from any profile.

const { profiles } = loadProfiles('devices');
const shanghai: SiteCalendar = { timeZone: 'Asia/Shanghai', workingDays: [1, 2, 3, 4, 5], holidays: ['2026-05-01'], extraWorkingDays: ['2026-05-09'] };
const HOUR = 3_600_000;
/** Wednesday 2026-03-04 00:00 in Shanghai (UTC+8). */
const WEDNESDAY = Date.UTC(2026, 2, 3, 16);
const SATURDAY = WEDNESDAY + 3 * 24 * HOUR;

function model(id: string, profile = 'chint-ddsu666', startAt = WEDNESDAY - 30 * 24 * HOUR): MeterModel {
  const p = profiles.get(profile)!;
  const meter: MeterConfig = { id, unit: 'U', kind: p.kind, bus: 'B', unitId: 1, profile, serial: 'S', ctRatio: 1 };
  return new MeterModel(meter, p, shanghai, startAt);
}

/** Mean load over the local hours [from, to) of the day starting at `day`. */
function meanLoad(m: MeterModel, day: number, from: number, to: number): number {
  let sum = 0;
  for (let h = from; h < to; h++) sum += m.load(day + h * HOUR + HOUR / 2);
  return sum / (to - from);
}

describe('the simulated meter model', () => {
  it('reads hours in the site time zone: 02:00 UTC on a Wednesday is 10:00 Wednesday in Shanghai', () => {
    expect(localTime(Date.UTC(2026, 2, 4, 2), 'Asia/Shanghai')).toEqual({ date: '2026-03-04', weekday: 3, hour: 10 });
  });

  it('draws less at night than in office hours', () => {
    for (const id of ['A-0101-E', 'B-1203-E', 'C-0707-E']) {
      const m = model(id);
      expect(meanLoad(m, WEDNESDAY, 0, 5), id).toBeLessThan(0.3 * meanLoad(m, WEDNESDAY, 9, 17));
    }
  });

  it('draws less on a weekend than on a weekday, and treats holidays and 调休 days accordingly', () => {
    const m = model('A-0101-E');
    expect(meanLoad(m, SATURDAY, 9, 17)).toBeLessThan(0.4 * meanLoad(m, WEDNESDAY, 9, 17));
    const mayDay = Date.UTC(2026, 3, 30, 16); // Friday 2026-05-01, a holiday
    const swapSaturday = Date.UTC(2026, 4, 8, 16); // Saturday 2026-05-09, worked instead
    expect(meanLoad(m, mayDay, 9, 17)).toBeLessThan(0.4 * meanLoad(m, swapSaturday, 9, 17));
  });

  it('uses water mostly around lunch on working days and hardly at night', () => {
    const m = model('A-0101-W', 'generic-water-rs485');
    expect(meanLoad(m, WEDNESDAY, 12, 13)).toBeGreaterThan(meanLoad(m, WEDNESDAY, 15, 16));
    expect(meanLoad(m, WEDNESDAY, 1, 4)).toBeLessThan(0.05 * m.peak);
  });

  it('is deterministic per meter id, and differs between meters', () => {
    const at = WEDNESDAY + 10.5 * HOUR;
    const point = profiles.get('chint-ddsu666')!.points.find((p) => p.id === 'energy_import')!;
    expect(model('A-0101-E').value(point, at)).toBe(model('A-0101-E').value(point, at));
    expect(model('A-0101-E').value(point, at)).not.toBe(model('A-0102-E').value(point, at));
  });

  it('accumulates the billing register: never falling, and rising by the integral of the load', () => {
    const m = model('A-0101-E', 'chint-ddsu666', WEDNESDAY);
    let last = m.billing(WEDNESDAY);
    let integral = 0;
    for (let t = WEDNESDAY + HOUR / 4; t <= WEDNESDAY + 7 * 24 * HOUR; t += HOUR / 4) {
      const now = m.billing(t);
      expect(now).toBeGreaterThanOrEqual(last);
      integral += m.load(t - 1) / 4; // load is constant within each hour
      last = now;
    }
    expect(last - m.billing(WEDNESDAY)).toBeCloseTo(integral, 6);
    // A week of an office unit: some tens to some hundreds of kWh.
    expect(integral).toBeGreaterThan(20);
  });

  it('gives the same reading when asked out of order (the running sum is only a cache)', () => {
    const a = model('A-0101-E');
    const b = model('A-0101-E');
    const late = WEDNESDAY + 40 * HOUR + 123_456;
    a.billing(late);
    expect(a.billing(WEDNESDAY + 5 * HOUR)).toBe(b.billing(WEDNESDAY + 5 * HOUR));
  });

  it('rolls the billing register over at the profile rolloverAt', () => {
    const m = model('A-0101-E', 'chint-ddsu666', WEDNESDAY);
    m.setBilling(WEDNESDAY + 10 * HOUR, 999_999.99 - 0.5);
    expect(m.billing(WEDNESDAY + 10 * HOUR)).toBeCloseTo(999_999.49, 6);
    expect(m.billing(WEDNESDAY + 12 * HOUR)).toBeLessThan(20);
  });

  it('derives a three-phase meter from its profile: phases sum to the total, line voltage is √3 phase voltage', () => {
    const m = model('B-0501-E', 'eastron-sdm630');
    const p = (id: string) => m.value(profiles.get('eastron-sdm630')!.points.find((x) => x.id === id)!, WEDNESDAY + 10 * HOUR);
    expect(p('active_power_a') + p('active_power_b') + p('active_power_c')).toBeCloseTo(p('active_power'), 6);
    expect(p('active_power')).toBeGreaterThan(500); // in W, the SDM630's unit
    expect(p('voltage_ab') / p('voltage_a')).toBeCloseTo(Math.sqrt(3), 6);
    expect(p('energy_export')).toBe(0);
  });
});
