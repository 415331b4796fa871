import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxTelemetryStore } from '../../gateway/storage/telemetry-influx.ts';
import { startInfluxd, type Influxd } from '../helpers/influxd.ts';
import { freePort } from '../helpers/ports.ts';
import { describeWithProgram, whichProgram } from '../helpers/programs.ts';
import { telemetryContract } from '../contract/telemetry-contract.ts';

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
  telemetryContract('InfluxTelemetryStore', () => new InfluxTelemetryStore({ url: server.url, database: `bohub_contract_${++n}` }));

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
