import type { Clock, Timer } from '../../clock.ts';
import type { LoadedConfig } from '../../config/load.ts';
import type { DeviceProfile } from '../../config/profile.ts';
import type { MeterConfig } from '../../config/schema.ts';
import { BohubError, describeError } from '../../errors.ts';
import type { CommStatus, EventBus, PointValue } from '../../events.ts';
import type { Logger } from '../../log.ts';
import type { Metrics } from '../../metrics.ts';
import { degraded, down, ok, type ComponentHealth, type Plugin } from '../../plugin.ts';
import { ModbusBus, type BusEndpoint, type BusStats } from './bus.ts';
import { decodePoint, layoutOf, type PointLayout } from './codec.ts';
import { planReads, registersOf, type ReadBlock } from './planner.ts';

// The Modbus driver: polls every configured meter and emits its decoded values.
// Buses poll concurrently; the meters on one bus one after another, through the
// bus's single-transaction queue (bus.ts). A poll never throws: a failed device's
// points go out with quality 'bad', and its status change is emitted and logged
// once ("log when unavailable", as Home Assistant does), never once per poll.

export interface ModbusDriverOptions {
  config: LoadedConfig;
  events: EventBus;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  /** Lets the composition root point a bus at a simulator on an ephemeral port; else the bus config is used. */
  endpointOf?: (busId: string) => BusEndpoint | undefined;
  /** Circuit breaker tuning (defaults in DEFAULT_BREAKER). */
  breaker?: Partial<BreakerOptions>;
}

export interface BreakerOptions {
  /** Consecutive failed polls after which a device is skipped for a while. */
  failures: number;
  /** First skip period; doubles on every failed retry, up to maxMs. */
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BREAKER: BreakerOptions = { failures: 3, initialMs: 30_000, maxMs: 10 * 60_000 };

export type DeviceCommStatus = CommStatus | 'unknown';

export interface DeviceStats {
  status: DeviceCommStatus;
  consecutiveFailures: number;
  lastError?: string;
}

export interface ModbusDriverStats {
  buses: Record<string, BusStats>;
  devices: Record<string, DeviceStats>;
}

export class ModbusDriver implements Plugin {
  readonly name = 'modbus';
  readonly kind = 'modbus' as const;
  private readonly buses = new Map<string, ModbusBus>();
  private readonly devices = new Map<string, DeviceState>();
  private readonly timers = new Map<string, Timer>();
  private running = false;
  /** Bumped by stop(), so a poll cycle still awaiting a read from before cannot carry on. */
  private generation = 0;

  constructor(private readonly opts: ModbusDriverOptions) {}

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const generation = ++this.generation;
    const { building, profiles } = this.opts.config;
    const plans = new Map<string, DevicePlan>();
    this.buses.clear();
    this.devices.clear();
    for (const bus of building.modbus.buses) {
      const log = this.opts.log.child({ module: 'modbus', bus: bus.id });
      const endpoint = this.opts.endpointOf?.(bus.id);
      this.buses.set(bus.id, new ModbusBus({ config: bus, clock: this.opts.clock, log, metrics: this.opts.metrics, ...(endpoint ? { endpoint } : {}) }));
    }
    for (const meter of building.modbus.meters) {
      // loadConfig's cross-check guarantees the profile exists.
      const profile = profiles.get(meter.profile)!;
      let plan = plans.get(profile.id);
      if (!plan) plans.set(profile.id, (plan = planDevice(profile)));
      this.devices.set(meter.id, { meter, plan, status: 'unknown', consecutiveFailures: 0, skipUntil: 0, breakerMs: this.breaker.initialMs });
    }
    await Promise.all([...this.buses.values()].map((b) => b.open()));
    for (const busId of this.buses.keys()) void this.pollCycle(busId, generation);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.generation++;
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    await Promise.all([...this.buses.values()].map((b) => b.close()));
  }

  /**
   * Reads one meter now, through its bus's queue, and returns its decoded values.
   * Rejects with the BohubError of the failed transaction (for billing, which must
   * not bill from a missing read).
   */
  async readNow(meterId: string): Promise<PointValue[]> {
    const device = this.devices.get(meterId);
    if (!device) throw new RangeError(`unknown meter "${meterId}"`);
    if (!this.running) throw new BohubError('BOHUB_MODBUS_CONNECT', 'the modbus driver is not started');
    return this.readDevice(device);
  }

  stats(): ModbusDriverStats {
    const buses: Record<string, BusStats> = {};
    for (const [id, bus] of this.buses) buses[id] = bus.stats();
    const devices: Record<string, DeviceStats> = {};
    for (const [id, d] of this.devices)
      devices[id] = { status: d.status, consecutiveFailures: d.consecutiveFailures, ...(d.lastError ? { lastError: d.lastError } : {}) };
    return { buses, devices };
  }

  health(): ComponentHealth {
    if (!this.running) return down('not started');
    const buses = [...this.buses.values()];
    if (buses.length === 0) return ok('no Modbus buses configured');
    const disconnected = buses.filter((b) => !b.connected);
    if (disconnected.length === buses.length)
      return down(`no Modbus bus connected: ${disconnected.map((b) => `${b.id} (${b.stats().lastError ?? 'connecting'})`).join(', ')}`);
    const offline = [...this.devices.values()].filter((d) => d.status === 'offline').map((d) => d.meter.id);
    const problems: string[] = [];
    if (disconnected.length) problems.push(`${disconnected.length} of ${buses.length} buses not connected: ${listIds(disconnected.map((b) => b.id))}`);
    if (offline.length) problems.push(`${offline.length} of ${this.devices.size} meters not answering: ${listIds(offline)}`);
    if (problems.length) return degraded(problems.join('; '));
    return ok(`${buses.length} buses connected, ${this.devices.size} meters`);
  }

  private get breaker(): BreakerOptions {
    return { ...DEFAULT_BREAKER, ...this.opts.breaker };
  }

  /** One pass over a bus's meters, then the next pass is scheduled; nothing escapes it. */
  private async pollCycle(busId: string, generation: number): Promise<void> {
    const bus = this.buses.get(busId)!;
    const config = this.opts.config.building.modbus.buses.find((b) => b.id === busId)!;
    const startedAt = this.opts.clock.now();
    const live = () => this.running && this.generation === generation;
    try {
      for (const device of this.devices.values()) {
        if (!live()) return;
        if (device.meter.bus !== busId || device.skipUntil > this.opts.clock.now()) continue;
        await this.pollDevice(device, live);
      }
      let online = 0;
      for (const d of this.devices.values()) if (d.meter.bus === busId && d.status === 'online') online++;
      this.opts.metrics.devicesOnline.set({ bus: busId }, online);
    } catch (err) {
      // Nothing above should throw; if it does, the loop must survive it.
      this.opts.log.error({ bus: bus.id, err: describeError(err) }, 'modbus poll cycle failed');
    } finally {
      if (live()) {
        const wait = Math.max(0, config.pollIntervalMs - (this.opts.clock.now() - startedAt));
        this.timers.set(busId, this.opts.clock.setTimeout(() => void this.pollCycle(busId, generation), wait));
      }
    }
  }

  private async pollDevice(device: DeviceState, live: () => boolean): Promise<void> {
    let values: PointValue[];
    try {
      values = await this.readDevice(device);
    } catch (err) {
      if (!live()) return;
      this.deviceFailed(device, err);
      const at = this.opts.clock.now();
      values = device.plan.points.map(({ id, unit }) => ({ device: device.meter.id, point: id, value: null, unit, quality: 'bad', sourceTime: at }));
      this.opts.events.emit('meter.values', { device: device.meter.id, values });
      return;
    }
    if (!live()) return;
    device.consecutiveFailures = 0;
    device.skipUntil = 0;
    device.breakerMs = this.breaker.initialMs;
    delete device.lastError;
    this.setStatus(device, 'online');
    this.opts.events.emit('meter.values', { device: device.meter.id, values });
  }

  /** Reads every block of a device; throws the first failure (a BohubError). */
  private async readDevice(device: DeviceState): Promise<PointValue[]> {
    const bus = this.buses.get(device.meter.bus);
    if (!bus) throw new BohubError('BOHUB_MODBUS_CONNECT', `meter ${device.meter.id}: unknown bus "${device.meter.bus}"`);
    const decoded = new Map<string, number | null>();
    for (const block of device.plan.blocks) {
      const data = await bus.read(device.meter.unitId, block.function, block.address, block.count);
      for (const planned of block.points)
        decoded.set(planned.point.id, decodePoint(registersOf(planned, data), device.plan.layouts.get(planned.point.id)!));
    }
    const at = this.opts.clock.now();
    return device.plan.points.map(({ id, unit }) => {
      const value = decoded.get(id) ?? null;
      // A NaN from the device is "no value": the read worked, the value is not usable.
      return { device: device.meter.id, point: id, value, unit, quality: value === null ? 'bad' : 'good', sourceTime: at };
    });
  }

  /** Counts a failure and opens the circuit breaker after `failures` in a row. */
  private deviceFailed(device: DeviceState, err: unknown): void {
    const error = err instanceof BohubError ? err : new BohubError('BOHUB_MODBUS_EXCEPTION', describeError(err), { cause: err });
    device.lastError = describeError(error);
    // A bus that is not connected is the bus's fault, logged once by the bus; it must
    // not trip every meter's breaker, or they would all be skipped once it is back.
    if (error.code !== 'BOHUB_MODBUS_CONNECT') {
      device.consecutiveFailures++;
      if (device.consecutiveFailures >= this.breaker.failures) {
        // A dead device costs a full timeout per block; skip it so it does not slow the bus.
        device.skipUntil = this.opts.clock.now() + device.breakerMs;
        device.breakerMs = Math.min(device.breakerMs * 2, this.breaker.maxMs);
      }
    }
    this.setStatus(device, 'offline', error);
  }

  /** Emits 'device.status' and logs only when the status changes. */
  private setStatus(device: DeviceState, status: CommStatus, error?: BohubError): void {
    if (device.status === status) return;
    const previous = device.status;
    device.status = status;
    const { id, bus } = device.meter;
    this.opts.events.emit('device.status', { device: id, bus, status, ...(error ? { error: describeError(error) } : {}), at: this.opts.clock.now() });
    const log = this.opts.log.child({ module: 'modbus', bus, device: id });
    if (status === 'offline') {
      const context = { err: describeError(error), previous };
      if (error?.code === 'BOHUB_MODBUS_CONNECT') log.debug(context, 'meter not read: bus not connected');
      else log.warn(context, 'meter not answering');
    } else if (previous === 'offline') log.info('meter answering again');
    else log.debug('meter answering');
  }
}

interface DevicePlan {
  profile: DeviceProfile;
  blocks: ReadBlock[];
  layouts: Map<string, PointLayout>;
  points: Array<{ id: string; unit: string }>;
}

interface DeviceState {
  meter: MeterConfig;
  plan: DevicePlan;
  status: DeviceCommStatus;
  consecutiveFailures: number;
  lastError?: string;
  /** Circuit breaker: the device is not polled before this time. */
  skipUntil: number;
  /** The next skip period. */
  breakerMs: number;
}

/** A profile's block reads and point layouts, computed once per profile. */
function planDevice(profile: DeviceProfile): DevicePlan {
  return {
    profile,
    blocks: planReads(profile.points, { manualBase: profile.manualBase }),
    layouts: new Map(profile.points.map((p) => [p.id, layoutOf(profile, p)])),
    points: profile.points.map((p) => ({ id: p.id, unit: p.unit })),
  };
}

/** "A-0101-E, A-0102-E, … and 12 more": health details stay one readable line. */
function listIds(ids: string[], shown = 10): string {
  return ids.length <= shown ? ids.join(', ') : `${ids.slice(0, shown).join(', ')}, … and ${ids.length - shown} more`;
}
