import { TaskCancelled, type ReaderMessage, type TaskContext, type WorkProgress } from './types.ts';

/**
 * A running task's side of whoever waits for it, the same in a worker (worker.ts) and
 * in this thread (inline.ts): a chunk goes out only when the reader has asked for one
 * (one credit each, so a slow reader holds the task, not memory), and once the reader
 * says stop, the task's next step throws TaskCancelled. Stopping this way ends the task
 * and keeps its thread; terminating a worker instead makes the event loop wait while
 * the thread frees its heap (measured: up to 190 ms for an export's worker).
 */
export class ReaderGate {
  private credit: number;
  private cancelled = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly out: { progress(p: WorkProgress): void; chunk(text: string): void },
    /** Chunks the task may send before the reader asks; Infinity for a task whose answer is its result. */
    credit = 0,
  ) {
    this.credit = credit;
  }

  receive(message: ReaderMessage): void {
    if (message.type === 'credit') this.credit++;
    else this.cancelled = true;
    this.wake?.();
  }

  context(): TaskContext {
    return {
      progress: (p) => {
        this.check();
        this.out.progress(p);
      },
      send: async (text) => {
        while (this.credit === 0 && !this.cancelled) await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        this.check();
        this.credit--;
        this.out.chunk(text);
      },
    };
  }

  private check(): void {
    if (this.cancelled) throw new TaskCancelled();
  }
}
