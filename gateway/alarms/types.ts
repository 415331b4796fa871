// The alarm record and its lifecycle states, shared by the engine, the HTTP routes,
// the socket.io event map and the dashboard.
//
// States follow ISA-18.2's alarm state model and OPC-UA Part 9's AlarmConditionType
// (ActiveState x AckedState):
//   active-unacknowledged   the condition is active and nobody has acknowledged it
//   active-acknowledged     active and acknowledged; for a latched fire alarm also
//                           "returned to normal, acknowledged, waiting for reset"
//   cleared-unacknowledged  returned to normal, not yet acknowledged
//   normal                  the episode is over (kept as history)

export const ALARM_STATES = ['active-unacknowledged', 'active-acknowledged', 'cleared-unacknowledged', 'normal'] as const;
export type AlarmState = (typeof ALARM_STATES)[number];

/**
 * What kind of condition an alarm is about.
 * - fire:        a fire zone in alarm (latching; never delayed, shelved or suppressed)
 * - power-loss:  a power feeder off
 * - leak:        a leak sensor wet
 * - gas:         a gas detector in alarm (handbook 第九节 七; never delayed or shelved, not latching)
 * - fire-fault:  a fire zone reporting a fault (trouble, NFPA 72 trouble signal)
 * - gas-fault:   a gas detector reporting a fault (trouble)
 * - comm-loss:   a signal source not heard from (trouble, supervision)
 * Weather signals (typhoon, rainstorm) are recorded as signal states, never alarms.
 */
export type AlarmKind = 'fire' | 'gas' | 'power-loss' | 'leak' | 'fire-fault' | 'gas-fault' | 'comm-loss';

/** The alarm each safety signal kind raises; weather signals raise none (they only start runbooks). */
export const ALARM_OF_SIGNAL_KIND = { 'fire-zone': 'fire', leak: 'leak', 'power-feeder': 'power-loss', gas: 'gas' } as const satisfies Record<string, AlarmKind>;

/** The building system an alarm belongs to, for maintenance windows ('other': a source no config names; never silenced). */
export type AlarmSystem = 'fire' | 'gas' | 'leak' | 'power' | 'other';

export interface Shelving {
  by: string;
  reason: string;
  at: number;
  /** ms epoch when it unshelves by itself (OPC-UA Part 9 TimedShelve). */
  until: number;
}

export interface UserAction {
  by: string;
  at: number;
  comment: string;
}

export interface Alarm {
  /** Unique per episode (the alarms table's row id). */
  id: number;
  /** One open episode per condition, e.g. `fire:FZ-B-12` or `comm-loss:FP-A`. */
  condition: string;
  kind: AlarmKind;
  system: AlarmSystem;
  /** The signal or source id. */
  source: string;
  /** 1 is the highest. */
  priority: number;
  state: AlarmState;
  /** The condition as the field reports it now (after on/off delays for leak and trouble). */
  active: boolean;
  acked: boolean;
  /** Fire alarms latch: they return to normal only after an explicit reset. */
  latching: boolean;
  raisedAt: number;
  /** The source's own time of the event that raised or last re-raised it. */
  sourceTime: number;
  seq?: number;
  /** How many times the condition went active in this episode. */
  activations: number;
  clearedAt?: number;
  ack?: UserAction;
  reset?: UserAction;
  shelved?: Shelving;
  /** The maintenance window in force when it last went active: recorded, notifications silenced. */
  maintenanceWindow?: string;
  /** Chatter suppression is holding it active (leak and trouble only). */
  chattering?: boolean;
  updatedAt: number;
}

export type AlarmChangeKind = 'raised' | 'reactivated' | 'cleared' | 'acked' | 'reset' | 'shelved' | 'unshelved' | 'chattering';

/** The 'alarm.changed' event: every change of every alarm, never coalesced. */
export interface AlarmChange {
  change: AlarmChangeKind;
  alarm: Alarm;
  /**
   * Whether people should be notified (horn, pop-up, runbooks). False while the
   * alarm is shelved or its system is in a maintenance window; the record and the
   * event are still there, only the notification is silenced.
   */
  notify: boolean;
  at: number;
}

/** Filters for listing: `active` is every state but normal (the default view). */
export type AlarmListFilter = 'active' | 'all' | 'shelved' | AlarmState;

/** What the HTTP layer needs from the alarm engine. */
export interface AlarmService {
  list(filter?: AlarmListFilter): Alarm[];
  get(id: number): Alarm | undefined;
  ack(id: number, by: string, comment: string): Alarm;
  reset(id: number, by: string, comment: string): Alarm;
  shelve(id: number, by: string, reason: string, minutes: number): Alarm;
}

export type AlarmErrorCode = 'BOHUB_ALARM_NOT_FOUND' | 'BOHUB_ALARM_NOT_SHELVABLE' | 'BOHUB_ALARM_STATE' | 'BOHUB_BAD_REQUEST';

/** A refused user action; status is the HTTP status the API answers with. */
export class AlarmError extends Error {
  constructor(
    readonly code: AlarmErrorCode,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'AlarmError';
  }
}

/** Highest priority first, then newest first within a priority. */
export function byPriorityThenTime(a: Alarm, b: Alarm): number {
  return a.priority - b.priority || b.raisedAt - a.raisedAt || b.id - a.id;
}
