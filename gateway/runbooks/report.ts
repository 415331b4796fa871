import { DateTime } from 'luxon';
import type { Bilingual, CallRecord, DeliveryStatus, Incident, IncidentState, IncidentStep, NotificationRecord, StepStatus, TimeVariant } from './types.ts';

// The closing report of an incident: the written summary the handbook asks for
// (第九节 一: "a written summary to the director within 2 days"). One plain JSON
// object for the API, and one printable HTML page made from it. The page is
// self-contained (inline CSS, no scripts, fonts or images from elsewhere) because it
// is printed on the management office's own machines, often offline; every text in
// it is escaped, since most of it was typed by users. Times are the building's.

/** An instant: ms since the epoch, and the building's local ISO time. */
export interface LocalTime {
  ms: number;
  local: string;
}

export interface ReportStep {
  key: string;
  stepId: string;
  round: number;
  role: string;
  roleName: Bilingual;
  title: Bilingual;
  status: StepStatus;
  completeBy: IncidentStep['completeBy'];
  activated: LocalTime | null;
  due: LocalTime | null;
  done: LocalTime | null;
  doneBy: string | null;
  note: string | null;
  valueLabel: Bilingual | null;
  value: string | number | null;
  values: Array<{ value: string | number; by: string; at: LocalTime }>;
  calls: Array<Omit<CallRecord, 'at'> & { at: LocalTime }>;
  escalations: number;
  /** true: done by its deadline; false: done late, or still open past it; null: no deadline, or not decided yet. */
  onTime: boolean | null;
  /** How late it was done (or, still open, how late it is at the report's time): 0 when on time, null when onTime is null. */
  lateByMs: number | null;
}

export interface IncidentReport extends Pick<Incident, 'id' | 'runbook' | 'title' | 'handbook' | 'priority' | 'state' | 'variant'> {
  site: { id: string; name: Bilingual };
  timeZone: string;
  generated: LocalTime;
  tower: string | null;
  level: string | null;
  opened: LocalTime;
  openedBy: string;
  stabilised: LocalTime | null;
  closed: LocalTime | null;
  closedBy: string | null;
  signals: Array<{ signal: string; state: string; first: LocalTime; last: LocalTime }>;
  fields: Record<string, string>;
  units: string[];
  contacts: Incident['contacts'];
  steps: ReportStep[];
  /** Steps with a deadline that were done late or are still open past it. */
  lateSteps: number;
  escalations: Array<{ at: LocalTime; stepKey: string; level: number; to: string[]; lateByMs: number }>;
  notifications: Array<Omit<NotificationRecord, 'at' | 'deliveries'> & { at: LocalTime; status: DeliveryStatus; deliveries: Array<{ sink: string; status: DeliveryStatus; attempts: number; lastError: string | null; delivered: LocalTime | null }> }>;
  lobby: Array<{ stepKey: string; screens: string[]; priority: number; text: Bilingual; since: LocalTime; until: LocalTime | null }>;
  timeline: Array<{ at: LocalTime; by: string; what: string; detail: string | null }>;
  /** The written summary, given when the incident is closed. */
  summary: { text: string; by: string; at: LocalTime } | null;
}

export interface ReportContext {
  site: { id: string; name: Bilingual };
  timeZone: string;
  /** When the report is made: an open step past its deadline is late by now - due. */
  now: number;
}

export function incidentReport(incident: Incident, ctx: ReportContext): IncidentReport {
  const t = (ms: number): LocalTime => ({ ms, local: DateTime.fromMillis(ms, { zone: ctx.timeZone }).toISO({ suppressMilliseconds: true }) ?? '' });
  const opt = (ms: number | undefined) => (ms === undefined ? null : t(ms));
  // Nothing moves after closing: a step left open is late until the incident closed.
  const end = incident.closedAt ?? ctx.now;
  const steps = incident.steps.map((s): ReportStep => {
    const { onTime, lateByMs } = punctuality(s, end);
    return {
      key: s.key,
      stepId: s.stepId,
      round: s.round,
      role: s.role,
      roleName: s.roleName,
      title: s.title,
      status: s.status,
      completeBy: s.completeBy,
      activated: opt(s.activatedAt),
      due: opt(s.dueAt),
      done: opt(s.doneAt),
      doneBy: s.doneBy ?? null,
      note: s.note ?? null,
      valueLabel: s.valueLabel ?? null,
      value: s.value ?? null,
      values: s.values.map((v) => ({ value: v.value, by: v.by, at: t(v.at) })),
      calls: s.calls.map((c) => ({ ...c, at: t(c.at) })),
      escalations: s.escalations,
      onTime,
      lateByMs,
    };
  });
  return {
    site: ctx.site,
    timeZone: ctx.timeZone,
    generated: t(ctx.now),
    id: incident.id,
    runbook: incident.runbook,
    title: incident.title,
    handbook: incident.handbook,
    priority: incident.priority,
    state: incident.state,
    variant: incident.variant,
    tower: incident.tower ?? null,
    level: incident.level ?? null,
    opened: t(incident.openedAt),
    openedBy: incident.openedBy,
    stabilised: opt(incident.stabilisedAt),
    closed: opt(incident.closedAt),
    closedBy: incident.closedBy ?? null,
    signals: incident.signals.map((s) => ({ signal: s.signal, state: s.state, first: t(s.firstAt), last: t(s.lastAt) })),
    fields: incident.fields,
    units: incident.units,
    contacts: incident.contacts,
    steps,
    lateSteps: steps.filter((s) => s.onTime === false).length,
    escalations: incident.escalations.map((e) => ({ at: t(e.at), stepKey: e.stepKey, level: e.level, to: e.to, lateByMs: e.lateByMs })),
    notifications: incident.notifications.map((n) => ({
      ...n,
      at: t(n.at),
      status: overallDelivery(n),
      deliveries: n.deliveries.map((d) => ({ sink: d.sink, status: d.status, attempts: d.attempts, lastError: d.lastError ?? null, delivered: opt(d.deliveredAt) })),
    })),
    lobby: incident.lobby.map((m) => ({ stepKey: m.stepKey, screens: m.screens, priority: m.priority, text: m.text, since: t(m.since), until: opt(m.until) })),
    timeline: incident.timeline.map((e) => ({ at: t(e.at), by: e.by, what: e.what, detail: e.detail ?? null })),
    summary: incident.report ? { text: incident.report.summary, by: incident.report.by, at: t(incident.report.at) } : null,
  };
}

/** The report as one printable, self-contained bilingual page (Chinese first, English under it). */
export function renderReportHtml(r: IncidentReport): string {
  const time = (lt: LocalTime | null) => (lt ? esc(DateTime.fromMillis(lt.ms, { zone: r.timeZone }).toFormat('yyyy-MM-dd HH:mm:ss')) : '—');
  const bi = (b: Bilingual) => `<span class="zh">${esc(b.zh)}</span><span class="en">${esc(b.en)}</span>`;
  const row = (label: Bilingual, value: string) => `<tr><th>${bi(label)}</th><td>${value}</td></tr>`;
  const table = (head: Bilingual[], rows: string[]) =>
    rows.length ? `<table><thead><tr>${head.map((h) => `<th>${bi(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>` : `<p class="none">${bi(L.none)}</p>`;
  const section = (title: Bilingual, body: string) => `<section><h2>${bi(title)}</h2>${body}</section>`;

  const facts = [
    row(L.incident, `#${esc(r.id)} · ${esc(r.runbook)}`),
    row(L.handbook, esc(r.handbook)),
    row(L.state, bi(STATE[r.state])),
    row(L.variant, bi(VARIANT[r.variant])),
    ...(r.tower ? [row(L.tower, esc(r.tower))] : []),
    ...(r.level ? [row(L.level, esc(r.level))] : []),
    row(L.opened, `${time(r.opened)} · ${esc(r.openedBy)}`),
    row(L.stabilised, time(r.stabilised)),
    row(L.closed, r.closed ? `${time(r.closed)} · ${esc(r.closedBy ?? '')}` : '—'),
    row(L.lateSteps, `${esc(r.lateSteps)} / ${esc(r.steps.filter((s) => s.due && s.status !== 'skipped').length)}`),
    ...Object.entries(r.fields).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`),
    ...(r.units.length ? [row(L.units, esc(r.units.join(', ')))] : []),
  ];

  const steps = r.steps.map((s) => {
    const record = [
      s.note ? `<div>${esc(s.note)}</div>` : '',
      ...s.values.map((v) => `<div>${s.valueLabel ? `${esc(s.valueLabel.zh)} ${esc(s.valueLabel.en)}: ` : ''}<b>${esc(v.value)}</b> <small>${esc(v.by)} ${time(v.at)}</small></div>`),
      ...s.calls.map((c) => `<div>☎ ${esc(c.name)} ${esc(c.phone)}: ${bi(OUTCOME[c.outcome])} <small>${esc(c.by)} ${time(c.at)}</small>${c.note ? ` ${esc(c.note)}` : ''}</div>`),
    ].join('');
    const punctual = s.onTime === null ? '—' : s.onTime ? bi(L.onTime) : `<b>${bi(lateText(s.lateByMs ?? 0))}</b>`;
    return `<tr${s.onTime === false ? ' class="late"' : ''}><td>${bi(s.title)}</td><td>${bi(s.roleName)}</td><td>${bi(STATUS[s.status])}</td><td>${time(s.activated)}</td><td>${time(s.due)}</td><td>${time(s.done)}</td><td>${esc(s.doneBy ?? '—')}</td><td>${punctual}</td><td>${record}</td></tr>`;
  });
  const stepKeyTitle = new Map(r.steps.map((s) => [s.key, s.title]));
  const stepOf = (key: string) => (stepKeyTitle.has(key) ? bi(stepKeyTitle.get(key)!) : esc(key));
  const escalations = r.escalations.map((e) => `<tr><td>${time(e.at)}</td><td>${stepOf(e.stepKey)}</td><td>${esc(e.level)}</td><td>${esc(e.to.join(', '))}</td><td>${bi(lateText(e.lateByMs))}</td></tr>`);
  const notifications = r.notifications.map(
    (n) =>
      `<tr><td>${time(n.at)}</td><td>${esc(n.reason)}${n.stepKey ? ` · ${stepOf(n.stepKey)}` : ''}</td><td>${n.recipients.map((p) => `${esc(p.name)} ${esc(p.phone)}`).join('<br>') || esc(n.roles.join(', '))}</td><td>${bi(n.text)}</td><td>${n.deliveries
        .map((d) => `${esc(d.sink)}: ${bi(DELIVERY[d.status])}${d.lastError ? ` <small>${esc(d.lastError)}</small>` : ''}`)
        .join('<br>')}</td></tr>`,
  );
  const lobby = r.lobby.map((m) => `<tr><td>${time(m.since)}</td><td>${time(m.until)}</td><td>${esc(m.screens.join(', '))}</td><td>${bi(m.text)}</td></tr>`);
  const timeline = r.timeline.map((e) => `<tr><td>${time(e.at)}</td><td>${esc(e.by)}</td><td>${esc(e.what)}${e.detail ? ` — ${esc(e.detail)}` : ''}</td></tr>`);
  const signals = r.signals.map((s) => `<tr><td>${esc(s.signal)}</td><td>${esc(s.state)}</td><td>${time(s.first)}</td><td>${time(s.last)}</td></tr>`);
  const summary = r.summary ? `<div class="summary">${esc(r.summary.text)}</div><p class="sign">${esc(r.summary.by)} · ${time(r.summary.at)}</p>` : `<p class="none">${bi(L.noSummary)}</p>`;

  return [
    '<!DOCTYPE html>',
    '<html lang="zh-CN">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>${esc(`${r.title.zh} #${r.id} ${r.title.en}`)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    `<header><p class="site">${bi(r.site.name)}</p><h1>${bi(L.report)}</h1><p class="title">${bi(r.title)}</p></header>`,
    `<table class="facts">${facts.join('')}</table>`,
    section(L.summary, summary),
    section(L.steps, table([L.step, L.role, L.status, L.activated, L.due, L.done, L.by, L.deadline, L.record], steps)),
    section(L.escalations, table([L.time, L.step, L.escalationLevel, L.to, L.lateBy], escalations)),
    section(L.notifications, table([L.time, L.reason, L.recipients, L.message, L.delivery], notifications)),
    section(L.lobby, table([L.since, L.until, L.screens, L.message], lobby)),
    ...(signals.length ? [section(L.signals, table([L.signal, L.state, L.first, L.last], signals))] : []),
    section(L.timeline, table([L.time, L.by, L.event], timeline)),
    `<footer>${bi(L.generated)} ${time(r.generated)} (${esc(r.timeZone)})</footer>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** Done by the deadline, done after it, or still open after it (late until `end`). */
function punctuality(s: IncidentStep, end: number): Pick<ReportStep, 'onTime' | 'lateByMs'> {
  if (s.dueAt === undefined || s.status === 'skipped') return { onTime: null, lateByMs: null };
  const finished = s.status === 'done' ? (s.doneAt ?? end) : undefined;
  if (finished !== undefined) return finished <= s.dueAt ? { onTime: true, lateByMs: 0 } : { onTime: false, lateByMs: finished - s.dueAt };
  return end > s.dueAt ? { onTime: false, lateByMs: end - s.dueAt } : { onTime: null, lateByMs: null };
}

/** failed if any sink failed, pending while any is still trying, else delivered. */
function overallDelivery(n: NotificationRecord): DeliveryStatus {
  if (n.deliveries.some((d) => d.status === 'failed')) return 'failed';
  if (!n.deliveries.length || n.deliveries.some((d) => d.status === 'pending')) return 'pending';
  return 'delivered';
}

function lateText(ms: number): Bilingual {
  const totalMinutes = Math.ceil(ms / 60_000);
  const d = Math.floor(totalMinutes / 1440);
  const h = Math.floor((totalMinutes % 1440) / 60);
  const m = totalMinutes % 60;
  const zh = `${d ? `${d}天` : ''}${h ? `${h}小时` : ''}${m || (!d && !h) ? `${m}分钟` : ''}`;
  const en = [d && `${d} d`, h && `${h} h`, (m || (!d && !h)) && `${m} min`].filter(Boolean).join(' ');
  return { zh: `超时 ${zh}`, en: `${en} late` };
}

/** Escapes text for element content and double-quoted attributes. */
function esc(text: string | number): string {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const L = {
  report: { zh: '应急事件处理报告', en: 'Incident report' },
  incident: { zh: '事件', en: 'Incident' },
  handbook: { zh: '手册条款', en: 'Handbook section' },
  state: { zh: '状态', en: 'State' },
  variant: { zh: '时段', en: 'Time' },
  tower: { zh: '楼座', en: 'Tower' },
  level: { zh: '级别', en: 'Level' },
  opened: { zh: '启动', en: 'Opened' },
  stabilised: { zh: '受控', en: 'Stabilised' },
  closed: { zh: '结束', en: 'Closed' },
  lateSteps: { zh: '超时步骤 / 有时限步骤', en: 'Late steps / steps with a deadline' },
  units: { zh: '受影响单元', en: 'Affected units' },
  summary: { zh: '书面总结', en: 'Written summary' },
  noSummary: { zh: '尚无书面总结(第九节 一:两日内报总监)', en: 'No written summary yet (第九节 一: to the director within 2 days)' },
  steps: { zh: '处理步骤', en: 'Steps' },
  step: { zh: '步骤', en: 'Step' },
  role: { zh: '岗位', en: 'Role' },
  status: { zh: '状态', en: 'Status' },
  activated: { zh: '开始', en: 'Activated' },
  due: { zh: '时限', en: 'Due' },
  done: { zh: '完成', en: 'Done' },
  by: { zh: '执行人', en: 'By' },
  deadline: { zh: '是否按时', en: 'Deadline' },
  record: { zh: '记录', en: 'Record' },
  onTime: { zh: '按时', en: 'on time' },
  escalations: { zh: '超时上报', en: 'Escalations' },
  escalationLevel: { zh: '次数', en: 'Level' },
  to: { zh: '上报至', en: 'To' },
  lateBy: { zh: '超时', en: 'Late by' },
  notifications: { zh: '通知', en: 'Notifications' },
  time: { zh: '时间', en: 'Time' },
  reason: { zh: '原因', en: 'Reason' },
  recipients: { zh: '接收人', en: 'Recipients' },
  message: { zh: '内容', en: 'Message' },
  delivery: { zh: '送达', en: 'Delivery' },
  lobby: { zh: '大堂显示屏信息', en: 'Lobby screen messages' },
  since: { zh: '显示自', en: 'Shown from' },
  until: { zh: '撤下', en: 'Taken down' },
  screens: { zh: '显示屏', en: 'Screens' },
  signals: { zh: '信号', en: 'Signals' },
  signal: { zh: '信号', en: 'Signal' },
  first: { zh: '首次', en: 'First' },
  last: { zh: '最近', en: 'Last' },
  timeline: { zh: '经过', en: 'Timeline' },
  event: { zh: '事项', en: 'Event' },
  none: { zh: '无', en: 'None' },
  generated: { zh: '生成于', en: 'Generated' },
} satisfies Record<string, Bilingual>;

const STATE: Record<IncidentState, Bilingual> = { open: { zh: '处理中', en: 'open' }, stabilised: { zh: '已受控', en: 'stabilised' }, closed: { zh: '已结束', en: 'closed' } };
const VARIANT: Record<TimeVariant, Bilingual> = { working: { zh: '工作时间', en: 'working time' }, 'non-working': { zh: '非工作时间', en: 'non-working time' } };
const STATUS: Record<StepStatus, Bilingual> = {
  waiting: { zh: '等待', en: 'waiting' },
  active: { zh: '进行中', en: 'active' },
  done: { zh: '已完成', en: 'done' },
  skipped: { zh: '不适用', en: 'skipped' },
};
const OUTCOME: Record<CallRecord['outcome'], Bilingual> = {
  answered: { zh: '已接通', en: 'answered' },
  'no-answer': { zh: '无人接听', en: 'no answer' },
  busy: { zh: '占线', en: 'busy' },
  'wrong-number': { zh: '号码错误', en: 'wrong number' },
};
const DELIVERY: Record<DeliveryStatus, Bilingual> = { pending: { zh: '发送中', en: 'pending' }, delivered: { zh: '已送达', en: 'delivered' }, failed: { zh: '失败', en: 'failed' } };

// A4, one column; English sits under each Chinese text in a smaller size.
const CSS = `
@page { size: A4; margin: 15mm 15mm 15mm 20mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "SimSun", sans-serif; font-size: 10pt; color: #000; margin: 0 auto; max-width: 260mm; padding: 8mm; }
.zh { display: block; }
.en { display: block; font-size: 0.85em; color: #444; }
header { text-align: center; margin-bottom: 4mm; }
h1 { font-size: 16pt; margin: 1mm 0; }
h2 { font-size: 12pt; margin: 5mm 0 2mm 0; border-bottom: 0.3mm solid #000; }
.site, .title { margin: 0; font-size: 12pt; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0; }
th, td { border: 0.3mm solid #000; padding: 1mm 1.5mm; text-align: left; vertical-align: top; }
thead th { background: #eee; }
table.facts th { width: 45mm; font-weight: normal; }
tr.late td { background: #fde8e8; }
.summary { white-space: pre-wrap; border: 0.3mm solid #000; padding: 3mm; min-height: 20mm; }
.sign { text-align: right; }
.none { color: #444; }
small { color: #444; }
footer { margin-top: 6mm; font-size: 8pt; color: #444; }
@media print {
  body { padding: 0; max-width: none; font-size: 9pt; }
  thead { display: table-header-group; }
  tr, .summary { break-inside: avoid; page-break-inside: avoid; }
  tr.late td, thead th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;
