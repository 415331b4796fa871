import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AlarmEngine } from '../../gateway/alarms/engine.ts';
import { ManualClock } from '../../gateway/clock.ts';
import { loadConfig, type LoadedConfig } from '../../gateway/config/load.ts';
import { EventBus, type SignalState } from '../../gateway/events.ts';
import { silentLogger } from '../../gateway/log.ts';
import { SIGNAL_STATES } from '../../gateway/signals/states.ts';
import { SqliteRecordStore } from '../../gateway/storage/records.ts';
import { loadScenario, playScenario, timeline, type SignalPublisher } from '../../simulators/scenario.ts';
import { REPO, tempDir } from '../helpers/config.ts';
import { DEMO_CONFIG_FILE } from '../helpers/fake-stores.ts';

// The scenario runner: parsing, the timeline, accelerated playing on a fake clock,
// and the demo night scenario driving the alarm engine.

const NIGHT_FIRE = join(REPO, 'config/demo/scenarios/night-fire.yaml');
let config: LoadedConfig;
const cleanup: Array<() => unknown> = [];

beforeAll(() => {
  config = loadConfig(DEMO_CONFIG_FILE);
});

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** Advances fake time in small steps, letting the runner's awaits settle between them. */
async function runFor(clock: ManualClock, ms: number, stepMs = 100): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    clock.advance(stepMs);
    for (let i = 0; i < 5; i++) await Promise.resolve();
  }
}

describe('scenario files', () => {
  it('the night-fire scenario: fire at 22:40, confirmed false at 22:42, incomer 1 lost for 5 minutes', () => {
    const scenario = loadScenario(NIGHT_FIRE, config);
    expect(timeline(scenario).map((c) => [c.offsetMs / 1000, c.signal, c.state])).toEqual([
      [60, 'FZ-B-12', 'alarm'],
      [180, 'FZ-B-12', 'normal'],
      [660, 'PF-A-1', 'off'],
      [960, 'PF-A-1', 'on'],
    ]);
  });

  it('every demo scenario names real signals and states', () => {
    expect(() => loadScenario(join(REPO, 'config/demo/scenarios/basement-leak.yaml'), config)).not.toThrow();
  });

  it('refuses an unknown signal or state, naming the step', () => {
    const file = join(tempDir(), 'bad.yaml');
    writeFileSync(file, 'name: bad\nstart: "22:00"\nsteps:\n  - { at: "22:01", signal: FZ-B-12, state: smoke }\n');
    expect(() => loadScenario(file, config)).toThrow(/steps\.0: "smoke" is not a fire-zone state/);
    writeFileSync(file, 'name: bad\nstart: "22:00"\nsteps:\n  - { at: "22:01", signal: FZ-Z-99, state: alarm }\n');
    expect(() => loadScenario(file, config)).toThrow(/steps\.0\.signal: "FZ-Z-99"/);
  });

  it('a step before the start time is on the next day', () => {
    const changes = timeline({ name: 'x', start: '23:59', steps: [{ at: '00:01', signal: 'S', state: 'wet' }] });
    expect(changes[0]!.offsetMs).toBe(120_000);
  });
});

describe('playing', () => {
  it('publishes each change at its time, accelerated by speedup', async () => {
    const clock = new ManualClock();
    const began = clock.now();
    const published: Array<[number, string, string]> = [];
    const publisher: SignalPublisher = { set: async (signal, state) => void published.push([clock.now() - began, signal, state]) };
    const done = playScenario(loadScenario(NIGHT_FIRE, config), publisher, { clock, speedup: 60 });
    await runFor(clock, 20_000);
    await done;
    // 60x: 60 s of scenario time is 1 s on the clock.
    expect(published).toEqual([
      [1000, 'FZ-B-12', 'alarm'],
      [3000, 'FZ-B-12', 'normal'],
      [11000, 'PF-A-1', 'off'],
      [16000, 'PF-A-1', 'on'],
    ]);
  });

  it('the night scenario leaves a latched false fire alarm and a cleared power loss to acknowledge', async () => {
    const clock = new ManualClock();
    const events = new EventBus();
    const records = SqliteRecordStore.open(tempDir(), clock);
    const engine = new AlarmEngine({ config, records, events, clock, log: silentLogger });
    await engine.start();
    cleanup.push(() => records.close(), () => engine.stop());
    const kinds = new Map<string, SignalState['kind']>([...config.building.signals.fireZones.map((z) => [z.id, 'fire-zone'] as const), ...config.building.signals.powerFeeders.map((p) => [p.id, 'power-feeder'] as const)]);
    let seq = 0;
    const publisher: SignalPublisher = {
      set: async (signal, state) => {
        const kind = kinds.get(signal)!;
        expect(SIGNAL_STATES[kind]).toContain(state);
        events.emit('signal.state', { signal, kind, state, sourceTime: clock.now(), seq: ++seq, retained: false });
      },
    };
    // Sources keep their heartbeat so supervision stays quiet.
    const heartbeat = clock.setInterval(() => ['FP-A', 'FP-B'].forEach((source) => events.emit('source.status', { source, status: 'online', via: 'heartbeat', at: clock.now() })), 10_000);
    cleanup.push(() => heartbeat.cancel());
    const done = playScenario(loadScenario(NIGHT_FIRE, config), publisher, { clock, speedup: 60 });
    await runFor(clock, 20_000);
    await done;
    expect(engine.list().map((a) => [a.kind, a.source, a.state, a.latching])).toEqual([
      ['fire', 'FZ-B-12', 'cleared-unacknowledged', true],
      ['power-loss', 'PF-A-1', 'cleared-unacknowledged', false],
    ]);
  });
});
