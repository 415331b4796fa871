import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../gateway/clock.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { OpcuaSignals } from '../../gateway/drivers/opcua/client.ts';
import { EventBus, type HubEvents } from '../../gateway/events.ts';
import { silentLogger } from '../../gateway/log.ts';
import { Metrics } from '../../gateway/metrics.ts';
import { OpcuaPowerSimulator } from '../../simulators/opcua-power.ts';
import { tempDir, writeConfig } from '../helpers/config.ts';
import { waitFor } from '../helpers/ports.ts';

// A building with one power-monitoring server mapping two feeders, with the given security.
function building(security: { securityMode: string; securityPolicy: string }) {
  return loadConfig(writeConfig((raw) => {
    raw.opcua = {
      sources: [{
        id: 'PMS-TEST', endpoint: 'opc.tcp://127.0.0.1:1/bohub', ...security,
        publishingIntervalMs: 100, samplingIntervalMs: 50, queueSize: 10,
        nodes: [{ signal: 'PF-A-1', nodeId: 'ns=1;s=PF-A-1.On' }, { signal: 'PF-B-1', nodeId: 'ns=1;s=PF-B-1.On' }],
      }],
    };
  }), {});
}

describe('power feeders over OPC-UA', () => {
  let sim: OpcuaPowerSimulator | undefined;
  let client: OpcuaSignals | undefined;
  const received: Array<HubEvents['signal.state']> = [];
  const status: Array<HubEvents['source.status']> = [];

  async function start(security: { securityMode: string; securityPolicy: string }) {
    received.length = status.length = 0;
    const config = building(security);
    const pki = tempDir('bohub-pki-');
    sim = new OpcuaPowerSimulator({ config, port: 0, pkiDir: join(pki, 'sim'), log: silentLogger });
    await sim.start();
    const events = new EventBus();
    events.on('test', 'signal.state', (s) => received.push(s));
    events.on('test', 'source.status', (s) => status.push(s));
    client = new OpcuaSignals({ config, pkiDir: join(pki, 'hub'), endpointOf: () => sim!.url(), events, clock: systemClock, log: silentLogger, metrics: new Metrics() });
    await client.start();
  }

  afterEach(async () => {
    await client?.stop();
    await sim?.stop();
    client = sim = undefined;
  });

  it('delivers a feeder change through a monitored item', async () => {
    await start({ securityMode: 'None', securityPolicy: 'None' });
    await waitFor('the initial state', () => received.find((s) => s.signal === 'PF-A-1' && s.state === 'on'));
    expect(received.find((s) => s.signal === 'PF-A-1')?.retained).toBe(true);
    sim!.set('PF-A-1', 'off');
    const off = await waitFor('the power loss', () => received.find((s) => s.signal === 'PF-A-1' && s.state === 'off'));
    expect(off).toMatchObject({ kind: 'power-feeder', retained: false });
    expect(status.at(-1)).toMatchObject({ source: 'PMS-TEST', status: 'online', via: 'opcua' });
    expect(client!.health().status).toBe('ok');
  }, 30_000);

  it('re-creates its subscription after the server restarts, and a later change arrives', async () => {
    await start({ securityMode: 'None', securityPolicy: 'None' });
    await waitFor('the initial state', () => received.find((s) => s.signal === 'PF-B-1' && s.state === 'on'));
    await sim!.restart();
    await waitFor('the loss of the server', () => status.find((s) => s.status === 'offline'), 15_000);
    await waitFor('the server back', () => status.filter((s) => s.status === 'online').length >= 2 && client!.health().status === 'ok', 20_000);
    sim!.set('PF-B-1', 'off');
    const off = await waitFor('the change after the restart', () => received.find((s) => s.signal === 'PF-B-1' && s.state === 'off'), 10_000);
    expect(off.retained).toBe(false);
  }, 60_000);

  it('refuses an untrusted server certificate and shows it as a trouble', async () => {
    await start({ securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256' });
    const trouble = await waitFor('the trouble', () => status.find((s) => s.status === 'offline'), 15_000);
    expect(trouble.reason).toMatch(/certificate not trusted/);
    expect(client!.health()).toMatchObject({ status: 'down', detail: expect.stringMatching(/certificate not trusted/) });
    expect(received).toEqual([]);
  }, 30_000);
});
