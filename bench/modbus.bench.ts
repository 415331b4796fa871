// npm run bench -- modbus   (figures and targets: ../shared/BENCHMARKS.md)
//  1. requests per sweep of the demo building vs the fewest possible (125-register windows)
//  2. registers/s on one TCP connection vs mbpoll (libmodbus) against the same server
//  3. a sweep of 8 devices on separate connections vs the same devices one after another
//  4. an RTU poll cycle on a baud-paced line vs the wire time the serial-line spec allows
import { spawn } from 'node:child_process';
import { systemClock } from '../gateway/clock.ts';
import { loadConfig, type LoadedConfig } from '../gateway/config/load.ts';
import { protocolAddress, REGISTER_COUNT, type DeviceProfile } from '../gateway/config/profile.ts';
import { ModbusBus } from '../gateway/drivers/modbus/bus.ts';
import { ModbusDriver } from '../gateway/drivers/modbus/driver.ts';
import { planReads } from '../gateway/drivers/modbus/planner.ts';
import { EventBus } from '../gateway/events.ts';
import { silentLogger } from '../gateway/log.ts';
import { Metrics } from '../gateway/metrics.ts';
import { ModbusMeterSimulator } from '../simulators/modbus-meters.ts';
import { freePort } from '../test/helpers/ports.ts';
import { hubTestConfig } from '../test/helpers/config.ts';
import { hasProgram, median, pinned, progress, report, startServer, stop } from './lib.ts';

const ROUNDS = 3;
const SECONDS_PER_ROUND = 4;

await requestsPerSweep();
await registersPerSecond();
await concurrentSweep();
await rtuPollCycle();

/** The fewest reads that cover a profile: greedy 125-register windows per function code (optimal for covering points on a line). */
function fewestReads(profile: DeviceProfile): number {
  let reads = 0;
  for (const fn of [3, 4] as const) {
    const spans = profile.points
      .filter((p) => p.function === fn)
      .map((p) => [protocolAddress(profile.manualBase, p.address), protocolAddress(profile.manualBase, p.address) + REGISTER_COUNT[p.type] - 1] as const)
      .sort((a, b) => a[0] - b[0]);
    let coveredTo = -1;
    let windowStart = 0;
    for (const [start, end] of spans) {
      if (end <= coveredTo) continue;
      if (start > coveredTo || end > windowStart + 124) {
        reads++;
        windowStart = start;
        coveredTo = start + 124;
      }
    }
  }
  return reads;
}

function driverFor(config: LoadedConfig, sim?: ModbusMeterSimulator, events = new EventBus()) {
  return new ModbusDriver({
    config, events, clock: systemClock, log: silentLogger, metrics: new Metrics(),
    endpointOf: sim ? (bus) => sim.endpoints().get(bus) : undefined,
  });
}

async function requestsPerSweep(): Promise<void> {
  progress('modbus: requests in one poll sweep of the demo building');
  const config = loadConfig(hubTestConfig(1000, (raw) => {
    for (const b of raw.modbus.buses) b.fastPollMs = b.slowPollMs = 3_600_000; // one sweep only
  }), {});
  const sim = new ModbusMeterSimulator({ config, clock: systemClock, log: silentLogger, ephemeralPorts: true });
  await sim.start();
  const events = new EventBus();
  const driver = driverFor(config, sim, events);
  const read = new Set<string>();
  events.on('bench', 'meter.values', ({ device }) => read.add(device));
  await driver.start();
  const meters = config.building.modbus.meters;
  while (read.size < meters.length) await new Promise((r) => setTimeout(r, 20));
  const used = sumRequests(sim, config);
  const minimum = meters.reduce((n, m) => n + fewestReads(config.profiles.get(m.profile)!), 0);
  await driver.stop();
  await sim.stop();
  report({ bench: 'modbus', figure: 'requests_per_sweep', value: used, peer: 'ceil(span/125) minimum', peer_value: minimum, ratio: round(used / minimum), target: '==1.0', ok: used === minimum });
}

function sumRequests(sim: ModbusMeterSimulator, config: LoadedConfig): number {
  return config.building.modbus.buses.reduce((n, b) => n + sim.busTraffic(b.id).requests, 0);
}

async function registersPerSecond(): Promise<void> {
  if (!hasProgram('mbpoll')) {
    progress('modbus: registers/s needs the Debian package mbpoll; skipped');
    report({ bench: 'modbus', figure: 'registers_per_s', value: 0, peer: 'mbpoll', peer_value: null, ratio: null, target: '>=1.0', ok: null });
    return;
  }
  const port = await freePort();
  const { child } = await startServer('register-bank', ['0', String(port)], 1);
  const ours: number[] = [];
  const theirs: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      ours.push(await oursRegistersPerSecond(port));
      theirs.push(await mbpollRegistersPerSecond(port));
      progress(`  round ${round + 1}: bohub ${Math.round(ours.at(-1)!)} reg/s, mbpoll ${Math.round(theirs.at(-1)!)} reg/s`);
    }
  } finally {
    await stop(child);
  }
  const value = median(ours);
  const peer = median(theirs);
  report({ bench: 'modbus', figure: 'registers_per_s', value: Math.round(value), peer: 'mbpoll', peer_value: Math.round(peer), ratio: round(value / peer), target: '>=1.0', ok: value / peer >= 1.0 });
}

/** 125-register reads of unit ids 1..247 in turn, on one connection, for a fixed time. */
async function oursRegistersPerSecond(port: number): Promise<number> {
  const bus = new ModbusBus({
    config: { id: 'bench', transport: 'tcp', host: '127.0.0.1', port, timeoutMs: 1000, interFrameDelayMs: 0, fastPollMs: 1000, slowPollMs: 1000, retries: 0, staleAfterPolls: 3 },
    clock: systemClock, log: silentLogger, metrics: new Metrics(),
  });
  await bus.open();
  let registers = 0;
  const started = performance.now();
  const until = started + SECONDS_PER_ROUND * 1000;
  for (let unit = 1; performance.now() < until; unit = (unit % 247) + 1) registers += (await bus.read(unit, 3, 0, 125)).length;
  const seconds = (performance.now() - started) / 1000;
  await bus.close();
  return registers / seconds;
}

/**
 * mbpoll reading unit ids 1..247, 125 registers each, once per process (`-1`), run
 * again and again for a fixed time. Its continuous mode sleeps its poll rate (>10 ms)
 * between unit ids, so it would measure the sleep; one process start per 247 reads
 * costs it a few per cent instead.
 */
async function mbpollRegistersPerSecond(port: number): Promise<number> {
  const [cmd, args] = pinned(0, 'mbpoll', ['-m', 'tcp', '-p', String(port), '-a', '1:247', '-r', '0', '-0', '-c', '125', '-t', '4', '-1', '127.0.0.1']);
  let registers = 0;
  const started = performance.now();
  const until = started + SECONDS_PER_ROUND * 1000;
  while (performance.now() < until) {
    registers += await new Promise<number>((resolve) => {
      const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
      let count = 0;
      let tail = '';
      child.stdout.on('data', (chunk: Buffer) => {
        const lines = (tail + chunk.toString('latin1')).split('\n');
        tail = lines.pop() ?? '';
        for (const l of lines) if (l.startsWith('[')) count++;
      });
      child.on('close', () => resolve(count));
    });
  }
  return registers / ((performance.now() - started) / 1000);
}

async function concurrentSweep(): Promise<void> {
  const ports = await Promise.all(Array.from({ length: 8 }, () => freePort()));
  // 10 ms per transaction stands in for a Modbus TCP gateway's turnaround on its RS-485 side.
  const { child } = await startServer('register-bank', ['10', ...ports.map(String)], 1);
  const config = loadConfig(hubTestConfig(1000, (raw) => {
    raw.simulators.enabled = false;
    raw.modbus.buses = ports.map((port, i) => ({ id: `G${i}`, transport: 'tcp', host: '127.0.0.1', port, timeoutMs: 1000, interFrameDelayMs: 0, fastPollMs: 3_600_000, slowPollMs: 3_600_000 }));
    raw.modbus.meters = raw.modbus.meters.filter((m: { kind: string }) => m.kind === 'electricity').slice(0, 8).map((m: object, i: number) => ({ ...m, bus: `G${i}`, unitId: 1 }));
  }), {});
  const driver = driverFor(config);
  await driver.start();
  const ids = config.building.modbus.meters.map((m) => m.id);
  const concurrent: number[] = [];
  const sequential: number[] = [];
  try {
    for (let round = 0; round < ROUNDS * 5; round++) {
      let t = performance.now();
      await Promise.all(ids.map((id) => driver.readNow(id)));
      concurrent.push(performance.now() - t);
      t = performance.now();
      for (const id of ids) await driver.readNow(id);
      sequential.push(performance.now() - t);
    }
  } finally {
    await driver.stop();
    await stop(child);
  }
  const ours = median(concurrent);
  const peer = median(sequential);
  progress(`modbus: sweep of ${ids.length} devices: concurrent ${ours.toFixed(1)} ms, one after another ${peer.toFixed(1)} ms`);
  report({ bench: 'modbus', figure: 'sweep_8_devices_speedup', value: round(ours), peer: 'same devices one after another (ms)', peer_value: round(peer), ratio: round(peer / ours), target: '>=2.0', ok: peer / ours >= 2 });
}

/**
 * The wire time of one function-3 transaction reading n registers (Modbus over Serial
 * Line §2.5.1.1): an 8-byte request and a 5 + 2n byte reply at 11 bits per character,
 * each frame followed by a t3.5 silence (3.5 characters; 1.75 ms above 19200 baud).
 */
function rtuWireMs(n: number, baud: number): number {
  const charMs = (11 / baud) * 1000;
  const t35 = baud > 19_200 ? 1.75 : 3.5 * charMs;
  return (8 + 5 + 2 * n) * charMs + 2 * t35;
}

async function rtuPollCycle(): Promise<void> {
  const baud = 9600;
  if (!hasProgram('socat')) {
    progress('modbus: the RTU poll cycle needs the Debian package socat; skipped');
    report({ bench: 'modbus', figure: 'rtu_cycle_vs_wire_time', value: 0, peer: 'serial-line wire time (ms)', peer_value: null, ratio: null, target: '<=1.1', ok: null });
    return;
  }
  const config = loadConfig(hubTestConfig(1000, (raw) => {
    const meters = raw.modbus.meters.filter((m: { kind: string }) => m.kind === 'electricity').slice(0, 10);
    // t3.5 at 9600 baud is 4.01 ms: the driver's silence between frames.
    raw.modbus.buses = [{ id: 'RTU', transport: 'rtu', path: '/tmp/unused', baudRate: baud, parity: 'even', timeoutMs: 1000, interFrameDelayMs: 4, fastPollMs: 3_600_000, slowPollMs: 3_600_000 }];
    raw.modbus.meters = meters.map((m: object, i: number) => ({ ...m, bus: 'RTU', unitId: i + 1 }));
  }), {});
  const sim = new ModbusMeterSimulator({ config, clock: systemClock, log: silentLogger, ephemeralPorts: true, rtu: { baudPacing: true } });
  await sim.start();
  const driver = new ModbusDriver({ config, events: new EventBus(), clock: systemClock, log: silentLogger, metrics: new Metrics(), endpointOf: () => ({ path: sim.serialPathOf('RTU') }) });
  await driver.start();
  const meters = config.building.modbus.meters;
  // The wire time of one sweep: every block of every meter's full read plan.
  const profile = config.profiles.get(meters[0]!.profile)!;
  const blocks = planReads(profile.points, { manualBase: profile.manualBase });
  const wire = meters.length * blocks.reduce((ms, b) => ms + rtuWireMs(b.count, baud), 0);
  const cycles: number[] = [];
  try {
    await Promise.all(meters.map((m) => driver.readNow(m.id))); // warm up the line
    for (let round = 0; round < ROUNDS * 2; round++) {
      const t = performance.now();
      for (const m of meters) await driver.readNow(m.id);
      cycles.push(performance.now() - t);
    }
  } finally {
    await driver.stop();
    await sim.stop();
  }
  const ours = median(cycles);
  progress(`modbus: RTU sweep of ${meters.length} meters at ${baud} baud: ${ours.toFixed(1)} ms, wire time ${wire.toFixed(1)} ms`);
  report({ bench: 'modbus', figure: 'rtu_cycle_vs_wire_time', value: round(ours), peer: 'serial-line wire time (ms)', peer_value: round(wire), ratio: round(ours / wire), target: '<=1.1', ok: ours / wire <= 1.1 });
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
