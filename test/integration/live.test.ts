import type { FastifyInstance } from 'fastify';
import { io as connect, type Socket } from 'socket.io-client';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmChange } from '../../gateway/alarms/types.ts';
import { DEMO_PASSWORDS } from '../../gateway/auth/passwords.ts';
import { ManualClock } from '../../gateway/clock.ts';
import { loadConfig, type LoadedConfig } from '../../gateway/config/load.ts';
import type { PointValue, SignalState } from '../../gateway/events.ts';
import { buildApp } from '../../gateway/http/app.ts';
import { COALESCE_MS, SIGNAL_COALESCE_MS, type MeterValuesFrame, type ServerToClientEvents, type SignalStatesFrame } from '../../gateway/http/live-types.ts';
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

async function start(clock?: ManualClock): Promise<{ hub: FakeHub; url: string; app: FastifyInstance }> {
  const hub = fakeHub({ config, ...(clock ? { clock } : {}) });
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
const signalState = (signal: string, state: string, seq: number): SignalState => ({ signal, kind: 'fire-zone', state, sourceTime: seq, seq, retained: false });
const fireRaised = (source: string): AlarmChange => ({
  change: 'raised',
  notify: true,
  at: 1,
  alarm: { id: 1, condition: `fire:${source}`, kind: 'fire', system: 'fire', source, priority: 1, state: 'active-unacknowledged', active: true, acked: false, latching: true, raisedAt: 1, sourceTime: 1, activations: 1, updatedAt: 1 },
});
/** Real time for frames in flight to arrive (the fake clock only drives the live layer's windows). */
const settle = (ms = 100) => new Promise((r) => setTimeout(r, ms));

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

// Issue 15: a device flooding valid signal reports held the red fire banner back by
// up to 33 s, because every report went to every browser as its own frame.
describe('live signal states and the alarm lane', () => {
  async function operator(clock: ManualClock) {
    const { url, app, hub } = await start(clock);
    const socket = client(url, { token: await tokenFor(app, 'operator') });
    await connected(socket);
    const frames: Array<{ event: string; payload: unknown }> = [];
    socket.onAny((event: string, payload: unknown) => frames.push({ event, payload }));
    return { hub, frames, signalFrames: () => frames.filter((f) => f.event === 'signal.states').map((f) => f.payload as SignalStatesFrame) };
  }

  it('coalesces 1,000 signal reports for 3 signals within one window into one frame with the latest state of each', async () => {
    const clock = new ManualClock();
    const { hub, signalFrames } = await operator(clock);
    for (let i = 0; i < 1000; i++) hub.services.events.emit('signal.state', signalState(`FZ-A-0${i % 3}`, i >= 997 ? 'alarm' : 'normal', i));
    await settle();
    expect(signalFrames()).toEqual([]);
    clock.advance(SIGNAL_COALESCE_MS);
    await waitFor('a signal.states frame', () => signalFrames().length > 0, 3000);
    await settle();
    expect(signalFrames()).toHaveLength(1);
    expect(signalFrames()[0]!.states.map((s) => [s.signal, s.state, s.seq])).toEqual([
      ['FZ-A-00', 'alarm', 999],
      ['FZ-A-01', 'alarm', 997],
      ['FZ-A-02', 'alarm', 998],
    ]);
  });

  it('sends an alarm change at once, ahead of the signal states still pending', async () => {
    const clock = new ManualClock();
    const { hub, frames } = await operator(clock);
    for (let i = 0; i < 1000; i++) hub.services.events.emit('signal.state', signalState('FZ-A-07', 'normal', i));
    hub.services.events.emit('alarm.changed', fireRaised('FZ-A-07'));
    // The clock has not moved: the alarm must not wait for the window.
    await waitFor('the alarm frame', () => frames.some((f) => f.event === 'alarm.changed'), 3000);
    await settle();
    expect(frames.map((f) => f.event)).toEqual(['alarm.changed']);
    clock.advance(SIGNAL_COALESCE_MS);
    await waitFor('the signal states', () => frames.length === 2, 3000);
    expect(frames.map((f) => f.event)).toEqual(['alarm.changed', 'signal.states']);
  });

  it('sends meter values volatile: a frame due while the socket is still writing another is dropped, not queued', async () => {
    const clock = new ManualClock();
    const { hub, frames } = await operator(clock);
    hub.services.events.emit('meter.values', { device: 'A-0101-E', values: [reading('A-0101-E', 1)] });
    // device.status goes out at once; the meter window closes in the same tick, while
    // that frame is still being written: the transport is not ready for another one.
    hub.services.events.emit('device.status', { device: 'A-0101-E', bus: 'A-E1', status: 'online', at: 1 });
    clock.advance(COALESCE_MS);
    await settle();
    expect(frames.map((f) => f.event)).toEqual(['device.status']);
    hub.services.events.emit('meter.values', { device: 'A-0101-E', values: [reading('A-0101-E', 2)] });
    clock.advance(COALESCE_MS);
    await waitFor('the next meter frame', () => frames.length === 2, 3000);
    expect((frames[1]!.payload as MeterValuesFrame).values.map((v) => v.value)).toEqual([2]);
  });

  it('holds the latest signal states for a socket still writing another frame, and sends them a window later', async () => {
    const clock = new ManualClock();
    const { hub, frames, signalFrames } = await operator(clock);
    hub.services.events.emit('signal.state', signalState('FZ-A-07', 'alarm', 1));
    hub.services.events.emit('signal.state', signalState('FZ-A-09', 'alarm', 2));
    hub.services.events.emit('alarm.changed', fireRaised('FZ-A-07'));
    clock.advance(SIGNAL_COALESCE_MS);
    // Not queued behind the alarm frame still being written...
    hub.services.events.emit('signal.state', signalState('FZ-A-07', 'normal', 3));
    hub.services.events.emit('signal.state', signalState('FZ-A-08', 'alarm', 4));
    await settle();
    expect(frames.map((f) => f.event)).toEqual(['alarm.changed']);
    // ...and not lost: the next window sends the latest of each, FZ-A-09 too, though it did not change again.
    clock.advance(SIGNAL_COALESCE_MS);
    await waitFor('the held signal states', () => signalFrames().length > 0, 3000);
    await settle();
    expect(signalFrames().map((f) => f.states.map((s) => [s.signal, s.state]))).toEqual([
      [
        ['FZ-A-07', 'normal'],
        ['FZ-A-09', 'alarm'],
        ['FZ-A-08', 'alarm'],
      ],
    ]);
  });
});

describe('live billing job progress (issue 15)', () => {
  it("goes to the pages of roles that read billing, in order, and not to a viewer's", async () => {
    const { hub, url, app } = await start();
    const [financeToken, viewerToken] = [await tokenFor(app, 'finance'), await tokenFor(app, 'viewer')];
    const finance = client(url, { token: financeToken });
    const viewer = client(url, { token: viewerToken });
    await Promise.all([connected(finance), connected(viewer)]);
    const seen: Record<string, string[]> = { finance: [], viewer: [] };
    finance.on('job.progress', (p) => seen.finance!.push(p.stage));
    viewer.on('job.progress', (p) => seen.viewer!.push(p.stage));
    const base = { id: 1, kind: 'billing.run' as const, subject: '2026-11', startedBy: 'finance', startedAt: 0, done: 0, total: 0, at: 0 };
    for (const stage of ['queued', 'meters', 'saving']) hub.services.events.emit('job.progress', { ...base, state: 'running', stage });
    hub.services.events.emit('job.progress', { ...base, state: 'done', stage: 'done' });
    await waitFor('four job frames', () => seen.finance!.length === 4);
    expect(seen.finance).toEqual(['queued', 'meters', 'saving', 'done']);
    // The viewer's socket got everything sent to the live room meanwhile, but no job frame.
    expect(seen.viewer).toEqual([]);
  });
});
