import type { BuildingConfig, SignalMappingConfig } from '../config/schema.ts';
import type { SignalKind } from './states.ts';

// Which device speaks for each signal. A fire zone's source is its panel; a leak
// sensor, power feeder or gas detector names its source, or belongs to its tower's
// leak gateway, power monitor or gas gateway; a weather signal names its source or
// comes from the site's weather feed. Mapped by an OPC-UA node, its source is that
// OPC-UA server.
// The broker's ACLs, the LWT topics and heartbeat supervision all use these ids.

export interface SignalInfo {
  id: string;
  kind: SignalKind;
  source: string;
  mqtt?: SignalMappingConfig;
  /** Set when an OPC-UA source delivers this signal instead of MQTT. */
  opcua?: string;
}

export const defaultLeakSource = (tower: string) => `LEAK-GW-${tower}`;
export const defaultPowerSource = (tower: string) => `POWER-MON-${tower}`;
export const defaultGasSource = (tower: string) => `GAS-GW-${tower}`;
export const DEFAULT_WEATHER_SOURCE = 'WEATHER';

/** Every configured signal with its kind and source, in config order. */
export function signalCatalogue(b: Pick<BuildingConfig, 'signals' | 'opcua'>): Map<string, SignalInfo> {
  const viaOpcua = new Map<string, string>();
  for (const s of b.opcua.sources) for (const n of s.nodes) viaOpcua.set(n.signal, s.id);
  const out = new Map<string, SignalInfo>();
  const add = (info: SignalInfo) => {
    const opcua = viaOpcua.get(info.id);
    out.set(info.id, opcua ? { ...info, source: opcua, opcua } : info);
  };
  for (const z of b.signals.fireZones) add({ id: z.id, kind: 'fire-zone', source: z.panel, mqtt: z.mqtt });
  for (const l of b.signals.leakSensors) add({ id: l.id, kind: 'leak', source: l.source ?? defaultLeakSource(l.tower), mqtt: l.mqtt });
  for (const p of b.signals.powerFeeders) add({ id: p.id, kind: 'power-feeder', source: p.source ?? defaultPowerSource(p.tower), mqtt: p.mqtt });
  for (const g of b.signals.gasDetectors) add({ id: g.id, kind: 'gas', source: g.source ?? defaultGasSource(g.tower), mqtt: g.mqtt });
  for (const w of b.signals.weather) add({ id: w.id, kind: w.kind, source: w.source ?? DEFAULT_WEATHER_SOURCE, mqtt: w.mqtt });
  return out;
}

/** The ids of every MQTT source (those with at least one signal not delivered over OPC-UA). */
export function mqttSources(catalogue: ReadonlyMap<string, SignalInfo>): Set<string> {
  return new Set([...catalogue.values()].filter((s) => !s.opcua).map((s) => s.source));
}
