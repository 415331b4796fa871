import type { DeviceProfile, PointSpec } from '../../gateway/config/profile.ts';
import type { MeterConfig } from '../../gateway/config/schema.ts';
import { loadShape, type SiteCalendar } from './load-curve.ts';

// What one simulated meter measures, derived from its device profile alone: the
// model never looks at a vendor or model name, only at each point's unit and id
// (`_a/_b/_c` = one phase, `_ab/_bc/_ca` = line-to-line), so a new profile in
// devices/ is simulated without any TypeScript.
//
// Load follows an office day (load-curve.ts) in the site's time zone, scaled by a
// peak that is drawn once per meter id, with a little noise per hour. The load is
// constant within each simulated hour, so the billing register, the integral of
// the load, is an exact sum and only ever rises (until the profile's rollover).

export type { SiteCalendar } from './load-curve.ts';

const HOUR_MS = 3_600_000;

export class MeterModel {
  /** Peak load: kW for electricity, m³/h for water. */
  readonly peak: number;
  private readonly seed: number;
  private readonly startReading: number;
  private readonly powerFactor: number;
  private readonly nominalVoltage: number;
  /** Share of the total load on phases a, b and c (sums to 1). */
  private readonly phaseShare: [number, number, number];
  private readonly phaseVoltageOffset: [number, number, number];
  private readonly threePhase: boolean;
  /** Added to start + consumption: moved by a rollover or a meter replacement. */
  private billingOffset = 0;
  /** Consumption from `startAt` up to the start of simulated hour `hour`, so long runs are summed once. */
  private cache: { hour: number; sum: number } | undefined;

  constructor(
    readonly meter: MeterConfig,
    readonly profile: DeviceProfile,
    private readonly calendar: SiteCalendar,
    /** The simulated instant (epoch ms) where consumption starts counting. */
    readonly startAt: number,
  ) {
    this.seed = fnv1a(meter.id);
    const random = mulberry32(this.seed);
    const water = profile.kind === 'water';
    this.peak = water ? 0.1 + random() * 0.4 : 1.5 + random() * 6;
    this.startReading = water ? 100 + random() * 2_900 : 1_000 + random() * 19_000;
    this.powerFactor = 0.85 + random() * 0.13;
    this.nominalVoltage = 220 + (random() - 0.5) * 10;
    const raw = [1 + 0.3 * (random() - 0.5), 1 + 0.3 * (random() - 0.5), 1 + 0.3 * (random() - 0.5)];
    const total = raw[0]! + raw[1]! + raw[2]!;
    this.phaseShare = [raw[0]! / total, raw[1]! / total, raw[2]! / total];
    this.phaseVoltageOffset = [(random() - 0.5) * 3, (random() - 0.5) * 3, (random() - 0.5) * 3];
    this.threePhase = profile.points.some((p) => phaseOf(p.id) !== undefined);
  }

  /** The engineering value of a point at simulated instant `at` (epoch ms). */
  value(point: PointSpec, at: number): number {
    if (point.id === this.profile.billing.point) return this.billing(at);
    const phase = phaseOf(point.id);
    const power = phase === undefined ? this.load(at) : this.load(at) * this.phaseShare[phase];
    switch (point.unit) {
      case 'kWh':
      case 'm³':
        // A second cumulative register: export stays at zero (offices do not feed the
        // grid); a "total" register equals import plus that zero export.
        return /export|reverse/.test(point.id) ? 0 : this.billing(at);
      case 'kW':
      case 'm³/h':
        return power;
      case 'W':
        return power * 1000;
      case 'kVA':
      case 'VA':
        return (power / this.powerFactor) * (point.unit === 'VA' ? 1000 : 1);
      case 'kvar':
      case 'var':
        return power * Math.tan(Math.acos(this.powerFactor)) * (point.unit === 'var' ? 1000 : 1);
      case 'A':
        return this.current(phase, at);
      case 'V':
        if (this.profile.kind === 'water') return Math.max(3.0, 3.6 - (0.0001 * (at - this.startAt)) / HOUR_MS); // battery
        if (/_(ab|bc|ca)$/.test(point.id)) return Math.sqrt(3) * this.voltage(0, at);
        return this.voltage(phase ?? 0, at);
      case 'Hz':
        return 50 + 0.02 * Math.sin(at / 97_000 + this.seed);
      case '':
        return this.powerFactor;
      default:
        return 0;
    }
  }

  /** Instantaneous load at `at`: kW or m³/h. */
  load(at: number): number {
    return this.rate(Math.floor(at / HOUR_MS));
  }

  /** The billing register at `at`: start reading + consumption + offset, modulo the profile's rollover. */
  billing(at: number): number {
    const rolloverAt = this.profile.billing.rolloverAt;
    const raw = this.startReading + this.consumption(at) + this.billingOffset;
    return ((raw % rolloverAt) + rolloverAt) % rolloverAt;
  }

  /** Makes the billing register read `reading` at `at` and count on from there (rollover, replacement). */
  setBilling(at: number, reading: number): void {
    this.billingOffset = reading - (this.startReading + this.consumption(at));
  }

  /** Consumption (kWh or m³) from startAt to `at`: the hourly loads summed, the last hour pro rata. */
  consumption(at: number): number {
    if (at <= this.startAt) return 0;
    const startHour = Math.floor(this.startAt / HOUR_MS);
    const hour = Math.floor(at / HOUR_MS);
    if (hour === startHour) return (this.rate(startHour) * (at - this.startAt)) / HOUR_MS;
    if (!this.cache || this.cache.hour > hour) {
      this.cache = { hour: startHour + 1, sum: (this.rate(startHour) * ((startHour + 1) * HOUR_MS - this.startAt)) / HOUR_MS };
    }
    while (this.cache.hour < hour) this.cache.sum += this.rate(this.cache.hour++);
    return this.cache.sum + (this.rate(hour) * (at - hour * HOUR_MS)) / HOUR_MS;
  }

  /** Load during simulated hour `hour` (hours since the epoch): the day's shape times the peak, ±15 % noise. */
  private rate(hour: number): number {
    const noise = 0.85 + 0.3 * mulberry32(this.seed ^ Math.imul(hour, 0x9e3779b1))();
    return this.peak * loadShape(this.profile.kind, hour * HOUR_MS, this.calendar) * noise;
  }

  private voltage(phase: number, at: number): number {
    return this.nominalVoltage + this.phaseVoltageOffset[phase as 0 | 1 | 2] + 2 * Math.sin(at / 211_000 + phase + this.seed);
  }

  /** I = P / (U · PF) per phase; a total current on a three-phase meter is the phases' sum. */
  private current(phase: number | undefined, at: number): number {
    const perPhase = (p: number, share: number) => (this.load(at) * share * 1000) / (this.voltage(p, at) * this.powerFactor);
    if (phase !== undefined) return perPhase(phase, this.phaseShare[phase as 0 | 1 | 2]);
    if (!this.threePhase) return perPhase(0, 1);
    return perPhase(0, this.phaseShare[0]) + perPhase(1, this.phaseShare[1]) + perPhase(2, this.phaseShare[2]);
  }
}

/** 0, 1, 2 for a point id ending in _a, _b, _c (or _l1.._l3); undefined otherwise. */
function phaseOf(pointId: string): 0 | 1 | 2 | undefined {
  const m = /_(a|b|c|l1|l2|l3)$/.exec(pointId);
  if (!m) return undefined;
  return ({ a: 0, l1: 0, b: 1, l2: 1, c: 2, l3: 2 } as const)[m[1] as 'a' | 'b' | 'c' | 'l1' | 'l2' | 'l3'];
}

/** FNV-1a: a stable 32-bit seed from a meter id. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A small seeded PRNG, so the same meter id always simulates the same meter. */
export function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
