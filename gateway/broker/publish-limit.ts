import type { Clock, Timer } from '../clock.ts';

// The embedded broker's per-client publish limits (broker.limits, issue 15): a token
// bucket that holds a client's publishes back, in order, and a tracker that reports a
// run of refusals once when it starts and once when it ends (CONVENTIONS.md habit 3).

export interface BucketOptions {
  /** Tokens added per second. */
  perSecond: number;
  /** Tokens the bucket holds when full; a new client starts full. */
  burst: number;
  clock: Clock;
  /**
   * Called when the client starts being held back, and when it stops: its bucket is
   * full again, or its connection closed (`dropped`: publishes it still had waiting).
   */
  onThrottle: (change: { throttled: boolean; held: number; dropped?: number }) => void;
}

/**
 * One client's token bucket. A publish that finds a token goes on at once; one that
 * does not waits, and so does every publish after it, until the bucket has refilled.
 * Nothing is dropped and the order is kept. The broker holds the publish by not
 * answering aedes's authorizePublish, which keeps aedes from reading the socket
 * (see EmbeddedBroker); the client is then slowed by TCP flow control.
 */
export class PublishBucket {
  private tokens: number;
  private refilledAt: number;
  private readonly waiting: Array<(() => void) | undefined> = [];
  private head = 0;
  private timer?: Timer;
  private throttled = false;
  private held = 0;

  constructor(private readonly options: BucketOptions) {
    this.tokens = options.burst;
    this.refilledAt = options.clock.now();
  }

  /** Runs `go` now, or later after the publishes before it; returns whether it was held back. */
  admit(go: () => void): boolean {
    if (this.head === this.waiting.length && this.take()) {
      go();
      return false;
    }
    this.waiting.push(go);
    this.held++;
    if (!this.throttled) {
      this.throttled = true;
      this.options.onThrottle({ throttled: true, held: 0 });
    }
    // A timer is already due if publishes were waiting; otherwise it may be the "full again" check.
    if (this.waiting.length - this.head === 1) this.wakeWhen(1);
    return true;
  }

  /** The connection is gone: what it still had waiting is dropped, unacknowledged (a QoS 1 sender resends it). */
  close(): void {
    this.timer?.cancel();
    this.timer = undefined;
    const dropped = this.waiting.length - this.head;
    this.waiting.length = this.head = 0;
    if (this.throttled) this.stopThrottling(dropped);
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    while (this.head < this.waiting.length && this.take()) {
      const go = this.waiting[this.head];
      this.waiting[this.head++] = undefined; // let what it holds (the packet) go
      go!();
    }
    if (this.head < this.waiting.length) return this.wakeWhen(1);
    this.waiting.length = this.head = 0;
    this.refill();
    // Throttling ends when the client has stayed within its rate long enough to earn a whole burst back.
    if (this.tokens < this.options.burst) return this.wakeWhen(this.options.burst);
    this.stopThrottling();
  };

  private stopThrottling(dropped?: number): void {
    const held = this.held;
    this.throttled = false;
    this.held = 0;
    this.options.onThrottle({ throttled: false, held, ...(dropped ? { dropped } : {}) });
  }

  private wakeWhen(tokens: number): void {
    this.timer?.cancel();
    this.refill();
    const ms = Math.max(1, Math.ceil(((tokens - this.tokens) * 1000) / this.options.perSecond));
    this.timer = this.options.clock.setTimeout(this.tick, ms);
  }

  private take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private refill(): void {
    const now = this.options.clock.now();
    this.tokens = Math.min(this.options.burst, this.tokens + ((now - this.refilledAt) * this.options.perSecond) / 1000);
    this.refilledAt = now;
  }
}

/**
 * Refusals of one kind, per account. The first refusal of a run is reported in full
 * (log, audit); the rest are only counted, so a device that retries the same bad
 * publish on every reconnect cannot flood the audit log. The run ends after
 * `quietMs` without a refusal from that account.
 */
export class RefusalRuns {
  private readonly runs = new Map<string, { count: number; last: number; timer: Timer }>();

  constructor(
    private readonly clock: Clock,
    private readonly quietMs: number,
    private readonly onEnd: (account: string, count: number) => void,
  ) {}

  /** Counts one refusal; true when it starts a run (report it in full). */
  note(account: string): boolean {
    const now = this.clock.now();
    const run = this.runs.get(account);
    if (run) {
      run.count++;
      run.last = now;
      return false;
    }
    this.runs.set(account, { count: 1, last: now, timer: this.clock.setTimeout(() => this.check(account), this.quietMs) });
    return true;
  }

  /** Accounts with a run going, i.e. refused within the last quietMs, and how many each. */
  current(): Map<string, number> {
    return new Map([...this.runs].map(([account, run]) => [account, run.count]));
  }

  close(): void {
    for (const run of this.runs.values()) run.timer.cancel();
    this.runs.clear();
  }

  private check(account: string): void {
    const run = this.runs.get(account);
    if (!run) return;
    const quietFor = this.clock.now() - run.last;
    if (quietFor < this.quietMs) {
      run.timer = this.clock.setTimeout(() => this.check(account), this.quietMs - quietFor);
      return;
    }
    this.runs.delete(account);
    this.onEnd(account, run.count);
  }
}
