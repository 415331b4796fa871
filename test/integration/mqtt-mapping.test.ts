import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../gateway/broker/embedded.ts';
import { systemClock } from '../../gateway/clock.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { MqttSignals } from '../../gateway/drivers/mqtt/signals.ts';
import { EventBus, type HubEvents } from '../../gateway/events.ts';
import { silentLogger } from '../../gateway/log.ts';
import { Metrics } from '../../gateway/metrics.ts';
import { heartbeatTopic } from '../../gateway/signals/states.ts';
import { SignalPanelSimulator } from '../../simulators/signal-panel.ts';
import { writeConfig } from '../helpers/config.ts';
import { waitFor } from '../helpers/ports.ts';

// Fire zone FZ-A-05 comes from a vendor panel with its own topics and codes.
const config = loadConfig(writeConfig((raw) => {
  const zone = raw.signals.fireZones.find((z: { id: string }) => z.id === 'FZ-A-05');
  zone.mqtt = { topic: 'acme/{site}/loop1/+/zone5', pointer: '/data/st', values: { ALM: 'alarm', NRM: 'normal', FLT: 'fault' }, seqPointer: '/data/n', timePointer: '/time' };
}), {});
const site = config.building.site.id;

describe('topic mapping, LWT and heartbeats', () => {
  let broker: EmbeddedBroker;
  let signals: MqttSignals;
  let panel: SignalPanelSimulator;
  const received: Array<HubEvents['signal.state']> = [];
  const status: Array<HubEvents['source.status']> = [];
  const rejected: Array<HubEvents['input.rejected']> = [];

  beforeEach(async () => {
    received.length = status.length = rejected.length = 0;
    const events = new EventBus();
    events.on('test', 'signal.state', (s) => received.push(s));
    events.on('test', 'source.status', (s) => status.push(s));
    events.on('test', 'input.rejected', (r) => rejected.push(r));
    broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0, log: silentLogger });
    await broker.start();
    signals = new MqttSignals({ config, events, clock: systemClock, log: silentLogger, metrics: new Metrics(), url: () => broker.url() });
    panel = new SignalPanelSimulator({ config, url: () => broker.url(), clock: systemClock, log: silentLogger, heartbeatMs: 0 });
    await signals.start();
    await panel.start();
  });

  afterEach(async () => {
    await panel.stop();
    await signals.stop();
    await broker.stop();
  });

  it('maps a vendor topic by filter, JSON pointer and value map', async () => {
    const vendor = await mqtt.connectAsync(broker.url());
    const topic = `acme/${site}/loop1/cab2/zone5`;
    await vendor.publishAsync(topic, JSON.stringify({ time: '2026-05-01T14:40:00Z', data: { st: 'ALM', n: 41 } }), { qos: 1 });
    await vendor.publishAsync(topic, JSON.stringify({ time: '2026-05-01T14:40:01Z', data: { st: 'SMOKE?', n: 42 } }), { qos: 1 });
    // The same vendor event again (a QoS 1 redelivery): dropped.
    await vendor.publishAsync(topic, JSON.stringify({ time: '2026-05-01T14:40:00Z', data: { st: 'ALM', n: 41 } }), { qos: 1 });
    await vendor.publishAsync(topic, JSON.stringify({ time: '2026-05-01T14:41:00Z', data: { st: 'NRM', n: 43 } }), { qos: 1 });
    await waitFor('the return to normal', () => received.find((s) => s.signal === 'FZ-A-05' && s.state === 'normal'));
    await vendor.endAsync();
    expect(received.filter((s) => s.signal === 'FZ-A-05')).toEqual([
      { signal: 'FZ-A-05', kind: 'fire-zone', state: 'alarm', seq: 41, sourceTime: Date.parse('2026-05-01T14:40:00Z'), retained: false },
      { signal: 'FZ-A-05', kind: 'fire-zone', state: 'normal', seq: 43, sourceTime: Date.parse('2026-05-01T14:41:00Z'), retained: false },
    ]);
    expect(rejected.map((r) => r.reason)).toEqual(['vendor value "SMOKE?" is not in the value map']);
  });

  it('a mapped signal is not read from the default topic', async () => {
    const c = await mqtt.connectAsync(broker.url());
    await c.publishAsync(`bohub/${site}/signal/FZ-A-05`, JSON.stringify({ state: 'alarm', seq: 1 }), { qos: 1 });
    await waitFor('the rejection', () => rejected.length > 0);
    await c.endAsync();
    expect(rejected[0]?.reason).toMatch(/is mapped to acme/);
    expect(received.some((s) => s.signal === 'FZ-A-05')).toBe(false);
  });

  it('turns a source\'s last will into source.status offline, and its return into online', async () => {
    await waitFor('FP-B online', () => status.find((s) => s.source === 'FP-B' && s.status === 'online'));
    status.length = 0;
    panel.kill('FP-B');
    const offline = await waitFor('the LWT', () => status.find((s) => s.source === 'FP-B' && s.status === 'offline'));
    expect(offline).toMatchObject({ via: 'lwt', reason: expect.stringMatching(/lost its broker connection/) });
    await waitFor('FP-B back', () => status.find((s) => s.source === 'FP-B' && s.status === 'online'));
  });

  it('reports a heartbeat as source.status online, and refuses unknown sources', async () => {
    const c = await mqtt.connectAsync(broker.url());
    await c.publishAsync(heartbeatTopic(site, 'LEAK-GW-B'), JSON.stringify({ ts: 1_800_000_000_000 }), { qos: 0 });
    await c.publishAsync(heartbeatTopic(site, 'NOBODY'), '{}', { qos: 0 });
    await waitFor('the heartbeat', () => status.find((s) => s.source === 'LEAK-GW-B' && s.via === 'heartbeat'));
    await waitFor('the rejection', () => rejected.find((r) => r.reason === 'unknown source "NOBODY"'));
    await c.endAsync();
  });
});
