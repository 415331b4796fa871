import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_PASSWORDS } from '../../gateway/auth/passwords.ts';
import { BillingService } from '../../gateway/billing/service.ts';
import { buildApp } from '../../gateway/http/app.ts';
import { billingRig, plainMonth, type BillingRig } from '../helpers/billing.ts';
import { fakeHub } from '../helpers/fake-stores.ts';

// The billing API through app.inject on a real records store: who may do what
// (deny by default), the month-end run and its documents, edits with a reason,
// imports that are all or nothing, move-in with hand readings.

let rig: BillingRig;
let app: FastifyInstance | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
  rig?.close();
});

async function start(): Promise<{ app: FastifyInstance; as: (user: string) => Promise<Record<string, string>> }> {
  rig = billingRig();
  const hub = fakeHub({ config: rig.config, clock: rig.clock });
  hub.services.records = rig.records;
  hub.services.billing = new BillingService(rig.config, rig.records, rig.clock);
  plainMonth(rig);
  const a = await buildApp(hub.services);
  await a.ready();
  app = a;
  const as = async (username: string) => {
    const res = await a.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: DEMO_PASSWORDS[username === 'lobby' ? 'display' : username] } });
    expect(res.statusCode).toBe(200);
    return { authorization: `Bearer ${res.json().token}` };
  };
  return { app: a, as };
}

describe('billing API (issue 7)', () => {
  it('finance runs a period and downloads its statements and notices', async () => {
    const { app, as } = await start();
    const finance = await as('finance');
    const run = await app.inject({ method: 'POST', url: '/api/billing/runs', headers: finance, payload: { period: '2026-11' } });
    expect(run.statusCode).toBe(200);
    expect(run.json()).toMatchObject({ outcome: 'new', run: { period: '2026-11', version: 1, status: 'draft' }, summary: { statements: 4, held: 0 } });
    const csv = await app.inject({ method: 'GET', url: '/api/billing/runs/2026-11/v/1/files/statements.csv', headers: finance });
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.body).toContain('A-0102');
    const notices = await app.inject({ method: 'GET', url: '/api/billing/runs/2026-11/v/1/files/notices.zh.html', headers: finance });
    expect(notices.body).toContain('收费通知单');
    // Its own inline stylesheet must apply when opened from the dashboard.
    expect(notices.headers['content-security-policy']).toContain("style-src 'unsafe-inline'");
    expect(csv.headers['content-security-policy']).toBe("default-src 'self'; frame-ancestors 'none'");
    expect((await app.inject({ method: 'GET', url: '/api/billing/runs/2026-11', headers: finance })).json().statements).toHaveLength(4);
  });

  it('a viewer and an operator cannot run billing or see statements; the lobby screen cannot reach billing at all', async () => {
    const { app, as } = await start();
    for (const user of ['viewer', 'operator', 'lobby']) {
      const headers = await as(user);
      expect((await app.inject({ method: 'POST', url: '/api/billing/runs', headers, payload: { period: '2026-11' } })).statusCode).toBe(403);
      expect((await app.inject({ method: 'GET', url: '/api/billing/periods', headers })).statusCode).toBe(403);
    }
    expect((await app.inject({ method: 'GET', url: '/api/billing/periods' })).statusCode).toBe(401);
  });

  it('an edit needs the finance or supervisor role and a reason; operators get 403', async () => {
    const { app, as } = await start();
    const read = rig.repo.readsOf('A-0101-E', rig.at('2026-11-25T00:00'), rig.at('2026-11-25T00:00'))[0]!;
    const url = `/api/billing/reads/${read.id}/edit`;
    expect((await app.inject({ method: 'POST', url, headers: await as('operator'), payload: { value: '1400.00', reason: 'x' } })).statusCode).toBe(403);
    const noReason = await app.inject({ method: 'POST', url, headers: await as('finance'), payload: { value: '1400.00', reason: ' ' } });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json().error.message).toMatch(/reason/);
    const ok = await app.inject({ method: 'POST', url, headers: await as('supervisor'), payload: { value: '1400.00', reason: 'photo of the display' } });
    expect(ok.json().read).toMatchObject({ value: '1500.50', edit: { value: '1400.00', actor: 'supervisor' } });
  });

  it('an import with a bad row answers 400 naming the line, and stores nothing', async () => {
    const { app, as } = await start();
    const csv = 'meter_id,read_at,value,kind,serial\nA-0101-E,2026-11-26T09:00:00+08:00,1510.00,actual,DDSUA0101\nA-0101-E,yesterday,1511.00,actual,DDSUA0101\n';
    const res = await app.inject({ method: 'POST', url: '/api/billing/import/readings', headers: { ...(await as('operator')), 'content-type': 'text/csv' }, payload: csv });
    expect(res.statusCode).toBe(400);
    expect(res.json().problems).toEqual([expect.objectContaining({ line: 3 })]);
    expect(rig.repo.readsOf('A-0101-E', rig.at('2026-11-26T00:00'), rig.at('2026-11-28T00:00'))).toEqual([]);
  });

  it('a readings file of over a MiB imports through the API (it streams: no 1 MiB body limit), and a second import of it adds nothing', async () => {
    const { app, as } = await start();
    const lines = Array.from({ length: 30_000 }, (_, i) => `A-0101-E,${new Date(rig.at('2026-11-26T00:00') + i * 60_000).toISOString()},${(1510 + i / 100).toFixed(2)},actual,DDSUA0101`);
    const csv = `meter_id,read_at,value,kind,serial\n${lines.join('\n')}\n`;
    expect(csv.length).toBeGreaterThan(1.5 * 1024 * 1024);
    const send = async () => app.inject({ method: 'POST', url: '/api/billing/import/readings', headers: { ...(await as('operator')), 'content-type': 'text/csv' }, payload: csv });
    const res = await send();
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true, inserted: 30_000, duplicates: 0 });
    expect((await send()).json()).toEqual({ ok: true, inserted: 0, duplicates: 30_000 });
  });

  it('a move-in with hand readings records the handover (附件8) and its base readings', async () => {
    const { app, as } = await start();
    const res = await app.inject({
      method: 'POST', url: '/api/billing/tenancy', headers: await as('operator'),
      payload: { unitId: 'A-0101', kind: 'move_out', company: '申城咖啡', occupancy: 'owner', at: '2026-11-30T10:00:00+08:00', reads: [{ meterId: 'A-0101-E', value: '1520.00' }, { meterId: 'A-0101-W', value: '23.000' }] },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().reads.map((r: { kind: string; value: string }) => [r.kind, r.value])).toEqual([['move_out', '1520.00'], ['move_out', '23.000']]);
    expect(rig.records.listAudit({ action: 'billing.move_out' })).toHaveLength(1);
  });

  it('without a hand reading and with no Modbus driver, a move-out names the meter that could not be read', async () => {
    const { app, as } = await start();
    const res = await app.inject({ method: 'POST', url: '/api/billing/tenancy', headers: await as('operator'), payload: { unitId: 'A-0101', kind: 'move_out', company: '申城咖啡' } });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.message).toMatch(/A-0101-E could not be read now/);
    expect(rig.repo.tenancyEvents('A-0101')).toEqual([]);
  });

  it('an accepted exception is audited and lets the held statement be billed', async () => {
    const { app, as } = await start();
    rig.reads('A-0103-E', [['2026-11-10T00:00', '1400.00'], ['2026-11-11T00:00', '20.00'], ['2026-11-12T00:00', '40.00']]);
    const finance = await as('finance');
    const first = (await app.inject({ method: 'POST', url: '/api/billing/runs', headers: finance, payload: { period: '2026-11' } })).json();
    expect(first.summary.held).toBe(1);
    const exception = (await app.inject({ method: 'GET', url: '/api/billing/runs/2026-11', headers: finance })).json().exceptions.find((e: { code: string }) => e.code === 'unexplained_drop');
    const accepted = await app.inject({ method: 'POST', url: '/api/billing/exceptions/accept', headers: finance, payload: { id: exception.id, reason: 'meter reset by the supplier, confirmed by phone' } });
    expect(accepted.statusCode).toBe(200);
    const second = (await app.inject({ method: 'POST', url: '/api/billing/runs', headers: finance, payload: { period: '2026-11' } })).json();
    expect(second).toMatchObject({ outcome: 'new', run: { version: 2 }, summary: { held: 0 } });
  });
});
