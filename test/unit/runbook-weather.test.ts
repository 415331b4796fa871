import { afterEach, describe, expect, it } from 'vitest';
import { IncidentError } from '../../gateway/runbooks/types.ts';
import { actors, advanceTo, deadlines, escalationsOf, flush, HOUR, localIso, runbookRig, sentFor, stepsIn, type RunbookRig } from '../helpers/runbooks.ts';

// The shipped weather runbooks (config/runbooks/typhoon.yaml, rainstorm.yaml) against
// the handbook, 第九节 二 and 三. Weather signals raise no alarm: a change of the
// relayed signal opens or joins the site's one incident directly, the incident
// follows the highest level reached, and the all clear ('none') stabilises it.

const WORKING = '2026-11-26T10:00'; // a Thursday, office hours
const NIGHT = '2026-11-26T22:40'; // the same Thursday, after the late shift
const ALL_SCREENS = ['A-lobby', 'B-lobby', 'A-lifts', 'B-lifts'];

let rig: RunbookRig;
afterEach(async () => rig?.close());

const fresh = (id: number) => rig.engine.get(id)!;

describe('typhoon, 第九节 二', () => {
  it('第九节 二.1(1): signal 1 in working time: internal preparation and patrols, no tenant notice, nothing on the screens; the daily relay escalates once to the safety director', async () => {
    rig = await runbookRig({ at: WORKING });
    rig.signal('WX-TYPHOON', '1');
    const incident = rig.only();
    expect(incident).toMatchObject({ runbook: 'typhoon', key: 'typhoon:site', level: '1', variant: 'working' });
    expect(incident.steps.map((s) => s.key)).toEqual(['relay', 'patrol', 'prepare', 'all-clear', 'notices-down', 'visit-damaged']);
    expect(stepsIn(incident, 'active')).toEqual(['relay', 'patrol', 'prepare']);
    expect(deadlines(incident)).toEqual({ relay: '2026-11-27T10:00' });
    expect(rig.engine.lobbyMessages()).toEqual([]);
    advanceTo(rig, '2026-11-29T10:00');
    expect(escalationsOf(fresh(incident.id))).toEqual([['relay', '2026-11-27T10:00', 1, ['safety-director']]]);
  });

  it('第九节 二.1(2), 二.2(2), 二.3: signal 3 at night: a notice, a leadership meeting within one day, at least two on the phones, one staying overnight; a meeting held in time escalates nothing', async () => {
    rig = await runbookRig({ at: NIGHT });
    rig.signal('WX-TYPHOON', '3');
    const incident = rig.only();
    expect(incident).toMatchObject({ level: '3', variant: 'non-working' });
    expect(incident.steps.map((s) => s.key)).toEqual(['relay', 'patrol', 'notice', 'leadership-meeting', 'duty-arrangements', 'phones', 'overnight', 'all-clear', 'notices-down', 'visit-damaged']);
    expect(stepsIn(incident, 'active')).toEqual(['relay', 'patrol', 'notice', 'leadership-meeting', 'duty-arrangements', 'phones', 'overnight']);
    expect(deadlines(incident)).toEqual({ relay: '2026-11-27T22:40', 'leadership-meeting': '2026-11-27T22:40' });
    expect(rig.engine.lobbyMessages()).toEqual([]); // the screens are for signal 4 and 5

    rig.engine.completeStep(incident.id, 'phones', actors.operator, { value: 1 });
    expect(rig.step(incident, 'phones').status).toBe('active');
    rig.engine.completeStep(incident.id, 'phones', actors.operator, { value: 2 });
    expect(rig.step(incident, 'phones').status).toBe('done');
    // The director calls the meeting: an operator may not record it.
    expect(() => rig.engine.completeStep(incident.id, 'leadership-meeting', actors.operator, {})).toThrow(IncidentError);
    advanceTo(rig, '2026-11-27T22:39');
    rig.engine.completeStep(incident.id, 'leadership-meeting', actors.supervisor, { note: 'held 09:00' });
    advanceTo(rig, '2026-11-30T10:00');
    expect(fresh(incident.id).escalations.filter((e) => e.stepKey === 'leadership-meeting')).toEqual([]);
  });

  it('第九节 二.1(2): rising 1 → 3 in working time adds the signal-3 steps to the same incident; the meeting is due one day after the rise and escalates every 6 hours', async () => {
    rig = await runbookRig({ at: WORKING });
    rig.signal('WX-TYPHOON', '1');
    advanceTo(rig, '2026-11-26T15:00');
    rig.signal('WX-TYPHOON', '3');
    const incident = rig.only();
    expect(incident.level).toBe('3');
    expect(rig.changes.filter((c) => c.change === 'opened' || c.change === 'joined').map((c) => c.change)).toEqual(['opened', 'joined']);
    expect(stepsIn(incident, 'active')).toEqual(['relay', 'patrol', 'prepare', 'notice', 'leadership-meeting', 'duty-arrangements', 'phones', 'overnight']);
    expect(deadlines(incident)).toEqual({ relay: '2026-11-27T10:00', 'leadership-meeting': '2026-11-27T15:00' });
    advanceTo(rig, '2026-11-28T04:00');
    expect(escalationsOf(fresh(incident.id))).toEqual([
      ['relay', '2026-11-27T10:00', 1, ['safety-director']],
      ['leadership-meeting', '2026-11-27T15:00', 1, ['director', 'division-lead']],
      ['leadership-meeting', '2026-11-27T21:00', 2, ['director', 'division-lead']],
      ['leadership-meeting', '2026-11-28T03:00', 3, ['director', 'division-lead']],
    ]);
  });

  it('第九节 二.1(3): rising 3 → 4 adds the weather on every lobby screen, door-to-door notices and two contact numbers per unit, in the same incident', async () => {
    rig = await runbookRig({ at: NIGHT });
    rig.signal('WX-TYPHOON', '3');
    rig.advance(HOUR);
    rig.signal('WX-TYPHOON', '4');
    const incident = rig.only();
    expect(incident.level).toBe('4');
    expect(incident.steps.map((s) => s.key).slice(-3)).toEqual(['lobby-weather', 'door-to-door', 'contacts']);
    expect(stepsIn(incident, 'active')).toEqual(['relay', 'patrol', 'notice', 'leadership-meeting', 'duty-arrangements', 'phones', 'overnight', 'lobby-weather', 'door-to-door', 'contacts']);
    const lobby = rig.engine.lobbyMessages();
    expect(lobby.map((m) => [m.stepKey, m.screens, m.priority, localIso(m.since)])).toEqual([['lobby-weather', ALL_SCREENS, 2, '2026-11-26T23:40']]);
    expect(lobby[0]!.text.zh).toContain('四号或以上风球');
    rig.engine.completeStep(incident.id, 'contacts', actors.operator, { value: 1 });
    expect(rig.step(incident, 'contacts').status).toBe('active');
    // Signal 5 is the same procedure: nothing new, the same one incident.
    rig.signal('WX-TYPHOON', '5');
    expect(rig.only().id).toBe(incident.id);
    expect(fresh(incident.id).steps).toHaveLength(13);
    expect(rig.engine.lobbyMessages()).toHaveLength(1);
  });

  it('第九节 二.4: the all clear stabilises the incident, takes the weather off the screens and opens the all-clear steps', async () => {
    rig = await runbookRig({ at: WORKING });
    rig.signal('WX-TYPHOON', '4');
    const incident = rig.only();
    expect(rig.engine.lobbyMessages()).toHaveLength(1);
    advanceTo(rig, '2026-11-27T09:00');
    rig.signal('WX-TYPHOON', 'none');
    expect(fresh(incident.id)).toMatchObject({ state: 'stabilised', stabilisedAt: rig.clock.now() });
    expect(rig.engine.lobbyMessages()).toEqual([]);
    expect(rig.step(incident, 'all-clear').status).toBe('active');
    expect([rig.step(incident, 'notices-down').status, rig.step(incident, 'visit-damaged').status]).toEqual(['waiting', 'waiting']);
    rig.engine.completeStep(incident.id, 'all-clear', actors.operator, {});
    expect(stepsIn(fresh(incident.id), 'active').slice(-2)).toEqual(['notices-down', 'visit-damaged']);
    await flush();
    expect(sentFor(rig.sent, 'step').filter(([step]) => step === 'all-clear').map(([, roles]) => roles)).toEqual([['fire-control', 'csc-duty']]);
  });

  // The site's incident stays joinable until it is closed: a signal hoisted again
  // after the all clear re-opens it, but the weather message, taken down at the
  // all clear, is not put back because its step is already there.
  it('第九节 二.1(3): signal 4 hoisted again after an all clear opens a new incident and puts the weather back on the screens', async () => {
    rig = await runbookRig({ at: WORKING });
    rig.signal('WX-TYPHOON', '4');
    advanceTo(rig, '2026-11-27T09:00');
    rig.signal('WX-TYPHOON', 'none');
    advanceTo(rig, '2026-11-28T10:00');
    rig.signal('WX-TYPHOON', '4');
    const open = rig.engine.list().filter((i) => i.state === 'open');
    expect(open).toHaveLength(1);
    expect(rig.engine.list()).toHaveLength(2); // the first waits, stabilised, for its report
    expect(rig.engine.lobbyMessages().map((m) => [m.incidentId, m.stepKey, m.screens])).toEqual([[open[0]!.id, 'lobby-weather', ALL_SCREENS]]);
  });

  // 二.1 "每天至少通报客户服务中心一次": the relay is for while the signal is up. After
  // the all clear (二.4) there is nothing left to relay.
  it('第九节 二.1, 二.4: after the all clear the daily relay is no longer due and escalates to nobody', async () => {
    rig = await runbookRig({ at: WORKING });
    rig.signal('WX-TYPHOON', '3');
    const incident = rig.only();
    rig.engine.completeStep(incident.id, 'leadership-meeting', actors.supervisor, {});
    advanceTo(rig, '2026-11-26T10:30');
    rig.engine.completeStep(incident.id, 'relay', actors.operator, {});
    advanceTo(rig, '2026-11-26T18:00');
    rig.signal('WX-TYPHOON', 'none');
    advanceTo(rig, '2026-11-29T18:00');
    expect(escalationsOf(fresh(incident.id))).toEqual([]);
  });

  // 二.1 "每天至少通报一次": at least once every day, so the next relay is due one day
  // after the last one. Counting from the last due time instead lets nearly two
  // days pass between relays (10:05 today, then 09:59 the day after tomorrow).
  it('第九节 二.1: at least once a day: the next relay is due one day after the last relay', async () => {
    rig = await runbookRig({ at: WORKING });
    rig.signal('WX-TYPHOON', '3');
    const incident = rig.only();
    advanceTo(rig, '2026-11-26T10:05');
    rig.engine.completeStep(incident.id, 'relay', actors.operator, {});
    expect(deadlines(fresh(incident.id))['relay#2']).toBe('2026-11-27T10:05');
  });
});

describe('rainstorm, 第九节 三', () => {
  it('第九节 三.1(1): yellow in working time: internal preparation only, nothing on the screens, no meeting', async () => {
    rig = await runbookRig({ at: WORKING });
    rig.signal('WX-RAINSTORM', 'yellow');
    const incident = rig.only();
    expect(incident).toMatchObject({ runbook: 'rainstorm', key: 'rainstorm:site', level: 'yellow', variant: 'working' });
    expect(incident.steps.map((s) => s.key)).toEqual(['relay', 'patrol', 'prepare', 'all-clear', 'notices-down', 'visit-damaged']);
    expect(stepsIn(incident, 'active')).toEqual(['relay', 'patrol', 'prepare']);
    expect(deadlines(incident)).toEqual({ relay: '2026-11-27T10:00' });
    expect(rig.engine.lobbyMessages()).toEqual([]);
  });

  it('第九节 三.1(2), 三.2(2): red in working time: the warning on every screen, a meeting within one day (escalating every 6 hours), two on the phones, one overnight', async () => {
    rig = await runbookRig({ at: WORKING });
    rig.signal('WX-RAINSTORM', 'red');
    const incident = rig.only();
    expect(incident.steps.map((s) => s.key)).toEqual(['relay', 'patrol', 'lobby-warning', 'leadership-meeting', 'duty-arrangements', 'phones', 'overnight', 'all-clear', 'notices-down', 'visit-damaged']);
    expect(stepsIn(incident, 'active')).toEqual(['relay', 'patrol', 'lobby-warning', 'leadership-meeting', 'duty-arrangements', 'phones', 'overnight']);
    expect(deadlines(incident)).toEqual({ relay: '2026-11-27T10:00', 'leadership-meeting': '2026-11-27T10:00' });
    const lobby = rig.engine.lobbyMessages();
    expect(lobby.map((m) => [m.stepKey, m.screens, m.priority])).toEqual([['lobby-warning', ALL_SCREENS, 2]]);
    expect(lobby[0]!.text.zh).toContain('红色或以上暴雨预警');
    rig.engine.completeStep(incident.id, 'phones', actors.operator, { value: 1 });
    expect(rig.step(incident, 'phones').status).toBe('active');
    advanceTo(rig, '2026-11-27T22:30');
    expect(escalationsOf(fresh(incident.id))).toEqual([
      ['relay', '2026-11-27T10:00', 1, ['safety-director']],
      ['leadership-meeting', '2026-11-27T10:00', 1, ['director', 'division-lead']],
      ['leadership-meeting', '2026-11-27T16:00', 2, ['director', 'division-lead']],
      ['leadership-meeting', '2026-11-27T22:00', 3, ['director', 'division-lead']],
    ]);
  });

  it('第九节 三.2(2), 三.3: red at night: the phones step is for working time, so only the overnight duty and the rest apply', async () => {
    rig = await runbookRig({ at: NIGHT });
    rig.signal('WX-RAINSTORM', 'red');
    const incident = rig.only();
    expect(incident.variant).toBe('non-working');
    expect(stepsIn(incident, 'active')).toEqual(['relay', 'patrol', 'lobby-warning', 'leadership-meeting', 'duty-arrangements', 'overnight']);
    expect(deadlines(incident)).toEqual({ relay: '2026-11-27T22:40', 'leadership-meeting': '2026-11-27T22:40' });
    expect(rig.engine.lobbyMessages().map((m) => m.screens)).toEqual([ALL_SCREENS]);
  });

  // 三.2(2) "红色预警或以上时,在上班时间至少安排两人专门接听业户电话": a red warning
  // issued at night that is still in force when the office opens needs the phones.
  // The incident's working/non-working variant is fixed when it opens (22:40).
  it('第九节 三.2(2): a red warning from the night still in force at 08:30 the next working day puts two people on the phones', async () => {
    rig = await runbookRig({ at: NIGHT });
    rig.signal('WX-RAINSTORM', 'red');
    const incident = rig.only();
    advanceTo(rig, '2026-11-27T08:30');
    expect(fresh(incident.id).steps.find((s) => s.key === 'phones')?.status).toBe('active');
  });

  it('第九节 三.1(3): yellow → red → black is one incident; black adds door-to-door notices and contacts, and the red warning stays the one message on the screens', async () => {
    rig = await runbookRig({ at: WORKING });
    rig.signal('WX-RAINSTORM', 'yellow');
    advanceTo(rig, '2026-11-26T11:00');
    rig.signal('WX-RAINSTORM', 'red');
    advanceTo(rig, '2026-11-26T12:00');
    rig.signal('WX-RAINSTORM', 'black');
    const incident = rig.only();
    expect(incident.level).toBe('black');
    expect(incident.steps.map((s) => s.key)).toEqual([
      'relay', 'patrol', 'prepare', 'all-clear', 'notices-down', 'visit-damaged',
      'lobby-warning', 'leadership-meeting', 'duty-arrangements', 'phones', 'overnight',
      'lobby-weather', 'door-to-door', 'contacts',
    ]);
    expect(deadlines(incident)).toEqual({ relay: '2026-11-27T10:00', 'leadership-meeting': '2026-11-27T11:00' });
    expect(rig.engine.lobbyMessages().map((m) => [m.stepKey, localIso(m.since)])).toEqual([['lobby-warning', '2026-11-26T11:00']]);
  });

  it('第九节 三.4: the all clear takes the warning off the screens, stabilises the incident and opens the all-clear steps', async () => {
    rig = await runbookRig({ at: NIGHT });
    rig.signal('WX-RAINSTORM', 'black');
    const incident = rig.only();
    expect(rig.engine.lobbyMessages()).toHaveLength(1);
    advanceTo(rig, '2026-11-27T06:00');
    rig.signal('WX-RAINSTORM', 'none');
    expect(fresh(incident.id).state).toBe('stabilised');
    expect(rig.engine.lobbyMessages()).toEqual([]);
    expect(rig.step(incident, 'all-clear').status).toBe('active');
    rig.engine.completeStep(incident.id, 'all-clear', actors.operator, {});
    expect(stepsIn(fresh(incident.id), 'active').slice(-2)).toEqual(['notices-down', 'visit-damaged']);
  });
});
