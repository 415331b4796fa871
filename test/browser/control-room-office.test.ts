import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEMO_PASSWORDS } from '../../gateway/auth/passwords.ts';
import type { StoredRead, VeeException } from '../../gateway/billing/types.ts';
import type { AuditReply } from '../../gateway/http/api-types.ts';
import type { Hub } from '../../gateway/hub.ts';
import { hubTestConfig } from '../helpers/config.ts';
import { goTo, launchChromium, openControlRoom, PHONE, screenshot, startHub, type DemoUser } from '../helpers/control-room.ts';
import { describeWithProgram, whichProgram } from '../helpers/programs.ts';

// The back-office pages of the control room (issue 8) in headless Chromium against a
// whole hub: billing (issue 7's API: the run, its VEE exceptions with raw and edited
// values, a finance edit with a reason, the documents) and the audit log. The reads
// go in through the import API as a meter reader's file would; the period is a past
// one (2026-05), so the hub's own interval reads of today never fall in it.

const PERIOD = '2026-05';
const READS: Array<[meter: string, local: string, value: string]> = [
  // A typo on the closing read: the register seems to fall (unexplained_drop, holds the statement).
  ['A-0101-E', '2026-04-25T00:00', '1000.00'], ['A-0101-E', '2026-05-10T00:00', '1400.00'], ['A-0101-E', '2026-05-25T00:00', '150.05'],
  ['A-0101-W', '2026-04-25T00:00', '10.000'], ['A-0101-W', '2026-05-25T00:00', '22.500'],
  // A Modbus glitch zero between two good reads (glitch_read, a warning: left out).
  ['A-0102-E', '2026-04-25T00:00', '2000.00'], ['A-0102-E', '2026-05-10T00:00', '2100.00'], ['A-0102-E', '2026-05-11T00:00', '0.00'],
  ['A-0102-E', '2026-05-12T00:00', '2110.00'], ['A-0102-E', '2026-05-25T00:00', '2200.00'],
  ['A-0102-W', '2026-04-25T00:00', '20.000'], ['A-0102-W', '2026-05-25T00:00', '30.000'],
];
const FILE_TYPES: Record<string, RegExp> = { csv: /^text\/csv/, json: /^application\/json/, html: /^text\/html/ };

describeWithProgram(whichProgram('/usr/bin/chromium'), 'control room: billing and audit pages', 'chromium', (executablePath) => {
  let browser: Browser;
  let hub: Hub;
  let base: string;
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    hub = await startHub(hubTestConfig(2));
    base = hub.parts.http!.url();
    browser = await launchChromium(executablePath);
    const serial = new Map(hub.services().config.building.modbus.meters.map((m) => [m.id, m.serial]));
    const csv = ['meter_id,read_at,value,kind,serial', ...READS.map(([m, at, v]) => `${m},${at}:00+08:00,${v},actual,${serial.get(m)}`)].join('\n');
    const res = await fetch(`${base}/api/billing/import/readings`, { method: 'POST', headers: { ...(await auth('finance')), 'content-type': 'text/csv' }, body: csv });
    expect(res.status, await res.clone().text()).toBe(200);
  });

  afterAll(async () => {
    await browser?.close();
    await hub?.stop();
  });

  async function auth(user: DemoUser): Promise<Record<string, string>> {
    if (!tokens.has(user)) {
      const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user, password: DEMO_PASSWORDS[user] }) });
      tokens.set(user, ((await res.json()) as { token: string }).token);
    }
    return { authorization: `Bearer ${tokens.get(user)}` };
  }
  async function apiGet<T>(user: DemoUser, path: string): Promise<T> {
    const res = await fetch(`${base}${path}`, { headers: await auth(user) });
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  }
  const row = (page: Page, meter: string, code: string) => page.locator(`[data-testid="exceptions"] tr[data-code="${code}"]`).filter({ hasText: meter });

  it('finance runs the period from the page and sees each VEE exception with meter, unit, rule and the raw value', async () => {
    const { page, errors } = await openControlRoom(browser, base, 'finance');
    await goTo(page, 'billing');
    // 第三节's calendar falls on days 1, 5, 18, 23 and 25 of every month: the next one is due next, in the building's date.
    const [y, m, d] = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(Date.now()).split('-').map(Number) as [number, number, number];
    const day = [1, 5, 18, 23, 25].find((x) => x >= d);
    const next = day ? `${y}-${String(m).padStart(2, '0')}-${String(day).padStart(2, '0')}` : new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 10);
    const keys: Record<string, string> = { '01': 'notices', '05': 'payment', '18': 'reminders', '23': 'letters', '25': 'reads' };
    const shownNext = page.locator('[data-testid="next-deadline"]');
    expect([await shownNext.getAttribute('data-date'), await shownNext.getAttribute('data-key')]).toEqual([next, keys[next.slice(8)]]);
    await page.fill('[data-testid="start-run"] input[name="period"]', PERIOD);
    await page.click('[data-testid="start-run"] button[type="submit"]');
    await page.waitForSelector(`[data-testid="run"][data-period="${PERIOD}"][data-version="1"]`, { timeout: 15_000 });

    const run = await apiGet<{ exceptions: VeeException[] }>('finance', `/api/billing/runs/${PERIOD}`);
    expect(run.exceptions.map((e) => `${e.meterId} ${e.code}`).sort()).toEqual(['A-0101-E unexplained_drop', 'A-0102-E glitch_read']);
    const shown = await page.locator('[data-testid="exceptions"] tr[data-exception]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-exception')));
    expect(shown.sort()).toEqual(run.exceptions.map((e) => e.id).sort());

    const drop = row(page, 'A-0101-E', 'unexplained_drop');
    await expect.poll(() => drop.locator('[data-testid="raw"]').textContent(), { timeout: 10_000 }).toBe('150.05');
    expect(await drop.locator('[data-testid="edited"]').textContent()).toBe('—');
    expect(await drop.getAttribute('data-status')).toBe('blocking');
    expect(await drop.textContent()).toContain('A-0101');
    expect(await drop.textContent()).toContain('kWh');
    expect(await drop.textContent()).toContain('读数下降'); // the rule, in the default language
    const glitch = row(page, 'A-0102-E', 'glitch_read');
    expect(await glitch.locator('[data-testid="raw"]').textContent()).toBe('0.00');
    expect(await glitch.getAttribute('data-status')).toBe('warning');
    expect(await page.locator('[data-testid="held-count"]').textContent()).toBe('1');
    await screenshot(page, 'billing-exceptions');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('the jobs card shows an import as it is checked and written, with its row counts grouped, in the page language', async () => {
    const { page, errors } = await openControlRoom(browser, base, 'finance');
    await goTo(page, 'billing');
    const job = { id: 9001, kind: 'billing.import-readings', subject: 'readings.csv', startedBy: 'finance', startedAt: Date.now(), state: 'running', total: 50_000_000, at: Date.now() } as const;
    const card = page.locator('[data-testid="billing-jobs"] li[data-kind="billing.import-readings"]');
    // The hub's own progress events (gateway/billing/imports.ts), as the live layer pushes them.
    hub.events.emit('job.progress', { ...job, stage: 'checking', done: 21_000_000 });
    await expect.poll(() => card.textContent(), { timeout: 10_000 }).toContain('检查文件 42%');
    expect(await card.textContent()).toContain('导入读数 readings.csv');
    hub.events.emit('job.progress', { ...job, stage: 'writing', done: 140_000, total: 862_240 });
    await expect.poll(() => card.textContent(), { timeout: 10_000 }).toContain('写入 140,000/862,240 行');
    hub.events.emit('job.progress', { ...job, state: 'done', stage: 'done', done: 862_240, total: 862_240, result: { inserted: 862_240, duplicates: 0 } });
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 10_000 }).toBe('done');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('finance edits the read with a reason: the page shows raw and edited values, and a new run clears the exception, as the API says', async () => {
    const { page, errors } = await openControlRoom(browser, base, 'finance');
    await goTo(page, `billing/${PERIOD}`);
    const drop = row(page, 'A-0101-E', 'unexplained_drop');
    await drop.locator('[data-testid="edit-read"]').click();
    const dialog = page.locator('[data-testid="edit-read-dialog"]');
    await dialog.locator('input[name="value"]').fill('1500.50');
    await dialog.locator('textarea[name="reason"]').fill('photo of the meter display: a digit was missed');
    await dialog.locator('[data-testid="dialog-submit"]').click();
    await expect.poll(() => drop.getAttribute('data-status'), { timeout: 10_000 }).toBe('edited');
    expect(await drop.locator('[data-testid="raw"]').textContent()).toBe('150.05');
    expect(await drop.locator('[data-testid="edited"]').textContent()).toContain('1500.50');
    expect(await drop.locator('[data-testid="edited"]').textContent()).toContain('a digit was missed');

    const exception = (await apiGet<{ exceptions: VeeException[] }>('finance', `/api/billing/runs/${PERIOD}`)).exceptions.find((e) => e.code === 'unexplained_drop')!;
    const at = new Date(exception.at).toISOString();
    const { reads } = await apiGet<{ reads: StoredRead[] }>('finance', `/api/billing/reads?meter=A-0101-E&from=${at}&to=${at}`);
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({ id: exception.readId, value: '150.05', edit: { value: '1500.50', actor: 'finance', reason: 'photo of the meter display: a digit was missed' } });

    await page.click('[data-testid="run-again"]');
    await page.waitForSelector(`[data-testid="run"][data-version="2"]`, { timeout: 15_000 });
    await expect.poll(() => page.locator('[data-testid="exceptions"] tr[data-exception]').count(), { timeout: 10_000 }).toBe(1);
    expect(await row(page, 'A-0101-E', 'unexplained_drop').count()).toBe(0);
    expect(await page.locator('[data-testid="held-count"]').textContent()).toBe('0');
    const after = await apiGet<{ run: { version: number }; exceptions: VeeException[]; statements: Array<{ status: string }> }>('finance', `/api/billing/runs/${PERIOD}`);
    expect(after.run.version).toBe(2);
    expect(after.exceptions.map((e) => e.code)).toEqual(['glitch_read']);
    expect(after.statements.every((s) => s.status === 'billed')).toBe(true);
    await screenshot(page, 'billing-edited');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it("the run's documents and the dunning lists download with the right content type; HTML opens in a new tab", async () => {
    const { page, errors } = await openControlRoom(browser, base, 'finance');
    await goTo(page, `billing/${PERIOD}`);
    await page.waitForSelector('[data-testid="run-files"] a[data-file]');
    await page.waitForSelector('[data-testid="dunning-download"]');
    const links = await page.locator('[data-testid="run-files"] a[data-file], [data-testid="dunning-download"]').evaluateAll((as) =>
      as.map((a) => ({ href: (a as HTMLAnchorElement).href, target: a.getAttribute('target'), name: a.getAttribute('data-file') ?? 'dunning.json' })),
    );
    expect(links.filter((l) => l.name !== 'dunning.json').map((l) => l.name)).toEqual(['statements.csv', 'exceptions.csv', 'summary.json', 'summary.html', 'notices.zh.html', 'notices.en.html']);
    const answers = await page.evaluate(async (hrefs) => Promise.all(hrefs.map(async (h) => { const r = await fetch(h); return { status: r.status, type: r.headers.get('content-type') ?? '' }; })), links.map((l) => l.href));
    links.forEach((l, i) => {
      expect(answers[i]!.status, l.href).toBe(200);
      expect(answers[i]!.type, l.href).toMatch(FILE_TYPES[l.name.split('.').at(-1)!]!);
      expect(l.target, l.name).toBe(l.name.endsWith('.html') ? '_blank' : null);
    });
    expect(links[0]!.href).toBe(`${base}/api/billing/runs/${PERIOD}/v/2/files/statements.csv`);
    await page.setViewportSize({ width: 1920, height: 1080 });
    await screenshot(page, 'billing-wall');
    expect(errors).toEqual([]);
    await page.context().close();

    const phone = await openControlRoom(browser, base, 'supervisor', PHONE);
    await goTo(phone.page, `billing/${PERIOD}`);
    await phone.page.waitForSelector('[data-testid="exceptions"] tr[data-exception]');
    // Supervisors may edit (billing.edit) but not run (billing.run).
    expect(await phone.page.locator('[data-testid="start-run"]').count()).toBe(0);
    expect(await phone.page.locator('[data-testid="run-again"]').count()).toBe(0);
    await screenshot(phone.page, 'billing-phone');
    expect(phone.errors).toEqual([]);
    await phone.page.context().close();
  });

  it('a viewer has no billing link, and the billing API answers 403 from its page', async () => {
    const { page, errors } = await openControlRoom(browser, base, 'viewer');
    await page.waitForSelector('[data-nav="overview"]');
    expect(await page.locator('[data-nav="billing"]').count()).toBe(0);
    expect(await page.locator('[data-nav="audit"]').count()).toBe(0);
    const statuses = await page.evaluate(async (p) => Promise.all([`/api/billing/periods`, `/api/billing/runs/${p}`].map(async (u) => (await fetch(u)).status)), PERIOD);
    expect(statuses).toEqual([403, 403]);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('the audit log filters by actor and by action prefix, exactly as the API does, in building time', async () => {
    const { page, errors } = await openControlRoom(browser, base, 'supervisor');
    await page.waitForSelector('[data-nav="audit"]');
    await goTo(page, 'audit');
    const shownIds = async () => {
      await page.waitForSelector('[data-testid="audit-entries"][data-loading="false"], [data-testid="audit-count"]');
      return page.locator('[data-testid="audit-entries"] tr[data-entry]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-entry'))));
    };
    const search = async (filters: Record<string, string>) => {
      for (const key of ['actor', 'action', 'subject', 'from', 'to']) await page.fill(`[data-testid="audit-${key}"]`, filters[key] ?? '');
      await page.click('[data-testid="audit-apply"]');
    };

    await search({ actor: 'finance' });
    const byActor = await apiGet<AuditReply>('supervisor', '/api/audit?actor=finance&limit=50');
    expect(byActor.entries.length).toBeGreaterThan(0);
    await expect.poll(shownIds, { timeout: 10_000 }).toEqual(byActor.entries.map((e) => e.id));
    expect(new Set(await page.locator('[data-testid="audit-entries"] [data-testid="actor"]').allTextContents())).toEqual(new Set(['finance']));

    await search({ action: 'billing.' });
    const byAction = await apiGet<AuditReply>('supervisor', '/api/audit?action=billing.&limit=50');
    expect(byAction.entries.map((e) => e.action)).toEqual(expect.arrayContaining(['billing.reads.import', 'billing.read.edit']));
    await expect.poll(shownIds, { timeout: 10_000 }).toEqual(byAction.entries.map((e) => e.id));
    for (const action of await page.locator('[data-testid="audit-entries"] [data-testid="action"]').allTextContents()) expect(action).toMatch(/^billing\./);
    // Newest first.
    const ids = await shownIds();
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    // The edit's before and after open as JSON.
    const edit = page.locator('[data-testid="audit-entries"] tr').filter({ hasText: 'billing.read.edit' }).first();
    await edit.locator('details.change summary').last().click();
    expect(await edit.locator('details.change pre').last().textContent()).toContain('"1500.50"');
    await screenshot(page, 'audit-wall');

    // "From" is typed in the building's time (Asia/Shanghai), not the browser's (New York, 13 h behind).
    const edited = byAction.entries.find((e) => e.action === 'billing.read.edit')!;
    const local = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai', dateStyle: 'short', timeStyle: 'short' }).format(edited.at).replace(' ', 'T');
    await search({ action: 'billing.', from: local });
    const since = await apiGet<AuditReply>('supervisor', `/api/audit?action=billing.&limit=50&from=${encodeURIComponent(`${local}:00+08:00`)}`);
    expect(since.entries.map((e) => e.id)).toContain(edited.id);
    await expect.poll(shownIds, { timeout: 10_000 }).toEqual(since.entries.map((e) => e.id));
    // The hub's refusal is shown as such, not as an empty log.
    await search({ from: '2026-05-02T00:00', to: '2026-05-01T00:00' });
    await expect.poll(() => page.locator('[data-testid="audit-error"]').textContent(), { timeout: 10_000 }).toMatch(/400 .*from must not be after to/);
    expect(await page.locator('[data-testid="audit-entries"]').count()).toBe(0);
    expect(errors).toEqual([]);
    await page.context().close();

    const phone = await openControlRoom(browser, base, 'admin', PHONE);
    await goTo(phone.page, 'audit');
    await phone.page.waitForSelector('[data-testid="audit-entries"]', { timeout: 10_000 });
    await screenshot(phone.page, 'audit-phone');
    expect(phone.errors).toEqual([]);
    await phone.page.context().close();
  });

  it('"older" pages on with the reply\'s next, exactly as the API pages', async () => {
    // 60 entries of one kind: more than the page's 50 a page.
    const display = hub.services().display!;
    const day = 86_400_000;
    for (let i = 0; i < 60; i++) {
      display.create({ title: { zh: `通知 ${i}`, en: `Notice ${i}` }, body: { zh: '正文', en: 'Body' }, screens: ['A-lobby'], start: Date.now(), end: Date.now() + day, planWeek: '2026-W48', planSlot: 1, priority: 7 }, { username: 'operator', role: 'operator' });
    }
    const first = await apiGet<AuditReply>('supervisor', '/api/audit?actor=operator&action=display.&limit=50');
    expect(first.next).toBeDefined();
    const second = await apiGet<AuditReply>('supervisor', `/api/audit?actor=operator&action=display.&limit=50&before=${first.next}`);
    const { page, errors } = await openControlRoom(browser, base, 'admin');
    await goTo(page, 'audit');
    await page.fill('[data-testid="audit-actor"]', 'operator');
    await page.fill('[data-testid="audit-action"]', 'display.');
    await page.click('[data-testid="audit-apply"]');
    const ids = () => page.locator('[data-testid="audit-entries"] tr[data-entry]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-entry'))));
    await expect.poll(ids, { timeout: 10_000 }).toEqual(first.entries.map((e) => e.id));
    await page.click('[data-testid="audit-older"]');
    await expect.poll(ids, { timeout: 10_000 }).toEqual([...first.entries, ...second.entries].map((e) => e.id));
    expect(await page.locator('[data-testid="audit-older"]').count()).toBe(second.next === undefined ? 0 : 1);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('an operator has no audit link, and GET /api/audit answers 403 from its page', async () => {
    const { page, errors } = await openControlRoom(browser, base, 'operator');
    await page.waitForSelector('[data-nav="overview"]');
    expect(await page.locator('[data-nav="audit"]').count()).toBe(0);
    expect(await page.evaluate(async () => (await fetch('/api/audit')).status)).toBe(403);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
