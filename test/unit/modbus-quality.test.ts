import { describe, expect, it } from 'vitest';
import { PointQualities, SUSPECT_DROP, SUSPECT_ZERO } from '../../gateway/drivers/modbus/quality.ts';

// Point qualities of one meter: good, bad (failed read, NaN, out of range, suspect drop), stale.

const points = [
  { id: 'power', unit: 'kW', pollMs: 1_000, cumulative: false },
  { id: 'voltage', unit: 'V', pollMs: 1_000, cumulative: false, range: { min: 0, max: 500 } },
  { id: 'energy', unit: 'kWh', pollMs: 60_000, cumulative: true },
];
const tracker = () => new PointQualities('M1', points, { staleAfterPolls: 3 });
const read = (entries: Array<[string, number | null]>) => new Map(entries);
const brief = (values: Array<{ point: string; value: number | null; quality: string; error?: string }>) =>
  values.map((v) => `${v.point}=${v.value} ${v.quality}${v.error ? ` (${v.error})` : ''}`);

describe('PointQualities', () => {
  it('a good read publishes good values; a NaN from the device is bad with no value', () => {
    const q = tracker();
    expect(brief(q.accept(read([['power', 1.5], ['energy', null]]), 0))).toEqual(['power=1.5 good', 'energy=null bad (no value (the device sent NaN or infinity))']);
  });

  it('a failed read makes the points it covered bad, with the error and no value', () => {
    const q = tracker();
    q.accept(read([['power', 1.5], ['energy', 100]]), 0);
    expect(brief(q.fail(['power'], 'BOHUB_MODBUS_TIMEOUT: no answer', 1_000))).toEqual(['power=null bad (BOHUB_MODBUS_TIMEOUT: no answer)']);
    expect(q.quality('energy')).toBe('good');
  });

  it('goes stale once after staleAfterPolls x its own interval, keeping the last value and its time', () => {
    const q = tracker();
    q.accept(read([['power', 1.5], ['energy', 100]]), 0);
    expect(q.expire(3_000)).toEqual([]);
    const stale = q.expire(3_001);
    expect(stale).toEqual([{ device: 'M1', point: 'power', value: 1.5, unit: 'kW', quality: 'stale', error: 'last good read 3 s ago', sourceTime: 0 }]);
    expect(q.expire(10_000)).toEqual([]); // once per transition
    expect(brief(q.expire(180_001))).toEqual(['energy=100 stale (last good read 180 s ago)']);
    expect(brief(q.accept(read([['power', 2]]), 200_000))).toEqual(['power=2 good']);
  });

  it('a bad point does not turn stale: bad is the worse news', () => {
    const q = tracker();
    q.accept(read([['power', 1.5]]), 0);
    q.fail(['power'], 'timeout', 500);
    expect(q.expire(60_000)).toEqual([]);
  });

  it('holds back a billing register reading 0 after a non-zero value (evcc #30267)', () => {
    const q = tracker();
    q.accept(read([['energy', 1234.5]]), 0);
    const [glitch] = q.accept(read([['energy', 0]]), 60_000);
    expect(glitch).toMatchObject({ point: 'energy', value: null, quality: 'bad', error: expect.stringContaining(SUSPECT_ZERO) });
    expect(brief(q.accept(read([['energy', 1234.6]]), 120_000))).toEqual(['energy=1234.6 good']);
    // Each glitch restarts the count.
    expect(q.accept(read([['energy', 0]]), 180_000)[0]!.quality).toBe('bad');
  });

  it('accepts a zero that persists for 3 polls (a reset or a replaced meter), then zeros are plain values', () => {
    const q = tracker();
    q.accept(read([['energy', 1234.5]]), 0);
    const qualities = [1, 2, 3, 4].map((i) => q.accept(read([['energy', 0]]), i * 60_000)[0]!.quality);
    expect(qualities).toEqual(['bad', 'bad', 'good', 'good']);
  });

  it('only the cumulative register is guarded; a first reading of 0 is believed', () => {
    const q = tracker();
    q.accept(read([['power', 2]]), 0);
    expect(brief(q.accept(read([['power', 0], ['energy', 0]]), 1_000))).toEqual(['power=0 good', 'energy=0 good']);
  });

  it('holds back any drop of a billing register, e.g. a garbled 3.09 after 12345.5, until it persists', () => {
    const q = tracker();
    q.accept(read([['energy', 12345.5]]), 0);
    expect(brief(q.accept(read([['energy', 3.09]]), 60_000))).toEqual([`energy=null bad (${SUSPECT_DROP}: read 3.09 after 12345.5)`]);
    expect(brief(q.accept(read([['energy', 12345.6]]), 120_000))).toEqual(['energy=12345.6 good']);
  });

  it('accepts a lower value that persists for 3 polls (a rollover near rolloverAt), for billing to classify', () => {
    const q = tracker();
    q.accept(read([['energy', 999999.5]]), 0);
    const qualities = [0.4, 0.6, 0.8].map((v, i) => q.accept(read([['energy', v]]), (i + 1) * 60_000)[0]!.quality);
    expect(qualities).toEqual(['bad', 'bad', 'good']);
  });

  it("distrusts a whole reply with a value outside its point's range (a wrong byte order decodes to such values)", () => {
    const q = tracker();
    expect(brief(q.accept(read([['voltage', 229.9], ['power', 2.9]]), 0))).toEqual(['voltage=229.9 good', 'power=2.9 good']);
    expect(brief(q.accept(read([['voltage', -1.2e-29], ['power', 0.0007]]), 1_000))).toEqual([
      'voltage=null bad (implausible reply: voltage = -1.2e-29 outside 0..500 V)',
      'power=null bad (implausible reply: voltage = -1.2e-29 outside 0..500 V)',
    ]);
  });
});
