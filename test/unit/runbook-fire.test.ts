import { afterEach, describe, expect, it } from 'vitest';
import { IncidentError } from '../../gateway/runbooks/types.ts';
import { actors, advanceTo, DAY, deadlines, escalationsOf, flush, HOUR, local, localIso, MIN, runbookRig, sentFor, stepsIn, type RunbookRig } from '../helpers/runbooks.ts';

// The shipped fire runbooks (config/runbooks/fire-alarm.yaml, fire-tenant-report.yaml)
// against the handbook, 第九节 一: a fire-alarm-system alarm in working and in
// non-working time, the false alarm, the aftermath, and a tenant's report. Fire
// alarms are never delayed, so the incident opens the moment the zone alarms.

const WORKING = '2026-11-26T10:00'; // a Thursday, office hours
const NIGHT = '2026-11-26T22:40'; // the same Thursday, after the late shift

let rig: RunbookRig;
afterEach(async () => rig?.close());

const fresh = (id: number) => rig.engine.get(id)!;

describe('fire-alarm, 第九节 一.1', () => {
  it('第九节 一.1(1): in working time three people stay on the phones with the handbook script, and tower A\'s screens say not to use the lifts', async () => {
    rig = await runbookRig({ at: WORKING });
    rig.signal('FZ-A-12', 'alarm');
    const incident = rig.only();
    expect(incident).toMatchObject({ runbook: 'fire-alarm', key: 'fire-alarm:A', tower: 'A', variant: 'working', openedAt: local(WORKING) });
    expect(incident.steps.map((s) => s.key)).toEqual(['assess', 'phones', 'refuge', 'correction', 'explain', 'tally', 'summary', 'comfort']);
    expect(stepsIn(incident, 'active')).toEqual(['assess', 'phones']);
    expect(deadlines(incident)).toEqual({});
    expect(rig.step(incident, 'phones').script?.zh).toBe('火灾发生地点在A座12层(FZ-A-12),目前火势已得到控制。请您及您公司员工不要惊慌,不要乘坐电梯。');

    const lobby = rig.engine.lobbyMessages();
    expect(lobby.map((m) => [m.stepKey, m.screens, m.priority, localIso(m.since)])).toEqual([['assess', ['A-lobby', 'A-lifts'], 1, '2026-11-26T10:00']]);
    expect(lobby[0]!.text.zh).toContain('不要乘坐电梯');
    expect(lobby[0]!.text.en).toContain('do not use the lifts');

    // "人数不得少于三人": two people are recorded and the step stays open; three complete it.
    rig.engine.completeStep(incident.id, 'phones', actors.operator, { value: 2 });
    expect(rig.step(incident, 'phones')).toMatchObject({ status: 'active', value: 2 });
    rig.engine.completeStep(incident.id, 'phones', actors.operator, { value: 3 });
    expect(rig.step(incident, 'phones')).toMatchObject({ status: 'done', value: 3 });
    await flush();
    expect(sentFor(rig.sent, 'opened')).toEqual([[undefined, ['fire-control', 'csc-duty'], ['徐杰', '王芳', '李娜']]]);
  });

  it('第九节 一.1(1): an uncontrollable fire sends CSC to the refuge floor; a controllable one needs neither the refuge nor a correction', async () => {
    rig = await runbookRig({ at: WORKING });
    rig.signal('FZ-A-08', 'alarm');
    rig.signal('FZ-B-03', 'alarm');
    const [a, b] = ['A', 'B'].map((t) => rig.engine.list().find((i) => i.tower === t)!);
    rig.engine.completeStep(a!.id, 'assess', actors.operator, { value: 'uncontrollable' });
    rig.engine.completeStep(b!.id, 'assess', actors.operator, { value: 'controllable' });
    expect([stepsIn(fresh(a!.id), 'active'), stepsIn(fresh(a!.id), 'skipped')]).toEqual([['refuge'], ['phones', 'correction', 'explain']]);
    expect([stepsIn(fresh(b!.id), 'active'), stepsIn(fresh(b!.id), 'skipped')]).toEqual([['phones'], ['refuge', 'correction', 'explain']]);
  });

  // The handbook asks three people to stay in the office only while the fire is
  // controllable; "如火势已不可控制,客户服务中心全员应立即...到避难层躲避".
  it('第九节 一.1(1): once the fire is no longer controllable, nobody is still asked to stay in the office on the phones', async () => {
    rig = await runbookRig({ at: WORKING });
    rig.signal('FZ-A-08', 'alarm');
    const incident = rig.only();
    rig.engine.completeStep(incident.id, 'assess', actors.operator, { value: 'uncontrollable' });
    expect(rig.step(incident, 'refuge').status).toBe('active');
    expect(rig.step(incident, 'phones').status).not.toBe('active');
  });

  it('第九节 一.1(2): at night the broadcast calls the area supervisor, who must arrive within 30 minutes of the alarm; late, the director is told every 10 minutes', async () => {
    rig = await runbookRig({ at: NIGHT });
    rig.signal('FZ-A-05', 'alarm');
    const incident = rig.only();
    expect(incident.variant).toBe('non-working');
    expect(incident.steps.map((s) => s.key)).toEqual(['assess', 'broadcast', 'call-administrators', 'arrive', 'entrances', 'injured', 'correction', 'explain', 'tally', 'summary', 'comfort']);
    expect(stepsIn(incident, 'active')).toEqual(['assess', 'broadcast', 'arrive']);
    expect(deadlines(incident)).toEqual({ arrive: '2026-11-26T23:10' });
    expect(rig.engine.lobbyMessages().map((m) => m.screens)).toEqual([['A-lobby', 'A-lifts']]);

    rig.advance(2 * MIN);
    rig.engine.completeStep(incident.id, 'broadcast', actors.operator, { note: 'broadcast made' });
    expect(rig.step(incident, 'call-administrators').status).toBe('active');
    rig.advance(28 * MIN - 1);
    expect(fresh(incident.id).escalations).toEqual([]);
    rig.advance(1 + 20 * MIN);
    expect(escalationsOf(fresh(incident.id))).toEqual([
      ['arrive', '2026-11-26T23:10', 1, ['director']],
      ['arrive', '2026-11-26T23:20', 2, ['director']],
      ['arrive', '2026-11-26T23:30', 3, ['director']],
    ]);
    rig.advance(5 * MIN);
    rig.engine.completeStep(incident.id, 'arrive', actors.supervisor, {});
    expect(stepsIn(fresh(incident.id), 'active')).toEqual(['assess', 'call-administrators', 'entrances', 'injured']);
    rig.advance(2 * HOUR);
    expect(fresh(incident.id).escalations).toHaveLength(3);
    await flush();
    // Night: the fire-control officer on the night shift, both area supervisors (any shift).
    expect(sentFor(rig.sent, 'opened')).toEqual([[undefined, ['fire-control', 'area-supervisor'], ['马涛', '刘强', '陈静']]]);
    expect(sentFor(rig.sent, 'step')).toEqual([['call-administrators', ['area-supervisor', 'administrator'], ['刘强', '陈静', '黄洋', '赵艳']], ['entrances', ['administrator'], ['黄洋', '赵艳']], ['injured', ['administrator', 'director'], ['黄洋', '赵艳', '吴军']]]);
    expect(sentFor(rig.sent, 'escalation')).toEqual([1, 2, 3].map(() => ['arrive', ['director'], ['吴军']]));
  });

  it('第九节 一.1(2): arriving in time escalates nothing; all four entrances must be staffed', async () => {
    rig = await runbookRig({ at: NIGHT });
    rig.signal('FZ-B-10', 'alarm');
    const incident = rig.only();
    rig.advance(25 * MIN);
    rig.engine.completeStep(incident.id, 'arrive', actors.supervisor, {});
    rig.engine.completeStep(incident.id, 'entrances', actors.operator, { value: 3 });
    expect(rig.step(incident, 'entrances').status).toBe('active');
    rig.engine.completeStep(incident.id, 'entrances', actors.operator, { value: 4 });
    expect(rig.step(incident, 'entrances').status).toBe('done');
    rig.advance(3 * HOUR);
    expect(fresh(incident.id).escalations).toEqual([]);
  });

  it('第九节 一.1: zones of the same tower join one incident; tower B opens its own, on its own screens', async () => {
    rig = await runbookRig({ at: NIGHT });
    rig.signal('FZ-A-03', 'alarm');
    rig.signal('FZ-A-07', 'alarm');
    rig.signal('FZ-B-B1', 'alarm');
    const incidents = rig.engine.list();
    expect(incidents.map((i) => [i.key, i.signals.map((s) => s.signal)]).sort()).toEqual([
      ['fire-alarm:A', ['FZ-A-03', 'FZ-A-07']],
      ['fire-alarm:B', ['FZ-B-B1']],
    ]);
    expect(rig.changes.filter((c) => c.change !== 'notification').map((c) => c.change)).toEqual(['opened', 'joined', 'opened']);
    expect(rig.engine.lobbyMessages().map((m) => m.screens).sort()).toEqual([['A-lobby', 'A-lifts'], ['B-lobby', 'B-lifts']]);
  });

  it('第九节 一.1(3): the evacuation notice stays up until the fire is stabilised; then the tally opens and the written summary is due 2 days later, escalating daily', async () => {
    rig = await runbookRig({ at: WORKING });
    rig.signal('FZ-A-02', 'alarm');
    const incident = rig.only();
    rig.advance(5 * MIN);
    rig.engine.completeStep(incident.id, 'assess', actors.operator, { value: 'controllable' });
    rig.advance(55 * MIN);
    expect(rig.engine.lobbyMessages()).toHaveLength(1);
    rig.engine.stabilise(incident.id, actors.supervisor, 'fire out');
    expect(rig.engine.lobbyMessages()).toEqual([]);
    expect([rig.step(incident, 'tally').status, rig.step(incident, 'summary').status]).toEqual(['active', 'waiting']);
    rig.advance(4 * HOUR);
    rig.engine.completeStep(incident.id, 'tally', actors.supervisor, { note: 'no one missing; 2 units smoke-damaged' });
    // Two days from the stabilisation (11:00), not from the tally.
    expect(deadlines(fresh(incident.id))).toEqual({ summary: '2026-11-28T11:00' });
    advanceTo(rig, '2026-11-28T10:59');
    expect(fresh(incident.id).escalations).toEqual([]);
    advanceTo(rig, '2026-11-29T11:30');
    expect(escalationsOf(fresh(incident.id))).toEqual([
      ['summary', '2026-11-28T11:00', 1, ['division-lead', 'director']],
      ['summary', '2026-11-29T11:00', 2, ['division-lead', 'director']],
    ]);
    rig.engine.completeStep(incident.id, 'summary', actors.supervisor, {});
    expect(rig.step(incident, 'comfort').status).toBe('active');
    rig.advance(3 * DAY);
    expect(fresh(incident.id).escalations).toHaveLength(2);
  });

  it('第九节 一.1(3): a summary written within the 2 days escalates nothing', async () => {
    rig = await runbookRig({ at: NIGHT });
    rig.signal('FZ-B-12', 'alarm');
    const incident = rig.only();
    rig.engine.completeStep(incident.id, 'arrive', actors.supervisor, {});
    rig.engine.completeStep(incident.id, 'assess', actors.operator, { value: 'controllable' });
    rig.engine.stabilise(incident.id, actors.supervisor, 'fire out');
    rig.engine.completeStep(incident.id, 'tally', actors.supervisor, {});
    expect(deadlines(fresh(incident.id))).toEqual({ arrive: '2026-11-26T23:10', summary: '2026-11-28T22:40' });
    rig.advance(2 * DAY - MIN);
    rig.engine.completeStep(incident.id, 'summary', actors.supervisor, {});
    rig.advance(3 * DAY);
    expect(fresh(incident.id).escalations).toEqual([]);
  });
});

describe('fire-alarm false alarm, 第九节 一.3', () => {
  const falseAlarmAt2241 = async () => {
    rig = await runbookRig({ at: NIGHT });
    rig.signal('FZ-A-09', 'alarm');
    const incident = rig.only();
    rig.advance(MIN);
    rig.engine.completeStep(incident.id, 'assess', actors.operator, { value: 'false-alarm' });
    return incident;
  };

  it('第九节 一.3: a false alarm confirmed at 22:41 must be corrected by 22:44; corrected at 22:43 it never escalates', async () => {
    const incident = await falseAlarmAt2241();
    expect(stepsIn(fresh(incident.id), 'active')).toEqual(['broadcast', 'arrive', 'correction']);
    expect(deadlines(fresh(incident.id))).toEqual({ arrive: '2026-11-26T23:10', correction: '2026-11-26T22:44' });
    rig.advance(2 * MIN);
    rig.engine.completeStep(incident.id, 'correction', actors.operator, { note: 'CSC told, correction broadcast' });
    expect(rig.step(incident, 'explain').status).toBe('active');
    rig.advance(7 * MIN);
    rig.engine.completeStep(incident.id, 'arrive', actors.supervisor, {});
    rig.advance(6 * HOUR);
    expect(fresh(incident.id).escalations).toEqual([]);
    await flush();
    expect(sentFor(rig.sent, 'escalation')).toEqual([]);
    expect(sentFor(rig.sent, 'step').map(([step, roles]) => [step, roles])).toEqual([
      ['correction', ['fire-control', 'csc-duty']],
      ['explain', ['csc-duty']],
      ['entrances', ['administrator']],
      ['injured', ['administrator', 'director']],
    ]);
  });

  it('第九节 一.3: a false alarm corrected after 4 minutes escalates to the director and the division lead at 22:44 and 22:45', async () => {
    const incident = await falseAlarmAt2241();
    rig.advance(4 * MIN);
    rig.engine.completeStep(incident.id, 'correction', actors.operator, {});
    rig.engine.completeStep(incident.id, 'arrive', actors.supervisor, {});
    rig.advance(6 * HOUR);
    expect(escalationsOf(fresh(incident.id))).toEqual([
      ['correction', '2026-11-26T22:44', 1, ['director', 'division-lead']],
      ['correction', '2026-11-26T22:45', 2, ['director', 'division-lead']],
    ]);
    await flush();
    // The division lead works office hours; at night everyone rostered for the role is told.
    expect(sentFor(rig.sent, 'escalation')).toEqual([1, 2].map(() => ['correction', ['director', 'division-lead'], ['吴军', '周勇']]));
  });

  // fire-alarm.yaml: the notice "stays until the incident is stabilised: the fire is
  // out or the alarm confirmed false". Confirming and correcting it leaves the
  // evacuation notice on the screens until someone stabilises the incident by hand.
  it('第九节 一.3: once the false alarm is corrected, the evacuation notice comes off the screens', async () => {
    const incident = await falseAlarmAt2241();
    rig.advance(MIN);
    rig.engine.completeStep(incident.id, 'correction', actors.operator, {});
    expect(rig.engine.lobbyMessages()).toEqual([]);
  });

  // The tower's incident stays joinable until it is closed, so a real fire after a
  // stabilised false alarm joins it: it re-opens, but the notice (taken down at the
  // stabilisation) and the assessment (done: false-alarm) do not come back.
  it('第九节 一.1, 一.3: a new alarm in the tower after a stabilised false alarm opens a new incident, with the evacuation notice and a new assessment', async () => {
    const incident = await falseAlarmAt2241();
    rig.engine.completeStep(incident.id, 'correction', actors.operator, {});
    rig.engine.stabilise(incident.id, actors.supervisor, 'false alarm; zone reset');
    expect(rig.engine.lobbyMessages()).toEqual([]);
    advanceTo(rig, '2026-11-26T23:30');
    rig.signal('FZ-A-03', 'alarm');
    expect(fresh(incident.id).state).toBe('stabilised');
    const next = rig.engine.list().find((i) => i.state === 'open')!;
    expect(next.id).not.toBe(incident.id);
    expect(next).toMatchObject({ key: 'fire-alarm:A', signals: [{ signal: 'FZ-A-03', state: 'alarm' }] });
    expect(rig.engine.lobbyMessages().map((m) => [m.incidentId, m.screens])).toEqual([[next.id, ['A-lobby', 'A-lifts']]]);
    expect(stepsIn(next, 'active')).toContain('assess');
  });

  it('第九节 一.1(2), 一.3: after a restart in the middle of a night fire, the steps, timeline and escalations are kept and arrive still escalates at 23:10', async () => {
    const incident = await falseAlarmAt2241();
    rig.advance(3.5 * MIN); // correction escalates at 22:44
    rig.engine.completeStep(incident.id, 'correction', actors.operator, {});
    rig.advance(5.5 * MIN);
    await flush();
    const before = structuredClone(fresh(incident.id));
    expect(before.escalations).toHaveLength(1);
    await rig.restart();
    await flush();
    expect(rig.engine.get(incident.id)).toEqual(before);
    rig.advance(20 * MIN - 1); // 23:10 less 1 ms
    expect(fresh(incident.id).escalations).toHaveLength(1);
    rig.advance(1);
    expect(escalationsOf(fresh(incident.id))).toEqual([
      ['correction', '2026-11-26T22:44', 1, ['director', 'division-lead']],
      ['arrive', '2026-11-26T23:10', 1, ['director']],
    ]);
  });

  it('第九节 一.1, 一.3: the step\'s duty role decides who completes it; a viewer completes nothing', async () => {
    const incident = await falseAlarmAt2241();
    const refused = (key: string, actor: (typeof actors)[keyof typeof actors]) => {
      try {
        rig.engine.completeStep(incident.id, key, actor, {});
      } catch (err) {
        return err instanceof IncidentError ? [err.code, err.status] : err;
      }
      return 'allowed';
    };
    expect(refused('correction', actors.viewer)).toEqual(['BOHUB_FORBIDDEN', 403]);
    expect(refused('arrive', actors.operator)).toEqual(['BOHUB_FORBIDDEN', 403]); // the area supervisor's step
    expect(refused('arrive', actors.finance)).toEqual(['BOHUB_FORBIDDEN', 403]);
    expect(refused('arrive', actors.supervisor)).toBe('allowed');
    expect(refused('correction', actors.operator)).toBe('allowed');
  });
});

describe('fire-tenant-report, 第九节 一.2', () => {
  const FIELDS = { 'caller-name': '陈先生', phone: '021-60001056', mobile: '13800000056', place: 'A-0401', description: '茶水间冒烟' };

  it('第九节 一.2(1): in working time the caller\'s facts are required and recorded; an early fire gets the extinguisher advice', async () => {
    rig = await runbookRig({ at: WORKING });
    const { place: _, ...noPlace } = FIELDS;
    expect(() => rig.engine.startRunbook('fire-tenant-report', actors.operator, { fields: noPlace })).toThrow(/fields\.place/);
    const incident = rig.engine.startRunbook('fire-tenant-report', actors.operator, { fields: FIELDS });
    expect(incident).toMatchObject({ variant: 'working', fields: FIELDS, openedBy: 'operator' });
    expect(incident.steps.map((s) => s.key)).toEqual(['record', 'assess', 'advise-early', 'advise-evacuate', 'notify-fire-control', 'notify-director', 'notify-safety-director', 'phones', 'entrances']);
    expect(stepsIn(incident, 'active')).toEqual(['record']);
    rig.engine.completeStep(incident.id, 'record', actors.operator, {});
    rig.engine.completeStep(incident.id, 'assess', actors.operator, { value: 'early' });
    expect(stepsIn(fresh(incident.id), 'active')).toEqual(['advise-early', 'notify-fire-control', 'phones', 'entrances']);
    expect(stepsIn(fresh(incident.id), 'skipped')).toEqual(['advise-evacuate']);
    expect(rig.step(incident, 'advise-early').script?.zh).toContain('使用走廊上灭火器');
    expect(deadlines(fresh(incident.id))).toEqual({});
  });

  it('第九节 一.2(2): at night too, the fire-control room, then the director, then the safety director are told, each after the one before', async () => {
    rig = await runbookRig({ at: NIGHT });
    const incident = rig.engine.startRunbook('fire-tenant-report', actors.operator, { fields: FIELDS });
    expect(incident.variant).toBe('non-working');
    expect(incident.steps.map((s) => s.key)).toEqual(['record', 'assess', 'advise-early', 'advise-evacuate', 'notify-fire-control', 'notify-director', 'notify-safety-director', 'phones', 'entrances']);
    rig.engine.completeStep(incident.id, 'record', actors.operator, {});
    rig.engine.completeStep(incident.id, 'assess', actors.operator, { value: 'uncontrollable' });
    expect(rig.step(incident, 'advise-evacuate').script?.zh).toContain('从消防楼梯疏散到就近避难层');
    expect(stepsIn(fresh(incident.id), 'skipped')).toEqual(['advise-early']);
    expect(stepsIn(fresh(incident.id), 'waiting')).toEqual(['notify-director', 'notify-safety-director']);
    expect(() => rig.engine.completeStep(incident.id, 'notify-director', actors.operator, {})).toThrow(/waits for notify-fire-control/);
    await flush();
    const told = () => sentFor(rig.sent, 'step').filter(([step]) => step?.startsWith('notify-')).map(([, roles]) => roles);
    expect(told()).toEqual([['csc-duty', 'fire-control']]);
    rig.engine.completeStep(incident.id, 'notify-fire-control', actors.operator, {});
    await flush();
    expect(told()).toEqual([['csc-duty', 'fire-control'], ['csc-duty', 'director']]);
    rig.engine.completeStep(incident.id, 'notify-director', actors.operator, {});
    rig.engine.completeStep(incident.id, 'notify-safety-director', actors.operator, {});
    await flush();
    expect(told()).toEqual([['csc-duty', 'fire-control'], ['csc-duty', 'director'], ['csc-duty', 'safety-director']]);
    expect(stepsIn(fresh(incident.id), 'waiting')).toEqual([]);
  });
});
