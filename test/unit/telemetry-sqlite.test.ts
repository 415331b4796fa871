import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROWS_PER_TRANSACTION, SqliteTelemetryStore } from '../../gateway/storage/telemetry-sqlite.ts';
import { telemetryContract } from '../contract/telemetry-contract.ts';

const dirs: string[] = [];
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'bohub-telemetry-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

telemetryContract('SqliteTelemetryStore', () => new SqliteTelemetryStore(freshDir()));

describe('SqliteTelemetryStore', () => {
  it('writes a large batch in slices with the event loop free between them, and a retried batch stores nothing twice', async () => {
    const store = new SqliteTelemetryStore(freshDir());
    await store.open();
    const tags = { device: 'A-0101-E', point: 'power' };
    const batch = Array.from({ length: 2 * ROWS_PER_TRANSACTION + 200 }, (_, i) => ({ measurement: 'meter', tags, value: i, quality: 'good' as const, time: 1000 + i }));
    const stored = async () => (await store.query({ measurement: 'meter', tags, from: 0, to: 1e9, limit: 1e6 }))[0]?.points.length ?? 0;
    let betweenSlices = -1;
    // Queued before the write, so it runs as soon as the write gives up the loop after its first slice.
    setImmediate(() => void stored().then((n) => (betweenSlices = n)));
    await store.write(batch);
    expect(betweenSlices).toBe(ROWS_PER_TRANSACTION);
    expect(await stored()).toBe(batch.length);
    await store.write(batch);
    expect(await stored()).toBe(batch.length);
    await store.close();
  });

  it('keeps series and samples in telemetry.db across a reopen', async () => {
    const dir = freshDir();
    const tags = { device: 'A-0101-E', point: 'power' };
    const first = new SqliteTelemetryStore(dir);
    await first.open();
    await first.write([{ measurement: 'meter', tags, value: 1, quality: 'good', time: 1000 }]);
    await first.close();

    const second = new SqliteTelemetryStore(dir);
    await second.open();
    // Tag order must not matter: the same series, not a new one.
    await second.write([{ measurement: 'meter', tags: { point: 'power', device: 'A-0101-E' }, value: 2, quality: 'good', time: 2000 }]);
    expect(await second.query({ measurement: 'meter', tags, from: 0, to: 5000 })).toEqual([
      { measurement: 'meter', tags, points: [[1000, 1], [2000, 2]], qualities: ['good', 'good'] },
    ]);
    await second.close();
  });

  it('stores 300 meters x 6 points (one 5 s poll round) well within the poll interval', async () => {
    const store = new SqliteTelemetryStore(freshDir());
    await store.open();
    const round = (t: number) =>
      Array.from({ length: 300 * 6 }, (_, i) => ({ measurement: 'meter', tags: { device: `M-${Math.floor(i / 6)}`, point: `p${i % 6}` }, value: i, quality: 'good' as const, time: t }));
    await store.write(round(0)); // creates the series
    const started = performance.now();
    for (let n = 1; n <= 10; n++) await store.write(round(n * 5000));
    const perRound = (performance.now() - started) / 10;
    expect(perRound).toBeLessThan(250);
    const [series] = await store.query({ measurement: 'meter', tags: { device: 'M-299', point: 'p5' }, from: 0, to: 60_000 });
    expect(series?.points).toHaveLength(11);
    await store.close();
  });

  it('refuses to write before open with a clear error', async () => {
    const store = new SqliteTelemetryStore(freshDir());
    await expect(store.write([])).rejects.toThrow(/not open/);
  });
});
