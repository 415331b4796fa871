import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';

export const REPO = resolve(import.meta.dirname, '../..');
export const DEMO_CONFIG = join(REPO, 'config/demo/building.yaml');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RawConfig = any;

/** A fresh temporary folder for one test. */
export function tempDir(prefix = 'bohub-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Writes a copy of the demo building, changed by `mutate`, into a temporary
 * folder, and returns its path. devicesDir, the runbook folder and the display
 * template folder are made absolute so the copy still finds the repository's files.
 */
export function writeConfig(mutate: (raw: RawConfig) => void = () => {}, dir = tempDir()): string {
  const raw = parse(readFileSync(DEMO_CONFIG, 'utf8'));
  raw.devicesDir = join(REPO, 'devices');
  if (raw.runbooks?.dir) raw.runbooks.dir = join(REPO, 'config/runbooks');
  if (raw.display?.templatesDir) raw.display.templatesDir = join(REPO, 'config/display-templates');
  mutate(raw);
  const file = join(dir, 'building.yaml');
  writeFileSync(file, stringify(raw));
  return file;
}

/** Shrinks the demo building to its first few units and meters, for quick tests. */
export function smallBuilding(raw: RawConfig, units = 4): void {
  const keep = new Set<string>();
  for (const t of raw.towers) for (const f of t.floors) {
    f.units = f.units.filter((u: { id: string }) => keep.size < units && keep.add(u.id));
  }
  raw.modbus.meters = raw.modbus.meters.filter((m: { unit: string }) => keep.has(m.unit));
  const buses = new Set(raw.modbus.meters.map((m: { bus: string }) => m.bus));
  raw.modbus.buses = raw.modbus.buses.filter((b: { id: string }) => buses.has(b.id));
  // Leak sensors keep their place in the building, but not a unit that is gone.
  for (const s of raw.signals.leakSensors) if (s.unit && !keep.has(s.unit)) delete s.unit;
}

/**
 * A small copy of the demo building for an in-process hub: free ports for the
 * web server, broker and simulated buses, a fresh data folder, quick polls.
 */
export function hubTestConfig(units: number, extra: (raw: RawConfig) => void = () => {}): string {
  return writeConfig((raw) => {
    smallBuilding(raw, units);
    for (const b of raw.modbus.buses) b.fastPollMs = b.slowPollMs = 300;
    raw.web.port = 0;
    raw.broker.port = 0;
    raw.storage.dataDir = tempDir();
    raw.simulators.ephemeralPorts = true;
    extra(raw);
  });
}
