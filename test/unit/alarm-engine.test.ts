import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AlarmEngine, SEEN_FLUSH_MS } from '../../gateway/alarms/engine.ts';
import { AlarmError, type AlarmChange } from '../../gateway/alarms/types.ts';
import { ManualClock } from '../../gateway/clock.ts';
import { loadConfig, type LoadedConfig } from '../../gateway/config/load.ts';
import type { AlarmsConfig } from '../../gateway/config/schema.ts';
import { EventBus, type SignalState } from '../../gateway/events.ts';
import { silentLogger } from '../../gateway/log.ts';
import { SqliteRecordStore } from '../../gateway/storage/records.ts';
import { tempDir } from '../helpers/config.ts';
import { DEMO_CONFIG_FILE } from '../helpers/fake-stores.ts';

// The alarm engine against a real records store in a temp dir, with fake time.

let demo: LoadedConfig;
const running: Array<{ engine: AlarmEngine; records: SqliteRecordStore }> = [];

beforeAll(() => {
  demo = loadConfig(DEMO_CONFIG_FILE);
});

afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.engine.stop();
    r.records.close();
  }
});

type Overrides = { [K in keyof AlarmsConfig]?: Partial<AlarmsConfig[K]> | AlarmsConfig[K] };

/** The demo building with alarm settings changed; leak delays off unless a test sets them. */
function configWith(overrides: Overrides = {}): LoadedConfig {
  const base = demo.building.alarms;
  const alarms = {
    ...base,
    leak: { ...base.leak, onDelaySeconds: 0, offDelaySeconds: 0 },
    ...Object.fromEntries(Object.entries(overrides).map(([k, v]) => [k, typeof v !== 'object' || Array.isArray(v) ? v : { ...((base as Record<string, unknown>)[k] as object), ...v }])),
  } as AlarmsConfig;
  return { ...demo, building: { ...demo.building, alarms } };
}

async function setup(overrides: Overrides = {}, opts: { dir?: string; clock?: ManualClock } = {}) {
  const clock = opts.clock ?? new ManualClock(Date.UTC(2026, 2, 1, 14, 40));
  const dir = opts.dir ?? tempDir();
  const records = SqliteRecordStore.open(dir, clock);
  const events = new EventBus();
  const changes: AlarmChange[] = [];
  events.on('test', 'alarm.changed', (c) => changes.push(c));
  const engine = new AlarmEngine({ config: configWith(overrides), records, events, clock, log: silentLogger });
  await engine.start();
  running.push({ engine, records });
  let seq = 0;
  const signal = (id: string, kind: SignalState['kind'], state: string, extra: Partial<SignalState> = {}): SignalState => {
    const s: SignalState = { signal: id, kind, state, sourceTime: clock.now(), seq: ++seq, retained: false, ...extra };
    events.emit('signal.state', s);
    return s;
  };
  const only = (condition: string) => {
    const found = engine.list('all').filter((a) => a.condition === condition);
    expect(found).toHaveLength(1);
    return found[0]!;
  };
  return { clock, dir, records, events, engine, changes, signal, only };
}

const FIRE = 'FZ-B-12';
const LEAK = 'LK-A-B1-PUMP';
const FEEDER = 'PF-A-1';

describe('lifecycle', () => {
  it('a leak goes active-unacknowledged, active-acknowledged, then normal when it clears', async () => {
    const { engine, signal, only } = await setup();
    signal(LEAK, 'leak', 'wet');
    const raised = only(`leak:${LEAK}`);
    expect(raised).toMatchObject({ state: 'active-unacknowledged', kind: 'leak', priority: 4, latching: false });
    expect(engine.ack(raised.id, 'operator', 'plumber called').state).toBe('active-acknowledged');
    signal(LEAK, 'leak', 'dry');
    expect(only(`leak:${LEAK}`).state).toBe('normal');
    expect(engine.list()).toHaveLength(0);
  });

  it('a cleared alarm waits as cleared-unacknowledged and becomes normal on ack', async () => {
    const { engine, signal, only } = await setup();
    signal(FEEDER, 'power-feeder', 'off');
    signal(FEEDER, 'power-feeder', 'on');
    const cleared = only(`power-loss:${FEEDER}`);
    expect(cleared.state).toBe('cleared-unacknowledged');
    expect(engine.list().map((a) => a.id)).toEqual([cleared.id]);
    expect(engine.ack(cleared.id, 'operator', 'feeder back').state).toBe('normal');
  });

  it('a cleared-unacknowledged alarm that goes active again is the same episode, unacknowledged', async () => {
    const { engine, signal, only } = await setup();
    signal(FEEDER, 'power-feeder', 'off');
    const first = only(`power-loss:${FEEDER}`);
    engine.ack(first.id, 'operator', 'seen');
    signal(FEEDER, 'power-feeder', 'on');
    expect(only(`power-loss:${FEEDER}`).state).toBe('normal');
    signal(FEEDER, 'power-feeder', 'off');
    signal(FEEDER, 'power-feeder', 'on');
    signal(FEEDER, 'power-feeder', 'off');
    const again = engine.list()[0]!;
    expect(again).toMatchObject({ state: 'active-unacknowledged', activations: 2 });
    expect(again.id).not.toBe(first.id);
  });

  it('refuses to acknowledge twice, and names unknown alarms', async () => {
    const { engine, signal, only } = await setup();
    signal(LEAK, 'leak', 'wet');
    const a = only(`leak:${LEAK}`);
    engine.ack(a.id, 'operator', 'seen');
    expect(() => engine.ack(a.id, 'operator', 'again')).toThrow(expect.objectContaining({ code: 'BOHUB_ALARM_STATE', status: 409 }));
    expect(() => engine.ack(9999, 'operator', 'x')).toThrow(expect.objectContaining({ code: 'BOHUB_ALARM_NOT_FOUND', status: 404 }));
  });

  it('lists by priority, fire first, then gas', async () => {
    const { engine, signal } = await setup();
    signal(LEAK, 'leak', 'wet');
    signal(FEEDER, 'power-feeder', 'off');
    signal('GS-A-B1-METER', 'gas', 'alarm');
    signal(FIRE, 'fire-zone', 'alarm');
    signal('FZ-A-01', 'fire-zone', 'fault');
    expect(engine.list().map((a) => [a.kind, a.priority])).toEqual([['fire', 1], ['gas', 2], ['power-loss', 3], ['leak', 4], ['fire-fault', 5]]);
  });
});

describe('fire latching', () => {
  it('stays until the zone is normal, acknowledged and reset', async () => {
    const { engine, signal, only } = await setup();
    signal(FIRE, 'fire-zone', 'alarm');
    const a = only(`fire:${FIRE}`);
    expect(a).toMatchObject({ state: 'active-unacknowledged', priority: 1, latching: true });
    expect(() => engine.reset(a.id, 'operator', 'too early')).toThrow(/still in alarm/);
    signal(FIRE, 'fire-zone', 'normal');
    expect(only(`fire:${FIRE}`).state).toBe('cleared-unacknowledged');
    expect(() => engine.reset(a.id, 'operator', 'not acked')).toThrow(/acknowledged before/);
    // Acknowledged and back to normal: still latched, still on the list.
    expect(engine.ack(a.id, 'operator', 'false alarm, detector dust').state).toBe('active-acknowledged');
    expect(engine.list().map((x) => x.id)).toEqual([a.id]);
    expect(engine.reset(a.id, 'operator', 'panel reset').state).toBe('normal');
    expect(engine.list()).toHaveLength(0);
  });

  it('a non-latching alarm cannot be reset', async () => {
    const { engine, signal, only } = await setup();
    signal(LEAK, 'leak', 'wet');
    expect(() => engine.reset(only(`leak:${LEAK}`).id, 'operator', 'x')).toThrow(/does not latch/);
  });
});

describe('fire is never delayed, shelved or suppressed', () => {
  it('raises at once even with long leak delays configured', async () => {
    const { changes, signal } = await setup({ leak: { onDelaySeconds: 600, offDelaySeconds: 600 }, supervision: { onDelaySeconds: 10 } });
    signal(FIRE, 'fire-zone', 'alarm');
    // Synchronously, before any time passes.
    expect(changes).toMatchObject([{ change: 'raised', notify: true, alarm: { kind: 'fire', source: FIRE, state: 'active-unacknowledged' } }]);
  });

  it('refuses to shelve a fire alarm with a clear error', async () => {
    const { engine, signal, only } = await setup();
    signal(FIRE, 'fire-zone', 'alarm');
    const err = (() => {
      try {
        engine.shelve(only(`fire:${FIRE}`).id, 'supervisor', 'nuisance', 30);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(AlarmError);
    expect(err).toMatchObject({ code: 'BOHUB_ALARM_NOT_SHELVABLE', status: 409, message: expect.stringMatching(/never shelved/) });
  });

  it('a chattering fire zone raises every time it goes into alarm', async () => {
    const { engine, changes, signal, only } = await setup({ leak: { chatter: { maxActivations: 2, windowSeconds: 600 } } });
    for (let i = 0; i < 5; i++) {
      signal(FIRE, 'fire-zone', 'alarm');
      signal(FIRE, 'fire-zone', 'normal');
    }
    expect(changes.filter((c) => c.change === 'raised' || c.change === 'reactivated')).toHaveLength(5);
    expect(only(`fire:${FIRE}`).activations).toBe(5);
    expect(engine.list()[0]!.chattering).toBeUndefined();
  });
});

describe('leak conditioning', () => {
  it('on-delay: a leak that dries within the delay never alarms; one that stays wet does', async () => {
    const { clock, engine, signal } = await setup({ leak: { onDelaySeconds: 5, offDelaySeconds: 0 } });
    signal(LEAK, 'leak', 'wet');
    clock.advance(4_000);
    signal(LEAK, 'leak', 'dry');
    clock.advance(10_000);
    expect(engine.list('all')).toHaveLength(0);
    signal(LEAK, 'leak', 'wet');
    clock.advance(4_999);
    expect(engine.list()).toHaveLength(0);
    clock.advance(1);
    expect(engine.list()).toMatchObject([{ kind: 'leak', state: 'active-unacknowledged' }]);
  });

  it('off-delay: a leak clears only after staying dry', async () => {
    const { clock, signal, only } = await setup({ leak: { onDelaySeconds: 0, offDelaySeconds: 30 } });
    signal(LEAK, 'leak', 'wet');
    signal(LEAK, 'leak', 'dry');
    clock.advance(29_000);
    expect(only(`leak:${LEAK}`).state).toBe('active-unacknowledged');
    clock.advance(1_000);
    expect(only(`leak:${LEAK}`).state).toBe('cleared-unacknowledged');
  });

  it('chatter suppression: a flapping sensor annunciates once and is held until quiet for the window', async () => {
    const { clock, changes, signal, only } = await setup({ leak: { onDelaySeconds: 0, offDelaySeconds: 0, chatter: { maxActivations: 3, windowSeconds: 60 } } });
    for (let i = 0; i < 6; i++) {
      signal(LEAK, 'leak', 'wet');
      clock.advance(1_000);
      signal(LEAK, 'leak', 'dry');
      clock.advance(1_000);
    }
    const annunciated = changes.filter((c) => c.change === 'raised' || c.change === 'reactivated');
    // Raised, re-raised once before the third rise marked it chattering, then held.
    expect(annunciated).toHaveLength(3);
    expect(only(`leak:${LEAK}`)).toMatchObject({ state: 'active-unacknowledged', chattering: true });
    // The last dry was 1 s ago: held for a whole quiet window from it.
    clock.advance(58_000);
    expect(only(`leak:${LEAK}`).active).toBe(true);
    clock.advance(1_000);
    expect(only(`leak:${LEAK}`)).toMatchObject({ state: 'cleared-unacknowledged', active: false });
    expect(only(`leak:${LEAK}`).chattering).toBeUndefined();
  });
});

describe('shelving', () => {
  it('shelves with a reason, audits it, and unshelves by itself when the time runs out', async () => {
    const { clock, engine, records, changes, signal, only } = await setup();
    signal(LEAK, 'leak', 'wet');
    const a = only(`leak:${LEAK}`);
    const shelved = engine.shelve(a.id, 'supervisor', 'sensor under repair, ticket 118', 10);
    expect(shelved.shelved).toEqual({ by: 'supervisor', reason: 'sensor under repair, ticket 118', at: clock.now(), until: clock.now() + 600_000 });
    expect(engine.list('shelved').map((x) => x.id)).toEqual([a.id]);
    expect(changes.at(-1)).toMatchObject({ change: 'shelved', notify: false });
    expect(records.listAudit({ action: 'alarm.shelve' })).toMatchObject([{ actor: 'supervisor', subject: `alarm/${a.id}`, after: { reason: 'sensor under repair, ticket 118', minutes: 10 } }]);
    clock.advance(599_999);
    expect(only(`leak:${LEAK}`).shelved).toBeDefined();
    clock.advance(1);
    expect(only(`leak:${LEAK}`).shelved).toBeUndefined();
    expect(changes.at(-1)).toMatchObject({ change: 'unshelved', notify: true, alarm: { state: 'active-unacknowledged' } });
    expect(records.listAudit({ action: 'alarm.unshelve' })).toMatchObject([{ actor: 'system', subject: `alarm/${a.id}` }]);
  });

  it('refuses longer than the configured maximum', async () => {
    const { engine, signal, only } = await setup({ maxShelveMinutes: 60 });
    signal(LEAK, 'leak', 'wet');
    expect(() => engine.shelve(only(`leak:${LEAK}`).id, 'supervisor', 'x', 61)).toThrow(expect.objectContaining({ status: 400 }));
  });
});

describe('maintenance windows', () => {
  it('a fire-system test silences fire notifications but not leaks; the fire alarm is still recorded and flagged', async () => {
    const clock = new ManualClock(Date.parse('2026-03-01T10:00:00+08:00'));
    const window = { id: 'fire-test-0301', system: 'fire' as const, from: '2026-03-01T09:00:00+08:00', to: '2026-03-01T12:00:00+08:00', reason: 'annual detector test' };
    const { engine, changes, signal } = await setup({ maintenanceWindows: [window] }, { clock });
    signal(FIRE, 'fire-zone', 'alarm');
    signal(LEAK, 'leak', 'wet');
    expect(changes.map((c) => [c.alarm.kind, c.notify, c.alarm.maintenanceWindow])).toEqual([
      ['fire', false, 'fire-test-0301'],
      ['leak', true, undefined],
    ]);
    expect(engine.list().map((a) => a.kind)).toEqual(['fire', 'leak']);
    // After the window, fire notifies again.
    clock.advance(3 * 3600_000);
    signal('FZ-A-01', 'fire-zone', 'alarm');
    expect(changes.at(-1)).toMatchObject({ notify: true, alarm: { source: 'FZ-A-01' } });
  });
});

describe('audit', () => {
  it('ack and reset are audited with the user and the comment', async () => {
    const { engine, records, signal, only } = await setup();
    signal(FIRE, 'fire-zone', 'alarm');
    const a = only(`fire:${FIRE}`);
    engine.ack(a.id, 'operator', '消防中心确认误报');
    signal(FIRE, 'fire-zone', 'normal');
    engine.reset(a.id, 'supervisor', 'panel reset after false alarm');
    expect(records.listAudit({ action: 'alarm.ack' })).toMatchObject([
      { actor: 'operator', subject: `alarm/${a.id}`, before: { state: 'active-unacknowledged' }, after: { state: 'active-acknowledged', comment: '消防中心确认误报' } },
    ]);
    expect(records.listAudit({ action: 'alarm.reset' })).toMatchObject([{ actor: 'supervisor', after: { state: 'normal', comment: 'panel reset after false alarm' } }]);
  });

  it('an ack whose audit entry cannot be written does not change the alarm (one transaction)', async () => {
    const { engine, records, signal, only, dir, clock } = await setup();
    signal(LEAK, 'leak', 'wet');
    const a = only(`leak:${LEAK}`);
    records.appendAudit = () => {
      throw new Error('disk full');
    };
    expect(() => engine.ack(a.id, 'operator', 'seen')).toThrow('disk full');
    expect(only(`leak:${LEAK}`).state).toBe('active-unacknowledged');
    const again = SqliteRecordStore.open(dir, clock);
    const row = again.db.prepare('SELECT state FROM alarms WHERE id = ?').get(a.id) as { state: string };
    again.close();
    expect(row.state).toBe('active-unacknowledged');
  });
});

describe('restart', () => {
  it('a new engine on the same records store has the same alarms, and a replayed retained fire does not start a second episode', async () => {
    const first = await setup();
    const fire = first.signal(FIRE, 'fire-zone', 'alarm');
    first.signal(LEAK, 'leak', 'wet');
    const a = first.only(`fire:${FIRE}`);
    first.engine.ack(a.id, 'operator', 'on my way');
    await first.engine.stop();
    first.records.close();
    running.length = 0;

    const second = await setup({}, { dir: first.dir, clock: first.clock });
    expect(second.engine.list().map((x) => [x.id, x.kind, x.state])).toEqual([
      [a.id, 'fire', 'active-acknowledged'],
      [a.id + 1, 'leak', 'active-unacknowledged'],
    ]);
    // The broker replays its retained message after the restart.
    second.events.emit('signal.state', { ...fire, retained: true });
    expect(second.changes).toHaveLength(0);
    expect(second.engine.list('all').filter((x) => x.kind === 'fire')).toHaveLength(1);
    // The leak clears through its restored state.
    second.signal(LEAK, 'leak', 'dry');
    expect(second.only(`leak:${LEAK}`).state).toBe('cleared-unacknowledged');
  });
});

describe('replays', () => {
  it('a retained fire replayed after the episode was reset does not start a new one; a genuinely new alarm does', async () => {
    const { engine, events, signal, only } = await setup();
    const fire = signal(FIRE, 'fire-zone', 'alarm');
    const a = only(`fire:${FIRE}`);
    engine.ack(a.id, 'operator', 'checking');
    signal(FIRE, 'fire-zone', 'normal');
    engine.reset(a.id, 'operator', 'false alarm');
    // The same message, redelivered out of order (QoS 1 after a broker restart).
    events.emit('signal.state', { ...fire, retained: true });
    expect(engine.list()).toHaveLength(0);
    // Same source time and state but no seq: also a replay of the last event.
    const normal = signal(FIRE, 'fire-zone', 'normal');
    events.emit('signal.state', { ...normal, seq: undefined });
    expect(engine.list('all')).toHaveLength(1);
    // A panel that restarted its numbering: same seq as before, new time: a new alarm.
    events.emit('signal.state', { ...fire, sourceTime: fire.sourceTime + 60_000 });
    expect(engine.list()).toMatchObject([{ kind: 'fire', state: 'active-unacknowledged' }]);
    expect(engine.list()[0]!.id).not.toBe(a.id);
  });
});

describe('unchanged reports cost no disk write (issue 15)', () => {
  const storedSeen = (records: SqliteRecordStore, signal: string) =>
    records.db.prepare('SELECT seq, source_time AS sourceTime, state FROM alarm_signal_seen WHERE signal = ?').get(signal);
  /** Rows written on the engine's connection since it opened (SQLite total_changes()). */
  const rowsWritten = (records: SqliteRecordStore) => records.db.prepare('SELECT total_changes()').pluck().get() as number;

  it('1,000 reports of an unchanged state write no row each; the next batch stores the latest in one write', async () => {
    const { clock, records, signal } = await setup();
    const first = signal(FIRE, 'fire-zone', 'normal');
    const before = rowsWritten(records);
    let last = first;
    for (let i = 0; i < 1000; i++) {
      clock.advance(1);
      last = signal(FIRE, 'fire-zone', 'normal');
    }
    expect(rowsWritten(records) - before).toBe(0);
    expect(storedSeen(records, FIRE)).toEqual({ seq: first.seq, sourceTime: first.sourceTime, state: 'normal' });
    clock.advance(SEEN_FLUSH_MS);
    expect(rowsWritten(records) - before).toBe(1);
    expect(storedSeen(records, FIRE)).toEqual({ seq: last.seq, sourceTime: last.sourceTime, state: 'normal' });
  });

  it('a report that changes the state is stored before its alarm.changed is emitted', async () => {
    const { clock, events, records, signal } = await setup();
    signal(FIRE, 'fire-zone', 'normal');
    clock.advance(1);
    signal(FIRE, 'fire-zone', 'normal');
    clock.advance(1);
    let storedWhenRaised: unknown;
    events.on('probe', 'alarm.changed', (c) => c.change === 'raised' && (storedWhenRaised = storedSeen(records, FIRE)));
    const fire = signal(FIRE, 'fire-zone', 'alarm');
    expect(storedWhenRaised).toEqual({ seq: fire.seq, sourceTime: fire.sourceTime, state: 'alarm' });
  });

  it('stop() stores the unchanged reports not yet written, so a new engine still recognises a replay of the last one', async () => {
    const first = await setup();
    first.signal(FIRE, 'fire-zone', 'alarm');
    first.clock.advance(1);
    const repeat = first.signal(FIRE, 'fire-zone', 'alarm');
    await first.engine.stop();

    const second = await setup({}, { dir: first.dir, clock: first.clock });
    second.events.emit('signal.state', { ...repeat, retained: true });
    expect(second.engine.health().detail).toMatch(/; 1 replayed signal events ignored/);
    expect(second.changes).toHaveLength(0);
  });

  it('an unchanged report still runs the conditions: a hub restarted inside a leak\'s on-delay raises it', async () => {
    const first = await setup({ leak: { onDelaySeconds: 30 } });
    const wet = first.signal(LEAK, 'leak', 'wet');
    await first.engine.stop();

    first.clock.advance(1_000);
    const second = await setup({ leak: { onDelaySeconds: 30 } }, { dir: first.dir, clock: first.clock });
    // The stored state is already 'wet': this report changes nothing in alarm_signal_seen.
    second.signal(LEAK, 'leak', 'wet', { seq: wet.seq! + 1 });
    second.clock.advance(30_000);
    expect(second.only(`leak:${LEAK}`).state).toBe('active-unacknowledged');
  });
});

describe('supervision', () => {
  it('a silent fire panel raises a trouble alarm within 100 s; one that keeps its heartbeat does not', async () => {
    const { clock, events, engine } = await setup();
    const start = clock.now();
    let raisedAt: number | undefined;
    events.on('t', 'alarm.changed', (c) => c.alarm.source === 'FP-B' && c.change === 'raised' && (raisedAt ??= clock.now()));
    for (let t = 0; t < 100; t += 30) {
      events.emit('source.status', { source: 'FP-A', status: 'online', via: 'heartbeat', at: clock.now() });
      clock.advance(30_000);
    }
    expect(raisedAt).toBeDefined();
    expect(raisedAt! - start).toBeLessThanOrEqual(100_000);
    expect(engine.list().map((a) => [a.kind, a.source, a.system, a.priority])).toEqual([['comm-loss', 'FP-B', 'fire', 5]]);
  });

  it('an LWT offline raises trouble at once and clears when the source is back', async () => {
    const { clock, events, engine, only } = await setup();
    events.emit('source.status', { source: 'FP-A', status: 'offline', via: 'lwt', at: clock.now() });
    expect(only('comm-loss:FP-A').state).toBe('active-unacknowledged');
    events.emit('source.status', { source: 'FP-A', status: 'online', via: 'connect', at: clock.now() });
    // The supervisory off-delay (30 s by default) keeps a flapping link from flooding the list.
    clock.advance(30_000);
    expect(only('comm-loss:FP-A').state).toBe('cleared-unacknowledged');
    expect(engine.list().map((a) => a.condition)).toEqual(['comm-loss:FP-A']);
  });

  it('a signal from a panel counts as hearing from it', async () => {
    const { clock, signal, engine } = await setup();
    for (let t = 0; t < 120; t += 20) {
      signal('FZ-A-01', 'fire-zone', 'normal');
      signal('FZ-B-01', 'fire-zone', 'normal');
      clock.advance(20_000);
    }
    expect(engine.list()).toHaveLength(0);
  });
});
