import { AlarmError, type Alarm, type AlarmState } from './types.ts';

// The alarm state machine as pure functions: each takes an alarm and returns the
// next one (or throws AlarmError for a refused user action). ISA-18.2 alarm states
// and OPC-UA Part 9 AlarmConditionType (ActiveState, AckedState), plus latching:
//
//   normal ──active──▶ active-unacknowledged ──ack──▶ active-acknowledged
//                         │  ▲                             │
//                     clear  └──────── active ─────────────┤ clear
//                         ▼                                ▼
//               cleared-unacknowledged ──ack──▶ normal (non-latching)
//                                          └──▶ active-acknowledged, waiting for reset (latching fire)
//   latched fire, returned to normal and acknowledged ──reset──▶ normal

/** The state an alarm is in, from whether its condition is active and whether it is acknowledged. */
export function stateOf(a: Pick<Alarm, 'active' | 'acked' | 'latching' | 'reset'>): AlarmState {
  if (a.active) return a.acked ? 'active-acknowledged' : 'active-unacknowledged';
  if (!a.acked) return 'cleared-unacknowledged';
  // A latched alarm is over only when someone resets it (fire: NFPA 72 latching alarm signals).
  return a.latching && !a.reset ? 'active-acknowledged' : 'normal';
}

/** The condition went active again in an open episode: it needs a new acknowledgement. */
export function reactivate(a: Alarm, at: number, sourceTime: number, seq: number | undefined): Alarm {
  const next: Alarm = { ...a, active: true, acked: false, activations: a.activations + 1, sourceTime, updatedAt: at };
  delete next.clearedAt;
  if (seq === undefined) delete next.seq;
  else next.seq = seq;
  return withState(next);
}

/** The condition returned to normal. */
export function clear(a: Alarm, at: number): Alarm {
  return withState({ ...a, active: false, clearedAt: at, updatedAt: at });
}

export function acknowledge(a: Alarm, by: string, comment: string, at: number): Alarm {
  if (a.state === 'normal') throw new AlarmError('BOHUB_ALARM_STATE', `alarm ${a.id} is over (normal); there is nothing to acknowledge`, 409);
  if (a.acked) throw new AlarmError('BOHUB_ALARM_STATE', `alarm ${a.id} is already acknowledged`, 409);
  return withState({ ...a, acked: true, ack: { by, at, comment }, updatedAt: at });
}

export function resetLatched(a: Alarm, by: string, comment: string, at: number): Alarm {
  if (!a.latching) throw new AlarmError('BOHUB_ALARM_STATE', `alarm ${a.id} (${a.kind}) does not latch; it returns to normal when cleared and acknowledged`, 409);
  if (a.state === 'normal') throw new AlarmError('BOHUB_ALARM_STATE', `alarm ${a.id} is already reset`, 409);
  if (a.active) throw new AlarmError('BOHUB_ALARM_STATE', `alarm ${a.id}: ${a.source} is still in alarm; it can be reset only after it returns to normal`, 409);
  if (!a.acked) throw new AlarmError('BOHUB_ALARM_STATE', `alarm ${a.id} must be acknowledged before it is reset`, 409);
  return withState({ ...a, reset: { by, at, comment }, updatedAt: at });
}

export function shelve(a: Alarm, by: string, reason: string, at: number, until: number): Alarm {
  // NFPA 72 / GB 50166: fire-system signals are never taken off the operator's display;
  // nor are gas signals, an emergency like fire (handbook 第九节 七).
  if (a.system === 'fire' || a.system === 'gas')
    throw new AlarmError('BOHUB_ALARM_NOT_SHELVABLE', `alarm ${a.id} is a ${a.system}-system alarm (${a.kind}); ${a.system} alarms are never shelved`, 409);
  if (a.state === 'normal') throw new AlarmError('BOHUB_ALARM_STATE', `alarm ${a.id} is over (normal); there is nothing to shelve`, 409);
  return { ...a, shelved: { by, reason, at, until }, updatedAt: at };
}

export function unshelve(a: Alarm, at: number): Alarm {
  const next = { ...a, updatedAt: at };
  delete next.shelved;
  return next;
}

function withState(a: Alarm): Alarm {
  return { ...a, state: stateOf(a) };
}
