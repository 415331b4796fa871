import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { DEMO_PASSWORDS } from '../../gateway/auth/passwords.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { Hub } from '../../gateway/hub.ts';
import { silentLogger } from '../../gateway/log.ts';
import { REPO } from './config.ts';

// Shared by the control-room browser tests (issue 8): headless Chromium from the
// Debian package, a whole in-process hub, a login through the real form, the sounds
// the page starts, and screenshots to test-artifacts/dashboard/.

export const DASHBOARD_ARTIFACTS = join(REPO, 'test-artifacts/dashboard');

/** Demo users by login name (the demo building's users; config/demo/building.yaml). */
export type DemoUser = 'admin' | 'supervisor' | 'operator' | 'finance' | 'viewer';

export async function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      // A wall screen is set up to sound alarms without a click first (kiosk policy).
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

export async function startHub(configFile: string): Promise<Hub> {
  const hub = new Hub({ config: loadConfig(configFile, {}), log: silentLogger });
  await hub.start();
  return hub;
}

export interface ControlRoomPage {
  page: Page;
  /** Uncaught page errors and console errors (other than the browser's lines for refused requests and connections). */
  errors: string[];
}

/** A wall screen: 1920×1080, in a time zone other than the building's, so the page must use the building's. */
export const WALL: BrowserContextOptions = { viewport: { width: 1920, height: 1080 }, timezoneId: 'America/New_York' };
/** A supervisor's phone at night. */
export const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, timezoneId: 'Europe/London' };

/**
 * Opens the dashboard and logs in through the form. Every sound the page starts
 * (Web Audio oscillators and buffers, media elements) is recorded in
 * `window.__soundStarts` from before the page's own code runs, so a test sees real
 * calls into the browser's audio API, not the page's own account of them.
 */
export async function openControlRoom(browser: Browser, base: string, user: DemoUser, context: BrowserContextOptions = WALL): Promise<ControlRoomPage> {
  const page = await (await browser.newContext(context)).newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  // The browser's own lines for a request or a WebSocket the server did not take (a hub
  // restarting, a refusal the test expects) are not the page's errors; its own are.
  page.on('console', (msg) => msg.type() === 'error' && !/\b(401|403|404|409)\b|Failed to load resource|^WebSocket connection to '[^']+' failed/.test(msg.text()) && errors.push(msg.text()));
  await page.addInitScript(() => {
    const w = window as unknown as { __soundStarts: Array<{ kind: string; at: number }> };
    w.__soundStarts = [];
    const record = (kind: string) => w.__soundStarts.push({ kind, at: Date.now() });
    for (const [name, proto] of [['oscillator', OscillatorNode.prototype], ['buffer', AudioBufferSourceNode.prototype]] as const) {
      const start = proto.start as (this: AudioScheduledSourceNode, ...args: number[]) => void;
      proto.start = function (this: AudioScheduledSourceNode, ...args: number[]) {
        record(name);
        start.apply(this, args);
      };
    }
    const play = HTMLMediaElement.prototype.play;
    HTMLMediaElement.prototype.play = function (this: HTMLMediaElement) {
      record('media');
      return play.call(this);
    };
  });
  await page.goto(base);
  await logIn(page, user);
  return { page, errors };
}

export async function logIn(page: Page, user: DemoUser, password = DEMO_PASSWORDS[user]!): Promise<void> {
  await page.fill('#username', user);
  await page.fill('#password', password);
  await page.click('#login-button');
  await page.waitForSelector('#logout');
}

/** Sounds the page has started so far (see openControlRoom). */
export function soundStarts(page: Page): Promise<Array<{ kind: string; at: number }>> {
  return page.evaluate(() => (window as unknown as { __soundStarts: Array<{ kind: string; at: number }> }).__soundStarts);
}

/** A full-page screenshot to test-artifacts/dashboard/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(DASHBOARD_ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(DASHBOARD_ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Opens a page of the dashboard by its hash route and waits until it rendered. */
export async function goTo(page: Page, route: string): Promise<void> {
  await page.evaluate((r) => (location.hash = `#/${r}`), route);
  await page.waitForSelector(`main[data-page="${route.split('/')[0]}"]`);
}
