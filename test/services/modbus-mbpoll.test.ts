import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ManualClock } from '../../gateway/clock.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { silentLogger } from '../../gateway/log.ts';
import { ModbusMeterSimulator } from '../../simulators/modbus-meters.ts';
import { describeWithProgram, whichProgram } from '../helpers/programs.ts';

// Our simulator read by a real, independent Modbus master: mbpoll. The simulator's
// clock is a ManualClock, so its registers hold still while mbpoll reads them.

const run = promisify(execFile);
const demo = loadConfig('config/demo/building.yaml');

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
});
