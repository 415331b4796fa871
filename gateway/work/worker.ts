import { constants, setPriority } from 'node:os';
import type { MessagePort } from 'node:worker_threads';
import { workerData } from 'node:worker_threads';
import { BillingService } from '../billing/service.ts';
import { systemClock } from '../clock.ts';
import type { LoadedConfig } from '../config/load.ts';
import { SqliteRecordStore } from '../storage/records.ts';
import { runTask } from './tasks.ts';
import type { TaskContext, TaskMessage, WorkTask } from './types.ts';

// A worker thread of the hub's pool (pool.ts, piscina). It opens its own read-only
// connection to records.db (WAL: it reads the last committed state beside the
// writer) and runs one task at a time; the main thread never waits for it.

export interface WorkerInit {
  config: LoadedConfig;
  dataDir: string;
}

export interface TaskEnvelope {
  task: WorkTask;
  /** Progress and chunks go out on it; the reader's credit comes back on it. */
  port: MessagePort;
}

const init = workerData as WorkerInit;
const encoder = new TextEncoder();
let service: BillingService | undefined;
lowerThisThreadsPriority();

export default async function workerTask({ task, port }: TaskEnvelope): Promise<unknown> {
  service ??= new BillingService(init.config, SqliteRecordStore.openReader(init.dataDir), systemClock);
  const ctx = portContext(port);
  try {
    const answer = await runTask(task, service, ctx);
    post(port, { type: 'end' });
    return answer;
  } finally {
    port.close();
  }
}

/** Progress goes out at once; a chunk waits until the reader has asked for one (one credit per chunk). */
function portContext(port: MessagePort): TaskContext {
  let credit = 0;
  let wake: (() => void) | undefined;
  port.on('message', (m: { type: 'credit' }) => {
    if (m.type !== 'credit') return;
    credit++;
    wake?.();
  });
  return {
    progress: (progress) => post(port, { type: 'progress', progress }),
    async send(text) {
      while (credit === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      credit--;
      const bytes = encoder.encode(text);
      port.postMessage({ type: 'chunk', bytes } satisfies TaskMessage, [bytes.buffer]);
    },
  };
}

/**
 * The worker yields the CPU to the event loop whenever both want it: on Linux the
 * nice value is per thread, and setpriority(PRIO_PROCESS, 0) sets the calling
 * thread's only (setpriority(2), "the nice value is a per-thread attribute"), which
 * is what os.setPriority() without a pid does. On a machine with one free core, or
 * pinned to one, the alarm path then still runs at once beside a month-end run.
 */
function lowerThisThreadsPriority(): void {
  try {
    setPriority(constants.priority.PRIORITY_LOW);
  } catch {
    // A platform that refuses leaves the worker at normal priority; it still runs beside the loop.
  }
}

function post(port: MessagePort, message: TaskMessage): void {
  port.postMessage(message);
}
