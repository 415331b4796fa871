import { Readable } from 'node:stream';
import type { BillingService } from '../billing/service.ts';
import { runTask } from './tasks.ts';
import { describeError } from '../errors.ts';
import { WorkError, type RunOptions, type TaskContext, type WorkRunner, type WorkTask } from './types.ts';

/**
 * Runs tasks in this thread: the CLI (its own process, with no alarms to hold up)
 * and unit tests that need no threads. The hub uses WorkPool. Both run the same
 * task code (billing/tasks.ts), so they give the same answers.
 */
export class InlineWork implements WorkRunner {
  constructor(private readonly service: BillingService) {}

  async run<T>(task: WorkTask, options: RunOptions = {}): Promise<T> {
    const ctx: TaskContext = { progress: (p) => options.onProgress?.(p), send: async () => {} };
    try {
      return (await runTask(task, this.service, ctx)) as T;
    } catch (err) {
      throw new WorkError(task.kind, describeError(err), { cause: err });
    }
  }

  stream(task: WorkTask, options: RunOptions = {}): Readable {
    let wanted: (() => void) | undefined;
    const readable = new Readable({ read: () => wanted?.() });
    const ctx: TaskContext = {
      progress: (p) => options.onProgress?.(p),
      send: (text) => (readable.push(text) ? Promise.resolve() : new Promise<void>((resolve) => (wanted = resolve))),
    };
    runTask(task, this.service, ctx).then(
      () => readable.push(null),
      (err: unknown) => readable.destroy(new WorkError(task.kind, describeError(err), { cause: err })),
    );
    return readable;
  }
}
