import { REGISTER_COUNT, protocolAddress, type PointSpec } from '../../config/profile.ts';

// Block reads: one transaction per block instead of one per point. On a shared
// RS-485 line every transaction costs a round trip plus the inter-frame silence, so
// fewer, larger reads let one bus serve more meters per poll interval.

/** Modbus spec §6.3 / §6.4: "Quantity of Registers: 1 to 125 (0x7D)". */
export const MAX_READ_REGISTERS = 125;

export interface PlanOptions {
  /** The profile's manualBase: point addresses are as the manual prints them. */
  manualBase: 0 | 1;
  /** Largest block, at most 125 registers (spec §6.3). */
  maxRegisters?: number;
  /**
   * Largest run of unused registers a block may read through to join two points.
   * 0 reads only adjacent points together (for devices that answer an exception for
   * addresses they do not map, spec §7 code 02).
   */
  maxGap?: number;
}

export interface PlannedPoint {
  point: PointSpec;
  /** Protocol address (0-based, spec §4.4) of the point's first register. */
  address: number;
  /** The point's first register within its block's response. */
  offset: number;
  count: number;
}

export interface ReadBlock {
  function: 3 | 4;
  /** Protocol address of the first register read. */
  address: number;
  /** Registers read, 1..maxRegisters. */
  count: number;
  points: PlannedPoint[];
}

/**
 * Merges a device's points into the fewest block reads, per function code (holding
 * and input registers are separate tables, spec §4.3). Greedy over points sorted by
 * address: a point joins the open block while the block stays within maxRegisters
 * and the gap before the point within maxGap. Because both limits only get harder as
 * a block grows, taking every point that still fits is optimal.
 */
export function planReads(points: readonly PointSpec[], options: PlanOptions): ReadBlock[] {
  const maxRegisters = options.maxRegisters ?? MAX_READ_REGISTERS;
  const maxGap = options.maxGap ?? 10;
  if (!Number.isInteger(maxRegisters) || maxRegisters < 1 || maxRegisters > MAX_READ_REGISTERS)
    throw new RangeError(`maxRegisters must be 1..${MAX_READ_REGISTERS} (Modbus spec §6.3), got ${maxRegisters}`);
  if (!Number.isInteger(maxGap) || maxGap < 0) throw new RangeError(`maxGap must be a whole number >= 0, got ${maxGap}`);

  const located = points.map((point) => ({
    point,
    address: protocolAddress(options.manualBase, point.address),
    count: REGISTER_COUNT[point.type],
  }));

  const blocks: ReadBlock[] = [];
  for (const fn of [3, 4] as const) {
    const sorted = located.filter((p) => p.point.function === fn).sort((a, b) => a.address - b.address || b.count - a.count);
    let open: ReadBlock | undefined;
    for (const p of sorted) {
      const end = p.address + p.count;
      const blockEnd: number = open ? open.address + open.count : 0;
      const fits = open !== undefined && p.address - blockEnd <= maxGap && Math.max(end, blockEnd) - open.address <= maxRegisters;
      if (!open || !fits) {
        open = { function: fn, address: p.address, count: p.count, points: [] };
        blocks.push(open);
      }
      open.count = Math.max(open.count, end - open.address);
      open.points.push({ point: p.point, address: p.address, offset: p.address - open.address, count: p.count });
    }
  }
  return blocks;
}

/** A device's reads for each kind of poll. */
export interface PollPlan {
  /** The 'fast' points only: what most poll cycles read. */
  fast: ReadBlock[];
  /**
   * Every point, planned together: for a cycle in which the 'slow' points are due
   * too, and for an on-demand read. Planned as one set, so reading everything costs
   * no more requests than it would without poll classes.
   */
  all: ReadBlock[];
}

/** Plans the fast points and the full set separately (each point's `poll` class). */
export function planPollClasses(points: readonly PointSpec[], options: PlanOptions): PollPlan {
  const all = planReads(points, options);
  const fastPoints = points.filter((p) => p.poll === 'fast');
  return { fast: fastPoints.length === points.length ? all : planReads(fastPoints, options), all };
}

/** The registers of one planned point, cut out of its block's response. */
export function registersOf(planned: PlannedPoint, data: readonly number[]): number[] {
  return data.slice(planned.offset, planned.offset + planned.count);
}
