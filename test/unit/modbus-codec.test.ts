import { describe, expect, it } from 'vitest';
import { decodePoint, decodeRaw, encodePoint, layoutOf, type PointLayout } from '../../gateway/drivers/modbus/codec.ts';
import type { DataType } from '../../gateway/config/profile.ts';

const layout = (type: DataType, over: Partial<PointLayout> = {}): PointLayout => ({ type, byteOrder: 'big', wordOrder: 'big', scale: 1, offset: 0, ...over });

describe('decodeRaw: each type in Modbus big-endian order (spec §4.2)', () => {
  it.each<[DataType, number[], number | bigint]>([
    ['u16', [0xfffe], 65534],
    ['i16', [0xfffe], -2],
    ['u32', [0x0001, 0x0002], 0x00010002],
    ['i32', [0xffff, 0xfffe], -2],
    ['u64', [0x0001, 0x0000, 0x0000, 0x0001], 0x0001_0000_0000_0001n],
    ['u64', [0xffff, 0xffff, 0xffff, 0xffff], 0xffff_ffff_ffff_ffffn],
    ['float32', [0x4640, 0xe600], 12345.5],
    ['float64', [0x40c8, 0x1cc0, 0x0000, 0x0000], 12345.5],
  ])('%s %j -> %s', (type, regs, expected) => {
    expect(decodeRaw(regs, type)).toBe(expected);
  });

  it('rejects the wrong number of registers, naming the type', () => {
    expect(() => decodeRaw([1], 'float32')).toThrow('float32 needs 2 register(s), got 1');
  });
});

describe('byte and word order', () => {
  // 0x11223344 laid out four ways, as vendors do.
  it.each<[string, PointLayout['byteOrder'], PointLayout['wordOrder'], number[]]>([
    ['ABCD (big bytes, big words)', 'big', 'big', [0x1122, 0x3344]],
    ['CDAB (big bytes, little words)', 'big', 'little', [0x3344, 0x1122]],
    ['BADC (little bytes, big words)', 'little', 'big', [0x2211, 0x4433]],
    ['DCBA (little bytes, little words)', 'little', 'little', [0x4433, 0x2211]],
  ])('u32 %s', (_name, byteOrder, wordOrder, regs) => {
    expect(decodeRaw(regs, 'u32', byteOrder, wordOrder)).toBe(0x11223344);
    expect(encodePoint(0x11223344, layout('u32', { byteOrder, wordOrder }))).toEqual(regs);
  });

  it('swaps bytes inside a single register', () => {
    expect(decodeRaw([0x3412], 'u16', 'little')).toBe(0x1234);
  });

  it('word order reverses all four registers of a u64', () => {
    expect(decodeRaw([0x0004, 0x0003, 0x0002, 0x0001], 'u64', 'big', 'little')).toBe(0x0001_0002_0003_0004n);
  });

  it('a point without its own order takes the profile default', () => {
    const point = { id: 'x', name: 'x', function: 3 as const, address: 0, type: 'u32' as const, scale: 1, offset: 0, unit: '', poll: 'fast' as const };
    expect(layoutOf({ byteOrder: 'big', wordOrder: 'little' }, point).wordOrder).toBe('little');
    expect(layoutOf({ byteOrder: 'big', wordOrder: 'little' }, { ...point, wordOrder: 'big' }).wordOrder).toBe('big');
  });
});

describe('decodePoint: unpack, then scale and offset, then NaN -> null', () => {
  it('applies scale then offset', () => {
    expect(decodePoint([0x00c8], layout('i16', { scale: 0.5, offset: -40 }))).toBe(60);
  });

  it('a decimal scale gives the decimal, not binary noise (12345 * 0.001)', () => {
    expect(decodePoint([0x0000, 12345], layout('u32', { scale: 0.001 }))).toBe(12.345);
  });

  it('float32 decodes to the shortest decimal of that float (229.9, not 229.89999389648438)', () => {
    expect(decodePoint(encodePoint(229.9, layout('float32')), layout('float32'))).toBe(229.9);
  });

  it.each([
    ['float32 NaN', 'float32', [0x7fc0, 0x0000]],
    ['float32 +Infinity', 'float32', [0x7f80, 0x0000]],
    ['float64 NaN', 'float64', [0x7ff8, 0, 0, 0]],
    ['float64 -Infinity', 'float64', [0xfff0, 0, 0, 0]],
  ] as const)('%s is no value (null)', (_n, type, regs) => {
    expect(decodePoint([...regs], layout(type))).toBeNull();
  });

  it('u64 beyond 2^53 still decodes (nearest double)', () => {
    expect(decodePoint([0xffff, 0xffff, 0xffff, 0xffff], layout('u64'))).toBe(18446744073709552000);
  });
});

describe('encodePoint round trip', () => {
  it.each<[DataType, number, Partial<PointLayout>]>([
    ['u16', 65535, {}],
    ['i16', -32768, {}],
    ['u32', 4294967.295, { scale: 0.001 }],
    ['i32', -123456, { byteOrder: 'little' }],
    ['u64', 2 ** 53 - 1, { wordOrder: 'little' }],
    ['float32', 12345.5, {}],
    ['float32', 50.02, { wordOrder: 'little' }],
    ['float64', 1234567.891, { byteOrder: 'little', wordOrder: 'little' }],
    ['i16', 21.5, { scale: 0.1, offset: -10 }],
  ])('%s %s %j', (type, value, over) => {
    const l = layout(type, over);
    expect(decodePoint(encodePoint(value, l), l)).toBe(value);
  });

  it('refuses a value the type cannot hold', () => {
    expect(() => encodePoint(70000, layout('u16'))).toThrow(RangeError);
    expect(() => encodePoint(-1, layout('u32'))).toThrow(RangeError);
  });
});
