import type { SignalState } from '../events.ts';

// The normalised states of each safety signal kind. A vendor's own values are
// mapped onto these by a value map in config (signals/decode.ts); the simulators
// and the default topic layout use them directly. New states go at the end, so
// the trend codes of stateCode() never change meaning.
export const SIGNAL_STATES = {
  'fire-zone': ['normal', 'alarm', 'fault', 'test'],
  leak: ['dry', 'wet'],
  'power-feeder': ['on', 'off', 'on-backup'],
  gas: ['normal', 'alarm', 'fault'],
  // Weather is not an alarm: it starts the handbook's runbooks. The typhoon signal
  // number (风球) as the fire-control room relays it (handbook 第九节 二), and the
  // rainstorm warning colour (第九节 三); 'none' when no signal is hoisted.
  typhoon: ['none', '1', '2', '3', '4', '5'],
  rainstorm: ['none', 'yellow', 'red', 'black'],
} as const satisfies Record<SignalState['kind'], readonly string[]>;

export type SignalKind = SignalState['kind'];

export function isSignalState(kind: SignalKind, state: string): boolean {
  return (SIGNAL_STATES[kind] as readonly string[]).includes(state);
}

/** Numeric codes for trends in telemetry: 0 is always the quiet state. */
export function stateCode(kind: SignalKind, state: string): number {
  return (SIGNAL_STATES[kind] as readonly string[]).indexOf(state);
}

/**
 * The documented default MQTT topic layout, used by the simulators:
 *   bohub/<site>/signal/<signal id>            {"state": "...", "ts": <ms epoch>, "seq": <n>}
 *   bohub/<site>/source/<source id>/status     "online" | "offline", retained; "offline" is the LWT
 *   bohub/<site>/source/<source id>/heartbeat  anything (e.g. {"ts": ..., "seq": ...}), every few seconds
 *   bohub/<site>/cmd/...                       commands: only the hub may publish here
 */
export function signalTopic(site: string, signal: string): string {
  return `bohub/${site}/signal/${signal}`;
}

export function sourceStatusTopic(site: string, source: string): string {
  return `bohub/${site}/source/${source}/status`;
}

export function heartbeatTopic(site: string, source: string): string {
  return `bohub/${site}/source/${source}/heartbeat`;
}

export function commandTopics(site: string): string {
  return `bohub/${site}/cmd/#`;
}
