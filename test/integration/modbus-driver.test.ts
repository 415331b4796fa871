import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { ManualClock, systemClock, type Clock } from '../../gateway/clock.ts';
import { loadConfig, type LoadedConfig } from '../../gateway/config/load.ts';
import type { BusConfig, MeterConfig } from '../../gateway/config/schema.ts';
import { ModbusDriver, type ModbusDriverOptions } from '../../gateway/drivers/modbus/driver.ts';
import { EventBus, type DeviceStatus, type PointValue } from '../../gateway/events.ts';
import { silentLogger } from '../../gateway/log.ts';
import { Metrics } from '../../gateway/metrics.ts';
import { ModbusMeterSimulator } from '../../simulators/modbus-meters.ts';
import { freePort, waitFor } from '../helpers/ports.ts';

// The simulator and the driver in one process, on ephemeral ports. The simulator
// runs on a ManualClock, so its registers only change when a test moves its time
// and the driver's values can be compared exactly with the simulator's.

const demo = loadConfig('config/demo/building.yaml');

/** The demo building with a small, fast Modbus section: 4 electricity meters on A-E1, 3 water meters on A-W. */
function smallConfig(ports: Partial<Record<'A-E1' | 'A-W', number>> = {}, tuning: Partial<BusConfig> = {}): LoadedConfig {
  const bus = (id: 'A-E1' | 'A-W'): BusConfig => ({ id, transport: 'tcp', host: '127.0.0.1', port: ports[id] ?? 0, timeoutMs: 300, interFrameDelayMs: 0, fastPollMs: 150, slowPollMs: 150, retries: 0, staleAfterPolls: 3, ...tuning } as BusConfig);
  const on = (busId: string, n: number): MeterConfig[] => demo.building.modbus.meters.filter((m) => m.bus === busId).slice(0, n);
  return { ...demo, building: { ...demo.building, modbus: { buses: [bus('A-E1'), bus('A-W')], meters: [...on('A-E1', 4), ...on('A-W', 3)] } } };
}

const running: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  for (const p of running.splice(0).reverse()) await p.stop();
});

async function startPair(config: LoadedConfig, opts: { responseDelayMs?: number; driver?: Partial<ModbusDriverOptions> } = {}) {
  const simClock = new ManualClock();
  const sim = new ModbusMeterSimulator({ config, clock: simClock, log: silentLogger, ephemeralPorts: true, ...(opts.responseDelayMs ? { responseDelayMs: opts.responseDelayMs } : {}) });
  running.push(sim);
  await sim.start();
  const events = new EventBus();
  const values: Array<{ device: string; values: PointValue[] }> = [];
  const statuses: DeviceStatus[] = [];
  events.on('test', 'meter.values', (v) => values.push(v));
  events.on('test', 'device.status', (s) => statuses.push(s));
  const endpoints = sim.endpoints();
  const metrics = new Metrics();
  const driver = new ModbusDriver({ config, events, clock: systemClock, log: silentLogger, metrics, endpointOf: (id) => endpoints.get(id), ...opts.driver });
  running.push(driver);
  await driver.start();
  return { sim, simClock, driver, values, statuses, metrics };
}

const valueOf = (batch: { values: PointValue[] }, point: string) => batch.values.find((v) => v.point === point)?.value;
const goodBatches = (values: Array<{ device: string; values: PointValue[] }>, device: string) =>
  values.filter((b) => b.device === device && b.values.every((v) => v.quality === 'good'));

describe('ModbusDriver against the simulated meters', () => {
  it('emits every point of every meter as good values equal to what the simulator serves', async () => {
    const config = smallConfig();
    const { sim, values } = await startPair(config);
    for (const meter of config.building.modbus.meters) {
      const batch = await waitFor(`good values from ${meter.id}`, () => goodBatches(values, meter.id)[0]);
      const profile = config.profiles.get(meter.profile)!;
      expect(batch.values.map((v) => v.point)).toEqual(profile.points.map((p) => p.id));
      for (const p of profile.points) {
        expect(valueOf(batch, p.id), `${meter.id}.${p.id}`).toBe(sim.meterValue(meter.id, p.id));
        expect(batch.values.find((v) => v.point === p.id)!.unit).toBe(p.unit);
      }
    }
    const e = goodBatches(values, 'A-0101-E')[0]!;
    expect(valueOf(e, 'voltage')).toBeGreaterThan(210);
    expect(valueOf(e, 'frequency')).toBeCloseTo(50, 0);
  });

  it('billing registers increase as simulated time passes', async () => {
    const { simClock, values } = await startPair(smallConfig());
    const first = {
      energy: valueOf(await waitFor('first electricity read', () => goodBatches(values, 'A-0101-E')[0]), 'energy_import')!,
      volume: valueOf(await waitFor('first water read', () => goodBatches(values, 'A-0101-W')[0]), 'volume')!,
    };
    simClock.advance(60 * 60_000); // one hour, times the demo speedup of 60
    await waitFor('a larger energy reading', () => goodBatches(values, 'A-0101-E').some((b) => valueOf(b, 'energy_import')! > first.energy));
    await waitFor('a larger water volume', () => goodBatches(values, 'A-0101-W').some((b) => valueOf(b, 'volume')! > first.volume));
    const last = goodBatches(values, 'A-0101-E').at(-1)!;
    // 60 simulated hours at 0.5-3 kW (±30 %) is between 21 and 234 kWh.
    expect(valueOf(last, 'energy_import')! - first.energy).toBeGreaterThan(20);
    expect(valueOf(last, 'energy_import')! - first.energy).toBeLessThan(240);
  });

  it('a dead meter is reported offline once, logged once, skipped after 3 failures, and does not stall its bus', async () => {
    const lines: Array<{ msg: string; device?: string }> = [];
    const log = pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s)) });
    const { sim, driver, values, statuses, metrics } = await startPair(smallConfig(), { driver: { log, breaker: { initialMs: 60_000 } } });
    await waitFor('A-0102-E online', () => statuses.some((s) => s.device === 'A-0102-E' && s.status === 'online'));
    sim.setOffline('A-0102-E');

    await waitFor('breaker open after 3 timeouts', () => driver.stats().devices['A-0102-E']!.consecutiveFailures === 3);
    const after = values.length;
    // Meanwhile and afterwards the other meters on A-E1 keep being read, several times over.
    await waitFor('neighbours keep answering', () => ['A-0101-E', 'A-0103-E', 'A-0104-E'].every((id) => goodBatches(values.slice(after), id).length >= 3));

    const deadStatus = statuses.filter((s) => s.device === 'A-0102-E');
    expect(deadStatus.map((s) => s.status)).toEqual(['online', 'offline']);
    expect(deadStatus[1]!.error).toMatch(/^BOHUB_MODBUS_TIMEOUT/);
    expect(lines.filter((l) => l.device === 'A-0102-E' && l.msg === 'meter not answering')).toHaveLength(1);
    // The breaker holds: no fourth attempt while the neighbours were polled 3 more times.
    expect(driver.stats().devices['A-0102-E']).toMatchObject({ status: 'offline', consecutiveFailures: 3, lastError: expect.stringMatching(/BOHUB_MODBUS_TIMEOUT/) });
    const bad = values.filter((b) => b.device === 'A-0102-E' && b.values.every((v) => v.quality === 'bad' && v.value === null));
    expect(bad).toHaveLength(3);
    expect(driver.health()).toEqual({ status: 'degraded', detail: '1 of 7 meters not answering: A-0102-E' });
    const errors = (await metrics.modbusErrors.get()).values.filter((v) => v.labels.bus === 'A-E1');
    expect(errors).toEqual([expect.objectContaining({ labels: { bus: 'A-E1', code: 'BOHUB_MODBUS_TIMEOUT' }, value: 3 })]);
    expect((await metrics.devicesOnline.get()).values.find((v) => v.labels.bus === 'A-E1')?.value).toBe(3);
  });

  it('a slow point of a meter the breaker skips is republished once as stale, with its last value', async () => {
    // Energy is read every second; fast reads fail three times within that second,
    // the breaker opens, and no read of energy fails: it just grows old.
    const config = smallConfig({}, { timeoutMs: 100, fastPollMs: 100, slowPollMs: 1_000 });
    const { sim, driver, values } = await startPair(config, { driver: { breaker: { initialMs: 60_000 } } });
    const first = await waitFor('a good energy reading', () => values.find((b) => b.device === 'A-0101-E' && b.values.some((v) => v.point === 'energy_import' && v.quality === 'good')));
    sim.setOffline('A-0101-E');
    await waitFor('breaker open', () => driver.stats().devices['A-0101-E']!.consecutiveFailures === 3);
    const energy = () => values.filter((b) => b.device === 'A-0101-E').flatMap((b) => b.values.filter((v) => v.point === 'energy_import'));
    const stale = await waitFor('energy stale', () => energy().find((v) => v.quality === 'stale'), 5_000);
    const good = energy().filter((v) => v.quality === 'good').at(-1)!;
    expect(stale).toMatchObject({ value: good.value, sourceTime: good.sourceTime, error: expect.stringMatching(/^last good read \d+ s ago/) });
    expect(stale.sourceTime).toBeGreaterThanOrEqual(first.values[0]!.sourceTime);
    await new Promise((r) => setTimeout(r, 400));
    expect(energy().filter((v) => v.quality === 'stale')).toHaveLength(1); // once per transition
    // Its fast points failed outright: they are bad, not stale.
    expect(values.filter((b) => b.device === 'A-0101-E').flatMap((b) => b.values).filter((v) => v.point === 'voltage').at(-1)).toMatchObject({ quality: 'bad', value: null });
  });

  it('a meter that answers again after the breaker period is reported online once', async () => {
    const { sim, driver, statuses } = await startPair(smallConfig(), { driver: { breaker: { initialMs: 300 } } });
    await waitFor('A-0101-W online', () => statuses.some((s) => s.device === 'A-0101-W' && s.status === 'online'));
    sim.setOffline('A-0101-W');
    await waitFor('A-0101-W offline', () => driver.stats().devices['A-0101-W']!.status === 'offline');
    sim.setOffline('A-0101-W', false);
    await waitFor('A-0101-W back online', () => driver.stats().devices['A-0101-W']!.status === 'online');
    expect(statuses.filter((s) => s.device === 'A-0101-W').map((s) => s.status)).toEqual(['online', 'offline', 'online']);
    expect(driver.health().status).toBe('ok');
  });

  it('sends one transaction at a time per bus, even when reads are requested concurrently', async () => {
    const config = smallConfig();
    const { sim, driver } = await startPair(config, { responseDelayMs: 15 });
    const meters = config.building.modbus.meters.filter((m) => m.bus === 'A-E1').map((m) => m.id);
    // Four readNow calls at once, on top of the running poll loop.
    const reads = await Promise.all(meters.map((id) => driver.readNow(id)));
    expect(reads.every((r) => r.every((v) => v.quality === 'good'))).toBe(true);
    const traffic = sim.busTraffic('A-E1');
    expect(traffic.requests).toBeGreaterThanOrEqual(8);
    expect(traffic.maxInFlight).toBe(1);
  });

  it('readNow returns the decoded values, and rejects with the failure code for a dead meter', async () => {
    const { sim, driver } = await startPair(smallConfig());
    const read = await driver.readNow('A-0103-E');
    expect(read.find((v) => v.point === 'energy_import')).toMatchObject({ device: 'A-0103-E', quality: 'good', unit: 'kWh', value: sim.meterValue('A-0103-E', 'energy_import') });
    sim.setOffline('A-0103-E');
    await expect(driver.readNow('A-0103-E')).rejects.toMatchObject({ code: 'BOHUB_MODBUS_TIMEOUT' });
    await expect(driver.readNow('no-such-meter')).rejects.toThrow('unknown meter "no-such-meter"');
  });

  it('is down while no bus connects, then reconnects with backoff once the server is there', async () => {
    const config = smallConfig({ 'A-E1': await freePort(), 'A-W': await freePort() });
    const events = new EventBus();
    const driver = new ModbusDriver({ config, events, clock: systemClock, log: silentLogger, metrics: new Metrics() });
    running.push(driver);
    await driver.start();
    expect(driver.health()).toMatchObject({ status: 'down', detail: expect.stringMatching(/^no Modbus bus connected: A-E1 \(BOHUB_MODBUS_CONNECT/) });
    expect(driver.stats().buses['A-E1']).toMatchObject({ connected: false, lastError: expect.stringMatching(/ECONNREFUSED/) });

    const sim = new ModbusMeterSimulator({ config, clock: new ManualClock(), log: silentLogger });
    running.push(sim);
    await sim.start();
    await waitFor('health ok after reconnect', () => driver.health().status === 'ok', 15_000);
    expect(driver.stats().buses['A-E1']!.connected).toBe(true);
  });

  it('serves and reads the whole demo building: 272 meters on 6 buses', async () => {
    const { driver, statuses, metrics } = await startPair(demo);
    await waitFor('all 272 meters online', () => statuses.filter((s) => s.status === 'online').length === 272, 20_000);
    expect(demo.building.modbus.meters).toHaveLength(272);
    expect(driver.health()).toEqual({ status: 'ok', detail: '6 buses connected, 272 meters' });
    const stats = driver.stats();
    expect(Object.values(stats.buses).every((b) => b.connected && b.errors === 0)).toBe(true);
    // Two block reads per DDSU666 (2000H.., 4000H), one per water meter.
    const requests = (await metrics.modbusRequests.get()).values.reduce((n, v) => n + v.value, 0);
    expect(requests).toBeGreaterThanOrEqual(272);
    expect(requests).toBe(Object.values(stats.buses).reduce((n, b) => n + b.requests, 0));
  });

  it('the simulator refuses a port that is taken, with BOHUB_PORT_IN_USE', async () => {
    const port = await freePort();
    const config = smallConfig({ 'A-E1': port, 'A-W': port });
    const sim = new ModbusMeterSimulator({ config, clock: new ManualClock(), log: silentLogger });
    running.push(sim);
    await expect(sim.start()).rejects.toMatchObject({ code: 'BOHUB_PORT_IN_USE' });
  });

  it('stop() is idempotent, cancels its timers and closes the connections', async () => {
    // A clock that knows which timers are still pending.
    const pending = new Set<object>();
    const clock: Clock = {
      now: () => Date.now(),
      setTimeout(fn, ms) {
        const token = {};
        pending.add(token);
        const t = systemClock.setTimeout(() => (pending.delete(token), fn()), ms);
        return { cancel: () => (pending.delete(token), t.cancel()) };
      },
      setInterval: () => {
        throw new Error('the driver schedules each poll cycle after the last one, never with setInterval');
      },
    };
    const { driver, values } = await startPair(smallConfig(), { driver: { clock } });
    await waitFor('a second poll cycle', () => goodBatches(values, 'A-0101-E').length >= 2);
    // The values are published in the middle of a cycle, before the next one is scheduled:
    // wait for a pending timer rather than expect one at that very moment.
    await waitFor('a timer pending', () => pending.size > 0);
    await driver.stop();
    await driver.stop();
    expect(pending.size).toBe(0);
    expect(driver.health().status).toBe('down');
    expect(driver.stats().buses['A-E1']!.connected).toBe(false);
    await expect(driver.readNow('A-0101-E')).rejects.toMatchObject({ code: 'BOHUB_MODBUS_CONNECT' });
  });
});
