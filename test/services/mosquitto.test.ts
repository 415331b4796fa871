import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { systemClock } from '../../gateway/clock.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { MqttSignals } from '../../gateway/drivers/mqtt/signals.ts';
import { EventBus, type HubEvents } from '../../gateway/events.ts';
import { silentLogger } from '../../gateway/log.ts';
import { Metrics } from '../../gateway/metrics.ts';
import { SignalPanelSimulator } from '../../simulators/signal-panel.ts';
import { DEMO_CONFIG } from '../helpers/config.ts';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto.ts';
import { waitFor } from '../helpers/ports.ts';
import { describeWithProgram, whichProgram } from '../helpers/programs.ts';

describeWithProgram(whichProgram('mosquitto') ?? whichProgram('/usr/sbin/mosquitto'), 'safety signals through an external Mosquitto broker', 'mosquitto', (program) => {
  const config = loadConfig(DEMO_CONFIG, { BOHUB_MQTT_URL: 'mqtt://127.0.0.1:1' });
  let broker: RunningMosquitto;
  let signals: MqttSignals;
  let panel: SignalPanelSimulator;
  const received: Array<HubEvents['signal.state']> = [];

  beforeAll(async () => {
    broker = await startMosquitto(program);
    const events = new EventBus();
    events.on('test', 'signal.state', (s) => received.push(s));
    signals = new MqttSignals({ config, events, clock: systemClock, log: silentLogger, metrics: new Metrics(), url: () => broker.url });
    panel = new SignalPanelSimulator({ config, url: () => broker.url, clock: systemClock, log: silentLogger });
    await signals.start();
    await panel.start();
  });

  afterAll(async () => {
    await panel?.stop();
    await signals?.stop();
    await broker?.stop();
  });

  it('receives a power-loss signal published through Mosquitto', async () => {
    await panel.set('PF-A-1', 'off');
    const lost = await waitFor('the power loss', () => received.find((s) => s.signal === 'PF-A-1' && s.state === 'off'));
    expect(lost.kind).toBe('power-feeder');
    expect(signals.health()).toMatchObject({ status: 'ok', detail: expect.stringContaining(broker.url) });
  });

  it('keeps the persistent QoS 1 session: a signal published while the hub is away arrives when it returns', async () => {
    await signals.stop();
    await panel.set('LK-A-R08', 'wet');
    const events = new EventBus();
    const after: Array<HubEvents['signal.state']> = [];
    events.on('test', 'signal.state', (s) => after.push(s));
    signals = new MqttSignals({ config, events, clock: systemClock, log: silentLogger, metrics: new Metrics(), url: () => broker.url });
    await signals.start();
    const wet = await waitFor('the queued leak', () => after.find((s) => s.signal === 'LK-A-R08' && s.state === 'wet'));
    // Delivered from the session queue, not only as the retained copy.
    expect(after.filter((s) => s.signal === 'LK-A-R08' && s.state === 'wet' && !s.retained).length).toBeGreaterThan(0);
    expect(wet.kind).toBe('leak');
  });
});

describeWithProgram(whichProgram('mosquitto') ?? whichProgram('/usr/sbin/mosquitto'), 'external Mosquitto over TLS and MQTT 5', 'mosquitto', (program) => {
  const config = loadConfig(DEMO_CONFIG, { BOHUB_MQTT_URL: 'mqtt://127.0.0.1:1' });
  let broker: RunningMosquitto;
  let signals: MqttSignals | undefined;
  let panel: SignalPanelSimulator | undefined;

  beforeAll(async () => {
    broker = await startMosquitto(program, { tls: true });
  });

  afterAll(async () => {
    await broker?.stop();
  });

  afterEach(async () => {
    await panel?.stop();
    await signals?.stop();
    panel = signals = undefined;
  });

  it('receives a fire alarm over mqtts with MQTT 5, checking the broker against the configured CA', async () => {
    const events = new EventBus();
    const received: Array<HubEvents['signal.state']> = [];
    events.on('test', 'signal.state', (s) => received.push(s));
    signals = new MqttSignals({ config, events, clock: systemClock, log: silentLogger, metrics: new Metrics(), url: () => broker.url, protocolVersion: 5, tls: { caFile: broker.caFile } });
    await signals.start();
    expect(signals.health()).toMatchObject({ status: 'ok' });
    panel = new SignalPanelSimulator({ config, url: () => broker.url, clock: systemClock, log: silentLogger, heartbeatMs: 0, tls: { caFile: broker.caFile! } });
    await panel.start();
    await panel.set('FZ-B-03', 'alarm');
    const alarm = await waitFor('the alarm over TLS', () => received.find((s) => s.signal === 'FZ-B-03' && s.state === 'alarm'));
    expect(alarm.kind).toBe('fire-zone');
  });

  it('refuses a broker whose certificate is not signed by the configured CA', async () => {
    signals = new MqttSignals({ config, events: new EventBus(), clock: systemClock, log: silentLogger, metrics: new Metrics(), url: () => broker.url, protocolVersion: 5, tls: {} });
    await signals.start();
    expect(signals.health()).toMatchObject({ status: 'down', detail: expect.stringMatching(/certificate/i) });
  }, 15_000);
});
