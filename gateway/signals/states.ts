import type { SignalState } from '../events.ts';

// The normalised states of each safety signal kind. A vendor's own values are
// mapped onto these (later, by topic mapping from config); the simulators and the
// default topic layout use them directly.
export const SIGNAL_STATES = {
  'fire-zone': ['normal', 'alarm', 'fault', 'test'],
  leak: ['dry', 'wet'],
  'power-feeder': ['on', 'off'],
} as const satisfies Record<SignalState['kind'], readonly string[]>;

/** Numeric codes for trends in telemetry: 0 is always the quiet state. */
export function stateCode(kind: SignalState['kind'], state: string): number {
  return (SIGNAL_STATES[kind] as readonly string[]).indexOf(state);
}

/**
 * The documented default MQTT topic layout, used by the simulators:
 *   bohub/<site>/signal/<signal id>   payload {"state": "...", "ts": <ms epoch>, "seq": <n>}
 */
export function signalTopic(site: string, signal: string): string {
  return `bohub/${site}/signal/${signal}`;
}
