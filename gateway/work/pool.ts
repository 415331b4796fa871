import { availableParallelism } from 'node:os';
import { Readable } from 'node:stream';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { LoadedConfig } from '../config/load.ts';
import { describeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { degraded, down, ok, type ComponentHealth, type Plugin } from '../plugin.ts';
import { WorkError, type ReaderMessage, type RunOptions, type TaskMessage, type WorkRunner, type WorkTask } from './types.ts';
import type { TaskEnvelope, WorkerInit } from './worker.ts';

/** How long a task asked to stop may take to stop before its worker is terminated. */
export const CANCEL_GRACE_MS = 5_000;

export interface WorkPoolOptions {
  config: LoadedConfig;
  /** Where records.db is: each worker opens it read-only. */
  dataDir: string;
  log: Logger;
}

/**
 * Two lanes, so a page someone is waiting for never queues behind finance: bounded
 * reads (an audit page, the incident history, a run's view) have a thread of their
 * own; bulk work (runs, documents, dunning lists, exports, import checks) has the rest.
 * Measured before the split: an audit page waited 11 s behind a month's export.
 */
type Lane = 'reads' | 'bulk';
const READS: ReadonlySet<WorkTask['kind']> = new Set(['records.audit', 'records.incidents', 'billing.run-view']);
const laneOf = (task: WorkTask): Lane => (READS.has(task.kind) ? 'reads' : 'bulk');

/**
 * The hub's worker threads (piscina): bulk work runs here so the event loop stays
 * free for alarms (issue 15). Bulk work gets one thread fewer than the machine has
 * cores, at least one, so the main thread keeps a core for the alarm path; reads get
 * one more thread (Lane). A task whose worker dies or throws fails with a named
 * WorkError; piscina starts a fresh worker for the next.
 */
export class WorkPool implements Plugin, WorkRunner {
  readonly name = 'work';
  private pools?: Record<Lane, Piscina<TaskEnvelope, unknown>>;
  private failures = 0;
  private lastFailure = '';
  private readonly log: Logger;

  constructor(private readonly options: WorkPoolOptions) {
    this.log = options.log.child({ module: 'work' });
  }

  async start(): Promise<void> {
    const workerData: WorkerInit = { config: this.options.config, dataDir: this.options.dataDir };
    const lane = (threads: number) =>
      new Piscina<TaskEnvelope, unknown>({
        filename: new URL('./worker.ts', import.meta.url).href,
        workerData,
        // As many threads from the start as ever: piscina ends an idle thread beyond
        // minThreads, and ending a thread makes the event loop wait while it frees its heap.
        minThreads: threads,
        maxThreads: threads,
        // The workers load TypeScript like the hub itself does (tsx), also when a test runner started the hub.
        execArgv: ['--import', 'tsx'],
      });
    this.pools = { reads: lane(1), bulk: lane(Math.max(1, availableParallelism() - 1)) };
  }

  async stop(): Promise<void> {
    const pools = this.pools;
    this.pools = undefined;
    // Rejects what is queued or running, and terminates the threads: a stopping hub cancels its jobs.
    await Promise.all(Object.values(pools ?? {}).map((p) => p.destroy()));
  }

  health(): ComponentHealth {
    if (!this.pools) return down('not started');
    const { reads, bulk } = this.pools;
    const detail = `${bulk.threads.length} bulk and ${reads.threads.length} read worker threads, ${bulk.queueSize + reads.queueSize} tasks queued, ${bulk.completed + reads.completed} done`;
    return this.failures ? degraded(`${detail}; ${this.failures} failed, last: ${this.lastFailure}`) : ok(detail);
  }

  /** The threads of both lanes, for tests that kill one mid-task or check that one lived on. */
  threads(): readonly { threadId: number; terminate(): Promise<number> }[] {
    return this.pools ? [...this.pools.bulk.threads, ...this.pools.reads.threads] : [];
  }

  async run<T>(task: WorkTask, options: RunOptions = {}): Promise<T> {
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (m: TaskMessage) => m.type === 'progress' && options.onProgress?.(m.progress));
    try {
      return (await this.submit(task, port1, port2)) as T;
    } finally {
      port1.close();
    }
  }

  stream(task: WorkTask, options: RunOptions = {}): Readable {
    const { port1, port2 } = new MessageChannel();
    const cancel = new AbortController();
    const readable = new Readable({
      // Each read asks the worker for one more chunk: it never runs ahead of the reader.
      read: () => port1.postMessage({ type: 'credit' } satisfies ReaderMessage),
      destroy: (err, callback) => {
        cancel.abort();
        callback(err);
      },
    });
    port1.on('message', (m: TaskMessage) => {
      if (m.type === 'chunk') readable.push(Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength));
      else if (m.type === 'end') readable.push(null);
      else options.onProgress?.(m.progress);
    });
    this.submit(task, port1, port2, cancel.signal)
      .catch((err: unknown) => readable.destroy(err as Error))
      .finally(() => port1.close());
    return readable;
  }

  /**
   * Runs a task on a worker. `cancel` asks the task to stop (reader-gate.ts), which
   * keeps the thread; only a task that ignores it for CANCEL_GRACE_MS has its worker
   * terminated (piscina's own abort).
   */
  private async submit(task: WorkTask, reader: MessagePort, port: MessagePort, cancel?: AbortSignal): Promise<unknown> {
    const pool = this.pools?.[laneOf(task)];
    if (!pool) throw new WorkError(task.kind, 'the worker pool is not running');
    const terminate = new AbortController();
    let grace: NodeJS.Timeout | undefined;
    const stop = () => {
      reader.postMessage({ type: 'cancel' } satisfies ReaderMessage);
      grace = setTimeout(() => terminate.abort(), CANCEL_GRACE_MS);
    };
    cancel?.addEventListener('abort', stop, { once: true });
    try {
      return await pool.run({ task, port }, { transferList: [port], signal: terminate.signal });
    } catch (err) {
      if (cancel?.aborted) throw new WorkError(task.kind, 'cancelled', { cause: err });
      this.failures++;
      this.lastFailure = `${task.kind}: ${describeError(err)}`;
      this.log.error({ task: task.kind, err: describeError(err) }, 'a worker task failed');
      throw err instanceof WorkError ? err : new WorkError(task.kind, describeError(err), { cause: err });
    } finally {
      clearTimeout(grace);
      cancel?.removeEventListener('abort', stop);
    }
  }
}
