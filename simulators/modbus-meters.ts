import type { ServerTCP } from 'modbus-serial';
import type { Clock } from '../gateway/clock.ts';
import type { LoadedConfig } from '../gateway/config/load.ts';
import type { BusConfig } from '../gateway/config/schema.ts';
import type { Logger } from '../gateway/log.ts';
import { down, ok, type ComponentHealth, type Plugin } from '../gateway/plugin.ts';
import type { Fault } from './modbus/faults.ts';
import { answerRead, SimulatedMeter, type Answer } from './modbus/meter-bank.ts';
import { openPtyPair, type PtyPair } from './modbus/pty-pair.ts';
import { RtuLink, RtuOverTcpServer } from './modbus/rtu-server.ts';
import { closeModbusTcp, listenModbusTcp } from './modbus/tcp-server.ts';

// Simulated meters on every configured Modbus bus: a Modbus TCP gateway for 'tcp'
// buses, a serial device server (raw RTU over TCP) for 'rtu-over-tcp', and a
// virtual RS-485 line (a socat pty pair) for 'rtu'. Each meter is built from its
// device profile, the same YAML the driver reads, and its registers are written
// with the driver's own codec, so the simulator serves exactly the profile's layout.

export type { Fault } from './modbus/faults.ts';

export interface ModbusMeterSimulatorOptions {
  config: LoadedConfig;
  clock: Clock;
  log: Logger;
  /** Bind every bus to a free port instead of its configured one, and put rtu lines in a temp folder. */
  ephemeralPorts?: boolean;
  /** Wire latency added before each answer (real time), so tests can see overlapping transactions. */
  responseDelayMs?: number;
  rtu?: RtuSimulationOptions;
}

export interface RtuSimulationOptions {
  /**
   * Delay every RTU reply by the wire time of request + t3.5 + reply (Serial Line
   * §2.5.1.1), at the bus's baudRate ('rtu') or `tcpLineBaudRate` ('rtu-over-tcp').
   */
  baudPacing?: boolean;
  /** The RS-485 baud rate behind an 'rtu-over-tcp' device server (its config has none). Default 9600. */
  tcpLineBaudRate?: number;
  /** The socat program. Default: socat on PATH (Debian package socat). */
  socat?: string;
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
  private readonly tcpServers = new Map<string, ServerTCP>();
  private readonly rtuTcpServers = new Map<string, RtuOverTcpServer>();
  private readonly lines = new Map<string, { pty: PtyPair; link: RtuLink }>();
  private readonly bound = new Map<string, { host: string; port: number }>();
  private readonly meters = new Map<string, SimulatedMeter>();
  private readonly traffic = new Map<string, BusTraffic>();
  private startedAt = 0;
  private running = false;

  constructor(private readonly opts: ModbusMeterSimulatorOptions) {}

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.startedAt = this.opts.clock.now();
    const { building, profiles } = this.opts.config;
    const calendar = {
      timeZone: building.site.timezone,
      workingDays: building.calendar.workingDays,
      holidays: building.calendar.holidays.map((h) => h.date),
      extraWorkingDays: building.calendar.extraWorkingDays,
    };
    for (const meter of building.modbus.meters) this.meters.set(meter.id, new SimulatedMeter(meter, profiles.get(meter.profile)!, calendar, this.startedAt));
    const results = await Promise.allSettled(building.modbus.buses.map((bus) => this.serve(bus)));
    // Wait for every bus before giving up, so no server is left listening.
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.stop();
      throw failed.reason;
    }
    this.opts.log.child({ module: 'simulators.modbus' }).info({ buses: this.traffic.size, meters: this.meters.size }, 'simulated Modbus meters serving');
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await Promise.all([
      ...[...this.tcpServers.values()].map(closeModbusTcp),
      ...[...this.rtuTcpServers.values()].map((s) => s.close()),
      ...[...this.lines.values()].map(({ pty, link }) => (link.close(), pty.close())),
    ]);
    this.tcpServers.clear();
    this.rtuTcpServers.clear();
    this.lines.clear();
    this.bound.clear();
  }

  health(): ComponentHealth {
    return this.running ? ok(`${this.meters.size} meters on ${this.traffic.size} buses`) : down('not started');
  }

  /** Where each TCP-reachable bus ('tcp', 'rtu-over-tcp') listens (the real port when ephemeralPorts). */
  endpoints(): Map<string, { host: string; port: number }> {
    return new Map(this.bound);
  }

  /** The pty path the hub opens for an 'rtu' bus: its configured path, or a temp link when ephemeralPorts. */
  serialPathOf(busId: string): string {
    const line = this.lines.get(busId);
    if (!line) throw new RangeError(`bus "${busId}" is not a simulated rtu line`);
    return line.pty.hubPath;
  }

  /** The value a client decodes from the meter's registers at the clock's current time (no fault applied). */
  meterValue(meterId: string, pointId: string): number | null {
    return this.meter(meterId).decodedValue(pointId, this.simulatedNow());
  }

  /** The meter's serial number (changed by a {kind:'replace'} fault). */
  meterSerial(meterId: string): string {
    return this.meter(meterId).serial;
  }

  /**
   * Makes a meter misbehave (see Fault). Lasting faults (timeout, exception,
   * byte-swap, glitch-zero) replace any earlier one and stay until clearFault, or
   * for glitch-zero until its reads are used up; rollover and replace move the
   * billing register at once and leave nothing to clear.
   */
  injectFault(meterId: string, fault: Fault): void {
    this.meter(meterId).inject(fault, this.simulatedNow());
  }

  clearFault(meterId: string): void {
    this.meter(meterId).clear();
  }

  /** The meter's lasting fault, if any. */
  faultOf(meterId: string): Fault | undefined {
    return this.meter(meterId).currentFault;
  }

  /** A dead meter does not answer at all, so the client has to time out: the 'timeout' fault. */
  setOffline(meterId: string, offline = true): void {
    const meter = this.meter(meterId);
    if (offline) meter.inject({ kind: 'timeout' }, this.simulatedNow());
    else if (meter.currentFault?.kind === 'timeout') meter.clear();
  }

  /** Requests seen per bus, with the most seen at once (one-transaction-per-line checks). */
  busTraffic(busId: string): BusTraffic {
    const t = this.traffic.get(busId);
    if (!t) throw new RangeError(`bus "${busId}" is not simulated`);
    return { ...t };
  }

  private async serve(bus: BusConfig): Promise<void> {
    const byUnit = new Map<number, SimulatedMeter>();
    for (const m of this.meters.values()) if (m.config.bus === bus.id) byUnit.set(m.config.unitId, m);
    const traffic: BusTraffic = { requests: 0, inFlight: 0, maxInFlight: 0 };
    const counter = {
      begin: () => {
        traffic.requests++;
        traffic.maxInFlight = Math.max(traffic.maxInFlight, ++traffic.inFlight);
      },
      end: () => void traffic.inFlight--,
    };
    // A TCP gateway reports a unit nobody answers to with 0x0B; on a serial line
    // (direct or through a transparent device server) such a request meets silence.
    const answer = (absent: 'exception' | 'silence') => (request: { unitId: number; fn: number; address: number; count: number }): Answer =>
      answerRead(byUnit, request, this.simulatedNow(), absent);
    const common = { ...(this.opts.responseDelayMs ? { responseDelayMs: this.opts.responseDelayMs } : {}), traffic: counter };
    const pacing = this.opts.rtu?.baudPacing ?? false;

    if (bus.transport === 'tcp') {
      const { server, port } = await listenModbusTcp({ answer: answer('exception'), ...common }, bus.host, this.opts.ephemeralPorts ? 0 : bus.port);
      this.tcpServers.set(bus.id, server);
      this.bound.set(bus.id, { host: bus.host, port });
    } else if (bus.transport === 'rtu-over-tcp') {
      const baud = this.opts.rtu?.tcpLineBaudRate ?? 9600;
      const server = new RtuOverTcpServer({ answer: answer('silence'), ...common, ...(pacing ? { pacedBaudRate: baud } : {}) });
      this.rtuTcpServers.set(bus.id, server);
      const port = await server.listen(bus.host, this.opts.ephemeralPorts ? 0 : bus.port);
      this.bound.set(bus.id, { host: bus.host, port });
    } else {
      const pty = await openPtyPair({ ...(this.opts.rtu?.socat ? { socat: this.opts.rtu.socat } : {}), ...(this.opts.ephemeralPorts ? {} : { hubPath: bus.path }) });
      const link = new RtuLink(pty.input, pty.output, { answer: answer('silence'), ...common, ...(pacing ? { pacedBaudRate: bus.baudRate } : {}) });
      link.start();
      this.lines.set(bus.id, { pty, link });
    }
    this.traffic.set(bus.id, traffic);
  }

  private meter(meterId: string): SimulatedMeter {
    const meter = this.meters.get(meterId);
    if (!meter) throw new RangeError(`unknown meter "${meterId}"`);
    return meter;
  }

  /** Simulated time: the start instant plus the clock's elapsed time times simulators.speedup. */
  private simulatedNow(): number {
    return this.startedAt + (this.opts.clock.now() - this.startedAt) * this.opts.config.building.simulators.speedup;
  }
}
