import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Quality } from '../../gateway/events.ts';
import type { Sample, Series, TelemetryStore } from '../../gateway/storage/types.ts';

/**
 * The one contract every TelemetryStore passes (as MQTT.js test/abstract_client.ts
 * does for its clients). Call it from a *.test.ts file with a factory that returns
 * a fresh, unopened store with no data in it.
 */
export function telemetryContract(name: string, makeStore: () => Promise<TelemetryStore> | TelemetryStore): void {
  describe(`TelemetryStore contract: ${name}`, () => {
    let store: TelemetryStore;
    // Whole seconds in 2026, so every backend keeps the times exactly.
    const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);
    const sec = (n: number) => T0 + n * 1000;
    const sample = (tags: Record<string, string>, n: number, value: number, quality: Quality = 'good'): Sample => ({ measurement: 'meter', tags, value, quality, time: sec(n) });
    const byTags = (series: Series[]) => [...series].sort((a, b) => JSON.stringify(a.tags).localeCompare(JSON.stringify(b.tags)));

    beforeEach(async () => {
      store = await makeStore();
      await store.open();
    });
    afterEach(async () => {
      await store.close();
    });

    it('returns written samples queried by tags and time range', async () => {
      const tags = { device: 'A-0101-E', point: 'energy_import' };
      await store.write([sample(tags, 0, 1.5), sample(tags, 10, 2.5), sample(tags, 20, 3.5), sample(tags, 30, 4.5)]);

      const series = await store.query({ measurement: 'meter', tags, from: sec(10), to: sec(20) });
      expect(series).toEqual([{ measurement: 'meter', tags, points: [[sec(10), 2.5], [sec(20), 3.5]], qualities: ['good', 'good'] }]);
    });

    it('keeps several series apart and filters on a subset of tags', async () => {
      const a = { device: 'A-0101-E', point: 'energy_import' };
      const b = { device: 'A-0101-E', point: 'power' };
      const c = { device: 'B-0202-E', point: 'power' };
      await store.write([sample(a, 0, 1), sample(b, 0, 2), sample(c, 0, 3), sample(b, 5, 4)]);

      const power = byTags(await store.query({ measurement: 'meter', tags: { point: 'power' }, from: sec(0), to: sec(60) }));
      expect(power.map((s) => [s.tags, s.points])).toEqual([
        [b, [[sec(0), 2], [sec(5), 4]]],
        [c, [[sec(0), 3]]],
      ]);
      const all = await store.query({ measurement: 'meter', from: sec(0), to: sec(60) });
      expect(all).toHaveLength(3);
      expect(await store.query({ measurement: 'signal', from: sec(0), to: sec(60) })).toEqual([]);
    });

    it('returns points in ascending time whatever the write order', async () => {
      const tags = { device: 'A-0101-E', point: 'power' };
      await store.write([sample(tags, 30, 3), sample(tags, 10, 1)]);
      await store.write([sample(tags, 20, 2)]);
      const [series] = await store.query({ measurement: 'meter', tags, from: sec(0), to: sec(60) });
      expect(series?.points.map(([t]) => t)).toEqual([sec(10), sec(20), sec(30)]);
    });

    it('keeps the newest points when a limit is given, per series', async () => {
      const a = { device: 'A', point: 'power' };
      const b = { device: 'B', point: 'power' };
      await store.write([1, 2, 3, 4, 5].flatMap((n) => [sample(a, n, n), sample(b, n, 10 * n)]));
      const series = byTags(await store.query({ measurement: 'meter', from: sec(0), to: sec(60), limit: 2 }));
      expect(series.map((s) => s.points)).toEqual([
        [[sec(4), 4], [sec(5), 5]],
        [[sec(4), 40], [sec(5), 50]],
      ]);
    });

    it('round-trips tag values with spaces, commas, quotes, backslashes and =', async () => {
      const awkward = { device: `Tower A, 12/F "east" it's a=b \\ c`, point: 'energy import' };
      const plain = { device: 'Tower A', point: 'energy import' };
      await store.write([sample(awkward, 1, 7), sample(plain, 1, 8)]);

      const series = await store.query({ measurement: 'meter', tags: { device: awkward.device }, from: sec(0), to: sec(60) });
      expect(series).toEqual([{ measurement: 'meter', tags: awkward, points: [[sec(1), 7]], qualities: ['good'] }]);
      // A quote in a filter must not end the string and turn the rest into query text.
      expect(await store.query({ measurement: 'meter', tags: { device: "x' OR device != '" }, from: sec(0), to: sec(60) })).toEqual([]);
    });

    it('returns nothing for a range with no data', async () => {
      const tags = { device: 'A-0101-E', point: 'power' };
      await store.write([sample(tags, 0, 1), sample(tags, 100, 2)]);
      expect(await store.query({ measurement: 'meter', tags, from: sec(10), to: sec(90) })).toEqual([]);
    });

    it('stores the quality of each point, in one series across quality changes', async () => {
      const tags = { device: 'A-0101-E', point: 'power' };
      await store.write([sample(tags, 1, 1, 'good'), sample(tags, 2, 2, 'stale'), sample(tags, 3, 3, 'bad')]);
      const series = await store.query({ measurement: 'meter', tags, from: sec(0), to: sec(60) });
      expect(series).toHaveLength(1);
      expect(series[0]?.tags).toEqual(tags);
      expect(series[0]?.qualities).toEqual(['good', 'stale', 'bad']);
      expect(series[0]?.points).toEqual([[sec(1), 1], [sec(2), 2], [sec(3), 3]]);
    });
  });
}
