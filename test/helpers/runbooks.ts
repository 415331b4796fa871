import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { AlarmEngine } from '../../gateway/alarms/engine.ts';
import { ManualClock, systemClock, type Clock } from '../../gateway/clock.ts';
import { loadConfig, type LoadedConfig } from '../../gateway/config/load.ts';
import { EventBus, type SignalState } from '../../gateway/events.ts';
import { silentLogger } from '../../gateway/log.ts';
import { Metrics } from '../../gateway/metrics.ts';
import { RunbookEngine } from '../../gateway/runbooks/engine.ts';
import type { NotificationSink, OutgoingNotification } from '../../gateway/runbooks/notify.ts';
import type { Actor, Incident, IncidentChange } from '../../gateway/runbooks/types.ts';
import { signalCatalogue } from '../../gateway/signals/sources.ts';
import { SqliteRecordStore } from '../../gateway/storage/records.ts';
import { tempDir, writeConfig, type RawConfig } from './config.ts';

// A runbook engine (and the alarm engine that raises what it follows) on fake time over a copy of the demo building (its runbooks from
// config/runbooks unless `runbooks` gives files of its own), with a records store in a
// temp folder and a sink that keeps what was sent. restart() stops it and starts a new
// engine on the same files, as a hub restart does.

export const ZONE = 'Asia/Shanghai';
export const MIN = 60_000;

export const actors = {
  operator: { username: 'operator', role: 'operator' },
  supervisor: { username: 'supervisor', role: 'supervisor' },
  viewer: { username: 'viewer', role: 'viewer' },
  finance: { username: 'finance', role: 'finance' },
  admin: { username: 'admin', role: 'admin' },
} satisfies Record<string, Actor>;

/** Local time in the building's zone, e.g. "2026-11-26T22:40" (a Thursday). */
export const local = (iso: string): number => DateTime.fromISO(iso, { zone: ZONE }).toMillis();

export interface RunbookRigOptions {
  at: string;
  /** Runbook files by name, instead of config/runbooks. */
  runbooks?: Record<string, string>;
  mutate?: (raw: RawConfig) => void;
  /** Sinks besides the recording one (named 'log'). */
  sinks?: NotificationSink[];
}

export async function runbookRig(options: RunbookRigOptions) {
  const dataDir = tempDir();
  const file = writeConfig((raw) => {
    if (options.runbooks) {
      const dir = join(tempDir(), 'runbooks');
      mkdirSync(dir);
      for (const [name, text] of Object.entries(options.runbooks)) writeFileSync(join(dir, name), text);
      raw.runbooks = { dir };
    }
    raw.storage.dataDir = dataDir;
    options.mutate?.(raw);
  });
  const config: LoadedConfig = loadConfig(file);
  const kinds = signalCatalogue(config.building);
  const clock = new ManualClock(local(options.at));
  const events = new EventBus();
  const changes: IncidentChange[] = [];
  events.on('test', 'incident.changed', (c) => changes.push(c));
  const sent: OutgoingNotification[] = [];
  const sink: NotificationSink = { name: 'log', retries: 0, retryDelayMs: 1, deliver: async (m) => void sent.push(structuredClone(m)) };

  let records = SqliteRecordStore.open(dataDir, clock);
  const metrics = new Metrics();
  let engine: RunbookEngine;
  let alarms: AlarmEngine;
  // As the hub does: the alarm engine listens first, then the runbook engine that follows its alarms.
  const startBoth = async () => {
    alarms = new AlarmEngine({ config, records, events, clock, log: silentLogger });
    engine = new RunbookEngine({ config, records, events, clock, log: silentLogger, sinks: [sink, ...(options.sinks ?? [])], metrics });
    await alarms.start();
    await engine.start();
  };
  const stopBoth = async () => {
    await engine.stop();
    await alarms.stop();
  };
  await startBoth();

  const rig = {
    config, clock, events, changes, sent, metrics,
    get engine() { return engine; },
    get alarms() { return alarms; },
    get records() { return records; },
    /** A signal event as a driver emits it. */
    signal(id: string, state: string, extra: Partial<SignalState> = {}) {
      const kind = kinds.get(id)?.kind;
      if (!kind) throw new Error(`no signal ${id} in the demo building`);
      events.emit('signal.state', { signal: id, kind, state, sourceTime: clock.now(), retained: false, ...extra });
    },
    /** Moves fake time, firing due timers. */
    advance(ms: number) {
      clock.advance(ms);
    },
    only(filter: 'active' | 'all' = 'active'): Incident {
      const list = engine.list(filter);
      if (list.length !== 1) throw new Error(`expected one incident, found ${list.length}: ${list.map((i) => i.key).join(', ')}`);
      return list[0]!;
    },
    step(incident: Incident, key: string) {
      const s = engine.get(incident.id)!.steps.find((x) => x.key === key);
      if (!s) throw new Error(`incident ${incident.id} has no step ${key}; it has ${engine.get(incident.id)!.steps.map((x) => x.key).join(', ')}`);
      return s;
    },
    /** Stops both engines (a hub going down); restart() brings them back. */
    stop: stopBoth,
    async restart() {
      await stopBoth();
      records.close();
      records = SqliteRecordStore.open(dataDir, clock);
      await startBoth();
    },
    async close() {
      await stopBoth();
      records.close();
    },
  };
  return rig;
}

export type RunbookRig = Awaited<ReturnType<typeof runbookRig>>;

/**
 * Real time, shifted so that it starts at `startAt` (ms epoch): for a whole hub in a
 * test, whose working or non-working time must not depend on when CI runs.
 */
export function shiftedClock(startAt: number): Clock {
  const offset = startAt - Date.now();
  return { ...systemClock, now: () => Date.now() + offset };
}

// ---- for the scenario tests of the shipped runbooks (runbook-fire, -weather, -building) ----

export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

/** Lets the recording sink receive what was sent: delivery is asynchronous. */
export const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** ms epoch as local time in the building's zone, "2026-11-26T22:44" (with seconds, and milliseconds, when not zero). */
export function localIso(at: number): string {
  const t = DateTime.fromMillis(at, { zone: ZONE });
  return t.toFormat(t.millisecond ? "yyyy-MM-dd'T'HH:mm:ss.SSS" : t.second ? "yyyy-MM-dd'T'HH:mm:ss" : "yyyy-MM-dd'T'HH:mm");
}

/** The keys of an incident's steps with this status, in runbook order. */
export function stepsIn(incident: Incident, status: import('../../gateway/runbooks/types.ts').StepStatus): string[] {
  return incident.steps.filter((s) => s.status === status).map((s) => s.key);
}

/** Each step's deadline as local time, for the steps that have one. */
export function deadlines(incident: Incident): Record<string, string> {
  return Object.fromEntries(incident.steps.filter((s) => s.dueAt !== undefined).map((s) => [s.key, localIso(s.dueAt!)]));
}

/** An incident's escalations as [step, local time, level, roles told]. */
export function escalationsOf(incident: Incident): Array<[string, string, number, string[]]> {
  return incident.escalations.map((e) => [e.stepKey, localIso(e.at), e.level, e.to]);
}

/** What the recording sink received for one reason, as [step, roles, names of the people told]. */
export function sentFor(sent: OutgoingNotification[], reason: import('../../gateway/runbooks/types.ts').NotificationRecord['reason']): Array<[string | undefined, string[], string[]]> {
  return sent.filter((m) => m.notification.reason === reason).map((m) => [m.notification.stepKey, m.notification.roles, m.notification.recipients.map((r) => r.name)]);
}

/** Moves the rig's fake time to this local time (e.g. "2026-11-28T11:00"), firing due timers. */
export function advanceTo(rig: RunbookRig, iso: string): void {
  const ms = local(iso) - rig.clock.now();
  if (ms < 0) throw new Error(`${iso} is before the rig's time ${localIso(rig.clock.now())}`);
  rig.advance(ms);
}
