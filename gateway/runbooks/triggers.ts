import type { WorkingCalendar } from './calendar.ts';
import type { BuildingIndex } from './building-index.ts';
import type { Runbook } from './schema.ts';
import { levelRank } from './steps.ts';
import { IncidentError, type Actor, type RunbookSummary, type StartInput } from './types.ts';

// How incidents start: the dedupe key, the checks on a start by hand, and the public
// holidays whose notices are due (handbook 第九节 八: one week before).

/** One open incident per key: per tower (a fire in B-12F and B-14F), per site (a typhoon) or per signal. */
export function incidentKey(rb: Runbook, tower: string | undefined, signal?: string): string {
  const by = rb.trigger.type === 'signal' ? rb.trigger.groupBy : 'site';
  return `${rb.id}:${by === 'signal' && signal ? signal : by === 'tower' && tower ? tower : 'site'}`;
}

/** Refuses a start by hand that the runbook does not allow, naming the field. */
export function checkManualStart(rb: Runbook, by: Actor, input: StartInput, index: BuildingIndex): void {
  if (by.role !== 'admin' && !rb.startRoles.includes(by.role)) throw new IncidentError('BOHUB_FORBIDDEN', `the role ${by.role} may not start "${rb.id}"`, 403);
  const bad = (message: string) => new IncidentError('BOHUB_BAD_REQUEST', message, 400);
  const fields = input.fields ?? {};
  const missing = rb.trigger.type === 'manual' ? rb.trigger.fields.find((f) => f.required && !fields[f.id]?.trim()) : undefined;
  if (missing) throw bad(`fields.${missing.id}: ${missing.label.en} is required`);
  if (input.tower !== undefined && !index.hasTower(input.tower)) throw bad(`tower: no tower "${input.tower}"`);
  const unknownUnit = input.units?.find((u) => !index.hasUnit(u));
  if (unknownUnit) throw bad(`units: no unit "${unknownUnit}"`);
  if (input.level !== undefined && levelRank(rb, input.level) < 0) throw bad(`level: "${input.level}" is not a level of "${rb.id}"`);
}

/** The holiday notices due now: from `daysBefore` days before a holiday's first day until it begins. */
export function holidaysDue(runbooks: Iterable<Runbook>, calendar: WorkingCalendar, now: number): Array<{ rb: Runbook; key: string; name: string; date: string; endAt: number }> {
  const due: Array<{ rb: Runbook; key: string; name: string; date: string; endAt: number }> = [];
  for (const rb of runbooks) {
    if (rb.trigger.type !== 'holiday') continue;
    for (const name of rb.trigger.names)
      for (const h of calendar.holidayRuns(name))
        if (now >= calendar.daysBefore(h.at, rb.trigger.daysBefore) && now < h.at) due.push({ rb, key: `${rb.id}:${h.date}`, name, date: h.date, endAt: h.endAt });
  }
  return due;
}

export function runbookSummary(rb: Runbook): RunbookSummary {
  return {
    id: rb.id, title: rb.title, handbook: rb.handbook, priority: rb.priority, trigger: rb.trigger.type,
    fields: rb.trigger.type === 'manual' ? rb.trigger.fields : [], startRoles: [...rb.startRoles],
    ...(rb.trigger.type === 'signal' ? { levels: [...rb.trigger.states] } : {}),
  };
}
