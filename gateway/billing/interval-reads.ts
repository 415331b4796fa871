import type { Clock, Timer } from '../clock.ts';
import { describeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { BillingRepository } from './repository.ts';
import type { NewRead } from './types.ts';

// Interval reads are stored in batches, off the 'meter.values' listener (issue 15).
// That listener runs on the bus that also carries fire signals, and the records
// store syncs every transaction to disk (synchronous=FULL): one transaction per
// meter per sweep held the event loop, and a fire alarm, behind thousands of fsyncs.
// Reads now wait in memory for at most flushMs and go to the records store together,
// one transaction (one sync) per flush. A crash loses at most the reads of the
// last flushMs; the next good read of the same interval slot is stored instead.

export interface IntervalReadSettings {
  /** How long a read waits, so a sweep of the meters is stored in one transaction. */
  flushMs: number;
  /** At most this many reads per transaction: a bigger one would hold the event loop too long. */
  perFlush: number;
  /** After a failed write, the reads held are tried again this much later. */
  retryMs: number;
  /** Reads held beyond this (the records store failing for a long time) are dropped, oldest first, and counted. */
  maxHeld: number;
}

export const INTERVAL_READ_SETTINGS: IntervalReadSettings = Object.freeze({ flushMs: 1_000, perFlush: 250, retryMs: 10_000, maxHeld: 50_000 });

/** How many meters a failure log names; the rest are counted. */
const NAMED_METERS = 50;

export class IntervalReadQueue {
  private held: NewRead[] = [];
  private timer?: { handle: Timer; at: number };
  /** The last write's error while writes fail. */
  private failing?: string;
  private dropped = 0;
  private droppedSinceStored = 0;

  constructor(
    private readonly repo: Pick<BillingRepository, 'insertReads'>,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly settings: IntervalReadSettings = INTERVAL_READ_SETTINGS,
  ) {}

  /** Holds a read for a later flush; never writes. */
  add(read: NewRead): void {
    this.held.push(read);
    const over = this.held.length - this.settings.maxHeld;
    if (over > 0) {
      this.held.splice(0, over);
      if (this.droppedSinceStored === 0) this.log.error({ module: 'billing', held: this.settings.maxHeld, err: this.failing }, 'interval reads dropped, oldest first: the records store has not taken them');
      this.dropped += over;
      this.droppedSinceStored += over;
    }
    if (this.failing) return; // the retry is already set
    // A full batch goes on the next tick, not in the caller's listener.
    this.schedule(this.held.length >= this.settings.perFlush ? 0 : this.settings.flushMs);
  }

  /**
   * Stores held reads now, perFlush to a transaction: one batch (the timer), or all
   * of them (before a snapshot). What fails stays held and is tried again after retryMs.
   */
  flush(all = false): void {
    this.cancelTimer();
    do {
      if (this.held.length === 0) return;
      if (!this.writeBatch()) return this.schedule(this.settings.retryMs);
    } while (all);
    // More than one batch: the rest go on the next tick, so other events run in between.
    if (this.held.length) this.schedule(0);
  }

  /** At stop: stores everything held; what the store still refuses is logged as lost. */
  stop(): void {
    this.flush(true);
    this.cancelTimer();
    if (this.held.length) this.log.error({ module: 'billing', lost: this.held.length, meters: meterNames(this.held) }, 'interval reads not stored at stop');
  }

  /** For health: what waits, what was dropped, and why writes fail. */
  status(): { waiting: number; dropped: number; failing?: string } {
    return { waiting: this.held.length, dropped: this.dropped, ...(this.failing ? { failing: this.failing } : {}) };
  }

  /**
   * The oldest perFlush reads in one transaction. Interval reads are stored as
   * 'system' with no audit entry, as they always were: one per flush would be noise.
   */
  private writeBatch(): boolean {
    const batch = this.held.slice(0, this.settings.perFlush);
    try {
      this.repo.insertReads(batch, 'system');
    } catch (err) {
      // Logged when the writes start failing, naming the meters, not at every retry (CONVENTIONS.md habit 3).
      if (!this.failing) this.log.error({ module: 'billing', err: describeError(err), reads: batch.length, meters: meterNames(batch) }, 'interval reads not stored; they are held and tried again');
      this.failing = describeError(err);
      return false;
    }
    this.held.splice(0, batch.length);
    if (this.failing) this.log.info({ module: 'billing', stored: batch.length, waiting: this.held.length }, 'interval reads are stored again');
    this.failing = undefined;
    this.droppedSinceStored = 0;
    return true;
  }

  /** Sets the flush timer, unless one is set that fires as soon. */
  private schedule(ms: number): void {
    const at = this.clock.now() + ms;
    if (this.timer && this.timer.at <= at) return;
    this.cancelTimer();
    const handle = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, ms);
    this.timer = { handle, at };
  }

  private cancelTimer(): void {
    this.timer?.handle.cancel();
    this.timer = undefined;
  }
}

/** The meters of some reads, for a log line: the first NAMED_METERS, and how many more. */
function meterNames(reads: readonly NewRead[]): string {
  const ids = [...new Set(reads.map((r) => r.meterId))];
  return ids.length <= NAMED_METERS ? ids.join(', ') : `${ids.slice(0, NAMED_METERS).join(', ')} and ${ids.length - NAMED_METERS} more`;
}
