import type { FastifyInstance } from 'fastify';
import { io as connect, type Socket } from 'socket.io-client';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORDS } from '../../gateway/auth/passwords.ts';
import { ManualClock } from '../../gateway/clock.ts';
import { loadConfig, type LoadedConfig } from '../../gateway/config/load.ts';
import { buildApp } from '../../gateway/http/app.ts';
import type { ServerToClientEvents } from '../../gateway/http/live-types.ts';
import { REPORT_CSP } from '../../gateway/http/routes/incidents.ts';
import { silentLogger } from '../../gateway/log.ts';
import { RunbookEngine } from '../../gateway/runbooks/engine.ts';
import type { IncidentChange } from '../../gateway/runbooks/types.ts';
import { SqliteRecordStore } from '../../gateway/storage/records.ts';
import { tempDir, writeConfig } from '../helpers/config.ts';
import { fakeHub } from '../helpers/fake-stores.ts';

// The incident API (handbook 第九节) through app.inject, against the real runbook
// engine on a real records store in a temp dir, with the demo building's runbooks.
// 'fire-tenant-report' (第九节 一.2) is started by hand: record the caller, judge
// the fire, then advise, notify and divide the work.

const RUNBOOK = 'fire-tenant-report';
const CALLER = { 'caller-name': 'Li Wei', phone: '6600 1234', place: 'B-12F east corridor' };

let config: LoadedConfig;
let app: FastifyInstance | undefined;
let cleanup: Array<() => Promise<void> | void> = [];

beforeAll(() => {
  config = loadConfig(writeConfig());
});

afterEach(async () => {
  await app?.close();
  app = undefined;
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

async function start(options: { withEngine?: boolean } = {}) {
  // Monday 2 March 2026, 10:00 in Shanghai.
  const clock = new ManualClock(Date.UTC(2026, 2, 2, 2, 0));
  const hub = fakeHub({ config, clock });
  const records = SqliteRecordStore.open(tempDir(), clock);
  hub.services.records = records;
  const engine = new RunbookEngine({ config, records, events: hub.services.events, clock, log: silentLogger });
  if (options.withEngine !== false) {
    await engine.start();
    hub.services.incidents = engine;
  }
  cleanup.push(() => engine.stop(), () => records.close());
  app = await buildApp(hub.services);
  await app.ready();
  return { app, hub, engine, clock };
}

async function tokenFor(app: FastifyInstance, username: string): Promise<string> {
  const password = DEMO_PASSWORDS[username === 'lobby' ? 'display' : username];
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });
  expect(res.statusCode).toBe(200);
  return res.json().token as string;
}

const as = async (app: FastifyInstance, username: string) => ({ authorization: `Bearer ${await tokenFor(app, username)}` });

/** Starts the tenant-report runbook as the operator and returns the incident id. */
async function openIncident(app: FastifyInstance): Promise<number> {
  const res = await app.inject({ method: 'POST', url: '/api/incidents', payload: { runbook: RUNBOOK, fields: CALLER }, headers: await as(app, 'operator') });
  expect(res.statusCode).toBe(201);
  return res.json().incident.id as number;
}

const complete = (id: number, step: string, payload: object, headers: Record<string, string>) =>
  app!.inject({ method: 'POST', url: `/api/incidents/${id}/steps/${encodeURIComponent(step)}/complete`, payload, headers });

describe('access', () => {
  it('needs a session (401); the lobby screen may use no incident route (403)', async () => {
    const { app } = await start();
    const id = await openIncident(app);
    expect((await app.inject({ url: '/api/incidents' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/api/incidents', payload: { runbook: RUNBOOK } })).statusCode).toBe(401);
    const lobby = await as(app, 'lobby');
    const routes = [
      ['GET', '/api/runbooks'],
      ['GET', '/api/incidents'],
      ['GET', `/api/incidents/${id}`],
      ['GET', `/api/incidents/${id}/report?format=html`],
      ['POST', '/api/incidents'],
      ['POST', `/api/incidents/${id}/steps/record/complete`],
      ['POST', `/api/incidents/${id}/stabilise`],
      ['POST', `/api/incidents/${id}/close`],
    ] as const;
    for (const [method, url] of routes) {
      const res = await app.inject({ method, url, headers: lobby, ...(method === 'POST' ? { payload: {} } : {}) });
      expect([url, res.statusCode, res.json().error.code]).toEqual([url, 403, 'BOHUB_FORBIDDEN']);
    }
  });

  it('a viewer reads runbooks and incidents but may not start, complete, stabilise or close', async () => {
    const { app } = await start();
    const id = await openIncident(app);
    const viewer = await as(app, 'viewer');
    const runbooks = await app.inject({ url: '/api/runbooks', headers: viewer });
    expect(runbooks.statusCode).toBe(200);
    expect(runbooks.json().runbooks.find((r: { id: string }) => r.id === RUNBOOK)).toMatchObject({
      trigger: 'manual',
      handbook: '第九节 一.2',
      fields: expect.arrayContaining([{ id: 'caller-name', label: { zh: '报警人姓名', en: "Caller's name" }, required: true }]),
    });
    expect((await app.inject({ url: '/api/incidents', headers: viewer })).json().incidents.map((i: { id: number }) => i.id)).toEqual([id]);
    const refused = [
      await app.inject({ method: 'POST', url: '/api/incidents', payload: { runbook: RUNBOOK, fields: CALLER }, headers: viewer }),
      await complete(id, 'record', {}, viewer),
      await app.inject({ method: 'POST', url: `/api/incidents/${id}/stabilise`, payload: { note: 'x' }, headers: viewer }),
      await app.inject({ method: 'POST', url: `/api/incidents/${id}/close`, payload: { summary: 'x' }, headers: viewer }),
    ];
    expect(refused.map((r) => r.statusCode)).toEqual([403, 403, 403, 403]);
  });

  it('answers 503 when the hub runs without the runbook engine', async () => {
    const { app } = await start({ withEngine: false });
    const viewer = await as(app, 'viewer');
    for (const url of ['/api/runbooks', '/api/incidents', '/api/incidents/1', '/api/incidents/1/report']) {
      const res = await app.inject({ url, headers: viewer });
      expect([url, res.statusCode, res.json().error.code]).toEqual([url, 503, 'BOHUB_INCIDENTS_UNAVAILABLE']);
    }
  });
});

describe('POST /api/incidents', () => {
  it('an operator starts a runbook by hand: 201, listed as active, readable by id', async () => {
    const { app } = await start();
    const operator = await as(app, 'operator');
    const res = await app.inject({ method: 'POST', url: '/api/incidents', payload: { runbook: RUNBOOK, fields: CALLER, note: 'caller on line 2' }, headers: operator });
    expect(res.statusCode).toBe(201);
    const incident = res.json().incident;
    expect(incident).toMatchObject({ runbook: RUNBOOK, state: 'open', openedBy: 'operator', fields: CALLER, variant: 'working' });
    expect(incident.steps.find((s: { key: string }) => s.key === 'record')).toMatchObject({ status: 'active', role: 'csc-duty' });
    const list = await app.inject({ url: '/api/incidents?state=active', headers: operator });
    expect(list.json().incidents.map((i: { id: number }) => i.id)).toEqual([incident.id]);
    const one = await app.inject({ url: `/api/incidents/${incident.id}`, headers: operator });
    expect(one.json().incident).toMatchObject({ id: incident.id, title: { zh: '业户报警(火灾)' } });
  });

  it('refuses bad bodies with 400 naming the field, and an unknown runbook with 404', async () => {
    const { app } = await start();
    const operator = await as(app, 'operator');
    const post = (payload: object) => app.inject({ method: 'POST', url: '/api/incidents', payload, headers: operator });
    const noRunbook = await post({ fields: CALLER });
    expect([noRunbook.statusCode, noRunbook.json().error.code]).toEqual([400, 'BOHUB_BAD_REQUEST']);
    expect(noRunbook.json().error.message).toMatch(/^runbook:/);
    expect((await post({ runbook: RUNBOOK, fields: { ...CALLER, phone: 6600 } })).json().error.message).toMatch(/^fields\.phone:/);
    expect((await post({ runbook: RUNBOOK, fields: CALLER, units: 'B-1201' })).json().error.message).toMatch(/^units:/);
    // The engine checks the runbook's own required fields (第九节 一.2(1): the place of the fire).
    const noPlace = await post({ runbook: RUNBOOK, fields: { 'caller-name': 'Li Wei', phone: '6600 1234' } });
    expect([noPlace.statusCode, noPlace.json().error.message]).toEqual([400, expect.stringMatching(/^fields\.place:/)]);
    const unknown = await post({ runbook: 'no-such-runbook' });
    expect([unknown.statusCode, unknown.json().error.code]).toEqual([404, 'BOHUB_RUNBOOK_NOT_FOUND']);
    expect((await app.inject({ url: '/api/incidents?state=gone', headers: operator })).json().error.message).toMatch(/^state:/);
    expect((await app.inject({ url: '/api/incidents', headers: operator })).json().incidents).toEqual([]);
  });
});

describe('POST /api/incidents/:id/steps/:stepKey/complete', () => {
  it('completes a step as the logged-in user, with the note; the next step opens', async () => {
    const { app, clock } = await start();
    const id = await openIncident(app);
    clock.advance(90_000);
    const operator = await as(app, 'operator');
    const res = await complete(id, 'record', { note: 'caller: smoke from the pantry' }, operator);
    expect(res.statusCode).toBe(200);
    const steps = res.json().incident.steps as Array<{ key: string; status: string }>;
    expect(steps.find((s) => s.key === 'record')).toMatchObject({ status: 'done', doneBy: 'operator', note: 'caller: smoke from the pantry', doneAt: clock.now() });
    expect(steps.find((s) => s.key === 'assess')).toMatchObject({ status: 'active' });
    const judged = await complete(id, 'assess', { value: 'early' }, operator);
    expect(judged.json().incident.steps.find((s: { key: string }) => s.key === 'assess')).toMatchObject({ status: 'done', value: 'early', values: [{ value: 'early', by: 'operator' }] });
  });

  it('answers 400 naming the field, 404 for an unknown incident or step, 409 for a waiting step, 403 for the wrong duty role', async () => {
    const { app } = await start();
    const id = await openIncident(app);
    const operator = await as(app, 'operator');
    const badValue = await complete(id, 'assess', { value: { level: 'early' } }, operator);
    expect([badValue.statusCode, badValue.json().error.message]).toEqual([400, expect.stringMatching(/^value:/)]);
    const badCall = await complete(id, 'record', { calls: [{ name: 'Li Wei', phone: '6600 1234', outcome: 'hung-up' }] }, operator);
    expect([badCall.statusCode, badCall.json().error.message]).toEqual([400, expect.stringMatching(/^calls\.0\.outcome:/)]);
    const noIncident = await complete(9999, 'record', {}, operator);
    expect([noIncident.statusCode, noIncident.json().error.code]).toEqual([404, 'BOHUB_INCIDENT_NOT_FOUND']);
    const noStep = await complete(id, 'no-such-step', {}, operator);
    expect([noStep.statusCode, noStep.json().error.code]).toEqual([404, 'BOHUB_INCIDENT_NOT_FOUND']);
    const waiting = await complete(id, 'assess', { value: 'early' }, operator);
    expect([waiting.statusCode, waiting.json().error.code]).toEqual([409, 'BOHUB_INCIDENT_STATE']);
    // Finance passes the route's gate, but 'record' is for the CSC duty staff.
    const finance = await complete(id, 'record', {}, await as(app, 'finance'));
    expect([finance.statusCode, finance.json().error.code]).toEqual([403, 'BOHUB_FORBIDDEN']);
    expect(finance.json().error.message).toMatch(/csc-duty/);
    expect((await app.inject({ url: `/api/incidents/${id}`, headers: operator })).json().incident.steps[0]).toMatchObject({ key: 'record', status: 'active' });
  });
});

describe('stabilise, close and the report', () => {
  it('a supervisor closes with the written summary; the report is served as JSON and as a printable page', async () => {
    const { app, clock } = await start();
    const id = await openIncident(app);
    const operator = await as(app, 'operator');
    const supervisor = await as(app, 'supervisor');
    await complete(id, 'record', { note: 'smoke <b>pantry</b>' }, operator);
    expect((await app.inject({ method: 'POST', url: `/api/incidents/${id}/stabilise`, payload: {}, headers: operator })).json().error.message).toMatch(/^note:/);
    const stabilised = await app.inject({ method: 'POST', url: `/api/incidents/${id}/stabilise`, payload: { note: 'extinguished' }, headers: operator });
    expect([stabilised.statusCode, stabilised.json().incident.state]).toEqual([200, 'stabilised']);

    clock.advance(3_600_000);
    const summary = 'Pantry fire put out by tenant staff <script>alert(1)</script>';
    expect((await app.inject({ method: 'POST', url: `/api/incidents/${id}/close`, payload: { summary }, headers: operator })).statusCode).toBe(403);
    expect((await app.inject({ method: 'POST', url: `/api/incidents/${id}/close`, payload: { summary: ' ' }, headers: supervisor })).json().error.message).toMatch(/^summary:/);
    const closed = await app.inject({ method: 'POST', url: `/api/incidents/${id}/close`, payload: { summary }, headers: supervisor });
    expect(closed.statusCode).toBe(200);
    expect(closed.json().incident).toMatchObject({ state: 'closed', closedBy: 'supervisor', report: { summary, by: 'supervisor' } });
    expect((await app.inject({ url: '/api/incidents', headers: operator })).json().incidents).toEqual([]);
    expect((await app.inject({ url: '/api/incidents?state=closed', headers: operator })).json().incidents.map((i: { id: number }) => i.id)).toEqual([id]);
    const again = await app.inject({ method: 'POST', url: `/api/incidents/${id}/close`, payload: { summary }, headers: supervisor });
    expect([again.statusCode, again.json().error.code]).toEqual([409, 'BOHUB_INCIDENT_STATE']);

    const json = await app.inject({ url: `/api/incidents/${id}/report`, headers: operator });
    expect(json.statusCode).toBe(200);
    expect(json.headers['content-security-policy']).toBe("default-src 'self'; frame-ancestors 'none'");
    expect(json.json()).toMatchObject({
      id,
      state: 'closed',
      timeZone: 'Asia/Shanghai',
      opened: { local: '2026-03-02T10:00:00+08:00' },
      closed: { local: '2026-03-02T11:00:00+08:00' },
      summary: { text: summary, by: 'supervisor' },
      steps: expect.arrayContaining([expect.objectContaining({ key: 'record', status: 'done', doneBy: 'operator', onTime: null })]),
    });

    const html = await app.inject({ url: `/api/incidents/${id}/report?format=html`, headers: operator });
    expect(html.statusCode).toBe(200);
    expect(html.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(html.headers['content-disposition']).toBe(`inline; filename="incident-${id}.html"`);
    expect(html.headers['content-security-policy']).toBe(REPORT_CSP);
    expect(html.body).toContain('Pantry fire put out by tenant staff &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html.body).toContain('smoke &lt;b&gt;pantry&lt;/b&gt;');
    expect(html.body).not.toMatch(/<script/i);
    expect(html.body).toContain('2026-03-02 11:00:00');
    expect((await app.inject({ url: `/api/incidents/${id}/report?format=pdf`, headers: operator })).json().error.message).toMatch(/^format:/);
    expect((await app.inject({ url: '/api/incidents/9999/report', headers: operator })).statusCode).toBe(404);
  });
});

describe('socket.io', () => {
  it("pushes 'incident.changed' to an authorised client at once", async () => {
    const { app } = await start();
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const socket: Socket<ServerToClientEvents> = connect(url, { transports: ['websocket'], reconnection: false, auth: { token: await tokenFor(app, 'viewer') } });
    cleanup.push(() => void socket.close());
    await new Promise<void>((resolve, reject) => (socket.once('connect', resolve), socket.once('connect_error', reject)));
    const received = new Promise<IncidentChange>((resolve) => socket.once('incident.changed', resolve));
    const id = await openIncident(app);
    expect(await received).toMatchObject({ change: 'opened', incident: { id, runbook: RUNBOOK, state: 'open' } });
  });
});
