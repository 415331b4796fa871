import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { checkConfig, loadConfig } from '../../gateway/config/load.ts';
import { WorkingCalendar } from '../../gateway/runbooks/calendar.ts';
import type { Runbook, RunbookStep } from '../../gateway/runbooks/schema.ts';
import { DEMO_CONFIG, REPO, tempDir, writeConfig } from '../helpers/config.ts';

// The handbook's procedures as shipped in config/runbooks (第九节, 第四节), the demo
// building's duty roster that runs them, and `bohub config check` refusing broken
// runbook files with the file and the path of each problem.

const RUNBOOK_DIR = join(REPO, 'config/runbooks');
const RUNBOOK_IDS = ['bomb-threat', 'explosion', 'fire-alarm', 'fire-tenant-report', 'flooding', 'gas-leak', 'holiday-notices', 'power-loss', 'rainstorm', 'theft', 'typhoon', 'violence'];
const MINUTE = 60_000;
const DAY = 86_400_000;

const demo = loadConfig(DEMO_CONFIG, {});
const runbook = (id: string): Runbook => {
  const rb = demo.runbooks.get(id);
  if (!rb) throw new Error(`no runbook ${id}`);
  return rb;
};
const step = (rb: string, id: string): RunbookStep => {
  const s = runbook(rb).steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${rb}/${id}`);
  return s;
};

describe('the demo runbooks', () => {
  it('pass config check, one runbook per file in config/runbooks', () => {
    const files = readdirSync(RUNBOOK_DIR).filter((f) => f.endsWith('.yaml'));
    expect([...demo.runbooks.keys()].sort()).toEqual(RUNBOOK_IDS);
    expect(files.map((f) => f.replace(/\.yaml$/, '')).sort()).toEqual(RUNBOOK_IDS);
    for (const rb of demo.runbooks.values()) expect(rb.handbook, rb.id).toMatch(/^第[九四]节/);
  });

  it('are still found from a copy of the demo written by the test helper', () => {
    const r = checkConfig(writeConfig(), {});
    expect(r.ok && [...r.config.runbooks.keys()].sort()).toEqual(RUNBOOK_IDS);
  });

  it('write every text in both languages and nothing else (a comma in a YAML flow map would split it)', () => {
    const bad: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (!node || typeof node !== 'object') return;
      const keys = Object.keys(node);
      if (keys.includes('zh') || keys.includes('en')) {
        const texts = node as Record<string, unknown>;
        if (keys.sort().join() !== 'en,zh' || typeof texts.zh !== 'string' || typeof texts.en !== 'string') bad.push(at);
      }
      for (const [k, v] of Object.entries(node)) walk(v, `${at}.${k}`);
    };
    for (const f of readdirSync(RUNBOOK_DIR)) walk(parse(readFileSync(join(RUNBOOK_DIR, f), 'utf8')), f);
    expect(bad).toEqual([]);
  });

  it('escalate every deadline they set', () => {
    const unescalated = [...demo.runbooks.values()].flatMap((rb) => rb.steps.filter((s) => s.deadline && !s.escalate).map((s) => `${rb.id}/${s.id}`));
    expect(unescalated).toEqual([]);
  });

  it('keep the handbook\'s deadlines: 3 minutes, 30 minutes, 2 days, 2 minutes, 15 minutes, 1 day, 2 working days', () => {
    const deadlines = (
      [
        ['fire-alarm', 'correction'], // 第九节 一.3
        ['fire-alarm', 'arrive'], // 一.1(2)
        ['fire-alarm', 'summary'], // 一.1(3)
        ['power-loss', 'find-cause'], // 五.2(2)
        ['flooding', 'on-site'], // 第四节 一.3
        ['flooding', 'revisit'], // 六.4
        ['typhoon', 'leadership-meeting'], // 二.1(2)
        ['rainstorm', 'leadership-meeting'], // 三.1(2)
      ] as const
    ).map(([rb, id]) => [`${rb}/${id}`, step(rb, id).deadline]);
    expect(Object.fromEntries(deadlines)).toEqual({
      'fire-alarm/correction': { within: 3 * MINUTE, from: 'assess' },
      'fire-alarm/arrive': { within: 30 * MINUTE, from: 'start' },
      'fire-alarm/summary': { within: 2 * DAY, from: 'stabilised' },
      'power-loss/find-cause': { within: 2 * MINUTE, from: 'start' },
      'flooding/on-site': { within: 15 * MINUTE, from: 'start' },
      'flooding/revisit': { workingDays: 2, from: 'start' },
      'typhoon/leadership-meeting': { within: DAY, from: 'activated' },
      'rainstorm/leadership-meeting': { within: DAY, from: 'activated' },
    });
  });

  it('fire alarm: a false alarm chosen by the fire-control room opens the correction, escalated to the director every minute', () => {
    const assess = step('fire-alarm', 'assess');
    expect(assess.role).toBe('fire-control');
    expect(assess.complete.by === 'value' && assess.complete.choices?.map((c) => c.id)).toEqual(['controllable', 'uncontrollable', 'false-alarm']);
    const correction = step('fire-alarm', 'correction');
    expect(correction).toMatchObject({ role: 'fire-control', after: ['assess=false-alarm'], escalate: { to: ['director', 'division-lead'], every: MINUTE }, notify: ['csc-duty'] });
    expect(step('fire-alarm', 'refuge').after).toEqual(['assess=uncontrollable']);
  });

  it('fire alarm: three on the phones with the handbook\'s script in working time; four entrances after hours; evacuation notice on the tower\'s screens', () => {
    const phones = step('fire-alarm', 'phones');
    expect(phones.when).toEqual({ time: 'working' });
    expect(phones.complete).toMatchObject({ by: 'value', type: 'number', min: 3 });
    expect(phones.script?.zh).toBe('火灾发生地点在***,目前火势已得到控制。请您及您公司员工不要惊慌,不要乘坐电梯。');
    const entrances = step('fire-alarm', 'entrances');
    expect(entrances.when).toEqual({ time: 'non-working' });
    expect(entrances.complete).toMatchObject({ by: 'value', type: 'number', min: 4 });
    expect(step('fire-alarm', 'broadcast')).toMatchObject({ when: { time: 'non-working' }, notify: ['area-supervisor'] });
    expect(step('fire-alarm', 'assess').lobby).toMatchObject({ priority: 1, screens: 'tower', until: ['stabilised', 'step:correction'] });
    expect(step('fire-alarm', 'phones').unless).toEqual(['assess=uncontrollable']);
    expect(step('fire-alarm', 'tally').after).toEqual(['@stabilised']);
  });

  it('fire reported by a tenant: fire-control room, then the director, then the safety director', () => {
    const chain = ['notify-fire-control', 'notify-director', 'notify-safety-director'].map((id) => step('fire-tenant-report', id));
    expect(chain.map((s) => [s.after, s.notify])).toEqual([[['assess'], ['fire-control']], [['notify-fire-control'], ['director']], [['notify-director'], ['safety-director']]]);
    const rb = runbook('fire-tenant-report');
    expect(rb.trigger.type === 'manual' && rb.trigger.fields.map((f) => f.id)).toEqual(['caller-name', 'phone', 'mobile', 'place', 'description']);
  });

  it('flooding after hours: calls to the unit, the director decides to unlock when nobody answered, weekly visits', () => {
    expect(step('flooding', 'call-contacts').complete).toEqual({ by: 'calls' });
    expect(step('flooding', 'unlock')).toMatchObject({ role: 'director', after: ['call-contacts=no-answer'] });
    expect(step('flooding', 'follow-up')).toMatchObject({ when: { time: 'non-working' }, repeat: { every: 7 * DAY, until: 'closed' } });
    expect(step('flooding', 'on-site').when).toEqual({ time: 'working' });
  });

  it('weather and holidays: level-dependent steps and lobby messages', () => {
    expect(step('typhoon', 'prepare').when?.states).toEqual(['1', '2']);
    expect(step('typhoon', 'phones')).toMatchObject({ when: { states: ['3', '4', '5'] }, complete: { min: 2 } });
    expect(step('typhoon', 'lobby-weather')).toMatchObject({ when: { states: ['4', '5'] }, lobby: { screens: 'all', until: ['stabilised'] } });
    expect(step('typhoon', 'relay').repeat).toEqual({ every: DAY, until: 'stabilised' });
    expect([runbook('typhoon').variant, runbook('rainstorm').variant]).toEqual(['follows-time', 'follows-time']);
    expect(step('rainstorm', 'phones').when).toEqual({ time: 'working', states: ['red', 'black'] });
    expect(runbook('holiday-notices').trigger).toEqual({ type: 'holiday', names: ['劳动节', '国庆节', '春节'], daysBefore: 7 });
    expect(step('holiday-notices', 'lobby-notice').lobby).toMatchObject({ priority: 5, screens: 'all', until: ['expired'] });
    expect(step('power-loss', 'power-restored').complete).toEqual({ by: 'signal', states: ['on'] });
    expect(step('power-loss', 'lobby-cause')).toMatchObject({ after: ['power-restored'], lobby: { until: ['closed'] } });
    expect(step('power-loss', 'lobby-cause').lobby!.text.zh).toContain('{{find-cause}}');
  });
});

describe('the demo duty roster', () => {
  const { duty, calendar, site } = demo.building;
  const cal = new WorkingCalendar(calendar, site.timezone);
  const onDuty = (iso: string) => {
    const at = DateTime.fromISO(iso, { zone: site.timezone }).toMillis();
    return new Set(duty.roster.filter((e) => cal.onShift(e.shift, at)).map((e) => e.role));
  };

  it('has the handbook\'s posts, acted for by hub logins (viewers never act)', () => {
    expect(duty.roles.map((r) => r.id)).toEqual(['csc-duty', 'area-supervisor', 'administrator', 'division-lead', 'director', 'fire-control', 'mne', 'civil-engineer', 'electrical-engineer', 'maintenance', 'security-leader', 'security-patrol', 'safety-director', 'finance', 'reception']);
    for (const r of duty.roles) expect(r.actedBy, r.id).not.toContain('viewer');
    const actedBy = Object.fromEntries(duty.roles.map((r) => [r.id, r.actedBy]));
    expect(actedBy['fire-control']).toContain('operator');
    expect(actedBy.director).toEqual(['supervisor']);
    expect(actedBy.finance).toEqual(['finance']);
  });

  it('names someone for every post', () => {
    const staffed = new Set(duty.roster.map((e) => e.role));
    expect(duty.roles.filter((r) => !staffed.has(r.id)).map((r) => r.id)).toEqual([]);
  });

  it('has the night posts covered on a weeknight, a Sunday and a public holiday', () => {
    const night = ['fire-control', 'security-leader', 'security-patrol', 'mne', 'area-supervisor', 'director'];
    for (const iso of ['2026-11-03T23:30', '2026-11-08T15:00', '2026-10-02T10:00']) expect([...onDuty(iso)], iso).toEqual(expect.arrayContaining(night));
    expect(onDuty('2026-11-03T23:30').has('csc-duty')).toBe(false); // after the late shift CSC's phone goes to security (第一节 一)
    expect(onDuty('2026-11-03T10:00').has('csc-duty')).toBe(true);
  });

  it('gives the floor riser leak sensors a unit on their floor, and has the May Day holiday', () => {
    const units = new Map(demo.building.towers.flatMap((t) => t.floors.flatMap((f) => f.units.map((u) => [u.id, `${t.id}/${f.level}`]))));
    const risers = demo.building.signals.leakSensors.filter((s) => /-R\d\d$/.test(s.id));
    expect(risers).toHaveLength(6);
    for (const s of risers) expect(units.get(s.unit ?? ''), s.id).toBe(`${s.tower}/${s.floor}`);
    expect(demo.building.signals.leakSensors.filter((s) => s.floor < 0).map((s) => s.unit)).toEqual([undefined, undefined, undefined, undefined]);
    expect(calendar.holidays.filter((h) => h.name === '劳动节').map((h) => h.date)).toEqual(['2027-05-01', '2027-05-02', '2027-05-03', '2027-05-04', '2027-05-05']);
  });
});

describe('config check of runbook files', () => {
  // One folder with a good runbook and four broken ones, each broken in one way.
  const dir = tempDir('bohub-runbooks-');
  copyFileSync(join(RUNBOOK_DIR, 'gas-leak.yaml'), join(dir, 'gas-leak.yaml'));
  const rb = (id: string, steps: object[], trigger: object = { type: 'manual' }) =>
    writeFileSync(join(dir, `${id}.yaml`), stringify({ id, title: { zh: id, en: id }, handbook: '第九节', priority: 3, trigger, steps }));
  const s = (id: string, extra: object = {}) => ({ id, role: 'csc-duty', title: { zh: id, en: id }, text: { zh: id, en: id }, ...extra });
  rb('bad-role', [s('first'), s('second', { role: 'janitor' })]);
  rb('bad-signal', [s('first')], { type: 'signal', kind: 'fire-zone', signals: ['FZ-C-01'], states: ['alarm'] });
  rb('self-deadline', [s('first'), s('second', { deadline: { within: '3m', from: 'second' } })]);
  rb('circle', [s('first'), s('second', { after: ['third'] }), s('third', { after: ['second'] })]);
  const file = writeConfig((raw) => (raw.runbooks.dir = dir));
  const result = checkConfig(file, {});
  const issues = result.ok ? [] : result.issues.map((i) => `${i.path}: ${i.message}`);

  it('names an unknown duty role by file and step', () => {
    expect(issues).toContainEqual(expect.stringMatching(/^runbooks\/bad-role\.yaml: steps\[1\]\.role: unknown role "janitor" \(known: csc-duty, /));
  });

  it('names a trigger signal the building does not have', () => {
    expect(issues).toContainEqual('runbooks/bad-signal.yaml: trigger.signals[0]: unknown signal "FZ-C-01"');
  });

  it('refuses a deadline that counts from its own step', () => {
    expect(issues).toContainEqual('runbooks/self-deadline.yaml: steps[1].deadline: step "second" has a deadline that depends on itself');
  });

  it('refuses steps that wait for each other in a circle', () => {
    expect(issues).toContainEqual('runbooks/circle.yaml: steps[1].after: steps depend on each other in a circle: second → third → second');
  });

  it('reports those four problems and nothing about the good file', () => {
    expect(issues).toHaveLength(4);
  });

  it('exits 1 from the command line, printing each file and path', () => {
    const run = spawnSync(process.execPath, [join(REPO, 'bin/bohub.js'), 'config', 'check', file], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    for (const at of ['runbooks/bad-role.yaml: steps[1].role', 'runbooks/bad-signal.yaml: trigger.signals[0]', 'runbooks/self-deadline.yaml: steps[1].deadline', 'runbooks/circle.yaml: steps[1].after'])
      expect(run.stderr).toContain(at);
    expect(run.stderr).not.toContain('gas-leak.yaml');
  });
});
