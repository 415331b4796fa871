import { REGISTER_COUNT, protocolAddress, type DeviceProfile, type PointSpec } from '../../gateway/config/profile.ts';
import type { MeterConfig } from '../../gateway/config/schema.ts';
import { decodePoint, encodePoint, layoutOf } from '../../gateway/drivers/modbus/codec.ts';
import { checkFault, type Fault } from './faults.ts';
import { MeterModel, type SiteCalendar } from './meter-model.ts';

// One simulated meter's register image and its injected fault, and the answer a
// bus gives to one read request. TCP and RTU servers share this, so a fault looks
// the same on every transport; only the framing differs.

/** What a server does with one read request. */
export type Answer =
  | { kind: 'registers'; words: number[] }
  | { kind: 'exception'; code: number }
  /** Say nothing: the client times out. */
  | { kind: 'silence' };

export type ReadFunction = 3 | 4;

/** Modbus Application Protocol §7 exception codes the simulator answers with. */
export const EXCEPTION = {
  illegalFunction: 0x01,
  illegalDataAddress: 0x02,
  illegalDataValue: 0x03,
  serverDeviceFailure: 0x04,
  gatewayTargetFailed: 0x0b,
} as const;

export class SimulatedMeter {
  readonly model: MeterModel;
  /** The meter's serial number; a replacement changes it. */
  serial: string;
  private fault: Fault | undefined;
  private glitchReadsLeft = 0;

  constructor(
    readonly config: MeterConfig,
    readonly profile: DeviceProfile,
    calendar: SiteCalendar,
    startAt: number,
  ) {
    this.model = new MeterModel(config, profile, calendar, startAt);
    this.serial = config.serial;
  }

  get currentFault(): Fault | undefined {
    return this.fault;
  }

  /** Applies a fault at simulated instant `at`. Rollover and replace act at once and do not linger. */
  inject(fault: Fault, at: number): void {
    checkFault(fault);
    if (fault.kind === 'rollover') {
      this.model.setBilling(at, this.profile.billing.rolloverAt - (fault.below ?? 1));
      return;
    }
    if (fault.kind === 'replace') {
      this.model.setBilling(at, 0);
      this.serial = fault.serial ?? `${this.config.serial}-R`;
      return;
    }
    this.fault = fault;
    this.glitchReadsLeft = fault.kind === 'glitch-zero' ? fault.reads : 0;
  }

  clear(): void {
    this.fault = undefined;
    this.glitchReadsLeft = 0;
  }

  /** The value a client decodes from this meter's point at `at`, as the fault-free registers carry it. */
  decodedValue(pointId: string, at: number): number | null {
    const point = this.point(pointId);
    const layout = layoutOf(this.profile, point);
    return decodePoint(encodePoint(this.model.value(point, at), layout), layout);
  }

  point(pointId: string): PointSpec {
    const point = this.profile.points.find((p) => p.id === pointId);
    if (!point) throw new RangeError(`meter "${this.config.id}" has no point "${pointId}"`);
    return point;
  }

  /** Answers a read of `count` registers from `address`, with the injected fault applied. */
  answer(fn: ReadFunction, address: number, count: number, at: number): Answer {
    const fault = this.fault;
    if (fault?.kind === 'timeout') return { kind: 'silence' };
    if (fault?.kind === 'exception') return { kind: 'exception', code: fault.code };
    let image: RegisterImage | undefined;
    try {
      image = this.registers(fn, address, count, at);
    } catch {
      return { kind: 'exception', code: EXCEPTION.serverDeviceFailure }; // a value the profile's type cannot hold
    }
    if (!image) return { kind: 'exception', code: EXCEPTION.illegalDataAddress };
    const words = image.words;
    if (fault?.kind === 'glitch-zero' && image.billing) {
      for (const i of image.billing) words[i] = 0;
      if (--this.glitchReadsLeft <= 0) this.clear();
    }
    if (fault?.kind === 'byte-swap') return { kind: 'registers', words: words.map(swapBytes) };
    return { kind: 'registers', words };
  }

  /** The registers [address, address+count) of one table, or undefined if none of them is mapped. */
  private registers(fn: ReadFunction, address: number, count: number, at: number): RegisterImage | undefined {
    const words = new Array<number>(count).fill(0);
    let mapped = false;
    let billing: number[] | undefined;
    for (const point of this.profile.points) {
      if (point.function !== fn) continue;
      const start = protocolAddress(this.profile.manualBase, point.address);
      if (start + REGISTER_COUNT[point.type] <= address || start >= address + count) continue;
      mapped = true;
      encodePoint(this.model.value(point, at), layoutOf(this.profile, point)).forEach((w, i) => {
        const at = start + i - address;
        if (at < 0 || at >= count) return;
        words[at] = w;
        if (point.id === this.profile.billing.point) (billing ??= []).push(at);
      });
    }
    return mapped ? { words, ...(billing ? { billing } : {}) } : undefined;
  }
}

interface RegisterImage {
  words: number[];
  /** Indexes into `words` that belong to the billing register. */
  billing?: number[];
}

/**
 * Answers one read on a bus. `absentUnit` is what happens when no meter has the
 * unit id: a Modbus TCP gateway answers 0x0B (Application Protocol §7, "gateway
 * target device failed to respond"), while on a serial line nobody answers at all.
 */
export function answerRead(
  meters: ReadonlyMap<number, SimulatedMeter>,
  request: { unitId: number; fn: number; address: number; count: number },
  at: number,
  absentUnit: 'exception' | 'silence',
): Answer {
  const meter = meters.get(request.unitId);
  if (!meter) return absentUnit === 'exception' ? { kind: 'exception', code: EXCEPTION.gatewayTargetFailed } : { kind: 'silence' };
  if (request.fn !== 3 && request.fn !== 4) return { kind: 'exception', code: EXCEPTION.illegalFunction };
  // Application Protocol §6.3/§6.4: quantity 1..125 (0x7D) else 0x03; past the table else 0x02.
  if (request.count < 1 || request.count > 125) return { kind: 'exception', code: EXCEPTION.illegalDataValue };
  if (request.address + request.count > 0x10000) return { kind: 'exception', code: EXCEPTION.illegalDataAddress };
  return meter.answer(request.fn, request.address, request.count, at);
}

export function swapBytes(w: number): number {
  return ((w & 0xff) << 8) | (w >> 8);
}
