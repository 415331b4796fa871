import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Hub } from '../../gateway/hub.ts';
import type { Sample } from '../../gateway/storage/types.ts';
import { hubTestConfig } from '../helpers/config.ts';
import { goTo, launchChromium, logIn, openControlRoom, PHONE, screenshot, startHub, WALL, type ControlRoomPage } from '../helpers/control-room.ts';
import { describeWithProgram, whichProgram } from '../helpers/programs.ts';

// The control-room dashboard (issue 8) in a real headless Chromium against a whole
// in-process hub running the full demo building (272 meters in two towers, the
// simulators on ephemeral ports): login, the building overview, language and
// building clock, trends from the telemetry store, and the devices page. The tests
// run in order on one hub. Screenshots go to test-artifacts/dashboard/.

const SITE_ZONE = 'Asia/Shanghai';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** The meter the trend test stores a day of readings for. */
const TREND_METER = 'A-0101-E';
/** The meter the overview and devices tests take offline (its simulator stops answering). */
const DEAD_METER = 'A-0102-E';
/** Taken offline while the devices page is open. */
const SECOND_DEAD = 'B-0101-E';
/** Each test drives a hub polling 272 simulated meters and a browser, on a shared machine. */
const TEST_MS = 90_000;
const cell = (meter: string, point = 'energy_import') => `[data-testid="value"][data-point="${meter}/${point}"]`;

describeWithProgram(whichProgram('/usr/bin/chromium'), 'control-room dashboard in chromium against a real hub', 'chromium', (executablePath) => {
  let browser: Browser;
  let hub: Hub;
  let base: string;
  const opened: ControlRoomPage[] = [];

  beforeAll(async () => {
    // The whole demo building (so the wall-fit check is real), polled at a pace two shared cores keep up with.
    hub = await startHub(
      hubTestConfig(1000, (raw) => {
        for (const b of raw.modbus.buses) [b.fastPollMs, b.slowPollMs] = [1000, 2000];
      }),
    );
    base = hub.parts.http!.url();
    browser = await launchChromium(executablePath);
  });

  afterAll(async () => {
    await browser?.close();
    await hub?.stop();
  });

  async function open(size = WALL): Promise<ControlRoomPage> {
    const room = await openControlRoom(browser, base, 'operator', size);
    opened.push(room);
    return room;
  }

  const meStatus = (page: Page) => page.evaluate(() => fetch('/api/auth/me').then((r) => r.status));

  it('logs in through the form, refuses a wrong password, and logs out', async () => {
    const page = await (await browser.newContext(WALL)).newPage();
    await page.goto(base);
    await page.waitForSelector('#login-button');
    await screenshot(page, 'login');
    await page.fill('#username', 'operator');
    await page.fill('#password', 'not-the-password');
    await page.click('#login-button');
    await expect.poll(() => page.locator('#login-error').textContent(), { timeout: 10_000 }).toBe('用户名或密码错误');
    expect(await page.locator('#logout').count()).toBe(0);
    expect(await meStatus(page)).toBe(401);

    await logIn(page, 'operator');
    expect(await meStatus(page)).toBe(200);
    expect(await page.locator('[data-testid="user"]').textContent()).toContain('operator');
    await page.click('#logout');
    await page.waitForSelector('#login-button');
    expect(await meStatus(page)).toBe(401);
    await page.context().close();
  }, TEST_MS);

  it('shows the towers, floors and units with live values coloured by quality, fitting one wall screen', async () => {
    const { page, errors } = await open();
    const meters = hub.services().config.building.modbus.meters.length;
    expect(meters).toBe(272);
    await expect.poll(() => page.locator('[data-testid="value"].q-good').count(), { timeout: 20_000 }).toBe(meters);
    expect(await page.locator('section[data-tower]').count()).toBe(2);
    expect(await page.locator('[data-unit]').count()).toBe(136);
    // A tenant's company is on its unit; the value's tooltip names its quality and building time.
    expect(await page.locator('[data-unit="A-0101"] [data-testid="tenant"]').textContent()).toBe('申城咖啡');
    const title = (await page.locator(cell(TREND_METER)).getAttribute('title')) ?? '';
    expect(title).toMatch(/正常，读取于 \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d/);
    expect(siteHours()).toContain(hourOf(title));
    expect(await page.locator(`[data-testid="comm"][data-device="${TREND_METER}"]`).getAttribute('class')).toContain('st-online');

    // The values move as the meters are read again.
    const first = await page.locator(cell(TREND_METER)).textContent();
    await expect.poll(() => page.locator(cell(TREND_METER)).textContent(), { timeout: 15_000 }).not.toBe(first);
    await expect.poll(() => page.locator('[data-tower="A"] [data-testid="tower-summary"]').getAttribute('data-online'), { timeout: 10_000 }).toBe('136');

    // 272 meters in two towers on 1920×1080, without scrolling.
    expect(await page.evaluate(() => document.documentElement.scrollHeight)).toBeLessThanOrEqual(1080);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1920);
    await screenshot(page, 'overview-wall');

    // A meter stops answering: its comm status, its value's colour and the tower's summary follow.
    hub.parts.modbusSim!.setOffline(DEAD_METER);
    const dot = page.locator(`[data-testid="comm"][data-device="${DEAD_METER}"]`);
    await expect.poll(() => dot.getAttribute('class'), { timeout: 20_000 }).toContain('st-offline');
    await expect.poll(() => page.locator(cell(DEAD_METER)).getAttribute('class'), { timeout: 20_000 }).toMatch(/q-(stale|bad)/);
    expect(await page.locator('[data-tower="A"] [data-testid="tower-summary"]').getAttribute('data-offline')).toBe('1');
    expect(await page.locator('[data-tower="B"] [data-testid="tower-summary"]').getAttribute('data-offline')).toBe('0');
    await screenshot(page, 'overview-meter-offline');

    // A unit opens the trend of its meters.
    await page.click('[data-unit="A-0101"] .ov-unit-head');
    await page.waitForSelector('main[data-page="trends"]');
    expect(new URL(page.url()).hash).toBe('#/trends/A-0101-E/A-0101-W');
    expect(errors).toEqual([]);
  }, TEST_MS);

  it('switches the language, and the clock shows building time in a browser on another zone', async () => {
    // Tower B's first incomer runs on backup power: a warning on the tower's signal line.
    await hub.parts.signalSim!.set('PF-B-1', 'on-backup');
    await expect.poll(() => hub.services().latest.signal('PF-B-1')?.state, { timeout: 10_000 }).toBe('on-backup');
    const { page, errors } = await open();
    await page.waitForSelector('[data-testid="tower-summary"]');
    expect(await page.locator('[data-tower="A"] [data-kind="fire-zone"]').textContent()).toBe('火警✓13');
    const feeder = page.locator('[data-tower="B"] [data-signal="PF-B-1"]');
    expect(await feeder.getAttribute('class')).toContain('q-stale');
    expect(await feeder.textContent()).toBe('1 备用电源');
    expect(await page.locator('[data-tower="A"] [data-signal="PF-A-1"]').getAttribute('class')).toContain('q-good');
    expect(await page.locator('[data-nav="overview"]').textContent()).toBe('楼宇总览');
    expect(await page.locator('[data-tower="A"] h2').textContent()).toBe('A座');
    await page.click('[data-testid="lang"]');
    await expect.poll(() => page.locator('[data-nav="overview"]').textContent()).toBe('Building');
    expect(await page.locator('[data-nav="devices"]').textContent()).toBe('Devices');
    expect(await page.locator('[data-tower="A"] h2').textContent()).toBe('Tower A');
    expect(await page.locator('[data-tower="B"] [data-testid="tower-summary"]').textContent()).toContain('136 online');
    expect(await feeder.textContent()).toBe('1 on backup');
    await screenshot(page, 'overview-english');
    // The browser runs in New York; the clock must read Shanghai.
    const clockHour = hourOf((await page.locator('[data-testid="clock"]').textContent()) ?? '');
    expect(siteHours()).toContain(clockHour);
    expect(clockHour).not.toBe(hourIn('America/New_York'));
    await page.click('[data-testid="lang"]');
    await expect.poll(() => page.locator('[data-nav="overview"]').textContent()).toBe('楼宇总览');
    await hub.parts.signalSim!.set('PF-B-1', 'on');
    expect(errors).toEqual([]);
  }, TEST_MS);

  it('draws a day of stored readings on the trend chart, zooms, pans and says when a period holds no data', async () => {
    // A day of readings, one per 5-minute bucket, written straight into the store before the page opens.
    const now = Date.now();
    const v0 = hub.services().latest.get(TREND_METER, 'energy_import')?.value ?? 1000;
    const slot = Math.floor(now / (5 * MINUTE)) * 5 * MINUTE;
    const samples: Sample[] = [];
    for (let k = 1; k <= 286; k++) {
      const time = slot - k * 5 * MINUTE + 150_000;
      samples.push({ measurement: 'meter', tags: { device: TREND_METER, point: 'energy_import' }, value: v0 - ((now - time) / HOUR) * 40, quality: 'good', time });
    }
    const telemetry = hub.services().telemetry;
    await telemetry.write(samples);
    // A day's 5-minute buckets are read from the 1-minute rollups, which the writer's
    // timer computes; run that step now rather than wait for it.
    await telemetry.maintain?.(Date.now());

    const { page, errors } = await open();
    await goTo(page, `trends/${TREND_METER}`);
    const chart = page.locator('[data-testid="trend-chart"]');
    await expect.poll(() => chart.getAttribute('data-every'), { timeout: 10_000 }).toBe('raw');
    await page.click('[data-period="24h"]');
    await expect.poll(() => chart.getAttribute('data-every'), { timeout: 10_000 }).toBe('5m');
    const points = Number(await chart.getAttribute('data-points'));
    // Each stored reading is its own bucket; the live readings of the last minutes add one or two.
    expect(points).toBeGreaterThanOrEqual(286);
    expect(points).toBeLessThanOrEqual(289);
    expect(points).toBe(await apiCount(page, chart));

    // The line is on the canvas in the first series colour, rising left to right as stored.
    const drawn = await seriesPixels(page);
    expect(drawn.count).toBeGreaterThan(1000);
    expect(drawn.firstY).toBeGreaterThan(drawn.lastY + 50);
    expect(drawn.lastX - drawn.firstX).toBeGreaterThan(drawn.width * 0.9);
    expect(await page.locator('.tr-plot .u-legend').textContent()).toContain(`A-0101 · ${TREND_METER} (kWh)`);
    // The legend shows the value and the building time under the cursor.
    const box = (await page.locator('.tr-plot .u-over').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const legend = (await page.locator('.tr-plot .u-legend').textContent()) ?? '';
    expect(legend).toMatch(/\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d.*A-0101-E \(kWh\):? ?[\d,]+(\.\d+)? kWh/);
    // The middle of the day shown, in Shanghai time (the browser is in New York).
    const middle = Number(await chart.getAttribute('data-from')) + 12 * HOUR;
    expect([hourIn(SITE_ZONE, middle - 10 * MINUTE), hourIn(SITE_ZONE, middle + 10 * MINUTE)]).toContain(hourOf(legend));
    await screenshot(page, 'trends-wall');

    // Drag across the middle fifth (4.8 h): the chart loads that window again, as raw points.
    await page.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await expect.poll(() => chart.getAttribute('data-every'), { timeout: 10_000 }).toBe('raw');
    expect(Math.abs((await span(chart)) - 4.8 * HOUR)).toBeLessThan(0.2 * HOUR);
    // 4.8 h of one stored reading per 5 minutes.
    expect(Math.abs(Number(await chart.getAttribute('data-points')) - 58)).toBeLessThanOrEqual(3);
    await screenshot(page, 'trends-zoomed');
    const zoomedTo = Number(await chart.getAttribute('data-to'));
    // ◀ moves back by half the window; reset returns to the whole day.
    await page.click('[data-testid="pan-earlier"]');
    await expect.poll(async () => Number(await chart.getAttribute('data-to')), { timeout: 10_000 }).toBeLessThan(zoomedTo - 2.3 * HOUR);
    expect(Number(await chart.getAttribute('data-to'))).toBeGreaterThan(zoomedTo - 2.5 * HOUR);
    await page.click('[data-testid="reset-zoom"]');
    await expect.poll(async () => span(chart), { timeout: 10_000 }).toBe(24 * HOUR);
    expect(await chart.getAttribute('data-points')).toBe(String(points));

    // A custom period a month ago, in building time: nothing was stored then.
    const monthAgo = new Date(now - 30 * 24 * HOUR).toLocaleString('sv-SE', { timeZone: SITE_ZONE }).slice(0, 16).replace(' ', 'T');
    const monthAgoEnd = new Date(now - 29 * 24 * HOUR).toLocaleString('sv-SE', { timeZone: SITE_ZONE }).slice(0, 16).replace(' ', 'T');
    await page.fill('[data-testid="custom-from"]', monthAgo);
    await page.fill('[data-testid="custom-to"]', monthAgoEnd);
    await page.click('[data-testid="custom-apply"]');
    await expect.poll(() => page.locator('[data-testid="trend-empty"]').isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await chart.getAttribute('data-points')).toBe('0');
    // The from field was read in Shanghai time, not the browser's New York time.
    expect(Math.abs(Number(await chart.getAttribute('data-from')) - (now - 30 * 24 * HOUR))).toBeLessThan(MINUTE);
    await screenshot(page, 'trends-empty');
    // An end before the start is refused in the form, not sent.
    await page.fill('[data-testid="custom-to"]', monthAgo.replace(/T.*/, 'T00:00'));
    await page.fill('[data-testid="custom-from"]', monthAgo.replace(/T.*/, 'T08:00'));
    await page.click('[data-testid="custom-apply"]');
    expect(await page.locator('[data-testid="custom-error"]').textContent()).toBe('开始时间须早于结束时间');

    // A second meter from the picker, found by its unit: both are drawn, in the route too.
    await page.fill('[data-testid="meter-search"]', 'a-0201');
    await page.click('[data-add-meter="A-0201-E"]');
    await expect.poll(() => new URL(page.url()).hash).toBe(`#/trends/${TREND_METER}/A-0201-E`);
    expect(await page.locator('[data-testid="selected-meter"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-meter')))).toEqual([TREND_METER, 'A-0201-E']);
    await page.click('[data-period="1h"]');
    await expect.poll(() => chart.getAttribute('data-points'), { timeout: 10_000 }).toMatch(/^[1-9]\d*,[1-9]\d*$/);
    expect(errors).toEqual([]);

    const phone = await open(PHONE);
    await goTo(phone.page, `trends/${TREND_METER}/A-0101-W`);
    await expect.poll(() => phone.page.locator('[data-testid="trend-chart"]').getAttribute('data-points'), { timeout: 10_000 }).toMatch(/^[1-9]\d*,[1-9]\d*$/);
    await screenshot(phone.page, 'trends-phone');
    expect(phone.errors).toEqual([]);
  }, TEST_MS);

  it('lists the buses and meters with their comm status, offline first, and filters to the problems', async () => {
    const { page, errors } = await open();
    await goTo(page, 'devices');
    const buses = hub.services().config.building.modbus.buses;
    await expect.poll(() => page.locator('[data-testid="bus-table"] tbody tr').count(), { timeout: 10_000 }).toBe(buses.length);
    for (const b of buses) expect(await page.locator(`tr[data-bus="${b.id}"]`).getAttribute('data-status')).toBe('online');
    expect(await page.locator('[data-testid="meter-table"] tbody tr').count()).toBe(272);
    // The meter the overview test took offline (the breaker still holds it off) is listed first, with its error.
    const rows = page.locator('[data-testid="meter-table"] tbody tr');
    const dead = page.locator(`[data-testid="meter-table"] tr[data-device="${DEAD_METER}"]`);
    expect(await dead.getAttribute('data-status')).toBe('offline');
    expect(await dead.textContent()).toMatch(/BOHUB_MODBUS_TIMEOUT/);
    expect(await rows.first().getAttribute('data-device')).toBe(DEAD_METER);
    expect(await page.locator(`tr[data-device="${TREND_METER}"]`).getAttribute('data-status')).toBe('online');
    await screenshot(page, 'devices');

    await page.click('[data-testid="filter-problems"]');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await page.locator('[data-testid="bus-table"]').count()).toBe(0);

    // Another meter stops answering while the page is open: it joins the problems, offline, with no reload by hand.
    hub.parts.modbusSim!.setOffline(SECOND_DEAD);
    await expect.poll(() => page.locator(`tr[data-device="${SECOND_DEAD}"]`).getAttribute('data-status'), { timeout: 20_000 }).toBe('offline');
    expect(await rows.count()).toBe(2);
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-status')))).toEqual(['offline', 'offline']);
    await screenshot(page, 'devices-problems');
    await page.click('[data-testid="filter-all"]');
    expect(await rows.count()).toBe(272);
    for (const id of [DEAD_METER, SECOND_DEAD]) hub.parts.modbusSim!.setOffline(id, false);

    // A refused report is shown as such, not as an empty page.
    await page.route('**/api/devices', (route) => route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: { code: 'BOHUB_UNAVAILABLE', message: 'devices report not ready' } }) }));
    await goTo(page, 'overview');
    await goTo(page, 'devices');
    await expect.poll(() => page.locator('[data-testid="devices-error"]').textContent(), { timeout: 10_000 }).toContain('devices report not ready');
    expect(errors.filter((e) => !/503/.test(e))).toEqual([]);
  }, TEST_MS);

  it('fits the overview on a phone by scrolling', async () => {
    const { page, errors } = await open(PHONE);
    await expect.poll(() => page.locator('[data-testid="value"].q-good').count(), { timeout: 20_000 }).toBeGreaterThan(200);
    // One column: no sideways scrolling, the building scrolls down.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await page.evaluate(() => document.documentElement.scrollHeight)).toBeGreaterThan(844);
    await screenshot(page, 'overview-phone');
    expect(errors).toEqual([]);
    for (const room of opened) await room.page.context().close();
  }, TEST_MS);
});

function hourIn(zone: string, t = Date.now()): number {
  return Number(new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', hourCycle: 'h23' }).format(t));
}

/** The site's hour now and a moment ago (the test may straddle an hour). */
function siteHours(): number[] {
  const h = hourIn(SITE_ZONE);
  return [h, (h + 23) % 24];
}

/** The hour of the first hh:mm:ss in a text. */
function hourOf(text: string): number {
  return Number(/(\d\d):\d\d:\d\d/.exec(text)?.[1] ?? NaN);
}

async function span(chart: ReturnType<Page['locator']>): Promise<number> {
  return Number(await chart.getAttribute('data-to')) - Number(await chart.getAttribute('data-from'));
}

/** How many buckets GET /api/telemetry answers for the window the chart shows. */
async function apiCount(page: Page, chart: ReturnType<Page['locator']>): Promise<number> {
  const q = { device: TREND_METER, point: 'energy_import', from: await chart.getAttribute('data-from'), to: await chart.getAttribute('data-to'), every: '5m', limit: '1000' };
  return page.evaluate(async (query) => {
    const r = await fetch(`/api/telemetry?${new URLSearchParams(query as Record<string, string>)}`);
    const body = (await r.json()) as { series?: Array<{ points: unknown[] }> };
    if (!body.series) throw new Error(`GET /api/telemetry answered ${r.status}: ${JSON.stringify(body)}`);
    return body.series[0]?.points.length ?? 0;
  }, q);
}

/** Pixels of the canvas in the first series colour (#4ea1ff), with the leftmost and rightmost columns' mean heights. */
async function seriesPixels(page: Page): Promise<{ count: number; width: number; firstX: number; lastX: number; firstY: number; lastY: number }> {
  return page.evaluate(() => {
    const canvas = document.querySelector('.tr-plot canvas') as HTMLCanvasElement;
    const { width, height } = canvas;
    const data = canvas.getContext('2d')!.getImageData(0, 0, width, height).data;
    const ys = new Map<number, number[]>();
    let count = 0;
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 4;
        if (Math.abs(data[i]! - 0x4e) + Math.abs(data[i + 1]! - 0xa1) + Math.abs(data[i + 2]! - 0xff) > 40 || data[i + 3]! < 200) continue;
        count++;
        ys.set(x, [...(ys.get(x) ?? []), y]);
      }
    const xs = [...ys.keys()].sort((a, b) => a - b);
    const mean = (x: number) => ys.get(x)!.reduce((a, b) => a + b, 0) / ys.get(x)!.length;
    return { count, width, firstX: xs[0] ?? 0, lastX: xs.at(-1) ?? 0, firstY: xs.length ? mean(xs[0]!) : 0, lastY: xs.length ? mean(xs.at(-1)!) : 0 };
  });
}
