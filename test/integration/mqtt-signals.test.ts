import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlarmEngine } from '../../gateway/alarms/engine.ts';
import { ManualClock } from '../../gateway/clock.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { silentLogger } from '../../gateway/log.ts';
import { signalCatalogue } from '../../gateway/signals/sources.ts';
import { signalTopic } from '../../gateway/signals/states.ts';
import { SqliteRecordStore } from '../../gateway/storage/records.ts';
import { DEMO_CONFIG, tempDir } from '../helpers/config.ts';
import { waitFor } from '../helpers/ports.ts';
import { startSignalRig, type SignalRig } from '../helpers/signal-rig.ts';

const config = loadConfig(DEMO_CONFIG, {});

describe('safety signals over the embedded broker', () => {
  let rig: SignalRig;
  beforeEach(async () => {
    rig = await startSignalRig(config);
  });
  afterEach(() => rig.stop());

  it('delivers a fire-zone alarm from the simulated panel as a normalised signal', async () => {
    await rig.panel.set('FZ-A-07', 'alarm');
    const alarm = await waitFor('the fire alarm', () => rig.received.find((s) => s.signal === 'FZ-A-07' && s.state === 'alarm'));
    expect(alarm).toMatchObject({ kind: 'fire-zone', retained: false });
    expect(alarm.seq).toBeGreaterThan(0);
    expect(rig.signals.health().status).toBe('ok');
  });

  it('receives the quiet state of every signal configured on MQTT at start', async () => {
    const total = [...signalCatalogue(config.building).values()].filter((s) => !s.opcua && !s.mqtt).length;
    await waitFor('every signal', () => new Set(rig.received.map((s) => s.signal)).size === total);
    expect(rig.received.find((s) => s.signal === 'LK-A-B1-PUMP')?.state).toBe('dry');
    expect(rig.received.find((s) => s.signal === 'PF-B-2')?.state).toBe('on');
  });

  it('counts and names malformed payloads, and keeps receiving', async () => {
    const client = await mqtt.connectAsync(rig.broker.url());
    const site = config.building.site.id;
    await client.publishAsync(signalTopic(site, 'FZ-A-03'), 'not json', { qos: 1 });
    await client.publishAsync(signalTopic(site, 'FZ-A-03'), JSON.stringify({ state: 'wet' }), { qos: 1 });
    await client.publishAsync(signalTopic(site, 'NO-SUCH'), JSON.stringify({ state: 'alarm' }), { qos: 1 });
    await client.publishAsync(signalTopic(site, 'LK-B-R04'), JSON.stringify({ state: 'wet', ts: 1_700_000_000_000, seq: 9 }), { qos: 1 });
    await waitFor('the leak', () => rig.received.find((s) => s.signal === 'LK-B-R04' && s.state === 'wet'));
    await client.endAsync();
    expect(rig.rejected.map((r) => r.reason)).toEqual([
      'payload is not JSON',
      'state "wet" is not one of normal, alarm, fault, test',
      'unknown signal "NO-SUCH"',
    ]);
    expect(rig.received.find((s) => s.signal === 'LK-B-R04' && s.state === 'wet')?.sourceTime).toBe(1_700_000_000_000);
    expect(rig.signals.health().detail).toContain('3 payloads rejected');
    expect(await rig.metrics.registry.getSingleMetricAsString('bohub_input_rejected_total')).toContain('bohub_input_rejected_total{source="mqtt"} 3');
  });
});

describe('gas and weather signals from the simulated panel into the alarm engine', () => {
  let rig: SignalRig;
  let engine: AlarmEngine;
  let records: SqliteRecordStore;
  beforeEach(async () => {
    rig = await startSignalRig(config);
    // Fake time that never moves: whatever waits for a delay stays pending.
    const clock = new ManualClock(Date.now());
    records = SqliteRecordStore.open(tempDir(), clock);
    engine = new AlarmEngine({ config, records, events: rig.events, clock, log: silentLogger });
    await engine.start();
  });
  afterEach(async () => {
    await rig.stop();
    await engine.stop();
    records.close();
  });

  it('a gas alarm is a gas alarm at once, with leak delays configured, and cannot be shelved', async () => {
    expect(config.building.alarms.leak.onDelaySeconds).toBeGreaterThan(0);
    await rig.panel.set('LK-A-B1-PUMP', 'wet');
    await rig.panel.set('GS-A-B1-METER', 'alarm');
    await waitFor('the gas alarm', () => engine.list().find((a) => a.kind === 'gas'));
    await waitFor('the wet leak', () => rig.received.find((s) => s.signal === 'LK-A-B1-PUMP' && s.state === 'wet'));
    // The leak is still inside its on-delay; the gas alarm never had one.
    expect(engine.list().map((a) => [a.kind, a.source, a.system, a.priority, a.latching])).toEqual([['gas', 'GS-A-B1-METER', 'gas', 2, false]]);
    const [gas] = engine.list();
    expect(() => engine.shelve(gas!.id, 'supervisor', 'nuisance', 30)).toThrow(expect.objectContaining({ code: 'BOHUB_ALARM_NOT_SHELVABLE' }));
    // Not latching: back to normal and acknowledged, it is over.
    await rig.panel.set('GS-A-B1-METER', 'normal');
    await waitFor('the gas cleared', () => engine.list()[0]?.state === 'cleared-unacknowledged');
    expect(engine.ack(gas!.id, 'operator', 'valve shut, gas company called').state).toBe('normal');
  });

  it('a gas detector fault is a trouble alarm', async () => {
    await rig.panel.set('GS-B-K01', 'fault');
    const fault = await waitFor('the trouble', () => engine.list().find((a) => a.kind === 'gas-fault'));
    expect(fault).toMatchObject({ source: 'GS-B-K01', system: 'gas', priority: config.building.alarms.priorities.trouble });
  });

  it('a typhoon signal change arrives as a typhoon signal state and raises no alarm', async () => {
    await rig.panel.set('WX-TYPHOON', '3');
    await rig.panel.set('WX-TYPHOON', '4');
    await rig.panel.set('WX-RAINSTORM', 'black');
    await waitFor('signal 4', () => rig.received.find((s) => s.signal === 'WX-TYPHOON' && s.state === '4'));
    await waitFor('the black rainstorm', () => rig.received.find((s) => s.signal === 'WX-RAINSTORM' && s.state === 'black'));
    expect(rig.received.filter((s) => s.signal === 'WX-TYPHOON').map((s) => [s.kind, s.state])).toEqual([['typhoon', 'none'], ['typhoon', '3'], ['typhoon', '4']]);
    expect(engine.list('all')).toEqual([]);
  });
});
