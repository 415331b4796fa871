import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../gateway/broker/embedded.ts';
import { systemClock } from '../../gateway/clock.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { MqttSignals } from '../../gateway/drivers/mqtt/signals.ts';
import { EventBus, type HubEvents } from '../../gateway/events.ts';
import { silentLogger } from '../../gateway/log.ts';
import { Metrics } from '../../gateway/metrics.ts';
import { signalCatalogue } from '../../gateway/signals/sources.ts';
import { signalTopic } from '../../gateway/signals/states.ts';
import { SignalPanelSimulator } from '../../simulators/signal-panel.ts';
import { DEMO_CONFIG } from '../helpers/config.ts';
import { waitFor } from '../helpers/ports.ts';

const config = loadConfig(DEMO_CONFIG, {});

describe('safety signals over the embedded broker', () => {
  let broker: EmbeddedBroker;
  let signals: MqttSignals;
  let panel: SignalPanelSimulator;
  let events: EventBus;
  let metrics: Metrics;
  const received: Array<HubEvents['signal.state']> = [];
  const rejected: Array<HubEvents['input.rejected']> = [];

  beforeEach(async () => {
    received.length = 0;
    rejected.length = 0;
    events = new EventBus();
    metrics = new Metrics();
    events.on('test', 'signal.state', (s) => received.push(s));
    events.on('test', 'input.rejected', (r) => rejected.push(r));
    broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0, log: silentLogger });
    await broker.start();
    const base = { config, events, clock: systemClock, log: silentLogger, metrics };
    signals = new MqttSignals({ ...base, url: () => broker.url() });
    panel = new SignalPanelSimulator({ config, url: () => broker.url(), clock: systemClock, log: silentLogger });
    await signals.start();
    await panel.start();
  });

  afterEach(async () => {
    await panel.stop();
    await signals.stop();
    await broker.stop();
  });

  it('delivers a fire-zone alarm from the simulated panel as a normalised signal', async () => {
    await panel.set('FZ-A-07', 'alarm');
    const alarm = await waitFor('the fire alarm', () => received.find((s) => s.signal === 'FZ-A-07' && s.state === 'alarm'));
    expect(alarm).toMatchObject({ kind: 'fire-zone', retained: false });
    expect(alarm.seq).toBeGreaterThan(0);
    expect(signals.health().status).toBe('ok');
  });

  it('receives the quiet state of every signal configured on MQTT at start', async () => {
    const total = [...signalCatalogue(config.building).values()].filter((s) => !s.opcua && !s.mqtt).length;
    await waitFor('every signal', () => new Set(received.map((s) => s.signal)).size === total);
    expect(received.find((s) => s.signal === 'LK-A-B1-PUMP')?.state).toBe('dry');
    expect(received.find((s) => s.signal === 'PF-B-2')?.state).toBe('on');
  });

  it('counts and names malformed payloads, and keeps receiving', async () => {
    const client = await mqtt.connectAsync(broker.url());
    const site = config.building.site.id;
    await client.publishAsync(signalTopic(site, 'FZ-A-03'), 'not json', { qos: 1 });
    await client.publishAsync(signalTopic(site, 'FZ-A-03'), JSON.stringify({ state: 'wet' }), { qos: 1 });
    await client.publishAsync(signalTopic(site, 'NO-SUCH'), JSON.stringify({ state: 'alarm' }), { qos: 1 });
    await client.publishAsync(signalTopic(site, 'LK-B-R04'), JSON.stringify({ state: 'wet', ts: 1_700_000_000_000, seq: 9 }), { qos: 1 });
    await waitFor('the leak', () => received.find((s) => s.signal === 'LK-B-R04' && s.state === 'wet'));
    await client.endAsync();
    expect(rejected.map((r) => r.reason)).toEqual([
      'payload is not JSON',
      'state "wet" is not one of normal, alarm, fault, test',
      'unknown signal "NO-SUCH"',
    ]);
    expect(received.find((s) => s.signal === 'LK-B-R04' && s.state === 'wet')?.sourceTime).toBe(1_700_000_000_000);
    expect(signals.health().detail).toContain('3 payloads rejected');
    expect(await metrics.registry.getSingleMetricAsString('bohub_input_rejected_total')).toContain('bohub_input_rejected_total{source="mqtt"} 3');
  });
});
