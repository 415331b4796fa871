import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../gateway/config/load.ts';
import type { PointValue } from '../../gateway/events.ts';
import type { AlarmChange } from '../../gateway/alarms/types.ts';
import { Hub } from '../../gateway/hub.ts';
import { silentLogger } from '../../gateway/log.ts';
import { hubTestConfig } from '../helpers/config.ts';
import { waitFor } from '../helpers/ports.ts';

// The foundation's slice, end to end and nothing faked: a simulated meter is read
// over Modbus TCP, stored, pushed to a socket.io client, and health says ok.

describe('the hub, end to end', () => {
  let hub: Hub;
  let base: string;
  let token: string;
  const meter = 'A-0101-E';

  beforeAll(async () => {
    const file = hubTestConfig(6, (raw) => (raw.simulators.speedup = 3600));
    hub = new Hub({ config: loadConfig(file, {}), log: silentLogger });
    await hub.start();
    base = hub.parts.http!.url();
    const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'operator', password: 'operator-demo-2026' }) });
    expect(login.status).toBe(200);
    token = ((await login.json()) as { token: string }).token;
  });

  afterAll(async () => {
    await hub?.stop();
  });

  it('stores a simulated meter value read over Modbus', async () => {
    const telemetry = hub.services().telemetry;
    const series = await waitFor('the meter in telemetry', async () => {
      const s = await telemetry.query({ measurement: 'meter', tags: { device: meter, point: 'energy_import' }, from: 0, to: Date.now() + 60_000 });
      return s[0] && s[0].points.length >= 2 ? s : undefined;
    }, 15_000);
    const points = series[0]!.points;
    const simulated = hub.parts.modbusSim!.meterValue(meter, 'energy_import')!;
    expect(points.at(-1)![1]).toBeGreaterThan(points[0]![1]);
    // float32 on the wire: the stored value is the simulator's to float32 precision.
    expect(Math.abs(points.at(-1)![1] - simulated)).toBeLessThan(simulated * 0.01);
  });

  it('pushes the values to a logged-in socket.io client', async () => {
    const socket: Socket = io(base, { auth: { token }, transports: ['websocket'] });
    try {
      const value = await new Promise<PointValue>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no meter.values within 10 s')), 10_000);
        socket.on('meter.values', (frame: { values: PointValue[] }) => {
          const v = frame.values.find((x) => x.device === meter && x.point === 'energy_import');
          if (v) (clearTimeout(timer), resolve(v));
        });
      });
      expect(value.quality).toBe('good');
      expect(value.value).toBeGreaterThan(0);
    } finally {
      socket.disconnect();
    }
  });

  it('raises a fire alarm from the simulated panel, pushes it at once and lists it for the duty officer', async () => {
    const socket: Socket = io(base, { auth: { token }, transports: ['websocket'] });
    try {
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      const pushed = new Promise<AlarmChange>((resolve) =>
        socket.on('alarm.changed', (c: AlarmChange) => c.alarm.source === 'FZ-A-03' && c.change === 'raised' && resolve(c)));
      await hub.parts.signalSim!.set('FZ-A-03', 'alarm');
      const change = await pushed;
      expect(change.alarm).toMatchObject({ kind: 'fire', state: 'active-unacknowledged', priority: 1 });
      const list = await fetch(`${base}/api/alarms`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await list.json()) as { alarms: Array<{ source: string; state: string }> };
      expect(body.alarms[0]).toMatchObject({ source: 'FZ-A-03', state: 'active-unacknowledged' });
    } finally {
      socket.disconnect();
    }
  });

  it('reports ok health with every component', async () => {
    const res = await waitFor('ok health', async () => {
      const r = await fetch(`${base}/api/health`);
      const body = (await r.json()) as { status: string; components: Record<string, { status: string }> };
      return body.status === 'ok' ? body : undefined;
    }, 10_000);
    expect(Object.keys(res.components)).toEqual(expect.arrayContaining(['records', 'telemetry', 'alarms', 'broker', 'modbus', 'mqtt.signals', 'http', 'event-loop']));
  });

  it('exports the event-loop delay histogram at /metrics', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('# TYPE bohub_event_loop_delay_seconds histogram');
  });
});
