import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../gateway/config/load.ts';
import { signalCatalogue } from '../../gateway/signals/sources.ts';
import { signalTopic } from '../../gateway/signals/states.ts';
import { DEMO_CONFIG } from '../helpers/config.ts';
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
