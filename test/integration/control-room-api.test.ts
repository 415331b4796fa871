import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { io as connect, type Socket } from 'socket.io-client';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORDS, demoDisplayToken } from '../../gateway/auth/passwords.ts';
import { ManualClock } from '../../gateway/clock.ts';
import { loadConfig, type LoadedConfig } from '../../gateway/config/load.ts';
import type { AuditReply, DevicesReply } from '../../gateway/http/api-types.ts';
import { buildApp } from '../../gateway/http/app.ts';
import { PERMISSIONS } from '../../gateway/http/permissions.ts';
import { SqliteRecordStore } from '../../gateway/storage/records.ts';
import type { StoredAuditEntry } from '../../gateway/storage/types.ts';
import { tempDir } from '../helpers/config.ts';
import { DEMO_CONFIG_FILE, fakeHub, type FakeHub } from '../helpers/fake-stores.ts';
import { waitFor } from '../helpers/ports.ts';

// The control room's own routes (issue 8) through app.inject, over the real records
// store: GET /api/audit, GET /api/devices, the permissions in GET /api/auth/me, and
// the live socket refusing whatever a client sends up it.

let config: LoadedConfig;
let app: FastifyInstance | undefined;
let records: SqliteRecordStore | undefined;
const sockets: Socket[] = [];

beforeAll(() => {
  config = loadConfig(DEMO_CONFIG_FILE);
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await app?.close();
  records?.close();
  app = records = undefined;
});

async function start(): Promise<{ app: FastifyInstance; hub: FakeHub; records: SqliteRecordStore; logs: Array<{ level: number; msg: string; event?: string }> }> {
  const hub = fakeHub({ config, clock: new ManualClock(Date.UTC(2026, 2, 1, 8)) });
  records = SqliteRecordStore.open(tempDir());
  hub.services.records = records;
  const logs: Array<{ level: number; msg: string; event?: string }> = [];
  hub.services.log = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) });
  app = await buildApp(hub.services);
  await app.ready();
  return { app, hub, records, logs };
}

async function tokenFor(app: FastifyInstance, username: string): Promise<string> {
  const password = DEMO_PASSWORDS[username === 'lobby' ? 'display' : username];
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });
  expect(res.statusCode).toBe(200);
  return res.json().token as string;
}

const get = (app: FastifyInstance, url: string, token?: string) => app.inject({ url, ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) });

describe('GET /api/auth/me and the login answer: what the role may do', () => {
  it.each([
    ['viewer', ['building.read'], ['alarms.ack', 'alarms.shelve', 'billing.read', 'audit.read']],
    ['operator', ['building.read', 'alarms.ack', 'incidents.start', 'incidents.step'], ['alarms.shelve', 'billing.edit', 'audit.read']],
    ['finance', ['building.read', 'billing.read', 'billing.run', 'billing.edit'], ['alarms.ack', 'audit.read']],
    ['supervisor', ['alarms.ack', 'alarms.shelve', 'audit.read', 'display.approve'], []],
    // Bills are edited by finance and supervisors (BILLING_EDIT_ROLES), not by the admin.
    ['admin', PERMISSIONS.filter((p) => p !== 'billing.edit'), ['billing.edit']],
  ])('%s', async (role, has, lacks) => {
    const { app } = await start();
    const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: role, password: DEMO_PASSWORDS[role] } });
    const me = await get(app, '/api/auth/me', login.json().token);
    expect(me.statusCode).toBe(200);
    const body = me.json();
    expect(body.user).toMatchObject({ username: role, role });
    expect(body.permissions).toEqual(expect.arrayContaining(has));
    for (const p of lacks) expect(body.permissions).not.toContain(p);
    // Only known permissions, in PERMISSIONS order, the same in the login answer.
    expect(body.permissions).toEqual(PERMISSIONS.filter((p) => body.permissions.includes(p)));
    expect(login.json()).toMatchObject({ permissions: body.permissions, dutyPosts: body.dutyPosts });
    expect(body.dutyPosts).toEqual(expect.any(Array));
  });

  it('gives admin every duty post and a lobby screen neither permissions nor posts', async () => {
    const { app } = await start();
    const admin = (await get(app, '/api/auth/me', await tokenFor(app, 'admin'))).json();
    expect(admin.dutyPosts).toEqual(config.building.duty.roles.map((d) => d.id));
    expect(admin.dutyPosts.length).toBeGreaterThan(0);
    const operator = (await get(app, '/api/auth/me', await tokenFor(app, 'operator'))).json();
    expect(operator.dutyPosts).toEqual(config.building.duty.roles.filter((d) => d.actedBy.includes('operator')).map((d) => d.id));
    const screen = await app.inject({ method: 'POST', url: '/api/display/login', payload: { screen: 'A-lobby', token: demoDisplayToken('A-lobby') } });
    const lobby = (await get(app, '/api/auth/me', screen.json().token)).json();
    expect(lobby).toMatchObject({ permissions: [], dutyPosts: [] });
  });
});

const T0 = Date.UTC(2026, 0, 1);
const ACTIONS = ['alarm.ack', 'alarm.shelve', 'alarmist.note', 'incident.start', 'billing.run'];
const ACTORS = ['operator', 'supervisor', 'system'];

/** 30 entries, two per minute from T0, plus one written late with an early time (a clock set back). */
function seed(records: SqliteRecordStore): StoredAuditEntry[] {
  const out: StoredAuditEntry[] = [];
  for (let i = 0; i < 30; i++) {
    out.push(records.appendAudit({ actor: ACTORS[i % 3]!, action: ACTIONS[i % 5]!, subject: `A-010${i % 4}-E`, at: T0 + Math.floor(i / 2) * 60_000 }));
  }
  out.push(records.appendAudit({ actor: 'system', action: 'hub.start', subject: 'union-plaza', at: T0 + 3 * 60_000 }));
  return out;
}

const newestFirst = (entries: StoredAuditEntry[]) => [...entries].sort((a, b) => b.at - a.at || b.id - a.id);
const TO = new Date(T0 + 60 * 60_000).toISOString();

describe('GET /api/audit', () => {
  it('filters by actor, subject, exact action and action prefix, newest first', async () => {
    const { app, records } = await start();
    const token = await tokenFor(app, 'supervisor');
    const all = seed(records);
    const ask = async (query: string) => {
      const res = await get(app, `/api/audit?to=${encodeURIComponent(TO)}&${query}`, token);
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as AuditReply;
    };
    const ids = (r: AuditReply) => r.entries.map((e) => e.id);
    const expected = (pred: (e: StoredAuditEntry) => boolean) => newestFirst(all.filter(pred)).map((e) => e.id);

    expect(ids(await ask('actor=operator'))).toEqual(expected((e) => e.actor === 'operator'));
    expect(ids(await ask('subject=A-0102-E'))).toEqual(expected((e) => e.subject === 'A-0102-E'));
    expect(ids(await ask('action=alarm.ack'))).toEqual(expected((e) => e.action === 'alarm.ack'));
    // `alarm.` and `alarm.*` are every alarm action, and not `alarmist.note`.
    const alarms = expected((e) => e.action.startsWith('alarm.'));
    expect(alarms.length).toBe(12);
    expect(ids(await ask('action=alarm.'))).toEqual(alarms);
    expect(ids(await ask('action=alarm.*'))).toEqual(alarms);
    expect(ids(await ask('action=alarm*'))).toEqual(expected((e) => e.action.startsWith('alarm')));
    // A prefix is literal: `_` and `%` are not wildcards.
    expect((await ask('action=al_rm.*')).entries).toEqual([]);
    expect((await ask('action=%25.*')).entries).toEqual([]);
    // Exact means exact: no prefix match without `.` or `*`.
    expect((await ask('action=alarm')).entries).toEqual([]);
    expect(ids(await ask('actor=system&action=hub.start'))).toEqual([all.at(-1)!.id]);
    const one = (await ask('actor=operator&action=alarm.ack&subject=A-0100-E')).entries;
    expect(one.map((e) => e.id)).toEqual(expected((e) => e.actor === 'operator' && e.action === 'alarm.ack' && e.subject === 'A-0100-E'));
    expect(one[0]).toEqual(all.find((e) => e.id === one[0]!.id));
  });

  it('takes from and to as ISO times with an offset or as ms, both ends included', async () => {
    const { app, records } = await start();
    const token = await tokenFor(app, 'admin');
    const all = seed(records);
    const from = T0 + 5 * 60_000;
    const to = T0 + 8 * 60_000;
    const expected = newestFirst(all.filter((e) => e.at >= from && e.at <= to)).map((e) => e.id);
    expect(expected).toHaveLength(8);
    const iso = (ms: number) => new Date(ms + 8 * 3600_000).toISOString().replace('Z', '+08:00');
    for (const q of [`from=${from}&to=${to}`, `from=${encodeURIComponent(iso(from))}&to=${encodeURIComponent(iso(to))}`]) {
      const res = await get(app, `/api/audit?${q}`, token);
      expect(res.statusCode, q).toBe(200);
      expect(res.json().entries.map((e: StoredAuditEntry) => e.id), q).toEqual(expected);
    }
  });

  it('pages with limit and before, ties and a late entry included, never repeating or skipping one', async () => {
    const { app, records } = await start();
    const token = await tokenFor(app, 'supervisor');
    const all = seed(records);
    const seen: number[] = [];
    let before: number | undefined;
    const sizes: number[] = [];
    for (let page = 0; page < 10; page++) {
      const res = await get(app, `/api/audit?to=${encodeURIComponent(TO)}&limit=7${before ? `&before=${before}` : ''}`, token);
      expect(res.statusCode).toBe(200);
      const body = res.json() as AuditReply;
      sizes.push(body.entries.length);
      seen.push(...body.entries.map((e) => e.id));
      if (body.next === undefined) break;
      expect(body.next).toBe(body.entries.at(-1)!.id);
      before = body.next;
    }
    expect(sizes).toEqual([7, 7, 7, 7, 3]);
    expect(seen).toEqual(newestFirst(all).map((e) => e.id));
    // Exactly a full last page: no `next`.
    const exact = (await get(app, `/api/audit?to=${encodeURIComponent(TO)}&limit=31`, token)).json();
    expect(exact.entries).toHaveLength(31);
    expect(exact.next).toBeUndefined();
  });

  it('answers 200 entries by default, newest first, login entries included', async () => {
    const { app, records } = await start();
    const token = await tokenFor(app, 'admin');
    for (let i = 0; i < 210; i++) records.appendAudit({ actor: 'system', action: 'test.fill', subject: String(i), at: T0 + i });
    const body = (await get(app, '/api/audit', token)).json() as AuditReply;
    expect(body.entries).toHaveLength(200);
    expect(body.entries[0]).toMatchObject({ actor: 'admin', action: 'auth.login' });
    expect(body.next).toBe(body.entries[199]!.id);
  });

  it.each(['viewer', 'operator', 'finance', 'lobby'])('refuses %s with 403', async (user) => {
    const { app } = await start();
    const res = await get(app, '/api/audit', await tokenFor(app, user));
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('BOHUB_FORBIDDEN');
  });

  it('refuses a caller without a session with 401', async () => {
    const { app } = await start();
    expect((await get(app, '/api/audit')).statusCode).toBe(401);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['limit=ten', 'limit'],
    ['before=0', 'before'],
    ['before=abc', 'before'],
    ['from=yesterday', 'from'],
    ['to=2026-13-01T00:00:00Z', 'to'],
    ['from=2026-03-01', 'from'],
    [`from=${T0 + 1}&to=${T0}`, 'from'],
    ['action=*', 'action'],
    ['actor=a&actor=b', 'actor'],
    ['acter=operator', 'query: unknown parameter acter'],
  ])('refuses %s with 400 naming the field', async (query, field) => {
    const { app } = await start();
    const res = await get(app, `/api/audit?${query}`, await tokenFor(app, 'admin'));
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error).toEqual({ code: 'BOHUB_BAD_REQUEST', message: expect.stringMatching(new RegExp(`^${field}`)) });
  });
});

describe('GET /api/devices without a Modbus driver', () => {
  it('answers empty buses and meters, the sources\' last status and the rejected payloads', async () => {
    const { app, hub } = await start();
    const { events } = hub.services;
    events.emit('source.status', { source: 'FP-B', status: 'online', via: 'connect', at: 1 });
    events.emit('source.status', { source: 'FP-A', status: 'online', via: 'connect', at: 2 });
    events.emit('source.status', { source: 'FP-B', status: 'offline', via: 'lwt', reason: 'last will', at: 3 });
    events.emit('input.rejected', { source: 'bohub/x/fire/FP-A/1', reason: 'not JSON', at: 4 });
    events.emit('input.rejected', { source: 'bohub/x/leak/L-1', reason: 'unknown signal', at: 5 });
    const res = await get(app, '/api/devices', await tokenFor(app, 'viewer'));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      buses: [],
      devices: [],
      sources: [
        { source: 'FP-A', status: 'online', via: 'connect', at: 2 },
        { source: 'FP-B', status: 'offline', via: 'lwt', reason: 'last will', at: 3 },
      ],
      rejected: { count: 2, last: { source: 'bohub/x/leak/L-1', reason: 'unknown signal', at: 5 } },
    } satisfies DevicesReply);
  });

  it('refuses a lobby screen and a caller without a session', async () => {
    const { app } = await start();
    expect((await get(app, '/api/devices', await tokenFor(app, 'lobby'))).statusCode).toBe(403);
    expect((await get(app, '/api/devices')).statusCode).toBe(401);
  });
});

describe('the live socket refuses events sent up it', () => {
  it('counts each by name (cut to 64 characters), answers an ack with the refusal, logs once per socket and stays up', async () => {
    const { app, hub, logs } = await start();
    const token = await tokenFor(app, 'operator');
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const socket = connect(url, { transports: ['websocket'], reconnection: false, auth: { token } });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => (socket.once('connect', () => resolve()), socket.once('connect_error', reject)));

    const answer = await socket.timeout(2000).emitWithAck('alarm.ack', { id: 1, comment: 'from the socket' });
    expect(answer).toEqual({ error: { code: 'BOHUB_FORBIDDEN', message: expect.any(String) } });
    socket.emit('alarm.ack', { id: 2 });
    socket.emit('x'.repeat(100));
    const counted = async (): Promise<Record<string, number>> => Object.fromEntries((await hub.services.metrics.liveRefusedEvents.get()).values.map((v) => [String(v.labels.event), v.value]));
    await waitFor('three refusals counted', async () => Object.values(await counted()).reduce((a, b) => a + b, 0) === 3);
    expect(await counted()).toEqual({ 'alarm.ack': 2, ['x'.repeat(64)]: 1 });
    expect(logs.filter((l) => l.level === 40 && /refused/.test(l.msg))).toEqual([expect.objectContaining({ event: 'alarm.ack' })]);

    // Still connected, and still told what happens.
    const status = new Promise((resolve) => socket.once('device.status', resolve));
    hub.services.events.emit('device.status', { device: 'A-0101-E', bus: 'A-E1', status: 'online', at: 9 });
    expect(await status).toMatchObject({ device: 'A-0101-E', status: 'online' });
    expect(socket.connected).toBe(true);
  });
});
