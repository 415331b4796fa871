import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../gateway/config/load.ts';
import { silentLogger } from '../../gateway/log.ts';
import { RunbookEngine } from '../../gateway/runbooks/engine.ts';
import { tempDir, writeConfig } from '../helpers/config.ts';
import { IncidentError } from '../../gateway/runbooks/types.ts';
import { actors, local, MIN, runbookRig, type RunbookRig } from '../helpers/runbooks.ts';

// The engine's rules with small runbooks of our own: triggers and deduplication,
// variants, ordering and branches, deadlines (minutes and working days), escalation,
// recurring steps, lobby effects, holidays, permissions and restarts. The shipped
// runbooks are checked against the handbook in runbook-scenarios.test.ts.

const bi = (en: string) => `{ zh: "${en}", en: "${en}" }`;
const step = (id: string, extra = '', role = 'csc-duty') => `
  - id: ${id}
    role: ${role}
    title: ${bi(id)}
    text: ${bi(`do ${id}`)}${extra}`;

const LEAK = `
id: test-leak
title: ${bi('leak')}
handbook: test
priority: 3
trigger: { type: signal, kind: leak, states: [wet], groupBy: tower }
stabiliseWhen: quiet
steps:${step('look', `
    deadline: { within: 15m, from: start }
    escalate: { to: [director], every: 5m }
    lobby: { text: ${bi('water')}, priority: 2, until: 'step:dry-up' }`)}${step('call', `
    when: { time: non-working }
    complete: { by: calls }`)}${step('unlock', `
    after: [call=no-answer]
    complete: { by: value, type: choice, label: ${bi('decision')}, choices: [{ id: unlock, label: ${bi('unlock')} }, { id: wait, label: ${bi('wait')} }] }`, 'director')}${step('revisit', `
    after: [look]
    deadline: { workingDays: 2, from: look }`)}${step('weekly', `
    after: [revisit]
    deadline: { within: 1w }
    repeat: { every: 1w }`)}${step('dry-up', `
    complete: { by: signal, states: [dry] }`)}${step('after-care', `
    after: ['@stabilised']`)}
`;

const THEFT = `
id: test-theft
title: ${bi('theft')}
handbook: test
priority: 5
trigger: { type: manual, fields: [{ id: place, label: ${bi('place')}, required: true }] }
steps:${step('report', '', 'director')}${step('count', `
    complete: { by: value, type: number, min: 3, label: ${bi('people')} }`)}
`;

const HOLIDAY = `
id: test-holiday
title: ${bi('holiday')}
handbook: test
priority: 6
trigger: { type: holiday, names: [春节], daysBefore: 7 }
steps:${step('notice')}
`;

let rig: RunbookRig;
afterEach(async () => rig?.close());

// Leak alarms without on- and off-delays, so each wet or dry acts at once.
const leakRig = (at: string) => runbookRig({ at, runbooks: { 'leak.yaml': LEAK, 'theft.yaml': THEFT, 'holiday.yaml': HOLIDAY }, mutate: (raw) => (raw.alarms = { leak: { onDelaySeconds: 0, offDelaySeconds: 0 } }) });

describe('triggers and deduplication', () => {
  it('a wet sensor opens one incident per tower; a second sensor of the tower joins it, another tower opens its own', async () => {
    rig = await leakRig('2026-11-26T10:00');
    rig.signal('LK-A-R04', 'wet');
    rig.signal('LK-A-R08', 'wet');
    rig.signal('LK-B-R04', 'wet');
    const incidents = rig.engine.list();
    expect(incidents.map((i) => i.key).sort()).toEqual(['test-leak:A', 'test-leak:B']);
    const a = incidents.find((i) => i.tower === 'A')!;
    expect(a.signals.map((s) => s.signal)).toEqual(['LK-A-R04', 'LK-A-R08']);
    expect(rig.changes.map((c) => c.change)).toEqual(['opened', 'joined', 'opened']);
  });

  it('a repeated or retained state opens nothing new, also after a restart; a new change after close opens a new incident', async () => {
    rig = await leakRig('2026-11-26T10:00');
    rig.signal('LK-A-R04', 'wet');
    rig.signal('LK-A-R04', 'wet', { retained: true });
    await rig.restart();
    rig.signal('LK-A-R04', 'wet', { retained: true });
    expect(rig.engine.list('all')).toHaveLength(1);
    rig.engine.close(rig.only().id, actors.supervisor, 'dried out');
    rig.signal('LK-A-R04', 'dry');
    rig.signal('LK-A-R04', 'wet');
    expect(rig.engine.list('all')).toHaveLength(2);
    expect(rig.engine.list()).toHaveLength(1);
  });

  it('working time and non-working time give different steps (the calls step is non-working only)', async () => {
    rig = await leakRig('2026-11-26T10:00'); // Thursday, office hours
    rig.signal('LK-A-R04', 'wet');
    expect(rig.only().variant).toBe('working');
    expect(rig.only().steps.map((s) => s.key)).not.toContain('call');
    await rig.close();
    rig = await leakRig('2026-11-28T10:00'); // Saturday
    rig.signal('LK-A-R04', 'wet');
    expect(rig.only().variant).toBe('non-working');
    expect(rig.only().steps.map((s) => s.key)).toContain('call');
  });
});

const POWER = `
id: test-power
title: ${bi('power')}
handbook: test
priority: 2
trigger: { type: signal, kind: power-feeder, states: ['off'] }
steps:${step('cause')}
`;

describe('safety signals open incidents through their alarm', () => {
  it('a feeder on backup raises the power-loss alarm but opens nothing until it is off', async () => {
    rig = await runbookRig({ at: '2026-11-26T10:00', runbooks: { 'power.yaml': POWER } });
    rig.signal('PF-A-1', 'on-backup');
    expect(rig.alarms.list('active').map((a) => a.condition)).toEqual(['power-loss:PF-A-1']);
    expect(rig.engine.list()).toEqual([]);
    rig.signal('PF-A-1', 'off');
    expect(rig.only()).toMatchObject({ key: 'test-power:A', signals: [{ signal: 'PF-A-1', state: 'off' }] });
  });

  it('a leak during the leak system\'s maintenance window is recorded as an alarm but calls nobody out', async () => {
    rig = await runbookRig({
      at: '2026-11-26T10:00',
      runbooks: { 'leak.yaml': LEAK },
      mutate: (raw) => (raw.alarms = { leak: { onDelaySeconds: 0, offDelaySeconds: 0 }, maintenanceWindows: [{ id: 'riser-work', system: 'leak', from: '2026-11-26T09:00:00+08:00', to: '2026-11-26T12:00:00+08:00', reason: 'riser valves replaced' }] }),
    });
    rig.signal('LK-A-R04', 'wet');
    expect(rig.alarms.list('active')).toHaveLength(1);
    expect(rig.engine.list()).toEqual([]);
  });

  it('a leak splash shorter than the on-delay opens nothing; a leak that stays wet opens its incident when the alarm rises', async () => {
    rig = await runbookRig({ at: '2026-11-26T10:00', runbooks: { 'leak.yaml': LEAK } }); // the default 5 s on-delay
    rig.signal('LK-A-R04', 'wet');
    rig.advance(2_000);
    rig.signal('LK-A-R04', 'dry');
    rig.advance(60_000);
    expect(rig.engine.list()).toEqual([]);
    rig.signal('LK-A-R04', 'wet');
    rig.advance(4_999);
    expect(rig.engine.list()).toEqual([]);
    rig.advance(1);
    expect(rig.only().openedAt).toBe(local('2026-11-26T10:01:07'));
  });
});

describe('a flapping detector', () => {
  it('updates its incident\'s signal state without growing the timeline or the audit log, and the state survives a restart', async () => {
    rig = await runbookRig({ at: '2026-11-26T22:40' }); // the shipped fire-alarm runbook
    rig.signal('FZ-A-05', 'alarm');
    const incident = rig.only();
    const timeline = rig.engine.get(incident.id)!.timeline.length;
    const incidentAudit = () => rig.records.listAudit({}).filter((e) => e.subject === `incident:${incident.id}`).length;
    const audit = incidentAudit();
    for (let i = 0; i < 50; i++) {
      rig.signal('FZ-A-05', 'normal');
      rig.signal('FZ-A-05', 'alarm');
    }
    rig.signal('FZ-A-05', 'normal');
    expect(rig.engine.get(incident.id)!.timeline).toHaveLength(timeline);
    expect(incidentAudit()).toBe(audit);
    await rig.restart();
    expect(rig.engine.get(incident.id)!.signals).toMatchObject([{ signal: 'FZ-A-05', state: 'normal' }]);
  });
});

describe('deadlines and escalation', () => {
  it('a step due 15 minutes after the start escalates at 15 minutes, then every 5 minutes until done', async () => {
    rig = await leakRig('2026-11-26T10:00');
    rig.signal('LK-A-R04', 'wet');
    const incident = rig.only();
    expect(rig.step(incident, 'look').dueAt).toBe(local('2026-11-26T10:15'));
    rig.advance(15 * MIN - 1);
    expect(rig.engine.get(incident.id)!.escalations).toHaveLength(0);
    rig.advance(1);
    rig.advance(11 * MIN);
    const escalations = rig.engine.get(incident.id)!.escalations;
    expect(escalations.map((e) => [e.level, e.at - incident.openedAt, e.to])).toEqual([
      [1, 15 * MIN, ['director']],
      [2, 20 * MIN, ['director']],
      [3, 25 * MIN, ['director']],
    ]);
    rig.engine.completeStep(incident.id, 'look', actors.operator, { note: 'on site' });
    rig.advance(30 * MIN);
    expect(rig.engine.get(incident.id)!.escalations).toHaveLength(3);
    await new Promise((r) => setImmediate(r));
    expect(rig.sent.filter((n) => n.notification.reason === 'escalation')).toHaveLength(3);
  });

  it('"within 2 working days" skips the weekend and ends with the office day (第九节 六.4)', async () => {
    rig = await leakRig('2026-11-27T16:00'); // Friday
    rig.signal('LK-A-R04', 'wet');
    const incident = rig.only();
    rig.engine.completeStep(incident.id, 'look', actors.operator, {});
    // Friday → Monday and Tuesday are the two working days; the office shift ends at 17:30.
    expect(rig.step(incident, 'revisit').dueAt).toBe(local('2026-12-01T17:30'));
  });

  it('a recurring step opens its next round, due a week after the last round was done', async () => {
    rig = await leakRig('2026-11-26T10:00');
    rig.signal('LK-A-R04', 'wet');
    const incident = rig.only();
    rig.engine.completeStep(incident.id, 'look', actors.operator, {});
    rig.engine.completeStep(incident.id, 'revisit', actors.operator, {});
    rig.advance(2 * 24 * 60 * MIN);
    rig.engine.completeStep(incident.id, 'weekly', actors.operator, { note: 'visited' });
    const second = rig.step(incident, 'weekly#2');
    expect(second.status).toBe('active');
    expect(second.dueAt).toBe(local('2026-12-05T10:00'));
  });
});

describe('completion rules', () => {
  it('nobody answering the calls brings the director\'s unlock decision; an answered call skips it', async () => {
    rig = await leakRig('2026-11-28T02:00');
    rig.signal('LK-A-R04', 'wet');
    const incident = rig.only();
    expect(incident.contacts.length).toBeGreaterThan(0);
    expect(incident.contacts[0]!.hours).toBe('afterHours');
    expect(rig.step(incident, 'unlock').status).toBe('waiting');
    const c = incident.contacts[0]!;
    rig.engine.completeStep(incident.id, 'call', actors.operator, { calls: [{ name: c.name, phone: c.phone, outcome: 'no-answer' }] });
    expect(rig.step(incident, 'unlock').status).toBe('active');
    expect(() => rig.engine.completeStep(incident.id, 'unlock', actors.operator, { value: 'unlock' })).toThrow(/may not complete/);
    expect(() => rig.engine.completeStep(incident.id, 'unlock', actors.supervisor, { value: 'smash' })).toThrow(/one of unlock, wait/);
    rig.engine.completeStep(incident.id, 'unlock', actors.supervisor, { value: 'unlock', note: 'director agreed by phone' });
    expect(rig.step(incident, 'unlock')).toMatchObject({ status: 'done', value: 'unlock', doneBy: 'supervisor' });
    // Tower B: the tenant answers, so there is nothing for the director to decide.
    rig.signal('LK-B-R04', 'wet');
    const b = rig.engine.list().find((i) => i.tower === 'B')!;
    const contact = b.contacts[0]!;
    rig.engine.completeStep(b.id, 'call', actors.operator, { calls: [{ name: contact.name, phone: contact.phone, outcome: 'answered' }] });
    expect(rig.step(b, 'call').value).toBe('answered');
    expect(rig.step(b, 'unlock').status).toBe('skipped');
  });

  it('a signal completes its step, takes down its lobby message, and the quiet building stabilises the incident', async () => {
    rig = await leakRig('2026-11-26T10:00');
    rig.signal('LK-A-R04', 'wet');
    const incident = rig.only();
    expect(rig.engine.lobbyMessages()).toMatchObject([{ screens: ['A-lobby', 'A-lifts'], priority: 2, text: { en: 'water' } }]);
    expect(rig.step(incident, 'after-care').status).toBe('waiting');
    rig.signal('LK-A-R04', 'dry');
    expect(rig.step(incident, 'dry-up')).toMatchObject({ status: 'done', doneBy: 'signal:LK-A-R04' });
    expect(rig.engine.lobbyMessages()).toEqual([]);
    expect(rig.engine.get(incident.id)!.state).toBe('stabilised');
    expect(rig.step(incident, 'after-care').status).toBe('active');
  });

  it('a count below the minimum is recorded and keeps the step open', async () => {
    rig = await leakRig('2026-11-26T10:00');
    const incident = rig.engine.startRunbook('test-theft', actors.operator, { fields: { place: 'A-12F corridor' } });
    rig.engine.completeStep(incident.id, 'count', actors.operator, { value: 2 });
    expect(rig.step(incident, 'count')).toMatchObject({ status: 'active', value: 2 });
    rig.engine.completeStep(incident.id, 'count', actors.operator, { value: '3' });
    expect(rig.step(incident, 'count')).toMatchObject({ status: 'done', value: 3 });
    expect(rig.step(incident, 'count').values.map((v) => v.value)).toEqual([2, 3]);
  });
});

describe('manual starts and closing', () => {
  it('a manual start needs its required fields and a role allowed to start', async () => {
    rig = await leakRig('2026-11-26T10:00');
    expect(() => rig.engine.startRunbook('test-theft', actors.operator, {})).toThrow(/fields.place/);
    expect(() => rig.engine.startRunbook('test-theft', actors.viewer, { fields: { place: 'x' } })).toThrow(IncidentError);
    expect(() => rig.engine.startRunbook('nope', actors.operator, {})).toThrow(/no runbook/);
    const a = rig.engine.startRunbook('test-theft', actors.operator, { fields: { place: 'B1 car park' } });
    rig.advance(1);
    const b = rig.engine.startRunbook('test-theft', actors.operator, { fields: { place: 'A-3F' } });
    expect(a.id).not.toBe(b.id);
    expect(rig.engine.list()).toHaveLength(2);
  });

  it('closing needs the written summary, takes down every lobby message and is audited', async () => {
    rig = await leakRig('2026-11-26T10:00');
    rig.signal('LK-A-R04', 'wet');
    const incident = rig.only();
    expect(() => rig.engine.close(incident.id, actors.supervisor, '  ')).toThrow(/summary/);
    const closed = rig.engine.close(incident.id, actors.supervisor, 'riser valve replaced');
    expect(closed).toMatchObject({ state: 'closed', closedBy: 'supervisor', report: { summary: 'riser valve replaced' } });
    expect(rig.engine.lobbyMessages()).toEqual([]);
    expect(rig.engine.list()).toEqual([]);
    expect(() => rig.engine.completeStep(incident.id, 'look', actors.operator, {})).toThrow(/closed/);
    const audit = rig.records.listAudit({}).filter((e) => e.subject === `incident:${incident.id}`).map((e) => e.action);
    expect(audit).toEqual(['incident.close', 'incident.open']);
  });
});

describe('notifications', () => {
  it('a delivery that keeps failing is retried, then shown on the incident as failed and counted', async () => {
    const attempts: number[] = [];
    const flaky = { name: 'webhook', retries: 2, retryDelayMs: 1000, deliver: async () => { attempts.push(Date.now()); throw new Error('HTTP 502: gateway down'); } };
    rig = await runbookRig({ at: '2026-11-26T10:00', runbooks: { 'theft.yaml': THEFT }, sinks: [flaky] });
    const incident = rig.engine.startRunbook('test-theft', actors.operator, { fields: { place: 'B1' } });
    const settle = () => new Promise((r) => setTimeout(r, 20));
    await settle();
    expect(rig.engine.get(incident.id)!.notifications[0]!.deliveries).toEqual([
      { sink: 'log', status: 'delivered', attempts: 1, deliveredAt: incident.openedAt },
      { sink: 'webhook', status: 'pending', attempts: 1, lastError: 'HTTP 502: gateway down' },
    ]);
    rig.advance(1000);
    await settle();
    rig.advance(2000);
    await settle();
    expect(attempts).toHaveLength(3);
    const stored = rig.engine.get(incident.id)!;
    expect(stored.notifications[0]!.deliveries[1]).toMatchObject({ status: 'failed', attempts: 3, lastError: 'HTTP 502: gateway down' });
    expect(stored.timeline.at(-1)).toMatchObject({ what: `notification ${incident.id}-1 via webhook failed after 3 attempts` });
    expect((await rig.metrics.registry.getSingleMetric('bohub_notification_failures_total')!.get()).values).toEqual([expect.objectContaining({ value: 1, labels: { sink: 'webhook' } })]);
  });
});

describe('holidays', () => {
  it('the notices open by themselves seven days before the first day of 春节, once', async () => {
    rig = await leakRig('2027-01-29T08:00'); // 8 days before 2027-02-06
    expect(rig.engine.list()).toEqual([]);
    rig.advance(24 * 60 * MIN);
    expect(rig.only()).toMatchObject({ runbook: 'test-holiday', key: 'test-holiday:2027-02-06', fields: { holiday: '春节' } });
    rig.engine.close(rig.only().id, actors.supervisor, 'posted');
    rig.advance(2 * 24 * 60 * MIN);
    await rig.restart();
    expect(rig.engine.list('all')).toHaveLength(1);
  });
});

describe('restarts', () => {
  it('timers resume from the stored deadlines, and the history is kept', async () => {
    rig = await leakRig('2026-11-26T10:00');
    rig.signal('LK-A-R04', 'wet');
    const incident = rig.only();
    rig.advance(16 * MIN); // one escalation at 10:15
    await rig.restart();
    const before = rig.engine.get(incident.id)!;
    expect(before.escalations).toHaveLength(1);
    expect(before.timeline.length).toBeGreaterThan(1);
    rig.advance(4 * MIN - 1);
    expect(rig.engine.get(incident.id)!.escalations).toHaveLength(1);
    rig.advance(1); // 10:20, the next escalation, from the stored time
    expect(rig.engine.get(incident.id)!.escalations.map((e) => e.at)).toEqual([local('2026-11-26T10:15'), local('2026-11-26T10:20')]);
  });

  it('an incident whose runbook file was removed is still listed after a restart, and its old deadlines raise nothing', async () => {
    rig = await leakRig('2026-11-26T10:00');
    rig.signal('LK-A-R04', 'wet');
    const incident = rig.only();
    await rig.stop();
    const dir = join(tempDir(), 'runbooks');
    mkdirSync(dir);
    writeFileSync(join(dir, 'theft.yaml'), THEFT);
    const config = loadConfig(writeConfig((raw) => (raw.runbooks = { dir })));
    const engine = new RunbookEngine({ config, records: rig.records, events: rig.events, clock: rig.clock, log: silentLogger, sinks: [] });
    await engine.start();
    rig.clock.advance(60 * MIN);
    expect(engine.list().map((i) => [i.id, i.escalations.length])).toEqual([[incident.id, 0]]);
    expect(() => engine.completeStep(incident.id, 'look', actors.operator, {})).toThrow(/no longer configured/);
    await engine.stop();
  });

  it('a deadline that passed while the hub was down escalates once at start, not once per missed interval', async () => {
    rig = await leakRig('2026-11-26T10:00');
    rig.signal('LK-A-R04', 'wet');
    const incident = rig.only();
    await rig.stop();
    rig.clock.advance(60 * MIN);
    await rig.restart();
    const escalations = rig.engine.get(incident.id)!.escalations;
    expect(escalations).toHaveLength(1);
    expect(escalations[0]!.lateByMs).toBe(45 * MIN);
  });
});
