import type { WorkingCalendar } from './calendar.ts';
import type { Bilingual, Incident, IncidentStep } from './types.ts';

// The words of the notifications, in both languages, short enough for an SMS.

export const notificationText = {
  opened(incident: Incident, place: Bilingual | undefined, at: number, calendar: WorkingCalendar): Bilingual {
    const where = place ? { zh: `:${place.zh}`, en: ` at ${place.en}` } : { zh: '', en: '' };
    return {
      zh: `【${incident.title.zh}】${calendar.format(at)} 开始${where.zh}(事件 ${incident.id})`,
      en: `${incident.title.en}${where.en}, started ${calendar.format(at)} (incident ${incident.id})`,
    };
  },
  step(incident: Incident, step: IncidentStep, calendar: WorkingCalendar): Bilingual {
    const due = step.dueAt === undefined ? { zh: '', en: '' } : { zh: `,限时至 ${calendar.format(step.dueAt)}`, en: `, due ${calendar.format(step.dueAt)}` };
    return {
      zh: `【${incident.title.zh}】请${step.roleName.zh}:${step.title.zh}${due.zh}`,
      en: `${incident.title.en}: ${step.roleName.en}, ${step.title.en}${due.en}`,
    };
  },
  escalation(incident: Incident, step: IncidentStep, lateByMs: number): Bilingual {
    const minutes = Math.max(0, Math.round(lateByMs / 60_000));
    return {
      zh: `【逾期】${incident.title.zh}:${step.title.zh}(${step.roleName.zh})已超过期限 ${minutes} 分钟`,
      en: `Overdue: ${incident.title.en}: ${step.title.en} (${step.roleName.en}) is ${minutes} min past its deadline`,
    };
  },
};
