import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { systemClock } from '../../gateway/clock.ts';
import { EventBus, type PointValue } from '../../gateway/events.ts';
import { silentLogger } from '../../gateway/log.ts';
import { Metrics } from '../../gateway/metrics.ts';
import { SqliteRecordStore } from '../../gateway/storage/records.ts';
import { InfluxHttp } from '../../gateway/storage/influx-http.ts';
import { InfluxTelemetryStore } from '../../gateway/storage/telemetry-influx.ts';
import { TelemetryWriter } from '../../gateway/storage/telemetry-writer.ts';
import { startInfluxd, type Influxd } from '../helpers/influxd.ts';
import { waitFor } from '../helpers/ports.ts';
import { describeWithProgram, whichProgram } from '../helpers/programs.ts';

// The writer against a real influxd that goes away: nothing written during an
// outage may be lost or stored twice (issue 4, "Tests").

const LONG = { rawDays: 3650, rollup1mDays: 3650, rollup1hDays: 3650 };
const OUTAGE_MS = Number(process.env.BOHUB_OUTAGE_TEST_MS ?? 31_000);

describeWithProgram(whichProgram('influxd'), 'TelemetryWriter through InfluxDB outages', 'influxdb', (influxd) => {
  let server: Influxd;
  let dir: string;
  let db = 0;
  const writers: TelemetryWriter[] = [];
  const timers: NodeJS.Timeout[] = [];

  beforeAll(async () => {
    server = await startInfluxd(influxd);
  });
  afterAll(async () => {
    await server?.stop();
  });
  afterEach(async () => {
    timers.forEach(clearInterval);
    for (const w of writers.splice(0)) await w.stop();
    // A test that failed mid-outage leaves influxd down; the next one needs it up.
    if (!(await fetch(`${server.url}/ping`).then((r) => r.ok, () => false))) await server.restart();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A store, a writer and an event bus, as the hub builds them, on a spool dir that outlives the writer. */
  function setup(options: { spoolMaxBytes?: number; database?: string } = {}) {
    dir = mkdtempSync(join(tmpdir(), 'bohub-outage-'));
    const database = options.database ?? `outage_${++db}`;
    const events = new EventBus();
    const metrics = new Metrics();
    const make = () => {
      const store = new InfluxTelemetryStore({
        url: server.url, database, retention: LONG,
        spool: { dir: join(dir, 'telemetry-spool'), maxBytes: options.spoolMaxBytes ?? 64 << 20, deadLetterFile: join(dir, 'dead-letter.lp') },
      });
      const writer = new TelemetryWriter({ store, events, clock: systemClock, log: silentLogger, metrics, flushMs: 100, maxBackoffMs: 1000 });
      writers.push(writer);
      return writer;
    };
    return { events, metrics, database, make, http: new InfluxHttp({ url: server.url, database }) };
  }

  /** 10 points per emit, every 10 ms; each point's value is its sequence number, its time unique per series. */
  function producer(events: EventBus) {
    const t0 = Date.now() - 3_600_000;
    const sent: Array<{ device: string; point: string; time: number; value: number }> = [];
    let seq = 0;
    let paused = false;
    const emitOnce = () => {
      if (paused) return;
      const time = t0 + seq;
      const values: PointValue[] = Array.from({ length: 10 }, (_, i) => ({ device: `D-${i}`, point: 'power', value: seq * 10 + i, unit: 'kW', quality: 'good', sourceTime: time }));
      for (const v of values) sent.push({ device: v.device, point: v.point, time, value: v.value! });
      events.emit('meter.values', { device: 'many', values });
      seq++;
    };
    const timer = setInterval(emitOnce, 10);
    timers.push(timer);
    return { sent, stop: () => clearInterval(timer), pause: () => (paused = true), resume: () => (paused = false) };
  }

  async function storedPoints(http: InfluxHttp) {
    const series = await http.query('SELECT "value" FROM "bohub_raw"."meter" GROUP BY *', { epoch: 'ms' });
    return series.flatMap((s) => (s.values ?? []).map((r) => ({ device: s.tags!.device!, point: s.tags!.point!, time: Number(r[0]), value: Number(r[1]) })));
  }

  const checksum = (rows: Array<{ device: string; point: string; time: number; value: number }>) =>
    createHash('sha256').update(rows.map((r) => `${r.device}|${r.point}|${r.time}|${r.value}`).sort().join('\n')).digest('hex');

  async function drained(writer: TelemetryWriter, http: InfluxHttp, expected: number) {
    let seen = 0;
    await waitFor('every point stored', async () => {
      await writer.flush();
      seen = (await storedPoints(http)).length;
      return writer.health().status === 'ok' && seen >= expected;
    }, 60_000, 200).catch((err) => {
      throw new Error(`${(err as Error).message}; ${seen} of ${expected} stored; writer: ${writer.health().detail}`);
    });
  }

  it(`stores every point written during a ${OUTAGE_MS / 1000} s outage exactly once, in order`, async () => {
    const { events, make, http } = setup();
    const writer = make();
    await writer.start();
    const load = producer(events);
    await new Promise((r) => setTimeout(r, 2000));

    await server.kill();
    const killedAt = Date.now();
    let peakSpool = 0;
    await waitFor('the outage to last', () => {
      peakSpool = Math.max(peakSpool, Number(/spool (\d+) bytes/.exec(writer.health().detail)?.[1] ?? 0));
      return Date.now() - killedAt >= OUTAGE_MS;
    }, OUTAGE_MS + 5000, 250);
    expect(writer.health().status).toBe('degraded');
    await server.restart();
    await new Promise((r) => setTimeout(r, 2000)); // live data keeps flowing while the spool replays
    load.stop();

    await drained(writer, http, load.sent.length);
    const stored = await storedPoints(http);
    expect(peakSpool).toBeGreaterThan(0);
    expect(stored.length).toBe(load.sent.length);
    expect(checksum(stored)).toBe(checksum(load.sent));
    // In order: each series comes back in ascending time with ascending sequence values.
    for (const device of ['D-0', 'D-9']) {
      const values = stored.filter((r) => r.device === device).map((r) => r.value);
      expect(values).toEqual([...values].sort((a, b) => a - b));
    }
  }, OUTAGE_MS + 120_000);

  it('replays the spool of a writer that was restarted in the middle of an outage', async () => {
    const { events, make, http } = setup();
    const first = make();
    await first.start();
    const load = producer(events);
    await new Promise((r) => setTimeout(r, 500));
    await server.kill();
    await new Promise((r) => setTimeout(r, 1500));
    // The hub restarts: its drivers stop with it, and its spool stays on disk.
    load.pause();
    await first.stop();

    const second = make();
    await second.start();
    load.resume();
    expect(second.health().detail).toMatch(/points waiting/);
    await new Promise((r) => setTimeout(r, 1500));
    await server.restart();
    await new Promise((r) => setTimeout(r, 500));
    load.stop();

    await drained(second, http, load.sent.length);
    const stored = await storedPoints(http);
    expect(stored.length).toBe(load.sent.length);
    expect(checksum(stored)).toBe(checksum(load.sent));
  }, 90_000);

  it('sends a batch with a field type conflict to the dead letter while the rest keeps flowing', async () => {
    const { events, make, http, metrics } = setup();
    const writer = make();
    await writer.start();
    // `signal` already holds value as a string, so float values for it conflict.
    await http.write(`signal,signal=FZ-A-01,kind=fire-zone value="quiet" ${Date.now() - 60_000}`, 'bohub_raw');
    const load = producer(events);
    await new Promise((r) => setTimeout(r, 300));
    events.emit('signal.state', { signal: 'FZ-A-07', kind: 'fire-zone', state: 'alarm', sourceTime: Date.now(), retained: false });
    await new Promise((r) => setTimeout(r, 700));
    load.stop();

    await drained(writer, http, load.sent.length);
    expect((await storedPoints(http)).length).toBe(load.sent.length);
    const deadLetter = readFileSync(join(dir, 'dead-letter.lp'), 'utf8');
    expect(deadLetter).toMatch(/^# .* refused: .*field type conflict/m);
    expect(deadLetter).toContain('signal,kind=fire-zone,signal=FZ-A-07 value=1,q="good"');
    const counted = (await metrics.registry.getSingleMetric('bohub_telemetry_points_dead_lettered_total')!.get()).values[0]?.value;
    expect(counted).toBe(1);
    expect(writer.health().detail).toContain('1 dead-lettered');
  }, 60_000);

  it('drops the oldest telemetry with a count when the spool is full, and loses no records', async () => {
    const { events, make, http, metrics } = setup({ spoolMaxBytes: 100 << 10 });
    const records = SqliteRecordStore.open(dir);
    const writer = make();
    await writer.start();
    await server.kill();
    const load = producer(events);
    // About 70 bytes a point on disk: 100 KiB holds roughly 1,500 points, fewer than the 3,000 sent.
    for (let i = 0; i < 30; i++) {
      records.appendAudit({ actor: 'system', action: 'test.outage', subject: `n${i}`, at: Date.now() });
      await new Promise((r) => setTimeout(r, 100));
    }
    load.stop();
    await writer.flush();
    const dropped = (await metrics.registry.getSingleMetric('bohub_telemetry_points_dropped_total')!.get()).values.find((v) => v.labels.reason === 'spool_full')?.value ?? 0;
    expect(dropped).toBeGreaterThan(0);
    expect(writer.health().detail).toContain(`${dropped} dropped (spool full)`);

    await server.restart();
    await drained(writer, http, load.sent.length - dropped);
    const stored = await storedPoints(http);
    expect(stored.length + dropped).toBe(load.sent.length);
    // The newest were kept: everything stored is later than everything dropped.
    const oldestKept = Math.min(...stored.map((r) => r.time));
    expect(load.sent.filter((r) => r.time < oldestKept)).toHaveLength(dropped);
    expect(records.listAudit({ action: 'test.outage' })).toHaveLength(30);
    records.close();
  }, 60_000);
});
