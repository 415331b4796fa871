import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../../gateway/clock.ts';
import { loadConfig, type LoadedConfig } from '../../gateway/config/load.ts';
import { ModbusDriver } from '../../gateway/drivers/modbus/driver.ts';
import { EventBus, type DeviceStatus, type PointValue } from '../../gateway/events.ts';
import { silentLogger } from '../../gateway/log.ts';
import { Metrics } from '../../gateway/metrics.ts';
import { ModbusMeterSimulator } from '../../simulators/modbus-meters.ts';
import { waitFor } from '../helpers/ports.ts';

// The whole demo building (272 meters on 6 buses) polled while faults are injected:
// a dead meter, a gateway answering exception 0x0B, a billing register glitching to
// zero. The simulator's clock stands still, so every value a healthy meter serves is
// fixed and every good value the driver publishes can be compared exactly with it.

const demo = loadConfig('config/demo/building.yaml');
const BUS = { timeoutMs: 150, interFrameDelayMs: 0, fastPollMs: 250, slowPollMs: 750, retries: 1, staleAfterPolls: 3 };
const config: LoadedConfig = {
  ...demo,
  building: { ...demo.building, modbus: { ...demo.building.modbus, buses: demo.building.modbus.buses.map((b) => ({ ...b, ...BUS })) } },
};
const meters = config.building.modbus.meters;
const onBus = (bus: string) => meters.filter((m) => m.bus === bus && m.kind === 'electricity');

// The victims and their neighbours, all in tower A.
const DEAD = onBus('A-E1')[3]!.id;
const NEIGHBOURS = onBus('A-E1').filter((m) => m.id !== DEAD).slice(0, 5).map((m) => m.id);
const REFUSING = meters.filter((m) => m.bus === 'A-W')[2]!.id;
const GLITCHING = onBus('A-E2')[1]!.id;
const SWAPPED = onBus('B-E1')[2]!.id;

interface Seen { at: number; device: string; values: PointValue[] }

let sim: ModbusMeterSimulator;
let driver: ModbusDriver;
let metrics: Metrics;
const seen: Seen[] = [];
const statuses: DeviceStatus[] = [];
/** Good values that differ from what the simulator served at that moment. */
const wrong: string[] = [];

beforeAll(async () => {
  sim = new ModbusMeterSimulator({ config, clock: new ManualClock(), log: silentLogger, ephemeralPorts: true });
  await sim.start();
  const events = new EventBus();
  events.on('test', 'meter.values', ({ device, values }) => {
    seen.push({ at: Date.now(), device, values });
    for (const v of values) {
      if (v.quality !== 'good') continue;
      const expected = sim.meterValue(device, v.point);
      if (v.value !== expected) wrong.push(`${device}.${v.point}: published ${v.value}, served ${expected}`);
    }
  });
  events.on('test', 'device.status', (s) => statuses.push(s));
  const endpoints = sim.endpoints();
  metrics = new Metrics();
  driver = new ModbusDriver({ config, events, clock: systemClock, log: silentLogger, metrics, endpointOf: (id) => endpoints.get(id), breaker: { failures: 3, initialMs: 1_000, maxMs: 2_000 } });
  await driver.start();
  await waitFor('all 272 meters online', () => statuses.filter((s) => s.status === 'online').length === 272, 20_000);
}, 30_000);

afterAll(async () => {
  await driver?.stop();
  await sim?.stop();
});

/** The longest wait between two good reads of a device's fast points, from `since`. */
function longestGap(device: string, since: number): number {
  const times = seen.filter((s) => s.device === device && s.at >= since && s.values.some((v) => v.point === 'voltage' && v.quality === 'good')).map((s) => s.at);
  let gap = 0;
  for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i]! - times[i - 1]!);
  return gap;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('272 meters on 6 buses with faults injected', () => {
  it('reads every meter, and its poll classes: energy less often than voltage', async () => {
    expect(meters.length).toBeGreaterThanOrEqual(100);
    expect(new Set(meters.map((m) => m.bus)).size).toBeGreaterThanOrEqual(3);
    const start = Date.now();
    await sleep(1_600);
    const batches = seen.filter((s) => s.device === NEIGHBOURS[0] && s.at >= start);
    const count = (point: string) => batches.filter((b) => b.values.some((v) => v.point === point && v.quality === 'good')).length;
    expect(count('voltage')).toBeGreaterThanOrEqual(4);
    expect(count('energy_import')).toBeLessThanOrEqual(3);
    expect(count('energy_import')).toBeGreaterThanOrEqual(1);
  });

  it('a dead meter goes bad, does not hold up its neighbours or the other buses, and recovers', async () => {
    const baseline = Object.fromEntries(Object.entries(driver.stats().buses).map(([id, b]) => [id, b.lastCycleMs!]));
    const from = Date.now();
    sim.setOffline(DEAD);
    await waitFor(`${DEAD} offline`, () => statuses.some((s) => s.device === DEAD && s.status === 'offline' && s.at >= from));
    await waitFor('the breaker skips it', () => driver.stats().devices[DEAD]!.consecutiveFailures >= 3, 5_000);
    await sleep(1_000);

    // While failing, each cycle of A-E1 lost at most (1 + retries) timeouts to the dead meter.
    const allowance = BUS.fastPollMs + (1 + BUS.retries) * BUS.timeoutMs + baseline['A-E1']! + 250;
    for (const id of NEIGHBOURS) expect(longestGap(id, from), id).toBeLessThan(allowance);
    // Buses are independent: a meter in tower B was read as often as ever.
    const other = onBus('B-E1')[0]!.id;
    expect(longestGap(other, from)).toBeLessThan(BUS.fastPollMs + baseline['B-E1']! + 250);
    // With the breaker open, the cycle over A-E1 is as quick as before.
    await waitFor('A-E1 cycles at its old speed', () => driver.stats().buses['A-E1']!.lastCycleMs! < baseline['A-E1']! + BUS.timeoutMs, 3_000);

    const dead = seen.filter((s) => s.device === DEAD && s.at >= from).flatMap((s) => s.values);
    expect(dead.filter((v) => v.quality === 'good')).toEqual([]);
    expect(dead.filter((v) => v.quality === 'bad').every((v) => v.value === null && /BOHUB_MODBUS_TIMEOUT/.test(v.error!))).toBe(true);

    sim.setOffline(DEAD, false);
    await waitFor(`${DEAD} online again`, () => driver.stats().devices[DEAD]!.status === 'online', 5_000);
    expect(statuses.filter((s) => s.device === DEAD).map((s) => s.status)).toEqual(['online', 'offline', 'online']);
  });

  it('exception 0x0B from a gateway: the meter goes bad, is counted by kind, and recovers', async () => {
    sim.injectFault(REFUSING, { kind: 'exception', code: 0x0b });
    await waitFor(`${REFUSING} offline`, () => driver.stats().devices[REFUSING]!.status === 'offline');
    expect(driver.stats().devices[REFUSING]!.lastError).toMatch(/exception 0x0B \(gateway target device failed to respond\)/);
    const errors = (await metrics.modbusDeviceErrors.get()).values.filter((v) => v.labels.device === REFUSING);
    expect(errors.map((e) => e.labels.kind)).toEqual(['exception_0x0B']);
    // 0x0B is worth a retry (a gateway's target may answer the next time).
    expect(errors[0]!.value).toBeGreaterThanOrEqual(2);
    sim.clearFault(REFUSING);
    await waitFor(`${REFUSING} online again`, () => driver.stats().devices[REFUSING]!.status === 'online', 5_000);
  });

  it('a billing register glitching to zero is published as a suspect zero, never as a good 0', async () => {
    const from = Date.now();
    sim.injectFault(GLITCHING, { kind: 'glitch-zero', reads: 2 });
    await waitFor('the glitch is over', () => sim.faultOf(GLITCHING) === undefined, 5_000);
    await waitFor('a good energy reading after the glitch', () =>
      seen.some((s) => s.device === GLITCHING && s.at > from && s.values.some((v) => v.point === 'energy_import' && v.quality === 'good')),
    );
    const energy = seen.filter((s) => s.device === GLITCHING && s.at >= from).flatMap((s) => s.values.filter((v) => v.point === 'energy_import'));
    expect(energy.filter((v) => v.quality === 'bad').map((v) => v.error)).toEqual([expect.stringMatching(/^suspect zero/), expect.stringMatching(/^suspect zero/)]);
    expect(energy.some((v) => v.value === 0)).toBe(false);
    expect(driver.stats().devices[GLITCHING]!.status).toBe('online'); // the meter answered; only the value is doubted
  });

  it('a meter answering in the wrong byte order is published bad, never as a reading', async () => {
    const from = Date.now();
    sim.injectFault(SWAPPED, { kind: 'byte-swap' });
    const implausible = (s: Seen) => s.device === SWAPPED && s.at > from && s.values.some((v) => v.point === 'voltage' && v.quality === 'bad' && /^implausible reply/.test(v.error ?? ''));
    await waitFor('an implausible voltage', () => seen.some(implausible), 5_000);
    sim.clearFault(SWAPPED);
    await waitFor('good values again', () => seen.some((s) => s.device === SWAPPED && s.at > Date.now() - 100 && s.values.every((v) => v.quality === 'good')), 5_000);
  });

  it('never published a good value that differs from what the simulator served', () => {
    expect(seen.length).toBeGreaterThan(272 * 5);
    expect(wrong).toEqual([]);
  });
});
