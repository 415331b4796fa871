import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import modbusSerial from 'modbus-serial';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ManualClock } from '../../gateway/clock.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { decodePoint, layoutOf } from '../../gateway/drivers/modbus/codec.ts';
import { protocolAddress, REGISTER_COUNT } from '../../gateway/config/profile.ts';
import { silentLogger } from '../../gateway/log.ts';
import { ModbusMeterSimulator } from '../../simulators/modbus-meters.ts';
import { writeConfig, smallBuilding, type RawConfig } from '../helpers/config.ts';
import { describeWithProgram, whichProgram } from '../helpers/programs.ts';

// The simulator's RTU side against Modbus masters nobody here wrote: a socat pty
// pair read with modbus-serial's serial RTU client (serialport underneath, the
// hub's own code path) and with libmodbus' mbpoll; and RTU over TCP, as behind a
// serial device server in transparent mode, with modbus-serial's connectTelnet.
// (modbus-serial 8.0.25's connectTcpRTUBuffered is not that: its TcpRTUBufferedPort
// puts an MBAP header on the wire, i.e. it speaks Modbus TCP; see ports/
// tcprtubufferedport.js write(). Its raw-RTU-over-TCP client is TelnetPort.)

const run = promisify(execFile);
const ModbusClient = modbusSerial.default;
type Client = InstanceType<typeof ModbusClient>;

/** A building with one RS-485 line and one device server, carrying the newer profiles. */
function rtuBuilding(raw: RawConfig): void {
  smallBuilding(raw, 2);
  const [u1, u2] = raw.towers[0].floors.flatMap((f: { units: { id: string }[] }) => f.units).map((u: { id: string }) => u.id);
  raw.modbus.buses.push(
    { id: 'R1', transport: 'rtu', path: '/dev/null-unused', baudRate: 9600, parity: 'even', timeoutMs: 1000 },
    { id: 'T1', transport: 'rtu-over-tcp', host: '127.0.0.1', port: 0, timeoutMs: 1000 },
  );
  raw.modbus.meters.push(
    { id: 'R-SDM120', unit: u1, kind: 'electricity', bus: 'R1', unitId: 1, profile: 'eastron-sdm120', serial: 'SDM120-1' },
    { id: 'R-SDM630', unit: u1, kind: 'electricity', bus: 'R1', unitId: 2, profile: 'eastron-sdm630', serial: 'SDM630-2' },
    { id: 'R-DTSU', unit: u2, kind: 'electricity', bus: 'R1', unitId: 3, profile: 'chint-dtsu666', serial: 'DTSU-3' },
    { id: 'T-SDM630', unit: u2, kind: 'electricity', bus: 'T1', unitId: 7, profile: 'eastron-sdm630', serial: 'SDM630-7' },
    { id: 'T-WATER', unit: u2, kind: 'water', bus: 'T1', unitId: 8, profile: 'generic-water-rs485', serial: 'W-8' },
  );
  raw.simulators.ephemeralPorts = true;
}

describeWithProgram(whichProgram('socat'), 'the Modbus simulator over RTU (socat pty pair, rtu-over-tcp)', 'socat', (socat) => {
  const config = loadConfig(writeConfig(rtuBuilding));
  const clock = new ManualClock();
  const sim = new ModbusMeterSimulator({ config, clock, log: silentLogger, ephemeralPorts: true, rtu: { socat } });
  const meterOf = (id: string) => config.building.modbus.meters.find((m) => m.id === id)!;

  /** Reads one point with a modbus-serial client and decodes it with the profile's layout. */
  async function readPoint(client: Client, meterId: string, pointId: string): Promise<number | null> {
    const meter = meterOf(meterId);
    const profile = config.profiles.get(meter.profile)!;
    const point = profile.points.find((p) => p.id === pointId)!;
    client.setID(meter.unitId);
    const address = protocolAddress(profile.manualBase, point.address);
    const count = REGISTER_COUNT[point.type];
    const res = point.function === 3 ? await client.readHoldingRegisters(address, count) : await client.readInputRegisters(address, count);
    return decodePoint(res.data, layoutOf(profile, point));
  }

  beforeAll(async () => {
    await sim.start();
    clock.advance(5 * 3_600_000); // some consumption on the registers; the clock then holds still
  });
  afterAll(() => sim.stop());

  it('serves a pty that modbus-serial reads with its serial RTU client', async () => {
    const client = new ModbusClient();
    await client.connectRTUBuffered(sim.serialPathOf('R1'), { baudRate: 9600, parity: 'even' });
    client.setTimeout(1000);
    try {
      for (const [meter, point] of [['R-SDM120', 'voltage'], ['R-SDM120', 'energy_import'], ['R-SDM630', 'current_b'], ['R-DTSU', 'voltage_a'], ['R-DTSU', 'energy_import']] as const)
        expect(await readPoint(client, meter, point), `${meter}.${point}`).toBe(sim.meterValue(meter, point));
      // The simulated line really carries a DTSU666's 0.1 V steps: about 2200 in the float for 220 V.
      expect(sim.meterValue('R-DTSU', 'voltage_a')).toBeGreaterThan(200);
    } finally {
      await new Promise<void>((resolve) => client.close(() => resolve()));
    }
  });

  describeWithProgram(whichProgram('mbpoll'), 'read by mbpoll -m rtu', 'mbpoll', (mbpoll) => {
    /** mbpoll over the pty: -0 protocol addresses, -B high word first, 9600 8E1 like the bus. */
    async function mbpollRtu(unitId: number, table: '3' | '4', address: number, count: number): Promise<number[]> {
      const args = ['-m', 'rtu', '-b', '9600', '-P', 'even', '-a', String(unitId), '-0', '-r', String(address), '-c', String(count), '-t', `${table}:float`, '-B', '-1', '-o', '2', sim.serialPathOf('R1')];
      const { stdout } = await run(mbpoll, args);
      return [...stdout.matchAll(/^\[\d+\]:\s+(-?[\d.e+-]+)/gm)].map((m) => Number(m[1]));
    }
    // mbpoll prints floats with %g: six significant digits.
    const g = (v: number | null) => Number(v!.toPrecision(6));

    it('reads an SDM120 import energy (input register 30073 = 0x0048) as the simulator serves it', async () => {
      const [energy] = await mbpollRtu(1, '3', 0x0048, 1);
      expect(energy).toBe(g(sim.meterValue('R-SDM120', 'energy_import')));
      expect(energy).toBeGreaterThan(1000);
    });

    it('reads the SDM630 phase voltages block (30001..30005) as the simulator serves it', async () => {
      const values = await mbpollRtu(2, '3', 0x0000, 3);
      expect(values).toEqual(['voltage_a', 'voltage_b', 'voltage_c'].map((p) => g(sim.meterValue('R-SDM630', p))));
    });

    it('reads a DTSU666 holding-register float (ImpEp) as the simulator serves it', async () => {
      const [energy] = await mbpollRtu(3, '4', 0x401e, 1);
      expect(energy).toBe(g(sim.meterValue('R-DTSU', 'energy_import')));
    });

    it('gets no answer for a unit id nobody has on the line (serial lines have no 0x0B)', async () => {
      await expect(mbpollRtu(9, '3', 0, 1)).rejects.toMatchObject({ stderr: expect.stringMatching(/timed out/i) });
    });
  });

  it('serves raw RTU frames over TCP that modbus-serial reads with connectTelnet', async () => {
    const client = new ModbusClient();
    await client.connectTelnet('127.0.0.1', { port: sim.endpoints().get('T1')!.port });
    client.setTimeout(1000);
    try {
      for (const [meter, point] of [['T-SDM630', 'active_power'], ['T-SDM630', 'energy_import'], ['T-WATER', 'volume']] as const)
        expect(await readPoint(client, meter, point), `${meter}.${point}`).toBe(sim.meterValue(meter, point));
    } finally {
      await new Promise<void>((resolve) => client.close(() => resolve()));
    }
  });
});
