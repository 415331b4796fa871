import type { Clock, Timer } from '../clock.ts';

// On/off delays and chatter suppression (ISA-18.2's alarm design aids: on-delay,
// off-delay, chattering alarms). Used for leak sensors and supervisory (loss of
// communication) conditions ONLY. Fire alarms never pass through this file: they
// are never delayed, merged away or suppressed.

export interface ConditioningSettings {
  onDelaySeconds: number;
  offDelaySeconds: number;
  chatter: { maxActivations: number; windowSeconds: number };
}

export interface ConditionedOutput {
  /** The condition goes active (after the on-delay) or clears (after the off-delay). */
  set(active: boolean): void;
  /** Chatter suppression started or ended for this condition. */
  chattering(on: boolean): void;
}

/**
 * One condition's conditioner. Raw inputs go in; the output follows them after the
 * delays. A condition that goes active maxActivations times within the chatter
 * window is chattering: it then stays active until the raw input has been quiet for
 * a whole window, so it annunciates once instead of every few seconds.
 */
export class Conditioner {
  private raw = false;
  private output = false;
  private isChattering = false;
  private onTimer?: Timer;
  private offTimer?: Timer;
  private readonly rises: number[] = [];

  constructor(
    private readonly settings: ConditioningSettings,
    private readonly clock: Clock,
    private readonly out: ConditionedOutput,
    /** The output's state when the hub restarts with this condition already active. */
    initiallyActive = false,
  ) {
    this.raw = this.output = initiallyActive;
  }

  input(active: boolean): void {
    if (active === this.raw) return;
    this.raw = active;
    if (active) this.rise();
    else this.fall();
  }

  get active(): boolean {
    return this.output;
  }

  cancel(): void {
    this.onTimer?.cancel();
    this.offTimer?.cancel();
    this.onTimer = this.offTimer = undefined;
  }

  private rise(): void {
    const now = this.clock.now();
    const windowMs = this.settings.chatter.windowSeconds * 1000;
    this.rises.push(now);
    while (this.rises.length && this.rises[0]! <= now - windowMs) this.rises.shift();
    this.offTimer?.cancel();
    this.offTimer = undefined;
    if (!this.isChattering && this.rises.length >= this.settings.chatter.maxActivations) {
      this.isChattering = true;
      this.out.chattering(true);
    }
    if (this.output || this.onTimer) return;
    const delay = this.settings.onDelaySeconds * 1000;
    // A chattering condition has already proved itself; it goes active at once.
    if (delay === 0 || this.isChattering) return this.emit(true);
    this.onTimer = this.clock.setTimeout(() => {
      this.onTimer = undefined;
      if (this.raw) this.emit(true);
    }, delay);
  }

  private fall(): void {
    // Back to normal inside the on-delay: it never was an alarm.
    this.onTimer?.cancel();
    this.onTimer = undefined;
    if (!this.output) return;
    const delay = this.isChattering ? Math.max(this.settings.offDelaySeconds, this.settings.chatter.windowSeconds) * 1000 : this.settings.offDelaySeconds * 1000;
    if (delay === 0) return this.emit(false);
    this.offTimer = this.clock.setTimeout(() => {
      this.offTimer = undefined;
      if (this.raw) return;
      if (this.isChattering) {
        this.isChattering = false;
        this.rises.length = 0;
        this.out.chattering(false);
      }
      this.emit(false);
    }, delay);
  }

  private emit(active: boolean): void {
    if (active === this.output) return;
    this.output = active;
    this.out.set(active);
  }
}
