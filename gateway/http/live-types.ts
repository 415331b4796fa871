import type { AlarmChange } from '../alarms/types.ts';
import type { ScreenNow } from '../display/types.ts';
import type { DeviceStatus, HubEvents, PointValue, SignalState } from '../events.ts';
import type { IncidentChange } from '../runbooks/types.ts';

// The socket.io event map, shared by gateway/http/live.ts and the dashboard
// (dashboard/src/live.ts imports these types; the lobby page, dashboard/public/lobby.js, in JSDoc).

/** Values that arrived within one coalescing window (COALESCE_MS), latest per point. */
export interface MeterValuesFrame {
  values: PointValue[];
}

/** Signal states that arrived within one window (SIGNAL_COALESCE_MS), latest per signal. */
export interface SignalStatesFrame {
  states: SignalState[];
}

export interface ServerToClientEvents {
  'meter.values': (frame: MeterValuesFrame) => void;
  'device.status': (status: DeviceStatus) => void;
  /** Safety signals' new states (fire zone, leak, feeder, gas, weather), coalesced; alarms about them come as 'alarm.changed'. */
  'signal.states': (frame: SignalStatesFrame) => void;
  /** Every alarm change, sent the moment it happens: never coalesced, never delayed. */
  'alarm.changed': (change: AlarmChange) => void;
  /** Every incident change (opened, step done, escalated, ...), sent at once: never coalesced, never delayed. */
  'incident.changed': (change: IncidentChange) => void;
  /** Some lobby screens' content changed (issue 9): the control room re-reads what they show. */
  'display.changed': (change: HubEvents['display.changed']) => void;
  /** A billing run's or export's progress (issue 15), in order, ending 'done' or 'failed'; only to billing readers. */
  'job.progress': (progress: HubEvents['job.progress']) => void;
}

/** The dashboard only listens; nothing is sent up the socket. */
export type ClientToServerEvents = Record<string, never>;

/** The handshake: the session token, when the session cookie cannot be used. */
export interface LiveAuth {
  token?: string;
}

/** Codes in a refused connection's `connect_error` (err.data.code). */
export type LiveRefusal = 'BOHUB_AUTH_REQUIRED' | 'BOHUB_FORBIDDEN' | 'BOHUB_UNAVAILABLE';

/** How often a client gets at most one 'meter.values' frame. */
export const COALESCE_MS = 100;
/**
 * How often a client gets at most one 'signal.states' frame. A flooding device (issue 15:
 * ~8,000 reports a second) then costs a browser 4 frames a second; the alarm a signal
 * raises does not wait for this window ('alarm.changed' goes out at once).
 */
export const SIGNAL_COALESCE_MS = 250;

// ---- The lobby screens' namespace, /display (gateway/http/display-live.ts) ----

/** The namespace a lobby screen (or a preview of one) connects to. */
export const DISPLAY_NAMESPACE = '/display';

export interface DisplayServerToClientEvents {
  /** Exactly what the screen shows now: sent on connect, then on every change, never coalesced. */
  'display.now': (now: ScreenNow) => void;
}

/**
 * The handshake: the session token (else the session cookie is used). A display
 * session always gets its own screen; a control-room session names the screen it
 * previews in `screen`.
 */
export interface DisplayLiveAuth {
  token?: string;
  screen?: string;
}

/** Codes in a refused /display connection's `connect_error` (err.data.code). */
export type DisplayLiveRefusal = LiveRefusal | 'BOHUB_DISPLAY_NOT_FOUND' | 'BOHUB_DISPLAY_UNAVAILABLE';
