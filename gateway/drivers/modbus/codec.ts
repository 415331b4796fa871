import { REGISTER_COUNT, type DataType, type DeviceProfile, type PointSpec } from '../../config/profile.ts';

// Registers <-> engineering values. The order of the steps is Home Assistant's
// (homeassistant/components/modbus): put bytes and words in Modbus order, unpack the
// type, apply scale and offset, then map NaN/Infinity to "no value".
//
// Modbus sends each 16-bit register big-endian (spec §4.2, "MODBUS uses a 'big-Endian'
// representation for addresses and data items"). The spec says nothing about values
// wider than one register, so vendors differ: `wordOrder` says whether the most
// significant register comes first, `byteOrder` whether a device swapped the two
// bytes inside each register.

export type Order = 'big' | 'little';

/** Everything needed to turn a point's registers into a value, with profile defaults resolved. */
export interface PointLayout {
  type: DataType;
  byteOrder: Order;
  wordOrder: Order;
  scale: number;
  offset: number;
}

/** A point's layout: its own byte/word order where given, else the profile's. */
export function layoutOf(profile: Pick<DeviceProfile, 'byteOrder' | 'wordOrder'>, point: PointSpec): PointLayout {
  return {
    type: point.type,
    byteOrder: point.byteOrder ?? profile.byteOrder,
    wordOrder: point.wordOrder ?? profile.wordOrder,
    scale: point.scale,
    offset: point.offset,
  };
}

/** The value the registers hold, before scale and offset; u64 as a BigInt so no bit is lost. */
export function decodeRaw(registers: readonly number[], type: DataType, byteOrder: Order = 'big', wordOrder: Order = 'big'): number | bigint {
  const buf = toModbusOrder(registers, type, byteOrder, wordOrder);
  switch (type) {
    case 'u16': return buf.readUInt16BE(0);
    case 'i16': return buf.readInt16BE(0);
    case 'u32': return buf.readUInt32BE(0);
    case 'i32': return buf.readInt32BE(0);
    case 'u64': return buf.readBigUInt64BE(0);
    case 'float32': return buf.readFloatBE(0);
    case 'float64': return buf.readDoubleBE(0);
  }
}

/** Registers -> engineering value (scale, offset), or null when the device says "no value" (NaN, ±Infinity). */
export function decodePoint(registers: readonly number[], layout: PointLayout): number | null {
  const raw = decodeRaw(registers, layout.type, layout.byteOrder, layout.wordOrder);
  let value = typeof raw === 'bigint' ? Number(raw) : raw;
  if (!Number.isFinite(value)) return null;
  if (layout.type === 'float32') value = shortestFloat32(value);
  const result = applyScale(value, layout.scale) + layout.offset;
  return Number.isFinite(result) ? result : null;
}

/**
 * The inverse of decodePoint: the registers a device would send for `value`. The
 * simulator uses it, so it serves exactly a profile's layout. Integers are rounded
 * to the nearest step; a value the type cannot hold is a RangeError.
 */
export function encodePoint(value: number, layout: PointLayout): number[] {
  const { type } = layout;
  const raw = (value - layout.offset) / layout.scale;
  const buf = Buffer.alloc(REGISTER_COUNT[type] * 2);
  if (type === 'float32') buf.writeFloatBE(raw, 0);
  else if (type === 'float64') buf.writeDoubleBE(raw, 0);
  else {
    if (!Number.isFinite(raw)) throw new RangeError(`${type} cannot hold ${value}`);
    const int = Math.round(raw);
    const [min, max] = INTEGER_RANGE[type];
    if (BigInt(int) < min || BigInt(int) > max) throw new RangeError(`${type} cannot hold ${value} (raw ${int})`);
    if (type === 'u16') buf.writeUInt16BE(int, 0);
    else if (type === 'i16') buf.writeInt16BE(int, 0);
    else if (type === 'u32') buf.writeUInt32BE(int, 0);
    else if (type === 'i32') buf.writeInt32BE(int, 0);
    else buf.writeBigUInt64BE(BigInt(int), 0);
  }
  return fromModbusOrder(buf, layout.byteOrder, layout.wordOrder);
}

const INTEGER_RANGE: Record<Exclude<DataType, 'float32' | 'float64'>, [bigint, bigint]> = {
  u16: [0n, 0xffffn],
  i16: [-0x8000n, 0x7fffn],
  u32: [0n, 0xffff_ffffn],
  i32: [-0x8000_0000n, 0x7fff_ffffn],
  u64: [0n, 0xffff_ffff_ffff_ffffn],
};

/** Puts the registers in big-endian word and byte order, as one buffer. */
function toModbusOrder(registers: readonly number[], type: DataType, byteOrder: Order, wordOrder: Order): Buffer {
  const count = REGISTER_COUNT[type];
  // Validation names the type, as HA's validators do ("float32 needs 2 registers").
  if (registers.length !== count) throw new RangeError(`${type} needs ${count} register(s), got ${registers.length}`);
  const words = wordOrder === 'little' ? [...registers].reverse() : registers;
  const buf = Buffer.alloc(count * 2);
  words.forEach((w, i) => {
    if (!Number.isInteger(w) || w < 0 || w > 0xffff) throw new RangeError(`register ${i} is not a 16-bit word: ${w}`);
    buf.writeUInt16BE(byteOrder === 'little' ? swapBytes(w) : w, i * 2);
  });
  return buf;
}

/** The inverse of toModbusOrder: big-endian bytes -> registers in the device's order. */
function fromModbusOrder(buf: Buffer, byteOrder: Order, wordOrder: Order): number[] {
  const words: number[] = [];
  for (let i = 0; i < buf.length; i += 2) {
    const w = buf.readUInt16BE(i);
    words.push(byteOrder === 'little' ? swapBytes(w) : w);
  }
  return wordOrder === 'little' ? words.reverse() : words;
}

function swapBytes(w: number): number {
  return ((w & 0xff) << 8) | (w >> 8);
}

/**
 * A float32 widened to a double shows digits the meter never meant (229.9 becomes
 * 229.89999389648438). Return the shortest decimal that is the same float32, as
 * printing a float32 does in C or numpy: no information is lost.
 */
function shortestFloat32(x: number): number {
  for (let p = 1; p <= 9; p++) {
    const candidate = Number(x.toPrecision(p));
    if (Math.fround(candidate) === x) return candidate;
  }
  return x;
}

/**
 * Scales like 0.001 are not exact in binary: 12345 * 0.001 is 12.345000000000001.
 * Dividing by the exact integer 1000 gives the double nearest to 12.345 instead.
 */
function applyScale(value: number, scale: number): number {
  if (scale === 1) return value;
  const inverse = 1 / scale;
  const rounded = Math.round(inverse);
  if (rounded > 1 && Math.abs(inverse - rounded) < 1e-9 * rounded) return value / rounded;
  return value * scale;
}
