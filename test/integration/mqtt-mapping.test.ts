import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../gateway/config/load.ts';
import { heartbeatTopic } from '../../gateway/signals/states.ts';
import { writeConfig } from '../helpers/config.ts';
import { waitFor } from '../helpers/ports.ts';
import { startSignalRig, type SignalRig } from '../helpers/signal-rig.ts';

// Fire zone FZ-A-05 comes from a vendor panel with its own topics and codes.
const config = loadConfig(writeConfig((raw) => {
  const zone = raw.signals.fireZones.find((z: { id: string }) => z.id === 'FZ-A-05');
  zone.mqtt = { topic: 'acme/{site}/loop1/+/zone5', pointer: '/data/st', values: { ALM: 'alarm', NRM: 'normal', FLT: 'fault' }, seqPointer: '/data/n', timePointer: '/time' };
}), {});
const site = config.building.site.id;

describe('topic mapping, LWT and heartbeats', () => {
  let rig: SignalRig;
  beforeEach(async () => {
    rig = await startSignalRig(config, { panel: { heartbeatMs: 0 } });
  });
  afterEach(() => rig.stop());

  it('maps a vendor topic by filter, JSON pointer and value map', async () => {
    const vendor = await mqtt.connectAsync(rig.broker.url());
    const topic = `acme/${site}/loop1/cab2/zone5`;
    await vendor.publishAsync(topic, JSON.stringify({ time: '2026-05-01T14:40:00Z', data: { st: 'ALM', n: 41 } }), { qos: 1 });
    await vendor.publishAsync(topic, JSON.stringify({ time: '2026-05-01T14:40:01Z', data: { st: 'SMOKE?', n: 42 } }), { qos: 1 });
    // The same vendor event again (a QoS 1 redelivery): dropped.
    await vendor.publishAsync(topic, JSON.stringify({ time: '2026-05-01T14:40:00Z', data: { st: 'ALM', n: 41 } }), { qos: 1 });
    await vendor.publishAsync(topic, JSON.stringify({ time: '2026-05-01T14:41:00Z', data: { st: 'NRM', n: 43 } }), { qos: 1 });
    await waitFor('the return to normal', () => rig.received.find((s) => s.signal === 'FZ-A-05' && s.state === 'normal'));
    await vendor.endAsync();
    expect(rig.received.filter((s) => s.signal === 'FZ-A-05')).toEqual([
      { signal: 'FZ-A-05', kind: 'fire-zone', state: 'alarm', seq: 41, sourceTime: Date.parse('2026-05-01T14:40:00Z'), retained: false },
      { signal: 'FZ-A-05', kind: 'fire-zone', state: 'normal', seq: 43, sourceTime: Date.parse('2026-05-01T14:41:00Z'), retained: false },
    ]);
    expect(rig.rejected.map((r) => r.reason)).toEqual(['vendor value "SMOKE?" is not in the value map']);
  });

  it('a mapped signal is not read from the default topic', async () => {
    const c = await mqtt.connectAsync(rig.broker.url());
    await c.publishAsync(`bohub/${site}/signal/FZ-A-05`, JSON.stringify({ state: 'alarm', seq: 1 }), { qos: 1 });
    await waitFor('the rejection', () => rig.rejected.length > 0);
    await c.endAsync();
    expect(rig.rejected[0]?.reason).toMatch(/is mapped to acme/);
    expect(rig.received.some((s) => s.signal === 'FZ-A-05')).toBe(false);
  });

  it('turns a source\'s last will into source.status offline, and its return into online', async () => {
    await waitFor('FP-B online', () => rig.status.find((s) => s.source === 'FP-B' && s.status === 'online'));
    rig.status.length = 0;
    rig.panel.kill('FP-B');
    const offline = await waitFor('the LWT', () => rig.status.find((s) => s.source === 'FP-B' && s.status === 'offline'));
    expect(offline).toMatchObject({ via: 'lwt', reason: expect.stringMatching(/lost its broker connection/) });
    await waitFor('FP-B back', () => rig.status.find((s) => s.source === 'FP-B' && s.status === 'online'));
  });

  it('reports a heartbeat as source.status online, and refuses unknown sources', async () => {
    const c = await mqtt.connectAsync(rig.broker.url());
    await c.publishAsync(heartbeatTopic(site, 'LEAK-GW-B'), JSON.stringify({ ts: 1_800_000_000_000 }), { qos: 0 });
    await c.publishAsync(heartbeatTopic(site, 'NOBODY'), '{}', { qos: 0 });
    await waitFor('the heartbeat', () => rig.status.find((s) => s.source === 'LEAK-GW-B' && s.via === 'heartbeat'));
    await waitFor('the rejection', () => rig.rejected.find((r) => r.reason === 'unknown source "NOBODY"'));
    await c.endAsync();
  });
});
