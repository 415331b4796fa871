import type { FastifyInstance } from 'fastify';
import { io as connect, type Socket } from 'socket.io-client';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORDS } from '../../gateway/auth/passwords.ts';
import { loadConfig, type LoadedConfig } from '../../gateway/config/load.ts';
import type { PointValue } from '../../gateway/events.ts';
import { buildApp } from '../../gateway/http/app.ts';
import type { MeterValuesFrame, ServerToClientEvents } from '../../gateway/http/live-types.ts';
import { DEMO_CONFIG_FILE, fakeHub, type FakeHub } from '../helpers/fake-stores.ts';
import { waitFor } from '../helpers/ports.ts';

// socket.io on a real port: handshake auth, forwarding and coalescing.

type Client = Socket<ServerToClientEvents>;

let config: LoadedConfig;
let app: FastifyInstance | undefined;
const clients: Client[] = [];

beforeAll(() => {
  config = loadConfig(DEMO_CONFIG_FILE);
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await app?.close();
  app = undefined;
});

async function start(): Promise<{ hub: FakeHub; url: string; app: FastifyInstance }> {
  const hub = fakeHub({ config });
  app = await buildApp(hub.services);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { hub, url, app };
}

async function tokenFor(app: FastifyInstance, username: string): Promise<string> {
  const password = DEMO_PASSWORDS[username === 'lobby' ? 'display' : username];
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });
  return res.json().token as string;
}

function client(url: string, options: { token?: string; cookie?: string } = {}): Client {
  const socket: Client = connect(url, {
    transports: ['websocket'],
    reconnection: false,
    ...(options.token ? { auth: { token: options.token } } : {}),
    ...(options.cookie ? { extraHeaders: { cookie: options.cookie } } : {}),
  });
  clients.push(socket);
  return socket;
}

function connected(socket: Client): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
}

function refusal(socket: Client): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => reject(new Error('the connection was accepted')));
    socket.once('connect_error', (err) => resolve((err as Error & { data?: { code?: string } }).data?.code));
  });
}

const reading = (device: string, value: number): PointValue => ({ device, point: 'energy_import', value, unit: 'kWh', quality: 'good', sourceTime: Date.now() });

describe('live handshake', () => {
  it('refuses a connection without a token', async () => {
    const { url } = await start();
    expect(await refusal(client(url))).toBe('BOHUB_AUTH_REQUIRED');
  });

  it('refuses a connection while the hub is stopping, so none outlives it', async () => {
    const server = await buildApp(fakeHub({ config }).services);
    let url = '';
    let token = '';
    let code: string | undefined;
    // Runs after the live layer's own preClose (it dropped the sockets) and before the
    // server stops listening: a dashboard retrying at that moment must be turned away.
    // Long-polling, as a browser starts: its requests reach the server until it stops listening.
    server.addHook('preClose', async () => {
      const socket: Client = connect(url, { transports: ['polling'], reconnection: false, auth: { token } });
      clients.push(socket);
      code = await refusal(socket);
    });
    url = await server.listen({ port: 0, host: '127.0.0.1' });
    token = await tokenFor(server, 'operator');
    await server.close();
    expect(code).toBe('BOHUB_UNAVAILABLE');
  });

  it('refuses a token that is not a session', async () => {
    const { url } = await start();
    expect(await refusal(client(url, { token: 'x'.repeat(43) }))).toBe('BOHUB_AUTH_REQUIRED');
  });

  it('refuses the lobby screen, whose role may not read meter values', async () => {
    const { url, app } = await start();
    expect(await refusal(client(url, { token: await tokenFor(app, 'lobby') }))).toBe('BOHUB_FORBIDDEN');
  });

  it('accepts the session cookie and counts the client', async () => {
    const { url, app, hub } = await start();
    const socket = client(url, { cookie: `bohub_session=${await tokenFor(app, 'viewer')}` });
    await connected(socket);
    await waitFor('socketClients = 1', async () => (await hub.services.metrics.socketClients.get()).values[0]?.value === 1);
    socket.close();
    await waitFor('socketClients = 0', async () => (await hub.services.metrics.socketClients.get()).values[0]?.value === 0);
  });

  it('drops the socket when its session logs out', async () => {
    const { url, app } = await start();
    const token = await tokenFor(app, 'viewer');
    const socket = client(url, { token });
    await connected(socket);
    const dropped = new Promise((resolve) => socket.once('disconnect', resolve));
    await app.inject({ method: 'POST', url: '/api/auth/logout', headers: { authorization: `Bearer ${token}` } });
    await dropped;
  });
});

describe('live events', () => {
  it('forwards meter values emitted on the event bus', async () => {
    const { url, app, hub } = await start();
    const socket = client(url, { token: await tokenFor(app, 'operator') });
    await connected(socket);
    const frame = new Promise<MeterValuesFrame>((resolve) => socket.once('meter.values', resolve));
    hub.services.events.emit('meter.values', { device: 'A-0101-E', values: [reading('A-0101-E', 42)] });
    expect((await frame).values).toMatchObject([{ device: 'A-0101-E', point: 'energy_import', value: 42 }]);
  });

  it('forwards device status at once', async () => {
    const { url, app, hub } = await start();
    const socket = client(url, { token: await tokenFor(app, 'operator') });
    await connected(socket);
    const status = new Promise((resolve) => socket.once('device.status', resolve));
    hub.services.events.emit('device.status', { device: 'A-0101-E', bus: 'A-E1', status: 'offline', error: 'BOHUB_MODBUS_TIMEOUT', at: 1 });
    expect(await status).toEqual({ device: 'A-0101-E', bus: 'A-E1', status: 'offline', error: 'BOHUB_MODBUS_TIMEOUT', at: 1 });
  });

  it('coalesces 50 emits within 100 ms into at most 3 frames that carry all 50 values', async () => {
    const { url, app, hub } = await start();
    const socket = client(url, { token: await tokenFor(app, 'operator') });
    await connected(socket);
    const frames: MeterValuesFrame[] = [];
    socket.on('meter.values', (f) => frames.push(f));
    for (let i = 0; i < 50; i++) {
      hub.services.events.emit('meter.values', { device: `M-${i}`, values: [reading(`M-${i}`, i)] });
      await new Promise((r) => setTimeout(r, 2));
    }
    await waitFor('all 50 values', () => frames.flatMap((f) => f.values).length >= 50, 3000);
    await new Promise((r) => setTimeout(r, 250));
    expect(frames.length).toBeLessThanOrEqual(3);
    expect(new Set(frames.flatMap((f) => f.values.map((v) => v.device))).size).toBe(50);
  });

  it('sends only the latest value of a point updated twice within one window', async () => {
    const { url, app, hub } = await start();
    const socket = client(url, { token: await tokenFor(app, 'operator') });
    await connected(socket);
    const frame = new Promise<MeterValuesFrame>((resolve) => socket.once('meter.values', resolve));
    hub.services.events.emit('meter.values', { device: 'A-0101-E', values: [reading('A-0101-E', 1)] });
    hub.services.events.emit('meter.values', { device: 'A-0101-E', values: [reading('A-0101-E', 2)] });
    expect((await frame).values.map((v) => v.value)).toEqual([2]);
  });

  it('closes with the app: clients are disconnected and app.close() does not hang', async () => {
    const { url, app: server, hub } = await start();
    const socket = client(url, { token: await tokenFor(server, 'operator') });
    await connected(socket);
    const dropped = new Promise((resolve) => socket.once('disconnect', resolve));
    await server.close();
    app = undefined;
    await dropped;
    expect((await hub.services.metrics.socketClients.get()).values[0]?.value).toBe(0);
  });
});
