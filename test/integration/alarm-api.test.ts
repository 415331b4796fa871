import type { FastifyInstance } from 'fastify';
import { io as connect, type Socket } from 'socket.io-client';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AlarmEngine } from '../../gateway/alarms/engine.ts';
import type { AlarmChange } from '../../gateway/alarms/types.ts';
import { DEMO_PASSWORDS } from '../../gateway/auth/passwords.ts';
import { ManualClock } from '../../gateway/clock.ts';
import { loadConfig, type LoadedConfig } from '../../gateway/config/load.ts';
import type { SignalState } from '../../gateway/events.ts';
import { buildApp } from '../../gateway/http/app.ts';
import type { ServerToClientEvents } from '../../gateway/http/live-types.ts';
import { silentLogger } from '../../gateway/log.ts';
import { SqliteRecordStore } from '../../gateway/storage/records.ts';
import { tempDir } from '../helpers/config.ts';
import { DEMO_CONFIG_FILE, fakeHub } from '../helpers/fake-stores.ts';

// The alarm API through app.inject, and 'alarm.changed' over a real socket.io
// connection. The alarm engine runs on a real records store in a temp dir.

let config: LoadedConfig;
let app: FastifyInstance | undefined;
let cleanup: Array<() => Promise<void> | void> = [];

beforeAll(() => {
  config = loadConfig(DEMO_CONFIG_FILE);
});

afterEach(async () => {
  await app?.close();
  app = undefined;
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

async function start(options: { withEngine?: boolean } = {}) {
  const clock = new ManualClock(Date.UTC(2026, 2, 1, 14, 40));
  const hub = fakeHub({ config, clock });
  const records = SqliteRecordStore.open(tempDir(), clock);
  hub.services.records = records;
  const engine = new AlarmEngine({ config, records, events: hub.services.events, clock, log: silentLogger });
  if (options.withEngine !== false) {
    await engine.start();
    hub.services.alarms = engine;
  }
  cleanup.push(() => engine.stop(), () => records.close());
  app = await buildApp(hub.services);
  await app.ready();
  let seq = 0;
  const signal = (id: string, kind: SignalState['kind'], state: string) =>
    hub.services.events.emit('signal.state', { signal: id, kind, state, sourceTime: clock.now(), seq: ++seq, retained: false });
  return { app, hub, records, engine, signal };
}

async function tokenFor(app: FastifyInstance, username: string): Promise<string> {
  const password = DEMO_PASSWORDS[username === 'lobby' ? 'display' : username];
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });
  expect(res.statusCode).toBe(200);
  return res.json().token as string;
}

const as = async (app: FastifyInstance, username: string) => ({ authorization: `Bearer ${await tokenFor(app, username)}` });

describe('GET /api/alarms', () => {
  it('needs a session (401) and a data role (403 for the lobby screen)', async () => {
    const { app } = await start();
    expect((await app.inject({ url: '/api/alarms' })).statusCode).toBe(401);
    const res = await app.inject({ url: '/api/alarms', headers: await as(app, 'lobby') });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('BOHUB_FORBIDDEN');
  });

  it('lists active and cleared-unacknowledged alarms, fire first, for a viewer', async () => {
    const { app, signal } = await start();
    signal('PF-A-1', 'power-feeder', 'off');
    signal('PF-A-1', 'power-feeder', 'on');
    signal('LK-A-B1-PUMP', 'leak', 'wet');
    signal('FZ-B-12', 'fire-zone', 'alarm');
    const res = await app.inject({ url: '/api/alarms', headers: await as(app, 'viewer') });
    expect(res.statusCode).toBe(200);
    // The leak is still inside its on-delay (5 s by default): not an alarm yet.
    expect(res.json().alarms.map((a: { kind: string; state: string }) => [a.kind, a.state])).toEqual([
      ['fire', 'active-unacknowledged'],
      ['power-loss', 'cleared-unacknowledged'],
    ]);
  });

  it('filters by state and refuses an unknown one', async () => {
    const { app, signal } = await start();
    signal('FZ-B-12', 'fire-zone', 'alarm');
    signal('PF-A-1', 'power-feeder', 'off');
    signal('PF-A-1', 'power-feeder', 'on');
    const headers = await as(app, 'viewer');
    const res = await app.inject({ url: '/api/alarms?state=cleared-unacknowledged', headers });
    expect(res.json().alarms.map((a: { kind: string }) => a.kind)).toEqual(['power-loss']);
    expect((await app.inject({ url: '/api/alarms?state=gone', headers })).statusCode).toBe(400);
  });

  it('answers 503 when the hub runs without the alarm engine', async () => {
    const { app } = await start({ withEngine: false });
    const res = await app.inject({ url: '/api/alarms', headers: await as(app, 'viewer') });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('BOHUB_ALARMS_UNAVAILABLE');
  });
});

describe('POST /api/alarms/:id/ack and /reset', () => {
  it('an operator acknowledges with a comment, audited under their name; a viewer may not', async () => {
    const { app, records, signal, engine } = await start();
    signal('FZ-B-12', 'fire-zone', 'alarm');
    const id = engine.list()[0]!.id;
    expect((await app.inject({ method: 'POST', url: `/api/alarms/${id}/ack`, payload: { comment: 'x' }, headers: await as(app, 'viewer') })).statusCode).toBe(403);
    expect((await app.inject({ method: 'POST', url: `/api/alarms/${id}/ack`, payload: { comment: 'x' } })).statusCode).toBe(401);
    const operator = await as(app, 'operator');
    const noComment = await app.inject({ method: 'POST', url: `/api/alarms/${id}/ack`, payload: { comment: '  ' }, headers: operator });
    expect(noComment.statusCode).toBe(400);
    expect(noComment.json().error.message).toMatch(/comment/);
    const res = await app.inject({ method: 'POST', url: `/api/alarms/${id}/ack`, payload: { comment: 'going to 12F' }, headers: operator });
    expect(res.statusCode).toBe(200);
    expect(res.json().alarm).toMatchObject({ id, state: 'active-acknowledged', ack: { by: 'operator', comment: 'going to 12F' } });
    expect(records.listAudit({ action: 'alarm.ack' })).toMatchObject([{ actor: 'operator', subject: `alarm/${id}`, after: { comment: 'going to 12F' } }]);
    const again = await app.inject({ method: 'POST', url: `/api/alarms/${id}/ack`, payload: { comment: 'again' }, headers: operator });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('BOHUB_ALARM_STATE');
  });

  it('resets a latched fire after it is normal and acknowledged, and says why it cannot before', async () => {
    const { app, signal, engine } = await start();
    signal('FZ-B-12', 'fire-zone', 'alarm');
    const id = engine.list()[0]!.id;
    const operator = await as(app, 'operator');
    const early = await app.inject({ method: 'POST', url: `/api/alarms/${id}/reset`, payload: { comment: 'reset' }, headers: operator });
    expect(early.statusCode).toBe(409);
    expect(early.json().error.message).toMatch(/still in alarm/);
    signal('FZ-B-12', 'fire-zone', 'normal');
    await app.inject({ method: 'POST', url: `/api/alarms/${id}/ack`, payload: { comment: 'false alarm confirmed' }, headers: operator });
    const res = await app.inject({ method: 'POST', url: `/api/alarms/${id}/reset`, payload: { comment: 'panel reset' }, headers: operator });
    expect(res.statusCode).toBe(200);
    expect(res.json().alarm.state).toBe('normal');
    expect((await app.inject({ method: 'POST', url: '/api/alarms/999/reset', payload: { comment: 'x' }, headers: operator })).statusCode).toBe(404);
  });
});

describe('POST /api/alarms/:id/shelve', () => {
  it('supervisors shelve a leak; operators may not; nobody shelves a fire', async () => {
    const { app, signal, engine, records } = await start();
    signal('FZ-B-12', 'fire-zone', 'alarm');
    signal('PF-A-1', 'power-feeder', 'off');
    const [fire, power] = engine.list();
    const body = { reason: 'feeder under planned maintenance', minutes: 30 };
    expect((await app.inject({ method: 'POST', url: `/api/alarms/${power!.id}/shelve`, payload: body, headers: await as(app, 'operator') })).statusCode).toBe(403);
    const supervisor = await as(app, 'supervisor');
    const res = await app.inject({ method: 'POST', url: `/api/alarms/${power!.id}/shelve`, payload: body, headers: supervisor });
    expect(res.statusCode).toBe(200);
    expect(res.json().alarm.shelved).toMatchObject({ by: 'supervisor', reason: body.reason });
    expect(records.listAudit({ action: 'alarm.shelve' })).toMatchObject([{ actor: 'supervisor', after: { reason: body.reason, minutes: 30 } }]);
    const refused = await app.inject({ method: 'POST', url: `/api/alarms/${fire!.id}/shelve`, payload: body, headers: supervisor });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({ code: 'BOHUB_ALARM_NOT_SHELVABLE', message: expect.stringMatching(/fire alarms are never shelved/) });
    expect((await app.inject({ method: 'POST', url: `/api/alarms/${power!.id}/shelve`, payload: { reason: 'x' }, headers: supervisor })).statusCode).toBe(400);
  });
});

describe('socket.io', () => {
  it("pushes 'alarm.changed' to an authorised client at once", async () => {
    const { app, signal } = await start();
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const socket: Socket<ServerToClientEvents> = connect(url, { transports: ['websocket'], reconnection: false, auth: { token: await tokenFor(app, 'viewer') } });
    cleanup.push(() => void socket.close());
    await new Promise<void>((resolve, reject) => (socket.once('connect', resolve), socket.once('connect_error', reject)));
    const received = new Promise<AlarmChange>((resolve) => socket.once('alarm.changed', resolve));
    signal('FZ-B-12', 'fire-zone', 'alarm');
    expect(await received).toMatchObject({ change: 'raised', notify: true, alarm: { kind: 'fire', source: 'FZ-B-12', state: 'active-unacknowledged' } });
  });
});
