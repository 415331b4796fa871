import mqtt from 'mqtt';
import pino from 'pino';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { demoSourcePassword, hashPassword } from '../../gateway/auth/passwords.ts';
import { EmbeddedBroker, type BrokerDenial } from '../../gateway/broker/embedded.ts';
import { ManualClock } from '../../gateway/clock.ts';
import { loadConfig, type LoadedConfig } from '../../gateway/config/load.ts';
import { Metrics } from '../../gateway/metrics.ts';
import { signalTopic } from '../../gateway/signals/states.ts';
import type { AuditEntry } from '../../gateway/storage/types.ts';
import { writeConfig } from '../helpers/config.ts';
import { waitFor } from '../helpers/ports.ts';

// broker.limits (issue 15): a device client over its publish rate is held back, never
// dropped; an oversized payload is refused; the hub's own client is not limited. The
// broker's token buckets run on a ManualClock, so tokens come only when a test advances it.

const LIMITS = { publishesPerSecond: 10, publishBurst: 5, maxPayloadBytes: 1024 };
const HELD_BACK = 'MQTT client over broker.limits.publishesPerSecond: its publishes are held back';
const BACK_WITHIN = 'MQTT client back within its publish rate';

let config: LoadedConfig;
const site = () => config.building.site.id;
const zoneOf = (panel: string) => signalTopic(site(), config.building.signals.fireZones.find((z) => z.panel === panel)!.id);
const report = (seq: number, state = 'normal') => JSON.stringify({ state, seq, ts: Date.UTC(2026, 0, 1) });
/** Long enough for anything the broker would still deliver to arrive (loopback, one process). */
const settle = () => new Promise((r) => setTimeout(r, 300));

beforeAll(async () => {
  const accounts = await Promise.all([{ username: 'fp-a', source: 'FP-A' }, { username: 'fp-b', source: 'FP-B' }]
    .map(async (a) => ({ ...a, passwordHash: await hashPassword(demoSourcePassword(a.username)) })));
  config = loadConfig(writeConfig((raw) => (raw.broker = { mode: 'embedded', host: '127.0.0.1', port: 0, accounts, limits: LIMITS })), {});
});

describe('the embedded broker\'s per-client publish limits', () => {
  let clock: ManualClock;
  let metrics: Metrics;
  let broker: EmbeddedBroker;
  let logs: Array<{ msg: string; account?: string; held?: number; refused?: number }>;
  let denied: BrokerDenial[];
  let audit: AuditEntry[];
  /** What the hub's own client, subscribed to every signal, receives. */
  let received: Array<{ topic: string; payload: Buffer }>;
  const clients: mqtt.MqttClient[] = [];

  const connect = async (username: string) => {
    const c = await mqtt.connectAsync(broker.url(), { username, password: demoSourcePassword(username), reconnectPeriod: 0 });
    clients.push(c);
    return c;
  };
  const connectHub = async (clientId: string) => {
    const c = await mqtt.connectAsync(broker.url(), { ...broker.hubCredentials(), clientId, reconnectPeriod: 0 });
    clients.push(c);
    return c;
  };
  const seqsOn = (topic: string) => received.filter((m) => m.topic === topic).map((m) => JSON.parse(m.payload.toString()).seq as number);
  const flood = (client: mqtt.MqttClient, topic: string, count: number) => {
    for (let seq = 1; seq <= count; seq++) client.publish(topic, report(seq, seq === count ? 'alarm' : 'normal'), { qos: 1 });
  };
  /** Gives one token (100 ms at 10/s) at a time, until `topic` has `count` messages. */
  const releaseUntil = async (topic: string, count: number) => {
    for (let n = seqsOn(topic).length + 1; n <= count; n++) {
      clock.advance(100);
      await waitFor(`message ${n} on ${topic}`, () => seqsOn(topic).length >= n);
      expect(seqsOn(topic)).toHaveLength(n);
    }
  };

  beforeEach(async () => {
    clock = new ManualClock();
    metrics = new Metrics();
    logs = [];
    denied = [];
    audit = [];
    received = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
    broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0, log, config, clock, metrics, onDenied: (d) => denied.push(d), audit: (e) => audit.push(e) });
    await broker.start();
    const reader = await connectHub('limits-test-reader');
    reader.on('message', (topic, payload) => received.push({ topic, payload }));
    await reader.subscribeAsync(`bohub/${site()}/signal/#`, { qos: 1 });
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    await broker.stop();
  });

  it('delivers every publish of a client over its rate, in order, but no faster than its bucket allows', async () => {
    const panel = await connect('fp-b');
    flood(panel, zoneOf('FP-B'), 25);
    await waitFor('the burst', () => seqsOn(zoneOf('FP-B')).length >= LIMITS.publishBurst);
    await settle();
    expect(seqsOn(zoneOf('FP-B'))).toEqual([1, 2, 3, 4, 5]); // the clock has not moved: no token since the burst
    await releaseUntil(zoneOf('FP-B'), 25); // one more per 100 ms of the broker's clock
    await settle();
    expect(seqsOn(zoneOf('FP-B'))).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    // The last one was a fire alarm: held back, then delivered, never dropped.
    expect(JSON.parse(received.at(-1)!.payload.toString()).state).toBe('alarm');
  });

  it('holds back only the flooding client: another panel\'s alarm passes at once', async () => {
    const flooding = await connect('fp-b');
    flood(flooding, zoneOf('FP-B'), 25);
    await waitFor('the burst', () => seqsOn(zoneOf('FP-B')).length >= LIMITS.publishBurst);
    const towerA = await connect('fp-a');
    await towerA.publishAsync(zoneOf('FP-A'), report(1, 'alarm'), { qos: 1 }); // PUBACKed with the clock still frozen
    await waitFor('tower A\'s alarm', () => seqsOn(zoneOf('FP-A')).length === 1);
    await settle();
    expect(seqsOn(zoneOf('FP-B'))).toHaveLength(LIMITS.publishBurst);
  });

  it('counts and names the throttled account in health, metrics and one log line each way', async () => {
    const panel = await connect('fp-b');
    flood(panel, zoneOf('FP-B'), 25);
    await waitFor('the burst', () => seqsOn(zoneOf('FP-B')).length >= LIMITS.publishBurst);
    await settle();
    expect(broker.health()).toEqual({ status: 'degraded', detail: expect.stringContaining('throttled in the last minute: fp-b') });
    const throttled = async () => (await metrics.brokerThrottled.get()).values;
    expect(await throttled()).toEqual([{ labels: { account: 'fp-b' }, value: expect.any(Number) }]); // by account, not client id
    const held = (await throttled())[0]!.value;
    expect(held).toBeGreaterThan(0);
    await releaseUntil(zoneOf('FP-B'), 25);
    clock.advance(500); // a whole burst earned back: no longer throttled
    expect(logs.filter((l) => l.msg === HELD_BACK)).toEqual([expect.objectContaining({ account: 'fp-b' })]);
    expect(logs.filter((l) => l.msg === BACK_WITHIN)).toEqual([expect.objectContaining({ account: 'fp-b', held: (await throttled())[0]!.value })]);
    expect(broker.health().status).toBe('degraded'); // named for a minute
    clock.advance(60_000);
    expect(broker.health().status).toBe('ok');
  });

  it('refuses an oversized payload with its reason, and audits a run of them once', async () => {
    const panel = await connect('fp-b');
    await panel.publishAsync(zoneOf('FP-B'), Buffer.alloc(LIMITS.maxPayloadBytes, 0x20), { qos: 1 }); // at the limit: accepted
    await waitFor('the largest allowed payload', () => received.length === 1);
    for (let attempt = 1; attempt <= 2; attempt++) {
      const sender = attempt === 1 ? panel : await connect('fp-b');
      const closed = new Promise<void>((r) => sender.once('close', () => r()));
      sender.publish(zoneOf('FP-B'), Buffer.alloc(2000, 0x20), { qos: 1 });
      await closed; // refused, so disconnected like any refused publish [MQTT-3.3.5-2]
    }
    const reason = 'payload of 2000 bytes is over broker.limits.maxPayloadBytes (1024)';
    expect(denied).toEqual([expect.objectContaining({ action: 'publish', username: 'fp-b', topic: zoneOf('FP-B'), reason })]);
    expect(audit).toEqual([expect.objectContaining({ actor: 'mqtt:fp-b', action: 'mqtt.publish_denied', subject: zoneOf('FP-B') })]);
    expect((await metrics.brokerOversized.get()).values).toEqual([{ labels: { account: 'fp-b' }, value: 2 }]);
    expect(broker.health()).toEqual({ status: 'degraded', detail: expect.stringMatching(/2 requests refused; oversized publishes refused in the last minute: fp-b \(2\)/) });
    await settle();
    expect(received).toHaveLength(1);
    clock.advance(60_000); // a quiet minute ends the run
    expect(logs.filter((l) => l.msg === 'MQTT account no longer sending oversized publishes')).toEqual([expect.objectContaining({ account: 'fp-b', refused: 2 })]);
    expect(broker.health().status).toBe('ok');
  });

  it('does not limit the hub\'s own client, while a device is held to its limits', async () => {
    const hub = await connectHub('limits-test-hub');
    const panel = await connect('fp-b');
    flood(hub, zoneOf('FP-A'), 50);
    flood(panel, zoneOf('FP-B'), 25);
    await waitFor('all of the hub\'s publishes', () => seqsOn(zoneOf('FP-A')).length === 50);
    await hub.publishAsync(zoneOf('FP-A'), Buffer.alloc(2000, 0x20), { qos: 1 });
    await waitFor('the hub\'s large payload', () => received.some((m) => m.payload.length === 2000));
    await settle();
    expect(seqsOn(zoneOf('FP-B'))).toHaveLength(LIMITS.publishBurst);
    expect((await metrics.brokerThrottled.get()).values.map((v) => v.labels.account)).toEqual(['fp-b']);
  });
});
