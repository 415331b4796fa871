import { describe, expect, it } from 'vitest';
import { incidentReport, renderReportHtml } from '../../gateway/runbooks/report.ts';
import type { Incident, IncidentStep } from '../../gateway/runbooks/types.ts';

// The closing report (handbook 第九节 一: a written summary to the director within
// 2 days) from a hand-built fire incident: deadlines met and missed, local times in
// the building's zone, and a printable page that escapes what users typed.

const MIN = 60_000;
// 22:40 in Shanghai: non-working time.
const OPENED = Date.UTC(2026, 2, 1, 14, 40);
const SCRIPT = '<script>alert("x")</script>';
const ctx = (now: number) => ({ site: { id: 'union-plaza', name: { zh: '联合广场', en: 'Union Plaza' } }, timeZone: 'Asia/Shanghai', now });

function step(over: Partial<IncidentStep> & Pick<IncidentStep, 'key' | 'status'>): IncidentStep {
  return {
    stepId: over.key,
    round: 1,
    role: 'csc-supervisor',
    roleName: { zh: '客服主管', en: 'CSC supervisor' },
    title: { zh: `步骤 ${over.key}`, en: `Step ${over.key}` },
    text: { zh: '说明', en: 'Instruction' },
    completeBy: 'role',
    values: [],
    calls: [],
    escalations: 0,
    ...over,
  };
}

function fireIncident(): Incident {
  return {
    id: 7,
    runbook: 'fire-alarm',
    title: { zh: '火灾报警', en: 'Fire alarm' },
    handbook: '第九节 一.1',
    priority: 1,
    state: 'open',
    variant: 'non-working',
    key: 'fire-alarm/B',
    tower: 'B',
    openedAt: OPENED,
    openedBy: 'signal:FZ-B-12',
    signals: [{ signal: 'FZ-B-12', state: 'alarm', firstAt: OPENED, lastAt: OPENED + MIN }],
    fields: { caller: `Mr Li ${SCRIPT}` },
    units: ['B-12-01'],
    contacts: [],
    steps: [
      step({ key: 'broadcast', status: 'done', activatedAt: OPENED, dueAt: OPENED + 3 * MIN, doneAt: OPENED + 2 * MIN, doneBy: 'operator', note: `broadcast made ${SCRIPT}` }),
      // 第九节 一.1: administrators on site within 30 minutes; they came at 42.
      step({
        key: 'call-admins',
        status: 'done',
        completeBy: 'calls',
        activatedAt: OPENED,
        dueAt: OPENED + 30 * MIN,
        doneAt: OPENED + 42 * MIN,
        doneBy: 'supervisor',
        calls: [{ name: 'Wang Fang', phone: '13800000001', outcome: 'answered', at: OPENED + 5 * MIN, by: 'supervisor' }],
        escalations: 1,
      }),
      step({
        key: 'phones',
        status: 'done',
        completeBy: 'value',
        valueLabel: { zh: '接听电话人数', en: 'People on the phones' },
        valueType: 'number',
        activatedAt: OPENED,
        dueAt: OPENED + 10 * MIN,
        doneAt: OPENED + 6 * MIN,
        doneBy: 'operator',
        value: 3,
        values: [{ value: 3, by: 'operator', at: OPENED + 6 * MIN }],
      }),
      step({ key: 'entrances', status: 'active', activatedAt: OPENED + 2 * MIN, dueAt: OPENED + 32 * MIN }),
      step({ key: 'tally', status: 'waiting' }),
      step({ key: 'correction', status: 'skipped', dueAt: OPENED + 3 * MIN }),
    ],
    escalations: [{ at: OPENED + 30 * MIN, stepKey: 'call-admins', level: 1, to: ['director'], lateByMs: 0 }],
    notifications: [
      {
        id: 'n1',
        at: OPENED + 30 * MIN,
        reason: 'escalation',
        stepKey: 'call-admins',
        roles: ['director'],
        recipients: [{ role: 'director', name: 'Zhao Min', phone: '13900000002' }],
        text: { zh: '管理员未到场', en: 'Administrators not on site' },
        deliveries: [
          { sink: 'log', status: 'delivered', attempts: 1, deliveredAt: OPENED + 30 * MIN },
          { sink: 'webhook', status: 'failed', attempts: 6, lastError: 'HTTP 502' },
        ],
      },
    ],
    lobby: [{ incidentId: 7, stepKey: 'broadcast', screens: ['lobby-b'], priority: 1, text: { zh: '请勿乘坐电梯', en: 'Do not use the lifts' }, since: OPENED + 2 * MIN }],
    timeline: [{ at: OPENED, by: 'signal:FZ-B-12', what: 'opened', detail: 'FZ-B-12 alarm' }],
    updatedAt: OPENED + 42 * MIN,
  };
}

describe('incidentReport', () => {
  it('says which steps met their deadline and by how much the others missed it', () => {
    const report = incidentReport(fireIncident(), ctx(OPENED + 60 * MIN));
    const byKey = Object.fromEntries(report.steps.map((s) => [s.key, s]));
    expect(byKey.broadcast).toMatchObject({ onTime: true, lateByMs: 0, doneBy: 'operator' });
    expect(byKey['call-admins']).toMatchObject({ onTime: false, lateByMs: 12 * MIN, escalations: 1, calls: [{ name: 'Wang Fang', outcome: 'answered', by: 'supervisor' }] });
    expect(byKey.phones).toMatchObject({ onTime: true, value: 3, values: [{ value: 3, by: 'operator' }] });
    // Still open 28 minutes past its deadline at the time of the report.
    expect(byKey.entrances).toMatchObject({ onTime: false, lateByMs: 28 * MIN, done: null });
    // No deadline, or no longer applicable: neither on time nor late.
    expect(byKey.tally).toMatchObject({ onTime: null, lateByMs: null });
    expect(byKey.correction).toMatchObject({ onTime: null, lateByMs: null });
    expect(report.lateSteps).toBe(2);
  });

  it('an open step is undecided before its deadline, and late only until the incident closed', () => {
    const early = incidentReport(fireIncident(), ctx(OPENED + 20 * MIN));
    expect(early.steps.find((s) => s.key === 'entrances')).toMatchObject({ onTime: null, lateByMs: null });

    const closed = { ...fireIncident(), state: 'closed' as const, closedAt: OPENED + 40 * MIN, closedBy: 'supervisor', report: { summary: 'All safe.', by: 'supervisor', at: OPENED + 40 * MIN } };
    const later = incidentReport(closed, ctx(OPENED + 3 * 24 * 60 * MIN));
    expect(later.steps.find((s) => s.key === 'entrances')).toMatchObject({ onTime: false, lateByMs: 8 * MIN });
    expect(later.summary).toEqual({ text: 'All safe.', by: 'supervisor', at: { ms: OPENED + 40 * MIN, local: '2026-03-01T23:20:00+08:00' } });
  });

  it("gives every time in the building's zone as well as in ms", () => {
    const report = incidentReport(fireIncident(), ctx(OPENED + 60 * MIN));
    expect(report.opened).toEqual({ ms: OPENED, local: '2026-03-01T22:40:00+08:00' });
    expect(report.generated.local).toBe('2026-03-01T23:40:00+08:00');
    expect(report.steps[1]!.done!.local).toBe('2026-03-01T23:22:00+08:00');
    expect(report.stabilised).toBeNull();
    expect(report.escalations).toEqual([{ at: { ms: OPENED + 30 * MIN, local: '2026-03-01T23:10:00+08:00' }, stepKey: 'call-admins', level: 1, to: ['director'], lateByMs: 0 }]);
  });

  it('gives each notification an overall delivery status: one failed sink makes it failed', () => {
    const report = incidentReport(fireIncident(), ctx(OPENED + 60 * MIN));
    expect(report.notifications[0]).toMatchObject({ status: 'failed', deliveries: [{ sink: 'log', status: 'delivered' }, { sink: 'webhook', status: 'failed', lastError: 'HTTP 502', delivered: null }] });
  });
});

describe('renderReportHtml', () => {
  const incident = { ...fireIncident(), report: { summary: `Summary & "quotes" ${SCRIPT}`, by: 'supervisor', at: OPENED + 50 * MIN } };
  const html = renderReportHtml(incidentReport(incident, ctx(OPENED + 60 * MIN)));

  it('is bilingual, Chinese first', () => {
    for (const text of ['应急事件处理报告', 'Incident report', '火灾报警', 'Fire alarm', '联合广场', 'Union Plaza', '书面总结', 'Written summary', '客服主管', 'CSC supervisor'])
      expect(html).toContain(text);
    expect(html.indexOf('火灾报警')).toBeLessThan(html.indexOf('Fire alarm'));
  });

  it('escapes everything users typed and runs no script', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('Mr Li &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('broadcast made &lt;script&gt;');
    expect(html).toContain('Summary &amp; &quot;quotes&quot; &lt;script&gt;');
  });

  it('is self-contained: inline CSS with a print layout, nothing loaded from elsewhere', () => {
    expect(html).toMatch(/<style>[\s\S]*@media print[\s\S]*<\/style>/);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/\b(src|href)\s*=|url\(|@import/i);
  });

  it("shows local times and how late each late step was", () => {
    expect(html).toContain('2026-03-01 22:40:00');
    expect(html).toContain('2026-03-01 23:22:00');
    expect(html).toContain('超时 12分钟');
    expect(html).toContain('12 min late');
    expect(html).toContain('class="late"');
    expect(html).toContain('13800000001');
  });
});
