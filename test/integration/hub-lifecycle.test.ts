import { createServer, type Server } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../gateway/config/load.ts';
import { Hub } from '../../gateway/hub.ts';
import { silentLogger } from '../../gateway/log.ts';
import { SqliteRecordStore } from '../../gateway/storage/records.ts';
import { hubTestConfig, tempDir, type RawConfig } from '../helpers/config.ts';
import { freePort, waitFor } from '../helpers/ports.ts';

const building = (extra?: (raw: RawConfig) => void) => loadConfig(hubTestConfig(2, extra), {});

describe('hub lifecycle', () => {
  let hub: Hub | undefined;
  let blocker: Server | undefined;

  afterEach(async () => {
    await hub?.stop();
    blocker?.close();
    hub = blocker = undefined;
  });

  it('keeps running when one plug-in fails to start, and names it in health', async () => {
    const port = await freePort();
    blocker = createServer();
    await new Promise<void>((r) => blocker!.listen(port, '127.0.0.1', () => r()));
    hub = new Hub({ config: building((raw) => (raw.broker.port = port)), log: silentLogger });
    await hub.start();
    const health = hub.health();
    expect(health.status).toBe('degraded');
    expect(health.components.broker).toEqual({ status: 'down', detail: expect.stringMatching(new RegExp(`failed to start: BOHUB_PORT_IN_USE.*${port}`)) });
    // Meter reading and the web server carry on without the broker.
    await waitFor('a meter read', () => hub!.latest.get('A-0101-E', 'energy_import')?.quality === 'good');
    expect((await fetch(`${hub.parts.http!.url()}/api/health`)).status).toBe(200);
  });

  it('stops every plug-in in reverse order, once, and records start and stop in the audit log', async () => {
    const config = building();
    const lines: Array<{ msg: string; plugin?: string }> = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    hub = new Hub({ config, log });
    await hub.start();
    const url = hub.parts.http!.url();
    await Promise.all([hub.stop(), hub.stop()]);
    await expect(fetch(`${url}/api/health`)).rejects.toThrow();
    const order = (msg: string) => lines.filter((l) => l.msg === msg).map((l) => l.plugin);
    expect(order('plug-in started').length).toBeGreaterThan(4);
    expect(order('plug-in stopped')).toEqual(order('plug-in started').reverse());
    expect(hub.parts.modbus!.health().status).not.toBe('ok');
    const records = SqliteRecordStore.open(config.building.storage.dataDir);
    // The demo building's first start also seeds its lobby content (audited as 'system').
    const hubEntries = records.listAudit().map((e) => e.action).filter((a) => a.startsWith('hub.'));
    expect(hubEntries).toEqual(['hub.stop', 'hub.start']);
    expect(records.listAudit()[0]!.action).toBe('hub.stop');
    records.close();
    hub = undefined;
  });

  it('does not start without its records store, and says why', async () => {
    const file = join(tempDir(), 'plain-file');
    writeFileSync(file, '');
    hub = new Hub({ config: building((raw) => (raw.storage.dataDir = join(file, 'data'))), log: silentLogger });
    await expect(hub.start()).rejects.toMatchObject({ code: 'BOHUB_DATA_DIR_UNWRITABLE' });
    hub = undefined;
  });
});
