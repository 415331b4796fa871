import type { Clock, Timer } from '../clock.ts';
import type { LoadedConfig } from '../config/load.ts';
import type { AlarmChange } from '../alarms/types.ts';
import type { EventBus, SignalState } from '../events.ts';
import type { SignalKind } from '../signals/states.ts';
import type { Logger } from '../log.ts';
import { ok, type ComponentHealth, type Plugin } from '../plugin.ts';
import type { RecordStore } from '../storage/types.ts';
import type { SqliteDb } from '../storage/sqlite-file.ts';
import { WorkingCalendar } from './calendar.ts';
import { buildSinks, type DeliveryUpdate, type NotificationSink } from './notify.ts';
import { IncidentOutbox } from './outbox.ts';
import type { Metrics } from '../metrics.ts';
import { IncidentRepository } from './repository.ts';
import type { Runbook } from './schema.ts';
import { BuildingIndex } from './building-index.ts';
import { addSteps, advance, closeIncident, newIncident, completeStep, endRepeats, fingerprint, levelRank, nextRound, takeDownLobby, type Progress, type StepContext } from './steps.ts';
import { SignalWatch } from './signal-watch.ts';
import { applyTime, wakeAt } from './timers.ts';
import { notificationText } from './texts.ts';
import { checkManualStart, holidaysDue, incidentKey, runbookSummary } from './triggers.ts';
import { IncidentError, type Actor, type Incident, type IncidentChangeKind, type IncidentService, type IncidentState, type IncidentStep, type LobbyMessage, type NotificationRecord, type RunbookSummary, type StartInput, type StepInput } from './types.ts';

// The runbook engine (issue 6): runbooks are data (config/runbooks), and this engine
// knows nothing about fire or typhoons. A signal entering a runbook's trigger state
// opens an incident, or joins the open one with the same key; steps become active as
// their conditions are met, count down to their deadlines and escalate when those
// pass. Every change is stored with its audit entry in one transaction, then
// announced on the bus ('incident.changed', never coalesced) and notified.
// Deadlines are stored as times, so after a restart the timers resume from them.

export interface RunbookEngineOptions {
  config: LoadedConfig;
  records: RecordStore & { readonly db: SqliteDb };
  events: EventBus;
  clock: Clock;
  log: Logger;
  /** Default: the log, plus the webhook when configured. */
  sinks?: NotificationSink[];
  metrics?: Metrics;
}

const OWNER = 'runbooks';
/** Node timers overflow past 2^31-1 ms; a later wake is re-armed on the way. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class RunbookEngine implements Plugin, IncidentService {
  readonly name = 'runbooks';
  private repo?: IncidentRepository;
  private readonly calendar: WorkingCalendar;
  private readonly index: BuildingIndex;
  private readonly active = new Map<number, Incident>();
  private watch?: SignalWatch;
  private outbox?: IncidentOutbox;
  private wakeTimer?: Timer;
  private holidayTimer?: Timer;
  private running = false;
  /** Incidents whose only change is a member signal's state (a flapping detector): written later, not with a disk sync per flap. */
  private readonly unsaved = new Set<number>();

  constructor(private readonly options: RunbookEngineOptions) {
    this.calendar = new WorkingCalendar(options.config.building.calendar, options.config.building.site.timezone);
    this.index = new BuildingIndex(options.config.building);
  }

  async start(): Promise<void> {
    const { records, events, clock, log, config } = this.options;
    this.repo = new IncidentRepository(records.db);
    this.watch = new SignalWatch(this.repo);
    const b = config.building;
    this.outbox = new IncidentOutbox({ site: b.site.id, duty: b.duty, calendar: this.calendar, clock, log, sinks: this.options.sinks ?? buildSinks(b, log), onDelivery: (u) => this.onDelivery(u) });
    for (const incident of this.repo.loadActive()) {
      this.active.set(incident.id, incident);
      this.outbox.resume(incident);
      if (!config.runbooks.has(incident.runbook)) log.error({ incident: incident.id, runbook: incident.runbook }, 'incident follows a runbook that is no longer configured: listed, not timed');
    }
    this.running = true;
    this.outbox.flush();
    events.on(OWNER, 'signal.state', (s) => this.onSignal(s));
    events.on(OWNER, 'alarm.changed', (c) => this.onAlarm(c));
    this.checkHolidays();
    this.processDue();
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const id of this.unsaved) {
      const incident = this.active.get(id);
      if (incident) this.store().update(incident);
    }
    this.unsaved.clear();
    this.options.events.removeOwner(OWNER);
    this.wakeTimer?.cancel();
    this.holidayTimer?.cancel();
    this.outbox?.stop();
  }

  health(): ComponentHealth {
    return ok(`${this.options.config.runbooks.size} runbooks, ${this.active.size} active incidents`);
  }

  // ---- IncidentService ------------------------------------------------------

  runbooks(): RunbookSummary[] {
    return [...this.options.config.runbooks.values()].map(runbookSummary);
  }

  list(filter: 'active' | 'all' | IncidentState = 'active'): Incident[] {
    if (filter === 'active') return [...this.active.values()].sort((a, b) => a.priority - b.priority || b.openedAt - a.openedAt);
    return this.store().list(filter === 'all' ? undefined : filter);
  }

  get(id: number): Incident | undefined {
    return this.active.get(id) ?? this.store().get(id);
  }

  startRunbook(runbookId: string, by: Actor, input: StartInput): Incident {
    const rb = this.options.config.runbooks.get(runbookId);
    if (!rb) throw new IncidentError('BOHUB_RUNBOOK_NOT_FOUND', `no runbook "${runbookId}"`, 404);
    checkManualStart(rb, by, input, this.index);
    const trigger = rb.trigger;
    const now = this.options.clock.now();
    // A manual runbook opens one incident per start (two thefts are two incidents);
    // a signal runbook started by hand shares its key with the signal's incidents.
    const key = trigger.type === 'signal' ? incidentKey(rb, input.tower) : `${rb.id}:${input.tower ?? 'site'}:${now}`;
    const open = this.openWithKey(key);
    if (open) throw new IncidentError('BOHUB_INCIDENT_STATE', `incident ${open.id} is already open for this (${key})`, 409);
    return this.open(rb, key, by.username, { tower: input.tower, fields: input.fields ?? {}, units: input.units ?? [], level: input.level, note: input.note, actor: by.username });
  }

  completeStep(id: number, stepKey: string, by: Actor, input: StepInput): Incident {
    const incident = this.mustGet(id);
    const step = incident.steps.find((s) => s.key === stepKey);
    if (!step) throw new IncidentError('BOHUB_INCIDENT_NOT_FOUND', `incident ${id} has no step "${stepKey}"`, 404);
    const ctx = this.context(incident);
    const now = this.options.clock.now();
    const actedBy = this.options.config.building.duty.roles.find((r) => r.id === step.role)?.actedBy ?? [];
    const done = completeStep(incident, step, ctx, by, input, actedBy, now);
    const what = done ? `completed ${step.key}` : `recorded ${step.value} for ${step.key}, below the ${step.valueMin} the handbook asks for; the step stays open`;
    incident.timeline.push({ at: now, by: by.username, what, ...(input.note ? { detail: input.note } : {}) });
    if (done) this.afterDone(incident, ctx, [step], now);
    this.settle(incident, ctx, now);
    return this.commit(incident, 'step', by.username, 'incident.step', { step: step.key, done, value: step.value, note: input.note, calls: input.calls?.length });
  }

  stabilise(id: number, by: Actor, note: string): Incident {
    const incident = this.mustGet(id);
    if (incident.state !== 'open') throw new IncidentError('BOHUB_INCIDENT_STATE', `incident ${id} is ${incident.state}, not open`, 409);
    this.markStabilised(incident, by.username, note);
    return this.commit(incident, 'stabilised', by.username, 'incident.stabilise', { note });
  }

  close(id: number, by: Actor, summary: string): Incident {
    const incident = this.mustGet(id);
    if (incident.state === 'closed') throw new IncidentError('BOHUB_INCIDENT_STATE', `incident ${id} is already closed`, 409);
    if (!summary.trim()) throw new IncidentError('BOHUB_BAD_REQUEST', 'summary: the written summary is required to close (handbook 第九节 一)', 400);
    const notDone = closeIncident(incident, this.context(incident), by.username, summary, this.options.clock.now());
    return this.commit(incident, 'closed', by.username, 'incident.close', { summary, notDone });
  }

  lobbyMessages(): LobbyMessage[] {
    return [...this.active.values()].flatMap((i) => i.lobby.filter((m) => m.until === undefined)).sort((a, b) => a.priority - b.priority || b.since - a.since);
  }

  // ---- signals and holidays ----------------------------------------------------

  /**
   * A signal changed. Incidents it belongs to follow its state (power back on, all
   * clear); a change into a trigger state opens or joins incidents (SignalWatch says
   * when). This listener runs after the alarm engine's: the alarm path never waits.
   */
  private onSignal(s: SignalState): void {
    const now = this.options.clock.now();
    const { changed, triggers } = this.watch!.signal(s, now);
    if (!changed) return;
    for (const incident of this.followed()) {
      const member = incident.signals.find((m) => m.signal === s.signal);
      const rb = this.options.config.runbooks.get(incident.runbook);
      if (!member || !rb || levelRank(rb, s.state) >= 0) continue; // a trigger state joins below, with its level
      member.state = s.state;
      member.lastAt = now;
      // The current state is on the member; the timeline records only what it brings
      // about, so a flapping detector cannot bloat the record.
      const [before, mark] = [fingerprint(incident), incident.timeline.length];
      this.settle(incident, this.context(incident), now);
      if (rb.stabiliseWhen === 'quiet' && incident.state === 'open' && incident.signals.every((m) => this.index.isQuiet(m.signal, m.state))) this.markStabilised(incident, 'system', 'every signal is back to normal');
      if (fingerprint(incident) === before) {
        this.unsaved.add(incident.id);
        continue;
      }
      incident.timeline.splice(mark, 0, { at: now, by: `signal:${s.signal}`, what: `${s.signal} is ${s.state}` });
      this.commit(incident, 'step', `signal:${s.signal}`, 'incident.signal', { signal: s.signal, state: s.state });
    }
    if (triggers) this.trigger(s.signal, s.kind, s.state, now);
  }

  private onAlarm(change: AlarmChange): void {
    const t = this.watch!.alarm(change);
    if (t) this.trigger(t.signal, t.kind, t.state, this.options.clock.now());
  }

  /** Opens an incident for every runbook the signal's state triggers, or joins the open one with its key. */
  private trigger(signal: string, kind: SignalKind, state: string, now: number): void {
    for (const rb of this.options.config.runbooks.values()) {
      const t = rb.trigger;
      if (t.type !== 'signal' || t.kind !== kind || (t.signals && !t.signals.includes(signal))) continue;
      if (!t.states.includes(state)) continue;
      const event: SignalState = { signal, kind, state, sourceTime: now, retained: false };
      const key = incidentKey(rb, this.index.towerOf(signal), signal);
      const open = this.openWithKey(key);
      if (open) this.join(open, rb, event, now);
      else this.open(rb, key, `signal:${signal}`, { tower: this.index.towerOf(signal), signal: event, units: this.index.unitsOf(signal), level: state });
    }
  }

  /** Opens the holiday notices that are due, now and at every local midnight (when they fall due). */
  private checkHolidays(): void {
    if (!this.running) return;
    const now = this.options.clock.now();
    for (const h of holidaysDue(this.options.config.runbooks.values(), this.calendar, now))
      if (!this.store().keyUsed(h.key)) this.open(h.rb, h.key, 'system', { fields: { holiday: h.name, date: h.date }, units: [], expiresAt: h.endAt });
    this.holidayTimer?.cancel();
    this.holidayTimer = this.options.clock.setTimeout(() => this.checkHolidays(), Math.min(this.calendar.nextMidnight(now) - now, MAX_TIMER_MS));
  }

  // ---- the incident's life --------------------------------------------------------

  private open(rb: Runbook, key: string, openedBy: string, init: { tower?: string; signal?: SignalState; fields?: Record<string, string>; units: string[]; level?: string; note?: string; actor?: string; expiresAt?: number }): Incident {
    const now = this.options.clock.now();
    const variant = this.calendar.variantAt(now);
    const draft = newIncident(rb, key, openedBy, { ...init, variant, contacts: this.index.contactsOf(init.units, variant) }, now);
    const incident = this.store().insert(draft);
    this.supersede(incident, now);
    this.active.set(incident.id, incident);
    this.options.metrics?.incidentsOpened.inc({ runbook: rb.id });
    const ctx = this.context(incident);
    addSteps(incident, ctx);
    const progress = advance(incident, ctx, now);
    for (const m of incident.lobby) m.incidentId = incident.id;
    // One notification at the start, to every role with an active step and those its steps name.
    const roles = progress.activated.flatMap((s) => [s.role, ...(rb.steps.find((d) => d.id === s.stepId)?.notify ?? [])]);
    this.notify(incident, 'opened', roles, notificationText.opened(incident, this.index.placeOf(incident), now, this.calendar));
    this.afterDone(incident, ctx, progress.done, now);
    return this.commit(incident, 'opened', init.actor ?? openedBy, 'incident.open', { runbook: rb.id, key, variant: incident.variant, fields: incident.fields });
  }

  private join(incident: Incident, rb: Runbook, s: SignalState, now: number): void {
    const member = incident.signals.find((m) => m.signal === s.signal);
    if (member) Object.assign(member, { state: s.state, lastAt: now });
    else incident.signals.push({ signal: s.signal, state: s.state, firstAt: now, lastAt: now });
    const rises = levelRank(rb, s.state) > levelRank(rb, incident.level);
    if (rises) incident.level = s.state;
    if (!member || rises) incident.timeline.push({ at: now, by: `signal:${s.signal}`, what: `${s.signal} ${member ? 'is' : 'joined as'} ${s.state}` });
    const ctx = this.context(incident);
    const before = fingerprint(incident);
    addSteps(incident, ctx);
    this.settle(incident, ctx, now);
    if (member && !rises && fingerprint(incident) === before) return void this.unsaved.add(incident.id);
    this.commit(incident, 'joined', `signal:${s.signal}`, 'incident.join', { signal: s.signal, state: s.state, level: incident.level });
  }

  /** A stabilised incident with the same key stops speaking on the lobby screens: "power restored" is wrong once it is lost again. */
  private supersede(next: Incident, now: number): void {
    for (const old of this.followed().filter((i) => i.key === next.key && i.state === 'stabilised')) {
      takeDownLobby(old, this.context(old), () => true, now);
      old.timeline.push({ at: now, by: 'system', what: `superseded by incident ${next.id}` });
      this.commit(old, 'step', 'system', 'incident.superseded', { by: next.id });
    }
  }

  private markStabilised(incident: Incident, by: string, note: string): void {
    const now = this.options.clock.now();
    const ctx = this.context(incident);
    incident.state = 'stabilised';
    incident.stabilisedAt = now;
    takeDownLobby(incident, ctx, (rule) => rule === 'stabilised', now);
    incident.timeline.push({ at: now, by, what: 'stabilised', detail: note });
    for (const step of endRepeats(incident, ctx)) incident.timeline.push({ at: now, by: 'system', what: `ended ${step.key}` });
    this.settle(incident, ctx, now);
  }

  /** Activates what became possible, notifies the newly active steps, and opens recurring rounds. */
  private settle(incident: Incident, ctx: StepContext, now: number): void {
    const progress: Progress = advance(incident, ctx, now);
    for (const step of progress.activated) {
      const def = ctx.runbook.steps.find((d) => d.id === step.stepId)!;
      this.notify(incident, 'step', [step.role, ...def.notify], notificationText.step(incident, step, this.calendar), step.key);
    }
    for (const step of progress.skipped) {
      incident.timeline.push({ at: now, by: 'system', what: `skipped ${step.key}` });
      for (const m of incident.lobby) if (m.stepKey === step.key && m.until === undefined) m.until = now;
    }
    this.afterDone(incident, ctx, progress.done, now);
  }

  private afterDone(incident: Incident, ctx: StepContext, done: IncidentStep[], now: number): void {
    for (const step of done) {
      if (step.doneBy?.startsWith('signal:')) incident.timeline.push({ at: now, by: step.doneBy, what: `completed ${step.key}` });
      takeDownLobby(incident, ctx, (rule) => rule === `step:${step.stepId}`, now);
      const next = nextRound(incident, step, ctx, now);
      if (next) this.notify(incident, 'step', [next.role], notificationText.step(incident, next, this.calendar), next.key);
    }
    if (done.length) this.settle(incident, ctx, now);
  }

  /** Applies what time has brought (escalations, working time, expiry), then sleeps until the next such moment. */
  private processDue(): void {
    if (!this.running) return;
    const now = this.options.clock.now();
    for (const incident of this.followed()) {
      const ctx = this.context(incident);
      const { escalations, variant, expired } = applyTime(incident, ctx, this.calendar, now);
      if (!escalations.length && !variant && !expired) continue;
      if (variant) {
        incident.timeline.push({ at: now, by: 'system', what: `${variant} time began` });
        this.settle(incident, ctx, now);
      }
      if (expired) incident.timeline.push({ at: now, by: 'system', what: `${expired} lobby message(s) expired` });
      if (escalations.length) this.options.metrics?.incidentEscalations.inc({ runbook: incident.runbook }, escalations.length);
      for (const e of escalations) {
        incident.escalations.push(e);
        const step = incident.steps.find((s) => s.key === e.stepKey)!;
        incident.timeline.push({ at: now, by: 'system', what: `escalated ${e.stepKey} to ${e.to.join(', ')} (level ${e.level})` });
        this.notify(incident, 'escalation', e.to, notificationText.escalation(incident, step, e.lateByMs), e.stepKey);
      }
      this.commit(incident, escalations.length ? 'escalated' : 'step', 'system', 'incident.time', { escalated: escalations.map((e) => e.stepKey), variant, expired });
    }
    this.schedule();
  }

  private schedule(): void {
    if (!this.running) return;
    this.wakeTimer?.cancel();
    const now = this.options.clock.now();
    let next = Infinity;
    for (const incident of this.followed()) next = Math.min(next, wakeAt(incident, this.context(incident), this.calendar, now) ?? Infinity);
    if (next === Infinity) return;
    this.wakeTimer = this.options.clock.setTimeout(() => this.processDue(), Math.min(Math.max(0, next - now), MAX_TIMER_MS));
  }

  // ---- storing, announcing, notifying ------------------------------------------------

  /** Stores the incident with its audit entry in one transaction, announces it, sends its notifications, re-arms the timer. */
  private commit(incident: Incident, change: IncidentChangeKind, actor: string, action: string, detail: Record<string, unknown>): Incident {
    const { records, events, clock } = this.options;
    const now = clock.now();
    incident.updatedAt = now;
    this.unsaved.delete(incident.id);
    records.transaction(() => {
      this.store().update(incident);
      records.appendAudit({ actor, action, subject: `incident:${incident.id}`, after: { runbook: incident.runbook, state: incident.state, ...detail }, at: now });
    });
    if (incident.state === 'closed') this.active.delete(incident.id);
    events.emit('incident.changed', { change, incident, at: now });
    this.outbox!.flush();
    this.schedule();
    return incident;
  }

  private notify(incident: Incident, reason: NotificationRecord['reason'], roles: string[], text: NotificationRecord['text'], stepKey?: string): void {
    this.outbox!.add(incident, reason, roles, text, stepKey);
  }

  private onDelivery(u: DeliveryUpdate): void {
    const incident = this.running ? this.get(u.incidentId) : undefined;
    if (!incident || !this.outbox!.apply(incident, u)) return;
    if (u.status === 'failed') this.options.metrics?.notificationFailures.inc({ sink: u.sink });
    this.commit(incident, 'notification', 'system', 'incident.notification', { notification: u.notificationId, sink: u.sink, status: u.status, attempts: u.attempts, error: u.lastError });
  }

  // ---- small helpers ------------------------------------------------------------------
  /** Active incidents whose runbook is still configured; one whose file was removed is listed but no longer timed. */
  private followed(): Incident[] {
    return [...this.active.values()].filter((i) => this.options.config.runbooks.has(i.runbook));
  }
  private context(incident: Incident): StepContext {
    const runbook = this.options.config.runbooks.get(incident.runbook);
    if (!runbook) throw new IncidentError('BOHUB_RUNBOOK_NOT_FOUND', `incident ${incident.id} follows runbook "${incident.runbook}", which is no longer configured`, 409);
    return { runbook, calendar: this.calendar, roleName: (r) => this.index.roleName(r), place: this.index.placeOf(incident), displaysFor: (screens, tower) => this.index.displaysFor(screens, tower) };
  }

  /** The open incident with this key; a stabilised one takes no new alarms (a real fire after a false alarm is a new incident). */
  private openWithKey(key: string): Incident | undefined {
    for (const incident of this.active.values()) if (incident.key === key && incident.state === 'open') return incident;
    return undefined;
  }

  private mustGet(id: number): Incident {
    return this.get(id) ?? throwError(new IncidentError('BOHUB_INCIDENT_NOT_FOUND', `no incident ${id}`, 404));
  }

  private store(): IncidentRepository {
    return this.repo ?? throwError(new IncidentError('BOHUB_INCIDENT_STATE', 'the runbook engine is not running', 503));
  }
}

function throwError(err: Error): never {
  throw err;
}
