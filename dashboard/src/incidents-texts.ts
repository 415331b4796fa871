import { site } from './building.ts';
import type { Incident, IncidentState, NotificationRecord, StepStatus } from '../../gateway/runbooks/types.ts';
import { texts } from './i18n.ts';

// Words for incidents shared by the incident list and the incident page.

export const INCIDENT_STATE_TEXT = texts({
  open: ['处置中', 'Open'],
  stabilised: ['已稳定', 'Stabilised'],
  closed: ['已结案', 'Closed'],
} satisfies Record<IncidentState, readonly [string, string]>);

export const STEP_STATUS_TEXT = texts({
  waiting: ['等待前序步骤', 'Waiting'],
  active: ['进行中', 'Active'],
  done: ['已完成', 'Done'],
  skipped: ['不适用', 'Skipped'],
} satisfies Record<StepStatus, readonly [string, string]>);

export const CALL_OUTCOME_TEXT = texts({
  answered: ['已接通', 'Answered'],
  'no-answer': ['无人接听', 'No answer'],
  busy: ['占线', 'Busy'],
  'wrong-number': ['号码错误', 'Wrong number'],
});

export const NOTIFY_REASON_TEXT = texts({
  opened: ['事件开启', 'Opened'],
  step: ['步骤通知', 'Step'],
  escalation: ['超时升级', 'Escalation'],
  stabilised: ['已稳定', 'Stabilised'],
  closed: ['已结案', 'Closed'],
} satisfies Record<NotificationRecord['reason'], readonly [string, string]>);

/** Working or non-working time decides which of a runbook's steps apply (handbook 第九节 一.1). */
export const VARIANT_TEXT = texts({
  working: ['工作时间', 'Working time'],
  'non-working': ['非工作时间', 'Non-working time'],
});

/** The name of a duty role as the incident knows it (from its steps), else its id. */
export function roleName(incident: Incident, role: string): { zh: string; en: string } {
  return incident.steps.find((s) => s.role === role)?.roleName ?? site.get()?.dutyRoles.find((d) => d.id === role)?.name ?? { zh: role, en: role };
}

/** Active steps past their deadline at `now`. */
export function overdueSteps(incident: Incident, now: number): number {
  return incident.steps.filter((s) => s.status === 'active' && s.dueAt !== undefined && s.dueAt < now).length;
}
