import { availableParallelism } from 'node:os';
import { Readable } from 'node:stream';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { LoadedConfig } from '../config/load.ts';
import { describeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { degraded, down, ok, type ComponentHealth, type Plugin } from '../plugin.ts';
import { WorkError, type RunOptions, type TaskMessage, type WorkRunner, type WorkTask } from './types.ts';
import type { TaskEnvelope, WorkerInit } from './worker.ts';

export interface WorkPoolOptions {
  config: LoadedConfig;
  /** Where records.db is: each worker opens it read-only. */
  dataDir: string;
  log: Logger;
}

/**
 * The hub's worker threads (piscina): bulk work runs here so the event loop stays
 * free for alarms (issue 15). One thread fewer than the machine has cores, at least
 * one: the main thread keeps a core for the alarm path. A task whose worker dies or
 * throws fails with a named WorkError; piscina starts a fresh worker for the next.
 */
export class WorkPool implements Plugin, WorkRunner {
  readonly name = 'work';
  private pool?: Piscina<TaskEnvelope, unknown>;
  private failures = 0;
  private lastFailure = '';
  private readonly log: Logger;

  constructor(private readonly options: WorkPoolOptions) {
    this.log = options.log.child({ module: 'work' });
  }

  async start(): Promise<void> {
    const workerData: WorkerInit = { config: this.options.config, dataDir: this.options.dataDir };
    this.pool = new Piscina<TaskEnvelope, unknown>({
      filename: new URL('./worker.ts', import.meta.url).href,
      workerData,
      minThreads: 1,
      maxThreads: Math.max(1, availableParallelism() - 1),
      idleTimeout: 60_000,
      // The workers load TypeScript like the hub itself does (tsx), also when a test runner started the hub.
      execArgv: ['--import', 'tsx'],
    });
  }

  async stop(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    // Rejects what is queued or running, and terminates the threads: a stopping hub cancels its jobs.
    await pool?.destroy();
  }

  health(): ComponentHealth {
    if (!this.pool) return down('not started');
    const detail = `${this.pool.threads.length} worker threads, ${this.pool.queueSize} tasks queued, ${this.pool.completed} done`;
    return this.failures ? degraded(`${detail}; ${this.failures} failed, last: ${this.lastFailure}`) : ok(detail);
  }

  /** The threads, for tests that kill one mid-task. */
  threads(): readonly { terminate(): Promise<number> }[] {
    return this.pool?.threads ?? [];
  }

  async run<T>(task: WorkTask, options: RunOptions = {}): Promise<T> {
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (m: TaskMessage) => m.type === 'progress' && options.onProgress?.(m.progress));
    try {
      return (await this.submit(task, port2, options.signal)) as T;
    } finally {
      port1.close();
    }
  }

  stream(task: WorkTask, options: RunOptions = {}): Readable {
    const { port1, port2 } = new MessageChannel();
    const cancel = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, cancel.signal]) : cancel.signal;
    const readable = new Readable({
      // Each read asks the worker for one more chunk: it never runs ahead of the reader.
      read: () => port1.postMessage({ type: 'credit' }),
      destroy: (err, callback) => {
        cancel.abort();
        port1.close();
        callback(err);
      },
    });
    port1.on('message', (m: TaskMessage) => {
      if (m.type === 'chunk') readable.push(Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength));
      else if (m.type === 'end') readable.push(null);
      else options.onProgress?.(m.progress);
    });
    this.submit(task, port2, signal).catch((err: unknown) => readable.destroy(err as Error));
    return readable;
  }

  private async submit(task: WorkTask, port: MessagePort, signal: AbortSignal | undefined): Promise<unknown> {
    if (!this.pool) throw new WorkError(task.kind, 'the worker pool is not running');
    try {
      return await this.pool.run({ task, port }, { transferList: [port], ...(signal ? { signal } : {}) });
    } catch (err) {
      if (signal?.aborted) throw new WorkError(task.kind, 'cancelled', { cause: err });
      this.failures++;
      this.lastFailure = `${task.kind}: ${describeError(err)}`;
      this.log.error({ task: task.kind, err: describeError(err) }, 'a worker task failed');
      throw err instanceof WorkError ? err : new WorkError(task.kind, describeError(err), { cause: err });
    }
  }
}
