import type { BuildingConfig } from './schema.ts';
import type { DeviceProfile } from './profile.ts';
import type { ConfigIssue } from './load.ts';

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
  b.signals.leakSensors.forEach((s, i) => (signalId(`signals.leakSensors[${i}]`, s.id), checkPlace(`signals.leakSensors[${i}]`, s.tower, s.floor)));
  b.signals.powerFeeders.forEach((p, i) => (signalId(`signals.powerFeeders[${i}]`, p.id), checkPlace(`signals.powerFeeders[${i}]`, p.tower)));

  uniqueIds(b.displays, 'displays', 'display', add);
  b.displays.forEach((d, i) => checkPlace(`displays[${i}]`, d.tower));

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

function uniqueIds(items: ReadonlyArray<{ id: string }>, path: string, what: string, add: (p: string, m: string) => void): Set<string> {
  const ids = new Set<string>();
  items.forEach((item, i) => {
    if (ids.has(item.id)) add(`${path}[${i}].id`, `duplicate ${what} "${item.id}"`);
    ids.add(item.id);
  });
  return ids;
}
