import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../gateway/clock.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { silentLogger } from '../../gateway/log.ts';
import { ModbusMeterSimulator } from '../../simulators/modbus-meters.ts';
import { smallBuilding, writeConfig } from '../helpers/config.ts';
import { describeWithProgram, whichProgram } from '../helpers/programs.ts';

// Our simulator read by a real, independent Modbus master: mbpoll. The simulator's
// clock is a ManualClock, so its registers hold still while mbpoll reads them.

const run = promisify(execFile);
// mbpoll speaks Modbus TCP, so the demo's rtu-over-tcp water buses are served as plain TCP here.
const demo = loadConfig(writeConfig((raw) => raw.modbus.buses.forEach((b: { transport: string }) => (b.transport = 'tcp'))), {});

describeWithProgram(whichProgram('mbpoll'), 'the Modbus simulator read by mbpoll', 'mbpoll', (mbpoll) => {
  const clock = new ManualClock();
  const sim = new ModbusMeterSimulator({ config: demo, clock, log: silentLogger, ephemeralPorts: true });

  beforeAll(async () => {
    await sim.start();
    clock.advance(6 * 3_600_000); // some consumption on the registers
  });
  afterAll(() => sim.stop());

  /** One mbpoll read: -0 makes -r a protocol (0-based) address, -B reads high word first. */
  async function read(meterId: string, address: number, type: string, count = 1): Promise<number[]> {
    const meter = demo.building.modbus.meters.find((m) => m.id === meterId)!;
    const { port } = sim.endpoints().get(meter.bus)!;
    const args = ['-m', 'tcp', '-a', String(meter.unitId), '-0', '-r', String(address), '-c', String(count), '-t', type, '-B', '-1', '-o', '2', '-p', String(port), '127.0.0.1'];
    const { stdout } = await run(mbpoll, args);
    // Lines like "[16384]: 	12345.5"
    return [...stdout.matchAll(/^\[\d+\]:\s+(-?[\d.e+-]+)/gm)].map((m) => Number(m[1]));
  }

  // mbpoll prints floats with %g: six significant digits.
  const g = (v: number | null) => Number(v!.toPrecision(6));

  it('reads a DDSU666 energy register (4000H, float32 high word first) as the simulator serves it', async () => {
    const meter = demo.building.modbus.meters.filter((m) => m.profile === 'chint-ddsu666')[17]!;
    const [energy] = await read(meter.id, 0x4000, '4:float');
    expect(energy).toBe(g(sim.meterValue(meter.id, 'energy_import')));
    expect(energy).toBeGreaterThan(1000);
  });

  it('reads the DDSU666 voltage, current and power block from 2000H', async () => {
    const meter = demo.building.modbus.meters.find((m) => m.profile === 'chint-ddsu666')!;
    const [voltage, current, power] = await read(meter.id, 0x2000, '4:float', 3);
    expect([voltage, current, power]).toEqual(['voltage', 'current', 'active_power'].map((p) => g(sim.meterValue(meter.id, p))));
    expect(voltage).toBeGreaterThan(210);
    expect(voltage).toBeLessThan(230);
  });

  it('reads a water meter volume (manual register 1 = protocol 0, u32 litres) exactly', async () => {
    const meter = demo.building.modbus.meters.filter((m) => m.profile === 'generic-water-rs485')[5]!;
    const [litres] = await read(meter.id, 0, '4:int');
    expect(litres! / 1000).toBe(sim.meterValue(meter.id, 'volume'));
  });

  it('answers a Modbus exception, not silence, for an unknown unit id (0x0B) or unmapped registers (0x02)', async () => {
    const { port } = sim.endpoints().get('A-E1')!;
    const stderrOf = (unitId: string, address: string) =>
      run(mbpoll, ['-m', 'tcp', '-a', unitId, '-0', '-r', address, '-t', '4', '-1', '-o', '1', '-p', String(port), '127.0.0.1']).then(
        () => 'no error',
        (e: { stderr: string }) => e.stderr,
      );
    // libmodbus' wording for exceptions 0x0B and 0x02 (a timeout would say "Connection timed out").
    expect(await stderrOf('200', '0')).toMatch(/Target device failed to respond/);
    expect(await stderrOf('1', '100')).toMatch(/Illegal data address/);
  });

  describe('an Eastron SDM630 (input registers, function 04) on a TCP bus', () => {
    const config = loadConfig(
      writeConfig((raw) => {
        smallBuilding(raw, 1);
        const meter = raw.modbus.meters.find((m: { kind: string }) => m.kind === 'electricity');
        Object.assign(meter, { profile: 'eastron-sdm630', serial: 'SDM630-TEST' });
      }),
    );
    const meter = config.building.modbus.meters.find((m) => m.profile === 'eastron-sdm630')!;
    const sdmClock = new ManualClock();
    const sdm = new ModbusMeterSimulator({ config, clock: sdmClock, log: silentLogger, ephemeralPorts: true });
    beforeAll(async () => {
      await sdm.start();
      sdmClock.advance(3 * 3_600_000);
    });
    afterAll(() => sdm.stop());

    /** -t 3:float: the input register table; -0 protocol addresses as in the manual's hex column. */
    async function readInput(address: number, count: number): Promise<number[]> {
      const { port } = sdm.endpoints().get(meter.bus)!;
      const { stdout } = await run(mbpoll, ['-m', 'tcp', '-a', String(meter.unitId), '-0', '-r', String(address), '-c', String(count), '-t', '3:float', '-B', '-1', '-o', '2', '-p', String(port), '127.0.0.1']);
      return [...stdout.matchAll(/^\[\d+\]:\s+(-?[\d.e+-]+)/gm)].map((m) => Number(m[1]));
    }

    it('reads total import kWh at 30073 (0x0048) as the profile defines it', async () => {
      const [energy] = await readInput(0x0048, 1);
      expect(energy).toBe(g(sdm.meterValue(meter.id, 'energy_import')));
      expect(energy).toBeGreaterThan(1000);
    });

    it('reads the phase currents 30007..30011 (0x0006..0x000A) as the profile defines them', async () => {
      expect(await readInput(0x0006, 3)).toEqual(['current_a', 'current_b', 'current_c'].map((p) => g(sdm.meterValue(meter.id, p))));
    });
  });
});
