import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../gateway/config/load.ts';
import { planWeekOf } from '../../gateway/display/items.ts';
import type { DisplayActor, DisplayItem, DisplayService, ScreenNow } from '../../gateway/display/types.ts';
import { Hub } from '../../gateway/hub.ts';
import { silentLogger } from '../../gateway/log.ts';
import { hubTestConfig, REPO } from '../helpers/config.ts';
import { freePort } from '../helpers/ports.ts';
import { describeWithProgram, whichProgram } from '../helpers/programs.ts';

// The lobby kiosk page (issue 9; handbook 第七节 二) in a real headless Chromium at
// 1920×1080, against a whole hub: display service, HTTP routes, socket.io push, the
// embedded MQTT broker and the simulated fire panel. The tests run in order on one
// page, as a lobby screen lives: content comes and goes, a fire alarm takes the
// screen, the hub restarts. The hub runs on the system clock (the page's expiry and
// the socket's reconnection are real time too), so the windows here are seconds long.
// A screenshot of each state goes to test-artifacts/lobby/.

const ARTIFACTS = join(REPO, 'test-artifacts/lobby');
const OPERATOR: DisplayActor = { username: 'operator', role: 'operator' };
const SUPERVISOR: DisplayActor = { username: 'supervisor', role: 'supervisor' };
const DAY = 24 * 60 * 60 * 1000;
/** The demo building's time zone; the browser runs in another, so the clock must not follow it. */
const SITE_ZONE = 'Asia/Shanghai';
/** The shortest the config allows, so the rotation test is quick. */
const ROTATE_SECONDS = 3;

describeWithProgram(whichProgram('/usr/bin/chromium'), 'lobby page in chromium against a real hub', 'chromium', (executablePath) => {
  let browser: Browser;
  let hub: Hub;
  let file: string;
  let base: string;
  let pageA: Page;
  let pageB: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // A fixed web port, so the restarted hub is where the page looks for it (test 5).
    const port = await freePort();
    file = hubTestConfig(4, (raw) => {
      raw.web.port = port;
      raw.display.rotateSeconds = ROTATE_SECONDS;
    });
    hub = await startHub();
    base = hub.parts.http!.url();
    // The demo seeds notices (site.demo: true also approves the runbooks' emergency
    // templates, which the fire test needs): take them down, so each test knows what is on screen.
    clearScreens();
    browser = await chromium.launch({
      executablePath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    pageA = await openLobby('A-lobby');
  });

  afterAll(async () => {
    await browser?.close();
    await hub?.stop();
  });

  const display = (): DisplayService => hub.services().display!;

  it('shows an approved item on its own screen only, and never an unapproved one', async () => {
    const approved = publish('A座测试通知', ['A-lobby'], Date.now() - 1000, Date.now() + DAY, { image: solidPng(320, 180) });
    const pending = display().create(itemInput('未经批准的通知', ['A-lobby', 'B-lobby'], Date.now() - 1000, Date.now() + DAY), OPERATOR, { submit: true });
    expect(pending.state).toBe('pending');

    await expect.poll(() => entryId(pageA), { timeout: 10_000 }).toBe(`item:${approved.id}`);
    expect(await pageA.locator('#title-zh').textContent()).toBe('A座测试通知');
    expect(await pageA.locator('#title-en').textContent()).toBe('A座测试通知 (en)');
    // The image loads with the session cookie the display login set (see dashboard/public/lobby.js).
    await expect.poll(() => pageA.locator('#image').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: 5000 }).toBe(320);
    expect(await pageA.locator('#image').isVisible()).toBe(true);
    // The token left the address bar and stays in this browser for the next reload.
    expect(pageA.url()).toBe(`${base}/lobby/A-lobby`);
    expect(await pageA.evaluate(() => localStorage.getItem('bohub.lobby.A-lobby.token'))).toBe('A-lobby-demo-2026');
    // The clock shows the building's time, not the browser's (it runs in New York).
    const siteHour = Number(new Intl.DateTimeFormat('en-GB', { timeZone: SITE_ZONE, hour: '2-digit', hourCycle: 'h23' }).format(Date.now()));
    const clockHour = Number(/(\d\d):\d\d$/.exec((await pageA.locator('#clock').textContent()) ?? '')?.[1]);
    expect([siteHour, (siteHour + 23) % 24]).toContain(clockHour);
    await shot(pageA, '01-normal');

    pageB = await openLobby('B-lobby');
    await expect.poll(() => lastScreenNow(pageB).then((n) => n?.screen), { timeout: 10_000 }).toBe('B-lobby');
    expect(await entryId(pageB)).toBeNull();
    expect(await pageB.locator('#idle').isVisible()).toBe(true);
    await shot(pageB, '02-second-screen');

    // Nothing unapproved reached either screen: not shown, and not even in what the page received.
    for (const page of [pageA, pageB]) {
      const received = await lastScreenNow(page);
      expect(received?.entries.map((e) => e.id)).not.toContain(`item:${pending.id}`);
    }
    expect(display().now('A-lobby').entries.map((e) => e.id)).toEqual([`item:${approved.id}`]);
    expect(pageErrors).toEqual([]);
  });

  it('rotates the live items every rotateSeconds, and shows the weather signals in both languages', async () => {
    const first = await entryId(pageA);
    expect(first).toMatch(/^item:/);
    const second = publish('第二条通知', ['A-lobby'], Date.now() - 1000, Date.now() + DAY);
    // The entry on screen keeps its turn when the list changes under it; then the next one comes.
    await expect.poll(() => entryId(pageA), { timeout: (ROTATE_SECONDS + 2) * 1000, interval: 100 }).toBe(`item:${second.id}`);
    const turned = Date.now();
    expect(await pageA.locator('#pager').textContent()).toMatch(/^[12] \/ 2$/);
    await expect.poll(() => entryId(pageA), { timeout: (ROTATE_SECONDS + 2) * 1000, interval: 100 }).toBe(first);
    expect(Date.now() - turned).toBeGreaterThan(ROTATE_SECONDS * 1000 - 500);
    expect(Date.now() - turned).toBeLessThan(ROTATE_SECONDS * 1000 + 1000);

    // A yellow rainstorm warning is a status, not an emergency (第九节 三: tenants are not warned at yellow).
    await hub.parts.signalSim!.set('WX-RAINSTORM', 'yellow');
    await expect.poll(() => pageA.locator('#weather').textContent(), { timeout: 5000 }).toBe('暴雨黄色预警Yellow rainstorm warning');
    expect(await pageA.getAttribute('body', 'data-mode')).toBe('normal');
    await shot(pageA, '03-rotated-weather');
    await hub.parts.signalSim!.set('WX-RAINSTORM', 'none');
    await expect.poll(() => pageA.locator('#weather').isVisible(), { timeout: 5000 }).toBe(false);
    expect(pageErrors).toEqual([]);
  });

  it('takes an item down at its end time', async () => {
    clearScreens();
    await expect.poll(() => entryId(pageA), { timeout: 10_000 }).toBeNull();
    const end = Date.now() + 3000;
    const expiring = publish('即将到期的通知', ['A-lobby'], Date.now() - 60_000, end);
    await expect.poll(() => entryId(pageA), { timeout: 2500 }).toBe(`item:${expiring.id}`);

    await expect.poll(() => entryId(pageA), { timeout: end - Date.now() + 1500, interval: 50 }).toBeNull();
    expect(Date.now() - end).toBeLessThan(1500);
    // The hub took it down too (not only the page's own timer), and archived it.
    expect(display().now('A-lobby').entries).toEqual([]);
    await expect.poll(() => display().get(expiring.id)?.state, { timeout: 2000 }).toBe('expired');
    await shot(pageA, '04-expired');
    expect(pageErrors).toEqual([]);
  });

  it('a fire alarm in tower A takes over the A lobby within 1 s, and the screen reverts when the incident closes', async () => {
    const normal = publish('欢迎光临', ['A-lobby', 'B-lobby'], Date.now() - 1000, Date.now() + DAY);
    await expect.poll(() => entryId(pageA), { timeout: 10_000 }).toBe(`item:${normal.id}`);
    await expect.poll(() => entryId(pageB), { timeout: 10_000 }).toBe(`item:${normal.id}`);

    const t0 = performance.now();
    await hub.parts.signalSim!.set('FZ-A-05', 'alarm');
    await pageA.waitForSelector('body[data-mode="emergency"]', { timeout: 5000 });
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeLessThan(1000);
    expect(await entryId(pageA)).toMatch(/^incident:/);
    // The evacuation notice says not to use the lifts (第九节 一), in both languages.
    const notice = (await pageA.locator('#entry').textContent()) ?? '';
    expect(notice).toContain('不要乘坐电梯');
    expect(notice).toContain('do not use the lifts');
    expect(await pageA.locator('#emergency-banner').isVisible()).toBe(true);
    // Only the emergency: the planned item is not in the rotation.
    expect(await pageA.locator('#pager').textContent()).toBe('');
    // Tower B's lobby is not told to evacuate tower A.
    expect(await pageB.getAttribute('body', 'data-mode')).toBe('normal');
    expect(await entryId(pageB)).toBe(`item:${normal.id}`);
    await shot(pageA, '05-emergency');

    const incident = hub.services().incidents!.list('active').find((i) => i.runbook === 'fire-alarm' && i.tower === 'A');
    expect(incident, 'the fire incident for tower A').toBeDefined();
    hub.services().incidents!.close(incident!.id, { username: 'supervisor', role: 'supervisor' }, 'test: false alarm, checked on site');
    await pageA.waitForSelector('body[data-mode="normal"]', { timeout: 5000 });
    await expect.poll(() => entryId(pageA), { timeout: 5000 }).toBe(`item:${normal.id}`);
    expect(await pageA.locator('#emergency-banner').isVisible()).toBe(false);
    await shot(pageA, '06-reverted');
    await hub.parts.signalSim!.set('FZ-A-05', 'normal');
    expect(pageErrors).toEqual([]);
  });

  it('the display session reads its own screen and nothing else: every other request gets 403', async () => {
    const urls = ['/api/display/A-lobby/now', '/api/display/B-lobby/now', '/api/alarms', '/api/incidents', '/api/site'];
    const fromPage = await pageA.evaluate(async (list) => {
      const statuses: Record<string, number> = {};
      for (const url of list) statuses[url] = (await fetch(url, { credentials: 'same-origin' })).status;
      return statuses;
    }, urls);
    const expected = { '/api/display/A-lobby/now': 200, '/api/display/B-lobby/now': 403, '/api/alarms': 403, '/api/incidents': 403, '/api/site': 403 };
    expect(fromPage).toEqual(expected);

    // The same with the token as a bearer, from outside the browser.
    const login = await post('/api/display/login', { screen: 'A-lobby', token: 'A-lobby-demo-2026' });
    expect(login.status).toBe(200);
    const { token } = (await login.json()) as { token: string };
    for (const [url, status] of Object.entries(expected)) {
      expect((await fetch(`${base}${url}`, { headers: { authorization: `Bearer ${token}` } })).status, url).toBe(status);
    }
    // A screen's token is no key to another screen.
    expect((await post('/api/display/login', { screen: 'B-lobby', token: 'A-lobby-demo-2026' })).status).toBe(401);
  });

  it('keeps its content through a hub restart, then signs in again by itself and shows the present', async () => {
    const shown = await entryId(pageA);
    expect(shown).toMatch(/^item:/);
    await hub.stop();
    await pageA.waitForSelector('#offline', { state: 'visible', timeout: 10_000 });
    expect(await pageA.locator('#offline').textContent()).toMatch(/^离线 offline since \d\d:\d\d$/);
    expect(await entryId(pageA)).toBe(shown);
    await shot(pageA, '07-offline');

    hub = await startHub();
    expect(hub.parts.http!.url()).toBe(base);
    // Sessions died with the old hub: the page must log in again. What it shows must be the
    // new hub's present, so the old item goes and a new one comes.
    clearScreens();
    const fresh = publish('重启后的通知', ['A-lobby'], Date.now() - 1000, Date.now() + DAY);
    await pageA.waitForSelector('#offline', { state: 'hidden', timeout: 25_000 });
    await expect.poll(() => entryId(pageA), { timeout: 5000 }).toBe(`item:${fresh.id}`);
    await shot(pageA, '08-reconnected');
    expect(pageErrors).toEqual([]);
  }, 45_000);

  // ---- helpers ---------------------------------------------------------------

  async function startHub(): Promise<Hub> {
    const h = new Hub({ config: loadConfig(file, {}), log: silentLogger });
    await h.start();
    return h;
  }

  async function openLobby(screen: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1920, height: 1080 }, timezoneId: 'America/New_York' });
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(`${screen}: ${err.message}`));
    await page.goto(`${base}/lobby/${screen}#token=${screen}-demo-2026`);
    return page;
  }

  /** Withdraws every item that could still reach a screen. */
  function clearScreens(): void {
    for (const item of display().list()) {
      if (item.state === 'draft' || item.state === 'pending' || item.state === 'approved') display().withdraw(item.id, SUPERVISOR, 'test: a clean screen');
    }
  }

  /** Entered by reception, approved by the management office (第七节 二.1). */
  function publish(title: string, screens: string[], start: number, end: number, extra: { image?: string } = {}): DisplayItem {
    const image = extra.image ? { mime: 'image/png' as const, base64: extra.image } : undefined;
    const item = display().create({ ...itemInput(title, screens, start, end), ...(image ? { image } : {}) }, OPERATOR, { submit: true });
    return display().approve(item.id, SUPERVISOR);
  }

  function itemInput(title: string, screens: string[], start: number, end: number) {
    return {
      title: { zh: title, en: `${title} (en)` },
      body: { zh: `${title}:正文。`, en: `${title}: the body.` },
      screens, start, end,
      planWeek: planWeekOf(start, SITE_ZONE), planSlot: 1 as const, priority: 5,
    };
  }

  function post(url: string, body: unknown): Promise<Response> {
    return fetch(`${base}${url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }
});

/** The entry on screen now (the page's stable test hook), or null when nothing is. */
function entryId(page: Page): Promise<string | null> {
  return page.locator('#entry').evaluate((el: HTMLElement) => (el.hidden ? null : el.getAttribute('data-entry-id')));
}

/** The last ScreenNow the page received, as it keeps it for a reload while offline. */
async function lastScreenNow(page: Page): Promise<ScreenNow | undefined> {
  const raw = await page.evaluate(() => Object.entries(localStorage).find(([k]) => k.endsWith('.now'))?.[1]);
  return raw ? (JSON.parse(raw) as { now: ScreenNow }).now : undefined;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/** A PNG of one colour, base64: an item's picture, visible in the screenshots. */
function solidPng(width: number, height: number, [r, g, b] = [242, 193, 78]): string {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  // Each row: filter type 0, then RGB per pixel.
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => [r, g, b]).flat())]);
  const pixels = deflateSync(Buffer.concat(Array.from({ length: height }, () => row)));
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', pixels), chunk('IEND', Buffer.alloc(0))]);
  return png.toString('base64');
}
