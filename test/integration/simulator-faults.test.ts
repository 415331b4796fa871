import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../../gateway/clock.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { protocolAddress, REGISTER_COUNT } from '../../gateway/config/profile.ts';
import type { BusConfig } from '../../gateway/config/schema.ts';
import { decodePoint, encodePoint, layoutOf } from '../../gateway/drivers/modbus/codec.ts';
import { ModbusBus } from '../../gateway/drivers/modbus/bus.ts';
import { silentLogger } from '../../gateway/log.ts';
import { Metrics } from '../../gateway/metrics.ts';
import { ModbusMeterSimulator, type Fault } from '../../simulators/modbus-meters.ts';
import { smallBuilding, writeConfig } from '../helpers/config.ts';
import { describeWithProgram, whichProgram } from '../helpers/programs.ts';

// Each injectable fault, seen through the hub's own bus client (ModbusBus) on a
// Modbus TCP bus, and the timeout fault once more on a real RTU line (socat pty).
// The simulator runs on a ManualClock, so registers only change when a test moves time.

const config = loadConfig(writeConfig((raw) => smallBuilding(raw, 4)));
const { building, profiles } = config;
const SPEEDUP = building.simulators.speedup;
const electricity = building.modbus.meters.find((m) => m.kind === 'electricity')!;
const water = building.modbus.meters.find((m) => m.kind === 'water')!;
/** A meter no other test has rolled over. */
const replaced = building.modbus.meters.filter((m) => m.kind === 'electricity')[1]!;

describe('fault injection in the Modbus simulator', () => {
  const clock = new ManualClock();
  const sim = new ModbusMeterSimulator({ config, clock, log: silentLogger, ephemeralPorts: true });
  const buses = new Map<string, ModbusBus>();

  beforeAll(async () => {
    await sim.start();
    clock.advance(3_600_000); // an hour of real time: 60 simulated hours of consumption
    for (const bus of building.modbus.buses) {
      const b = new ModbusBus({ config: { ...bus, timeoutMs: 300 } as BusConfig, endpoint: sim.endpoints().get(bus.id)!, clock: systemClock, log: silentLogger, metrics: new Metrics() });
      await b.open();
      buses.set(bus.id, b);
    }
  });
  afterAll(async () => {
    await Promise.all([...buses.values()].map((b) => b.close()));
    await sim.stop();
  });
  afterEach(() => {
    for (const m of building.modbus.meters) sim.clearFault(m.id);
  });

  /** The raw registers of one point, read through the bus the meter is on. */
  function readRegisters(meterId: string, pointId: string): Promise<number[]> {
    const meter = building.modbus.meters.find((m) => m.id === meterId)!;
    const profile = profiles.get(meter.profile)!;
    const point = profile.points.find((p) => p.id === pointId)!;
    return buses.get(meter.bus)!.read(meter.unitId, point.function, protocolAddress(profile.manualBase, point.address), REGISTER_COUNT[point.type]);
  }
  async function readValue(meterId: string, pointId: string): Promise<number | null> {
    const meter = building.modbus.meters.find((m) => m.id === meterId)!;
    const profile = profiles.get(meter.profile)!;
    return decodePoint(await readRegisters(meterId, pointId), layoutOf(profile, profile.points.find((p) => p.id === pointId)!));
  }
  const billingOf = (meterId: string) => profiles.get(building.modbus.meters.find((m) => m.id === meterId)!.profile)!.billing;

  it('timeout: the meter says nothing, the client times out, and answers again once cleared', async () => {
    sim.injectFault(electricity.id, { kind: 'timeout' });
    await expect(readRegisters(electricity.id, 'voltage')).rejects.toMatchObject({ code: 'BOHUB_MODBUS_TIMEOUT' });
    sim.clearFault(electricity.id);
    expect(await readValue(electricity.id, 'voltage')).toBe(sim.meterValue(electricity.id, 'voltage'));
  });

  it('setOffline is the timeout fault', async () => {
    sim.setOffline(water.id);
    expect(sim.faultOf(water.id)).toEqual({ kind: 'timeout' });
    await expect(readRegisters(water.id, 'volume')).rejects.toMatchObject({ code: 'BOHUB_MODBUS_TIMEOUT' });
    sim.setOffline(water.id, false);
    expect(sim.faultOf(water.id)).toBeUndefined();
  });

  it.each([
    ['0x0B', 0x0b, /exception 0x0B \(gateway target device failed to respond\)/],
    ['0x02', 0x02, /exception 0x02 \(illegal data address\)/],
  ])('exception %s: every read is answered with that exception code', async (_hex, code, message) => {
    sim.injectFault(electricity.id, { kind: 'exception', code });
    await expect(readRegisters(electricity.id, 'energy_import')).rejects.toMatchObject({ code: 'BOHUB_MODBUS_EXCEPTION', message: expect.stringMatching(message) });
  });

  it('byte-swap: the registers differ from the profile encoding by the bytes of each register', async () => {
    const profile = profiles.get(electricity.profile)!;
    const point = profile.points.find((p) => p.id === 'energy_import')!;
    const correct = encodePoint(sim.meterValue(electricity.id, 'energy_import')!, layoutOf(profile, point));
    sim.injectFault(electricity.id, { kind: 'byte-swap' });
    const served = await readRegisters(electricity.id, 'energy_import');
    expect(served).not.toEqual(correct);
    expect(served).toEqual(correct.map((w) => ((w & 0xff) << 8) | (w >> 8)));
    // A client that assumed little-endian bytes would read the real value.
    expect(decodePoint(served, { ...layoutOf(profile, point), byteOrder: 'little' })).toBe(sim.meterValue(electricity.id, 'energy_import'));
  });

  it('glitch-zero: the billing register reads 0 for the next N reads of it, then the real value', async () => {
    sim.injectFault(water.id, { kind: 'glitch-zero', reads: 2 });
    expect(await readValue(water.id, 'volume')).toBe(0);
    // A read that does not cover the billing register is served normally and does not use up a glitch.
    expect(await readValue(water.id, 'battery')).toBe(sim.meterValue(water.id, 'battery'));
    expect(await readValue(water.id, 'volume')).toBe(0);
    const real = await readValue(water.id, 'volume');
    expect(real).toBe(sim.meterValue(water.id, 'volume'));
    expect(real).toBeGreaterThan(100);
    expect(sim.faultOf(water.id)).toBeUndefined();
  });

  it.each([
    ['an electricity meter (float32 kWh)', electricity.id, 'energy_import'],
    ['a water meter (u32 litres)', water.id, 'volume'],
  ])('rollover: %s jumps to just below rolloverAt, then wraps to a small reading', async (_what, meterId, point) => {
    const { rolloverAt } = billingOf(meterId);
    sim.injectFault(meterId, { kind: 'rollover', below: 0.5 });
    const before = (await readValue(meterId, point))!;
    expect(before).toBeGreaterThan(rolloverAt - 0.6);
    expect(before).toBeLessThanOrEqual(rolloverAt);
    clock.advance((48 * 3_600_000) / SPEEDUP); // two simulated days
    const after = (await readValue(meterId, point))!;
    expect(after).toBeGreaterThanOrEqual(0);
    expect(after).toBeLessThan(rolloverAt / 1000);
  });

  it('replace: the counter restarts near 0 with a new serial, and counts up from there', async () => {
    const old = (await readValue(replaced.id, 'energy_import'))!;
    expect(old).toBeGreaterThan(1000);
    sim.injectFault(replaced.id, { kind: 'replace', serial: 'DDSU-NEW-1' });
    expect(sim.meterSerial(replaced.id)).toBe('DDSU-NEW-1');
    expect(await readValue(replaced.id, 'energy_import')).toBeLessThan(0.01);
    clock.advance((24 * 3_600_000) / SPEEDUP);
    const later = (await readValue(replaced.id, 'energy_import'))!;
    expect(later).toBeGreaterThan(0.5);
    expect(later).toBeLessThan(old);
  });

  it('refuses a fault it cannot simulate, naming the field', () => {
    expect(() => sim.injectFault(electricity.id, { kind: 'exception', code: 0 })).toThrow(/fault.code/);
    expect(() => sim.injectFault(electricity.id, { kind: 'glitch-zero', reads: 0 })).toThrow(/fault.reads/);
    expect(() => sim.injectFault(electricity.id, { kind: 'melt' } as unknown as Fault)).toThrow(/unknown fault kind/);
  });
});

describeWithProgram(whichProgram('socat'), 'fault injection on a simulated RTU line', 'socat', (socat) => {
  const rtuConfig = loadConfig(
    writeConfig((raw) => {
      smallBuilding(raw, 1);
      raw.modbus.buses = [{ id: 'R1', transport: 'rtu', path: '/dev/null-unused', baudRate: 19200, parity: 'even', timeoutMs: 300 }];
      for (const [i, m] of raw.modbus.meters.entries()) Object.assign(m, { bus: 'R1', unitId: i + 1 });
    }),
  );
  const sim = new ModbusMeterSimulator({ config: rtuConfig, clock: new ManualClock(), log: silentLogger, ephemeralPorts: true, rtu: { socat, baudPacing: true } });
  const meter = rtuConfig.building.modbus.meters.find((m) => m.kind === 'electricity')!;
  let bus: ModbusBus;

  beforeAll(async () => {
    await sim.start();
    const cfg = rtuConfig.building.modbus.buses[0]! as Extract<BusConfig, { transport: 'rtu' }>;
    bus = new ModbusBus({ config: { ...cfg, path: sim.serialPathOf('R1') }, clock: systemClock, log: silentLogger, metrics: new Metrics() });
    await bus.open();
  });
  afterAll(async () => {
    await bus.close();
    await sim.stop();
  });

  it('a dead meter on the line times out while its neighbour still answers, through the driver bus over the pty', async () => {
    const other = rtuConfig.building.modbus.meters.find((m) => m.id !== meter.id)!;
    sim.injectFault(meter.id, { kind: 'timeout' });
    await expect(bus.read(meter.unitId, 3, 0x4000, 2)).rejects.toMatchObject({ code: 'BOHUB_MODBUS_TIMEOUT' });
    const profile = rtuConfig.profiles.get(other.profile)!;
    const point = profile.points.find((p) => p.id === profile.billing.point)!;
    const words = await bus.read(other.unitId, point.function, protocolAddress(profile.manualBase, point.address), REGISTER_COUNT[point.type]);
    expect(decodePoint(words, layoutOf(profile, point))).toBe(sim.meterValue(other.id, point.id));
  });
});
