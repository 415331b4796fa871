import { DateTime } from 'luxon';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEMO_PASSWORDS } from '../../gateway/auth/passwords.ts';
import { systemClock, type Clock, type Timer } from '../../gateway/clock.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { Hub } from '../../gateway/hub.ts';
import { silentLogger } from '../../gateway/log.ts';
import type { Incident } from '../../gateway/runbooks/types.ts';
import { hubTestConfig } from '../helpers/config.ts';
import { goTo, launchChromium, logIn, PHONE, screenshot, WALL, type DemoUser } from '../helpers/control-room.ts';
import { waitFor } from '../helpers/ports.ts';
import { MIN, ZONE } from '../helpers/runbooks.ts';
import { describeWithProgram, whichProgram } from '../helpers/programs.ts';

// The incident pages (issue 8; handbook 第九节) in a real headless Chromium against a
// whole hub: a fire from the simulated panel over MQTT opens the tower B fire incident,
// the operator opens it from the banner and works its checklist, a late step escalates,
// a viewer looks on from a phone, and a supervisor takes it to its written summary.
//
// The hub's clock starts at the next 22:38 in the building's zone (non-working time,
// 第九节 一.1(2)), whenever the test runs. The page counts down on the hub's clock,
// read at login and at each reconnect; the wall screens' browser clocks are set to the
// hub's too, so that when the hub's clock jumps forward 31 minutes (to see an escalation
// without waiting) the pages' clocks jump with it. The viewer's phone keeps its own.
// Screenshots go to test-artifacts/dashboard/incidents-*.png.

const START = nextNight();
const step = (key: string) => `[data-testid="step"][data-step="${key}"]`;

describeWithProgram(whichProgram('/usr/bin/chromium'), 'control-room incidents in chromium against a real hub', 'chromium', (executablePath) => {
  let browser: Browser;
  let hub: Hub;
  let base: string;
  const clock = jumpingClock(START);
  let op: Page;
  let incidentId: number;
  const errors: string[] = [];

  beforeAll(async () => {
    hub = new Hub({ config: loadConfig(hubTestConfig(4), {}), log: silentLogger, clock });
    await hub.start();
    base = hub.parts.http!.url();
    browser = await launchChromium(executablePath);
    op = await open('operator');
    await waitFor('the page\'s live connection', async () => ((await hub.metrics.socketClients.get()).values[0]?.value ?? 0) >= 1);
  });

  afterAll(async () => {
    await browser?.close();
    await hub?.stop();
  });

  it('a fire opens the incident; the operator opens it from the banner and sees the checklist with live countdowns', async () => {
    await hub.parts.signalSim!.set('FZ-B-12', 'alarm');
    const link = op.locator('[data-testid="alarm-alert"] [data-testid="incident-link"]');
    await link.waitFor({ timeout: 5000 });
    incidentId = Number(await link.getAttribute('data-incident-id'));
    expect((await incidentFromApi()).runbook).toBe('fire-alarm');
    await link.click();
    await op.locator(`[data-testid="incident-detail"][data-incident-id="${incidentId}"]`).waitFor();

    // Non-working time: the fire-control room assesses and broadcasts, the area supervisor must arrive within 30 minutes.
    expect(await op.locator(step('assess')).getAttribute('data-status')).toBe('active');
    expect(await op.locator(step('broadcast')).getAttribute('data-status')).toBe('active');
    expect(await op.locator(step('call-administrators')).getAttribute('data-status')).toBe('waiting');
    expect(await op.locator(step('phones')).count()).toBe(0); // a working-time step
    const countdown = op.locator(step('arrive')).locator('[data-testid="countdown"]');
    const first = Number(await countdown.getAttribute('data-ms'));
    expect(first).toBeGreaterThan(29 * MIN);
    expect(first).toBeLessThanOrEqual(30 * MIN);
    expect(await countdown.textContent()).toMatch(/^剩余 (29|30):\d\d$/);
    await expect.poll(async () => Number(await countdown.getAttribute('data-ms')), { timeout: 3000 }).toBeLessThan(first);
    expect(await countdown.getAttribute('class')).not.toContain('overdue');

    // The operator acts for the fire-control room, not for the area supervisor (config duty.roles).
    expect(await op.locator(step('assess')).locator('[data-testid="step-complete"]').count()).toBe(1);
    expect(await op.locator(step('broadcast')).locator('[data-testid="step-complete"]').count()).toBe(1);
    expect(await op.locator(step('arrive')).locator('[data-testid="step-complete"]').count()).toBe(0);
    expect(await op.locator('[data-testid="incident-close"]').count()).toBe(0); // closing is for supervisors
    await screenshot(op, 'incidents-detail');
    expect(errors).toEqual([]);
  });

  it('the operator completes a step with a note through the dialog, and the hub agrees', async () => {
    await op.locator(step('broadcast')).locator('[data-testid="step-complete"]').click();
    const dialog = op.locator('[data-testid="step-complete-dialog"]');
    await dialog.locator('textarea[name="note"]').fill('22:40 已广播，已电话通知刘强');
    await dialog.locator('[data-testid="dialog-submit"]').click();
    await dialog.waitFor({ state: 'detached', timeout: 5000 });
    await expect.poll(() => op.locator(step('broadcast')).getAttribute('data-status'), { timeout: 5000 }).toBe('done');
    expect(await op.locator(step('broadcast')).locator('[data-testid="step-note"]').textContent()).toContain('22:40 已广播，已电话通知刘强');
    expect(await op.locator(step('broadcast')).locator('[data-testid="step-done"]').textContent()).toContain('operator');
    // The next step, for the area supervisor, became active; the operator still has no button for it.
    await expect.poll(() => op.locator(step('call-administrators')).getAttribute('data-status'), { timeout: 5000 }).toBe('active');
    expect(await op.locator(step('call-administrators')).locator('[data-testid="step-complete"]').count()).toBe(0);

    const s = (await incidentFromApi()).steps.find((x) => x.key === 'broadcast');
    expect(s).toMatchObject({ status: 'done', doneBy: 'operator', note: '22:40 已广播，已电话通知刘强' });
    expect(errors).toEqual([]);
  });

  it('a step past its deadline turns red and overdue, and its escalation shows in the history', async () => {
    expect(await op.locator('[data-testid="escalation"]').count()).toBe(0);
    clock.jump(31 * MIN);
    await op.context().clock.setSystemTime(clock.now());
    const row = op.locator('[data-testid="escalation"][data-step="arrive"]');
    await row.waitFor({ timeout: 5000 });
    const incident = await incidentFromApi();
    expect(incident.escalations[0]).toMatchObject({ stepKey: 'arrive', level: 1, to: ['director'] });
    const told = incident.notifications.find((n) => n.reason === 'escalation' && n.stepKey === 'arrive')!.recipients.map((r) => r.name);
    expect(told.length).toBeGreaterThan(0);
    for (const name of told) expect(await row.locator('[data-testid="escalation-to"]').textContent()).toContain(name);
    expect(await row.textContent()).toContain('半小时内到达');
    const countdown = op.locator(step('arrive')).locator('[data-testid="countdown"]');
    await expect.poll(() => countdown.getAttribute('class'), { timeout: 3000 }).toContain('overdue');
    expect(await countdown.textContent()).toMatch(/^超时 0[01]:\d\d$/);
    await screenshot(op, 'incidents-escalated');
    expect(errors).toEqual([]);
  });

  it('a viewer on a phone sees the list and the checklist, without a single button to act', async () => {
    // The phone keeps its own clock (real time, hours before the hub's 23:09): the page
    // counts on the hub's clock (/api/auth/me `now`), so the late step is overdue there too.
    const viewer = await open('viewer', PHONE, { ownClock: true });
    await goTo(viewer, 'incidents');
    const row = viewer.locator(`[data-testid="incident-row"][data-incident-id="${incidentId}"]`);
    await row.waitFor({ timeout: 5000 });
    expect(await row.locator('[data-testid="incident-overdue"]').count()).toBe(1);
    expect(await viewer.locator('[data-testid="incident-start"]').count()).toBe(0);
    await screenshot(viewer, 'incidents-list-phone');
    await row.locator('[data-testid="incident-open"]').click();
    await viewer.locator('[data-testid="incident-detail"]').waitFor();
    for (const sel of ['step-complete', 'incident-stabilise', 'incident-close']) expect(await viewer.locator(`[data-testid="${sel}"]`).count(), sel).toBe(0);
    await screenshot(viewer, 'incidents-detail-phone');
    await viewer.context().close();
    expect(errors).toEqual([]);
  });

  it('a supervisor takes the incident from the checklist to the written summary, and the report opens', async () => {
    const sup = await open('supervisor');
    await goTo(sup, 'incidents');
    await screenshot(sup, 'incidents-list');
    await sup.locator(`[data-testid="incident-row"][data-incident-id="${incidentId}"] [data-testid="incident-open"]`).click();
    await sup.locator('[data-testid="incident-detail"]').waitFor();

    await complete(sup, 'assess', { value: 'controllable', note: '消防中心确认：火势可控' });
    await complete(sup, 'call-administrators', {});
    await complete(sup, 'arrive', { note: '23:12 到达，迟到' });
    // 第九节 一.1(2): four entrances. Three is recorded, and the step stays open.
    await complete(sup, 'entrances', { value: '3' }, 'active');
    expect(await sup.locator(step('entrances')).locator('[data-testid="step-value"]').textContent()).toContain('3');
    await complete(sup, 'entrances', { value: '4' });
    await complete(sup, 'injured', { value: '无' });

    await sup.locator('[data-testid="incident-stabilise"]').click();
    await submitDialog(sup, 'incident-stabilise-dialog', { note: '明火已扑灭，现场受控' });
    await expect.poll(() => sup.locator('[data-testid="incident-detail"]').getAttribute('data-state'), { timeout: 5000 }).toBe('stabilised');
    await complete(sup, 'tally', { note: '无人员伤亡，12层一间办公室受损' });
    await complete(sup, 'summary', {});
    await complete(sup, 'comfort', {});

    await sup.locator('[data-testid="incident-close"]').click();
    await submitDialog(sup, 'incident-close-dialog', { summary: '22:38 B座12层火警，火势可控，23:20扑灭。无人员伤亡。' });
    await expect.poll(() => sup.locator('[data-testid="incident-detail"]').getAttribute('data-state'), { timeout: 5000 }).toBe('closed');
    expect(await sup.locator('[data-testid="incident-summary"]').textContent()).toContain('23:20扑灭');
    expect(await sup.locator('[data-testid="step-complete"]').count()).toBe(0);
    const closed = await incidentFromApi();
    expect(closed).toMatchObject({ state: 'closed', closedBy: 'supervisor', report: { by: 'supervisor' } });
    expect(closed.steps.filter((s) => s.status !== 'done' && s.status !== 'skipped').map((s) => s.key)).toEqual([]);

    const report = sup.locator('[data-testid="incident-report"]');
    expect(await report.getAttribute('target')).toBe('_blank');
    expect(await report.getAttribute('rel')).toContain('noopener');
    const reportUrl = await report.getAttribute('href');
    expect(reportUrl).toBe(`/api/incidents/${incidentId}/report?format=html`);
    const answer = await sup.evaluate(async (url) => {
      const res = await fetch(url);
      return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
    }, reportUrl!);
    expect(answer.status).toBe(200);
    expect(answer.type).toContain('text/html');
    expect(answer.body).toContain('23:20扑灭');
    await screenshot(sup, 'incidents-closed');

    // The closed incident leaves the list of open ones, and is there under "all".
    await goTo(sup, 'incidents');
    await sup.locator(`[data-testid="incident-row"][data-incident-id="${incidentId}"]`).waitFor({ state: 'detached', timeout: 5000 });
    await sup.locator('[data-testid="incident-view-all"]').click();
    await sup.locator(`[data-testid="incident-row"][data-incident-id="${incidentId}"][data-state="closed"]`).waitFor({ timeout: 5000 });
    await sup.context().close();
    expect(errors).toEqual([]);
  });

  it('an operator starts a procedure by hand from a tenant\'s phone call, with the facts it asks for', async () => {
    await goTo(op, 'incidents');
    await op.locator('[data-testid="incident-start"]').click();
    const dialog = op.locator('[data-testid="incident-start-dialog"]');
    await dialog.locator('[data-testid="start-runbook"]').selectOption('theft');
    await dialog.locator('[data-testid="start-tower"]').selectOption('A');
    await dialog.locator('input[data-field="unit"]').fill('A-0101');
    await dialog.locator('input[data-field="description"]').fill('业户来电：办公室门锁被撬');
    await dialog.locator('[data-testid="dialog-submit"]').click();
    await dialog.waitFor({ state: 'detached', timeout: 5000 });
    const detail = op.locator('[data-testid="incident-detail"]');
    await detail.waitFor({ timeout: 5000 });
    const id = Number(await detail.getAttribute('data-incident-id'));
    expect(id).not.toBe(incidentId);
    expect(await detail.textContent()).toContain('偷盗、砸门');
    expect(await detail.textContent()).toContain('业户来电：办公室门锁被撬');
    expect(hub.services().incidents!.get(id)).toMatchObject({ runbook: 'theft', tower: 'A', openedBy: 'operator', fields: { unit: 'A-0101', description: '业户来电：办公室门锁被撬' } });
    expect(errors).toEqual([]);
  });

  // ---- helpers ---------------------------------------------------------------

  /** A page logged in through the form, its clock set to the hub's (see the header) unless it keeps its own. */
  async function open(user: DemoUser, options: BrowserContextOptions = WALL, { ownClock = false } = {}): Promise<Page> {
    const context = await browser.newContext(options);
    if (!ownClock) await context.clock.install({ time: clock.now() });
    const page = await context.newPage();
    page.on('pageerror', (err) => errors.push(`${user}: ${err.message}`));
    page.on('console', (msg) => msg.type() === 'error' && !/\b(401|403|404|409)\b|Failed to load resource/.test(msg.text()) && errors.push(`${user}: ${msg.text()}`));
    await page.goto(base);
    await logIn(page, user);
    return page;
  }

  async function incidentFromApi(): Promise<Incident> {
    const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'viewer', password: DEMO_PASSWORDS.viewer }) });
    const { token } = (await login.json()) as { token: string };
    const res = await fetch(`${base}/api/incidents/${incidentId}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    return ((await res.json()) as { incident: Incident }).incident;
  }
});

/** Completes a step through its dialog, then waits for the status the step should be in. */
async function complete(page: Page, key: string, values: { value?: string; note?: string }, expected = 'done'): Promise<void> {
  const button = page.locator(step(key)).locator('[data-testid="step-complete"]');
  await button.waitFor({ timeout: 5000 });
  await button.click();
  const dialog = page.locator('[data-testid="step-complete-dialog"]');
  if (values.value !== undefined) {
    const input = dialog.locator('[data-testid="step-value-input"]');
    if ((await input.evaluate((el) => el.tagName)) === 'SELECT') await input.selectOption(values.value);
    else await input.fill(values.value);
  }
  if (values.note !== undefined) await dialog.locator('textarea[name="note"]').fill(values.note);
  await dialog.locator('[data-testid="dialog-submit"]').click();
  await dialog.waitFor({ state: 'detached', timeout: 5000 });
  await expect.poll(() => page.locator(step(key)).getAttribute('data-status'), { timeout: 5000 }).toBe(expected);
}

async function submitDialog(page: Page, testId: string, fields: Record<string, string>): Promise<void> {
  const dialog = page.locator(`[data-testid="${testId}"]`);
  for (const [name, text] of Object.entries(fields)) await dialog.locator(`[name="${name}"]`).fill(text);
  await dialog.locator('[data-testid="dialog-submit"]').click();
  await dialog.waitFor({ state: 'detached', timeout: 5000 });
}

/** The next 22:38 in the building's zone: night, non-working on any day. */
function nextNight(): number {
  const now = DateTime.now().setZone(ZONE);
  const tonight = now.set({ hour: 22, minute: 38, second: 0, millisecond: 0 });
  return (tonight > now ? tonight : tonight.plus({ days: 1 })).toMillis();
}

/**
 * Real time shifted to start at `startAt`, that can also jump forward: timers set on
 * it fire by its own time, so after a jump whatever fell due (a step's deadline) fires
 * at once, as it would have on a hub left running that long.
 */
function jumpingClock(startAt: number): Clock & { jump(ms: number): void } {
  let offset = startAt - Date.now();
  const pending = new Map<number, { at: number; fn: () => void; handle: ReturnType<typeof setTimeout> }>();
  let nextId = 0;
  const now = () => Date.now() + offset;
  const arm = (id: number, at: number, fn: () => void) =>
    setTimeout(() => {
      pending.delete(id);
      fn();
    }, Math.max(0, at - now()));
  return {
    now,
    setTimeout(fn: () => void, ms: number): Timer {
      const id = nextId++;
      const at = now() + ms;
      pending.set(id, { at, fn, handle: arm(id, at, fn) });
      return {
        cancel: () => {
          clearTimeout(pending.get(id)?.handle);
          pending.delete(id);
        },
      };
    },
    // Intervals (polls, supervision checks) keep their real pace.
    setInterval: systemClock.setInterval,
    jump(ms: number) {
      offset += ms;
      for (const [id, p] of pending) {
        clearTimeout(p.handle);
        p.handle = arm(id, p.at, p.fn);
      }
    },
  };
}
