import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DisplayItem } from '../../gateway/display/types.ts';
import type { Hub } from '../../gateway/hub.ts';
import { hubTestConfig } from '../helpers/config.ts';
import { goTo, launchChromium, openControlRoom, PHONE, screenshot, startHub } from '../helpers/control-room.ts';
import { describeWithProgram, whichProgram } from '../helpers/programs.ts';

// The lobby-screen management page of the control room (issue 8 over issue 9's API;
// handbook 第七节 二) in headless Chromium against a whole hub: reception (an operator)
// enters an item and submits it, the management office (a supervisor) approves it
// on the page, and the page's preview of the screen shows it, as the kiosk would.
// A viewer reads the same list without a single control.

const SITE_ZONE = 'Asia/Shanghai';
const TITLE = '电梯保养通知';

/** A datetime-local value in the building's zone (the browsers here run in New York and London). */
function buildingLocal(ms: number): string {
  return new Intl.DateTimeFormat('sv-SE', { timeZone: SITE_ZONE, dateStyle: 'short', timeStyle: 'short' }).format(ms).replace(' ', 'T');
}

describeWithProgram(whichProgram('/usr/bin/chromium'), 'control room: lobby screen content', 'chromium', (executablePath) => {
  let browser: Browser;
  let hub: Hub;
  let base: string;
  let itemId: number;

  beforeAll(async () => {
    hub = await startHub(hubTestConfig(2));
    base = hub.parts.http!.url();
    browser = await launchChromium(executablePath);
  });

  afterAll(async () => {
    await browser?.close();
    await hub?.stop();
  });

  const display = () => hub.services().display!;
  const itemRow = (page: Page, id: number) => page.locator(`[data-testid="items"] tr[data-item="${id}"]`);

  it('an operator enters an item in building time and submits it for approval', async () => {
    const { page, errors } = await openControlRoom(browser, base, 'operator');
    await goTo(page, 'lobby');
    const before = new Set(display().list().map((i) => i.id));
    await page.click('[data-testid="new-item"]');
    const form = page.locator('[data-testid="item-form"]');
    await form.locator('input[name="titleZh"]').fill(TITLE);
    await form.locator('input[name="titleEn"]').fill('Lift maintenance');
    await form.locator('textarea[name="bodyZh"]').fill('本周六 09:00-12:00 A座 3 号电梯保养，请使用其他电梯。');
    await form.locator('textarea[name="bodyEn"]').fill('Lift 3 in tower A is serviced this Saturday 09:00-12:00; please use the other lifts.');
    await form.locator('[data-testid="screens"] input[value="A-lobby"]').check();
    const start = Date.now() - 5 * 60_000;
    const end = Date.now() + 2 * 86_400_000;
    await form.locator('input[name="start"]').fill(buildingLocal(start));
    await form.locator('input[name="end"]').fill(buildingLocal(end));
    await form.locator('input[name="priority"]').fill('4');
    await page.click('[data-testid="save-submit"]');
    await page.waitForSelector('[data-testid="item-form"]', { state: 'detached', timeout: 10_000 });

    const created = display().list().find((i) => !before.has(i.id))!;
    expect(created).toMatchObject({ state: 'pending', createdBy: 'operator', screens: ['A-lobby'], priority: 4, title: { zh: TITLE, en: 'Lift maintenance' } });
    // Typed as the building's wall clock, whatever the browser's zone: the minute survives.
    expect(Math.floor(created.start / 60_000)).toBe(Math.floor(start / 60_000));
    expect(Math.floor(created.end / 60_000)).toBe(Math.floor(end / 60_000));
    itemId = created.id;
    await expect.poll(() => itemRow(page, itemId).getAttribute('data-state'), { timeout: 10_000 }).toBe('pending');
    // Reception may not approve: no such control on the operator's page.
    expect(await itemRow(page, itemId).locator('[data-testid="approve"]').count()).toBe(0);
    expect(await page.locator('[data-testid="preview-A-lobby"] [data-entry-id="item:' + itemId + '"]').count()).toBe(0);
    await screenshot(page, 'lobby-submitted');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('a supervisor approves it on the page, and the preview of its screen shows it (and no other screen)', async () => {
    const operator = await openControlRoom(browser, base, 'operator');
    await goTo(operator.page, 'lobby');
    const { page, errors } = await openControlRoom(browser, base, 'supervisor');
    await goTo(page, 'lobby');
    await page.click('[data-testid="state-filter"] [data-state="pending"]');
    const row = itemRow(page, itemId);
    await row.locator('[data-testid="approve"]').click();
    const dialog = page.locator('[data-testid="approve-dialog"]');
    await dialog.locator('textarea[name="note"]').fill('checked with the lift contractor');
    await dialog.locator('[data-testid="dialog-submit"]').click();
    await page.waitForSelector('[data-testid="approve-dialog"]', { state: 'detached', timeout: 10_000 });

    expect(display().get(itemId)).toMatchObject({ state: 'approved', approvedBy: 'supervisor' });
    await page.click('[data-testid="state-filter"] [data-state="approved"]');
    await expect.poll(() => row.getAttribute('data-state'), { timeout: 10_000 }).toBe('approved');
    const entry = `[data-testid="preview-A-lobby"] [data-entry-id="item:${itemId}"]`;
    await expect.poll(() => page.locator(entry).count(), { timeout: 10_000 }).toBe(1);
    expect(await page.locator(entry).textContent()).toContain(TITLE);
    expect(await page.locator(`[data-testid="preview-B-lobby"] [data-entry-id="item:${itemId}"]`).count()).toBe(0);
    // The preview is what the hub gives the screen itself.
    expect(display().now('A-lobby').entries.map((e) => e.id)).toContain(`item:${itemId}`);
    // The operator's open page hears of it ('display.changed') without a reload.
    await expect.poll(() => operator.page.locator(entry).count(), { timeout: 10_000 }).toBe(1);
    await page.click('[data-testid="state-filter"] [data-state="all"]');
    await screenshot(page, 'lobby-wall');
    expect(errors).toEqual([]);
    expect(operator.errors).toEqual([]);
    await operator.page.context().close();
    await page.context().close();
  });

  it('a rejection needs a reason and sends the item back to draft', async () => {
    const draft = display().create(
      { title: { zh: '待退回', en: 'To reject' }, body: { zh: '正文', en: 'Body' }, screens: ['B-lobby'], start: Date.now(), end: Date.now() + 86_400_000, planWeek: '2026-W48', planSlot: 1, priority: 6 },
      { username: 'operator', role: 'operator' },
      { submit: true },
    );
    const { page, errors } = await openControlRoom(browser, base, 'supervisor');
    await goTo(page, 'lobby');
    await itemRow(page, draft.id).locator('[data-testid="reject"]').click();
    const dialog = page.locator('[data-testid="reject-dialog"]');
    await dialog.locator('textarea[name="reason"]').fill('the English text is missing the times');
    await dialog.locator('[data-testid="dialog-submit"]').click();
    await expect.poll(() => itemRow(page, draft.id).getAttribute('data-state'), { timeout: 10_000 }).toBe('draft');
    const rejected = display().get(draft.id) as DisplayItem;
    expect(rejected.history.at(-1)).toMatchObject({ action: 'rejected', by: 'supervisor', note: 'the English text is missing the times' });
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('an operator makes a draft from a handbook template, its fields filled into both languages', async () => {
    const { page, errors } = await openControlRoom(browser, base, 'operator');
    await goTo(page, 'lobby');
    const before = new Set(display().list().map((i) => i.id));
    await page.click('[data-testid="new-from-template"]');
    const form = page.locator('[data-testid="template-form"]');
    await form.locator('select[name="template"]').selectOption('pest-control');
    for (const [field, value] of [['date', '2026-12-05'], ['time', '19:00-21:00'], ['areas', 'B座地下车库'], ['areas-en', 'the tower B car park']]) await form.locator(`input[name="${field}"]`).fill(value!);
    await form.locator('[data-testid="screens"] input[value="B-lobby"]').check();
    await form.locator('button[type="submit"]').click();
    await page.waitForSelector('[data-testid="template-form"]', { state: 'detached', timeout: 10_000 });
    const made = display().list().find((i) => !before.has(i.id))!;
    expect(made).toMatchObject({ state: 'draft', template: 'pest-control', screens: ['B-lobby'], priority: 5 });
    expect(made.body.zh).toContain('B座地下车库');
    expect(made.body.en).toContain('the tower B car park');
    await expect.poll(() => itemRow(page, made.id).getAttribute('data-state'), { timeout: 10_000 }).toBe('draft');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('a viewer reads the list and the previews with no create, edit, approve or withdraw control', async () => {
    const { page, errors } = await openControlRoom(browser, base, 'viewer');
    await goTo(page, 'lobby');
    await expect.poll(() => itemRow(page, itemId).count(), { timeout: 10_000 }).toBe(1);
    await page.waitForSelector(`[data-testid="preview-A-lobby"] [data-entry-id="item:${itemId}"]`);
    for (const control of ['new-item', 'new-from-template', 'edit', 'submit', 'approve', 'reject', 'withdraw', 'approve-template']) {
      expect(await page.locator(`[data-testid="${control}"]`).count(), control).toBe(0);
    }
    expect(await page.locator('[data-testid="emergency-templates"] tr[data-template]').count()).toBeGreaterThan(0);
    // Both languages: the page's own texts follow the switch.
    expect(await page.locator('[data-testid="state-filter"] [data-state="pending"]').textContent()).toMatch(/^待审批/);
    await page.click('[data-testid="lang"]');
    await expect.poll(() => page.locator('[data-testid="state-filter"] [data-state="pending"]').textContent(), { timeout: 5000 }).toMatch(/^Pending/);
    expect(await page.locator('[data-testid="previews"] h2').textContent()).toBe('What each screen shows now');
    expect(errors).toEqual([]);
    await page.context().close();

    const phone = await openControlRoom(browser, base, 'supervisor', PHONE);
    await goTo(phone.page, 'lobby');
    await phone.page.waitForSelector(`[data-testid="preview-A-lobby"] [data-entry-id="item:${itemId}"]`);
    await screenshot(phone.page, 'lobby-phone');
    expect(phone.errors).toEqual([]);
    await phone.page.context().close();
  });
});
