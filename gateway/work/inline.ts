import { Readable } from 'node:stream';
import type { BillingService } from '../billing/service.ts';
import { runTask } from './tasks.ts';
import { describeError } from '../errors.ts';
import { ReaderGate } from './reader-gate.ts';
import { WorkError, type RunOptions, type WorkRunner, type WorkTask } from './types.ts';

/**
 * Runs tasks in this thread: the CLI (its own process, with no alarms to hold up)
 * and unit tests that need no threads. The hub uses WorkPool. Both run the same
 * task code (billing/tasks.ts), so they give the same answers.
 */
export class InlineWork implements WorkRunner {
  constructor(private readonly service: BillingService) {}

  async run<T>(task: WorkTask, options: RunOptions = {}): Promise<T> {
    const gate = new ReaderGate({ progress: (p) => options.onProgress?.(p), chunk: () => {} }, Infinity);
    try {
      return (await runTask(task, this.service, gate.context())) as T;
    } catch (err) {
      throw new WorkError(task.kind, describeError(err), { cause: err });
    }
  }

  stream(task: WorkTask, options: RunOptions = {}): Readable {
    const readable: Readable = new Readable({
      read: () => gate.receive({ type: 'credit' }),
      destroy: (err, callback) => {
        gate.receive({ type: 'cancel' });
        callback(err);
      },
    });
    const gate = new ReaderGate({ progress: (p) => options.onProgress?.(p), chunk: (text) => readable.push(text) });
    runTask(task, this.service, gate.context()).then(
      () => readable.push(null),
      (err: unknown) => readable.destroy(new WorkError(task.kind, describeError(err), { cause: err })),
    );
    return readable;
  }
}
