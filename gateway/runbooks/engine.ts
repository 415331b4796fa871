import type { Clock, Timer } from '../clock.ts';
import type { LoadedConfig } from '../config/load.ts';
import { ALARM_OF_SIGNAL_KIND, type AlarmChange } from '../alarms/types.ts';
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
import { addSteps, advance, completeStep, dueEscalations, levelRank, nextRound, nextWake, takeDownLobby, type Progress, type StepContext } from './steps.ts';
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
/** Holiday runbooks are checked this often (and at start). */
const HOLIDAY_CHECK_MS = 3_600_000;
/** Node timers overflow past 2^31-1 ms; a later wake is re-armed on the way. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class RunbookEngine implements Plugin, IncidentService {
  readonly name = 'runbooks';
  private repo?: IncidentRepository;
  private readonly calendar: WorkingCalendar;
  private readonly index: BuildingIndex;
  private readonly active = new Map<number, Incident>();
  private signalStates = new Map<string, string>();
  /** Safety signals whose alarm is active and calls people out (not shelved, no maintenance window). */
  private readonly alarmActive = new Set<string>();
  private outbox?: IncidentOutbox;
  private wakeTimer?: Timer;
  private holidayTimer?: Timer;
  private running = false;

  constructor(private readonly options: RunbookEngineOptions) {
    const b = options.config.building;
    this.calendar = new WorkingCalendar(b.calendar, b.site.timezone);
    this.index = new BuildingIndex(b);
  }

  async start(): Promise<void> {
    const { records, events, clock, log, config } = this.options;
    this.repo = new IncidentRepository(records.db);
    this.signalStates = this.repo.loadSignalStates();
    const b = config.building;
    this.outbox = new IncidentOutbox({ site: b.site.id, duty: b.duty, calendar: this.calendar, clock, log, sinks: this.options.sinks ?? buildSinks(b, log), onDelivery: (u) => this.onDelivery(u) });
    for (const incident of this.repo.loadActive()) {
      this.active.set(incident.id, incident);
      this.outbox.resume(incident);
    }
    this.running = true;
    this.outbox.flush();
    events.on(OWNER, 'signal.state', (s) => this.onSignal(s));
    events.on(OWNER, 'alarm.changed', (c) => this.onAlarm(c));
    this.checkHolidays();
    this.holidayTimer = clock.setInterval(() => this.checkHolidays(), HOLIDAY_CHECK_MS);
    this.processDue();
  }

  async stop(): Promise<void> {
    this.running = false;
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
    const now = this.options.clock.now();
    const ctx = this.context(incident);
    incident.state = 'closed';
    incident.closedAt = now;
    incident.closedBy = by.username;
    incident.report = { summary, by: by.username, at: now };
    takeDownLobby(incident, ctx, () => true, now);
    const open = incident.steps.filter((s) => s.status === 'active' || s.status === 'waiting').map((s) => s.key);
    incident.timeline.push({ at: now, by: by.username, what: 'closed', ...(open.length ? { detail: `not done at close: ${open.join(', ')}` } : {}) });
    return this.commit(incident, 'closed', by.username, 'incident.close', { summary, notDone: open });
  }

  lobbyMessages(): LobbyMessage[] {
    const out: LobbyMessage[] = [];
    for (const incident of this.active.values()) for (const m of incident.lobby) if (m.until === undefined) out.push(m);
    return out.sort((a, b) => a.priority - b.priority || b.since - a.since);
  }

  // ---- signals and holidays ----------------------------------------------------

  /**
   * A signal changed. Incidents it belongs to follow its state (power back on, all
   * clear). A weather signal raises no alarm, so its change opens or joins incidents
   * here. A safety signal does so only while its alarm is active: the alarm engine
   * has already rejected replays and splashes (on-delays, chatter), and this
   * listener runs after it, so the alarm path never waits for an incident.
   */
  private onSignal(s: SignalState): void {
    const prev = this.signalStates.get(s.signal);
    if (prev === s.state) return; // a retained replay or a repeat: nothing changed
    const now = this.options.clock.now();
    this.signalStates.set(s.signal, s.state);
    const alarmed = s.kind in ALARM_OF_SIGNAL_KIND;
    // Weather has no alarm to recognise a replay after a restart: its last state is kept.
    if (!alarmed) this.store().saveSignalState(s.signal, s.state, now);
    for (const incident of [...this.active.values()]) {
      const member = incident.signals.find((m) => m.signal === s.signal);
      const rb = this.options.config.runbooks.get(incident.runbook);
      if (!member || !rb || levelRank(rb, s.state) >= 0) continue; // a trigger state joins below, with its level
      member.state = s.state;
      member.lastAt = now;
      incident.timeline.push({ at: now, by: `signal:${s.signal}`, what: `${s.signal} is ${s.state}` });
      this.settle(incident, this.context(incident), now);
      if (rb.stabiliseWhen === 'quiet' && incident.state === 'open' && incident.signals.every((m) => this.index.isQuiet(m.signal, m.state))) this.markStabilised(incident, 'system', 'every signal is back to normal');
      this.commit(incident, 'step', `signal:${s.signal}`, 'incident.signal', { signal: s.signal, state: s.state });
    }
    if (!alarmed || this.alarmActive.has(s.signal)) this.trigger(s.signal, s.kind, s.state, now);
  }

  /**
   * A safety alarm changed. Raised (or raised again) with its signal's state already
   * known (a leak after its on-delay), its runbooks open or join an incident now;
   * otherwise the signal's own change, which follows at once, does it (onSignal).
   */
  private onAlarm(change: AlarmChange): void {
    const { alarm } = change;
    const kind = (Object.keys(ALARM_OF_SIGNAL_KIND) as SignalKind[]).find((k) => ALARM_OF_SIGNAL_KIND[k as keyof typeof ALARM_OF_SIGNAL_KIND] === alarm.kind);
    if (!kind) return;
    // Shelved or in a maintenance window: recorded by the alarm engine, nobody is called out.
    const calling = alarm.active && change.notify;
    const was = this.alarmActive.has(alarm.source);
    if (calling) this.alarmActive.add(alarm.source);
    else this.alarmActive.delete(alarm.source);
    const state = this.signalStates.get(alarm.source);
    if (calling && !was && state !== undefined) this.trigger(alarm.source, kind, state, this.options.clock.now());
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

  private checkHolidays(): void {
    for (const h of holidaysDue(this.options.config.runbooks.values(), this.calendar, this.options.clock.now()))
      if (!this.store().keyUsed(h.key)) this.open(h.rb, h.key, 'system', { fields: { holiday: h.name, date: h.date }, units: [] });
  }

  // ---- the incident's life --------------------------------------------------------

  private open(rb: Runbook, key: string, openedBy: string, init: { tower?: string; signal?: SignalState; fields?: Record<string, string>; units: string[]; level?: string; note?: string; actor?: string }): Incident {
    const now = this.options.clock.now();
    const draft: Omit<Incident, 'id'> = {
      runbook: rb.id, title: rb.title, handbook: rb.handbook, priority: rb.priority, state: 'open',
      variant: this.calendar.variantAt(now), key, openedAt: now, openedBy,
      ...(init.tower ? { tower: init.tower } : {}),
      ...(init.level !== undefined ? { level: init.level } : {}),
      signals: init.signal ? [{ signal: init.signal.signal, state: init.signal.state, firstAt: now, lastAt: now }] : [],
      fields: init.fields ?? {}, units: init.units, contacts: this.index.contactsOf(init.units, this.calendar.variantAt(now)),
      steps: [], escalations: [], notifications: [], lobby: [],
      timeline: [{ at: now, by: openedBy, what: `opened (${this.calendar.variantAt(now)} time)`, ...(init.note ? { detail: init.note } : {}) }],
      updatedAt: now,
    };
    const incident = this.store().insert(draft);
    this.active.set(incident.id, incident);
    this.options.metrics?.incidentsOpened.inc({ runbook: rb.id });
    const ctx = this.context(incident);
    addSteps(incident, ctx);
    const progress = advance(incident, ctx, now);
    for (const m of incident.lobby) m.incidentId = incident.id;
    // One notification at the start, to every role with an active step and those its steps name.
    const roles = new Set<string>();
    for (const s of progress.activated) for (const r of [s.role, ...(rb.steps.find((d) => d.id === s.stepId)?.notify ?? [])]) roles.add(r);
    this.notify(incident, 'opened', [...roles], notificationText.opened(incident, this.index.placeOf(incident), now, this.calendar));
    this.afterDone(incident, ctx, progress.done, now);
    return this.commit(incident, 'opened', init.actor ?? openedBy, 'incident.open', { runbook: rb.id, key, variant: incident.variant, fields: incident.fields });
  }

  private join(incident: Incident, rb: Runbook, s: SignalState, now: number): void {
    const member = incident.signals.find((m) => m.signal === s.signal);
    if (member) Object.assign(member, { state: s.state, lastAt: now });
    else incident.signals.push({ signal: s.signal, state: s.state, firstAt: now, lastAt: now });
    if (levelRank(rb, s.state) > levelRank(rb, incident.level)) incident.level = s.state;
    if (incident.state === 'stabilised') {
      incident.state = 'open';
      incident.stabilisedAt = undefined;
      incident.timeline.push({ at: now, by: `signal:${s.signal}`, what: 're-opened' });
    }
    incident.timeline.push({ at: now, by: `signal:${s.signal}`, what: `${s.signal} ${member ? 'is' : 'joined as'} ${s.state}` });
    const ctx = this.context(incident);
    addSteps(incident, ctx);
    this.settle(incident, ctx, now);
    this.commit(incident, 'joined', `signal:${s.signal}`, 'incident.join', { signal: s.signal, state: s.state, level: incident.level });
  }

  private markStabilised(incident: Incident, by: string, note: string): void {
    const now = this.options.clock.now();
    const ctx = this.context(incident);
    incident.state = 'stabilised';
    incident.stabilisedAt = now;
    takeDownLobby(incident, ctx, (rule) => rule === 'stabilised', now);
    incident.timeline.push({ at: now, by, what: 'stabilised', detail: note });
    this.settle(incident, ctx, now);
  }

  /** Activates what became possible, notifies the newly active steps, and opens recurring rounds. */
  private settle(incident: Incident, ctx: StepContext, now: number): void {
    const progress: Progress = advance(incident, ctx, now);
    for (const step of progress.activated) {
      const def = ctx.runbook.steps.find((d) => d.id === step.stepId)!;
      this.notify(incident, 'step', [step.role, ...def.notify], notificationText.step(incident, step, this.calendar), step.key);
    }
    for (const step of progress.skipped) incident.timeline.push({ at: now, by: 'system', what: `skipped ${step.key}` });
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

  /** Escalates every overdue step, then sleeps until the next deadline. */
  private processDue(): void {
    if (!this.running) return;
    const now = this.options.clock.now();
    for (const incident of [...this.active.values()]) {
      const ctx = this.context(incident);
      const due = dueEscalations(incident, ctx, now);
      if (!due.length) continue;
      this.options.metrics?.incidentEscalations.inc({ runbook: incident.runbook }, due.length);
      for (const e of due) {
        incident.escalations.push(e);
        const step = incident.steps.find((s) => s.key === e.stepKey)!;
        incident.timeline.push({ at: now, by: 'system', what: `escalated ${e.stepKey} to ${e.to.join(', ')} (level ${e.level})` });
        this.notify(incident, 'escalation', e.to, notificationText.escalation(incident, step, e.lateByMs), e.stepKey);
      }
      this.commit(incident, 'escalated', 'system', 'incident.escalate', { steps: due.map((e) => e.stepKey) });
    }
    this.schedule();
  }

  private schedule(): void {
    if (!this.running) return;
    this.wakeTimer?.cancel();
    let next: number | undefined;
    for (const incident of this.active.values()) {
      const t = nextWake(incident);
      if (t !== undefined) next = Math.min(next ?? Infinity, t);
    }
    if (next === undefined) return;
    const delay = Math.min(Math.max(0, next - this.options.clock.now()), MAX_TIMER_MS);
    this.wakeTimer = this.options.clock.setTimeout(() => this.processDue(), delay);
  }

  // ---- storing, announcing, notifying ------------------------------------------------

  /** Stores the incident with its audit entry in one transaction, announces it, sends its notifications, re-arms the timer. */
  private commit(incident: Incident, change: IncidentChangeKind, actor: string, action: string, detail: Record<string, unknown>): Incident {
    const { records, events, clock } = this.options;
    const now = clock.now();
    incident.updatedAt = now;
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

  private context(incident: Incident): StepContext {
    const runbook = this.options.config.runbooks.get(incident.runbook);
    if (!runbook) throw new IncidentError('BOHUB_RUNBOOK_NOT_FOUND', `incident ${incident.id} follows runbook "${incident.runbook}", which is no longer configured`, 409);
    return { runbook, calendar: this.calendar, roleName: (r) => this.index.roleName(r), place: this.index.placeOf(incident), displaysFor: (screens, tower) => this.index.displaysFor(screens, tower) };
  }

  private openWithKey(key: string): Incident | undefined {
    for (const incident of this.active.values()) if (incident.key === key) return incident;
    return undefined;
  }

  private mustGet(id: number): Incident {
    const incident = this.get(id);
    if (!incident) throw new IncidentError('BOHUB_INCIDENT_NOT_FOUND', `no incident ${id}`, 404);
    return incident;
  }

  private store(): IncidentRepository {
    if (!this.repo) throw new IncidentError('BOHUB_INCIDENT_STATE', 'the runbook engine is not running', 503);
    return this.repo;
  }
}

