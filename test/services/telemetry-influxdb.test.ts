import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxTelemetryStore } from '../../gateway/storage/telemetry-influx.ts';
import { startInfluxd, type Influxd } from '../helpers/influxd.ts';
import { freePort } from '../helpers/ports.ts';
import { describeWithProgram, whichProgram } from '../helpers/programs.ts';
import { telemetryContract } from '../contract/telemetry-contract.ts';

const LONG = { rawDays: 3650, rollup1mDays: 3650, rollup1hDays: 3650 };

describeWithProgram(whichProgram('influxd'), 'InfluxTelemetryStore against a real influxd', 'influxdb', (influxd) => {
  let server: Influxd;
  let n = 0;
  beforeAll(async () => {
    server = await startInfluxd(influxd);
  });
  afterAll(async () => {
    await server?.stop();
  });

  // A fresh database per test: the contract expects an empty store.
  // Long raw retention: the contract writes fixed times in 2026, which InfluxDB refuses once they are older than the retention policy.
  telemetryContract('InfluxTelemetryStore', () => new InfluxTelemetryStore({ url: server.url, database: `bohub_contract_${++n}`, retention: LONG }));

  // Servers without retention policies (VictoriaMetrics, InfluxDB 2/3 v1 endpoints) use rollups: false.
  telemetryContract('InfluxTelemetryStore without rollups', () => new InfluxTelemetryStore({ url: server.url, database: `bohub_plain_${++n}`, rollups: false }));

  it('with rollups: false, manages no retention policy or continuous query and writes to the default policy', async () => {
    const store = new InfluxTelemetryStore({ url: server.url, database: 'bohub_plain', rollups: false });
    await store.open();
    await store.write([{ measurement: 'meter', tags: { device: 'A-0101-E', point: 'power' }, value: 1.5, quality: 'good', time: Date.UTC(2026, 10, 1) }]);
    const q = (sql: string) => fetch(`${server.url}/query?db=bohub_plain&q=${encodeURIComponent(sql)}`).then((r) => r.json()).then((j) => JSON.stringify(j));
    const rps = await q('SHOW RETENTION POLICIES ON bohub_plain');
    expect(rps).toContain('"autogen"');
    expect(rps).not.toContain('bohub_raw');
    // SHOW CONTINUOUS QUERIES lists every database; ours must have none.
    const cqs = JSON.parse(await q('SHOW CONTINUOUS QUERIES')).results[0].series as Array<{ name: string; values?: unknown[] }>;
    expect(cqs.find((s) => s.name === 'bohub_plain')?.values).toBeUndefined();
    expect(await q('SELECT value FROM autogen.meter')).toContain('1.5');
    await store.close();
  });

  describe('retention and rollups', () => {
    const HOUR = 3_600_000;
    const DAY = 86_400_000;
    const MIDNIGHT = Date.UTC(2026, 1, 28, 16); // 2026-03-01 00:00 in Shanghai
    const tags = { device: 'A-0101-E', point: 'power' };

    it('creates a retention policy per resolution and the continuous queries at open()', async () => {
      const store = new InfluxTelemetryStore({ url: server.url, database: 'bohub_rp', retention: { rawDays: 7, rollup1mDays: 90, rollup1hDays: 1000 } });
      await store.open();
      const q = (sql: string) => fetch(`${server.url}/query?db=bohub_rp&q=${encodeURIComponent(sql)}`).then((r) => r.json()).then((j) => JSON.stringify(j));
      const rps = await q('SHOW RETENTION POLICIES ON bohub_rp');
      expect(rps).toContain('["bohub_raw","168h0m0s"');
      expect(rps).toContain('["bohub_1m","2160h0m0s"');
      expect(rps).toContain('["bohub_1h","24000h0m0s"');
      const cqs = await q('SHOW CONTINUOUS QUERIES');
      expect(cqs).toContain('bohub_1m');
      expect(cqs).toContain('bohub_1h');
      // Opening again with a new raw retention alters the policy instead of failing.
      await store.close();
      await new InfluxTelemetryStore({ url: server.url, database: 'bohub_rp', retention: { rawDays: 14, rollup1mDays: 90, rollup1hDays: 1000 } }).open();
      expect(await q('SHOW RETENTION POLICIES ON bohub_rp')).toContain('["bohub_raw","336h0m0s"');
    });

    it('answers daily means in Shanghai days from the rollups after a backfill, and hourly ones from raw', async () => {
      const now = MIDNIGHT + 3 * DAY;
      const store = new InfluxTelemetryStore({ url: server.url, database: 'bohub_rollups', retention: LONG, now: () => now });
      await store.open();
      await store.write(Array.from({ length: 48 }, (_, i) => ({ measurement: 'meter', tags, value: i < 24 ? 1 : 2, quality: 'good' as const, time: MIDNIGHT + i * HOUR })));
      await store.backfill(MIDNIGHT, MIDNIGHT + 2 * DAY);

      const daily = await store.query({ measurement: 'meter', tags, from: MIDNIGHT, to: MIDNIGHT + 2 * DAY - 1, every: DAY, timeZone: 'Asia/Shanghai' });
      expect(daily).toEqual([{ measurement: 'meter', tags, points: [[MIDNIGHT, 1], [MIDNIGHT + DAY, 2]], resolution: '1m' }]);
      const hourly = await store.query({ measurement: 'meter', tags, from: MIDNIGHT + 23 * HOUR, to: MIDNIGHT + 25 * HOUR - 1, every: HOUR, timeZone: 'Asia/Shanghai' });
      expect(hourly).toEqual([{ measurement: 'meter', tags, points: [[MIDNIGHT + 23 * HOUR, 1], [MIDNIGHT + 24 * HOUR, 2]], resolution: 'raw' }]);
      await store.close();
    });
  });

  describe('open()', () => {
    it('creates the database when it is missing', async () => {
      const store = new InfluxTelemetryStore({ url: server.url, database: 'bohub_created' });
      await store.open();
      const res = await fetch(`${server.url}/query?q=${encodeURIComponent('SHOW DATABASES')}`);
      expect(JSON.stringify(await res.json())).toContain('"bohub_created"');
      await store.close();
    });
  });
});

describe('InfluxTelemetryStore without a server', () => {
  it('rejects open() with BOHUB_TELEMETRY_WRITE naming the server', async () => {
    const port = await freePort();
    const store = new InfluxTelemetryStore({ url: `http://127.0.0.1:${port}`, database: 'bohub' });
    await expect(store.open()).rejects.toMatchObject({ code: 'BOHUB_TELEMETRY_WRITE', message: expect.stringContaining(`127.0.0.1:${port}`) });
  });
});
