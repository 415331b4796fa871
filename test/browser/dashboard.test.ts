import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { DEMO_PASSWORDS } from '../../gateway/auth/passwords.ts';
import type { PointValue } from '../../gateway/events.ts';
import { buildApp } from '../../gateway/http/app.ts';
import { fakeHub, type FakeHub } from '../helpers/fake-stores.ts';
import { freePort } from '../helpers/ports.ts';
import { describeWithProgram, whichProgram } from '../helpers/programs.ts';

// The control-room page in a real headless Chromium, against a real hub HTTP server.

const CELL = '[data-point="A-0101-E/energy_import"]';

describeWithProgram(whichProgram('/usr/bin/chromium'), 'dashboard in chromium', 'chromium', (executablePath) => {
  let browser: Browser;
  let app: FastifyInstance | undefined;
  let hub: FakeHub;
  let page: Page;
  let url: string;
  let pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
  });

  afterEach(async () => {
    await page?.context().close();
    await app?.close();
    app = undefined;
  });

  async function serveAndLogIn(username: string, password: string): Promise<void> {
    hub = fakeHub();
    app = await buildApp(hub.services);
    url = await app.listen({ port: await freePort(), host: '127.0.0.1' });
    // Before the page loads, so this value can only reach it through /api/live/snapshot.
    hub.services.events.emit('meter.values', { device: 'A-0101-E', values: [reading(1000.5)] });
    page = await (await browser.newContext({ timezoneId: 'America/New_York' })).newPage();
    pageErrors = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => msg.type() === 'error' && !/401|Unauthorized/.test(msg.text()) && pageErrors.push(msg.text()));
    await page.goto(url);
    await page.fill('#username', username);
    await page.fill('#password', password);
    await page.click('#login-button');
  }

  const reading = (value: number, quality: PointValue['quality'] = 'good'): PointValue => ({
    device: 'A-0101-E', point: 'energy_import', value, unit: 'kWh', quality, sourceTime: Date.now(),
  });

  it('logs in through the form and shows the snapshot, then live updates', async () => {
    await serveAndLogInWithValue();
    const cell = page.locator(CELL);
    await expect.poll(() => cell.textContent(), { timeout: 10_000 }).toBe('1,000.50');
    expect(await cell.getAttribute('class')).toContain('q-good');
    expect(await page.locator('#site-name-zh').textContent()).toBe('联合广场');
    expect(await page.locator('#site-name-en').textContent()).toBe('Union Plaza');

    // Wait until the socket is connected before emitting, or the frame has no one to go to.
    await expect.poll(async () => (await hub.services.metrics.socketClients.get()).values[0]?.value, { timeout: 10_000 }).toBe(1);
    hub.services.events.emit('meter.values', { device: 'A-0101-E', values: [reading(2000.25, 'stale')] });
    await expect.poll(() => cell.textContent(), { timeout: 10_000 }).toBe('2,000.25');
    expect(await cell.getAttribute('class')).toContain('q-stale');
    if (process.env.BOHUB_SCREENSHOT) await page.screenshot({ path: process.env.BOHUB_SCREENSHOT });
    expect(pageErrors).toEqual([]);
  });

  it('shows a wrong password as an error and stays on the login form', async () => {
    await serveAndLogIn('viewer', 'wrong-password');
    await expect.poll(() => page.locator('#login-error').textContent(), { timeout: 10_000 }).toContain('Wrong username or password');
    expect(await page.locator('#live-view').isHidden()).toBe(true);
  });

  it('shows "offline since" in the site time zone when the hub goes away', async () => {
    await serveAndLogInWithValue();
    await expect.poll(async () => (await hub.services.metrics.socketClients.get()).values[0]?.value, { timeout: 10_000 }).toBe(1);
    await app!.close();
    app = undefined;
    const banner = page.locator('#banner');
    await expect.poll(() => banner.isVisible(), { timeout: 10_000 }).toBe(true);
    const text = (await banner.textContent()) ?? '';
    const hhmmss = /offline since (\d\d):(\d\d):\d\d/.exec(text);
    expect(hhmmss, text).not.toBeNull();
    // The browser runs in New York; the banner must show Shanghai time.
    const shanghaiHour = Number(new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Shanghai', hour: '2-digit', hourCycle: 'h23' }).format(Date.now()));
    expect([shanghaiHour, (shanghaiHour + 23) % 24]).toContain(Number(hhmmss![1]));
  });

  async function serveAndLogInWithValue(): Promise<void> {
    await serveAndLogIn('viewer', DEMO_PASSWORDS.viewer!);
  }
});
