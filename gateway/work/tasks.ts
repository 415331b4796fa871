import { runBillingTask } from '../billing/tasks.ts';
import type { BillingService } from '../billing/service.ts';
import { runRecordQuery } from './queries.ts';
import type { TaskContext, WorkTask } from './types.ts';

/** Runs one task, in a worker (worker.ts) or in this thread (inline.ts): the same code either way. */
export function runTask(task: WorkTask, billing: BillingService, ctx: TaskContext): Promise<unknown> {
  if (task.kind === 'records.audit' || task.kind === 'records.incidents') return Promise.resolve(runRecordQuery(task, billing.records));
  return runBillingTask(task, billing, ctx);
}
