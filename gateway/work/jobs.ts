import type { Clock } from '../clock.ts';
import type { EventBus } from '../events.ts';
import type { WorkProgress } from './types.ts';

// Long jobs are visible (issue 15): each billing run or export reports what it is
// doing, in order, ending with its result or its error, as 'job.progress' events
// that the live layer pushes to finance's pages. One job of a kind per subject at a
// time: a second run of a period while one runs is refused, naming who started it.

export type JobKind = 'billing.run' | 'billing.export-readings' | 'billing.import-readings' | 'billing.import-payments';

export interface JobProgress {
  id: number;
  kind: JobKind;
  /** What the job is about: the period, or the export's range. */
  subject: string;
  startedBy: string;
  startedAt: number;
  state: 'running' | 'done' | 'failed';
  /** A key the page translates: 'queued', 'meters', 'saving', 'rendering', 'uploading', 'checking', 'writing', 'done'. */
  stage: string;
  done: number;
  total: number;
  /** Why it failed (state 'failed'). */
  error?: string;
  /** What it gave (state 'done'), small: e.g. the run's version and outcome. */
  result?: unknown;
  at: number;
}

export class JobTracker {
  private readonly running = new Map<number, JobProgress>();
  private nextId = 1;

  constructor(
    private readonly events: EventBus,
    private readonly clock: Clock,
  ) {}

  /** The job of this kind and subject that is running now, if any. */
  runningOf(kind: JobKind, subject: string): JobProgress | undefined {
    for (const job of this.running.values()) if (job.kind === kind && job.subject === subject) return job;
    return undefined;
  }

  list(): JobProgress[] {
    return [...this.running.values()];
  }

  /** Starts a job; the caller has checked runningOf first. */
  start(kind: JobKind, subject: string, startedBy: string): Job {
    const now = this.clock.now();
    const state: JobProgress = { id: this.nextId++, kind, subject, startedBy, startedAt: now, state: 'running', stage: 'queued', done: 0, total: 0, at: now };
    const key = state.id;
    this.running.set(key, state);
    const emit = (change: Partial<JobProgress>) => {
      Object.assign(state, change, { at: this.clock.now() });
      this.events.emit('job.progress', { ...state });
    };
    let over = false;
    emit({});
    return {
      id: state.id,
      progress: (p: WorkProgress) => !over && emit(p),
      stage: (stage: string) => !over && emit({ stage, done: 0, total: 0 }),
      finish: (result: unknown) => {
        if (over) return;
        over = true;
        this.running.delete(key);
        emit({ state: 'done', stage: 'done', result });
      },
      fail: (error: string) => {
        if (over) return;
        over = true;
        this.running.delete(key);
        emit({ state: 'failed', error });
      },
    };
  }
}

export interface Job {
  id: number;
  progress(p: WorkProgress): void;
  stage(stage: string): void;
  finish(result: unknown): void;
  fail(error: string): void;
}
