import type { Readable } from 'node:stream';
import { describeError } from '../errors.ts';
import { localDateTime } from './outputs/html.ts';
import type { JobTracker } from '../work/jobs.ts';
import type { WorkRunner } from '../work/types.ts';
import type { DunningList } from './outputs/dunning.ts';
import { BillingError, type RunMeta } from './repository.ts';
import type { ComputedRun, RunOutcome, BillingService } from './service.ts';

/**
 * Billing's bulk work as the hub's HTTP API asks for it (issue 15): computed and
 * rendered by the runner (worker threads in the hub), stored on the main thread,
 * which is the records store's one writer (ARCHITECTURE.md): a run is one
 * transaction of a string the worker built, so the main thread never holds the
 * event loop for a month-end run. Each run and export reports its progress.
 */
export class BillingWork {
  constructor(
    private readonly service: BillingService,
    private readonly runner: WorkRunner,
    private readonly jobs: JobTracker,
    private readonly timeZone: string,
  ) {}

  /** Runs a period. A second run of a period while one runs is refused (409), naming who started the first. */
  async run(period: string, actor: string): Promise<{ outcome: RunOutcome; run: RunMeta; summary: unknown }> {
    const busy = this.jobs.runningOf('billing.run', period);
    if (busy) throw new BillingError('BOHUB_BILLING_RUNNING', `a billing run of ${period} is already running, started by ${busy.startedBy} at ${localDateTime(busy.startedAt, this.timeZone)}`);
    // A run sees an import whole or not at all (imports.ts): none is written beside it.
    const importing = this.jobs.list().find((j) => j.kind.startsWith('billing.import-'));
    if (importing) throw new BillingError('BOHUB_BILLING_RUNNING', `an import started by ${importing.startedBy} at ${localDateTime(importing.startedAt, this.timeZone)} is being written; run the period when it ends`);
    const job = this.jobs.start('billing.run', period, actor);
    try {
      const computed = await this.runner.run<ComputedRun>({ kind: 'billing.compute', period }, { onProgress: job.progress });
      job.stage('saving');
      const { run, outcome } = this.service.store(computed, actor);
      job.stage('rendering');
      const summary = JSON.parse((await this.runner.run<string>({ kind: 'billing.file', period, version: run.version, name: 'summary.json' }))) as unknown;
      job.finish({ version: run.version, outcome });
      return { outcome, run, summary };
    } catch (err) {
      job.fail(describeError(err));
      throw err;
    }
  }

  /** One document of a stored run, rendered by the runner; null when there is none. */
  file(period: string, version: number, name: string): Promise<string | null> {
    return this.runner.run<string | null>({ kind: 'billing.file', period, version, name });
  }

  /** The latest run of a period with its statements and exceptions, as JSON text; null when there is none. */
  runView(period: string): Promise<string | null> {
    return this.runner.run<string | null>({ kind: 'billing.run-view', period });
  }

  /** The period's dunning lists with arrears as of the local date (dunning-run.ts), worked out by the runner. */
  dunning(period: string, date: string): Promise<DunningList[]> {
    return this.runner.run<DunningList[]>({ kind: 'billing.dunning', period, date });
  }

  /** The readings of [from, to] as CSV, streamed; destroying the stream (a client gone) stops the worker. */
  exportReadings(from: number, to: number, actor: string): Readable {
    const job = this.jobs.start('billing.export-readings', `${localDateTime(from, this.timeZone)}–${localDateTime(to, this.timeZone)}`, actor);
    const stream = this.runner.stream({ kind: 'billing.export-readings', from, to }, { onProgress: job.progress });
    stream.once('end', () => job.finish(null));
    stream.once('error', (err) => job.fail(describeError(err)));
    stream.once('close', () => job.fail('the export was cancelled'));
    return stream;
  }
}
