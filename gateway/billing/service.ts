import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Clock } from '../clock.ts';
import { describeError } from '../errors.ts';
import type { PointValue } from '../events.ts';
import type { LoadedConfig } from '../config/load.ts';
import type { MeterConfig } from '../config/schema.ts';
import type { SqliteRecordStore } from '../storage/records.ts';
import { EventBus } from '../events.ts';
import { InlineWork } from '../work/inline.ts';
import { JobTracker } from '../work/jobs.ts';
import type { WorkRunner } from '../work/types.ts';
import { ExceptionAcceptances } from './acceptances.ts';
import { BillingWork } from './work.ts';
import { billingPeriod, isPeriodId } from './calendar.ts';
import { paymentsToCsv, readingsToCsv, type ImportRules } from './csv.ts';
import { BillingImports } from './imports.ts';
import { noticesHtml } from './outputs/notices.ts';
import { exceptionsCsv, statementsCsv } from './outputs/statements-csv.ts';
import { runSummary, summaryHtml, summaryJson } from './outputs/summary.ts';
import type { OutputContext } from './outputs/summary.ts';
import { BillingError, BillingRepository, type RunMeta, type StoredRun } from './repository.ts';
import { computeRun } from './run.ts';
import { billingRegisters, readFromValue } from './registers.ts';
import type { NewRead, TenancyEvent } from './types.ts';

// What the CLI, the API and the hub's scheduler ask of billing. A run is computed
// from the records store alone; its documents are rendered from the stored result,
// so the same version always gives the same bytes.

export type RunOutcome = 'new' | 'unchanged' | 'correction';

export interface RunReport {
  run: StoredRun;
  outcome: RunOutcome;
  /** File name → content, exactly what `writeOutputs` puts on disk. */
  files: Map<string, string>;
}

export interface TenancyInput {
  unitId: string;
  kind: 'move_in' | 'move_out';
  company: string;
  occupancy: 'owner' | 'tenant';
  /** ms since epoch; default now. */
  at?: number;
  /** Readings taken by hand; meters not listed are read now. */
  reads?: Array<{ meterId: string; value: string }>;
}

/** A run computed but not stored: its result as the JSON that is stored and hashed. */
export interface ComputedRun {
  period: string;
  outputsHash: string;
  resultJson: string;
}

export class BillingService {
  readonly repo: BillingRepository;
  readonly acceptances: ExceptionAcceptances;
  /** Runs, documents and exports as the API asks for them: in the hub's worker threads, else in this thread. */
  readonly work: BillingWork;
  /** Readings and payments imports: checked by the runner, written here in short transactions. */
  readonly imports: BillingImports;

  constructor(
    private readonly config: LoadedConfig,
    /** The records store it reads (read-only in a worker) and, on the main thread, writes. */
    readonly records: SqliteRecordStore,
    private readonly clock: Clock,
    /** A fresh read of one meter (the Modbus driver's readNow); absent in the CLI. */
    private readonly readNow?: (meterId: string) => Promise<PointValue[]>,
    /** The hub's worker pool and job tracker; without them (CLI, unit tests) work runs in this thread. */
    work?: { runner: WorkRunner; jobs: JobTracker },
  ) {
    this.repo = new BillingRepository(records, clock, rateLimits(config));
    this.acceptances = new ExceptionAcceptances(records, clock);
    const runner = work?.runner ?? new InlineWork(this);
    const jobs = work?.jobs ?? new JobTracker(new EventBus(), clock);
    this.work = new BillingWork(this, runner, jobs, config.building.site.timezone);
    this.imports = new BillingImports(records, this.repo, runner, jobs, clock, resolve(config.building.storage.dataDir));
  }

  /**
   * Computes the period. An unchanged result keeps its version (and its bytes); a
   * changed one becomes the next version, and after the period was closed that
   * version is a correction of the closed one, never a silent overwrite. In the hub
   * this runs as compute() in a worker and store() on the main thread (work.ts); the
   * CLI and tests call it here.
   */
  run(period: string, actor: string): RunReport {
    const { run: meta, outcome } = this.store(this.compute(period), actor);
    const run = this.repo.run(meta.period, meta.version)!;
    return { run, outcome, files: this.render(run) };
  }

  /** Reads and validates the period's reads and prices them; writes nothing (a worker may run it). */
  compute(period: string, progress?: (done: number, total: number) => void): ComputedRun {
    if (!isPeriodId(period)) throw new BillingError('BOHUB_BILLING_INVALID', `"${period}" is not a billing period; write YYYY-MM, e.g. 2026-11`);
    const result = computeRun(period, { config: this.config, repo: this.repo, accepted: this.acceptances.ids(), ...(progress ? { progress } : {}) });
    // The identity of a run's result: canonical JSON of what the documents are made from.
    const resultJson = JSON.stringify(result);
    return { period, outputsHash: createHash('sha256').update(resultJson).digest('hex'), resultJson };
  }

  /** Keeps a computed run: the next version, or the latest one when nothing changed. One transaction. */
  store(computed: ComputedRun, actor: string): { run: RunMeta; outcome: RunOutcome } {
    const latest = this.repo.latestRunMeta(computed.period);
    if (latest && latest.outputsHash === computed.outputsHash) return { run: latest, outcome: 'unchanged' };
    const closed = this.repo.runs(computed.period).find((r) => r.status === 'closed');
    const run = this.repo.saveRunJson({ ...computed, ...(closed ? { corrects: closed.version } : {}) }, actor);
    return { run, outcome: closed ? 'correction' : 'new' };
  }

  /** Locks the latest version of the period: its notices are the ones handed out. */
  close(period: string, actor: string): RunMeta {
    return this.repo.closeRun(period, actor);
  }

  /** The documents of a stored run (statements CSV, exceptions CSV, summary, notices in zh and en). */
  render(run: StoredRun): Map<string, string> {
    return new Map([...this.renderers(run)].map(([name, render]) => [name, render()]));
  }

  /** One document of a stored run, or undefined for a name that is not one. */
  renderFile(run: StoredRun, name: string): string | undefined {
    return this.renderers(run).get(name)?.();
  }

  /** The latest run of the period with its statements and exceptions (each with its acceptance), as the API answers it. */
  runView(period: string): string | undefined {
    const run = this.repo.latestRun(period);
    if (!run) return undefined;
    const accepted = new Map(this.acceptances.list().map((a) => [a.exceptionId, a]));
    const { result, ...meta } = run;
    return JSON.stringify({ run: meta, statements: result.statements, exceptions: result.exceptions.map((e) => ({ ...e, accepted: accepted.get(e.id) ?? null })) });
  }

  private renderers(run: StoredRun): Map<string, () => string> {
    const corrected = run.corrects === undefined ? undefined : this.repo.run(run.period, run.corrects);
    const ctx: OutputContext = {
      site: this.config.building.site,
      tariffs: this.config.building.tariffs,
      billing: this.config.building.billing,
      period: billingPeriod(run.period, this.config.building.billing, this.config.building.site.timezone),
      version: run.version,
      ...(corrected ? { corrects: { version: corrected.version, statements: corrected.result.statements } } : {}),
    };
    const summary = () => runSummary(run.result, run.version);
    return new Map([
      ['statements.csv', () => statementsCsv(run.result, ctx)],
      ['exceptions.csv', () => exceptionsCsv(run.result)],
      ['summary.json', () => summaryJson(summary(), run.result)],
      ['summary.html', () => summaryHtml(summary(), run.result, ctx)],
      ['notices.zh.html', () => noticesHtml(run.result, ctx, 'zh')],
      ['notices.en.html', () => noticesHtml(run.result, ctx, 'en')],
    ]);
  }

  /** Writes a run's documents to `<dir>/<period>/v<version>/`; returns the paths. */
  writeOutputs(report: Pick<RunReport, 'run' | 'files'>, dir: string): string[] {
    const folder = join(dir, report.run.period, `v${report.run.version}`);
    mkdirSync(folder, { recursive: true });
    return [...report.files].map(([name, text]) => {
      const path = join(folder, name);
      writeFileSync(path, text);
      return path;
    });
  }

  /** What an import file may name: each meter with the multiplier in force, and the units. */
  importRules(): ImportRules {
    return {
      meters: new Map(this.config.building.modbus.meters.map((m) => [m.id, { multiplier: String(m.ctRatio) }])),
      units: new Set(this.config.building.towers.flatMap((t) => t.floors.flatMap((f) => f.units.map((u) => u.id)))),
    };
  }

  exportReadings(from: number, to: number): string {
    return [...this.readingsCsvChunks(from, to)].join('');
  }

  /** The readings export, one meter at a time (the header first): a worker streams it (work.ts). */
  *readingsCsvChunks(from: number, to: number): Generator<string> {
    const tz = this.config.building.site.timezone;
    yield readingsToCsv([], tz);
    for (const series of this.repo.meterSeries(from, to)) yield readingsToCsv(series, tz, false);
  }

  exportPayments(): string {
    return paymentsToCsv(this.repo.payments(), this.config.building.site.timezone);
  }

  /** The building file this service bills. */
  building(): LoadedConfig['building'] {
    return this.config.building;
  }

  meter(meterId: string): MeterConfig | undefined {
    return this.config.building.modbus.meters.find((m) => m.id === meterId);
  }

  /**
   * Records a move-in or move-out with its meter readings (handbook 第三节; 附件8
   * 收楼书 base readings). Readings given by hand are used as they are; otherwise
   * every meter of the unit is read now, and a meter that cannot be read is named.
   */
  async recordTenancy(input: TenancyInput, actor: string): Promise<{ event: TenancyEvent; reads: NewRead[] }> {
    const registers = billingRegisters(this.config);
    const unitMeters = [...registers.values()].filter((r) => r.meter.unit === input.unitId);
    if (!this.config.building.towers.some((t) => t.floors.some((f) => f.units.some((u) => u.id === input.unitId))))
      throw new BillingError('BOHUB_BILLING_NOT_FOUND', `unknown unit "${input.unitId}"`);
    const at = input.at ?? this.clock.now();
    const reads: NewRead[] = [];
    for (const reg of unitMeters) {
      const given = input.reads?.find((r) => r.meterId === reg.meter.id);
      if (given) {
        if (!/^\d+(\.\d+)?$/.test(given.value)) throw new BillingError('BOHUB_BILLING_INVALID', `${reg.meter.id}: "${given.value}" is not a meter reading`);
        reads.push({ meterId: reg.meter.id, serial: reg.meter.serial, readAt: at, value: given.value, multiplier: String(reg.meter.ctRatio), kind: input.kind, source: 'manual', quality: 'good' });
        continue;
      }
      const v = await this.freshValue(reg.meter.id, reg.point);
      reads.push(readFromValue(reg, v, 'snapshot', input.kind, at));
    }
    return { event: this.repo.addTenancyEvent({ unitId: input.unitId, kind: input.kind, at, company: input.company, occupancy: input.occupancy }, reads, actor), reads };
  }

  private async freshValue(meterId: string, point: string): Promise<PointValue> {
    let why = 'the Modbus driver is not running';
    try {
      const v = this.readNow && (await this.readNow(meterId)).find((x) => x.point === point);
      if (v && v.quality === 'good' && v.value !== null) return v;
      if (v) why = v.error ?? `quality ${v.quality}`;
    } catch (err) {
      why = describeError(err);
    }
    throw new BillingError('BOHUB_BILLING_READ_FAILED', `${meterId} could not be read now (${why}); enter its reading by hand`);
  }
}

/** Each meter's maxUsePerHour from its device profile: what a plain rise of its register may be. */
export function rateLimits(config: LoadedConfig): Map<string, number> {
  return new Map(config.building.modbus.meters.map((m) => [m.id, config.profiles.get(m.profile)!.billing.maxUsePerHour]));
}

