import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../gateway/config/load.ts';
import { Hub } from '../../gateway/hub.ts';
import { silentLogger } from '../../gateway/log.ts';
import type { Incident } from '../../gateway/runbooks/types.ts';
import { loadScenario, playScenario } from '../../simulators/scenario.ts';
import { hubTestConfig, REPO } from '../helpers/config.ts';
import { waitFor } from '../helpers/ports.ts';
import { local, MIN, shiftedClock } from '../helpers/runbooks.ts';

// Done-when of issue 6: the demo's scenarios, played through the simulated panels over
// MQTT into a whole hub, open the right incidents with the right steps and countdowns.
// The hub's clock starts at Thursday 22:38 in the building's time zone (non-working
// time, 第九节), whenever CI runs; scenario time passes 1200 times faster.

const SPEEDUP = 1200;
const scenario = (name: string) => join(REPO, 'config/demo/scenarios', name);

describe('the demo scenarios open the handbook\'s incidents', () => {
  let hub: Hub;
  let base: string;
  let token: string;

  beforeAll(async () => {
    // A 1 s leak on-delay, so the 40-minute flood lasts long enough in accelerated time.
    const file = hubTestConfig(4, (raw) => (raw.alarms = { leak: { onDelaySeconds: 1, offDelaySeconds: 1 } }));
    hub = new Hub({ config: loadConfig(file, {}), log: silentLogger, clock: shiftedClock(local('2026-11-26T22:38')) });
    await hub.start();
    base = hub.parts.http!.url();
    const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'viewer', password: 'viewer-demo-2026' }) });
    token = ((await login.json()) as { token: string }).token;
  }, 60_000);

  afterAll(async () => {
    await hub?.stop();
  });

  const play = (name: string) => playScenario(loadScenario(scenario(name), hub.services().config), hub.parts.signalSim!, { speedup: SPEEDUP });
  const incidents = async (): Promise<Incident[]> => {
    const res = await fetch(`${base}/api/incidents?state=all`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    return ((await res.json()) as { incidents: Incident[] }).incidents;
  };
  const byKey = async (key: string) => waitFor(`incident ${key}`, async () => (await incidents()).find((i) => i.key === key), 10_000);
  const step = (incident: Incident, key: string) => incident.steps.find((s) => s.key === key)!;

  it('night-fire: a fire alarm at B-12F opens the tower B fire incident in non-working time (第九节 一.1), then a power cut in tower A (第九节 五)', async () => {
    await play('night-fire.yaml');
    const fire = await byKey('fire-alarm:B');
    expect(fire).toMatchObject({ runbook: 'fire-alarm', variant: 'non-working', tower: 'B', openedBy: 'signal:FZ-B-12' });
    expect(fire.signals.map((s) => s.signal)).toEqual(['FZ-B-12']);
    expect(fire.steps.filter((s) => s.status === 'active').map((s) => s.key)).toEqual(expect.arrayContaining(['assess', 'broadcast', 'arrive']));
    expect(fire.steps.map((s) => s.key)).not.toContain('phones'); // a working-time step
    expect(step(fire, 'arrive').dueAt! - fire.openedAt).toBe(30 * MIN);
    expect(fire.lobby[0]).toMatchObject({ screens: ['B-lobby', 'B-lifts'], priority: 1 });
    expect(fire.lobby[0]!.text.zh).toContain('不要乘坐电梯');

    // The incomer is off for five scenario minutes: the cause is due in 2 minutes, and power back completes its step.
    const power = await waitFor('power restored', async () => {
      const p = (await incidents()).find((i) => i.key === 'power-loss:A');
      return p?.steps.find((s) => s.key === 'power-restored')?.status === 'done' ? p : undefined;
    }, 10_000);
    expect(step(power, 'find-cause').dueAt! - power.openedAt).toBe(2 * MIN);
    expect(step(power, 'power-restored').doneBy).toBe('signal:PF-A-1');
    expect(step(power, 'lobby-cause').status).toBe('active');
    expect(power.state).toBe('stabilised');
  });

  it('basement-leak: the splash opens nothing; the flood opens one non-working flooding incident (第九节 六)', async () => {
    await play('basement-leak.yaml');
    const flood = await byKey('flooding:LK-A-B1-PUMP');
    expect((await incidents()).filter((i) => i.runbook === 'flooding')).toHaveLength(1);
    expect(flood.variant).toBe('non-working');
    expect(flood.steps.map((s) => s.key)).toEqual(expect.arrayContaining(['report', 'call-contacts', 'unlock', 'revisit']));
    expect(flood.steps.map((s) => s.key)).not.toContain('on-site'); // 第四节: the working-time major leak
  });

  it('typhoon-and-rainstorm: one typhoon incident rises to signal 4 and one rainstorm to black; the all clear stabilises both (第九节 二, 三)', async () => {
    await play('typhoon-and-rainstorm.yaml');
    const typhoon = await waitFor('typhoon all clear', async () => {
      const t = (await incidents()).find((i) => i.key === 'typhoon:site');
      return t?.state === 'stabilised' ? t : undefined;
    }, 10_000);
    expect((await incidents()).filter((i) => i.runbook === 'typhoon')).toHaveLength(1);
    expect(typhoon.level).toBe('4');
    const meeting = step(typhoon, 'leadership-meeting');
    expect(meeting.dueAt! - meeting.activatedAt!).toBe(24 * 60 * MIN);
    expect(typhoon.steps.map((s) => s.key)).toEqual(expect.arrayContaining(['prepare', 'notice', 'lobby-weather', 'door-to-door', 'all-clear']));
    expect(step(typhoon, 'all-clear').status).toBe('active');
    // The weather came down from the lobby screens at the all clear.
    expect(typhoon.lobby.length).toBeGreaterThan(0);
    expect(typhoon.lobby.every((m) => m.until !== undefined)).toBe(true);
    const rain = await byKey('rainstorm:site');
    expect(rain).toMatchObject({ level: 'black', state: 'stabilised' });
  });
});
