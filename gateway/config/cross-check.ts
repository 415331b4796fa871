import type { BuildingConfig, SignalMappingConfig } from './schema.ts';
import type { DeviceProfile } from './profile.ts';
import type { ConfigIssue } from './load.ts';
import { HUB_MQTT_USERNAME } from './schema.ts';
import { mqttSources, signalCatalogue } from '../signals/sources.ts';
import { SIGNAL_STATES, isSignalState, type SignalKind } from '../signals/states.ts';

/**
 * Checks that need the whole file (and the device profiles): ids are unique and
 * every reference points at something that exists. Each message names its path.
 */
export function crossCheck(b: BuildingConfig, profiles: ReadonlyMap<string, DeviceProfile>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });

  const floorsOf = new Map<string, Set<number>>();
  const units = new Set<string>();
  b.towers.forEach((t, ti) => {
    if (floorsOf.has(t.id)) add(`towers[${ti}].id`, `duplicate tower "${t.id}"`);
    floorsOf.set(t.id, new Set(t.floors.map((f) => f.level)));
    t.floors.forEach((f, fi) =>
      f.units.forEach((u, ui) => {
        if (units.has(u.id)) add(`towers[${ti}].floors[${fi}].units[${ui}].id`, `duplicate unit "${u.id}"`);
        units.add(u.id);
      }),
    );
  });

  const buses = uniqueIds(b.modbus.buses, 'modbus.buses', 'bus', add);
  b.modbus.buses.forEach((bus, i) => {
    // Slow points are read together with a fast cycle, so they cannot be read more often.
    if (bus.slowPollMs < bus.fastPollMs) add(`modbus.buses[${i}].slowPollMs`, `${bus.slowPollMs} ms is shorter than fastPollMs (${bus.fastPollMs} ms)`);
  });
  uniqueIds(b.modbus.meters, 'modbus.meters', 'meter', add);
  const addresses = new Set<string>();
  b.modbus.meters.forEach((m, i) => {
    const at = `modbus.meters[${i}]`;
    if (!units.has(m.unit)) add(`${at}.unit`, `unknown unit "${m.unit}"`);
    if (!buses.has(m.bus)) add(`${at}.bus`, `unknown bus "${m.bus}"`);
    const key = `${m.bus}#${m.unitId}`;
    if (addresses.has(key)) add(`${at}.unitId`, `unit id ${m.unitId} is already used on bus "${m.bus}"`);
    addresses.add(key);
    const profile = profiles.get(m.profile);
    // With no profiles loaded at all, the devicesDir problem is already reported once.
    if (!profile && profiles.size === 0) return;
    if (!profile) add(`${at}.profile`, `unknown profile "${m.profile}" (known: ${[...profiles.keys()].join(', ') || 'none'})`);
    else if (profile.kind !== m.kind) add(`${at}.kind`, `profile "${m.profile}" is a ${profile.kind} meter, not ${m.kind}`);
  });

  const checkPlace = (path: string, tower: string, floor?: number) => {
    const floors = floorsOf.get(tower);
    if (!floors) add(`${path}.tower`, `unknown tower "${tower}"`);
    else if (floor !== undefined && !floors.has(floor)) add(`${path}.floor`, `tower "${tower}" has no floor ${floor}`);
  };
  const signalIds = new Set<string>();
  const signalId = (path: string, id: string) => {
    if (signalIds.has(id)) add(`${path}.id`, `duplicate signal "${id}"`);
    signalIds.add(id);
  };
  b.signals.fireZones.forEach((z, i) => (signalId(`signals.fireZones[${i}]`, z.id), checkPlace(`signals.fireZones[${i}]`, z.tower, z.floor)));
  b.signals.leakSensors.forEach((s, i) => {
    signalId(`signals.leakSensors[${i}]`, s.id);
    checkPlace(`signals.leakSensors[${i}]`, s.tower, s.floor);
    if (s.unit !== undefined && !units.has(s.unit)) add(`signals.leakSensors[${i}].unit`, `unknown unit "${s.unit}"`);
  });
  b.signals.powerFeeders.forEach((p, i) => (signalId(`signals.powerFeeders[${i}]`, p.id), checkPlace(`signals.powerFeeders[${i}]`, p.tower)));
  b.signals.gasDetectors.forEach((g, i) => (signalId(`signals.gasDetectors[${i}]`, g.id), checkPlace(`signals.gasDetectors[${i}]`, g.tower, g.floor)));
  b.signals.weather.forEach((w, i) => signalId(`signals.weather[${i}]`, w.id));

  checkSignalSources(b, add);

  uniqueIds(b.displays, 'displays', 'display', add);
  b.displays.forEach((d, i) => {
    checkPlace(`displays[${i}]`, d.tower);
    // /api/display/<screen>/now sits beside these routes; a screen with one of their names could not be reached.
    if (RESERVED_SCREEN_IDS.includes(d.id)) add(`displays[${i}].id`, `"${d.id}" is a word the display API uses; pick another screen id`);
  });

  const names = new Set<string>();
  b.users.forEach((u, i) => {
    if (names.has(u.username)) add(`users[${i}].username`, `duplicate user "${u.username}"`);
    names.add(u.username);
  });
  if (!b.users.some((u) => u.role === 'admin')) add('users', 'at least one user needs the admin role');

  if (b.broker.mode === 'embedded' && b.broker.port !== 0 && b.broker.port === b.web.port && b.broker.host === b.web.host)
    add('broker.port', `the broker and the web server both want port ${b.web.port}`);
  return issues;
}

/** Value maps, OPC-UA nodes and MQTT accounts must point at signals and sources that exist. */
function checkSignalSources(b: BuildingConfig, add: (p: string, m: string) => void): void {
  const catalogue = signalCatalogue(b);
  // Each entry's own kind, not the catalogue's: with a duplicate id the catalogue holds only one of them.
  const s = b.signals;
  const mapped: Array<readonly [string, SignalKind, SignalMappingConfig | undefined]> = [
    ...s.fireZones.map((z, i) => [`fireZones[${i}]`, 'fire-zone', z.mqtt] as const),
    ...s.leakSensors.map((l, i) => [`leakSensors[${i}]`, 'leak', l.mqtt] as const),
    ...s.powerFeeders.map((p, i) => [`powerFeeders[${i}]`, 'power-feeder', p.mqtt] as const),
    ...s.gasDetectors.map((g, i) => [`gasDetectors[${i}]`, 'gas', g.mqtt] as const),
    ...s.weather.map((w, i) => [`weather[${i}]`, w.kind, w.mqtt] as const),
  ];
  for (const [at, kind, mqtt] of mapped)
    for (const [vendor, state] of Object.entries(mqtt?.values ?? {}))
      if (!isSignalState(kind, state)) add(`signals.${at}.mqtt.values.${vendor}`, `"${state}" is not a ${kind} state (${SIGNAL_STATES[kind].join(', ')})`);

  uniqueIds(b.opcua.sources, 'opcua.sources', 'OPC-UA source', add);
  const viaOpcua = new Set<string>();
  b.opcua.sources.forEach((src, si) => src.nodes.forEach((n, ni) => {
    const at = `opcua.sources[${si}].nodes[${ni}]`;
    const info = catalogue.get(n.signal);
    if (!info) return add(`${at}.signal`, `unknown signal "${n.signal}"`);
    if (viaOpcua.has(n.signal)) add(`${at}.signal`, `signal "${n.signal}" is already mapped to another OPC-UA node`);
    viaOpcua.add(n.signal);
    if (info.mqtt) add(`${at}.signal`, `signal "${n.signal}" also has an MQTT mapping; a signal has one source`);
    for (const [value, state] of Object.entries(n.values ?? {}))
      if (!isSignalState(info.kind, state)) add(`${at}.values.${value}`, `"${state}" is not a ${info.kind} state`);
  }));

  if (b.broker.mode !== 'embedded') return;
  const sources = mqttSources(catalogue);
  const broker = b.broker;
  const usernames = new Set<string>();
  const certificateCNs = new Set<string>();
  broker.accounts.forEach((a, i) => {
    const at = `broker.accounts[${i}]`;
    if (a.username === HUB_MQTT_USERNAME) add(`${at}.username`, `"${HUB_MQTT_USERNAME}" is the hub's own account`);
    if (usernames.has(a.username)) add(`${at}.username`, `duplicate MQTT account "${a.username}"`);
    usernames.add(a.username);
    if (a.source && !sources.has(a.source)) add(`${at}.source`, `unknown MQTT source "${a.source}" (known: ${[...sources].join(', ')})`);
    if (a.certificateCN === undefined) return;
    // One certificate must name one account, or a device could log in as either.
    if (certificateCNs.has(a.certificateCN)) add(`${at}.certificateCN`, `certificate CN "${a.certificateCN}" is already used by another account`);
    certificateCNs.add(a.certificateCN);
    if (!broker.tls) add(`${at}.certificateCN`, 'certificate logins need broker.tls (the TLS port where devices present certificates)');
  });
  checkBrokerTls(b, add);
}

/** The TLS listener needs its certificate, its key and the CA that signs client certificates. */
function checkBrokerTls(b: BuildingConfig, add: (p: string, m: string) => void): void {
  if (b.broker.mode !== 'embedded' || !b.broker.tls) return;
  const { tls, host, port } = b.broker;
  const missing = (['certFile', 'keyFile', 'caFile'] as const).filter((f) => !tls[f]);
  for (const f of missing) add(`broker.tls.${f}`, `broker.tls needs certFile, keyFile and caFile together; ${f} is missing`);
  if (tls.port !== 0 && tls.port === port) add('broker.tls.port', `the TLS port ${tls.port} is also the broker's plain MQTT port`);
  if (tls.port !== 0 && tls.port === b.web.port && host === b.web.host) add('broker.tls.port', `the broker's TLS port and the web server both want port ${b.web.port}`);
}

const RESERVED_SCREEN_IDS = ['items', 'images', 'templates', 'emergency-templates', 'login'];

function uniqueIds(items: ReadonlyArray<{ id: string }>, path: string, what: string, add: (p: string, m: string) => void): Set<string> {
  const ids = new Set<string>();
  items.forEach((item, i) => {
    if (ids.has(item.id)) add(`${path}[${i}].id`, `duplicate ${what} "${item.id}"`);
    ids.add(item.id);
  });
  return ids;
}
