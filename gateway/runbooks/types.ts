import type { Role } from '../config/schema.ts';

// The incident record and what the engine offers, shared by the engine, the HTTP
// routes, the socket.io event map, the report and the dashboard. An incident is one
// run of one runbook (schema.ts); it carries copies of its steps' texts, so the
// record stays readable even after the runbook file changes.

export interface Bilingual {
  zh: string;
  en: string;
}

/** open → stabilised → closed (with the written report). */
export type IncidentState = 'open' | 'stabilised' | 'closed';

/** Working time is office-shift hours on a working day (handbook 第一节 一; 第九节). */
export type TimeVariant = 'working' | 'non-working';

/**
 *   waiting   its `after` steps are not done yet
 *   active    shown to its role, with its countdown
 *   done      completed (by a person or a signal)
 *   skipped   its condition can no longer be met (a "verify=false-alarm" step after a real fire)
 */
export type StepStatus = 'waiting' | 'active' | 'done' | 'skipped';

export interface CallRecord {
  name: string;
  phone: string;
  /** 'answered', 'no-answer', 'busy', 'wrong-number'. */
  outcome: 'answered' | 'no-answer' | 'busy' | 'wrong-number';
  at: number;
  by: string;
  note?: string;
}

/** A contact to phone, from the tenant directory (handbook 附件14 and 业户通讯录). */
export interface UnitContact {
  unit: string;
  company: string;
  name: string;
  phone: string;
  mobile?: string;
  /** 'office' or 'afterHours' contact. */
  hours: 'office' | 'afterHours';
}

export interface IncidentStep {
  /** The step id, or `<id>#<round>` for the later rounds of a recurring step: unique in the incident. */
  key: string;
  stepId: string;
  round: number;
  /** Duty role id and its name. */
  role: string;
  roleName: Bilingual;
  title: Bilingual;
  text: Bilingual;
  script?: Bilingual;
  status: StepStatus;
  /** How it is completed: 'role', 'value', 'signal' or 'calls'; for values, what to record. */
  completeBy: 'role' | 'value' | 'signal' | 'calls';
  valueLabel?: Bilingual;
  valueType?: 'number' | 'text' | 'choice';
  valueMin?: number;
  choices?: Array<{ id: string; label: Bilingual }>;
  activatedAt?: number;
  /** ms epoch of the deadline; the countdown is dueAt - now. */
  dueAt?: number;
  doneAt?: number;
  /** A username, or `signal:<id>` when a signal completed it. */
  doneBy?: string;
  note?: string;
  /** The last recorded value (a step with `min` stays active while it is below). */
  value?: string | number;
  /** Every value recorded, with who and when. */
  values: Array<{ value: string | number; by: string; at: number }>;
  calls: CallRecord[];
  /** Times it escalated; the next escalation time while it stays open past its deadline. */
  escalations: number;
  nextEscalationAt?: number;
}

export interface EscalationRecord {
  at: number;
  stepKey: string;
  /** 1 for the first escalation of the step, 2 for its first repeat, ... */
  level: number;
  to: string[];
  /** How late the step was, in ms. */
  lateByMs: number;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface NotificationRecord {
  id: string;
  at: number;
  reason: 'opened' | 'step' | 'escalation' | 'stabilised' | 'closed';
  stepKey?: string;
  /** Duty role ids, and the people on duty for them now (from the roster). */
  roles: string[];
  recipients: Array<{ role: string; name: string; phone: string }>;
  text: Bilingual;
  /** One delivery per sink ('log', 'webhook'). */
  deliveries: Array<{ sink: string; status: DeliveryStatus; attempts: number; lastError?: string; deliveredAt?: number }>;
}

export interface LobbyMessage {
  incidentId: number;
  stepKey: string;
  /** Display ids from the building's `displays`. */
  screens: string[];
  priority: number;
  text: Bilingual;
  since: number;
  /** Set once taken down. */
  until?: number;
}

export interface TimelineEntry {
  at: number;
  /** A username, `signal:<id>`, or 'system'. */
  by: string;
  what: string;
  detail?: string;
}

export interface Incident {
  id: number;
  runbook: string;
  title: Bilingual;
  handbook: string;
  priority: number;
  state: IncidentState;
  variant: TimeVariant;
  /** The dedupe key: one open incident per key (runbook + tower, site or signal). */
  key: string;
  tower?: string;
  openedAt: number;
  openedBy: string;
  stabilisedAt?: number;
  closedAt?: number;
  closedBy?: string;
  /** When what triggered it ends (the day after a holiday): lobby messages `until: expired` come down then. */
  expiresAt?: number;
  /** The trigger state that reached furthest (typhoon "4"); steps with `when.states` follow it. */
  level?: string;
  /** Every signal that opened or joined it, with its current state. */
  signals: Array<{ signal: string; state: string; firstAt: number; lastAt: number }>;
  /** Facts recorded at a manual start (caller, place, ...). */
  fields: Record<string, string>;
  /** Affected units, and their contacts from the tenant directory. */
  units: string[];
  contacts: UnitContact[];
  steps: IncidentStep[];
  escalations: EscalationRecord[];
  notifications: NotificationRecord[];
  lobby: LobbyMessage[];
  timeline: TimelineEntry[];
  /** The written summary the handbook asks for (第九节 一: to the director within 2 days). */
  report?: { summary: string; by: string; at: number };
  updatedAt: number;
}

export type IncidentChangeKind = 'opened' | 'joined' | 'step' | 'escalated' | 'stabilised' | 'closed' | 'notification';

/** The 'incident.changed' event: every change, at once, never coalesced. */
export interface IncidentChange {
  change: IncidentChangeKind;
  incident: Incident;
  at: number;
}

/** Who is acting: the logged-in user and their hub role. */
export interface Actor {
  username: string;
  role: Role;
}

export interface StepInput {
  note?: string;
  value?: string | number;
  calls?: Array<Omit<CallRecord, 'by' | 'at'> & { at?: number }>;
}

export interface StartInput {
  /** For a runbook grouped by tower: which tower. */
  tower?: string;
  fields?: Record<string, string>;
  units?: string[];
  /** For a signal runbook started by hand (the weather relayed by phone): the level, e.g. typhoon "3". */
  level?: string;
  note?: string;
}

export interface RunbookSummary {
  id: string;
  title: Bilingual;
  handbook: string;
  priority: number;
  trigger: 'signal' | 'manual' | 'holiday';
  fields: Array<{ id: string; label: Bilingual; required: boolean }>;
  startRoles: Role[];
  /** A signal runbook's levels (trigger states), lowest first. */
  levels?: string[];
}

/** What the HTTP layer needs from the runbook engine. */
export interface IncidentService {
  runbooks(): RunbookSummary[];
  /** 'active': open and stabilised (the default view), highest priority first. */
  list(filter?: 'active' | 'all' | IncidentState): Incident[];
  get(id: number): Incident | undefined;
  /** Starts a runbook by hand (named so, because the engine is also a Plugin with start()). */
  startRunbook(runbookId: string, by: Actor, input: StartInput): Incident;
  completeStep(id: number, stepKey: string, by: Actor, input: StepInput): Incident;
  stabilise(id: number, by: Actor, note: string): Incident;
  close(id: number, by: Actor, summary: string): Incident;
  /** Messages on the lobby screens now, from open incidents (issue 9 shows them over planned content). */
  lobbyMessages(): LobbyMessage[];
}

export type IncidentErrorCode = 'BOHUB_INCIDENT_NOT_FOUND' | 'BOHUB_RUNBOOK_NOT_FOUND' | 'BOHUB_INCIDENT_STATE' | 'BOHUB_FORBIDDEN' | 'BOHUB_BAD_REQUEST';

/** A refused user action; status is the HTTP status the API answers with. */
export class IncidentError extends Error {
  constructor(
    readonly code: IncidentErrorCode,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'IncidentError';
  }
}
