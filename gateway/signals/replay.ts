// Drops exact replays of a safety event, and nothing else. An MQTT broker may
// deliver the same message again: a retained copy on every (re)subscribe
// [MQTT-3.3.1-6], a QoS 1 redelivery with DUP set [MQTT-4.4.0-1], or a panel's
// state report repeated after a broker restart. A replay carries the same
// sequence number or the same source time as the original, with the same state.
// A new event (new seq, new time, or another state) always passes: fire alarms
// are never merged away. Events without seq and source time cannot be told apart
// from new ones, except a retained copy of the state we already hold.

export interface ReplayKey {
  signal: string;
  state: string;
  seq?: number;
  /** The source's own time, only when the payload carried one (not the receipt time). */
  sourceTime?: number;
  retained: boolean;
}

/** How many recent events per signal are remembered: enough for QoS 1 redeliveries arriving late. */
const HISTORY = 16;

export class ReplayFilter {
  private readonly seen = new Map<string, ReplayKey[]>();
  private dropped = 0;

  /** True when the event is an exact replay of one already passed; false (and remembered) otherwise. */
  isReplay(e: ReplayKey): boolean {
    const history = this.seen.get(e.signal) ?? [];
    const replay = history.some((h) => sameEvent(h, e)) || (e.seq === undefined && e.sourceTime === undefined && e.retained && history.at(-1)?.state === e.state);
    if (replay) {
      this.dropped++;
      return true;
    }
    history.push({ ...e });
    if (history.length > HISTORY) history.shift();
    this.seen.set(e.signal, history);
    return false;
  }

  /** Replays dropped since start, for health and metrics. */
  droppedCount(): number {
    return this.dropped;
  }
}

function sameEvent(a: ReplayKey, b: ReplayKey): boolean {
  if (a.state !== b.state) return false;
  if (a.seq !== undefined && b.seq !== undefined) {
    // A panel that restarted may reuse a sequence number: with a time on both, it must match too.
    return a.seq === b.seq && (a.sourceTime === undefined || b.sourceTime === undefined || a.sourceTime === b.sourceTime);
  }
  return a.sourceTime !== undefined && a.sourceTime === b.sourceTime;
}
