import type { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../gateway/clock.ts';
import { EventBus, type PointValue } from '../../gateway/events.ts';
import { silentLogger, type Logger } from '../../gateway/log.ts';
import { Metrics } from '../../gateway/metrics.ts';
import { InfluxTelemetryStore } from '../../gateway/storage/telemetry-influx.ts';
import { SqliteTelemetryStore } from '../../gateway/storage/telemetry-sqlite.ts';
import { TelemetryWriter, type TelemetryWriterOptions } from '../../gateway/storage/telemetry-writer.ts';
import type { Sample, TelemetryStore } from '../../gateway/storage/types.ts';
import { freePort } from '../helpers/ports.ts';

const T0 = Date.UTC(2026, 0, 1);

/** Wraps the real SQLite store; fails open/write on demand and records batch sizes. */
class FlakyStore implements TelemetryStore {
  readonly backend = 'embedded' as const;
  failOpen = false;
  failWrite = false;
  openAttempts = 0;
  batches: number[] = [];
  constructor(readonly inner: SqliteTelemetryStore) {}
  async open() {
    this.openAttempts++;
    if (this.failOpen) throw new Error('connect ECONNREFUSED 10.0.0.9:8086');
    await this.inner.open();
  }
  async write(batch: Sample[]) {
    if (this.failWrite) throw new Error('write timed out');
    this.batches.push(batch.length);
    await this.inner.write(batch);
  }
  query = (q: Parameters<TelemetryStore['query']>[0]) => this.inner.query(q);
  close = () => this.inner.close();
}

describe('TelemetryWriter', () => {
  let dir: string;
  let clock: ManualClock;
  let events: EventBus;
  let metrics: Metrics;
  let store: FlakyStore;
  let writer: TelemetryWriter | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bohub-writer-'));
    clock = new ManualClock(T0);
    events = new EventBus();
    metrics = new Metrics();
    store = new FlakyStore(new SqliteTelemetryStore(dir));
  });
  afterEach(async () => {
    await writer?.stop();
    writer = undefined;
    await store.inner.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const make = (extra: Partial<TelemetryWriterOptions> = {}) =>
    (writer = new TelemetryWriter({ store, events, clock, log: silentLogger, metrics, ...extra }));
  const pv = (device: string, point: string, value: number | null, sourceTime = T0): PointValue => ({ device, point, value, unit: 'kWh', quality: 'good', sourceTime });
  const emitMeter = (n: number, value = 1) => events.emit('meter.values', { device: 'A-0101-E', values: Array.from({ length: n }, (_, i) => pv('A-0101-E', `p${i}`, value, T0 + i)) });
  /** Lets pending promise work run, without moving fake time or flushing. */
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  /** Moves fake time and lets the flush the timer started finish. */
  const tick = async (ms: number) => {
    clock.advance(ms);
    await writer!.flush();
  };
  const stored = async (measurement = 'meter') => (await store.inner.query({ measurement, from: 0, to: T0 + 1e9 })).flatMap((s) => s.points.map(([t, v]) => ({ tags: s.tags, t, v })));
  const written = async () => (await metrics.telemetryWritten.get()).values.find((v) => v.labels.backend === 'embedded')?.value ?? 0;

  it('writes meter values as samples once flushMs has passed, skipping null values', async () => {
    await make({ flushMs: 1000 }).start();
    events.emit('meter.values', { device: 'A-0101-E', values: [pv('A-0101-E', 'energy_import', 12.5), pv('A-0101-E', 'power', null)] });
    await settle(); // before the interval: nothing is due
    expect(store.batches).toEqual([]);

    await tick(1000);
    expect(await stored()).toEqual([{ tags: { device: 'A-0101-E', point: 'energy_import' }, t: T0, v: 12.5 }]);
    expect(await written()).toBe(1);
    expect(writer!.health().status).toBe('ok');
  });

  it('writes signal states as numeric codes tagged with signal and kind', async () => {
    await make().start();
    events.emit('signal.state', { signal: 'FZ-A-07', kind: 'fire-zone', state: 'alarm', sourceTime: T0 + 5, retained: false });
    events.emit('signal.state', { signal: 'L-B1-01', kind: 'leak', state: 'dry', sourceTime: T0 + 6, retained: true });
    await tick(1000);
    const rows = await stored('signal');
    expect(rows).toEqual(
      expect.arrayContaining([
        { tags: { signal: 'FZ-A-07', kind: 'fire-zone' }, t: T0 + 5, v: 1 },
        { tags: { signal: 'L-B1-01', kind: 'leak' }, t: T0 + 6, v: 0 },
      ]),
    );
    expect(rows).toHaveLength(2);
  });

  it('writes full batches of maxBatch at once and the rest when flushMs has passed', async () => {
    await make({ maxBatch: 4 }).start();
    emitMeter(3);
    await settle();
    expect(store.batches).toEqual([]); // 3 < maxBatch: waits for the timer
    emitMeter(7); // 10 >= maxBatch: no clock advance needed
    await settle();
    expect(store.batches).toEqual([4, 4]);
    await tick(1000);
    expect(store.batches).toEqual([4, 4, 2]);
    expect(await written()).toBe(10);
  });

  it('stays up with health down when InfluxDB cannot be reached, buffering samples', async () => {
    const port = await freePort(); // nothing listens here
    const influx = new InfluxTelemetryStore({ url: `http://127.0.0.1:${port}`, database: 'bohub' });
    writer = new TelemetryWriter({ store: influx, events, clock, log: silentLogger, metrics });
    await expect(writer.start()).resolves.toBeUndefined();
    emitMeter(3);
    await tick(1000);
    const health = writer.health();
    expect(health.status).toBe('down');
    expect(health.detail).toContain(`127.0.0.1:${port}`);
    expect(health.detail).toContain('3 points waiting');
  });

  it('retries open with backoff and writes the samples buffered before recovery', async () => {
    store.failOpen = true;
    await make({ flushMs: 1000 }).start();
    emitMeter(3);
    expect(writer!.health()).toMatchObject({ status: 'down', detail: expect.stringContaining('ECONNREFUSED') });

    // Retries at +1 s, +3 s, +7 s: the delay doubles after each failure.
    for (let i = 0; i < 7; i++) await tick(1000);
    expect(store.openAttempts).toBe(4);

    store.failOpen = false;
    emitMeter(2, 9);
    for (let i = 0; i < 8; i++) await tick(1000); // the next retry is due at +15 s
    expect(writer!.health().status).toBe('ok');
    expect((await stored()).map((r) => r.v).sort()).toEqual([1, 9, 9]); // p0,p1 replaced by the newer value at the same time
    expect(await written()).toBe(5);
  });

  it('reports degraded with the waiting count and last error while writes fail, then recovers', async () => {
    await make().start();
    store.failWrite = true;
    emitMeter(2);
    await tick(1000);
    expect(writer!.health()).toEqual({ status: 'degraded', detail: '2 points waiting, last error: write timed out' });
    expect((await metrics.telemetryErrors.get()).values[0]?.value).toBe(1);

    store.failWrite = false;
    await tick(1000);
    expect(writer!.health().status).toBe('ok');
    expect(await stored()).toHaveLength(2);
  });

  it('without a disk spool keeps only the newest maxBuffered samples in memory, dropping whole batches', async () => {
    store.failOpen = true;
    await make({ maxBatch: 3, maxBuffered: 6 }).start();
    emitMeter(9); // three batches of 3; the third pushes the first out
    await settle();
    expect(writer!.health().detail).toContain('6 points waiting, 3 dropped (spool full)');
    store.failOpen = false;
    await tick(1000);
    expect((await stored()).map((r) => r.tags.point).sort()).toEqual(['p3', 'p4', 'p5', 'p6', 'p7', 'p8']);
  });

  it('logs once when the store fails and once when it recovers', async () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const log: Logger = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s)) });
    store.failOpen = true;
    await make({ log }).start();
    for (let i = 0; i < 20; i++) await tick(1000);
    store.failOpen = false;
    for (let i = 0; i < 20; i++) await tick(1000);
    expect(store.openAttempts).toBeGreaterThan(3);
    expect(lines.map((l) => l.msg)).toEqual(['telemetry store down; spooling samples', 'telemetry store available again']);
  });

  it('stop() flushes what is buffered, closes the store and removes its listeners', async () => {
    await make().start();
    emitMeter(2);
    await writer!.stop();
    expect(store.batches).toEqual([2]);
    await expect(store.inner.query({ measurement: 'meter', from: 0, to: T0 + 1e9 })).rejects.toThrow(/not open/);

    const emitter = (events as unknown as { emitter: EventEmitter }).emitter;
    expect(emitter.listenerCount('meter.values')).toBe(0);
    expect(emitter.listenerCount('signal.state')).toBe(0);
    expect(writer!.health()).toEqual({ status: 'down', detail: 'stopped' });
    await writer!.stop(); // idempotent
    expect(store.batches).toEqual([2]);
  });
});
