import { ALARM_OF_SIGNAL_KIND, type AlarmChange } from '../alarms/types.ts';
import type { SignalState } from '../events.ts';
import type { SignalKind } from '../signals/states.ts';
import type { IncidentRepository } from './repository.ts';

// What the runbook engine remembers of the signals: each signal's last state, and
// which safety signals have an alarm that calls people out. A weather signal raises no
// alarm, so its change itself opens incidents, and its last state is stored to
// recognise a replay after a restart; a safety signal opens incidents only while its
// alarm is active (the alarm engine has already rejected replays and splashes).

const KIND_OF_ALARM = new Map(Object.entries(ALARM_OF_SIGNAL_KIND).map(([signalKind, alarmKind]) => [alarmKind as string, signalKind as SignalKind]));

export class SignalWatch {
  private readonly states: Map<string, string>;
  private readonly alarmActive = new Set<string>();

  constructor(private readonly repo: IncidentRepository) {
    this.states = repo.loadSignalStates();
  }

  /** Records a signal event; returns whether its state changed and whether the change may open incidents. */
  signal(s: SignalState, now: number): { changed: boolean; triggers: boolean } {
    if (this.states.get(s.signal) === s.state) return { changed: false, triggers: false }; // a retained replay or a repeat
    this.states.set(s.signal, s.state);
    const alarmed = s.kind in ALARM_OF_SIGNAL_KIND;
    if (!alarmed) this.repo.saveSignalState(s.signal, s.state, now);
    return { changed: true, triggers: !alarmed || this.alarmActive.has(s.signal) };
  }

  /**
   * Records an alarm change. A safety alarm newly calling people out, with its
   * signal's state already known (a leak after its on-delay), returns what to
   * trigger; otherwise the signal's own change, which follows at once, does it.
   */
  alarm(change: AlarmChange): { signal: string; kind: SignalKind; state: string } | undefined {
    const { alarm } = change;
    const kind = KIND_OF_ALARM.get(alarm.kind);
    if (!kind) return undefined;
    // Shelved or in a maintenance window: recorded by the alarm engine, nobody is called out.
    const calling = alarm.active && change.notify;
    const was = this.alarmActive.has(alarm.source);
    if (calling) this.alarmActive.add(alarm.source);
    else this.alarmActive.delete(alarm.source);
    const state = this.states.get(alarm.source);
    return calling && !was && state !== undefined ? { signal: alarm.source, kind, state } : undefined;
  }
}
