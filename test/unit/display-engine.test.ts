import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DisplayEngine } from '../../gateway/display/engine.ts';
import { DisplayError, type DisplayActor, type ItemInput, type ScreenNow } from '../../gateway/display/types.ts';
import { REPO, tempDir, type RawConfig } from '../helpers/config.ts';
import { actors, DAY, HOUR, local, MIN, runbookRig, type RunbookRig } from '../helpers/runbooks.ts';

// The lobby display service (issue 9; handbook 第七节 二) over the real runbook and
// alarm engines, a records store in a temp dir and fake time: a copy of the demo
// building (screens A-lobby, B-lobby, A-lifts, B-lifts), not seeded with demo content
// unless a test asks for it. Thursday 26 November 2026, 10:00 in Shanghai.

const AT = '2026-11-26T10:00';
const T0 = local(AT);
const SCREENS = ['A-lobby', 'B-lobby', 'A-lifts', 'B-lifts'];
const FIRE = 'fire-alarm/assess';
const supervisor = actors.supervisor as DisplayActor;
const operator = actors.operator as DisplayActor;
const viewer = actors.viewer as DisplayActor;

let rig: RunbookRig | undefined;
let display: DisplayEngine | undefined;
afterEach(async () => {
  await display?.stop();
  await rig?.close();
  rig = display = undefined;
});

interface Options {
  demo?: boolean;
  dataDir?: string;
  runbooks?: Record<string, string>;
  mutate?: (raw: RawConfig) => void;
}

/** The runbook rig with a display engine on it; `changes` keeps every 'display.changed', `logs` every log line. */
async function start(options: Options = {}) {
  rig = await runbookRig({
    at: AT,
    runbooks: options.runbooks,
    mutate: (raw) => {
      raw.site.demo = options.demo ?? false;
      if (options.dataDir) raw.storage.dataDir = options.dataDir;
      options.mutate?.(raw);
    },
  });
  const changes: Array<{ screens: string[]; reason: string; at: number }> = [];
  rig.events.on('test', 'display.changed', (c) => changes.push(c));
  const logs: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  display = await startDisplay(rig, log);
  return { rig, display, changes, logs };
}

async function startDisplay(r: RunbookRig, log = pino({ level: 'silent' })): Promise<DisplayEngine> {
  const engine = r.engine;
  const d = new DisplayEngine({ config: r.config, records: r.records, events: r.events, clock: r.clock, log, incidents: () => engine });
  await d.start();
  return d;
}

/** A planned notice for A-lobby from now until tomorrow, as reception enters it. */
const input = (over: Partial<ItemInput> = {}): ItemInput => ({
  title: { zh: '电梯保养通知', en: 'Lift maintenance' },
  body: { zh: '3号电梯周三保养。', en: 'Lift 3 is serviced on Wednesday.' },
  screens: ['A-lobby'],
  start: T0,
  end: T0 + DAY,
  planWeek: '2026-W48',
  planSlot: 1,
  priority: 5,
  ...over,
});

/** Entered, submitted and approved. */
function approvedItem(over: Partial<ItemInput> = {}) {
  const item = display!.create(input(over), operator, { submit: true });
  return display!.approve(item.id, supervisor);
}

const ids = (n: ScreenNow) => n.entries.map((e) => e.id);
const shown = () => Object.fromEntries(SCREENS.map((s) => [s, ids(display!.now(s))]));

function refusal(fn: () => unknown): { code: string; status: number; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof DisplayError) return { code: err.code, status: err.status, message: err.message };
    throw err;
  }
  throw new Error('expected a DisplayError');
}

describe('approval: nothing unapproved ever reaches a screen (第七节 二.1)', () => {
  it('draft, pending and rejected items are never shown; an approved one is shown on exactly its screens', async () => {
    await start();
    const draft = display!.create(input(), operator);
    const pending = display!.create(input(), operator, { submit: true });
    const rejected = display!.reject(display!.create(input(), operator, { submit: true }).id, supervisor, 'wrong lift number');
    expect([draft.state, pending.state, rejected.state]).toEqual(['draft', 'pending', 'draft']);
    expect(rejected.history.at(-1)).toMatchObject({ action: 'rejected', by: 'supervisor', note: 'wrong lift number' });
    expect(display!.now('A-lobby')).toMatchObject({ mode: 'normal', entries: [] });

    const approved = approvedItem({ screens: ['A-lobby', 'B-lifts'] });
    expect(approved).toMatchObject({ state: 'approved', approvedBy: 'supervisor', approvedAt: T0 });
    expect(shown()).toEqual({ 'A-lobby': [`item:${approved.id}`], 'B-lobby': [], 'A-lifts': [], 'B-lifts': [`item:${approved.id}`] });
    expect(display!.now('A-lobby')).toMatchObject({
      screen: 'A-lobby', tower: 'A', location: { zh: 'A座大堂', en: 'Tower A lobby' }, at: T0, timeZone: 'Asia/Shanghai', rotateSeconds: 12, nextChangeAt: T0 + DAY,
      entries: [{ kind: 'item', title: { zh: '电梯保养通知', en: 'Lift maintenance' }, priority: 5, since: T0, until: T0 + DAY }],
    });
  });

  it('live items are ordered by priority, then by start', async () => {
    await start();
    const late = approvedItem({ priority: 6, start: T0 - HOUR });
    const early = approvedItem({ priority: 6, start: T0 - 2 * HOUR });
    const first = approvedItem({ priority: 3 });
    expect(ids(display!.now('A-lobby'))).toEqual([first, early, late].map((i) => `item:${i.id}`));
  });

  it('the weekly plan lists a week\'s items by its two changes (第七节 二.1)', async () => {
    await start();
    const second = display!.create(input({ planSlot: 2, start: T0 + 3 * DAY, end: T0 + 5 * DAY }), operator);
    const first = display!.create(input({ planSlot: 1, start: T0 + DAY, end: T0 + 3 * DAY }), operator);
    display!.create(input({ planWeek: '2026-W49', start: T0 + 7 * DAY, end: T0 + 8 * DAY }), operator);
    expect(display!.list({ week: '2026-W48' }).map((i) => [i.id, i.planSlot])).toEqual([[first.id, 1], [second.id, 2]]);
  });

  it('editing an approved item takes it off the screens until it is approved again', async () => {
    const { changes } = await start();
    const item = approvedItem();
    changes.length = 0;
    const edited = display!.edit(item.id, input({ screens: ['B-lobby'], title: { zh: '电梯保养', en: 'Lift service' } }), operator);
    expect(edited).toMatchObject({ state: 'pending', screens: ['B-lobby'] });
    expect(edited.approvedBy).toBeUndefined();
    expect(edited.history.at(-1)).toMatchObject({ action: 'edited', note: 'edited after approval: off the screens until approved again' });
    expect(shown()['A-lobby']).toEqual([]);
    expect(shown()['B-lobby']).toEqual([]);
    // The screens it was on and the screens it will be on are both told.
    expect(changes).toEqual([{ screens: ['A-lobby', 'B-lobby'], reason: 'display.edit', at: T0 }]);
    display!.approve(item.id, supervisor);
    expect(shown()['B-lobby']).toEqual([`item:${item.id}`]);
    expect(display!.get(item.id)!.title.en).toBe('Lift service');
  });

  it('a withdrawn item comes off the screens at once and can no longer be edited', async () => {
    const { changes } = await start();
    const item = approvedItem();
    const withdrawn = display!.withdraw(item.id, operator, 'the lift was fixed early');
    expect(withdrawn.state).toBe('withdrawn');
    expect(shown()['A-lobby']).toEqual([]);
    expect(changes.at(-1)).toMatchObject({ screens: ['A-lobby'], reason: 'display.withdraw' });
    expect(refusal(() => display!.edit(item.id, input(), operator))).toMatchObject({ code: 'BOHUB_DISPLAY_STATE', status: 409 });
    expect(refusal(() => display!.approve(item.id, supervisor))).toMatchObject({ code: 'BOHUB_DISPLAY_STATE', status: 409 });
    expect(refusal(() => display!.withdraw(item.id, operator, ''))).toMatchObject({ status: 400 });
  });

  it('roles: an operator cannot approve, a viewer cannot create; states are enforced', async () => {
    await start();
    expect(refusal(() => display!.create(input(), viewer))).toMatchObject({ code: 'BOHUB_FORBIDDEN', status: 403 });
    expect(refusal(() => display!.create(input(), { username: 'lobby', role: 'display' }))).toMatchObject({ code: 'BOHUB_FORBIDDEN', status: 403 });
    const item = display!.create(input(), operator, { submit: true });
    expect(refusal(() => display!.approve(item.id, operator))).toMatchObject({ code: 'BOHUB_FORBIDDEN', status: 403 });
    expect(refusal(() => display!.reject(item.id, operator, 'no'))).toMatchObject({ code: 'BOHUB_FORBIDDEN', status: 403 });
    expect(refusal(() => display!.approveTemplate(FIRE, operator, 'ok'))).toMatchObject({ code: 'BOHUB_FORBIDDEN', status: 403 });
    expect(display!.get(item.id)!.state).toBe('pending');
    expect(refusal(() => display!.submit(item.id, operator))).toMatchObject({ code: 'BOHUB_DISPLAY_STATE', status: 409 });
    expect(refusal(() => display!.get(999) ?? display!.submit(999, operator))).toMatchObject({ code: 'BOHUB_DISPLAY_NOT_FOUND', status: 404 });
    expect(display!.approve(item.id, { username: 'admin', role: 'admin' }).state).toBe('approved');
  });

  it('an urgent notice needs the director\'s consent, which is recorded (第七节 二.3)', async () => {
    await start();
    expect(refusal(() => display!.create(input({ priority: 2 }), operator))).toMatchObject({ status: 400, message: expect.stringContaining('priority') });
    const item = display!.create(input({ urgent: true, priority: 2 }), operator, { submit: true });
    expect(refusal(() => display!.approve(item.id, supervisor))).toMatchObject({ status: 400, message: expect.stringContaining('第七节 二.3') });
    expect(refusal(() => display!.approve(item.id, supervisor, { directorConsent: { director: '吴军', note: ' ' } }))).toMatchObject({ status: 400 });
    expect(shown()['A-lobby']).toEqual([]);
    const approved = display!.approve(item.id, supervisor, { directorConsent: { director: '吴军', note: 'by phone 10:05' } });
    expect(approved.directorConsent).toEqual({ director: '吴军', note: 'by phone 10:05', at: T0, recordedBy: 'supervisor' });
    expect(display!.now('A-lobby').entries).toMatchObject([{ id: `item:${item.id}`, priority: 2 }]);
  });

  it('checks what reception enters and names the field', async () => {
    await start();
    const bad = (over: Partial<ItemInput>) => refusal(() => display!.create(input(over), operator));
    expect(bad({ screens: ['A-lobby', 'C-lobby'] })).toMatchObject({ status: 400, message: expect.stringContaining('"C-lobby"') });
    expect(bad({ start: T0 + DAY })).toMatchObject({ status: 400, message: expect.stringContaining('end') });
    expect(bad({ start: T0 - 2 * DAY, end: T0 - DAY })).toMatchObject({ status: 400, message: expect.stringContaining('already ended') });
    expect(bad({ planWeek: '2026-48' })).toMatchObject({ status: 400, message: expect.stringContaining('planWeek') });
    expect(bad({ planSlot: 3 as 1 })).toMatchObject({ status: 400, message: expect.stringContaining('planSlot') });
    expect(bad({ priority: 1 })).toMatchObject({ status: 400, message: expect.stringContaining('priority') });
    expect(bad({ priority: 10 })).toMatchObject({ status: 400 });
    expect(bad({ title: { zh: '通知', en: ' ' } })).toMatchObject({ status: 400, message: expect.stringContaining('title.en') });
    expect(display!.list()).toEqual([]);
    expect(refusal(() => display!.now('C-lobby'))).toMatchObject({ code: 'BOHUB_DISPLAY_NOT_FOUND', status: 404 });
  });
});

describe('the schedule: on at its start, off and archived exactly at its end', () => {
  it('appears at its start and disappears at its end to the millisecond, archived by the system', async () => {
    const { changes } = await start();
    const item = approvedItem({ screens: ['A-lobby', 'A-lifts'], start: T0 + HOUR, end: T0 + 2 * HOUR });
    expect(display!.now('A-lobby')).toMatchObject({ entries: [], nextChangeAt: T0 + HOUR });
    changes.length = 0;
    rig!.advance(HOUR - 1);
    expect(shown()['A-lobby']).toEqual([]);
    rig!.advance(1);
    expect(shown()['A-lobby']).toEqual([`item:${item.id}`]);
    expect(changes).toEqual([{ screens: ['A-lobby', 'A-lifts'], reason: 'display.start', at: T0 + HOUR }]);
    expect(display!.now('A-lobby').nextChangeAt).toBe(T0 + 2 * HOUR);

    rig!.advance(HOUR - 1);
    expect(shown()['A-lifts']).toEqual([`item:${item.id}`]);
    expect(display!.get(item.id)!.state).toBe('approved');
    rig!.advance(1);
    expect(shown()['A-lifts']).toEqual([]);
    const expired = display!.get(item.id)!;
    expect(expired.state).toBe('expired');
    expect(expired.history.at(-1)).toMatchObject({ action: 'expired', by: 'system', at: T0 + 2 * HOUR });
    expect(changes.at(-1)).toEqual({ screens: ['A-lobby', 'A-lifts'], reason: 'display.expire', at: T0 + 2 * HOUR });
    expect(rig!.records.listAudit({ action: 'display.expire' })).toMatchObject([{ actor: 'system', subject: `display:${item.id}`, at: T0 + 2 * HOUR }]);
    expect(refusal(() => display!.edit(item.id, input(), operator))).toMatchObject({ status: 409 });
  });

  it('an item whose end passed while the hub was down is archived at start', async () => {
    await start();
    const item = approvedItem({ end: T0 + HOUR });
    await display!.stop();
    rig!.advance(2 * HOUR);
    expect(display!.get(item.id)!.state).toBe('approved');
    display = await startDisplay(rig!);
    expect(display.get(item.id)!.state).toBe('expired');
  });

  it('a far-off end is reached through timers capped at 2^31-1 ms', async () => {
    await start();
    const item = approvedItem({ end: T0 + 40 * DAY });
    rig!.advance(40 * DAY - 1);
    expect(display!.get(item.id)!.state).toBe('approved');
    rig!.advance(1);
    expect(display!.get(item.id)!.state).toBe('expired');
  });
});

describe('emergency override from the runbooks', () => {
  it('a fire alarm in tower A puts only the approved fire notice on A-lobby and A-lifts; B-lobby stays normal; closing the incident reverts', async () => {
    const { changes } = await start();
    display!.approveTemplate(FIRE, supervisor, 'approved by the director, 2026-11-20');
    const a = approvedItem({ screens: ['A-lobby', 'B-lobby'] });
    changes.length = 0;

    rig!.signal('FZ-A-05', 'alarm');
    const incident = rig!.only();
    const aLobby = display!.now('A-lobby');
    expect(aLobby.mode).toBe('emergency');
    expect(aLobby.entries).toEqual([{ kind: 'emergency', id: `incident:${incident.id}/assess`, title: incident.title, body: incident.lobby[0]!.text, priority: 1, since: T0 }]);
    expect(aLobby.entries[0]!.body.zh).toContain('不要乘坐电梯');
    expect(display!.now('A-lifts')).toMatchObject({ mode: 'emergency', entries: [{ id: `incident:${incident.id}/assess` }] });
    expect(display!.now('B-lobby')).toMatchObject({ mode: 'normal', entries: [{ id: `item:${a.id}` }] });
    expect(changes).toEqual([{ screens: ['A-lobby', 'A-lifts'], reason: 'incident', at: T0 }]);

    rig!.advance(5 * MIN);
    changes.length = 0;
    rig!.engine.close(incident.id, actors.supervisor, 'false alarm in A-5F, reset');
    expect(display!.now('A-lobby')).toMatchObject({ mode: 'normal', entries: [{ id: `item:${a.id}` }] });
    expect(display!.now('A-lifts')).toMatchObject({ mode: 'normal', entries: [] });
    expect(changes).toEqual([{ screens: ['A-lobby', 'A-lifts'], reason: 'incident', at: T0 + 5 * MIN }]);
  });

  it('a runbook\'s lesser notice (the cause of a power loss, 第九节 五) takes its place among the planned items, without overriding them', async () => {
    await start();
    display!.approveTemplate('power-loss/lobby-cause', supervisor, 'approved in advance');
    const a = approvedItem({ screens: ['A-lobby'], priority: 5 });
    rig!.signal('PF-A-1', 'off');
    const incident = rig!.only();
    rig!.engine.completeStep(incident.id, 'find-cause', actors.operator, { value: '10 kV incomer tripped' });
    rig!.signal('PF-A-1', 'on');
    const now = display!.now('A-lobby');
    expect(now.mode).toBe('normal');
    expect(ids(now)).toEqual([`incident:${incident.id}/lobby-cause`, `item:${a.id}`]);
    expect(now.entries[0]!.body.zh).toContain('10 kV incomer tripped');
  });

  it('an unapproved emergency template is not shown, is logged once and makes health degraded', async () => {
    const { logs } = await start();
    const a = approvedItem();
    expect(display!.emergencyTemplates().find((t) => t.id === FIRE)).toMatchObject({ approved: false, priority: 1, runbook: 'fire-alarm', step: 'assess' });
    rig!.signal('FZ-A-05', 'alarm');
    rig!.signal('FZ-A-06', 'alarm');
    expect(rig!.engine.lobbyMessages()).toHaveLength(1);
    expect(display!.now('A-lobby')).toMatchObject({ mode: 'normal', entries: [{ id: `item:${a.id}` }] });
    expect(display!.now('A-lifts')).toMatchObject({ mode: 'normal', entries: [] });
    expect(logs.filter((l) => l.template === FIRE)).toHaveLength(1);
    const health = display!.health();
    expect(health.status).toBe('degraded');
    expect(health.detail).toContain(`${display!.emergencyTemplates().length} emergency template(s) not approved`);

    // Approving the template approves its uses: the standing message goes up at once.
    display!.approveTemplate(FIRE, supervisor, 'approved');
    expect(display!.now('A-lobby').mode).toBe('emergency');
    expect(rig!.records.listAudit({ action: 'display.approve-template' })).toMatchObject([{ actor: 'supervisor', subject: `display-template:${FIRE}` }]);
  });

  it('a changed runbook text voids the approval until it is approved again', async () => {
    const dataDir = tempDir();
    await start({ dataDir });
    display!.approveTemplate(FIRE, supervisor, 'approved');
    expect(display!.emergencyTemplates().find((t) => t.id === FIRE)!.approved).toBe(true);
    await display!.stop();
    await rig!.close();

    const fire = readFileSync(join(REPO, 'config/runbooks/fire-alarm.yaml'), 'utf8').replace('不要乘坐电梯', '切勿乘坐电梯');
    await start({ dataDir, runbooks: { 'fire-alarm.yaml': fire } });
    expect(display!.emergencyTemplates().find((t) => t.id === FIRE)).toMatchObject({ approved: false });
    rig!.signal('FZ-A-05', 'alarm');
    expect(display!.now('A-lobby').mode).toBe('normal');
    display!.approveTemplate(FIRE, supervisor, 'the new wording approved');
    expect(display!.now('A-lobby')).toMatchObject({ mode: 'emergency', entries: [{ body: { zh: expect.stringContaining('切勿乘坐电梯') } }] });
  });

  it('the weather signals are in what every screen shows', async () => {
    const { changes } = await start();
    expect(display!.now('B-lifts').weather).toEqual({ typhoon: 'none', rainstorm: 'none' });
    rig!.signal('WX-TYPHOON', '3');
    rig!.signal('WX-RAINSTORM', 'red');
    expect(display!.now('B-lifts').weather).toEqual({ typhoon: '3', rainstorm: 'red' });
    expect(changes.filter((c) => c.reason === 'weather')).toEqual([{ screens: SCREENS, reason: 'weather', at: T0 }, { screens: SCREENS, reason: 'weather', at: T0 }]);
    rig!.signal('WX-TYPHOON', '3');
    expect(changes.filter((c) => c.reason === 'weather')).toHaveLength(2);
  });
});

describe('images and content templates', () => {
  const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(100, 7)]);

  it('takes a PNG by its magic bytes, stores it by hash and refuses text files and oversize images', async () => {
    await start({ mutate: (raw) => (raw.display.maxImageBytes = 1024) });
    const item = approvedItem({ image: { mime: 'image/png', base64: PNG.toString('base64') } });
    expect(item.image).toMatch(/^[0-9a-f]{64}$/);
    expect(display!.image(item.image!)).toEqual({ mime: 'image/png', bytes: PNG });
    expect(display!.now('A-lobby').entries[0]!.image).toBe(`/api/display/images/${item.image}`);

    const text = Buffer.from('not a picture at all').toString('base64');
    expect(refusal(() => display!.create(input({ image: { mime: 'image/png', base64: text } }), operator))).toMatchObject({ status: 400, message: expect.stringContaining('PNG and JPEG') });
    const big = Buffer.concat([PNG, Buffer.alloc(1024)]).toString('base64');
    expect(refusal(() => display!.create(input({ image: { mime: 'image/png', base64: big } }), operator))).toMatchObject({ status: 400, message: expect.stringContaining('maxImageBytes') });
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]).toString('base64');
    expect(refusal(() => display!.create(input({ image: { mime: 'image/png', base64: jpeg } }), operator))).toMatchObject({ status: 400, message: expect.stringContaining('image/jpeg') });

    // An edit without an image keeps it; null removes it.
    expect(display!.edit(item.id, input(), operator).image).toBe(item.image);
    expect(display!.edit(item.id, input({ image: null }), operator).image).toBeUndefined();
  });

  it('fills the 附件4 outage notice; a missing required field is a 400 naming it', async () => {
    await start();
    expect(display!.templates().map((t) => t.id).sort()).toEqual(['holiday-notice', 'outage-notice', 'pest-control']);
    const values = { holiday: '元旦', 'holiday-en': "New Year's Day", from: '2027-01-01', to: '2027-01-03', areas: 'A座全楼', 'areas-en': 'all of tower A', 'fitout-deadline': '2026-12-28' };
    const schedule = { screens: SCREENS, start: T0, end: T0 + 30 * DAY, planWeek: '2026-W48', planSlot: 1 as const, priority: 4 };
    const item = display!.createFromTemplate('outage-notice', values, schedule, operator);
    expect(item).toMatchObject({ state: 'draft', template: 'outage-notice', title: { zh: '关于元旦期间停水、电、空调的通告' } });
    expect(item.body.zh).toContain('元旦期间(2027-01-01至2027-01-03),我处将对大厦的生活水箱进行定期清洗、消毒');
    expect(item.body.zh).toContain('请在2026-12-28之前');
    expect(item.body.en).toContain("over New Year's Day (2027-01-01 to 2027-01-03)");
    expect(item.body.en).not.toContain('{{');
    const { 'fitout-deadline': _, ...missing } = values;
    expect(refusal(() => display!.createFromTemplate('outage-notice', missing, schedule, operator))).toMatchObject({ status: 400, message: expect.stringContaining('fitout-deadline') });
    expect(refusal(() => display!.createFromTemplate('outage-notice', { ...values, typo: 'x' }, schedule, operator))).toMatchObject({ status: 400, message: expect.stringContaining('typo') });
    expect(refusal(() => display!.createFromTemplate('nope', values, schedule, operator))).toMatchObject({ status: 404 });
    expect(refusal(() => display!.createFromTemplate('outage-notice', values, schedule, viewer))).toMatchObject({ status: 403 });
  });
});

describe('the demo building and the record', () => {
  it('seeds both lobbies and approves every emergency template, once', async () => {
    const dataDir = tempDir();
    await start({ demo: true, dataDir });
    expect(display!.emergencyTemplates().every((t) => t.approved && t.approvedBy === 'system')).toBe(true);
    const items = display!.list();
    const byTitle = (en: string) => items.find((i) => i.title.en.includes(en))!;
    expect(byTitle('Welcome')).toMatchObject({ state: 'approved', screens: ['A-lobby', 'B-lobby'] });
    expect(byTitle('Pest-control')).toMatchObject({ state: 'approved', template: 'pest-control', screens: ['A-lobby', 'B-lobby'] });
    // The next holiday in the demo calendar after 26 November 2026 is 元旦.
    expect(byTitle('outages')).toMatchObject({ state: 'approved', template: 'outage-notice', screens: SCREENS, title: { zh: '关于元旦期间停水、电、空调的通告' } });
    expect(items.filter((i) => i.state === 'pending')).toHaveLength(1);
    for (const s of ['A-lobby', 'B-lobby']) expect(display!.now(s).entries.length).toBe(3);
    expect(display!.now('A-lifts').entries).toHaveLength(1);
    expect(display!.health().status).toBe('ok');
    expect(rig!.records.listAudit({ action: 'display.approve-template' }).every((e) => e.actor === 'system')).toBe(true);
    expect(rig!.records.listAudit({ action: 'display.approve' }).map((e) => e.actor)).toEqual(['system', 'system', 'system']);

    // Still shown a week later; the window runs about 30 days.
    rig!.advance(7 * DAY);
    expect(display!.now('B-lobby').entries.length).toBe(3);

    const audits = rig!.records.listAudit({}).length;
    await display!.stop();
    display = await startDisplay(rig!);
    expect(display.list()).toHaveLength(items.length);
    expect(rig!.records.listAudit({}).length).toBe(audits);
  });

  it('audits every action with its subject, and announces the screens it touches', async () => {
    const { changes } = await start();
    const item = display!.create(input({ screens: ['B-lobby'] }), operator);
    display!.submit(item.id, operator);
    display!.reject(item.id, supervisor, 'say which lift');
    display!.edit(item.id, input({ screens: ['B-lobby', 'B-lifts'] }), operator);
    display!.submit(item.id, operator);
    display!.approve(item.id, supervisor, { note: 'ok for this week' });
    display!.withdraw(item.id, supervisor, 'superseded');
    const audit = rig!.records.listAudit({}).filter((e) => e.subject === `display:${item.id}`).sort((a, b) => a.id - b.id);
    expect(audit.map((e) => [e.action, e.actor])).toEqual([
      ['display.create', 'operator'], ['display.submit', 'operator'], ['display.reject', 'supervisor'], ['display.edit', 'operator'],
      ['display.submit', 'operator'], ['display.approve', 'supervisor'], ['display.withdraw', 'supervisor'],
    ]);
    expect(audit[2]!.after).toMatchObject({ state: 'draft', note: 'say which lift' });
    expect(audit[6]!.before).toMatchObject({ state: 'approved' });
    expect(display!.get(item.id)!.history.map((h) => h.action)).toEqual(['created', 'submitted', 'rejected', 'edited', 'submitted', 'approved', 'withdrawn']);
    expect(changes.map((c) => [c.reason, c.screens])).toEqual([
      ['display.create', ['B-lobby']], ['display.submit', ['B-lobby']], ['display.reject', ['B-lobby']], ['display.edit', ['B-lobby', 'B-lifts']],
      ['display.submit', ['B-lobby', 'B-lifts']], ['display.approve', ['B-lobby', 'B-lifts']], ['display.withdraw', ['B-lobby', 'B-lifts']],
    ]);
    expect(display!.health()).toMatchObject({ detail: expect.stringContaining('0 live item(s), 0 awaiting approval') });
  });
});
