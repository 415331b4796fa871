import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Alarm } from '../../gateway/alarms/types.ts';
import { DEMO_PASSWORDS } from '../../gateway/auth/passwords.ts';
import type { Hub } from '../../gateway/hub.ts';
import { hubTestConfig } from '../helpers/config.ts';
import { goTo, launchChromium, logIn, openControlRoom, PHONE, screenshot, soundStarts, startHub, WALL, type ControlRoomPage, type DemoUser } from '../helpers/control-room.ts';
import { freePort, waitFor } from '../helpers/ports.ts';
import { describeWithProgram, whichProgram } from '../helpers/programs.ts';

// The fire-alarm alerter and the alarms page (issue 8) in a real headless Chromium,
// against a whole hub: the fire comes from the simulated fire panel over MQTT, through
// the alarm engine and socket.io, to the banner on whatever page is open. The tests run
// in order on one operator's wall screen, as a shift lives: a fire, a mute, a second
// fire, acknowledgements, a viewer and a supervisor looking on, then a hub restart.
// Screenshots go to test-artifacts/dashboard/alarms-*.png.

const BANNER = '[data-testid="alarm-banner"]';
const row = (id: number) => `[data-testid="alarm-alert"][data-alarm-id="${id}"]`;
const pageRow = (id: number) => `[data-testid="alarm-row"][data-alarm-id="${id}"]`;
/** Two cycles of the horn's pattern (1.2 s each): long enough to see it would have sounded again. */
const QUIET_MS = 3000;

describeWithProgram(whichProgram('/usr/bin/chromium'), 'control-room alarms in chromium against a real hub', 'chromium', (executablePath) => {
  let browser: Browser;
  let hub: Hub;
  let file: string;
  let base: string;
  let op: ControlRoomPage;
  const others: ControlRoomPage[] = [];
  /** Alarm ids by zone, as the hub raised them. */
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    // A fixed web port and data folder, so the restarted hub is where the page looks for it (last test).
    const port = await freePort();
    file = hubTestConfig(4, (raw) => {
      raw.web.port = port;
      // A short leak on-delay, so the supervisor's shelving test has a non-fire alarm quickly.
      raw.alarms = { leak: { onDelaySeconds: 1, offDelaySeconds: 1 } };
    });
    hub = await startHub(file);
    base = hub.parts.http!.url();
    browser = await launchChromium(executablePath);
    op = await openControlRoom(browser, base, 'operator');
    await waitFor('the page\'s live connection', async () => (await sockets()) >= 1);
  });

  afterAll(async () => {
    await browser?.close();
    await hub?.stop();
  });

  it('a fire alarm from the panel shows in a flashing banner within 1 s, with the horn, the place and the incident', async () => {
    const { page } = op;
    expect(await page.locator(BANNER).count()).toBe(0);
    const t0 = Date.now();
    await hub.parts.signalSim!.set('FZ-A-05', 'alarm');
    await page.locator(BANNER).waitFor({ state: 'visible', timeout: 5000 });
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeLessThan(1000);

    ids.A05 = await alarmIdOf('FZ-A-05');
    const alert = page.locator(row(ids.A05));
    expect(await alert.locator('[data-testid="alarm-place"]').textContent()).toBe('A座 · 5层 · FZ-A-05');
    expect(await alert.textContent()).toContain('火警');
    // The horn: real Web Audio starts, from the publish on, and again in the next cycle.
    await expect.poll(async () => (await soundStarts(page)).filter((s) => s.at >= t0).length, { timeout: 5000 }).toBeGreaterThanOrEqual(4);
    expect((await soundStarts(page)).filter((s) => s.at >= t0).every((s) => s.kind === 'oscillator')).toBe(true);
    expect(await animationOf(page)).not.toBe('none');
    // The fire opened the tower A incident; the banner links to it and to the alarm.
    await alert.locator('[data-testid="incident-link"]').waitFor({ timeout: 5000 });
    const incident = hub.services().incidents!.list('active').find((i) => i.runbook === 'fire-alarm' && i.tower === 'A');
    expect(await alert.locator('[data-testid="incident-link"]').getAttribute('href')).toBe(`#/incidents/${incident!.id}`);
    expect(await alert.locator('[data-testid="alarm-link"]').getAttribute('href')).toBe(`#/alarms/${ids.A05}`);
    await screenshot(page, 'alarms-banner');
    expect(op.errors).toEqual([]);
  });

  it('mute silences that alarm only: it keeps flashing, and a second fire sounds again', async () => {
    const { page } = op;
    await page.locator(row(ids.A05!)).locator('[data-testid="alarm-mute"]').click();
    const afterMute = (await soundStarts(page)).length;
    await page.waitForTimeout(QUIET_MS); // absence of sound cannot be polled for
    expect((await soundStarts(page)).length).toBe(afterMute);
    expect(await animationOf(page)).not.toBe('none');
    expect(await page.locator(row(ids.A05!)).getAttribute('data-muted')).toBe('true');
    await screenshot(page, 'alarms-banner-muted');

    const t1 = Date.now();
    await hub.parts.signalSim!.set('FZ-B-03', 'alarm');
    ids.B03 = await waitForAlarm('FZ-B-03');
    await page.locator(row(ids.B03)).waitFor({ timeout: 5000 });
    await expect.poll(async () => (await soundStarts(page)).filter((s) => s.at >= t1).length, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    expect(op.errors).toEqual([]);
  });

  it('acknowledging with a comment takes the alarm off the banner, stops the horn, and the hub records who and why', async () => {
    const { page } = op;
    // B from the alarms page, through the dialog.
    await goTo(page, 'alarms');
    await page.locator(pageRow(ids.B03!)).locator('[data-action="ack"]').click();
    await ackThroughDialog(page, '现场确认：B座3层烟感误报 test');
    await page.locator(row(ids.B03!)).waitFor({ state: 'detached', timeout: 5000 });
    await expect.poll(() => page.locator(pageRow(ids.B03!)).getAttribute('data-state'), { timeout: 5000 }).toBe('active-acknowledged');
    expect(await page.locator(pageRow(ids.B03!)).locator('[data-testid="alarm-handled"]').textContent()).toContain('现场确认：B座3层烟感误报 test');
    // Only the muted A is left: no more sound.
    const afterAck = (await soundStarts(page)).length;
    await page.waitForTimeout(QUIET_MS);
    expect((await soundStarts(page)).length).toBe(afterAck);

    // A from the banner itself; then the banner is gone.
    await page.locator(row(ids.A05!)).locator('[data-action="ack"]').click();
    await ackThroughDialog(page, 'A座5层已派人查看');
    await page.locator(BANNER).waitFor({ state: 'detached', timeout: 5000 });
    await expect.poll(() => page.locator(pageRow(ids.A05!)).getAttribute('data-state'), { timeout: 5000 }).toBe('active-acknowledged');
    await screenshot(page, 'alarms-page');

    const listed = await alarmsFromApi('viewer');
    expect(listed.find((a) => a.id === ids.A05)?.ack).toMatchObject({ by: 'operator', comment: 'A座5层已派人查看' });
    expect(listed.find((a) => a.id === ids.B03)?.ack).toMatchObject({ by: 'operator', comment: '现场确认：B座3层烟感误报 test' });
    expect(op.errors).toEqual([]);
  });

  it('a viewer sees a new fire alarm but has no buttons, and the hub refuses its acknowledgement (403)', async () => {
    const viewer = await openControlRoom(browser, base, 'viewer');
    others.push(viewer);
    const { page } = viewer;
    await goTo(page, 'alarms');
    await expect.poll(() => sockets(), { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    await hub.parts.signalSim!.set('FZ-A-07', 'alarm');
    ids.A07 = await waitForAlarm('FZ-A-07');
    await page.locator(row(ids.A07)).waitFor({ timeout: 5000 });
    await page.locator(pageRow(ids.A07)).waitFor({ timeout: 5000 });
    expect(await page.locator('[data-action]').count()).toBe(0);
    expect(await page.locator('[data-action="ack"]').count()).toBe(0);
    // Muting is this screen's own business, so the viewer has it.
    expect(await page.locator(row(ids.A07)).locator('[data-testid="alarm-mute"]').count()).toBe(1);
    const status = await page.evaluate(async (id) => {
      const res = await fetch(`/api/alarms/${id}/ack`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ comment: 'viewer tries' }) });
      return res.status;
    }, ids.A07);
    expect(status).toBe(403);
    await screenshot(page, 'alarms-page-viewer');
    expect(viewer.errors).toEqual([]);
  });

  it('where the browser holds sound back until a click, the banner offers to enable it, and the horn starts on the click', async () => {
    // Headless Chromium here plays sound without a gesture whatever --autoplay-policy says,
    // so the policy is played by the page's AudioContext: suspended, and resumable only
    // from a click on the page (a trusted event; Playwright's evaluate() counts as a user
    // activation, so navigator.userActivation cannot be the test).
    const context = await browser.newContext(WALL);
    await context.addInitScript(() => {
      const w = window as unknown as { __soundStarts: number[]; AudioContext: typeof AudioContext };
      w.__soundStarts = [];
      const start = OscillatorNode.prototype.start;
      OscillatorNode.prototype.start = function (this: OscillatorNode, when?: number) {
        w.__soundStarts.push(Date.now());
        start.call(this, when);
      };
      let clickedAt = -Infinity;
      addEventListener('click', (e) => e.isTrusted && (clickedAt = performance.now()), true);
      // Until a click lets it, the context is suspended and says so (its own state may
      // flip to running on its own a moment after construction: the page must not see that).
      const Real = w.AudioContext;
      const realState = Object.getOwnPropertyDescriptor(BaseAudioContext.prototype, 'state')!.get!;
      w.AudioContext = class extends Real {
        private allowed = false;
        constructor(options?: AudioContextOptions) {
          super(options);
          Object.defineProperty(this, 'state', { get: () => (this.allowed ? realState.call(this) : 'suspended') });
          void super.suspend();
        }
        override resume(): Promise<void> {
          if (performance.now() - clickedAt > 1000) return new Promise<void>(() => undefined);
          this.allowed = true;
          return super.resume();
        }
      };
    });
    const login = await context.newPage();
    await login.goto(base);
    await logIn(login, 'operator');
    // A wall screen that opens by itself, logged in (the session cookie), but nobody has clicked it.
    const page = await context.newPage();
    await login.close();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(base);
    await page.locator(row(ids.A07!)).waitFor({ timeout: 10_000 });
    const button = page.locator('[data-testid="enable-sound"]');
    await button.waitFor({ timeout: 5000 });
    expect(await page.evaluate(() => (window as unknown as { __soundStarts: number[] }).__soundStarts.length)).toBe(0);
    await screenshot(page, 'alarms-enable-sound');
    await button.click();
    await expect.poll(() => page.evaluate(() => (window as unknown as { __soundStarts: number[] }).__soundStarts.length), { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    await button.waitFor({ state: 'detached', timeout: 5000 });
    await context.close();
    expect(errors).toEqual([]);
  });

  it('a supervisor on a phone may shelve a leak alarm with a reason, but never a fire alarm', async () => {
    const sup = await openControlRoom(browser, base, 'supervisor', PHONE);
    others.push(sup);
    const { page } = sup;
    await goTo(page, 'alarms');
    await hub.parts.signalSim!.set('LK-A-B1-PUMP', 'wet');
    const leak = await waitForAlarm('LK-A-B1-PUMP');
    await page.locator(pageRow(leak)).waitFor({ timeout: 5000 });
    // The phone also shows the fire banner (A-07 is unacknowledged).
    await page.locator(row(ids.A07!)).waitFor({ timeout: 5000 });
    await screenshot(page, 'alarms-page-phone');
    for (const id of [ids.A05!, ids.B03!, ids.A07!]) expect(await page.locator(pageRow(id)).locator('[data-action="shelve"]').count()).toBe(0);
    await page.locator(pageRow(leak)).locator('[data-action="shelve"]').click();
    const dialog = page.locator('[data-testid="alarm-shelve-dialog"]');
    await dialog.locator('textarea[name="reason"]').fill('水泵房检修，已通知工程部');
    await dialog.locator('input[name="minutes"]').fill('30');
    await dialog.locator('[data-testid="dialog-submit"]').click();
    await page.locator(pageRow(leak)).waitFor({ state: 'detached', timeout: 5000 });
    await page.locator('[data-testid="alarm-view-shelved"]').click();
    expect(await page.locator(pageRow(leak)).locator('[data-testid="alarm-handled"]').textContent()).toContain('水泵房检修，已通知工程部');
    const shelved = (await alarmsFromApi('viewer')).find((a) => a.id === leak)?.shelved;
    expect(shelved).toMatchObject({ by: 'supervisor', reason: '水泵房检修，已通知工程部' });
    expect(shelved!.until - shelved!.at).toBe(30 * 60_000);
    expect(sup.errors).toEqual([]);
  });

  it('after a hub restart the page reconnects and shows what changed while it was away, learned from the API', async () => {
    const { page } = op;
    await goTo(page, 'alarms');
    await page.locator(row(ids.A07!)).waitFor({ timeout: 5000 });
    for (const o of others.splice(0)) await o.page.context().close();

    await hub.stop();
    await page.locator('[data-testid="offline-banner"]').waitFor({ state: 'visible', timeout: 10_000 });
    await screenshot(page, 'alarms-offline');
    // The page may not hear anything live until the change below is made: only a resync can tell it.
    await page.route('**/socket.io/**', (r) => r.abort());
    hub = await startHub(file);
    expect(hub.parts.http!.url()).toBe(base);
    const token = await loginToken('supervisor');
    const ack = await fetch(`${base}/api/alarms/${ids.A07}/ack`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ comment: '重启期间由主管确认' }),
    });
    expect(ack.status).toBe(200);
    // Still offline, still showing the old state.
    expect(await page.locator(row(ids.A07!)).count()).toBe(1);
    await page.unroute('**/socket.io/**');

    await page.locator('[data-testid="offline-banner"]').waitFor({ state: 'detached', timeout: 20_000 });
    if (await page.locator('#login-button').count()) throw new Error('the page was sent to the login form: its session did not survive the hub restart');
    await page.locator(BANNER).waitFor({ state: 'detached', timeout: 5000 });
    await expect.poll(() => page.locator(pageRow(ids.A07!)).locator('[data-testid="alarm-handled"]').textContent(), { timeout: 5000 }).toContain('重启期间由主管确认');
    expect(await page.locator(pageRow(ids.A07!)).getAttribute('data-state')).not.toBe('active-unacknowledged');
    await screenshot(page, 'alarms-after-restart');

    // A latched fire whose zone is back to normal is reset, with a comment, and leaves the list.
    await hub.parts.signalSim!.set('FZ-B-03', 'normal');
    const reset = page.locator(pageRow(ids.B03!)).locator('[data-action="reset"]');
    await reset.waitFor({ timeout: 5000 });
    await reset.click();
    const dialog = page.locator('[data-testid="alarm-reset-dialog"]');
    await dialog.locator('textarea[name="comment"]').fill('现场确认无火情，复位');
    await dialog.locator('[data-testid="dialog-submit"]').click();
    await page.locator(pageRow(ids.B03!)).waitFor({ state: 'detached', timeout: 5000 });
    expect(hub.services().alarms!.get(ids.B03!)).toMatchObject({ state: 'normal', reset: { by: 'operator', comment: '现场确认无火情，复位' } });
    expect(op.errors).toEqual([]);
  }, 60_000);

  // ---- helpers ---------------------------------------------------------------

  async function sockets(): Promise<number> {
    return (await hub.metrics.socketClients.get()).values[0]?.value ?? 0;
  }

  async function loginToken(user: DemoUser): Promise<string> {
    const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user, password: DEMO_PASSWORDS[user] }) });
    expect(res.status).toBe(200);
    return ((await res.json()) as { token: string }).token;
  }

  async function alarmsFromApi(user: DemoUser): Promise<Alarm[]> {
    const res = await fetch(`${base}/api/alarms?state=active`, { headers: { authorization: `Bearer ${await loginToken(user)}` } });
    expect(res.status).toBe(200);
    return ((await res.json()) as { alarms: Alarm[] }).alarms;
  }

  async function alarmIdOf(source: string): Promise<number> {
    const a = hub.services().alarms!.list('active').find((x) => x.source === source);
    if (!a) throw new Error(`no open alarm for ${source}`);
    return a.id;
  }

  async function waitForAlarm(source: string): Promise<number> {
    await expect.poll(() => hub.services().alarms!.list('active').some((x) => x.source === source), { timeout: 10_000 }).toBe(true);
    return alarmIdOf(source);
  }
});

async function ackThroughDialog(page: Page, comment: string): Promise<void> {
  const dialog = page.locator('[data-testid="alarm-ack-dialog"]');
  await dialog.waitFor({ state: 'visible' });
  await dialog.locator('textarea[name="comment"]').fill(comment);
  await dialog.locator('[data-testid="dialog-submit"]').click();
  await dialog.waitFor({ state: 'detached', timeout: 5000 });
}

/** The banner's running CSS animation ('none' when it does not flash). */
function animationOf(page: Page): Promise<string> {
  return page.locator(BANNER).evaluate((el) => getComputedStyle(el).animationName);
}
