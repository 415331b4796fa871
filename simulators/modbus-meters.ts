import type { Server } from 'node:net';
import { ServerTCP, type IServiceVector } from 'modbus-serial';
import type { Clock } from '../gateway/clock.ts';
import type { LoadedConfig } from '../gateway/config/load.ts';
import { REGISTER_COUNT, protocolAddress, type DeviceProfile, type PointSpec } from '../gateway/config/profile.ts';
import type { MeterConfig } from '../gateway/config/schema.ts';
import { decodePoint, encodePoint, layoutOf } from '../gateway/drivers/modbus/codec.ts';
import { BohubError } from '../gateway/errors.ts';
import type { Logger } from '../gateway/log.ts';
import { down, ok, type ComponentHealth, type Plugin } from '../gateway/plugin.ts';

// Simulated meters behind Modbus TCP gateways: one server per configured tcp bus,
// answering for every unit id on that bus. Each meter is built from its device
// profile (the same YAML the driver reads) and its registers are written with the
// driver's own codec, so the simulator serves exactly the profile's layout.

export interface ModbusMeterSimulatorOptions {
  config: LoadedConfig;
  clock: Clock;
  log: Logger;
  /** Bind every bus to a free port instead of its configured one. */
  ephemeralPorts?: boolean;
  /** Wire latency added before each answer (real time), so tests can see overlapping transactions. */
  responseDelayMs?: number;
}

export interface BusTraffic {
  /** Requests answered (or deliberately left unanswered). */
  requests: number;
  inFlight: number;
  /** The most requests this bus was ever handling at once. */
  maxInFlight: number;
}

export class ModbusMeterSimulator implements Plugin {
  readonly name = 'simulators.modbus';
  private readonly servers = new Map<string, ServerTCP>();
  private readonly bound = new Map<string, { host: string; port: number }>();
  private readonly meters = new Map<string, SimulatedMeter>();
  private readonly offline = new Set<string>();
  private readonly traffic = new Map<string, BusTraffic>();
  private startedAt = 0;
  private running = false;

  constructor(private readonly opts: ModbusMeterSimulatorOptions) {}

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.startedAt = this.opts.clock.now();
    const { building, profiles } = this.opts.config;
    for (const meter of building.modbus.meters) this.meters.set(meter.id, new SimulatedMeter(meter, profiles.get(meter.profile)!));
    const log = this.opts.log.child({ module: 'simulators.modbus' });
    const results = await Promise.allSettled(
      building.modbus.buses.map(async (bus) => {
        if (bus.transport !== 'tcp') {
          log.info({ bus: bus.id, transport: bus.transport }, 'only tcp buses are simulated; skipping');
          return;
        }
        const port = this.opts.ephemeralPorts ? 0 : bus.port;
        const server = await listen(this.vectorFor(bus.id), bus.host, port);
        this.servers.set(bus.id, server.modbus);
        this.bound.set(bus.id, { host: bus.host, port: server.port });
        this.traffic.set(bus.id, { requests: 0, inFlight: 0, maxInFlight: 0 });
      }),
    );
    // Wait for every bus before giving up, so no server is left listening.
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.stop();
      throw failed.reason;
    }
    log.info({ buses: this.bound.size, meters: this.meters.size }, 'simulated Modbus meters listening');
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await Promise.all([...this.servers.values()].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.servers.clear();
    this.bound.clear();
  }

  health(): ComponentHealth {
    return this.running ? ok(`${this.meters.size} meters on ${this.servers.size} buses`) : down('not started');
  }

  /** Where each simulated bus listens (the real port when ephemeralPorts). */
  endpoints(): Map<string, { host: string; port: number }> {
    return new Map(this.bound);
  }

  /** The value a client decodes from the meter's registers at the clock's current time. */
  meterValue(meterId: string, pointId: string): number | null {
    const meter = this.meter(meterId);
    const point = meter.profile.points.find((p) => p.id === pointId);
    if (!point) throw new RangeError(`meter "${meterId}" has no point "${pointId}"`);
    const layout = layoutOf(meter.profile, point);
    return decodePoint(encodePoint(meter.value(point, this.simulatedHours()), layout), layout);
  }

  /** A dead meter does not answer at all, so the client has to time out. */
  setOffline(meterId: string, offline = true): void {
    this.meter(meterId);
    if (offline) this.offline.add(meterId);
    else this.offline.delete(meterId);
  }

  /** Requests seen per bus, with the most seen at once (one-transaction-per-line checks). */
  busTraffic(busId: string): BusTraffic {
    const t = this.traffic.get(busId);
    if (!t) throw new RangeError(`bus "${busId}" is not simulated`);
    return { ...t };
  }

  private meter(meterId: string): SimulatedMeter {
    const meter = this.meters.get(meterId);
    if (!meter) throw new RangeError(`unknown meter "${meterId}"`);
    return meter;
  }

  /** Simulated hours since start: the clock's elapsed time times the configured speedup. */
  private simulatedHours(): number {
    return ((this.opts.clock.now() - this.startedAt) * this.opts.config.building.simulators.speedup) / 3_600_000;
  }

  private vectorFor(busId: string): IServiceVector {
    const byUnit = new Map<number, SimulatedMeter>();
    for (const m of this.meters.values()) if (m.config.bus === busId) byUnit.set(m.config.unitId, m);
    const serve = (fn: 3 | 4, addr: number, length: number, unitId: number, cb: (err: Error | null, value: number[]) => void) => {
      const traffic = this.traffic.get(busId)!;
      traffic.requests++;
      const meter = byUnit.get(unitId);
      if (meter && this.offline.has(meter.config.id)) return; // no answer: the client times out
      traffic.inFlight++;
      traffic.maxInFlight = Math.max(traffic.maxInFlight, traffic.inFlight);
      const answer = () => {
        traffic.inFlight--;
        // Modbus spec §7: 0x0B "gateway target device failed to respond" for a unit
        // id nobody answers to behind this gateway; 0x02 for registers it does not map.
        if (!meter) return cb(modbusException(0x0b), []);
        let words: number[] | undefined;
        try {
          words = meter.registers(fn, addr, length, this.simulatedHours());
        } catch {
          return cb(modbusException(0x04), []); // a value the profile's type cannot hold: "server device failure"
        }
        if (!words) return cb(modbusException(0x02), []);
        cb(null, words);
      };
      const delay = this.opts.responseDelayMs ?? 0;
      if (delay > 0) setTimeout(answer, delay);
      else answer();
    };
    // modbus-serial calls getMultiple* for reads of 2+ registers and get* for one.
    return {
      getMultipleHoldingRegisters: (addr: number, length: number, unitId: number, cb: (err: Error | null, v: number[]) => void) => serve(3, addr, length, unitId, cb),
      getMultipleInputRegisters: (addr: number, length: number, unitId: number, cb: (err: Error | null, v: number[]) => void) => serve(4, addr, length, unitId, cb),
      getHoldingRegister: (addr: number, unitId: number, cb: (err: Error | null, v: number) => void) => serve(3, addr, 1, unitId, (e, v) => cb(e, v[0] ?? 0)),
      getInputRegister: (addr: number, unitId: number, cb: (err: Error | null, v: number) => void) => serve(4, addr, 1, unitId, (e, v) => cb(e, v[0] ?? 0)),
    };
  }
}

/**
 * One meter's behaviour, deterministic per meter id: an office unit draws 0.5-3 kW,
 * a water meter 0.01-0.2 m³/h, each swinging ±30 % over a day. The billing register
 * is the integral of that load, so it only ever rises (until the profile's rollover).
 */
class SimulatedMeter {
  private readonly base: number;
  private readonly start: number;
  private readonly phase: number;
  private readonly voltage: number;
  private readonly powerFactor: number;

  constructor(
    readonly config: MeterConfig,
    readonly profile: DeviceProfile,
  ) {
    const random = mulberry32(fnv1a(config.id));
    const water = profile.kind === 'water';
    this.base = water ? 0.01 + random() * 0.19 : 0.5 + random() * 2.5;
    this.start = water ? 100 + random() * 2_900 : 1_000 + random() * 19_000;
    this.phase = random() * 2 * Math.PI;
    this.voltage = 220 + (random() - 0.5) * 10;
    this.powerFactor = 0.85 + random() * 0.13;
  }

  /** The engineering value of a point after `hours` of simulated time, chosen by the point's unit. */
  value(point: PointSpec, hours: number): number {
    const swing = 0.3 * Math.sin((2 * Math.PI * hours) / 24 + this.phase);
    const load = this.base * (1 + swing);
    if (point.id === this.profile.billing.point) {
      // ∫ base·(1 + 0.3·sin(2πt/24 + φ)) dt from 0 to hours.
      const integral = this.base * (hours - ((0.3 * 24) / (2 * Math.PI)) * (Math.cos((2 * Math.PI * hours) / 24 + this.phase) - Math.cos(this.phase)));
      return (this.start + integral) % this.profile.billing.rolloverAt;
    }
    const voltage = this.voltage + 2 * Math.sin(hours * 5 + this.phase);
    switch (point.unit) {
      case 'V':
        return this.profile.kind === 'water' ? 3.6 - 0.0001 * hours : voltage; // battery or mains
      case 'A':
        return (load * 1000) / (voltage * this.powerFactor);
      case 'kW':
      case 'm³/h':
        return load;
      case 'Hz':
        return 50 + 0.02 * Math.sin(hours * 7 + this.phase);
      case '':
        return this.powerFactor;
      default:
        return 0;
    }
  }

  /** The registers [addr, addr+length) of one table, or undefined if none of them is mapped. */
  registers(fn: 3 | 4, addr: number, length: number, hours: number): number[] | undefined {
    const words = new Array<number>(length).fill(0);
    let mapped = false;
    for (const point of this.profile.points) {
      if (point.function !== fn) continue;
      const at = protocolAddress(this.profile.manualBase, point.address);
      if (at + REGISTER_COUNT[point.type] <= addr || at >= addr + length) continue;
      mapped = true;
      encodePoint(this.value(point, hours), layoutOf(this.profile, point)).forEach((w, i) => {
        if (at + i >= addr && at + i < addr + length) words[at + i - addr] = w;
      });
    }
    return mapped ? words : undefined;
  }
}

/** Starts a ServerTCP and resolves with the port it really bound. */
function listen(vector: IServiceVector, host: string, port: number): Promise<{ modbus: ServerTCP; port: number }> {
  return new Promise((resolve, reject) => {
    // ServerTCP does `options.port || 502`, so port 0 would mean 502; the string "0"
    // gets past that and net.Server.listen reads it as "any free port".
    const modbus = new ServerTCP(vector, { host, port: (port === 0 ? '0' : port) as number });
    // The bound address is only on the wrapped net.Server.
    const server = (modbus as unknown as { _server: Server })._server;
    modbus.on('serverError', (error: Error | null) => {
      const err = error as NodeJS.ErrnoException;
      reject(err.code === 'EADDRINUSE' ? new BohubError('BOHUB_PORT_IN_USE', `cannot serve simulated Modbus on ${host}:${port}: the port is in use`, { cause: err }) : err);
    });
    modbus.on('socketError', () => undefined); // a client hanging up is not our error
    modbus.on('initialized', () => {
      const address = server.address();
      resolve({ modbus, port: typeof address === 'object' && address ? address.port : port });
    });
  });
}

function modbusException(code: number): Error {
  return Object.assign(new Error(`modbus exception ${code}`), { modbusErrorCode: code });
}

/** FNV-1a: a stable 32-bit seed from a meter id. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A small seeded PRNG, so the same meter id always simulates the same meter. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
