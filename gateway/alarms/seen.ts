import type { SignalState } from '../events.ts';
import type { SeenSignal } from './repository.ts';

/** How many recent events are remembered per signal, to recognise a redelivery out of order. */
const RECENT_KEYS = 16;

/**
 * The alarm engine's replay memory: the last event of every signal (kept in the
 * records store, alarm_signal_seen) and its recent events (in memory only). A report
 * that repeats a signal's state is remembered here and marked unsaved; the engine
 * writes the unsaved ones in batches, so a panel repeating "normal" costs no disk
 * sync on the event loop (issue 15).
 */
export class SeenSignals {
  private readonly recentKeys = new Map<string, string[]>();
  /** Signals whose entry is newer than its row in alarm_signal_seen. */
  private readonly unsaved = new Set<string>();

  constructor(private readonly last: Map<string, SeenSignal>) {}

  /**
   * A replay of the last event: the same state with the same seq, or with the same
   * source time. Dropping it can never lose an alarm, because the state is the one
   * already applied. An older event redelivered out of order is recognised only when
   * it is identical (seq, source time and state), so a panel that restarts its seq
   * numbering still gets every new alarm through.
   */
  isReplay(s: SignalState): boolean {
    const last = this.last.get(s.signal);
    if (last && last.state === s.state && ((s.seq !== undefined && s.seq === last.seq) || s.sourceTime === last.sourceTime)) return true;
    return this.recentKeys.get(s.signal)?.includes(eventKey(s)) ?? false;
  }

  /** Remembers the event, unsaved; true when it changed the signal's state. */
  remember(s: SignalState): boolean {
    const changed = this.last.get(s.signal)?.state !== s.state;
    this.last.set(s.signal, { seq: s.seq, sourceTime: s.sourceTime, state: s.state });
    this.unsaved.add(s.signal);
    const keys = this.recentKeys.get(s.signal) ?? [];
    keys.push(eventKey(s));
    if (keys.length > RECENT_KEYS) keys.splice(0, keys.length - RECENT_KEYS);
    this.recentKeys.set(s.signal, keys);
    return changed;
  }

  /** The signal's last event as remembered now. */
  lastOf(signal: string): SeenSignal | undefined {
    return this.last.get(signal);
  }

  /** Its row has been written with the last event. */
  saved(signal: string): void {
    this.unsaved.delete(signal);
  }

  unsavedCount(): number {
    return this.unsaved.size;
  }

  /** Writes every unsaved last event with `save`; if it throws, they stay unsaved for the next try. */
  saveAll(save: (signal: string, seen: SeenSignal) => void): void {
    for (const signal of this.unsaved) save(signal, this.last.get(signal)!);
    this.unsaved.clear();
  }
}

function eventKey(s: SignalState): string {
  return `${s.seq ?? ''}|${s.sourceTime}|${s.state}`;
}
