import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { systemClock } from '../../gateway/clock.ts';
import { loadConfig, type LoadedConfig } from '../../gateway/config/load.ts';
import { ModbusDriver } from '../../gateway/drivers/modbus/driver.ts';
import { EventBus, type PointValue } from '../../gateway/events.ts';
import { silentLogger } from '../../gateway/log.ts';
import { Metrics } from '../../gateway/metrics.ts';
import { freePort, waitFor } from '../helpers/ports.ts';
import { describeWithProgram, pymodbusPython } from '../helpers/programs.ts';

// Our driver against a real, independent Modbus TCP server: pymodbus 3.0 serving a
// DDSU666 (unit 1) and a generic water meter (unit 2) with values known in advance
// (test/fixtures/pymodbus_server.py). If our byte/word order, address base or
// scaling were wrong, these exact values would not come out.

const FIXTURE = new URL('../fixtures/pymodbus_server.py', import.meta.url).pathname;

describeWithProgram(pymodbusPython(), 'ModbusDriver against a pymodbus 3.0 server', 'python3-pymodbus python3-serial-asyncio', (python) => {
  let server: ChildProcess | undefined;
  let driver: ModbusDriver | undefined;
  let config: LoadedConfig;
  const emitted: Array<{ device: string; values: PointValue[] }> = [];

  beforeAll(async () => {
    const port = await freePort();
    server = spawn(python, [FIXTURE, String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    server.stderr!.on('data', (d) => (stderr += String(d)));
    await waitFor(`pymodbus listening on ${port} ${stderr}`, () => canConnect(port), 20_000);

    const demo = loadConfig('config/demo/building.yaml');
    const [e, w] = [demo.building.modbus.meters.find((m) => m.profile === 'chint-ddsu666')!, demo.building.modbus.meters.find((m) => m.profile === 'generic-water-rs485')!];
    config = {
      ...demo,
      building: {
        ...demo.building,
        modbus: {
          buses: [{ id: 'PY', transport: 'tcp', host: '127.0.0.1', port, timeoutMs: 1000, interFrameDelayMs: 0, fastPollMs: 60_000, slowPollMs: 60_000, retries: 0, staleAfterPolls: 3 }],
          meters: [
            { ...e, id: 'PY-E', bus: 'PY', unitId: 1 },
            { ...w, id: 'PY-W', bus: 'PY', unitId: 2 },
          ],
        },
      },
    };
    const events = new EventBus();
    events.on('test', 'meter.values', (v) => emitted.push(v));
    driver = new ModbusDriver({ config, events, clock: systemClock, log: silentLogger, metrics: new Metrics() });
    await driver.start();
  });

  afterAll(async () => {
    await driver?.stop();
    server?.kill();
  });

  it('decodes the DDSU666 float32 registers (2000H.., 4000H) exactly', async () => {
    const values = Object.fromEntries((await driver!.readNow('PY-E')).map((v) => [v.point, v.value]));
    expect(values).toEqual({ voltage: 229.9, current: 5.25, active_power: 1.2, power_factor: 0.95, frequency: 50, energy_import: 12345.5 });
  });

  it('decodes the water meter (registers counted from 1, u32 litres scaled to m³) exactly', async () => {
    const values = Object.fromEntries((await driver!.readNow('PY-W')).map((v) => [v.point, v.value]));
    expect(values).toEqual({ volume: 1234.567, flow: 0.125, battery: 3.6 });
  });

  it('the poll loop emits the same values as good, with units from the profile', async () => {
    const batch = await waitFor('a polled DDSU666', () => emitted.find((b) => b.device === 'PY-E'));
    expect(batch.values.find((v) => v.point === 'energy_import')).toMatchObject({ value: 12345.5, unit: 'kWh', quality: 'good' });
    expect(driver!.health().status).toBe('ok');
  });
});

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}
