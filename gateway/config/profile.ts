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
  /** Byte order inside each 16-bit register. Modbus itself is big-endian (spec §4.2). */
  byteOrder: order.optional(),
  /** Order of the registers of a multi-register value: big = most significant word first. */
  wordOrder: order.optional(),
  scale: z.number().default(1),
  offset: z.number().default(0),
  unit: z.string(),
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
    }),
  })
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    p.points.forEach((pt, i) => {
      if (seen.has(pt.id)) ctx.addIssue({ code: 'custom', path: ['points', i, 'id'], message: `duplicate point "${pt.id}"` });
      seen.add(pt.id);
      const end = protocolAddress(p.manualBase, pt.address) + REGISTER_COUNT[pt.type];
      if (protocolAddress(p.manualBase, pt.address) < 0 || end > 65536)
        ctx.addIssue({ code: 'custom', path: ['points', i, 'address'], message: `${pt.type} at ${pt.address} does not fit the 0..65535 register space` });
    });
    if (!seen.has(p.billing.point))
      ctx.addIssue({ code: 'custom', path: ['billing', 'point'], message: `unknown point "${p.billing.point}"` });
  });
export type DeviceProfile = z.infer<typeof profileSchema>;

/** The one place a manual's address becomes a Modbus protocol address (0-based, spec §4.4). */
export function protocolAddress(manualBase: 0 | 1, address: number): number {
  return address - manualBase;
}
