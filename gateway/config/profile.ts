import { z } from 'zod';

// A device profile is data (devices/*.yaml): a meter model's register map, taken
// from its vendor manual. Adding a model needs no TypeScript. The hub's driver and
// the simulators read the same file.

export const DATA_TYPES = ['u16', 'i16', 'u32', 'i32', 'u64', 'float32', 'float64'] as const;
export type DataType = (typeof DATA_TYPES)[number];

/** Registers (16-bit words) each data type occupies. */
export const REGISTER_COUNT: Record<DataType, number> = {
  u16: 1, i16: 1, u32: 2, i32: 2, u64: 4, float32: 2, float64: 4,
};

const order = z.enum(['big', 'little']);

export const pointSchema = z.object({
  id: z.string().regex(/^[a-z][a-z0-9_]*$/, 'point ids are lower_snake_case'),
  name: z.string().min(1),
  /** Modbus function: 3 = read holding registers, 4 = read input registers. */
  function: z.union([z.literal(3), z.literal(4)]),
  /** The address exactly as the vendor manual prints it; see the profile's `manualBase`. */
  address: z.number().int().min(0).max(65536),
  type: z.enum(DATA_TYPES),
  /**
   * The register count the manual states, if it states one. Checked against the type
   * so a map copied wrongly ("float32 in 1 register") is caught at config check.
   */
  registers: z.number().int().positive().optional(),
  /** Byte order inside each 16-bit register. Modbus itself is big-endian (spec §4.2). */
  byteOrder: order.optional(),
  /** Order of the registers of a multi-register value: big = most significant word first. */
  wordOrder: order.optional(),
  scale: z.number().default(1),
  offset: z.number().default(0),
  unit: z.string(),
  /**
   * Poll class: 'fast' for status values (voltage, power), 'slow' for energy and
   * volume registers that change little between reads. Intervals are per bus.
   */
  poll: z.enum(['fast', 'slow']).default('fast'),
  /**
   * The values the meter can physically show, after scale and offset. A decoded value
   * outside is published as bad, never as a reading: it is what a wrong byte or word
   * order, or a garbled reply, looks like once decoded.
   */
  range: z.object({ min: z.number(), max: z.number() }).refine((r) => r.min < r.max, 'range.min must be below range.max').optional(),
});
export type PointSpec = z.infer<typeof pointSchema>;

export const profileSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
    vendor: z.string().min(1),
    model: z.string().min(1),
    kind: z.enum(['electricity', 'water']),
    /** The vendor document the register map comes from. */
    manual: z.string().min(10),
    /**
     * Whether the manual counts register addresses from 0 (protocol addresses) or
     * from 1 (e.g. "register 1" or "40001" is protocol address 0). Converted once, in
     * `protocolAddress`, and nowhere else.
     */
    manualBase: z.union([z.literal(0), z.literal(1)]),
    byteOrder: order.default('big'),
    wordOrder: order.default('big'),
    points: z.array(pointSchema).min(1),
    billing: z.object({
      /** The cumulative register finance bills from (kWh or m³). */
      point: z.string(),
      /** The largest value the register shows before it rolls over to zero. */
      rolloverAt: z.number().positive(),
      /** The most the register can rise in an hour at the meter's rated maximum (kWh or m³, before any CT ratio): billing judges a rollover or a jump against it. */
      maxUsePerHour: z.number().positive(),
    }),
  })
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    p.points.forEach((pt, i) => {
      if (seen.has(pt.id)) ctx.addIssue({ code: 'custom', path: ['points', i, 'id'], message: `duplicate point "${pt.id}"` });
      seen.add(pt.id);
      const count = REGISTER_COUNT[pt.type];
      if (pt.registers !== undefined && pt.registers !== count)
        ctx.addIssue({ code: 'custom', path: ['points', i, 'registers'], message: `${pt.type} needs ${count} register${count === 1 ? '' : 's'}, not ${pt.registers}` });
      const end = protocolAddress(p.manualBase, pt.address) + count;
      if (protocolAddress(p.manualBase, pt.address) < 0 || end > 65536)
        ctx.addIssue({ code: 'custom', path: ['points', i, 'address'], message: `${pt.type} at ${pt.address} does not fit the 0..65535 register space` });
    });
    for (const overlap of overlappingPoints(p.points)) {
      const [a, b] = [p.points[overlap.first]!, p.points[overlap.second]!];
      ctx.addIssue({
        code: 'custom',
        path: ['points', overlap.second, 'address'],
        message: `${b.type} at ${b.address} overlaps point "${a.id}" (${a.type} at ${a.address}) in the function ${b.function} registers`,
      });
    }
    if (!seen.has(p.billing.point))
      ctx.addIssue({ code: 'custom', path: ['billing', 'point'], message: `unknown point "${p.billing.point}"` });
  });
export type DeviceProfile = z.infer<typeof profileSchema>;

/** The one place a manual's address becomes a Modbus protocol address (0-based, spec §4.4). */
export function protocolAddress(manualBase: 0 | 1, address: number): number {
  return address - manualBase;
}

/**
 * Pairs of points (by index) that share a register. Holding (function 3) and input
 * (function 4) registers are separate tables (spec §4.3), so only points of the same
 * function can overlap. Each point is paired with the earlier point it runs into.
 */
export function overlappingPoints(points: readonly Pick<PointSpec, 'function' | 'address' | 'type'>[]): Array<{ first: number; second: number }> {
  const found: Array<{ first: number; second: number }> = [];
  const sorted = points.map((pt, index) => ({ pt, index })).sort((a, b) => a.pt.function - b.pt.function || a.pt.address - b.pt.address || a.index - b.index);
  // The point reaching furthest so far: a later point starting before its end overlaps it.
  let reach: { index: number; function: number; end: number } | undefined;
  for (const { pt, index } of sorted) {
    const end = pt.address + REGISTER_COUNT[pt.type];
    if (reach && reach.function === pt.function && pt.address < reach.end)
      found.push({ first: Math.min(reach.index, index), second: Math.max(reach.index, index) });
    if (!reach || reach.function !== pt.function || end > reach.end) reach = { index, function: pt.function, end };
  }
  return found;
}
