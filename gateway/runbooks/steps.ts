import type { WorkingCalendar } from './calendar.ts';
import type { Runbook, RunbookStep } from './schema.ts';
import { IncidentError, type Actor, type Bilingual, type EscalationRecord, type Incident, type IncidentStep, type StepInput, type TimeVariant, type UnitContact } from './types.ts';
import type { SignalState } from '../events.ts';

// The step rules of an incident, as pure functions of the incident, its runbook and
// the time: which steps it has, when each becomes active, when it is due, what
// completes it and when it escalates. The engine (engine.ts) stores, notifies and
// times; nothing here does I/O.

export interface StepContext {
  runbook: Runbook;
  calendar: WorkingCalendar;
  roleName(role: string): Bilingual;
  /** Where it is, for the handbook's scripts ("火灾发生地点在***"). */
  place?: Bilingual;
  /** Display ids for a lobby effect. */
  displaysFor(screens: 'tower' | 'all', tower?: string): string[];
}

/** What changed in one pass, for notifications and the timeline. */
export interface Progress {
  activated: IncidentStep[];
  done: IncidentStep[];
  skipped: IncidentStep[];
}

const definition = (ctx: StepContext, step: IncidentStep): RunbookStep => ctx.runbook.steps.find((s) => s.id === step.stepId)!;

/** The rank of a trigger state in the runbook's list: the level reached is the highest. */
export function levelRank(runbook: Runbook, state: string | undefined): number {
  return runbook.trigger.type === 'signal' && state !== undefined ? runbook.trigger.states.indexOf(state) : -1;
}

/** Adds the runbook's steps that apply to the incident's time variant and level and are not there yet. */
export function addSteps(incident: Incident, ctx: StepContext): IncidentStep[] {
  const added: IncidentStep[] = [];
  for (const def of ctx.runbook.steps) {
    if (incident.steps.some((s) => s.stepId === def.id)) continue;
    if (def.when?.time && def.when.time !== incident.variant) continue;
    if (def.when?.states && !(incident.level !== undefined && def.when.states.includes(incident.level))) continue;
    const step = newStep(def, 1, ctx);
    incident.steps.push(step);
    added.push(step);
  }
  return added;
}

function newStep(def: RunbookStep, round: number, ctx: StepContext): IncidentStep {
  const c = def.complete;
  const script = def.script && ctx.place ? { zh: def.script.zh.replace('***', ctx.place.zh), en: def.script.en.replace('***', ctx.place.en) } : def.script;
  return {
    key: round === 1 ? def.id : `${def.id}#${round}`,
    stepId: def.id,
    round,
    role: def.role,
    roleName: ctx.roleName(def.role),
    title: def.title,
    text: def.text,
    ...(script ? { script } : {}),
    status: 'waiting',
    completeBy: c.by,
    ...(c.by === 'value' ? { valueLabel: c.label, valueType: c.type, ...(c.min !== undefined ? { valueMin: c.min } : {}), ...(c.choices ? { choices: c.choices } : {}) } : {}),
    values: [],
    calls: [],
    escalations: 0,
  };
}

/**
 * Activates every waiting step whose conditions are met and skips those that can no
 * longer be met, until nothing changes; completes signal steps whose signals are
 * already there, and opens the next round of a recurring step once its round is done.
 */
export function advance(incident: Incident, ctx: StepContext, now: number): Progress {
  const progress: Progress = { activated: [], done: [], skipped: [] };
  for (let changed = true; changed; ) {
    changed = false;
    for (const step of incident.steps) {
      if (step.status !== 'waiting') continue;
      const verdict = readiness(incident, definition(ctx, step));
      if (verdict === 'wait') continue;
      changed = true;
      if (verdict === 'skip') {
        step.status = 'skipped';
        progress.skipped.push(step);
        continue;
      }
      activate(incident, step, ctx, now);
      progress.activated.push(step);
    }
    for (const step of incident.steps) {
      if (step.status === 'active' && cancelled(incident, definition(ctx, step))) {
        step.status = 'skipped';
        step.nextEscalationAt = undefined;
        progress.skipped.push(step);
        changed = true;
        continue;
      }
      if (step.status === 'active' && step.completeBy === 'signal' && signalsReached(incident, definition(ctx, step))) {
        markDone(step, `signal:${incident.signals.map((s) => s.signal).join(',')}`, now);
        progress.done.push(step);
        changed = true;
      }
    }
  }
  return progress;
}

type Readiness = 'ready' | 'wait' | 'skip';

const latestOf = (incident: Incident, id: string) => incident.steps.filter((s) => s.stepId === id).at(-1);

/** An `unless` condition holds: the step has become pointless. */
function cancelled(incident: Incident, def: RunbookStep): boolean {
  return def.unless.some((cond) => {
    const [id, wanted] = cond.split('=') as [string, string];
    const dep = latestOf(incident, id);
    return dep?.status === 'done' && String(dep.value) === wanted;
  });
}

function readiness(incident: Incident, def: RunbookStep): Readiness {
  if (cancelled(incident, def)) return 'skip';
  const latest = (id: string) => latestOf(incident, id);
  for (const cond of def.after) {
    if (cond === '@stabilised') {
      if (incident.state === 'open') return 'wait';
      continue;
    }
    const [id, wanted] = cond.split('=') as [string, string | undefined];
    const dep = latest(id);
    if (!dep || dep.status === 'waiting' || dep.status === 'active') return 'wait';
    if (dep.status === 'skipped') return 'skip';
    if (wanted !== undefined && String(dep.value) !== wanted) return 'skip';
  }
  const from = def.deadline?.from;
  if (from === 'stabilised' && incident.state === 'open') return 'wait';
  if (from && !['start', 'activated', 'stabilised'].includes(from)) {
    const dep = latest(from);
    if (!dep || dep.status === 'skipped') return dep ? 'skip' : 'wait';
    if (dep.status !== 'done') return 'wait';
  }
  return 'ready';
}

function activate(incident: Incident, step: IncidentStep, ctx: StepContext, now: number): void {
  const def = definition(ctx, step);
  step.status = 'active';
  step.activatedAt = now;
  const due = dueAt(incident, def, ctx, now);
  if (due !== undefined) {
    step.dueAt = due;
    step.nextEscalationAt = due;
  }
  if (def.lobby) {
    // {{find-cause}}: the value that step recorded (第九节 五: the screens explain the cause).
    const fill = (text: string) => text.replace(/\{\{([^}]+)\}\}/g, (_, id: string) => String(latestOf(incident, id)?.value ?? '…'));
    const text = { zh: fill(def.lobby.text.zh), en: fill(def.lobby.text.en) };
    incident.lobby.push({ incidentId: incident.id, stepKey: step.key, screens: ctx.displaysFor(def.lobby.screens, incident.tower), priority: def.lobby.priority, text, since: now });
  }
}

function dueAt(incident: Incident, def: RunbookStep, ctx: StepContext, now: number): number | undefined {
  const d = def.deadline;
  if (!d) return undefined;
  const base =
    d.from === 'start' ? incident.openedAt
    : d.from === 'activated' ? now
    : d.from === 'stabilised' ? (incident.stabilisedAt ?? now)
    : (incident.steps.filter((s) => s.stepId === d.from).at(-1)?.doneAt ?? now);
  return d.workingDays !== undefined ? ctx.calendar.addWorkingDays(base, d.workingDays) : base + d.within!;
}

function signalsReached(incident: Incident, def: RunbookStep): boolean {
  const c = def.complete;
  return c.by === 'signal' && incident.signals.length > 0 && incident.signals.every((s) => c.states.includes(s.state));
}

function markDone(step: IncidentStep, by: string, now: number): void {
  step.status = 'done';
  step.doneAt = now;
  step.doneBy = by;
  step.nextEscalationAt = undefined;
}

/**
 * A person completes a step (or records a value that is not yet enough). Throws
 * IncidentError for a step that is not active, a role that may not act for it, or a
 * missing or wrong value. Returns whether the step is now done.
 */
export function completeStep(incident: Incident, step: IncidentStep, ctx: StepContext, actor: Actor, input: StepInput, actedBy: readonly string[], now: number): boolean {
  if (incident.state === 'closed') throw new IncidentError('BOHUB_INCIDENT_STATE', `incident ${incident.id} is closed`, 409);
  if (step.status !== 'active') {
    const why = step.status === 'waiting' ? `waits for ${definition(ctx, step).after.join(', ') || 'its deadline step'}` : `is ${step.status}`;
    throw new IncidentError('BOHUB_INCIDENT_STATE', `step "${step.key}" ${why}`, 409);
  }
  if (actor.role !== 'admin' && !actedBy.includes(actor.role))
    throw new IncidentError('BOHUB_FORBIDDEN', `step "${step.key}" is for the ${step.roleName.en} (${step.role}); the role ${actor.role} may not complete it`, 403);
  const def = definition(ctx, step);
  if (input.note !== undefined) step.note = input.note;
  const c = def.complete;
  if (c.by === 'value') {
    const value = checkedValue(c, input.value, step.key);
    step.value = value;
    step.values.push({ value, by: actor.username, at: now });
    // handbook 第九节 一.1: "no fewer than three people" – a lower count is recorded, and the step stays open.
    if (c.min !== undefined && typeof value === 'number' && value < c.min) return false;
  }
  if (c.by === 'calls') {
    if (!input.calls?.length) throw new IncidentError('BOHUB_BAD_REQUEST', `step "${step.key}" records the calls made: calls is required`, 400);
    for (const call of input.calls) step.calls.push({ ...call, at: call.at ?? now, by: actor.username });
    // A later "director decides whether to unlock" step waits for nobody having answered (第九节 六.3).
    step.value = step.calls.some((c) => c.outcome === 'answered') ? 'answered' : 'no-answer';
  }
  markDone(step, actor.username, now);
  return true;
}

function checkedValue(c: Extract<RunbookStep['complete'], { by: 'value' }>, value: unknown, key: string): string | number {
  const bad = (why: string) => new IncidentError('BOHUB_BAD_REQUEST', `step "${key}" records ${c.label.en}: ${why}`, 400);
  if (value === undefined || value === null || value === '') throw bad('value is required');
  if (c.type === 'number') {
    const n = typeof value === 'number' ? value : Number(value);
    if (!Number.isFinite(n)) throw bad('value must be a number');
    return n;
  }
  const text = String(value).trim();
  if (c.type === 'choice' && !c.choices!.some((ch) => ch.id === text)) throw bad(`value must be one of ${c.choices!.map((ch) => ch.id).join(', ')}`);
  if (!text) throw bad('value is required');
  return text;
}

/** The next round of a recurring step, due `every` after the last round was done. */
export function nextRound(incident: Incident, step: IncidentStep, ctx: StepContext, now: number): IncidentStep | undefined {
  const def = definition(ctx, step);
  if (!def.repeat || incident.state === 'closed' || (def.repeat.until === 'stabilised' && incident.state !== 'open')) return undefined;
  const next = newStep(def, step.round + 1, ctx);
  next.status = 'active';
  next.activatedAt = now;
  // "At least once a day" (第九节 二.1) counts from the last relay, not from when it was due.
  next.dueAt = (step.doneAt ?? now) + def.repeat.every;
  next.nextEscalationAt = next.dueAt;
  incident.steps.push(next);
  return next;
}

/** Escalations due by `now`: each overdue active step escalates once, then again every `escalate.every`. */
export function dueEscalations(incident: Incident, ctx: StepContext, now: number): EscalationRecord[] {
  const out: EscalationRecord[] = [];
  for (const step of incident.steps) {
    if (step.status !== 'active' || step.nextEscalationAt === undefined || step.nextEscalationAt > now) continue;
    const def = definition(ctx, step);
    step.escalations++;
    // Without an escalation rule the step's own role is reminded that it is late.
    out.push({ at: now, stepKey: step.key, level: step.escalations, to: def.escalate?.to ?? [step.role], lateByMs: now - step.dueAt! });
    const every = def.escalate?.every;
    // After a restart long past the deadline, escalate once now, not once per missed interval.
    if (every === undefined) step.nextEscalationAt = undefined;
    else step.nextEscalationAt = step.nextEscalationAt + every > now ? step.nextEscalationAt + every : now + every;
  }
  return out;
}

/** The earliest time an active step escalates, if any. */
export function nextWake(incident: Incident): number | undefined {
  let next: number | undefined;
  for (const s of incident.steps) if (s.status === 'active' && s.nextEscalationAt !== undefined) next = Math.min(next ?? Infinity, s.nextEscalationAt);
  return next;
}

/** Takes down the lobby messages one of whose `until` rules matches ('closed', 'stabilised', 'expired' or 'step:<id>'). */
export function takeDownLobby(incident: Incident, ctx: StepContext, until: (rule: string) => boolean, now: number): number {
  let n = 0;
  for (const m of incident.lobby) {
    if (m.until !== undefined) continue;
    const step = incident.steps.find((s) => s.key === m.stepKey);
    const rules = step ? (definition(ctx, step).lobby?.until ?? ['closed']) : ['closed'];
    if (rules.some(until)) {
      m.until = now;
      n++;
    }
  }
  return n;
}

/** At stabilisation, the open rounds of steps that repeat only until then (the weather relay) end. */
export function endRepeats(incident: Incident, ctx: StepContext): IncidentStep[] {
  const ended: IncidentStep[] = [];
  for (const step of incident.steps) {
    if (step.status !== 'active' || definition(ctx, step).repeat?.until !== 'stabilised') continue;
    step.status = 'skipped';
    step.nextEscalationAt = undefined;
    ended.push(step);
  }
  return ended;
}

/** Closes the incident with its written summary; every lobby message comes down. Returns the steps not done. */
export function closeIncident(incident: Incident, ctx: StepContext, by: string, summary: string, now: number): string[] {
  incident.state = 'closed';
  incident.closedAt = now;
  incident.closedBy = by;
  incident.report = { summary, by, at: now };
  takeDownLobby(incident, ctx, () => true, now);
  const notDone = incident.steps.filter((s) => s.status === 'active' || s.status === 'waiting').map((s) => s.key);
  incident.timeline.push({ at: now, by, what: 'closed', ...(notDone.length ? { detail: `not done at close: ${notDone.join(', ')}` } : {}) });
  return notDone;
}

/** What a pass of the rules can change: the timeline, the steps and their states, the state. */
export function fingerprint(incident: Incident): string {
  return `${incident.timeline.length}:${incident.steps.length}:${incident.state}:${incident.steps.filter((s) => s.status === 'done' || s.status === 'skipped').length}`;
}

export interface IncidentStart {
  variant: TimeVariant;
  contacts: UnitContact[];
  units: string[];
  tower?: string;
  signal?: SignalState;
  fields?: Record<string, string>;
  level?: string;
  expiresAt?: number;
  note?: string;
}

/** A new incident of the runbook, before it has an id or steps. */
export function newIncident(rb: Runbook, key: string, openedBy: string, init: IncidentStart, now: number): Omit<Incident, 'id'> {
  return {
    runbook: rb.id, title: rb.title, handbook: rb.handbook, priority: rb.priority, state: 'open',
    variant: init.variant, key, openedAt: now, openedBy,
    ...(init.tower ? { tower: init.tower } : {}),
    ...(init.level !== undefined ? { level: init.level } : {}),
    ...(init.expiresAt !== undefined ? { expiresAt: init.expiresAt } : {}),
    signals: init.signal ? [{ signal: init.signal.signal, state: init.signal.state, firstAt: now, lastAt: now }] : [],
    fields: init.fields ?? {}, units: init.units, contacts: init.contacts,
    steps: [], escalations: [], notifications: [], lobby: [],
    timeline: [{ at: now, by: openedBy, what: `opened (${init.variant} time)`, ...(init.note ? { detail: init.note } : {}) }],
    updatedAt: now,
  };
}
