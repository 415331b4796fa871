import { DateTime } from 'luxon';
import { ManualClock } from '../../gateway/clock.ts';
import { loadConfig, type LoadedConfig } from '../../gateway/config/load.ts';
import { BillingRepository } from '../../gateway/billing/repository.ts';
import { rateLimits } from '../../gateway/billing/service.ts';
import type { NewRead, ReadKind } from '../../gateway/billing/types.ts';
import { SqliteRecordStore } from '../../gateway/storage/records.ts';
import { smallBuilding, tempDir, writeConfig, type RawConfig } from './config.ts';

// A billing bench for tests: the demo building cut to a few units, a fresh records
// store, and short ways to write reads at local times in the building's zone.

export interface BillingRig {
  config: LoadedConfig;
  records: SqliteRecordStore;
  repo: BillingRepository;
  clock: ManualClock;
  zone: string;
  /** ms since epoch of a local time in the building's zone, e.g. at('2026-11-25T00:00'). */
  at(local: string): number;
  /** Stores reads of one meter: [local time, value] pairs. */
  reads(meterId: string, points: Array<[string, string]>, extra?: Partial<NewRead>): void;
  close(): void;
}

/**
 * `plainRule` false stores every read as notable, so validation sees every read:
 * the slow path, which must give the same results as the fast one.
 */
export function billingRig(mutate: (raw: RawConfig) => void = () => {}, units = 4, plainRule = true): BillingRig {
  const file = writeConfig((raw) => {
    smallBuilding(raw, units);
    raw.storage.dataDir = tempDir('bohub-billing-');
    mutate(raw);
  });
  const config = loadConfig(file);
  const clock = new ManualClock(Date.UTC(2026, 11, 1));
  const records = SqliteRecordStore.open(config.building.storage.dataDir, clock);
  const repo = new BillingRepository(records, clock, plainRule ? rateLimits(config) : new Map());
  const zone = config.building.site.timezone;
  const at = (local: string) => DateTime.fromISO(local, { zone }).toMillis();
  const meterOf = (id: string) => config.building.modbus.meters.find((m) => m.id === id)!;
  return {
    config, records, repo, clock, zone, at,
    reads(meterId, points, extra = {}) {
      const meter = meterOf(meterId);
      const rows = points.map(([time, value]): NewRead => ({
        meterId, serial: meter.serial, readAt: at(time), value, multiplier: String(meter.ctRatio), kind: 'actual' as ReadKind, source: 'import', quality: 'good', ...extra,
      }));
      repo.insertReads(rows, 'test');
    },
    close: () => records.close(),
  };
}

/** Daily local-midnight times from `from` (YYYY-MM-DD) for `days` days, with values rising by `perDay`. */
export function daily(from: string, days: number, start: number, perDay: number, decimals = 2): Array<[string, string]> {
  const first = DateTime.fromISO(from);
  return Array.from({ length: days }, (_, i) => [first.plus({ days: i }).toISODate() + 'T00:00', (start + perDay * i).toFixed(decimals)]);
}

/** A plain month for the first four units: 500.50 kWh and 12.5 m³ each, read at local midnight of the 25th. */
export function plainMonth(rig: BillingRig): void {
  for (const unit of ['A-0101', 'A-0102', 'A-0103', 'A-0104']) {
    rig.reads(`${unit}-E`, [['2026-10-25T00:00', '1000.00'], ['2026-11-25T00:00', '1500.50']]);
    rig.reads(`${unit}-W`, [['2026-10-25T00:00', '10.000'], ['2026-11-25T00:00', '22.500']]);
  }
}
