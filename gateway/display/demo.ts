import { DateTime } from 'luxon';
import type { LoadedConfig } from '../config/load.ts';
import type { Logger } from '../log.ts';
import { WorkingCalendar } from '../runbooks/calendar.ts';
import { planWeekOf } from './items.ts';
import type { DisplayActor, DisplayService, ItemInput } from './types.ts';

// Demo content for the demo building (`site.demo: true`), so `npm start` shows both
// lobby screens with something on them. It goes through the service like any user,
// as 'system', so every step is in the audit log: the runbooks' emergency templates
// are approved in advance, and a few notices are entered and approved (one is left
// waiting, to show the approval queue). Nothing is seeded twice.

const NOTE = 'demo building: approved in advance';
const DAY = 24 * 60 * 60 * 1000;

/** English names of the calendar's holidays (the building file names them in Chinese). */
const HOLIDAYS_EN: Record<string, string> = {
  元旦: "New Year's Day", 春节: 'the Spring Festival', 清明节: 'Qingming Festival', 劳动节: 'Labour Day',
  端午节: 'the Dragon Boat Festival', 中秋节: 'the Mid-Autumn Festival', 国庆节: 'National Day',
};

export function seedDemo(display: DisplayService, config: LoadedConfig, now: number, log: Logger): void {
  const b = config.building;
  const [editorRole, approverRole] = [b.display.editorRoles[0], b.display.approverRoles[0]];
  if (!editorRole || !approverRole) return void log.warn('demo content not seeded: display.editorRoles or approverRoles is empty');
  const editor: DisplayActor = { username: 'system', role: editorRole };
  const approver: DisplayActor = { username: 'system', role: approverRole };

  let approved = 0;
  for (const t of display.emergencyTemplates()) if (!t.approved) (display.approveTemplate(t.id, approver, NOTE), approved++);
  if (display.list().length) return void (approved && log.info({ approved }, 'demo emergency templates approved'));

  const lobbies = b.displays.filter((d) => /lobby/i.test(d.id)).map((d) => d.id);
  const all = b.displays.map((d) => d.id);
  if (!lobbies.length) return;
  const date = (at: number) => DateTime.fromMillis(at, { zone: b.site.timezone }).toISODate()!;
  const schedule = (screens: string[], priority: number): Omit<ItemInput, 'title' | 'body'> => ({ screens, start: now, end: now + 30 * DAY, planWeek: planWeekOf(now, b.site.timezone), planSlot: 1, priority });

  const items = [
    display.create({
      ...schedule(lobbies, 6),
      title: { zh: `欢迎光临${b.site.name.zh}`, en: `Welcome to ${b.site.name.en}` },
      body: { zh: '客户服务中心位于大堂服务台,办公时间 08:30-17:30。如需帮助,请随时与我们联系。', en: 'Customer Service is at the lobby reception desk, 08:30 to 17:30. Please ask us whenever you need help.' },
    }, editor),
  ];
  if (config.contentTemplates.has('pest-control')) {
    const day = now + 2 * DAY;
    items.push(display.createFromTemplate('pest-control', { date: date(day), time: '18:30-21:00', areas: '各楼层公共区域及地下车库', 'areas-en': "every floor's common areas and the basement car park" }, schedule(lobbies, 5), editor));
  }
  const holiday = nextHoliday(config, now);
  if (holiday && config.contentTemplates.has('outage-notice')) {
    items.push(display.createFromTemplate('outage-notice', {
      holiday: holiday.name, 'holiday-en': HOLIDAYS_EN[holiday.name] ?? holiday.name,
      from: date(holiday.at), to: date(holiday.endAt - DAY),
      areas: '第一天 09:00-17:00 A、B座停水(清洗水箱);第二天 09:00-13:00 A座停电、13:00-17:00 B座停电(供配电检修);全假期空调停止运行(冷却塔修补)',
      'areas-en': 'day one 09:00-17:00, no water in towers A and B (tanks cleaned); day two 09:00-13:00, no power in tower A, 13:00-17:00 in tower B (switchgear maintenance); no air-conditioning for the whole holiday (cooling towers repaired)',
      'fitout-deadline': date(holiday.at - 3 * DAY),
    }, schedule(all, 4), editor));
  }
  for (const item of items) display.approve(display.submit(item.id, editor).id, approver, { note: NOTE });

  display.create({
    ...schedule(lobbies, 5),
    title: { zh: '消防演习通知', en: 'Fire drill' },
    body: { zh: '本周五 15:00 大厦将进行消防疏散演习,届时请听从消防广播及工作人员指挥,从消防楼梯有序疏散。', en: 'There will be a fire evacuation drill this Friday at 15:00. Please follow the fire broadcast and the staff, and leave calmly by the fire stairs.' },
  }, editor, { submit: true });
  log.info({ approvedTemplates: approved, items: items.length + 1 }, 'demo lobby content seeded');
}

/** The next holiday in the building's calendar that has not started yet: its name, first day and the midnight after its last. */
function nextHoliday(config: LoadedConfig, now: number): { name: string; at: number; endAt: number } | undefined {
  const b = config.building;
  const calendar = new WorkingCalendar(b.calendar, b.site.timezone);
  const runs = [...new Set(b.calendar.holidays.map((h) => h.name))].flatMap((name) => calendar.holidayRuns(name).map((r) => ({ name, ...r })));
  return runs.filter((r) => r.at > now).sort((a, b) => a.at - b.at)[0];
}
