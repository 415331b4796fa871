import mqtt from 'mqtt';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hashPassword } from '../../gateway/auth/passwords.ts';
import type { EmbeddedBroker } from '../../gateway/broker/embedded.ts';
import { loadConfig, type LoadedConfig } from '../../gateway/config/load.ts';
import { MqttSignals } from '../../gateway/drivers/mqtt/signals.ts';
import { signalTopic } from '../../gateway/signals/states.ts';
import { SignalPanelSimulator } from '../../simulators/signal-panel.ts';
import { demoSourcePassword } from '../../gateway/auth/passwords.ts';
import { writeConfig } from '../helpers/config.ts';
import { waitFor } from '../helpers/ports.ts';
import { startSignalRig, type SignalRig } from '../helpers/signal-rig.ts';

// Device accounts use the demo passwords (site.demo), so the simulator logs in by itself.
const ACCOUNTS = [
  { username: 'fp-a', source: 'FP-A' }, { username: 'fp-b', source: 'FP-B' },
  { username: 'leak-gw-a', source: 'LEAK-GW-A' }, { username: 'leak-gw-b', source: 'LEAK-GW-B' },
  { username: 'power-mon-a', source: 'POWER-MON-A' }, { username: 'power-mon-b', source: 'POWER-MON-B' },
  { username: 'gas-gw-a', source: 'GAS-GW-A' }, { username: 'gas-gw-b', source: 'GAS-GW-B' },
  { username: 'weather-feed', source: 'WEATHER' },
  { username: 'facility-screen', read: ['bohub/{site}/signal/LK-A-B1-PUMP'] },
];

let config: LoadedConfig;
const site = () => config.building.site.id;

beforeAll(async () => {
  const accounts = await Promise.all(ACCOUNTS.map(async (a) => ({ ...a, passwordHash: await hashPassword(demoSourcePassword(a.username)) })));
  config = loadConfig(writeConfig((raw) => (raw.broker = { mode: 'embedded', host: '127.0.0.1', port: 0, accounts })), {});
});

describe('the embedded broker with accounts and ACLs', () => {
  let rig: SignalRig;
  let broker: EmbeddedBroker;
  let signals: MqttSignals;
  let panel: SignalPanelSimulator;
  let received: SignalRig['received'];
  let denied: SignalRig['denied'];
  let audit: SignalRig['audit'];
  const clients: mqtt.MqttClient[] = [];

  const connect = async (username?: string, opts: mqtt.IClientOptions = {}) => {
    const c = await mqtt.connectAsync(broker.url(), { username, password: username && demoSourcePassword(username), reconnectPeriod: 0, ...opts });
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    rig = await startSignalRig(config, { secured: true, panel: { heartbeatMs: 0 } });
    ({ broker, signals, panel, received, denied, audit } = rig);
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    await rig.stop();
  });

  it('refuses a fake fire alarm from another source\'s account, and audits it', async () => {
    const leak = await connect('leak-gw-a');
    const closed = new Promise<void>((r) => leak.once('close', () => r()));
    leak.publish(signalTopic(site(), 'FZ-A-07'), JSON.stringify({ state: 'alarm', ts: Date.now(), seq: 1 }), { qos: 1 });
    await closed; // [MQTT-3.3.5-2]: the broker drops a client whose publish it refuses
    expect(denied).toEqual([expect.objectContaining({ action: 'publish', username: 'leak-gw-a', topic: signalTopic(site(), 'FZ-A-07'), reason: 'not a topic of source LEAK-GW-A' })]);
    expect(audit).toEqual([expect.objectContaining({ actor: 'mqtt:leak-gw-a', action: 'mqtt.publish_denied', subject: signalTopic(site(), 'FZ-A-07'), after: expect.objectContaining({ payload: expect.stringContaining('alarm') }) })]);
    // The real panel's alarm still arrives; the fake one never did.
    await panel.set('FZ-A-07', 'alarm');
    await waitFor('the real alarm', () => received.find((s) => s.signal === 'FZ-A-07' && s.state === 'alarm'));
    expect(received.filter((s) => s.signal === 'FZ-A-07' && s.state === 'alarm')).toHaveLength(1);
  });

  it('lets the weather feed publish the typhoon signal, and refuses it from a gas gateway', async () => {
    const gas = await connect('gas-gw-a');
    const closed = new Promise<void>((r) => gas.once('close', () => r()));
    gas.publish(signalTopic(site(), 'WX-TYPHOON'), JSON.stringify({ state: '5', ts: Date.now(), seq: 1 }), { qos: 1 });
    await closed;
    expect(denied).toEqual([expect.objectContaining({ action: 'publish', username: 'gas-gw-a', topic: signalTopic(site(), 'WX-TYPHOON'), reason: 'not a topic of source GAS-GW-A' })]);
    const feed = await connect('weather-feed');
    await feed.publishAsync(signalTopic(site(), 'WX-TYPHOON'), JSON.stringify({ state: '3', ts: Date.now(), seq: 2 }), { qos: 1 });
    await waitFor('signal 3', () => received.find((s) => s.signal === 'WX-TYPHOON' && s.state === '3'));
    expect(received.filter((s) => s.signal === 'WX-TYPHOON' && s.state === '5')).toHaveLength(0);
  });

  it('refuses anonymous clients, wrong passwords and the hub\'s client id, and audits each', async () => {
    await expect(mqtt.connectAsync(broker.url(), { reconnectPeriod: 0 })).rejects.toThrow(/Not authorized/i);
    await expect(mqtt.connectAsync(broker.url(), { username: 'fp-a', password: 'guess', reconnectPeriod: 0 })).rejects.toThrow(/Bad username or password/i);
    await expect(connect('fp-b', { clientId: `bohub-${site()}-signals` })).rejects.toThrow(/Not authorized/i);
    expect(audit.map((e) => [e.actor, e.action])).toEqual([
      ['mqtt:anonymous', 'mqtt.connect_denied'], ['mqtt:fp-a', 'mqtt.connect_denied'], ['mqtt:fp-b', 'mqtt.connect_denied'],
    ]);
  });

  it('lets only the hub publish commands, and nobody read $SYS', async () => {
    const panelB = await connect('fp-b');
    const closed = new Promise<void>((r) => panelB.once('close', () => r()));
    panelB.publish(`bohub/${site()}/cmd/FP-B/silence`, '{}', { qos: 1 });
    await closed;
    const screen = await connect('facility-screen');
    // SUBACK 0x80 [MQTT-3.9.3-2], which mqtt.js turns into a rejection.
    await expect(screen.subscribeAsync('$SYS/#', { qos: 0 })).rejects.toThrow(/Subscribe error/);
    expect(denied.map((d) => [d.action, d.reason])).toEqual([['publish', 'only the hub may publish commands'], ['subscribe', '$SYS is for the hub only']]);
  });

  it('keeps retained data from a reader who may not see it (authorizeForward)', async () => {
    await waitFor('the quiet states', () => received.some((s) => s.signal === 'FZ-A-07'));
    const screen = await connect('facility-screen');
    const topics: string[] = [];
    screen.on('message', (t) => topics.push(t));
    // The wide filter overlaps what it may read, so it is granted; forwarding filters each message.
    const granted = await screen.subscribeAsync(`bohub/${site()}/#`, { qos: 1 });
    expect(granted[0]?.qos).toBe(1);
    await waitFor('the one readable retained state', () => topics.includes(signalTopic(site(), 'LK-A-B1-PUMP')));
    await panel.set('FZ-A-07', 'alarm');
    await waitFor('the hub got the alarm', () => received.find((s) => s.signal === 'FZ-A-07' && s.state === 'alarm'));
    await new Promise((r) => setTimeout(r, 200));
    expect(topics).toEqual([signalTopic(site(), 'LK-A-B1-PUMP')]);
  });

  it('a retained fire replayed after a broker restart gives no second signal.state', async () => {
    await panel.set('FZ-A-07', 'alarm');
    await waitFor('the alarm', () => received.find((s) => s.signal === 'FZ-A-07' && s.state === 'alarm'));
    await broker.stop();
    await broker.start();
    // The panel reconnects and reports its states again (same seq and time); the hub resubscribes.
    await waitFor('the replays dropped', () => /replays dropped/.test(signals.health().detail) && signals.health().status === 'ok', 15_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(received.filter((s) => s.signal === 'FZ-A-07' && s.state === 'alarm')).toHaveLength(1);
  }, 30_000);

  it('an alarm raised while the broker restarts is delivered, once', async () => {
    await waitFor('the quiet states', () => received.some((s) => s.signal === 'FZ-B-09'));
    await broker.stop();
    const published = panel.set('FZ-B-09', 'alarm'); // queued by the panel's client (QoS 1) until the broker is back
    await broker.start();
    await published;
    await waitFor('the alarm', () => received.find((s) => s.signal === 'FZ-B-09' && s.state === 'alarm'), 15_000);
    await waitFor('the replays dropped', () => /replays dropped/.test(signals.health().detail), 15_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(received.filter((s) => s.signal === 'FZ-B-09' && s.state === 'alarm')).toHaveLength(1);
  }, 30_000);
});

