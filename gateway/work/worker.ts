import { constants, setPriority } from 'node:os';
import type { MessagePort } from 'node:worker_threads';
import { workerData } from 'node:worker_threads';
import { BillingService } from '../billing/service.ts';
import { systemClock } from '../clock.ts';
import type { LoadedConfig } from '../config/load.ts';
import { SqliteRecordStore } from '../storage/records.ts';
import { ReaderGate } from './reader-gate.ts';
import { runTask } from './tasks.ts';
import type { ReaderMessage, TaskContext, TaskMessage, WorkTask } from './types.ts';

// A worker thread of the hub's pool (pool.ts, piscina). It opens its own read-only
// connection to records.db (WAL: it reads the last committed state beside the
// writer) and runs one task at a time; the main thread never waits for it.
// It runs a little below the event loop's priority (lowerThisThreadsPriority).

export interface WorkerInit {
  config: LoadedConfig;
  dataDir: string;
}

export interface TaskEnvelope {
  task: WorkTask;
  /** Progress and chunks go out on it; the reader's credit and a stop come back on it. */
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

/** Progress goes out at once; a chunk crosses as UTF-8 bytes whose buffer is transferred, not copied. */
function portContext(port: MessagePort): TaskContext {
  const gate = new ReaderGate({
    progress: (progress) => post(port, { type: 'progress', progress }),
    chunk: (text) => {
      const bytes = encoder.encode(text);
      port.postMessage({ type: 'chunk', bytes } satisfies TaskMessage, [bytes.buffer]);
    },
  });
  port.on('message', (m: ReaderMessage) => gate.receive(m));
  return gate.context();
}

/**
 * Nice 10, on Linux for this thread alone (setpriority(2): "the nice value is a
 * per-thread attribute"; os.setPriority() without a pid sets the calling thread's).
 * Measured on one shared core (bench alarm-under-work): at nice 19 a worker holding a
 * lock the threads of a process share (the allocator's, SQLite's) waited so long for
 * CPU that the event loop, waiting on that lock, was held up to 115 ms (strace: futex
 * waits of 53 and 67 ms); at nice 0 a 5,000-meter run shared the core evenly with the
 * alarm path (alarm p99 79 ms); at nice 10 both stayed within their targets.
 */
function lowerThisThreadsPriority(): void {
  try {
    setPriority(constants.priority.PRIORITY_BELOW_NORMAL);
  } catch {
    // A platform that refuses leaves the worker at normal priority; it still runs beside the loop.
  }
}

function post(port: MessagePort, message: TaskMessage): void {
  port.postMessage(message);
}
