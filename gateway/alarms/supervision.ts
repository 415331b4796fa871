import type { Clock, Timer } from '../clock.ts';

// Supervision of signal sources (NFPA 72 / GB 50166: loss of communication with a
// fire panel is a trouble; GB 50166 wants a fault displayed within 100 s). A source
// is lost when it says so (an LWT "offline") or when nothing has been heard from it
// for the heartbeat timeout: no heartbeat, no "online", and none of its signals.

export interface SupervisionSettings {
  heartbeatTimeoutSeconds: number;
  checkIntervalSeconds: number;
}

export class Supervisor {
  private readonly lastHeard = new Map<string, number>();
  private readonly lost = new Set<string>();
  private timer?: Timer;

  constructor(
    private readonly settings: SupervisionSettings,
    private readonly clock: Clock,
    /** Called when a source is lost (true) or heard again (false). */
    private readonly onChange: (source: string, lost: boolean) => void,
  ) {}

  /**
   * Starts watching. Every known source gets one full timeout from now: the hub
   * has just started and cannot know how long it was silent before.
   */
  start(sources: Iterable<string>, alreadyLost: Iterable<string> = []): void {
    const now = this.clock.now();
    for (const s of sources) this.lastHeard.set(s, now);
    // Lost before a restart (an open comm-loss alarm): it clears when the source is heard.
    for (const s of alreadyLost) {
      this.lastHeard.set(s, now);
      this.lost.add(s);
    }
    this.timer = this.clock.setInterval(() => this.check(), this.settings.checkIntervalSeconds * 1000);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** The source was heard from (a heartbeat, an "online", or one of its signals). */
  heard(source: string): void {
    this.lastHeard.set(source, this.clock.now());
    if (this.lost.delete(source)) this.onChange(source, false);
  }

  /** The source said it is gone (LWT) or its connection dropped. */
  offline(source: string): void {
    // Keep it watched; it is found again by heard().
    if (!this.lastHeard.has(source)) this.lastHeard.set(source, this.clock.now());
    this.markLost(source);
  }

  isLost(source: string): boolean {
    return this.lost.has(source);
  }

  sources(): string[] {
    return [...this.lastHeard.keys()];
  }

  private check(): void {
    const limit = this.clock.now() - this.settings.heartbeatTimeoutSeconds * 1000;
    for (const [source, at] of this.lastHeard) if (at <= limit) this.markLost(source);
  }

  private markLost(source: string): void {
    if (this.lost.has(source)) return;
    this.lost.add(source);
    this.onChange(source, true);
  }
}
