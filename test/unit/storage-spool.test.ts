import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../gateway/clock.ts';
import { EventBus } from '../../gateway/events.ts';
import { silentLogger } from '../../gateway/log.ts';
import { Metrics } from '../../gateway/metrics.ts';
import { DiskSpool } from '../../gateway/storage/spool.ts';
import { SqliteTelemetryStore } from '../../gateway/storage/telemetry-sqlite.ts';
import { TelemetryWriter } from '../../gateway/storage/telemetry-writer.ts';
import type { Sample } from '../../gateway/storage/types.ts';

const batch = (from: number, n: number): Sample[] =>
  Array.from({ length: n }, (_, i) => ({ measurement: 'meter', tags: { device: 'A', point: 'p' }, value: from + i, quality: 'good', time: 1_000_000 + from + i }));

describe('DiskSpool', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'bohub-spool-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function drainAll(spool: DiskSpool): Promise<number[]> {
    const values: number[] = [];
    for (let r = await spool.head(); r; r = await spool.head()) {
      values.push(...r.samples.map((s) => s.value));
      await spool.ack(r);
    }
    return values;
  }

  it('hands batches back in the order they were appended, with their original times, and across a reopen', async () => {
    const first = new DiskSpool({ dir, maxBytes: 1 << 20, segmentBytes: 2000 });
    await first.open();
    for (let i = 0; i < 10; i++) await first.append(batch(i * 10, 10));
    const head = await first.head();
    expect(head?.samples[0]).toEqual(batch(0, 1)[0]);
    await first.close();

    const second = new DiskSpool({ dir, maxBytes: 1 << 20, segmentBytes: 2000 });
    await second.open();
    expect(second.stats()).toMatchObject({ points: 100, oldest: 1_000_000 });
    expect(await drainAll(second)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(second.stats()).toEqual({ bytes: 0, points: 0, oldest: undefined });
    await second.close();
    expect(readdirSync(dir).filter((f) => f.endsWith('.spool')).length).toBeLessThanOrEqual(1);
  });

  it('cuts off a record torn by a crash mid-append and keeps the ones before it', async () => {
    const spool = new DiskSpool({ dir, maxBytes: 1 << 20 });
    await spool.open();
    await spool.append(batch(0, 5));
    await spool.close();
    const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.spool'))!);
    const good = statSync(file).size;
    appendFileSync(file, Buffer.from([200, 0, 0, 0, 1, 2, 3])); // a header that promises 200 bytes that never came

    const reopened = new DiskSpool({ dir, maxBytes: 1 << 20 });
    await reopened.open();
    expect(statSync(file).size).toBe(good);
    expect(await drainAll(reopened)).toEqual([0, 1, 2, 3, 4]);
    await reopened.close();
  });

  it('drops the oldest segments when full and says how many points went', async () => {
    const spool = new DiskSpool({ dir, maxBytes: 8000, segmentBytes: 2000 });
    await spool.open();
    let dropped = 0;
    for (let i = 0; i < 40; i++) dropped += await spool.append(batch(i * 10, 10));
    expect(dropped).toBeGreaterThan(0);
    expect(spool.stats().bytes).toBeLessThanOrEqual(8000);
    const kept = await drainAll(spool);
    expect(kept.length + dropped).toBe(400);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 400 - kept.length + i)); // the newest, in order
    await spool.close();
  });
});

describe('TelemetryWriter spool metrics', () => {
  it('shows spool bytes, oldest age and dropped points on /metrics', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bohub-spool-metrics-'));
    const clock = new ManualClock(1_000_000 + 60_000);
    const events = new EventBus();
    const metrics = new Metrics();
    const store = new SqliteTelemetryStore(join(dir, 'no-such', '\0bad')); // open() fails: everything is spooled
    const writer = new TelemetryWriter({ store, events, clock, log: silentLogger, metrics, spool: { dir: join(dir, 'spool'), maxBytes: 1 << 20, deadLetterFile: join(dir, 'dead.lp') } });
    await writer.start();
    events.emit('meter.values', { device: 'A', values: [{ device: 'A', point: 'p', value: 1, unit: 'kW', quality: 'good', sourceTime: 1_000_000 }] });
    await writer.flush();
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/bohub_telemetry_spool_bytes \d+/);
    expect(text).not.toMatch(/bohub_telemetry_spool_bytes 0\n/);
    expect(text).toContain('bohub_telemetry_spool_points 1');
    expect(text).toContain('bohub_telemetry_spool_oldest_age_seconds 60');
    expect(text).toContain('bohub_telemetry_points_dead_lettered_total 0');
    expect(writer.health()).toMatchObject({ status: 'down', detail: expect.stringContaining('1 points waiting, spool') });
    await writer.stop();
    rmSync(dir, { recursive: true, force: true });
  });
});
