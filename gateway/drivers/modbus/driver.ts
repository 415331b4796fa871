import type { Clock, Timer } from '../../clock.ts';
import type { LoadedConfig } from '../../config/load.ts';
import type { DeviceProfile } from '../../config/profile.ts';
import type { BusConfig, MeterConfig } from '../../config/schema.ts';
import { BohubError, describeError } from '../../errors.ts';
import type { CommStatus, EventBus, PointValue } from '../../events.ts';
import type { Logger } from '../../log.ts';
import type { Metrics } from '../../metrics.ts';
import { degraded, down, ok, type ComponentHealth, type Plugin } from '../../plugin.ts';
import { ModbusBus, type BusEndpoint, type BusStats } from './bus.ts';
import { decodePoint, layoutOf, type PointLayout } from './codec.ts';
import { planPollClasses, registersOf, type PollPlan, type ReadBlock } from './planner.ts';
import { PointQualities } from './quality.ts';

// The Modbus driver: polls every configured meter and emits its decoded values.
// Buses poll concurrently; the meters on one bus one after another, through the
// bus's single-transaction queue (bus.ts). Each cycle reads a meter's 'fast' points,
// and all its points when its 'slow' ones are due (bus fastPollMs / slowPollMs). A
// failed request is retried (bus `retries`) before it counts against the device. A
// poll never throws: a failed device's points go out with quality 'bad', and its
// status change is emitted and logged once ("log when unavailable", as Home
// Assistant does), never once per poll. Point qualities live in quality.ts.

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
  /** Failed polls since start, the bus's own connection failures included (the devices page, issue 8). */
  errors: number;
  lastErrorAt?: number;
  /** When a poll last answered. */
  lastGoodAt?: number;
}

export interface BusPollStats extends BusStats {
  /** Poll cycles completed. */
  cycles: number;
  /** How long the last cycle over the bus's meters took. */
  lastCycleMs?: number;
}

export interface ModbusDriverStats {
  buses: Record<string, BusPollStats>;
  devices: Record<string, DeviceStats>;
}

export class ModbusDriver implements Plugin {
  readonly name = 'modbus';
  readonly kind = 'modbus' as const;
  private readonly buses = new Map<string, ModbusBus>();
  private readonly devices = new Map<string, DeviceState>();
  private readonly timers = new Map<string, Timer>();
  private readonly cycles = new Map<string, { count: number; lastMs?: number }>();
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
    this.cycles.clear();
    for (const bus of building.modbus.buses) {
      const log = this.opts.log.child({ module: 'modbus', bus: bus.id });
      const endpoint = this.opts.endpointOf?.(bus.id);
      this.buses.set(bus.id, new ModbusBus({ config: bus, clock: this.opts.clock, log, metrics: this.opts.metrics, ...(endpoint ? { endpoint } : {}) }));
      this.cycles.set(bus.id, { count: 0 });
    }
    for (const meter of building.modbus.meters) {
      // loadConfig's cross-check guarantees the profile and the bus exist.
      const profile = profiles.get(meter.profile)!;
      const bus = building.modbus.buses.find((b) => b.id === meter.bus)!;
      let plan = plans.get(profile.id);
      if (!plan) plans.set(profile.id, (plan = planDevice(profile)));
      const tracked = profile.points.map((p) => ({ id: p.id, unit: p.unit, pollMs: p.poll === 'slow' ? bus.slowPollMs : bus.fastPollMs, cumulative: p.id === profile.billing.point, range: p.range ?? billingRange(profile, p.id) }));
      this.devices.set(meter.id, {
        meter,
        bus,
        plan,
        qualities: new PointQualities(meter.id, tracked, { staleAfterPolls: bus.staleAfterPolls }),
        slowDueAt: 0,
        status: 'unknown',
        consecutiveFailures: 0,
        errors: 0,
        skipUntil: 0,
        breakerMs: this.breaker.initialMs,
      });
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
   * Reads every point of one meter now, through its bus's queue, and publishes and
   * returns the values. Rejects with the BohubError of the failed transaction (for
   * billing, which must not bill from a missing read).
   */
  async readNow(meterId: string): Promise<PointValue[]> {
    const device = this.devices.get(meterId);
    if (!device) throw new RangeError(`unknown meter "${meterId}"`);
    if (!this.running) throw new BohubError('BOHUB_MODBUS_CONNECT', 'the modbus driver is not started');
    const values = device.qualities.accept(await this.readBlocks(device, device.plan.all), this.opts.clock.now());
    this.opts.events.emit('meter.values', { device: meterId, values });
    return values;
  }

  stats(): ModbusDriverStats {
    const buses: Record<string, BusPollStats> = {};
    for (const [id, bus] of this.buses) {
      const cycle = this.cycles.get(id);
      buses[id] = { ...bus.stats(), cycles: cycle?.count ?? 0, ...(cycle?.lastMs !== undefined ? { lastCycleMs: cycle.lastMs } : {}) };
    }
    const devices: Record<string, DeviceStats> = {};
    for (const [id, d] of this.devices)
      devices[id] = {
        status: d.status,
        consecutiveFailures: d.consecutiveFailures,
        ...(d.lastError ? { lastError: d.lastError } : {}),
        errors: d.errors,
        ...(d.lastErrorAt !== undefined ? { lastErrorAt: d.lastErrorAt } : {}),
        ...(d.lastGoodAt !== undefined ? { lastGoodAt: d.lastGoodAt } : {}),
      };
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
    const config = this.opts.config.building.modbus.buses.find((b) => b.id === busId)!;
    const startedAt = this.opts.clock.now();
    const live = () => this.running && this.generation === generation;
    try {
      for (const device of this.devices.values()) {
        if (!live()) return;
        if (device.meter.bus !== busId) continue;
        if (device.skipUntil <= this.opts.clock.now()) await this.pollDevice(device, live);
        if (!live()) return;
        // Skipped by the breaker, or slow points not due: what has aged goes stale.
        const stale = device.qualities.expire(this.opts.clock.now());
        if (stale.length) this.opts.events.emit('meter.values', { device: device.meter.id, values: stale });
      }
      let online = 0;
      for (const d of this.devices.values()) if (d.meter.bus === busId && d.status === 'online') online++;
      this.opts.metrics.devicesOnline.set({ bus: busId }, online);
      const cycle = this.cycles.get(busId)!;
      cycle.count++;
      cycle.lastMs = this.opts.clock.now() - startedAt;
    } catch (err) {
      // Nothing above should throw; if it does, the loop must survive it.
      this.opts.log.error({ bus: busId, err: describeError(err) }, 'modbus poll cycle failed');
    } finally {
      if (live()) {
        const wait = Math.max(0, config.fastPollMs - (this.opts.clock.now() - startedAt));
        this.timers.set(busId, this.opts.clock.setTimeout(() => void this.pollCycle(busId, generation), wait));
      }
    }
  }

  /** Reads the fast points, or every point when the slow ones are due, and publishes them. */
  private async pollDevice(device: DeviceState, live: () => boolean): Promise<void> {
    const withSlow = this.opts.clock.now() >= device.slowDueAt;
    const blocks = withSlow ? device.plan.all : device.plan.fast;
    if (blocks.length === 0) return;
    let decoded: Map<string, number | null>;
    try {
      decoded = await this.readBlocks(device, blocks);
    } catch (err) {
      if (!live()) return;
      const error = this.deviceFailed(device, err);
      const ids = blocks.flatMap((b) => b.points.map((p) => p.point.id));
      this.opts.events.emit('meter.values', { device: device.meter.id, values: device.qualities.fail(ids, describeError(error), this.opts.clock.now()) });
      return;
    }
    if (!live()) return;
    if (withSlow) device.slowDueAt = this.opts.clock.now() + device.bus.slowPollMs;
    device.consecutiveFailures = 0;
    device.skipUntil = 0;
    device.breakerMs = this.breaker.initialMs;
    delete device.lastError;
    device.lastGoodAt = this.opts.clock.now();
    this.setStatus(device, 'online');
    this.opts.events.emit('meter.values', { device: device.meter.id, values: device.qualities.accept(decoded, this.opts.clock.now()) });
  }

  /**
   * Reads the given blocks of a device and decodes their points, in profile order.
   * Throws the first failure (a BohubError) after its retries; nothing from a
   * failed or malformed reply is ever decoded.
   */
  private async readBlocks(device: DeviceState, blocks: readonly ReadBlock[]): Promise<Map<string, number | null>> {
    const bus = this.buses.get(device.meter.bus);
    if (!bus) throw new BohubError('BOHUB_MODBUS_CONNECT', `meter ${device.meter.id}: unknown bus "${device.meter.bus}"`);
    const byId = new Map<string, number | null>();
    for (const block of blocks) {
      const data = await this.readWithRetries(bus, device, block);
      for (const planned of block.points) byId.set(planned.point.id, decodePoint(registersOf(planned, data), device.plan.layouts.get(planned.point.id)!));
    }
    const decoded = new Map<string, number | null>();
    for (const id of device.plan.order) if (byId.has(id)) decoded.set(id, byId.get(id)!);
    return decoded;
  }

  /** One block read, tried 1 + `retries` times while the failure may be passing. */
  private async readWithRetries(bus: ModbusBus, device: DeviceState, block: ReadBlock): Promise<number[]> {
    const { unitId, id } = device.meter;
    for (let attempt = 0; ; attempt++) {
      try {
        return await bus.read(unitId, block.function, block.address, block.count, id);
      } catch (err) {
        if (attempt >= device.bus.retries || !retryable(err)) throw err;
      }
    }
  }

  /** Counts a failure and opens the circuit breaker after `failures` in a row. */
  private deviceFailed(device: DeviceState, err: unknown): BohubError {
    const error = err instanceof BohubError ? err : new BohubError('BOHUB_MODBUS_EXCEPTION', describeError(err), { cause: err });
    device.lastError = describeError(error);
    device.errors++;
    device.lastErrorAt = this.opts.clock.now();
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
    return error;
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

interface DevicePlan extends PollPlan {
  profile: DeviceProfile;
  layouts: Map<string, PointLayout>;
  /** Point ids in profile order, the order values are published in. */
  order: string[];
}

interface DeviceState {
  meter: MeterConfig;
  bus: BusConfig;
  plan: DevicePlan;
  qualities: PointQualities;
  /** When the slow points are next read (0: on the first poll). */
  slowDueAt: number;
  status: DeviceCommStatus;
  consecutiveFailures: number;
  lastError?: string;
  /** Failed polls since start, and when the last one failed. */
  errors: number;
  lastErrorAt?: number;
  /** When a poll last answered. */
  lastGoodAt?: number;
  /** Circuit breaker: the device is not polled before this time. */
  skipUntil: number;
  /** The next skip period. */
  breakerMs: number;
}

/** A profile's block reads and point layouts, computed once per profile. */
function planDevice(profile: DeviceProfile): DevicePlan {
  return {
    profile,
    ...planPollClasses(profile.points, { manualBase: profile.manualBase }),
    layouts: new Map(profile.points.map((p) => [p.id, layoutOf(profile, p)])),
    order: profile.points.map((p) => p.id),
  };
}

/**
 * Worth another try: a timeout, a CRC error, a malformed frame, a busy or
 * unreachable target (exceptions 0x05, 0x06, 0x0A, 0x0B). Not worth it: a bus that is
 * not connected (it fails fast until it reconnects), and exceptions 0x01-0x03, which
 * the device will answer the same way every time (Modbus Application Protocol §7).
 */
function retryable(err: unknown): boolean {
  if (!(err instanceof BohubError) || err.code === 'BOHUB_MODBUS_CONNECT') return false;
  const code = (err.cause as { modbusCode?: unknown } | undefined)?.modbusCode;
  return !(typeof code === 'number' && code >= 1 && code <= 3);
}

/** "A-0101-E, A-0102-E, … and 12 more": health details stay one readable line. */
function listIds(ids: string[], shown = 10): string {
  return ids.length <= shown ? ids.join(', ') : `${ids.slice(0, shown).join(', ')}, … and ${ids.length - shown} more`;
}

/** A billing register can only show 0 up to where it rolls over. */
function billingRange(profile: DeviceProfile, pointId: string): { min: number; max: number } | undefined {
  return pointId === profile.billing.point ? { min: 0, max: profile.billing.rolloverAt } : undefined;
}
