import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bucketStart, pickResolution } from '../../gateway/storage/resolution.ts';
import { SqliteTelemetryStore } from '../../gateway/storage/telemetry-sqlite.ts';
import type { Sample } from '../../gateway/storage/types.ts';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const SHANGHAI = 'Asia/Shanghai';
/** Local midnight in Shanghai, 2026-03-01 (16:00 UTC the day before). */
const MIDNIGHT = Date.UTC(2026, 1, 28, 16);
const retention = { rawDays: 2, rollup1mDays: 10, rollup1hDays: 100 };

describe('bucketStart', () => {
  it('starts a day bucket at local midnight, not UTC midnight', () => {
    expect(bucketStart(MIDNIGHT + 5 * HOUR, DAY, SHANGHAI)).toBe(MIDNIGHT);
    expect(bucketStart(MIDNIGHT - 1, DAY, SHANGHAI)).toBe(MIDNIGHT - DAY);
    expect(bucketStart(MIDNIGHT + 5 * HOUR, DAY)).toBe(Date.UTC(2026, 1, 28));
  });

  it('follows daylight saving time: a New York day after the spring change is 23 hours', () => {
    const nyMidnight = Date.UTC(2026, 2, 8, 5); // 2026-03-08 00:00 EST
    expect(bucketStart(nyMidnight + 20 * HOUR, DAY, 'America/New_York')).toBe(nyMidnight);
    expect(bucketStart(nyMidnight + 24 * HOUR, DAY, 'America/New_York')).toBe(nyMidnight + 23 * HOUR);
  });
});

describe('pickResolution', () => {
  const now = MIDNIGHT + 50 * DAY;
  it('answers short ranges and odd widths from raw', () => {
    expect(pickResolution({ from: now - HOUR, to: now, every: 5 * MIN }, now, retention)).toBe('raw');
    expect(pickResolution({ from: now - DAY, to: now, every: 90_000 + 1 }, now, retention)).toBe('raw');
  });
  it('reads 1-minute rollups for a day in 5-minute buckets, and 1-hour ones past the 1-minute retention', () => {
    expect(pickResolution({ from: now - DAY, to: now, every: 5 * MIN }, now, retention)).toBe('1m');
    expect(pickResolution({ from: now - 30 * DAY, to: now, every: DAY, timeZone: SHANGHAI }, now, retention)).toBe('1h');
  });
  it('never reads hour rollups for a zone with a half-hour offset', () => {
    expect(pickResolution({ from: now - 30 * DAY, to: now, every: DAY, timeZone: 'Asia/Kolkata' }, now, retention)).toBe('1m');
  });
});

describe('SqliteTelemetryStore rollups and retention', () => {
  let dir: string;
  let store: SqliteTelemetryStore;
  let now = 0;
  const tags = { device: 'A-0101-E', point: 'power' };
  /** Every 10 minutes for 4 local days; the value is the local day number (1..4), so a day bucket's mean is whole only when aligned to local midnight. */
  const samples: Sample[] = Array.from({ length: 4 * 144 }, (_, i) => ({ measurement: 'meter', tags, value: Math.floor(i / 144) + 1, quality: 'good', time: MIDNIGHT + i * 10 * MIN }));

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bohub-rollups-'));
    now = MIDNIGHT + 4 * DAY;
    store = new SqliteTelemetryStore(dir, { retention, now: () => now });
    await store.open();
    await store.write(samples);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers daily means in local days from the rollups after maintain()', async () => {
    await store.maintain(now);
    const [series] = await store.query({ measurement: 'meter', tags, from: MIDNIGHT, to: MIDNIGHT + 4 * DAY - 1, every: DAY, timeZone: SHANGHAI });
    expect(series?.resolution).toBe('1m');
    expect(series?.points).toEqual([[MIDNIGHT, 1], [MIDNIGHT + DAY, 2], [MIDNIGHT + 2 * DAY, 3], [MIDNIGHT + 3 * DAY, 4]]);
  });

  it('gives the same means from raw points as from rollups', async () => {
    await store.maintain(now);
    const q = { measurement: 'meter', tags, from: MIDNIGHT + 3 * DAY, to: MIDNIGHT + 3 * DAY + 3 * HOUR, every: HOUR, timeZone: SHANGHAI };
    const [raw] = await store.query(q);
    expect(raw?.resolution).toBe('raw');
    expect(raw?.points).toEqual([[MIDNIGHT + 3 * DAY, 4], [MIDNIGHT + 3 * DAY + HOUR, 4], [MIDNIGHT + 3 * DAY + 2 * HOUR, 4], [MIDNIGHT + 3 * DAY + 3 * HOUR, 4]]);
  });

  it('prunes raw points past rawRetentionDays and keeps answering from the rollups', async () => {
    now = MIDNIGHT + 5 * DAY; // days 1..3 are older than 2 days now
    await store.maintain(now);
    expect(await store.query({ measurement: 'meter', tags, from: MIDNIGHT, to: MIDNIGHT + DAY - 1 })).toEqual([]);
    const [series] = await store.query({ measurement: 'meter', tags, from: MIDNIGHT, to: MIDNIGHT + 2 * DAY - 1, every: DAY, timeZone: SHANGHAI });
    expect(series?.points).toEqual([[MIDNIGHT, 1], [MIDNIGHT + DAY, 2]]);
    // The recent raw points are still there.
    const [recent] = await store.query({ measurement: 'meter', tags, from: MIDNIGHT + 3 * DAY + HOUR, to: MIDNIGHT + 4 * DAY });
    expect(recent?.points.length).toBeGreaterThan(100);
  });

  it('rolls up late points (a spool replay) in the next maintain()', async () => {
    await store.maintain(now);
    const day4 = MIDNIGHT + 3 * DAY;
    await store.write([{ measurement: 'meter', tags, value: 100, quality: 'good', time: day4 + 5 * MIN }]);
    await store.maintain(now);
    const [series] = await store.query({ measurement: 'meter', tags, from: day4, to: day4 + DAY - 1, every: DAY, timeZone: SHANGHAI });
    expect(series?.resolution).toBe('1m');
    expect(series?.points).toEqual([[day4, (144 * 4 + 100) / 145]]);
  });
});
