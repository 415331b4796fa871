import type { Readable } from 'node:stream';
import { BohubError } from '../errors.ts';
import type { IncidentState } from '../runbooks/types.ts';
import type { AuditPage } from './queries.ts';

// Bulk work runs beside the event loop, never on it (ARCHITECTURE.md "One process,
// and the safety path inside it"; issue 15): a billing run, a document, an export
// is a task sent to a worker thread. A task is plain data, so it can cross threads.

export type WorkTask =
  /** Computes a billing period and returns it serialised (ComputedRun). */
  | { kind: 'billing.compute'; period: string }
  /** One stored run's document (statements.csv, notices.zh.html, ...), or null. */
  | { kind: 'billing.file'; period: string; version: number; name: string }
  /** The latest run of a period as the GET /api/billing/runs/:period answer (JSON text), or null. */
  | { kind: 'billing.run-view'; period: string }
  /** The period's dunning lists with arrears as of a local date (YYYY-MM-DD). */
  | { kind: 'billing.dunning'; period: string; date: string }
  /** The readings export (CSV), streamed meter by meter. */
  | { kind: 'billing.export-readings'; from: number; to: number }
  /** Checks an uploaded import file and stages its clean rows (billing/imports.ts): a CheckReport. */
  | { kind: 'billing.import-check'; what: 'readings' | 'payments'; file: string; staging: string }
  /** One page of the audit log, as the GET /api/audit answer (JSON text). */
  | { kind: 'records.audit'; page: AuditPage }
  /** The incident history, as the GET /api/incidents answer (JSON text). */
  | { kind: 'records.incidents'; state?: IncidentState };

export interface WorkProgress {
  /** What is being done, as a key the page translates (billing-jobs.tsx): 'meters'. */
  stage: string;
  done: number;
  total: number;
}

export interface RunOptions {
  onProgress?: (p: WorkProgress) => void;
}

/** Runs tasks: in worker threads in the hub (WorkPool), in this thread in the CLI and unit tests (InlineWork). */
export interface WorkRunner {
  run<T>(task: WorkTask, options?: RunOptions): Promise<T>;
  /**
   * A task that sends its answer in chunks, pulled with backpressure: a slow reader
   * holds the worker, not memory. Destroying the stream (a client gone) stops the task
   * at its next step, and its worker stays up for the next task.
   */
  stream(task: WorkTask, options?: RunOptions): Readable;
}

/**
 * Messages from a task to whoever runs it. A chunk crosses threads as UTF-8 bytes
 * whose buffer is transferred, not copied: the event loop only hands it to the socket.
 */
export type TaskMessage = { type: 'progress'; progress: WorkProgress } | { type: 'chunk'; bytes: Uint8Array } | { type: 'end' };

/** Messages to a running task: one more chunk wanted, or stop. */
export type ReaderMessage = { type: 'credit' } | { type: 'cancel' };

/**
 * What a task may do while it runs (progress, and for streams send, which waits for
 * the reader). Both throw TaskCancelled once the task was asked to stop, so a task
 * stops at its next step without a check of its own.
 */
export interface TaskContext {
  progress(p: WorkProgress): void;
  send(text: string): Promise<void>;
}

/** Thrown inside a task whose reader has gone. */
export class TaskCancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'TaskCancelled';
  }
}

/** A task that failed, was cancelled, or whose worker died: named, with the cause. */
export class WorkError extends BohubError {
  constructor(
    readonly task: WorkTask['kind'],
    message: string,
    options?: { cause?: unknown },
  ) {
    super('BOHUB_WORK_FAILED', `${task}: ${message}`, options);
  }
}
