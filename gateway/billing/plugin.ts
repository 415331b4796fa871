import type { Clock, Timer } from '../clock.ts';
import type { LoadedConfig } from '../config/load.ts';
import { describeError } from '../errors.ts';
import type { EventBus, PointValue } from '../events.ts';
import type { LatestValues } from '../latest.ts';
import type { Logger } from '../log.ts';
import { degraded, ok, type ComponentHealth, type Plugin } from '../plugin.ts';
import type { SqliteRecordStore } from '../storage/records.ts';
import { billingPeriod, periodContaining } from './calendar.ts';
import { scheduleDunning } from './dunning-run.ts';
import { IntervalReadQueue } from './interval-reads.ts';
import { billingRegisters, readFromValue, type BillingRegister } from './registers.ts';
import { BillingService } from './service.ts';
import type { NewRead } from './types.ts';
import type { JobTracker } from '../work/jobs.ts';
import type { WorkRunner } from '../work/types.ts';

// The billing plug-in: it keeps an interval read of every billing register in the
// records store (telemetry alone is never billed from), and on the reading day
// (handbook 第三节: reads by the 25th) it snapshots every meter with a fresh read,
// falling back to the latest good read within the tolerance, flagged.

export interface BillingPluginOptions {
  config: LoadedConfig;
  records: SqliteRecordStore;
  events: EventBus;
  clock: Clock;
  log: Logger;
  latest: LatestValues;
  /** A fresh read of one meter (the Modbus driver's readNow). */
  readNow?: (meterId: string) => Promise<PointValue[]>;
  /** The hub's worker pool and job tracker, for runs, documents and exports (issue 15). */
  work?: { runner: WorkRunner; jobs: JobTracker };
}

export interface SnapshotReport {
  boundary: number;
  fresh: number;
  fallback: number;
  failed: Array<{ meterId: string; reason: string }>;
}

const CALENDAR_CHECK_MS = 60_000;

export class BillingPlugin implements Plugin {
  readonly name = 'billing';
  readonly service: BillingService;
  private readonly meters: Map<string, BillingRegister>;
  private readonly lastSlot = new Map<string, number>();
  /** Interval reads waiting to be stored together (issue 15). */
  private readonly intervalReads: IntervalReadQueue;
  private timer?: Timer;
  private snapshotting?: Promise<SnapshotReport>;
  private lastSnapshot?: SnapshotReport;

  constructor(private readonly opts: BillingPluginOptions) {
    this.service = new BillingService(opts.config, opts.records, opts.clock, opts.readNow, opts.work);
    this.meters = billingRegisters(opts.config);
    this.intervalReads = new IntervalReadQueue(this.service.repo, opts.clock, opts.log);
  }

  async start(): Promise<void> {
    this.opts.events.on(this.name, 'meter.values', ({ device, values }) => this.keepIntervalRead(device, values));
    this.timer = this.opts.clock.setInterval(() => void this.checkCalendar(), CALENDAR_CHECK_MS);
    void this.checkCalendar();
    this.service.imports.resume().catch((err: unknown) => this.opts.log.error({ err: describeError(err) }, 'billing: an interrupted import could not be finished'));
  }

  async stop(): Promise<void> {
    this.opts.events.removeOwner(this.name);
    this.timer?.cancel();
    await this.service.imports.stop();
    await this.snapshotting?.catch(() => undefined);
    this.intervalReads.stop();
  }

  health(): ComponentHealth {
    const s = this.lastSnapshot;
    const snapshot = s ? `last snapshot ${new Date(s.boundary).toISOString()}: ${s.fresh} fresh, ${s.fallback} fallback, ${s.failed.length} failed` : 'no reading-day snapshot yet';
    const reads = this.intervalReads.status();
    const dropped = reads.dropped ? `; ${reads.dropped} interval reads dropped` : '';
    if (reads.failing) return degraded(`${snapshot}; ${reads.waiting} interval reads not stored yet: ${reads.failing}${dropped}`);
    return ok(snapshot + dropped);
  }

  /**
   * Snapshots every billing register for the reading-day boundary: a fresh read, or
   * the latest good read within the tolerance (flagged), or a named failure.
   */
  snapshot(boundary: number): Promise<SnapshotReport> {
    this.snapshotting ??= this.takeSnapshot(boundary).finally(() => (this.snapshotting = undefined));
    return this.snapshotting;
  }

  private async takeSnapshot(boundary: number): Promise<SnapshotReport> {
    const report: SnapshotReport = { boundary, fresh: 0, fallback: 0, failed: [] };
    const toleranceMs = this.opts.config.building.billing.fallbackToleranceHours * 3_600_000;
    const reads: NewRead[] = [];
    await Promise.all(
      [...this.meters.values()].map(async (reg) => {
        const { meter, point } = reg;
        let why = 'the Modbus driver is not running';
        try {
          const values = this.opts.readNow ? await this.opts.readNow(meter.id) : [];
          const v = values.find((x) => x.point === point);
          if (v && v.quality === 'good' && v.value !== null) return void (reads.push(readFromValue(reg, v, 'snapshot')), report.fresh++);
          if (v) why = v.error ?? `quality ${v.quality}`;
        } catch (err) {
          why = describeError(err);
        }
        const last = this.opts.latest.get(meter.id, point);
        if (last && last.quality === 'good' && last.value !== null && Math.abs(boundary - last.sourceTime) <= toleranceMs) {
          const ageMin = Math.round((this.opts.clock.now() - last.sourceTime) / 60_000);
          reads.push({ ...readFromValue(reg, last, 'fallback'), note: `fresh read failed (${why}); latest good read ${ageMin} min old` });
          return void report.fallback++;
        }
        report.failed.push({ meterId: meter.id, reason: why });
      }),
    );
    reads.sort((a, b) => a.meterId.localeCompare(b.meterId));
    // Interval reads still waiting go first, so each meter's reads are stored in time order.
    this.intervalReads.flush(true);
    this.service.repo.insertReads(reads, 'system', { action: 'billing.snapshot', subject: new Date(boundary).toISOString() });
    for (const f of report.failed) this.opts.log.warn({ module: 'billing', meter: f.meterId, reason: f.reason }, 'reading-day snapshot failed; the run will estimate or hold this meter');
    this.opts.log.info({ module: 'billing', boundary: new Date(boundary).toISOString(), fresh: report.fresh, fallback: report.fallback, failed: report.failed.length }, 'reading-day snapshot taken');
    this.lastSnapshot = report;
    return report;
  }

  /** Keeps the first good read of each interval slot of each billing register; intervalReads stores them, off this listener. */
  private keepIntervalRead(device: string, values: readonly PointValue[]): void {
    const entry = this.meters.get(device);
    const v = entry && values.find((x) => x.point === entry.point);
    if (!entry || !v || v.quality !== 'good' || v.value === null) return;
    const slot = Math.floor(v.sourceTime / (this.opts.config.building.billing.intervalMinutes * 60_000));
    if (slot <= (this.lastSlot.get(device) ?? -1)) return;
    this.lastSlot.set(device, slot);
    this.intervalReads.add(readFromValue(entry, v, 'interval'));
  }

  /** Takes the reading-day snapshot once the boundary has passed, and opens the dunning lists on their days. */
  private async checkCalendar(): Promise<void> {
    const { building } = this.opts.config;
    const now = this.opts.clock.now();
    const boundary = billingPeriod(periodContaining(now, building.billing, building.site.timezone), building.billing, building.site.timezone).opensAt;
    const toleranceMs = building.billing.fallbackToleranceHours * 3_600_000;
    try {
      if (now - boundary <= toleranceMs && !this.service.repo.hasSnapshot(boundary, toleranceMs)) await this.snapshot(boundary);
      await scheduleDunning(this.service, building, now);
    } catch (err) {
      this.opts.log.error({ module: 'billing', err: describeError(err) }, 'billing calendar check failed');
    }
  }
}
