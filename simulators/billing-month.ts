// A simulated month of meter reading for the demo: the 15-minute interval reads the
// hub would have stored for one billing period, from the same meter model the Modbus
// simulator serves, with the month's real-life events scripted in: a meter replaced,
// a register rolling over, a glitch zero, a meter gone quiet before the reading day,
// and a tenant change. Then `bohub billing run --period YYYY-MM` bills it.
//
//   npx tsx simulators/billing-month.ts [--config FILE] [--period 2026-11]
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../gateway/clock.ts';
import { loadConfig, type LoadedConfig } from '../gateway/config/load.ts';
import { billingPeriod } from '../gateway/billing/calendar.ts';
import { BillingRepository } from '../gateway/billing/repository.ts';
import { billingRegisters } from '../gateway/billing/registers.ts';
import { rateLimits } from '../gateway/billing/service.ts';
import type { NewRead, ReadKind } from '../gateway/billing/types.ts';
import { Dec } from '../gateway/billing/money.ts';
import { SqliteRecordStore } from '../gateway/storage/records.ts';
import { MeterModel } from './modbus/meter-model.ts';

const QUARTER_HOUR = 900_000;
const DAY = 86_400_000;

export interface MonthStory {
  /** Meter replaced on the 10th at 10:00 (new serial, starts at 0). */
  replaced?: string;
  /** Register set near its maximum at the start, so it rolls over in the month. */
  rollover?: string;
  /** One read of 0.00 on the 12th at 03:00 (a Modbus glitch). */
  glitch?: string;
  /** No reads in the last 3 days before the reading day: the closing read is estimated. */
  quiet?: string;
  /** A unit whose tenant moves out and a new one in on the 15th at 15:00. */
  tenantChange?: string;
}

export interface MonthReport {
  reads: number;
  story: MonthStory;
  /** The register value each meter's model gives at the period's boundaries, for checks. */
  expected: Map<string, { opening: string; closing: string }>;
}

/** Writes the period's interval reads (and the story's events) into the records store. */
export function simulateBillingMonth(config: LoadedConfig, records: SqliteRecordStore, periodId: string, story: MonthStory = defaultStory(config)): MonthReport {
  const { building } = config;
  const period = billingPeriod(periodId, building.billing, building.site.timezone);
  const repo = new BillingRepository(records, systemClock, rateLimits(config));
  const calendar = { timeZone: building.site.timezone, workingDays: building.calendar.workingDays, holidays: building.calendar.holidays.map((h) => h.date), extraWorkingDays: building.calendar.extraWorkingDays };
  const from = period.opensAt - DAY;
  const report: MonthReport = { reads: 0, story, expected: new Map() };
  const replacedAt = period.opensAt + 16 * DAY + 10 * 3_600_000;
  const glitchAt = period.opensAt + 18 * DAY + 3 * 3_600_000;
  const changeAt = period.opensAt + 21 * DAY + 15 * 3_600_000;
  const atChange = new Map<string, string>();
  for (const reg of billingRegisters(config).values()) {
    const model = new MeterModel(reg.meter, config.profiles.get(reg.meter.profile)!, calendar, from - 30 * DAY);
    const id = reg.meter.id;
    if (id === story.rollover) model.setBilling(from, reg.decimals === 2 ? 999_700 : 4_294_000);
    const value = (at: number) => new Dec(model.billing(at)).toDecimalPlaces(reg.decimals, Dec.ROUND_HALF_UP).toFixed(reg.decimals);
    report.expected.set(id, { opening: value(period.opensAt), closing: value(period.closesAt) });
    const reads: NewRead[] = [];
    let serial = reg.meter.serial;
    const read = (at: number, v: string, kind: ReadKind = 'actual') => reads.push({ meterId: id, serial, readAt: at, value: v, multiplier: String(reg.meter.ctRatio), kind, source: 'interval', quality: 'good' });
    const end = id === story.quiet ? period.closesAt - 3 * DAY - QUARTER_HOUR : period.closesAt + DAY;
    for (let at = from; at <= end; at += QUARTER_HOUR) {
      if (id === story.replaced && at === replacedAt) {
        read(at, value(at), 'replacement_final');
        serial = `${reg.meter.serial}-R1`;
        model.setBilling(at, 0);
        read(at, value(at), 'replacement_initial');
        continue;
      }
      read(at, id === story.glitch && at === glitchAt ? (0).toFixed(reg.decimals) : value(at));
      if (at === changeAt) atChange.set(id, value(at));
    }
    report.reads += repo.insertReads(reads, 'simulator').inserted;
  }
  if (story.tenantChange) changeTenant(config, repo, story.tenantChange, changeAt, atChange);
  return report;
}

/** The demo's story, on the first units of tower A. */
export function defaultStory(config: LoadedConfig): MonthStory {
  const units = config.building.towers[0]!.floors.flatMap((f) => f.units.filter((u) => u.tenant).map((u) => u.id));
  const meter = (unit: string | undefined, kind: 'E' | 'W') => (unit ? `${unit}-${kind}` : undefined);
  return { replaced: meter(units[2], 'E'), rollover: meter(units[3], 'E'), glitch: meter(units[4], 'E'), quiet: meter(units[5], 'W'), tenantChange: units[6] };
}

/** The tenant moves out and a new one moves in, with handover reads (handbook 附件8) equal to the interval reads then. */
function changeTenant(config: LoadedConfig, repo: BillingRepository, unitId: string, at: number, values: ReadonlyMap<string, string>): void {
  if (repo.tenancyEvents(unitId).length) return; // already simulated
  const unit = config.building.towers.flatMap((t) => t.floors.flatMap((f) => f.units)).find((u) => u.id === unitId)!;
  const meters = config.building.modbus.meters.filter((m) => m.unit === unitId);
  const handover = (kind: 'move_in' | 'move_out'): NewRead[] =>
    meters.map((m) => ({ meterId: m.id, serial: m.serial, readAt: at, value: values.get(m.id)!, multiplier: String(m.ctRatio), kind, source: 'manual', quality: 'good' }));
  repo.addTenancyEvent({ unitId, kind: 'move_out', at, company: unit.tenant!.company, occupancy: unit.tenant!.occupancy }, handover('move_out'), 'simulator');
  repo.addTenancyEvent({ unitId, kind: 'move_in', at, company: '联合新创科技有限公司', occupancy: 'tenant' }, handover('move_in'), 'simulator');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { config: { type: 'string' }, period: { type: 'string' } } });
  const config = loadConfig(values.config ?? 'config/demo/building.yaml');
  const periodId = values.period ?? '2026-11';
  const records = SqliteRecordStore.open(resolve(config.building.storage.dataDir));
  try {
    const r = simulateBillingMonth(config, records, periodId);
    console.log(`${periodId}: ${r.reads} interval reads written to ${resolve(config.building.storage.dataDir)}/records.db`);
    for (const [what, id] of Object.entries(r.story)) console.log(`  ${what}: ${id}`);
    console.log(`now bill it: npm run bohub -- billing run --period ${periodId}`);
  } finally {
    records.close();
  }
}
