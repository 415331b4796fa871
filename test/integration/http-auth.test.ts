import type { FastifyInstance } from 'fastify';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORDS } from '../../gateway/auth/passwords.ts';
import { ManualClock } from '../../gateway/clock.ts';
import { loadConfig, type LoadedConfig } from '../../gateway/config/load.ts';
import { buildApp } from '../../gateway/http/app.ts';
import { DEMO_CONFIG_FILE, fakeHub, type FakeHub } from '../helpers/fake-stores.ts';

// The HTTP layer's access rules, through app.inject (no socket).

let config: LoadedConfig;
let app: FastifyInstance | undefined;

beforeAll(() => {
  config = loadConfig(DEMO_CONFIG_FILE);
});

afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function start(extraRoutes?: (app: FastifyInstance) => void): Promise<{ app: FastifyInstance; hub: FakeHub; clock: ManualClock }> {
  const clock = new ManualClock(Date.UTC(2026, 2, 1, 8));
  const hub = fakeHub({ config, clock });
  app = await buildApp(hub.services);
  extraRoutes?.(app);
  await app.ready();
  return { app, hub, clock };
}

/** The user names are the role names, except the lobby screen's user (DEMO_PASSWORDS is keyed by role). */
function login(app: FastifyInstance, username: string, password = DEMO_PASSWORDS[username === 'lobby' ? 'display' : username]!, remoteAddress = '10.0.0.1') {
  return app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password }, remoteAddress });
}

async function tokenFor(app: FastifyInstance, username: string): Promise<string> {
  const res = await login(app, username);
  expect(res.statusCode).toBe(200);
  return res.json().token as string;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('login', () => {
  it('answers a token, the user and the expiry, and sets the session cookie', async () => {
    const { app, hub, clock } = await start();
    const res = await login(app, 'operator');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.user).toEqual({ username: 'operator', displayName: '消防中心值班员', role: 'operator' });
    expect(Date.parse(body.expiresAt)).toBe(clock.now() + config.building.web.sessionTtlMinutes * 60_000);
    const cookie = res.cookies.find((c) => c.name === 'bohub_session');
    expect(cookie).toMatchObject({ value: body.token, httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(hub.records.listAudit({ action: 'auth.login' })).toMatchObject([{ actor: 'operator', subject: 'operator' }]);
  });

  it('accepts the session cookie', async () => {
    const { app } = await start();
    const token = await tokenFor(app, 'viewer');
    const res = await app.inject({ url: '/api/auth/me', cookies: { bohub_session: token } });
    expect(res.statusCode).toBe(200);
    expect(res.json().user.username).toBe('viewer');
  });

  it('accepts the token as a bearer token', async () => {
    const { app } = await start();
    const token = await tokenFor(app, 'viewer');
    const res = await app.inject({ url: '/api/site', headers: bearer(token) });
    expect(res.statusCode).toBe(200);
    expect(res.json().site.name).toEqual({ zh: '联合广场', en: 'Union Plaza' });
  });

  it('refuses a wrong password with 401, counts it and audits it', async () => {
    const { app, hub } = await start();
    const res = await login(app, 'operator', 'not-the-password');
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: { code: 'BOHUB_AUTH_FAILED', message: expect.any(String) } });
    expect(res.cookies).toHaveLength(0);
    expect((await hub.services.metrics.loginFailures.get()).values[0]?.value).toBe(1);
    expect(hub.records.listAudit({ action: 'auth.login_failed' })).toMatchObject([{ subject: 'operator' }]);
  });

  it('refuses an unknown user with the same 401', async () => {
    const { app } = await start();
    const res = await login(app, 'nobody', 'whatever');
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('BOHUB_AUTH_FAILED');
  });

  it('refuses a malformed body with 400', async () => {
    const { app } = await start();
    const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'operator' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('BOHUB_BAD_REQUEST');
  });

  it('answers 429 with Retry-After to the attempt after loginAttemptsPerMinute failures, per address', async () => {
    const { app, clock } = await start();
    const limit = config.building.web.loginAttemptsPerMinute;
    for (let i = 0; i < limit; i++) expect((await login(app, 'admin', 'guess' + i, '10.0.0.66')).statusCode).toBe(401);
    const blocked = await login(app, 'admin', undefined, '10.0.0.66');
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().error.code).toBe('BOHUB_RATE_LIMITED');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(60);
    // Another address is not affected, and the blocked one may try again after a minute.
    expect((await login(app, 'admin', undefined, '10.0.0.67')).statusCode).toBe(200);
    clock.advance(60_000);
    expect((await login(app, 'admin', undefined, '10.0.0.66')).statusCode).toBe(200);
  });
});

describe('sessions', () => {
  it('ends at logout', async () => {
    const { app } = await start();
    const token = await tokenFor(app, 'viewer');
    const out = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(token) });
    expect(out.statusCode).toBe(204);
    expect((await app.inject({ url: '/api/auth/me', headers: bearer(token) })).statusCode).toBe(401);
  });

  it('expires after sessionTtlMinutes on the injected clock', async () => {
    const { app, clock } = await start();
    const token = await tokenFor(app, 'viewer');
    clock.advance(config.building.web.sessionTtlMinutes * 60_000 - 1);
    expect((await app.inject({ url: '/api/auth/me', headers: bearer(token) })).statusCode).toBe(200);
    clock.advance(1);
    expect((await app.inject({ url: '/api/auth/me', headers: bearer(token) })).statusCode).toBe(401);
  });
});

describe('access control', () => {
  it.each(['/api/site', '/api/live/snapshot', '/api/telemetry?device=A-0101-E&point=energy_import&from=0&to=1000', '/api/auth/me'])(
    'answers 401 without a session: %s',
    async (url) => {
      const { app } = await start();
      const res = await app.inject({ url });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('BOHUB_AUTH_REQUIRED');
    },
  );

  it('answers 403 to a role that is not allowed (the lobby screen on /api/site)', async () => {
    const { app } = await start();
    const token = await tokenFor(app, 'lobby');
    const res = await app.inject({ url: '/api/site', headers: bearer(token) });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('BOHUB_FORBIDDEN');
  });

  it('refuses with 403, to everyone, a route that declares neither public nor roles', async () => {
    const { app } = await start((a) => a.get('/api/forgotten', async () => ({ secret: true })));
    expect((await app.inject({ url: '/api/forgotten' })).statusCode).toBe(403);
    const admin = await app.inject({ url: '/api/forgotten', headers: bearer(await tokenFor(app, 'admin')) });
    expect(admin.statusCode).toBe(403);
    expect(admin.json().error.code).toBe('BOHUB_FORBIDDEN');
  });

  it('shows tenant contact phone numbers to operators but not to viewers', async () => {
    const { app } = await start();
    const asViewer = (await app.inject({ url: '/api/site', headers: bearer(await tokenFor(app, 'viewer')) })).body;
    const asOperator = (await app.inject({ url: '/api/site', headers: bearer(await tokenFor(app, 'operator')) })).body;
    expect(asOperator).toContain('021-60001000');
    expect(asViewer).toContain('申城咖啡');
    expect(asViewer).not.toContain('021-60001000');
    expect(asViewer).not.toContain('13800000000');
  });
});

describe('data routes', () => {
  it('lists every tower, unit and meter with its billing point in /api/site', async () => {
    const { app } = await start();
    const site = (await app.inject({ url: '/api/site', headers: bearer(await tokenFor(app, 'finance')) })).json();
    const units = site.towers.flatMap((t: any) => t.floors.flatMap((f: any) => f.units));
    expect(units).toHaveLength(136);
    expect(units.flatMap((u: any) => u.meters)).toHaveLength(272);
    expect(units.find((u: any) => u.id === 'A-0101')).toMatchObject({
      areaM2: 180,
      tenant: { company: '申城咖啡' },
      meters: [{ id: 'A-0101-E', kind: 'electricity', point: 'energy_import', unit: 'kWh' }, { id: 'A-0101-W', kind: 'water', point: 'volume', unit: 'm³' }],
    });
    // Each safety signal with its tower, so the overview files it without guessing from the id.
    expect(site.signals.find((s: any) => s.id === 'FZ-B-12')).toEqual({ id: 'FZ-B-12', kind: 'fire-zone', tower: 'B', floor: 12 });
    expect(site.signals.find((s: any) => s.id === 'PF-A-1')).toMatchObject({ kind: 'power-feeder', tower: 'A' });
    expect(new Set(site.signals.map((s: any) => s.kind))).toEqual(new Set(['fire-zone', 'leak', 'power-feeder', 'gas']));
    // The lobby screens, for the content pages; never their token hashes.
    expect(site.displays.map((d: any) => d.id)).toEqual(expect.arrayContaining(['A-lobby', 'B-lobby']));
    expect(JSON.stringify(site.displays)).not.toContain('tokenHash');
  });

  it('serves the latest values in /api/live/snapshot', async () => {
    const { app, hub } = await start();
    const value = { device: 'A-0101-E', point: 'energy_import', value: 1234.5, unit: 'kWh', quality: 'good' as const, sourceTime: 1 };
    hub.services.events.emit('meter.values', { device: 'A-0101-E', values: [value] });
    const res = await app.inject({ url: '/api/live/snapshot', headers: bearer(await tokenFor(app, 'viewer')) });
    expect(res.json()).toMatchObject({ values: [value], devices: [] });
  });

  it('queries the telemetry store for one point and validates the query', async () => {
    const { app, hub } = await start();
    await hub.telemetry.write([{ measurement: 'meter', tags: { device: 'A-0101-E', point: 'energy_import' }, value: 7, quality: 'good', time: 500 }]);
    const headers = bearer(await tokenFor(app, 'viewer'));
    const ok = await app.inject({ url: '/api/telemetry?device=A-0101-E&point=energy_import&from=0&to=1000&limit=10', headers });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().series).toMatchObject([{ points: [[500, 7]] }]);
    expect(hub.telemetry.queries.at(-1)).toEqual({ measurement: 'meter', tags: { device: 'A-0101-E', point: 'energy_import' }, from: 0, to: 1000, limit: 10 });
    for (const bad of ['device=A-0101-E&from=0&to=1000', 'device=A-0101-E&point=energy_import&from=1000&to=0', 'device=A-0101-E&point=energy_import&from=x&to=1000']) {
      const res = await app.inject({ url: `/api/telemetry?${bad}`, headers });
      expect(res.statusCode, bad).toBe(400);
    }
  });
});

describe('health and metrics', () => {
  it('serves services.health() publicly, 200 when degraded and 503 when down', async () => {
    const { app, hub } = await start();
    hub.setHealth({ status: 'degraded', components: { modbus: { status: 'degraded', detail: '3 meters offline' } } });
    const degraded = await app.inject({ url: '/api/health' });
    expect(degraded.statusCode).toBe(200);
    expect(degraded.json()).toEqual({ status: 'degraded', components: { modbus: { status: 'degraded', detail: '3 meters offline' } } });
    hub.setHealth({ status: 'down', components: { records: { status: 'down', detail: 'disk full' } } });
    const down = await app.inject({ url: '/api/health' });
    expect(down.statusCode).toBe(503);
    expect(down.json().status).toBe('down');
  });

  it('serves Prometheus text at /metrics without a login', async () => {
    const { app } = await start();
    await login(app, 'admin', 'wrong');
    const res = await app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toContain('# TYPE bohub_login_failures_total counter');
    expect(res.body).toMatch(/^bohub_login_failures_total 1$/m);
    expect(res.body).toContain('bohub_socket_clients');
  });
});
