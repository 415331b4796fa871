import { describe, expect, it } from 'vitest';
import { planPollClasses, planReads, registersOf } from '../../gateway/drivers/modbus/planner.ts';
import type { DataType, PointSpec } from '../../gateway/config/profile.ts';
import { loadProfiles } from '../../gateway/config/load.ts';

const pt = (id: string, address: number, type: DataType = 'u16', fn: 3 | 4 = 3, poll: 'fast' | 'slow' = 'fast'): PointSpec => ({ id, name: id, function: fn, address, type, scale: 1, offset: 0, unit: '', poll });
const shape = (blocks: ReturnType<typeof planReads>) => blocks.map((b) => ({ fn: b.function, address: b.address, count: b.count, points: b.points.map((p) => `${p.point.id}@${p.offset}`) }));

describe('planReads', () => {
  it('merges adjacent points into one read, in address order', () => {
    const blocks = planReads([pt('c', 4, 'float32'), pt('a', 0, 'u32'), pt('b', 2, 'u16')], { manualBase: 0 });
    expect(shape(blocks)).toEqual([{ fn: 3, address: 0, count: 6, points: ['a@0', 'b@2', 'c@4'] }]);
  });

  it('the DDSU666 profile needs two reads: 2000H..200FH and 4000H', () => {
    const { profiles } = loadProfiles(new URL('../../devices', import.meta.url).pathname);
    const ddsu = profiles.get('chint-ddsu666')!;
    const blocks = planReads(ddsu.points, { manualBase: ddsu.manualBase });
    expect(blocks.map((b) => [b.address, b.count])).toEqual([[0x2000, 16], [0x4000, 2]]);
  });

  it('converts manual addresses once: manualBase 1 makes register 1 protocol address 0', () => {
    const blocks = planReads([pt('volume', 1, 'u32'), pt('flow', 3)], { manualBase: 1 });
    expect(shape(blocks)).toEqual([{ fn: 3, address: 0, count: 3, points: ['volume@0', 'flow@2'] }]);
    expect(blocks[0]!.points[0]!.address).toBe(0);
  });

  it('reads through a gap of at most maxGap unused registers', () => {
    expect(planReads([pt('a', 0), pt('b', 11)], { manualBase: 0, maxGap: 10 })).toHaveLength(1);
    expect(shape(planReads([pt('a', 0), pt('b', 12)], { manualBase: 0, maxGap: 10 }))).toEqual([
      { fn: 3, address: 0, count: 1, points: ['a@0'] },
      { fn: 3, address: 12, count: 1, points: ['b@0'] },
    ]);
  });

  it('maxGap 0 reads only adjacent points together', () => {
    expect(planReads([pt('a', 0), pt('b', 1), pt('c', 3)], { manualBase: 0, maxGap: 0 }).map((b) => b.count)).toEqual([2, 1]);
  });

  it('never reads more than 125 registers in one request (spec §6.3)', () => {
    const points = Array.from({ length: 200 }, (_, i) => pt(`p${i}`, i * 2, 'u32'));
    const blocks = planReads(points, { manualBase: 0 });
    expect(blocks.every((b) => b.count <= 125)).toBe(true);
    // 400 registers need at least ceil(400 / 124) = 4 reads (a u32 may not straddle two).
    expect(blocks).toHaveLength(4);
    expect(blocks.flatMap((b) => b.points)).toHaveLength(200);
  });

  it('a point that would cross the limit starts a new block rather than being split', () => {
    const blocks = planReads([pt('a', 0), pt('b', 123, 'float32')], { manualBase: 0 });
    expect(blocks.map((b) => [b.address, b.count])).toEqual([[0, 1], [123, 2]]);
  });

  it('honours a smaller maxRegisters and refuses one above 125', () => {
    expect(planReads([pt('a', 0), pt('b', 1), pt('c', 2)], { manualBase: 0, maxRegisters: 2 })).toHaveLength(2);
    expect(() => planReads([pt('a', 0)], { manualBase: 0, maxRegisters: 126 })).toThrow('Modbus spec §6.3');
  });

  it('keeps function codes 3 and 4 in separate reads even at the same address', () => {
    const blocks = planReads([pt('h', 0, 'u16', 3), pt('i', 0, 'u16', 4), pt('h2', 1, 'u16', 3)], { manualBase: 0 });
    expect(shape(blocks)).toEqual([
      { fn: 3, address: 0, count: 2, points: ['h@0', 'h2@1'] },
      { fn: 4, address: 0, count: 1, points: ['i@0'] },
    ]);
  });

  it('overlapping points share registers', () => {
    const blocks = planReads([pt('whole', 0, 'u32'), pt('low', 1)], { manualBase: 0 });
    expect(shape(blocks)).toEqual([{ fn: 3, address: 0, count: 2, points: ['whole@0', 'low@1'] }]);
  });

  it('registersOf cuts a point out of its block', () => {
    const [block] = planReads([pt('a', 10), pt('b', 12, 'u32')], { manualBase: 0 });
    expect(registersOf(block!.points[1]!, [1, 2, 3, 4])).toEqual([3, 4]);
  });
});

describe('planPollClasses', () => {
  it('plans the fast points alone, and every point together for a cycle where slow ones are due', () => {
    const plan = planPollClasses([pt('volume', 1, 'u32', 3, 'slow'), pt('flow', 3), pt('battery', 4)], { manualBase: 1 });
    expect(shape(plan.fast)).toEqual([{ fn: 3, address: 2, count: 2, points: ['flow@0', 'battery@1'] }]);
    // Reading everything costs one request, as it did before poll classes.
    expect(shape(plan.all)).toEqual([{ fn: 3, address: 0, count: 4, points: ['volume@0', 'flow@2', 'battery@3'] }]);
  });

  it('the DDSU666 reads 2000H.. every fast cycle and adds 4000H when energy is due', () => {
    const { profiles } = loadProfiles(new URL('../../devices', import.meta.url).pathname);
    const ddsu = profiles.get('chint-ddsu666')!;
    const plan = planPollClasses(ddsu.points, { manualBase: ddsu.manualBase });
    expect(plan.fast.map((b) => [b.address, b.count])).toEqual([[0x2000, 16]]);
    expect(plan.all.map((b) => [b.address, b.count])).toEqual([[0x2000, 16], [0x4000, 2]]);
  });

  it('a device with only slow points has no fast reads; with only fast points both plans are the same', () => {
    expect(planPollClasses([pt('e', 0, 'u32', 3, 'slow')], { manualBase: 0 }).fast).toEqual([]);
    const onlyFast = planPollClasses([pt('a', 0), pt('b', 1)], { manualBase: 0 });
    expect(onlyFast.fast).toBe(onlyFast.all);
  });
});
