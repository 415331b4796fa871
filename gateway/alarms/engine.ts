import type { Clock, Timer } from '../clock.ts';
import type { AlarmsConfig } from '../config/schema.ts';
import type { LoadedConfig } from '../config/load.ts';
import { describeError } from '../errors.ts';
import type { EventBus, SignalState, SourceStatus } from '../events.ts';
import type { Logger } from '../log.ts';
import { degraded, down, ok, type ComponentHealth, type Plugin } from '../plugin.ts';
import { Conditioner } from './conditioning.ts';
import * as life from './lifecycle.ts';
import { AlarmRepository, type AlarmRecords } from './repository.ts';
import { SeenSignals } from './seen.ts';
import { Supervisor } from './supervision.ts';
import { AlarmError, byPriorityThenTime, type Alarm, type AlarmChange, type AlarmChangeKind, type AlarmKind, type AlarmListFilter, type AlarmService, type AlarmSystem } from './types.ts';

export interface AlarmEngineOptions {
  config: LoadedConfig;
  /** The records store (SqliteRecordStore): alarms live in its database, changes are audited in it. */
  records: AlarmRecords;
  events: EventBus;
  clock: Clock;
  log: Logger;
}

const OWNER = 'alarms';
/**
 * How often the seq and source time of reports that did not change a signal's
 * state are written, in one transaction (issue 15). A state change is written at
 * once, in its event's transaction; see onSignal for why the rest can wait.
 */
export const SEEN_FLUSH_MS = 5_000;

/**
 * Turns 'signal.state' and 'source.status' into alarms with the ISA-18.2 / OPC-UA
 * Part 9 lifecycle (lifecycle.ts), keeps them in the records store, and emits
 * 'alarm.changed' for every change, at once.
 *
 * FIRE AND GAS ALARMS ARE NEVER DELAYED, MERGED AWAY, SHELVED OR SUPPRESSED. Leak
 * and supervisory conditions pass through on/off delays and chatter suppression
 * (conditioning.ts); fire, gas and power go straight to the state machine. A
 * maintenance window only sets notify: false on the event; the record is kept.
 * Weather signals raise no alarm.
 */
export class AlarmEngine implements Plugin, AlarmService {
  readonly name = 'alarms';
  private repo?: AlarmRepository;
  private settings!: AlarmsConfig;
  /** Open episodes (state not normal), by condition. */
  private readonly open = new Map<string, Alarm>();
  /** The last and recent events of every signal: replays are recognised by them. */
  private seen = new SeenSignals(new Map());
  private seenTimer?: Timer;
  private readonly conditioners = new Map<string, Conditioner>();
  private readonly shelfTimers = new Map<number, Timer>();
  private readonly panelOf = new Map<string, string>();
  private readonly sourceSystem = new Map<string, AlarmSystem>();
  private windows: Array<{ id: string; system: AlarmSystem; from: number; to: number }> = [];
  private supervisor?: Supervisor;
  /** Changes made while handling one signal event; emitted after its transaction commits. */
  private pending?: AlarmChange[];
  private fallbackId = 0;
  private replays = 0;
  private writeFailures = 0;
  private lastWriteError = '';

  constructor(private readonly options: AlarmEngineOptions) {}

  async start(): Promise<void> {
    const { config, records, clock, events } = this.options;
    this.settings = config.building.alarms;
    for (const z of config.building.signals.fireZones) {
      this.panelOf.set(z.id, z.panel);
      this.sourceSystem.set(z.panel, 'fire');
    }
    for (const s of this.settings.supervision.sources) this.sourceSystem.set(s.id, s.system);
    this.windows = this.settings.maintenanceWindows.map((w) => ({ id: w.id, system: w.system, from: Date.parse(w.from), to: Date.parse(w.to) }));

    // State survives a restart: open episodes and the last event per signal come back from the records store.
    this.repo = new AlarmRepository(records.db);
    for (const a of this.repo.loadOpen()) this.open.set(a.condition, a);
    this.seen = new SeenSignals(this.repo.loadSeen());
    for (const a of this.open.values()) if (a.shelved) this.scheduleUnshelve(a);

    this.supervisor = new Supervisor(this.settings.supervision, clock, (source, lost) => this.conditioned('comm-loss', source, lost));
    const alreadyLost = [...this.open.values()].filter((a) => a.kind === 'comm-loss' && a.active).map((a) => a.source);
    this.supervisor.start(this.sourceSystem.keys(), alreadyLost);

    events.on(OWNER, 'signal.state', (s) => this.onSignal(s));
    events.on(OWNER, 'source.status', (s) => this.onSourceStatus(s));
    this.seenTimer = clock.setInterval(() => this.saveUnsavedSeen(), SEEN_FLUSH_MS);
  }

  async stop(): Promise<void> {
    this.options.events.removeOwner(OWNER);
    this.supervisor?.stop();
    for (const c of this.conditioners.values()) c.cancel();
    for (const t of this.shelfTimers.values()) t.cancel();
    this.conditioners.clear();
    this.shelfTimers.clear();
    this.seenTimer?.cancel();
    this.seenTimer = undefined;
    // No more signals come in: what the last batch did not write is written now.
    if (this.repo) this.saveUnsavedSeen();
    this.repo = undefined;
  }

  health(): ComponentHealth {
    if (!this.repo) return down('not started');
    const unacked = [...this.open.values()].filter((a) => !a.acked).length;
    const detail = `${this.open.size} open alarms, ${unacked} unacknowledged; ${this.replays} replayed signal events ignored`;
    return this.writeFailures ? degraded(`${detail}; ${this.writeFailures} alarm writes failed, last: ${this.lastWriteError}`) : ok(detail);
  }

  // ---- the AlarmService used by the HTTP layer -------------------------------------------

  list(filter: AlarmListFilter = 'active'): Alarm[] {
    const open = [...this.open.values()];
    let alarms: Alarm[];
    if (filter === 'active') alarms = open;
    else if (filter === 'shelved') alarms = open.filter((a) => a.shelved);
    else if (filter === 'all' || filter === 'normal') {
      const openIds = new Set(open.map((a) => a.id));
      const history = this.repository().recent(500).filter((a) => !openIds.has(a.id));
      alarms = filter === 'all' ? [...open, ...history] : history.filter((a) => a.state === 'normal');
    } else alarms = open.filter((a) => a.state === filter);
    return alarms.sort(byPriorityThenTime);
  }

  get(id: number): Alarm | undefined {
    return this.openById(id) ?? this.repository().get(id);
  }

  ack(id: number, by: string, comment: string): Alarm {
    const a = this.mustGet(id);
    return this.userAction('ack', a, life.acknowledge(a, by, comment, this.options.clock.now()), by, { comment });
  }

  reset(id: number, by: string, comment: string): Alarm {
    const a = this.mustGet(id);
    return this.userAction('reset', a, life.resetLatched(a, by, comment, this.options.clock.now()), by, { comment });
  }

  shelve(id: number, by: string, reason: string, minutes: number): Alarm {
    const max = this.settings.maxShelveMinutes;
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > max) throw new AlarmError('BOHUB_BAD_REQUEST', `minutes must be a whole number from 1 to ${max}`, 400);
    const a = this.mustGet(id);
    const now = this.options.clock.now();
    const next = this.userAction('shelve', a, life.shelve(a, by, reason, now, now + minutes * 60_000), by, { reason, minutes });
    this.scheduleUnshelve(next);
    return next;
  }

  // ---- signals and sources --------------------------------------------------------------

  private onSignal(s: SignalState): void {
    if (this.seen.isReplay(s)) {
      // A retained or redelivered message (broker restart, QoS 1 redelivery) must not start a second episode.
      this.replays++;
      return;
    }
    const stateChanged = this.seen.remember(s);
    const panel = this.panelOf.get(s.signal);
    if (panel) this.supervisor?.heard(panel);
    const emits: AlarmChange[] = [];
    this.pending = emits;
    // A report that changes the signal's state is stored in its event's transaction,
    // before its alarm.changed goes out. One that repeats the state (nearly all of
    // them: a panel repeating "normal") is only remembered, and saveUnsavedSeen writes
    // it with the next batch: no disk sync on the event loop per report (issue 15).
    // After a crash the stored seq and source time may be one batch old, but the
    // stored state is the latest: a redelivery of a newer report of that same state is
    // then not recognised as a replay and goes through once, which changes nothing.
    let stored = false;
    try {
      // One transaction for the event's writes: one disk sync on the alarm path, not several.
      // The conditions run for every report that is not a replay, changed or not. With
      // the state unchanged they normally write nothing, but they can (a restart inside
      // a leak's on-delay, an alarm whose insert failed), so the transaction stays; one
      // that writes nothing does no disk I/O (WAL, BEGIN DEFERRED: checked with strace).
      this.options.records.transaction(() => {
        if (stateChanged) {
          this.write(() => {
            this.repository().saveSeen(s.signal, this.seen.lastOf(s.signal)!);
            stored = true;
          });
        }
        if (s.kind === 'fire-zone' || s.kind === 'gas') {
          // Straight to the state machine: never delayed, never conditioned. A gas leak
          // is an emergency like fire (handbook 第九节 七), but it does not latch.
          this.condition(s.kind === 'gas' ? 'gas' : 'fire', s.signal, s.state === 'alarm', s);
          this.condition(s.kind === 'gas' ? 'gas-fault' : 'fire-fault', s.signal, s.state === 'fault', s);
        } else if (s.kind === 'power-feeder') {
          // On backup is still a loss of mains (handbook 第九节 五): the alarm stays until the feeder is 'on'.
          this.condition('power-loss', s.signal, s.state !== 'on', s);
        } else if (s.kind === 'leak') this.conditioned('leak', s.signal, s.state === 'wet');
        // Typhoon and rainstorm signals are not alarms: they start runbooks (handbook 第九节 二, 三)
        // and are kept as signal states by telemetry and the latest values.
      });
      // Committed; an unchanged state, or a failed write, is left to the next batch.
      if (stored) this.seen.saved(s.signal);
    } catch (err) {
      this.writeFailed(err);
    } finally {
      this.pending = undefined;
    }
    // Recorded (or the failure counted): now tell everyone. A failed write never holds back an alarm.
    for (const change of emits) this.options.events.emit('alarm.changed', change);
  }

  private onSourceStatus(s: SourceStatus): void {
    if (s.status === 'online') this.supervisor?.heard(s.source);
    else this.supervisor?.offline(s.source);
  }

  /** Leak and supervisory conditions: through their on/off delays and chatter suppression. */
  private conditioned(kind: 'leak' | 'comm-loss', source: string, active: boolean): void {
    const key = `${kind}:${source}`;
    let c = this.conditioners.get(key);
    if (!c) {
      const settings = kind === 'leak' ? this.settings.leak : this.settings.supervision;
      c = new Conditioner(settings, this.options.clock, {
        set: (on) => this.condition(kind, source, on),
        chattering: (on) => this.setChattering(key, on),
      }, this.open.get(key)?.active ?? false);
      this.conditioners.set(key, c);
    }
    c.input(active);
  }

  /** The condition is now active or not: raise, re-raise or clear its episode. */
  private condition(kind: AlarmKind, source: string, active: boolean, event?: SignalState): void {
    const key = `${kind}:${source}`;
    const now = this.options.clock.now();
    const current = this.open.get(key);
    if (active) {
      if (current?.active) return;
      const window = this.windowFor(this.systemOf(kind, source), now);
      if (current) {
        const next = life.reactivate(current, now, event?.sourceTime ?? now, event?.seq);
        if (window) next.maintenanceWindow = window;
        else delete next.maintenanceWindow;
        return this.changed('reactivated', next);
      }
      return this.raise(kind, source, now, event, window);
    }
    if (!current?.active) return;
    this.changed('cleared', life.clear(current, now));
  }

  private raise(kind: AlarmKind, source: string, now: number, event: SignalState | undefined, window: string | undefined): void {
    const p = this.settings.priorities;
    const priority = kind === 'fire' ? p.fire : kind === 'gas' ? p.gas : kind === 'power-loss' ? p.powerLoss : kind === 'leak' ? p.leak : p.trouble;
    const draft: Omit<Alarm, 'id'> = {
      condition: `${kind}:${source}`, kind, system: this.systemOf(kind, source), source, priority,
      state: 'active-unacknowledged', active: true, acked: false, latching: kind === 'fire',
      raisedAt: now, sourceTime: event?.sourceTime ?? now, activations: 1, updatedAt: now,
      ...(event?.seq !== undefined ? { seq: event.seq } : {}),
      ...(window ? { maintenanceWindow: window } : {}),
    };
    // A new alarm is never dropped: if the records store fails, it lives in memory with a temporary id.
    const alarm = this.write(() => this.repository().insert(draft)) ?? { ...draft, id: --this.fallbackId };
    this.open.set(alarm.condition, alarm);
    this.announce('raised', alarm);
  }

  private setChattering(condition: string, on: boolean): void {
    const a = this.open.get(condition);
    if (!a) return;
    const next = { ...a, updatedAt: this.options.clock.now() };
    if (on) next.chattering = true;
    else delete next.chattering;
    this.changed('chattering', next);
  }

  /** A system change (from the field or a timer): store, then announce. */
  private changed(change: AlarmChangeKind, next: Alarm): void {
    this.write(() => this.repository().update(next));
    this.keep(next);
    this.announce(change, next);
  }

  /** A user's action: the alarm change and its audit entry in one transaction, or neither. */
  private userAction(action: 'ack' | 'reset' | 'shelve', before: Alarm, next: Alarm, by: string, detail: Record<string, unknown>): Alarm {
    const { records, clock } = this.options;
    records.transaction(() => {
      if (next.id > 0) this.repository().update(next);
      records.appendAudit({ actor: by, action: `alarm.${action}`, subject: `alarm/${next.id}`, before: { state: before.state }, after: { state: next.state, condition: next.condition, ...detail }, at: clock.now() });
    });
    this.keep(next);
    this.announce(action === 'ack' ? 'acked' : action === 'reset' ? 'reset' : 'shelved', next);
    return next;
  }

  private keep(a: Alarm): void {
    if (a.state !== 'normal') return void this.open.set(a.condition, a);
    this.open.delete(a.condition);
    // An episode that is over is no longer shelved.
    this.shelfTimers.get(a.id)?.cancel();
    this.shelfTimers.delete(a.id);
  }

  private announce(change: AlarmChangeKind, alarm: Alarm): void {
    const at = this.options.clock.now();
    const notify = !alarm.shelved && !this.windowFor(alarm.system, at);
    const event: AlarmChange = { change, alarm, notify, at };
    if (this.pending) this.pending.push(event);
    else this.options.events.emit('alarm.changed', event);
  }

  private scheduleUnshelve(a: Alarm): void {
    if (!a.shelved) return;
    this.shelfTimers.get(a.id)?.cancel();
    const delay = Math.max(0, a.shelved.until - this.options.clock.now());
    this.shelfTimers.set(a.id, this.options.clock.setTimeout(() => this.autoUnshelve(a.id), delay));
  }

  /** OPC-UA Part 9 TimedShelve: the shelf time ran out; the alarm is back on the operator's list. */
  private autoUnshelve(id: number): void {
    this.shelfTimers.delete(id);
    const a = this.openById(id);
    if (!a?.shelved) return;
    const next = life.unshelve(a, this.options.clock.now());
    try {
      this.options.records.transaction(() => {
        if (next.id > 0) this.repository().update(next);
        this.options.records.appendAudit({ actor: 'system', action: 'alarm.unshelve', subject: `alarm/${id}`, before: { shelved: a.shelved }, after: { state: next.state, condition: next.condition, reason: 'shelve time expired' }, at: next.updatedAt });
      });
    } catch (err) {
      this.writeFailed(err);
    }
    this.keep(next);
    this.announce('unshelved', next);
  }

  // ---- helpers -----------------------------------------------------------------------

  /** Writes the remembered event of every signal whose row is behind, in one transaction; a failure is retried by the next batch. */
  private saveUnsavedSeen(): void {
    if (this.seen.unsavedCount() === 0) return;
    try {
      this.options.records.transaction(() => this.seen.saveAll((signal, last) => this.repository().saveSeen(signal, last)));
    } catch (err) {
      this.writeFailed(err, `could not record the last event of ${this.seen.unsavedCount()} signals; the next batch tries again`);
    }
  }

  private systemOf(kind: AlarmKind, source: string): AlarmSystem {
    if (kind === 'fire' || kind === 'fire-fault') return 'fire';
    if (kind === 'gas' || kind === 'gas-fault') return 'gas';
    if (kind === 'leak') return 'leak';
    if (kind === 'power-loss') return 'power';
    return this.sourceSystem.get(source) ?? 'other';
  }

  private windowFor(system: AlarmSystem, at: number): string | undefined {
    return this.windows.find((w) => w.system === system && w.from <= at && at < w.to)?.id;
  }

  private openById(id: number): Alarm | undefined {
    for (const a of this.open.values()) if (a.id === id) return a;
    return undefined;
  }

  private mustGet(id: number): Alarm {
    const a = this.get(id);
    if (!a) throw new AlarmError('BOHUB_ALARM_NOT_FOUND', `no alarm ${id}`, 404);
    return a;
  }

  private repository(): AlarmRepository {
    if (!this.repo) throw new Error('the alarm engine is not started');
    return this.repo;
  }

  /** A failed write on the alarm path is counted and logged; it never stops the alarm. */
  private write<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.writeFailed(err);
      return undefined;
    }
  }

  private writeFailed(err: unknown, what = 'could not record an alarm change'): void {
    this.writeFailures++;
    this.lastWriteError = describeError(err);
    this.options.log.error({ module: 'alarms', err: this.lastWriteError }, what);
  }
}
