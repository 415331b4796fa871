import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { io as connect, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_PASSWORDS, demoDisplayToken } from '../../gateway/auth/passwords.ts';
import { DisplayEngine } from '../../gateway/display/engine.ts';
import type { ScreenNow } from '../../gateway/display/types.ts';
import { buildApp } from '../../gateway/http/app.ts';
import type { DisplayServerToClientEvents, ServerToClientEvents } from '../../gateway/http/live-types.ts';
import { IMAGE_CACHE } from '../../gateway/http/routes/display.ts';
import { silentLogger } from '../../gateway/log.ts';
import { REPO, type RawConfig } from '../helpers/config.ts';
import { fakeHub } from '../helpers/fake-stores.ts';
import { waitFor } from '../helpers/ports.ts';
import { local, runbookRig, type RunbookRig } from '../helpers/runbooks.ts';

// The lobby-display API, the display-token login, the lobby page and the /display push
// (issue 9; handbook 第七节 二): the real display service over the real runbook and alarm
// engines on a records store in a temp dir, a copy of the demo building (screens
// A-lobby, B-lobby, A-lifts, B-lifts) and fake time, Monday 9 March 2026, 10:00 in Shanghai.

type Client = Socket<DisplayServerToClientEvents>;
type H = Record<string, string>;

let app: FastifyInstance | undefined;
let rig: RunbookRig | undefined;
let display: DisplayEngine | undefined;
const clients: Array<Socket> = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await app?.close();
  await display?.stop();
  await rig?.close();
  app = rig = display = undefined;
});

async function start(options: { withDisplay?: boolean; mutate?: (raw: RawConfig) => void } = {}) {
  rig = await runbookRig({
    at: '2026-03-09T10:00',
    mutate: (raw) => {
      // writeConfig copies the building into a temp folder: point it at the repository's templates.
      raw.display.templatesDir = join(REPO, 'config/display-templates');
      // Not the demo: no seeded content and no emergency template approved in advance.
      raw.site.demo = false;
      options.mutate?.(raw);
    },
  });
  const { config, clock, events, records } = rig;
  const hub = fakeHub({ config, clock });
  Object.assign(hub.services, { events, records, alarms: rig.alarms, incidents: rig.engine });
  if (options.withDisplay !== false) {
    const engine = rig.engine;
    display = new DisplayEngine({ config, records, events, clock, log: silentLogger, incidents: () => engine });
    await display.start();
    hub.services.display = display;
  }
  app = await buildApp(hub.services);
  await app.ready();
  return { app, hub, rig };
}

const login = (app: FastifyInstance, screen: string, token = demoDisplayToken(screen)) =>
  app.inject({ method: 'POST', url: '/api/display/login', payload: { screen, token } });

async function screenToken(app: FastifyInstance, screen: string): Promise<string> {
  const res = await login(app, screen);
  expect(res.statusCode).toBe(200);
  return res.json().token as string;
}

async function userToken(app: FastifyInstance, username: string): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: DEMO_PASSWORDS[username === 'lobby' ? 'display' : username] } });
  expect(res.statusCode).toBe(200);
  return res.json().token as string;
}

const bearer = (token: string): H => ({ authorization: `Bearer ${token}` });
const as = async (app: FastifyInstance, username: string): Promise<H> => bearer(await userToken(app, username));

/** A planned item for A-lobby, shown from an hour ago until tomorrow, as reception enters it. */
const item = (extra: object = {}) => ({
  title: { zh: '电梯保养通知', en: 'Lift maintenance' },
  body: { zh: '3号电梯周三保养。', en: 'Lift 3 is serviced on Wednesday.' },
  screens: ['A-lobby'],
  start: '2026-03-09T09:00:00+08:00',
  end: local('2026-03-10T18:00'),
  planWeek: '2026-W11',
  planSlot: 1,
  priority: 5,
  ...extra,
});

async function createItem(app: FastifyInstance, headers: H, extra: object = {}): Promise<number> {
  const res = await app.inject({ method: 'POST', url: '/api/display/items', payload: item({ submit: true, ...extra }), headers });
  expect(res.statusCode).toBe(201);
  return res.json().item.id as number;
}

const post = (app: FastifyInstance, url: string, headers: H, payload: object = {}) => app.inject({ method: 'POST', url, headers, payload });
const now = async (app: FastifyInstance, screen: string, headers: H): Promise<ScreenNow> => (await app.inject({ url: `/api/display/${screen}/now`, headers })).json();
const entryIds = (n: ScreenNow) => n.entries.map((e) => e.id);

// ---- sockets ----

function screenSocket(url: string, auth: { token?: string; screen?: string }): { socket: Client; frames: ScreenNow[] } {
  const socket: Client = connect(`${url}/display`, { transports: ['websocket'], reconnection: false, auth });
  clients.push(socket);
  const frames: ScreenNow[] = [];
  socket.on('display.now', (n) => frames.push(n));
  return { socket, frames };
}

function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve();
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
}

function refusal(socket: Socket): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => reject(new Error('the connection was accepted')));
    socket.once('connect_error', (err) => resolve((err as Error & { data?: { code?: string } }).data?.code));
  });
}

const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms));

describe('POST /api/display/login', () => {
  it('a screen logs in with its display token: a display session for that screen, cookie and token, audited', async () => {
    const { app, rig } = await start();
    const res = await login(app, 'A-lobby');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ token: expect.any(String), screen: 'A-lobby', user: { username: 'display:A-lobby', displayName: 'Tower A lobby', role: 'display' } });
    const cookie = res.cookies.find((c) => c.name === 'bohub_session');
    expect(cookie).toMatchObject({ value: res.json().token, httpOnly: true, sameSite: 'Strict' });
    const me = await app.inject({ url: '/api/auth/me', headers: bearer(res.json().token) });
    expect(me.json().user).toMatchObject({ username: 'display:A-lobby', role: 'display' });
    expect(rig.records.listAudit({ action: 'display.login' })).toMatchObject([{ actor: 'display:A-lobby', subject: 'A-lobby' }]);
  });

  it('a wrong token, another screen\'s token and an unknown screen all get the same 401, counted', async () => {
    const { app, hub } = await start();
    const refused = [await login(app, 'A-lobby', 'guess'), await login(app, 'A-lobby', demoDisplayToken('B-lobby')), await login(app, 'Z-9', demoDisplayToken('Z-9'))];
    expect(refused.map((r) => [r.statusCode, r.json().error.code, r.json().error.message])).toEqual(Array(3).fill([401, 'BOHUB_AUTH_FAILED', 'wrong screen or display token']));
    expect(refused.every((r) => !r.cookies.length)).toBe(true);
    expect((await hub.services.metrics.loginFailures.get()).values[0]?.value).toBe(3);
  });

  it('a screen without a token cannot log in: the same 401', async () => {
    const { app } = await start({ mutate: (raw) => void delete raw.displays.find((d: { id: string }) => d.id === 'A-lifts').tokenHash });
    const res = await login(app, 'A-lifts');
    expect([res.statusCode, res.json().error.code]).toEqual([401, 'BOHUB_AUTH_FAILED']);
  });

  it('answers 429 after repeated failures from one address', async () => {
    const { app } = await start();
    for (let i = 0; i < 5; i++) expect((await login(app, 'A-lobby', `guess-${i}`)).statusCode).toBe(401);
    const res = await login(app, 'A-lobby');
    expect([res.statusCode, res.json().error.code]).toEqual([429, 'BOHUB_RATE_LIMITED']);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    // One limit per address for both logins: guessing screen tokens does not reset the user login's.
    const user = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'operator', password: 'operator-demo-2026' } });
    expect(user.statusCode).toBe(429);
  });
});

describe('what a display token may read', () => {
  it('its own screen now (200), and nothing else: another screen and every other API get 403', async () => {
    const { app } = await start();
    const screen = bearer(await screenToken(app, 'A-lobby'));
    const own = await app.inject({ url: '/api/display/A-lobby/now', headers: screen });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ screen: 'A-lobby', tower: 'A', mode: 'normal', location: { en: 'Tower A lobby' } });
    const refused: Array<[string, string]> = [
      ['GET', '/api/display/B-lobby/now'],
      ['GET', '/api/display/A-lifts/now'],
      ['GET', '/api/display/Z-9/now'],
      ['GET', '/api/display/items'],
      ['GET', '/api/display/items/1'],
      ['POST', '/api/display/items'],
      ['PUT', '/api/display/items/1'],
      ['POST', '/api/display/items/1/submit'],
      ['POST', '/api/display/items/1/approve'],
      ['POST', '/api/display/items/1/withdraw'],
      ['GET', '/api/display/templates'],
      ['GET', '/api/display/emergency-templates'],
      ['POST', '/api/display/emergency-templates/fire-alarm~assess/approve'],
      ['GET', `/api/display/images/${'0'.repeat(64)}`],
      ['GET', '/api/alarms'],
      ['GET', '/api/incidents'],
      ['GET', '/api/runbooks'],
      ['GET', '/api/site'],
      ['GET', '/api/live/snapshot'],
      ['GET', '/api/telemetry?device=A-0101-E&point=energy_import'],
      ['GET', '/api/billing/periods'],
      ['GET', '/api/billing/tasks'],
    ];
    for (const [method, url] of refused) {
      const res = await app.inject({ method: method as 'GET', url, headers: screen, ...(method === 'GET' ? {} : { payload: {} }) });
      expect([method, url, res.statusCode, res.json().error.code]).toEqual([method, url, 403, 'BOHUB_FORBIDDEN']);
    }
  });

  it('the shared lobby user (role display, no screen) reads no screen', async () => {
    const { app } = await start();
    const res = await app.inject({ url: '/api/display/A-lobby/now', headers: await as(app, 'lobby') });
    expect(res.statusCode).toBe(403);
  });

  it('the control room previews any screen; an unknown screen is 404; no login is 401', async () => {
    const { app } = await start();
    const viewer = await as(app, 'viewer');
    expect((await now(app, 'B-lifts', viewer)).screen).toBe('B-lifts');
    const unknown = await app.inject({ url: '/api/display/Z-9/now', headers: viewer });
    expect([unknown.statusCode, unknown.json().error.code]).toEqual([404, 'BOHUB_DISPLAY_NOT_FOUND']);
    expect((await app.inject({ url: '/api/display/A-lobby/now' })).statusCode).toBe(401);
  });

  it('answers 503 when the hub runs without the display service', async () => {
    const { app } = await start({ withDisplay: false });
    const viewer = await as(app, 'viewer');
    for (const url of ['/api/display/A-lobby/now', '/api/display/items', '/api/display/templates', '/api/display/emergency-templates']) {
      const res = await app.inject({ url, headers: viewer });
      expect([url, res.statusCode, res.json().error.code]).toEqual([url, 503, 'BOHUB_DISPLAY_UNAVAILABLE']);
    }
  });
});

describe('items: reception enters, the management office approves (第七节 二.1)', () => {
  it('an operator creates and submits, the supervisor approves: only then is it on its screen, and only there', async () => {
    const { app } = await start();
    const [operator, supervisor] = [await as(app, 'operator'), await as(app, 'supervisor')];
    const id = await createItem(app, operator);
    expect((await app.inject({ url: `/api/display/items/${id}`, headers: operator })).json().item).toMatchObject({ state: 'pending', createdBy: 'operator', start: local('2026-03-09T09:00') });
    expect(entryIds(await now(app, 'A-lobby', operator))).not.toContain(`item:${id}`);

    const approved = await post(app, `/api/display/items/${id}/approve`, supervisor, { note: 'ok for this week' });
    expect([approved.statusCode, approved.json().item.state, approved.json().item.approvedBy]).toEqual([200, 'approved', 'supervisor']);
    expect(entryIds(await now(app, 'A-lobby', operator))).toContain(`item:${id}`);
    expect(entryIds(await now(app, 'B-lobby', operator))).not.toContain(`item:${id}`);
    expect((await app.inject({ url: '/api/display/items?state=approved&screen=A-lobby', headers: operator })).json().items.map((i: { id: number }) => i.id)).toEqual([id]);
    expect((await app.inject({ url: '/api/display/items?screen=B-lobby', headers: operator })).json().items).toEqual([]);
  });

  it('a draft stays off the screens until submitted and approved; editing an approved item sends it back', async () => {
    const { app } = await start();
    const [operator, supervisor] = [await as(app, 'operator'), await as(app, 'supervisor')];
    const created = await post(app, '/api/display/items', operator, item());
    expect([created.statusCode, created.json().item.state]).toEqual([201, 'draft']);
    const id = created.json().item.id as number;
    expect((await post(app, `/api/display/items/${id}/submit`, operator)).json().item.state).toBe('pending');
    await post(app, `/api/display/items/${id}/approve`, supervisor);
    const edited = await app.inject({ method: 'PUT', url: `/api/display/items/${id}`, headers: operator, payload: item({ title: { zh: '改', en: 'Changed' } }) });
    expect([edited.statusCode, edited.json().item.state]).toEqual([200, 'pending']);
    expect(entryIds(await now(app, 'A-lobby', operator))).not.toContain(`item:${id}`);
  });

  it('a viewer may not create (403), an operator may not approve (403); reject and withdraw take a reason', async () => {
    const { app } = await start();
    const [viewer, operator, supervisor] = [await as(app, 'viewer'), await as(app, 'operator'), await as(app, 'supervisor')];
    expect((await post(app, '/api/display/items', viewer, item())).statusCode).toBe(403);
    const id = await createItem(app, operator);
    expect((await post(app, `/api/display/items/${id}/approve`, operator)).statusCode).toBe(403);
    expect((await post(app, `/api/display/items/${id}/reject`, operator, { reason: 'x' })).statusCode).toBe(403);
    const noReason = await post(app, `/api/display/items/${id}/reject`, supervisor, {});
    expect([noReason.statusCode, noReason.json().error.code, noReason.json().error.message]).toEqual([400, 'BOHUB_BAD_REQUEST', expect.stringMatching(/^reason:/)]);
    expect((await post(app, `/api/display/items/${id}/reject`, supervisor, { reason: 'wrong floor' })).json().item.state).toBe('draft');
    expect((await post(app, `/api/display/items/${id}/withdraw`, operator, { reason: 'not needed' })).json().item.state).toBe('withdrawn');
  });

  it('refuses bad bodies with 400 naming the field, and an unknown item with 404', async () => {
    const { app } = await start();
    const operator = await as(app, 'operator');
    const bad = [
      await post(app, '/api/display/items', operator, item({ title: { zh: '只有中文' } })),
      await post(app, '/api/display/items', operator, item({ start: '2026-03-09 09:00' })),
      await post(app, '/api/display/items', operator, item({ planSlot: 3 })),
    ];
    expect(bad.map((r) => [r.statusCode, r.json().error.code, r.json().error.message.split(':')[0]])).toEqual([
      [400, 'BOHUB_BAD_REQUEST', 'title.en'],
      [400, 'BOHUB_BAD_REQUEST', 'start'],
      [400, 'BOHUB_BAD_REQUEST', 'planSlot'],
    ]);
    const missing = await app.inject({ url: '/api/display/items/999', headers: operator });
    expect([missing.statusCode, missing.json().error.code]).toEqual([404, 'BOHUB_DISPLAY_NOT_FOUND']);
  });

  it('an urgent notice is approved only with the director\'s consent (第七节 二.3), which is recorded', async () => {
    const { app } = await start();
    const [operator, supervisor] = [await as(app, 'operator'), await as(app, 'supervisor')];
    const id = await createItem(app, operator, { urgent: true, priority: 3 });
    const refused = await post(app, `/api/display/items/${id}/approve`, supervisor, {});
    expect([refused.statusCode, refused.json().error.code]).toEqual([400, 'BOHUB_BAD_REQUEST']);
    const ok = await post(app, `/api/display/items/${id}/approve`, supervisor, { directorConsent: { director: 'Director Wang', note: 'by phone 10:05' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().item.directorConsent).toMatchObject({ director: 'Director Wang', note: 'by phone 10:05', recordedBy: 'supervisor' });
  });
});

describe('templates', () => {
  it('reception fills in a handbook template: a draft with the values in its text', async () => {
    const { app } = await start();
    const operator = await as(app, 'operator');
    const templates = (await app.inject({ url: '/api/display/templates', headers: operator })).json().templates;
    expect(templates.map((t: { id: string }) => t.id)).toEqual(expect.arrayContaining(['holiday-notice', 'outage-notice', 'pest-control']));
    const { title, body, ...schedule } = item();
    void title, void body;
    const values = { holiday: '清明节', 'holiday-en': 'Qingming', from: '4月4日', to: '4月6日', 'duty-phone': '6600 0000' };
    const res = await post(app, '/api/display/items/from-template', operator, { template: 'holiday-notice', values, ...schedule });
    expect(res.statusCode).toBe(201);
    expect(res.json().item).toMatchObject({ state: 'draft', template: 'holiday-notice', title: { zh: '清明节放假通知', en: 'Qingming holiday notice' } });
    const missing = await post(app, '/api/display/items/from-template', operator, { template: 'holiday-notice', values: { holiday: '清明节' }, ...schedule });
    expect([missing.statusCode, missing.json().error.code]).toEqual([400, 'BOHUB_BAD_REQUEST']);
  });

  it('the supervisor approves an emergency template, named runbook~step or with %2F; an operator may not', async () => {
    const { app } = await start();
    const [operator, supervisor] = [await as(app, 'operator'), await as(app, 'supervisor')];
    const list = (await app.inject({ url: '/api/display/emergency-templates', headers: operator })).json().templates as Array<{ id: string; approved: boolean }>;
    expect(list.find((t) => t.id === 'fire-alarm/assess')).toMatchObject({ runbook: 'fire-alarm', step: 'assess', approved: false, priority: 1 });
    const other = list.find((t) => t.id !== 'fire-alarm/assess')!;
    expect((await post(app, '/api/display/emergency-templates/fire-alarm~assess/approve', operator, { note: 'x' })).statusCode).toBe(403);
    const tilde = await post(app, '/api/display/emergency-templates/fire-alarm~assess/approve', supervisor, { note: 'approved in advance' });
    expect([tilde.statusCode, tilde.json().template]).toEqual([200, expect.objectContaining({ id: 'fire-alarm/assess', approved: true, approvedBy: 'supervisor' })]);
    const encoded = await post(app, `/api/display/emergency-templates/${encodeURIComponent(other.id)}/approve`, supervisor, { note: 'approved in advance' });
    expect([encoded.statusCode, encoded.json().template.id]).toEqual([200, other.id]);
    const unknown = await post(app, '/api/display/emergency-templates/fire-alarm~nope/approve', supervisor, { note: 'x' });
    expect(unknown.statusCode).toBe(404);
  });
});

describe('images', () => {
  // The smallest valid PNG: 1x1, transparent.
  const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

  it('an approved item\'s image is served to its own screen with a long cache, and refused to another screen', async () => {
    const { app } = await start();
    const [operator, supervisor] = [await as(app, 'operator'), await as(app, 'supervisor')];
    const id = await createItem(app, operator, { image: { mime: 'image/png', base64: PNG } });
    const sha = (await post(app, `/api/display/items/${id}/approve`, supervisor)).json().item.image as string;
    expect(sha).toMatch(/^[0-9a-f]{64}$/);
    const own = await app.inject({ url: `/api/display/images/${sha}`, headers: bearer(await screenToken(app, 'A-lobby')) });
    expect([own.statusCode, own.headers['content-type'], own.headers['cache-control']]).toEqual([200, 'image/png', IMAGE_CACHE]);
    expect(own.rawPayload.equals(Buffer.from(PNG, 'base64'))).toBe(true);
    const other = await app.inject({ url: `/api/display/images/${sha}`, headers: bearer(await screenToken(app, 'B-lobby')) });
    expect([other.statusCode, other.json().error.code]).toEqual([403, 'BOHUB_FORBIDDEN']);
    expect((await app.inject({ url: `/api/display/images/${'a'.repeat(64)}`, headers: operator })).statusCode).toBe(404);
  });
});

describe('the lobby page', () => {
  it('GET /lobby/A-lobby serves the kiosk page with the app\'s CSP; an unknown screen is 404', async () => {
    const { app } = await start();
    const page = await app.inject({ url: '/lobby/A-lobby' });
    expect([page.statusCode, page.headers['content-type']]).toEqual([200, 'text/html; charset=utf-8']);
    expect(page.body).toContain('/lobby.js');
    expect(page.headers['content-security-policy']).toMatch(/^default-src 'self'/);
    expect(page.headers['x-frame-options']).toBe('DENY');
    const unknown = await app.inject({ url: '/lobby/Z-9' });
    expect([unknown.statusCode, unknown.json().error.code]).toEqual([404, 'BOHUB_NOT_FOUND']);
  });
});

describe('the /display push', () => {
  async function listening() {
    const started = await start();
    const url = await started.app.listen({ port: 0, host: '127.0.0.1' });
    return { ...started, url };
  }

  it('refuses no login, a screen token naming another screen, and a preview without a screen', async () => {
    const { app, url } = await listening();
    const token = await screenToken(app, 'A-lobby');
    expect(await refusal(screenSocket(url, {}).socket)).toBe('BOHUB_AUTH_REQUIRED');
    expect(await refusal(screenSocket(url, { token, screen: 'B-lobby' }).socket)).toBe('BOHUB_FORBIDDEN');
    expect(await refusal(screenSocket(url, { token: await userToken(app, 'viewer') }).socket)).toBe('BOHUB_FORBIDDEN');
    expect(await refusal(screenSocket(url, { token: await userToken(app, 'viewer'), screen: 'Z-9' }).socket)).toBe('BOHUB_DISPLAY_NOT_FOUND');
  });

  it('sends the screen at once on connect; a preview gets the screen it names', async () => {
    const { app, url } = await listening();
    const own = screenSocket(url, { token: await screenToken(app, 'A-lobby') });
    const preview = screenSocket(url, { token: await userToken(app, 'viewer'), screen: 'B-lifts' });
    await waitFor('both first frames', () => own.frames.length === 1 && preview.frames.length === 1);
    expect([own.frames[0]!.screen, preview.frames[0]!.screen]).toEqual(['A-lobby', 'B-lifts']);
  });

  it('an approval is pushed to its screen\'s sockets and to the control room, and not to other screens', async () => {
    const { app, url } = await listening();
    const a = screenSocket(url, { token: await screenToken(app, 'A-lobby') });
    const b = screenSocket(url, { token: await screenToken(app, 'B-lobby') });
    const room: Socket<ServerToClientEvents> = connect(url, { transports: ['websocket'], reconnection: false, auth: { token: await userToken(app, 'viewer') } });
    clients.push(room);
    const changes: Array<{ screens: string[] }> = [];
    room.on('display.changed', (c) => changes.push(c));
    await Promise.all([connected(a.socket), connected(b.socket), connected(room)]);
    await waitFor('first frames', () => a.frames.length === 1 && b.frames.length === 1);

    const [operator, supervisor] = [await as(app, 'operator'), await as(app, 'supervisor')];
    const id = await createItem(app, operator);
    await post(app, `/api/display/items/${id}/approve`, supervisor);
    await waitFor('the item on A-lobby', () => a.frames.some((f) => entryIds(f).includes(`item:${id}`)));
    await waitFor('the control room told', () => changes.some((c) => c.screens.includes('A-lobby')));
    await settle();
    // B-lobby's socket got its first frame and nothing since: the change was not on its screen.
    expect(b.frames).toHaveLength(1);
  });

  it('a fire alarm in tower A overrides A-lobby at once with the evacuation notice, not B-lobby, until the incident is stabilised', async () => {
    const { app, url, rig } = await listening();
    await post(app, '/api/display/emergency-templates/fire-alarm~assess/approve', await as(app, 'supervisor'), { note: 'approved in advance' });
    const a = screenSocket(url, { token: await screenToken(app, 'A-lobby') });
    const b = screenSocket(url, { token: await screenToken(app, 'B-lobby') });
    await waitFor('first frames', () => a.frames.length === 1 && b.frames.length === 1);
    const sent = Date.now();
    rig.signal('FZ-A-01', 'alarm');
    const frame = await waitFor('the emergency on A-lobby', () => a.frames.find((f) => f.mode === 'emergency'), 1000);
    expect(Date.now() - sent).toBeLessThan(1000);
    expect(frame.entries[0]).toMatchObject({ kind: 'emergency', priority: 1, title: expect.anything() });
    expect(JSON.stringify(frame.entries)).toContain('do not use the lifts');
    await settle();
    expect(b.frames.map((f) => f.mode)).toEqual(['normal']);

    // The notice comes down when the incident is stabilised (the runbook's lobby.until), pushed at once.
    const incident = rig.only();
    const stabilised = await post(app, `/api/incidents/${incident.id}/stabilise`, await as(app, 'operator'), { note: 'fire out' });
    expect(stabilised.statusCode).toBe(200);
    const back = await waitFor('A-lobby back to normal', () => a.frames.slice(a.frames.indexOf(frame)).find((f) => f.mode === 'normal'), 1000);
    expect(back.entries.every((e) => e.kind === 'item')).toBe(true);
  });

  it('drops a screen\'s socket when its session logs out', async () => {
    const { app, url } = await listening();
    const token = await screenToken(app, 'A-lobby');
    const { socket } = screenSocket(url, { token });
    await connected(socket);
    const dropped = new Promise((resolve) => socket.once('disconnect', resolve));
    await app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(token) });
    await dropped;
  });
});
