import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfig, configJsonSchema, loadConfig } from '../../gateway/config/load.ts';
import { signalCatalogue } from '../../gateway/signals/sources.ts';
import { DEMO_CONFIG, REPO, writeConfig } from '../helpers/config.ts';

const issuesOf = (file: string, env: NodeJS.ProcessEnv = {}) => {
  const r = checkConfig(file, env);
  return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
};

describe('the demo building', () => {
  const { building, profiles } = loadConfig(DEMO_CONFIG, {});
  const units = building.towers.flatMap((t) => t.floors.flatMap((f) => f.units));

  it('is the handbook complex: towers A and B in Asia/Shanghai, 20+ floors, 120+ tenanted units', () => {
    expect(building.towers.map((t) => t.id)).toEqual(['A', 'B']);
    expect(building.site.timezone).toBe('Asia/Shanghai');
    expect(building.towers.flatMap((t) => t.floors.filter((f) => f.units.length > 0)).length).toBeGreaterThanOrEqual(20);
    expect(units.filter((u) => u.tenant).length).toBeGreaterThanOrEqual(120);
  });

  it('gives every tenant two office-hours and two after-hours contacts (附件14)', () => {
    for (const u of units.filter((u) => u.tenant)) {
      expect(u.tenant!.contacts.office).toHaveLength(2);
      expect(u.tenant!.contacts.afterHours).toHaveLength(2);
    }
  });

  it('has one electricity and one water meter per unit on three or more buses, with known profiles', () => {
    for (const u of units) {
      const kinds = building.modbus.meters.filter((m) => m.unit === u.id).map((m) => m.kind).sort();
      expect(kinds, u.id).toEqual(['electricity', 'water']);
    }
    expect(new Set(building.modbus.meters.map((m) => m.bus)).size).toBeGreaterThanOrEqual(3);
    for (const m of building.modbus.meters) expect(profiles.has(m.profile)).toBe(true);
  });

  it('has a fire zone per floor, leak sensors, power feeders and the two lobby screens', () => {
    const floors = building.towers.flatMap((t) => t.floors.map((f) => `${t.id}/${f.level}`));
    expect(building.signals.fireZones.map((z) => `${z.tower}/${z.floor}`).sort()).toEqual(floors.sort());
    expect(building.signals.leakSensors.length).toBeGreaterThan(0);
    expect(building.signals.powerFeeders.length).toBeGreaterThan(0);
    expect(building.displays.map((d) => d.id)).toEqual(expect.arrayContaining(['A-lobby', 'B-lobby']));
  });

  it('has gas detectors from each tower\'s gas gateway and the typhoon and rainstorm signals from the weather feed', () => {
    const catalogue = signalCatalogue(building);
    expect(building.signals.gasDetectors.filter((g) => g.floor === -1).map((g) => catalogue.get(g.id)?.source)).toEqual(['GAS-GW-A', 'GAS-GW-B']);
    expect(building.signals.weather.map((w) => [w.kind, catalogue.get(w.id)?.kind, catalogue.get(w.id)?.source])).toEqual([['typhoon', 'typhoon', 'WEATHER'], ['rainstorm', 'rainstorm', 'WEATHER']]);
    const broker = building.broker.mode === 'embedded' ? building.broker : undefined;
    expect(broker?.accounts.find((a) => a.username === 'weather-feed')?.source).toBe('WEATHER');
  });

  it('is frozen after loading', () => {
    expect(Object.isFrozen(building.web)).toBe(true);
    expect(() => {
      (building.web as { port: number }).port = 1;
    }).toThrow();
  });
});

describe('config check', () => {
  it('names the path of an unknown profile', () => {
    const file = writeConfig((raw) => (raw.modbus.meters[12].profile = 'dtsu-666'));
    expect(issuesOf(file)).toEqual([expect.stringMatching(/^modbus\.meters\[12\]\.profile: unknown profile "dtsu-666"/)]);
  });

  it('lists every broken reference and duplicate, each with its path', () => {
    const file = writeConfig((raw) => {
      raw.modbus.meters[3].bus = 'Z-9';
      raw.modbus.meters[5].unit = 'A-9999';
      raw.modbus.meters[7].unitId = raw.modbus.meters[9].unitId; // same bus (A-E1 water/electric alternate)
      raw.towers[0].floors[2].units[1].id = raw.towers[0].floors[2].units[0].id;
      raw.signals.fireZones[0].floor = 99;
      raw.signals.leakSensors[2].unit = 'A-9998';
      raw.duty.roster[0].role = 'janitor';
      raw.displays[3].id = 'items';
    });
    const issues = issuesOf(file).join('\n');
    expect(issues).toContain('modbus.meters[3].bus: unknown bus "Z-9"');
    expect(issues).toContain('modbus.meters[5].unit: unknown unit "A-9999"');
    expect(issues).toMatch(/modbus\.meters\[9\]\.unitId: unit id \d+ is already used on bus/);
    expect(issues).toMatch(/towers\[0\]\.floors\[2\]\.units\[1\]\.id: duplicate unit/);
    expect(issues).toContain('signals.fireZones[0].floor: tower "A" has no floor 99');
    expect(issues).toContain('signals.leakSensors[2].unit: unknown unit "A-9998"');
    expect(issues).toContain('duty.roster[0].role: unknown duty role "janitor"');
    expect(issues).toContain('displays[3].id: "items" is a word the display API uses; pick another screen id');
  });

  it('checks gas detectors and weather signals: places, unique ids and their states', () => {
    const file = writeConfig((raw) => {
      raw.signals.gasDetectors[0].floor = 40;
      raw.signals.gasDetectors[1].mqtt = { topic: 'vendor/gas/1', values: { ALM: 'wet' } };
      raw.signals.weather[1].id = 'WX-TYPHOON';
      raw.signals.weather[0].mqtt = { topic: 'vendor/hko/typhoon', format: 'text', values: { T8: '8' } };
    });
    const issues = issuesOf(file).join('\n');
    expect(issues).toContain('signals.gasDetectors[0].floor: tower "A" has no floor 40');
    expect(issues).toContain('signals.gasDetectors[1].mqtt.values.ALM: "wet" is not a gas state (normal, alarm, fault)');
    expect(issues).toContain('signals.weather[1].id: duplicate signal "WX-TYPHOON"');
    expect(issues).toContain('signals.weather[0].mqtt.values.T8: "8" is not a typhoon state (none, 1, 2, 3, 4, 5)');
    const unknownKind = writeConfig((raw) => raw.signals.weather.push({ id: 'WX-HAIL', kind: 'hail' }));
    expect(issuesOf(unknownKind)).toEqual([expect.stringMatching(/^signals\.weather\[2\]\.kind: /)]);
  });

  it('asks for two contacts of each kind, a valid time zone and decimal tariffs', () => {
    const file = writeConfig((raw) => {
      raw.towers[0].floors[1].units[0].tenant.contacts.afterHours.pop();
      raw.site.timezone = 'Asia/Shanghaii';
      raw.tariffs.electricityPerKWh = 1.012;
    });
    const issues = issuesOf(file).join('\n');
    expect(issues).toContain('towers[0].floors[1].units[0].tenant.contacts.afterHours: two after-hours contacts');
    expect(issues).toContain('site.timezone: not an IANA time zone');
    expect(issues).toMatch(/tariffs\.electricityPerKWh: /);
  });

  it('applies environment overrides before validating them', () => {
    const file = writeConfig();
    const r = checkConfig(file, { BOHUB_HTTP_PORT: '9123', BOHUB_DATA_DIR: '/tmp/x' });
    expect(r.ok && r.config.building.web.port).toBe(9123);
    expect(r.ok && r.config.building.storage.dataDir).toBe('/tmp/x');
    expect(issuesOf(file, { BOHUB_HTTP_PORT: 'eighty' }).join('\n')).toMatch(/^web\.port: /);
  });

  it('reports YAML syntax errors instead of throwing', () => {
    const file = writeConfig();
    const broken = join(file, '..', 'broken.yaml');
    execFileSync('sh', ['-c', `printf 'site: [unclosed\n' > ${broken}`]);
    expect(issuesOf(broken)[0]).toMatch(/^\(yaml\): /);
  });

  it('exits non-zero from the command line and prints the paths', () => {
    const file = writeConfig((raw) => (raw.modbus.meters[12].profile = 'dtsu-666'));
    const run = spawnSync(process.execPath, [join(REPO, 'bin/bohub.js'), 'config', 'check', file], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('modbus.meters[12].profile: unknown profile "dtsu-666"');
    const good = spawnSync(process.execPath, [join(REPO, 'bin/bohub.js'), 'config', 'check', DEMO_CONFIG], { encoding: 'utf8' });
    expect(good.status).toBe(0);
    expect(good.stdout).toContain('136 units, 272 meters');
  });
});

describe('config schema', () => {
  it('describes the config language for editors, and the committed copy is current', () => {
    const schema = configJsonSchema() as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['site', 'towers', 'modbus', 'signals', 'calendar', 'tariffs', 'users', 'broker', 'storage', 'web']));
    const committed = JSON.parse(readFileSync(join(REPO, 'config/bohub.schema.json'), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(schema)));
  });
});
