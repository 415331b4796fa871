// What the alarm-under-work benchmark sets up before its hubs start: the demo
// building's config with a month of billing reads in its records store
// (simulators/billing-month.ts), the control room built into a folder of the run's
// own (dashboard/dist is left to `npm run build` and the test setup), and the billing
// benchmark's 5,000-meter building (bench/billing-data.ts) as a whole hub's config,
// with its month of ~15.8 M reads. Those reads take about ten minutes to store
// through the hub's own insert path on two cores, so the file is made once by the
// billing benchmark's own setup child and kept in a cache, keyed on the code that
// decides what is stored.
import { createHash } from 'node:crypto';
import { fork } from 'node:child_process';
import { constants, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../gateway/config/load.ts';
import { SqliteRecordStore } from '../gateway/storage/records.ts';
import { simulateBillingMonth } from '../simulators/billing-month.ts';
import { REPO, writeConfig, type RawConfig } from '../test/helpers/config.ts';
import { syntheticConfig } from './billing-data.ts';
import { progress } from './lib.ts';

export const PERIOD = '2026-11';
const RECORDS_FILE = 'records.db';
/** What decides the stored rows: the generator, the classification done as reads are stored, the schema. */
const CACHE_KEY_FILES = ['bench/billing-data.ts', 'gateway/billing/notable.ts', 'gateway/storage/migrations.ts'];

/** The demo building, its simulators inside the hub as `npm start` runs them, on free ports, its data in `dataDir`. */
export function demoConfig(dataDir: string, folder: string): string {
  return hubConfig(dataDir, folder, () => {});
}

/** A building file for a whole hub on free ports, simulators inside it, after `change`. */
function hubConfig(dataDir: string, folder: string, change: (raw: RawConfig) => void): string {
  return writeConfig((raw) => {
    change(raw);
    raw.storage.dataDir = dataDir;
    raw.simulators.enabled = true;
    raw.simulators.ephemeralPorts = true;
    raw.web.port = 0;
    raw.broker.port = 0;
  }, folder);
}

/** A month of billing reads for the period, written into the building's records store before its hub starts. */
export function loadDemoMonth(configFile: string): number {
  const config = loadConfig(configFile, {});
  const records = SqliteRecordStore.open(config.building.storage.dataDir);
  try {
    return simulateBillingMonth(config, records, PERIOD).reads;
  } finally {
    records.close();
  }
}

/**
 * The demo building with the billing benchmark's towers, units and meters (2 per
 * unit, 50 to a bus) in place of its own, everything else as the demo has it
 * (signals, broker accounts, users, runbooks, screens), its meters simulated inside
 * the hub as the demo's are.
 */
export function bigBuildingConfig(units: number, dataDir: string, folder: string): string {
  const synthetic = syntheticConfig(units).building;
  return hubConfig(dataDir, folder, (raw) => {
    raw.towers = synthetic.towers;
    raw.modbus = synthetic.modbus;
  });
}

/**
 * Copies the 5,000-meter month into `dataDir` (made first if the cache has no file
 * for this code); the hub then writes to its own copy. cacheRoot null: made in the
 * run's folder and not kept.
 */
export async function bigBuildingRecords(units: number, dataDir: string, cacheRoot: string | null, scratch: string): Promise<{ seconds: number; cached: boolean }> {
  const began = performance.now();
  const key = createHash('sha256');
  for (const f of CACHE_KEY_FILES) key.update(readFileSync(join(REPO, f)));
  const name = `billing-${units}-units-${key.update(String(units)).digest('hex').slice(0, 12)}`;
  const root = cacheRoot ?? scratch;
  const base = join(root, name);
  const cached = existsSync(join(base, RECORDS_FILE));
  if (!cached) {
    // One cached month at a time: an older one (other code) goes, it is ~3 GB.
    if (cacheRoot && existsSync(cacheRoot)) for (const old of readdirSync(cacheRoot)) if (old.startsWith('billing-')) rmSync(join(cacheRoot, old), { recursive: true, force: true });
    progress(`alarm-under-work: storing a month of 15-minute reads for ${units * 2} meters through the hub's insert path (bench/billing-data.ts; about 10 minutes on 2 cores, once${cacheRoot ? `: kept in ${cacheRoot}` : ''})`);
    const making = `${base}.partial`;
    rmSync(making, { recursive: true, force: true });
    await billingSetupChild(making, units);
    renameSync(making, base);
  } else progress(`alarm-under-work: the ${units * 2}-meter month from the cache (${base})`);
  mkdirSync(dataDir, { recursive: true });
  // A copy-on-write clone where the file system has them, else a plain copy.
  copyFileSync(join(base, RECORDS_FILE), join(dataDir, RECORDS_FILE), constants.COPYFILE_FICLONE);
  return { seconds: (performance.now() - began) / 1000, cached };
}

/** Where the 5,000-meter month is kept between runs: BOHUB_BENCH_AUW_CACHE (a folder, or "off"). */
export function cacheRoot(): string | null {
  const v = process.env.BOHUB_BENCH_AUW_CACHE;
  if (v === 'off') return null;
  return v || join(tmpdir(), 'bohub-bench-cache', 'alarm-under-work');
}

/** The billing benchmark's setup child (billing.bench.ts --child setup), which stores the rows as the hub does. */
function billingSetupChild(dir: string, units: number): Promise<void> {
  const script = fileURLToPath(new URL('./billing.bench.ts', import.meta.url));
  const child = fork(script, ['--child', 'setup', dir, String(units)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 2, 'inherit', 'ipc'] });
  // Not left writing ~3 GB if the benchmark is stopped.
  const orphan = () => child.kill('SIGKILL');
  process.once('exit', orphan);
  return new Promise((resolve, reject) => {
    let ok = false;
    child.on('message', (m: { kind?: string; reads?: number; seconds?: number }) => {
      if (m.kind !== 'setup') return;
      ok = true;
      progress(`alarm-under-work: ${m.reads} reads stored in ${m.seconds?.toFixed(0)} s`);
    });
    child.once('exit', (code, signal) => (process.off('exit', orphan), ok ? resolve() : reject(new Error(`the billing setup child exited with ${signal ?? code} and no result`))));
  });
}

/** Builds the control room into `outDir` (Vite, as `npm run build` does); null, with the reason on stderr, if it cannot. */
export async function buildDashboard(outDir: string): Promise<string | null> {
  try {
    const { build } = await import('vite');
    await build({ configFile: join(REPO, 'dashboard/vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
    return existsSync(join(outDir, 'index.html')) ? outDir : null;
  } catch (err) {
    progress(`alarm-under-work: the control room did not build: ${err instanceof Error ? err.message : String(err)}`);
    return null;
  }
}
