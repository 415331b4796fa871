import { afterEach, describe, expect, it } from 'vitest';
import { IncidentError } from '../../gateway/runbooks/types.ts';
import { actors, advanceTo, deadlines, escalationsOf, flush, HOUR, local, localIso, MIN, runbookRig, sentFor, stepsIn, type RunbookRig } from '../helpers/runbooks.ts';

// The shipped building runbooks against the handbook: sudden power loss (第九节 五),
// flooding and major leaks (第九节 六, 第四节 一.3), gas leaks (第九节 七), the
// security incidents started by hand (第九节 四) and the holiday preparations
// (第九节 八). Safety signals open incidents through their alarm, so a leak must
// stay wet for the alarm's on-delay (5 s by default) before anything opens.

const WORKING = '2026-11-26T10:00'; // a Thursday, office hours
const NIGHT = '2026-11-26T22:40'; // the same Thursday, after the late shift
const TIMES = [['working', WORKING], ['non-working', NIGHT]] as const;
const ALL_SCREENS = ['A-lobby', 'B-lobby', 'A-lifts', 'B-lifts'];
const CAUSE = '市政10kV线路跳闸';

let rig: RunbookRig;
afterEach(async () => rig?.close());

const fresh = (id: number) => rig.engine.get(id)!;
const byTower = (tower: string) => rig.engine.list().find((i) => i.tower === tower)!;
/** The names told for one role in the incident's opening notification. */
const toldAtOpening = (role: string) => rig.sent.find((m) => m.notification.reason === 'opened')!.notification.recipients.filter((r) => r.role === role).map((r) => r.name);

describe('power-loss, 第九节 五.2', () => {
  it('第九节 五.2(1)-(5): a power loss in working time: M&E must find the cause within 2 minutes; late, the director is told every minute', async () => {
    rig = await runbookRig({ at: WORKING });
    rig.signal('PF-A-GEN', 'off'); // the standby generator is not the mains
    expect(rig.engine.list()).toEqual([]);
    rig.signal('PF-A-1', 'off');
    const incident = rig.only();
    expect(incident).toMatchObject({ runbook: 'power-loss', key: 'power-loss:A', tower: 'A', variant: 'working' });
    expect(incident.steps.map((s) => s.key)).toEqual(['broadcast', 'backup-power', 'find-cause', 'phones', 'reassure', 'reassure-broadcast', 'door-patrol', 'power-restored', 'lobby-cause', 'tally-losses']);
    expect(stepsIn(incident, 'waiting')).toEqual(['reassure-broadcast', 'lobby-cause', 'tally-losses']);
    expect(deadlines(incident)).toEqual({ 'find-cause': '2026-11-26T10:02' });
    expect(rig.engine.lobbyMessages()).toEqual([]); // the cause goes up once power is back
    advanceTo(rig, '2026-11-26T10:04:30');
    rig.engine.completeStep(incident.id, 'find-cause', actors.operator, { value: CAUSE });
    rig.advance(HOUR);
    expect(escalationsOf(fresh(incident.id))).toEqual([
      ['find-cause', '2026-11-26T10:02', 1, ['director']],
      ['find-cause', '2026-11-26T10:03', 2, ['director']],
      ['find-cause', '2026-11-26T10:04', 3, ['director']],
    ]);
    rig.engine.completeStep(incident.id, 'reassure', actors.supervisor, { value: 'not-needed' });
    expect(rig.step(incident, 'reassure-broadcast').status).toBe('skipped');
    await flush();
    expect(toldAtOpening('mne')).toEqual(['朱明']); // the office-hours M&E supervisor
    expect(sentFor(rig.sent, 'escalation')).toEqual([1, 2, 3].map(() => ['find-cause', ['director'], ['吴军']]));
  });

  it('第九节 五.2(2), 五.2(4): at night the cause found within 2 minutes escalates nothing; the director decides on a reassuring broadcast', async () => {
    rig = await runbookRig({ at: NIGHT });
    rig.signal('PF-B-2', 'off');
    const incident = rig.only();
    expect(incident).toMatchObject({ key: 'power-loss:B', variant: 'non-working' });
    expect(stepsIn(incident, 'active')).toEqual(['broadcast', 'backup-power', 'find-cause', 'phones', 'reassure', 'door-patrol', 'power-restored']);
    expect(deadlines(incident)).toEqual({ 'find-cause': '2026-11-26T22:42' });
    rig.advance(2 * MIN - 1);
    rig.engine.completeStep(incident.id, 'find-cause', actors.operator, { value: CAUSE });
    expect(() => rig.engine.completeStep(incident.id, 'reassure', actors.operator, { value: 'broadcast' })).toThrow(IncidentError);
    rig.engine.completeStep(incident.id, 'reassure', actors.supervisor, { value: 'broadcast' });
    expect(rig.step(incident, 'reassure-broadcast').status).toBe('active');
    rig.advance(2 * HOUR);
    expect(fresh(incident.id).escalations).toEqual([]);
    await flush();
    expect(toldAtOpening('mne')).toEqual(['胡超']); // M&E on the night shift
  });

  it('第九节 五.2(6), 五.2(7): power back on both incomers completes the step by signal and puts the notice on the tower\'s screens until the incident is closed', async () => {
    rig = await runbookRig({ at: NIGHT });
    rig.signal('PF-A-1', 'off');
    rig.signal('PF-A-2', 'off');
    const incident = rig.only();
    expect(incident.signals.map((s) => s.signal)).toEqual(['PF-A-1', 'PF-A-2']);
    rig.advance(20 * MIN);
    rig.signal('PF-A-1', 'on');
    expect([rig.step(incident, 'power-restored').status, fresh(incident.id).state]).toEqual(['active', 'open']);
    rig.advance(5 * MIN);
    rig.signal('PF-A-2', 'on');
    expect(rig.step(incident, 'power-restored')).toMatchObject({ status: 'done', doneBy: 'signal:PF-A-1,PF-A-2', doneAt: local('2026-11-26T23:05') });
    expect(fresh(incident.id).state).toBe('stabilised');
    expect(stepsIn(fresh(incident.id), 'active').slice(-2)).toEqual(['lobby-cause', 'tally-losses']);
    expect(rig.engine.lobbyMessages().map((m) => [m.stepKey, m.screens, m.priority, localIso(m.since)])).toEqual([['lobby-cause', ['A-lobby', 'A-lifts'], 3, '2026-11-26T23:05']]);
    rig.advance(HOUR);
    expect(rig.engine.lobbyMessages()).toHaveLength(1); // stabilised is not enough: until closed
    rig.engine.close(incident.id, actors.supervisor, 'mains restored; cause posted');
    expect(rig.engine.lobbyMessages()).toEqual([]);
  });

  // Power lost again before the incident is closed re-opens it, but the screens keep
  // saying power is back and the restoration step stays done.
  it('第九节 五.2(6): power lost again after it was restored opens a new incident, and the old notice that power is back comes down', async () => {
    rig = await runbookRig({ at: WORKING });
    rig.signal('PF-A-1', 'off');
    const first = rig.only();
    rig.advance(10 * MIN);
    rig.signal('PF-A-1', 'on');
    expect(rig.engine.get(first.id)!.state).toBe('stabilised');
    expect(rig.engine.lobbyMessages()).toHaveLength(1);
    rig.advance(10 * MIN);
    rig.signal('PF-A-1', 'off');
    const second = rig.engine.list().find((i) => i.state === 'open')!;
    expect(second.id).not.toBe(first.id);
    expect(rig.engine.lobbyMessages()).toEqual([]);
    expect(stepsIn(second, 'active')).toContain('power-restored');
    expect(rig.engine.get(first.id)!.timeline.at(-1)).toMatchObject({ what: `superseded by incident ${second.id}` });
  });

  // 五.2(6) "恢复供电后客户中心及时在液晶显示屏上发布信息,向业户解释停电原因": the
  // screens explain the cause. The shipped text only says a cause was found.
  it('第九节 五.2(6): the notice on the screens explains the cause M&E found', async () => {
    rig = await runbookRig({ at: WORKING });
    rig.signal('PF-B-1', 'off');
    const incident = rig.only();
    rig.engine.completeStep(incident.id, 'find-cause', actors.operator, { value: CAUSE });
    rig.signal('PF-B-1', 'on');
    expect(rig.engine.lobbyMessages().map((m) => m.text.zh)).toEqual([expect.stringContaining(CAUSE)]);
  });
});

describe('flooding, 第九节 六 and 第四节 一.3', () => {
  it('第九节 六: a splash shorter than the 5 s on-delay opens nothing; a leak that stays wet opens one incident for its sensor and unit', async () => {
    rig = await runbookRig({ at: WORKING });
    rig.signal('LK-A-R04', 'wet');
    rig.advance(3_000);
    rig.signal('LK-A-R04', 'dry');
    rig.advance(MIN);
    expect(rig.engine.list()).toEqual([]);
    rig.signal('LK-A-R04', 'wet'); // 10:01:03
    rig.advance(5_000 - 1);
    expect(rig.engine.list()).toEqual([]);
    rig.advance(1);
    expect(rig.only()).toMatchObject({ runbook: 'flooding', key: 'flooding:LK-A-R04', units: ['A-0401'], openedAt: local('2026-11-26T10:01') + 8_000 });
  });

  it('第四节 一.3: a major leak in working time: supervisor, CSC and maintenance on site within 15 minutes; late, the division lead and director are told every 5 minutes', async () => {
    rig = await runbookRig({ at: WORKING });
    rig.signal('LK-A-R08', 'wet');
    rig.signal('LK-B-R12', 'wet');
    rig.advance(5_000);
    const [a, b] = [byTower('A'), byTower('B')];
    expect(a.variant).toBe('working');
    expect(a.steps.map((s) => [s.key, s.status])).toEqual([['on-site', 'active'], ['measures', 'waiting']]);
    expect(deadlines(a)).toEqual({ 'on-site': '2026-11-26T10:15:05' });
    rig.advance(14 * MIN);
    rig.engine.completeStep(b.id, 'on-site', actors.supervisor, {}); // B: in time
    advanceTo(rig, '2026-11-26T10:27');
    rig.engine.completeStep(a.id, 'on-site', actors.supervisor, {});
    expect(rig.step(a, 'measures').status).toBe('active');
    rig.advance(HOUR);
    expect(escalationsOf(fresh(a.id))).toEqual([
      ['on-site', '2026-11-26T10:15:05', 1, ['division-lead', 'director']],
      ['on-site', '2026-11-26T10:20:05', 2, ['division-lead', 'director']],
      ['on-site', '2026-11-26T10:25:05', 3, ['division-lead', 'director']],
    ]);
    expect(fresh(b.id).escalations).toEqual([]);
    await flush();
    expect(rig.sent.find((m) => m.incident.id === a.id && m.notification.reason === 'opened')!.notification.roles).toEqual(['area-supervisor', 'csc-duty', 'maintenance']);
  });

  it('第九节 六.1-六.3: at night the patrol reports and phones the after-hours contacts; nobody answering brings the director\'s unlock decision, an answer does not', async () => {
    rig = await runbookRig({ at: NIGHT });
    rig.signal('LK-A-R04', 'wet');
    rig.signal('LK-B-R04', 'wet');
    rig.advance(5_000);
    const [a, b] = [byTower('A'), byTower('B')];
    expect(a.variant).toBe('non-working');
    expect(a.steps.map((s) => s.key)).toEqual(['report', 'call-contacts', 'notify-leads', 'to-site', 'unlock', 'revisit', 'follow-up']);
    expect(stepsIn(a, 'active')).toEqual(['report']);
    expect(a.contacts.map((c) => [c.name, c.hours])).toEqual([['徐磊', 'afterHours'], ['孙涛', 'afterHours'], ['周艳', 'office'], ['吴超', 'office']]);
    for (const i of [a, b]) rig.engine.completeStep(i.id, 'report', actors.operator, {});
    rig.engine.completeStep(a.id, 'call-contacts', actors.operator, { calls: [{ name: '徐磊', phone: '13800000058', outcome: 'no-answer' }, { name: '孙涛', phone: '13800000059', outcome: 'busy' }] });
    const c = b.contacts[0]!;
    rig.engine.completeStep(b.id, 'call-contacts', actors.operator, { calls: [{ name: c.name, phone: c.mobile!, outcome: 'answered' }] });
    expect(stepsIn(fresh(a.id), 'active')).toEqual(['notify-leads', 'unlock']);
    expect([stepsIn(fresh(b.id), 'active'), stepsIn(fresh(b.id), 'skipped')]).toEqual([['notify-leads'], ['unlock']]);
    expect(() => rig.engine.completeStep(a.id, 'unlock', actors.operator, { value: 'unlock' })).toThrow(/may not complete/);
    rig.engine.completeStep(a.id, 'unlock', actors.supervisor, { value: 'unlock' });
    expect(rig.step(a, 'unlock')).toMatchObject({ status: 'done', value: 'unlock', doneBy: 'supervisor' });
    await flush();
    expect(sentFor(rig.sent, 'opened').map(([, roles]) => roles)).toEqual([['security-patrol', 'security-leader'], ['security-patrol', 'security-leader']]);
    expect(sentFor(rig.sent, 'step').filter(([step]) => step === 'unlock')).toEqual([['unlock', ['director', 'security-leader'], ['吴军', '黄涛']]]);
  });

  it('第九节 六.4, 六.5: a leak on a Friday night is revisited by Tuesday 17:30 (two working days), escalating daily to the division lead; weekly visits follow', async () => {
    rig = await runbookRig({ at: '2026-11-27T22:40' });
    rig.signal('LK-A-R12', 'wet');
    rig.advance(5_000);
    const incident = rig.only();
    rig.engine.completeStep(incident.id, 'report', actors.operator, {});
    rig.engine.completeStep(incident.id, 'call-contacts', actors.operator, { calls: [{ name: incident.contacts[0]!.name, phone: incident.contacts[0]!.phone, outcome: 'answered' }] });
    rig.engine.completeStep(incident.id, 'notify-leads', actors.operator, {});
    rig.engine.completeStep(incident.id, 'to-site', actors.supervisor, {});
    expect(deadlines(fresh(incident.id))).toEqual({ revisit: '2026-12-01T17:30' });
    advanceTo(rig, '2026-12-02T18:00');
    expect(escalationsOf(fresh(incident.id))).toEqual([
      ['revisit', '2026-12-01T17:30', 1, ['division-lead']],
      ['revisit', '2026-12-02T17:30', 2, ['division-lead']],
    ]);
    rig.engine.completeStep(incident.id, 'revisit', actors.supervisor, {});
    expect(deadlines(fresh(incident.id))['follow-up']).toBe('2026-12-09T18:00');
  });
});

describe('gas-leak, 第九节 七.2', () => {
  it('第九节 七.2: in working time the electrical engineer calls the gas company (5 minutes, ours), security seals the area, windows are opened; late, the director and safety director are told every 5 minutes', async () => {
    rig = await runbookRig({ at: WORKING });
    rig.signal('GS-A-K01', 'alarm');
    const incident = rig.only();
    expect(incident).toMatchObject({ runbook: 'gas-leak', key: 'gas-leak:A', variant: 'working' });
    expect(incident.steps.map((s) => [s.key, s.status])).toEqual([['call-gas-company', 'active'], ['shut-valve', 'waiting'], ['seal-area', 'active'], ['ventilate', 'active']]);
    expect(deadlines(incident)).toEqual({ 'call-gas-company': '2026-11-26T10:05' });
    advanceTo(rig, '2026-11-26T10:12');
    rig.engine.completeStep(incident.id, 'call-gas-company', actors.operator, { value: 'shut-valve' });
    expect(rig.step(incident, 'shut-valve').status).toBe('active');
    rig.advance(HOUR);
    expect(escalationsOf(fresh(incident.id))).toEqual([
      ['call-gas-company', '2026-11-26T10:05', 1, ['director', 'safety-director']],
      ['call-gas-company', '2026-11-26T10:10', 2, ['director', 'safety-director']],
    ]);
    await flush();
    expect([toldAtOpening('electrical-engineer'), toldAtOpening('security-leader')]).toEqual([['王磊'], ['陈军']]);
  });

  it('第九节 七.2: at night detectors of one tower join one incident, the other tower has its own; "do not shut" skips the valve step', async () => {
    rig = await runbookRig({ at: NIGHT });
    rig.signal('GS-B-B1-METER', 'alarm');
    rig.signal('GS-B-K02', 'alarm');
    rig.signal('GS-A-K02', 'alarm');
    expect(rig.engine.list().map((i) => [i.key, i.variant, i.signals.map((s) => s.signal)]).sort()).toEqual([
      ['gas-leak:A', 'non-working', ['GS-A-K02']],
      ['gas-leak:B', 'non-working', ['GS-B-B1-METER', 'GS-B-K02']],
    ]);
    const b = byTower('B');
    rig.advance(3 * MIN);
    rig.engine.completeStep(b.id, 'call-gas-company', actors.operator, { value: 'do-not-shut' });
    expect(rig.step(b, 'shut-valve').status).toBe('skipped');
    rig.advance(HOUR);
    expect(fresh(b.id).escalations).toEqual([]);
    await flush();
    expect(toldAtOpening('security-leader')).toEqual(['黄涛']);
  });
});

describe('security incidents started by hand, 第九节 四', () => {
  it.each(TIMES)('第九节 四.2(3): a bomb threat in %s time: record the caller, report to the director and division lead, the director decides on the police, then help evacuate', async (variant, at) => {
    rig = await runbookRig({ at });
    expect(() => rig.engine.startRunbook('bomb-threat', actors.operator, { fields: { 'caller-number': '021-5555' } })).toThrow(/fields\.description/);
    const incident = rig.engine.startRunbook('bomb-threat', actors.operator, { fields: { description: 'a bomb in the B1 car park at noon' } });
    expect(incident.variant).toBe(variant);
    expect(incident.steps.map((s) => [s.key, s.status])).toEqual([['record-caller', 'active'], ['report', 'waiting'], ['police', 'waiting'], ['evacuate', 'waiting']]);
    expect(() => rig.engine.completeStep(incident.id, 'record-caller', actors.operator, {})).toThrow(/value is required/);
    rig.engine.completeStep(incident.id, 'record-caller', actors.operator, { value: 'male, about 40, local accent' });
    rig.engine.completeStep(incident.id, 'report', actors.operator, {});
    expect(() => rig.engine.completeStep(incident.id, 'police', actors.operator, { value: 'call-police' })).toThrow(IncidentError);
    rig.engine.completeStep(incident.id, 'police', actors.supervisor, { value: 'call-police' });
    expect(rig.step(incident, 'evacuate').status).toBe('active');
    await flush();
    expect(sentFor(rig.sent, 'step').find(([step]) => step === 'report')?.[1]).toEqual(['csc-duty', 'director', 'division-lead']);
  });

  it.each(TIMES)('第九节 四.2(1): a theft in %s time: report to the division lead and security captain first, then the supervisor on site, then revisits and the door', async (variant, at) => {
    rig = await runbookRig({ at });
    expect(() => rig.engine.startRunbook('theft', actors.operator, { fields: { description: 'laptop gone' } })).toThrow(/fields\.unit/);
    const incident = rig.engine.startRunbook('theft', actors.operator, { fields: { unit: 'A-0401', description: 'laptop gone' } });
    expect([incident.variant, stepsIn(incident, 'active'), stepsIn(incident, 'waiting')]).toEqual([variant, ['report'], ['on-site', 'revisit', 'door-repair']]);
    rig.engine.completeStep(incident.id, 'report', actors.operator, {});
    expect(() => rig.engine.completeStep(incident.id, 'on-site', actors.operator, {})).toThrow(IncidentError); // the area supervisor's
    rig.engine.completeStep(incident.id, 'on-site', actors.supervisor, {});
    expect(stepsIn(fresh(incident.id), 'active')).toEqual(['revisit', 'door-repair']);
    await flush();
    expect(sentFor(rig.sent, 'opened').map(([, roles]) => roles)).toEqual([['csc-duty', 'division-lead', 'security-leader']]);
    expect(sentFor(rig.sent, 'step').find(([step]) => step === 'on-site')?.[1]).toEqual(['area-supervisor', 'administrator', 'security-leader']);
  });

  it.each(TIMES)('第九节 四.1: a fight in %s time: security leads, the supervisor goes at once; afterwards a revisit, and a written report only when the cause was ours', async (variant, at) => {
    rig = await runbookRig({ at });
    const ours = rig.engine.startRunbook('violence', actors.operator, { fields: { place: 'B-1F lobby' } });
    rig.advance(1);
    const theirs = rig.engine.startRunbook('violence', actors.operator, { fields: { place: 'A-3F' } });
    expect([ours.variant, stepsIn(ours, 'active'), stepsIn(ours, 'waiting')]).toEqual([variant, ['security-lead', 'on-site'], ['revisit', 'written-report']]);
    for (const i of [ours, theirs]) rig.engine.stabilise(i.id, actors.supervisor, 'police left');
    rig.engine.completeStep(ours.id, 'revisit', actors.supervisor, { value: 'controllable' });
    rig.engine.completeStep(theirs.id, 'revisit', actors.supervisor, { value: 'not-controllable' });
    expect(rig.step(ours, 'written-report').status).toBe('active');
    expect(rig.step(theirs, 'written-report').status).toBe('skipped');
  });

  it.each(TIMES)('第九节 四.2(2)4: an explosion in %s time: security tells CSC, which splits into a phone group and an entrance group', async (variant, at) => {
    rig = await runbookRig({ at });
    const incident = rig.engine.startRunbook('explosion', actors.operator, { fields: { place: 'A-B1 plant room' } });
    expect([incident.variant, stepsIn(incident, 'active'), stepsIn(incident, 'waiting')]).toEqual([variant, ['inform-csc'], ['phone-group', 'entrance-group']]);
    rig.engine.completeStep(incident.id, 'inform-csc', actors.operator, {});
    expect(stepsIn(fresh(incident.id), 'active')).toEqual(['phone-group', 'entrance-group']);
    rig.advance(24 * HOUR);
    expect(fresh(incident.id).escalations).toEqual([]); // no handbook deadlines
    await flush();
    expect(sentFor(rig.sent, 'opened').map(([, roles]) => roles)).toEqual([['security-leader', 'csc-duty', 'area-supervisor']]);
  });
});

describe('holiday-notices, 第九节 八', () => {
  it('第九节 八.1-八.2: a week before 国庆节 the calendar opens the preparations at midnight (non-working time); the notice goes on every screen once the director approves it, and comes down at close', async () => {
    rig = await runbookRig({ at: '2026-09-23T10:00' });
    advanceTo(rig, '2026-09-23T23:59');
    expect(rig.engine.list()).toEqual([]);
    advanceTo(rig, '2026-09-24T00:00');
    const incident = rig.only();
    expect(incident).toMatchObject({ runbook: 'holiday-notices', key: 'holiday-notices:2026-10-01', variant: 'non-working', openedAt: local('2026-09-24T00:00'), fields: { holiday: '国庆节', date: '2026-10-01' } });
    expect(incident.steps.map((s) => s.key)).toEqual(['maintenance-plan', 'safety-notes', 'approve-notice', 'lobby-notice', 'tenant-duty', 'contacts', 'duty-roster']);
    expect(stepsIn(incident, 'waiting')).toEqual(['approve-notice', 'lobby-notice']);
    expect(deadlines(incident)).toEqual({});
    rig.engine.completeStep(incident.id, 'maintenance-plan', actors.operator, {});
    rig.engine.completeStep(incident.id, 'safety-notes', actors.operator, {});
    expect(rig.engine.lobbyMessages()).toEqual([]); // 第七节 二: nothing is shown before it is approved
    expect(() => rig.engine.completeStep(incident.id, 'approve-notice', actors.operator, {})).toThrow(IncidentError);
    advanceTo(rig, '2026-09-24T09:00');
    rig.engine.completeStep(incident.id, 'approve-notice', actors.supervisor, {});
    expect(rig.engine.lobbyMessages().map((m) => [m.stepKey, m.screens, m.priority, localIso(m.since)])).toEqual([['lobby-notice', ALL_SCREENS, 5, '2026-09-24T09:00']]);
    rig.engine.close(incident.id, actors.supervisor, 'notices posted and removed');
    expect(rig.engine.lobbyMessages()).toEqual([]);
  });

  it('第九节 八.1: opened at once by a hub started in working time within the week; 劳动节 on a Saturday opens in non-working time; 元旦 has no preparations', async () => {
    const opened = async (at: string) => {
      rig = await runbookRig({ at });
      const found = rig.engine.list().map((i) => [i.key, i.variant, localIso(i.openedAt)]);
      await rig.close();
      return found;
    };
    expect(await opened('2026-09-24T10:00')).toEqual([['holiday-notices:2026-10-01', 'working', '2026-09-24T10:00']]);
    expect(await opened('2027-04-24T09:00')).toEqual([['holiday-notices:2027-05-01', 'non-working', '2027-04-24T09:00']]);
    expect(await opened('2026-12-26T10:00')).toEqual([]);
  });

  // 八.2(3) "过期后及时由咨询台撤除" and 第七节 二.6 "对超过期限的信息应在一天内予以撤除":
  // the holiday notice expires with the holiday (国庆节 ends 2026-10-07) and must be
  // off the screens within a day. It stays "until: closed", with no countdown to close.
  it('第九节 八.2(3), 第七节 二.6: the holiday notice is off the screens within a day after the holiday ends', async () => {
    rig = await runbookRig({ at: '2026-09-24T10:00' });
    const incident = rig.only();
    for (const key of ['maintenance-plan', 'safety-notes']) rig.engine.completeStep(incident.id, key, actors.operator, {});
    rig.engine.completeStep(incident.id, 'approve-notice', actors.supervisor, {});
    expect(rig.engine.lobbyMessages()).toHaveLength(1);
    advanceTo(rig, '2026-10-09T00:00');
    expect(rig.engine.lobbyMessages()).toEqual([]);
  });
});
