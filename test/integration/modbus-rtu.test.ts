import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../../gateway/clock.ts';
import { loadConfig, type LoadedConfig } from '../../gateway/config/load.ts';
import type { BusConfig } from '../../gateway/config/schema.ts';
import { ModbusDriver } from '../../gateway/drivers/modbus/driver.ts';
import { EventBus } from '../../gateway/events.ts';
import { silentLogger } from '../../gateway/log.ts';
import { Metrics } from '../../gateway/metrics.ts';
import { ModbusMeterSimulator } from '../../simulators/modbus-meters.ts';

// The RTU code paths (CRC, slave address, silence between frames): the driver reads
// simulated meters over a socat pseudo-terminal pair ('rtu') and through a serial
// device server ('rtu-over-tcp'), and decodes what the simulator serves.

const demo = loadConfig('config/demo/building.yaml');
const tuning = { timeoutMs: 500, interFrameDelayMs: 5, fastPollMs: 200, slowPollMs: 200, retries: 0, staleAfterPolls: 3 };

function rtuConfig(): LoadedConfig {
  const buses = [
    { id: 'LINE', transport: 'rtu', path: '/dev/null', baudRate: 9600, parity: 'none', ...tuning },
    { id: 'GW', transport: 'rtu-over-tcp', host: '127.0.0.1', port: 0, ...tuning },
  ] as BusConfig[];
  const e = demo.building.modbus.meters.filter((m) => m.kind === 'electricity').slice(0, 2);
  const w = demo.building.modbus.meters.filter((m) => m.kind === 'water').slice(0, 2);
  const meters = [
    { ...e[0]!, bus: 'LINE', unitId: 1 },
    { ...w[0]!, bus: 'LINE', unitId: 2 },
    { ...e[1]!, bus: 'GW', unitId: 1 },
    { ...w[1]!, bus: 'GW', unitId: 2 },
  ];
  return { ...demo, building: { ...demo.building, modbus: { buses, meters } } };
}

const running: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  for (const p of running.splice(0).reverse()) await p.stop();
});

describe('Modbus RTU', () => {
  it('reads meters on a pty line and behind an rtu-over-tcp device server, values equal to the simulator', async () => {
    const config = rtuConfig();
    const sim = new ModbusMeterSimulator({ config, clock: new ManualClock(), log: silentLogger, ephemeralPorts: true });
    running.push(sim);
    await sim.start();
    const endpoints = sim.endpoints();
    const driver = new ModbusDriver({
      config,
      events: new EventBus(),
      clock: systemClock,
      log: silentLogger,
      metrics: new Metrics(),
      endpointOf: (id) => (id === 'LINE' ? { path: sim.serialPathOf('LINE') } : endpoints.get(id)),
    });
    running.push(driver);
    await driver.start();
    for (const meter of config.building.modbus.meters) {
      const values = await driver.readNow(meter.id);
      for (const v of values) expect({ point: `${meter.id}.${v.point}`, quality: v.quality, value: v.value }).toEqual({ point: `${meter.id}.${v.point}`, quality: 'good', value: sim.meterValue(meter.id, v.point) });
    }
  }, 20_000);
});
