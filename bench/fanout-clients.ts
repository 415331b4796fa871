// The load generator of the fanout benchmark, in its own process (BENCHMARKS.md):
// the control room's socket.io clients, logged in as the dashboard logs in
// (POST /api/auth/login, then the token in the handshake's `auth`, live-types.ts
// LiveAuth), and the fire panel that publishes the alarms. The panel and the clients
// share this process's clock, so a latency is one performance.now() minus another:
// from just before the MQTT publish to the moment the LAST client has the alarm.
import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import { io, type Socket } from 'socket.io-client';
import type { AlarmChange } from '../gateway/alarms/types.ts';
import type { ServerToClientEvents } from '../gateway/http/live-types.ts';
import { signalTopic } from '../gateway/signals/states.ts';
import { serve } from './fanout-ipc.ts';
import { login } from './hub-api.ts';

type LiveSocket = Socket<ServerToClientEvents, Record<string, never>>;

export interface ConnectArgs {
  http: string;
  count: number;
  /** Logins to make, shared round-robin by the clients (a wall of screens under a few accounts). */
  logins: { username: string; password: string }[];
}

export interface PanelArgs {
  broker: string;
  username: string;
  password: string;
  site: string;
}

export interface FrameCounts {
  seconds: number;
  /** 'meter.values' frames each client received in the window. */
  perClient: number[];
  /** Values carried by the frames one client received (client 0), per frame on average. */
  valuesPerFrame: number;
  /** How old the newest value in a frame was when a client got it (Date.now() minus its sourceTime): the backlog. */
  ageMsMean: number;
  ageMsMax: number;
  /** This process's CPU over the window, in % of one core: near 100 means the load generator, not the hub, set the pace. */
  cpuPercent: number;
}

export interface AlarmSamples {
  /** Per alarm: ms from just before the publish until every client had its 'alarm.changed'. */
  all: number[];
  /** Per alarm: ms until the first client had it (the hub's own share, before the clients queue). */
  first: number[];
  /** Alarms (or their return to normal) that some client had not got within the timeout; counted as the timeout above. */
  late: number;
  /** Per alarm: the panel's sequence number and the wall-clock time (performance.timeOrigin + now()) of its publish. */
  seqs: number[];
  publishedAt: number[];
  /** Clients that had lost their connection (ping timeout: this process fell too far behind); alarms stop at the first. */
  dropped: string[];
}

/** What a sample waits for: one change on one zone, to be seen by every client. */
interface Expect {
  zone: string;
  match: (c: AlarmChange) => boolean;
  seen: Uint8Array;
  left: number;
  firstAt?: number;
  resolve: (at: number) => void;
}

const sockets: LiveSocket[] = [];
let frames: number[] = [];
let values0 = 0;
/** Frame ages summed over every client, their count and the largest, since the last reset. */
let ages = { sum: 0, n: 0, max: 0 };
let expect: Expect | undefined;
let panel: MqttClient | undefined;
let site = '';
let seq = Date.now();
/** Clients that lost their connection (reconnection is off, so a drop is visible, not papered over). */
const dropped: string[] = [];

function open(http: string, token: string, index: number): Promise<LiveSocket> {
  // forceNew: one WebSocket per client, as 200 screens would have (io() shares one by default).
  const socket: LiveSocket = io(http, { forceNew: true, transports: ['websocket'], reconnection: false, auth: { token } });
  socket.on('meter.values', (frame) => {
    frames[index] = (frames[index] ?? 0) + 1;
    if (index === 0) values0 += frame.values.length;
    let newest = 0;
    for (const v of frame.values) if (v.sourceTime > newest) newest = v.sourceTime;
    const age = Date.now() - newest;
    ages.sum += age;
    ages.n++;
    if (age > ages.max) ages.max = age;
  });
  socket.on('disconnect', (reason) => {
    if (sockets.includes(socket)) dropped.push(`client ${index}: ${reason}`);
  });
  socket.on('alarm.changed', (c) => {
    const e = expect;
    if (!e || e.seen[index] || c.alarm.source !== e.zone || !e.match(c)) return;
    const at = performance.now();
    e.seen[index] = 1;
    e.firstAt ??= at;
    if (--e.left === 0) e.resolve(at);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`client ${index} did not connect within 20 s`)), 20_000);
    socket.once('connect', () => (clearTimeout(timer), resolve(socket)));
    socket.once('connect_error', (err) => (clearTimeout(timer), reject(new Error(`client ${index}: ${err.message}`))));
  });
}

/**
 * Resolves with the time every client saw the change, or with null after timeoutMs
 * (then says on stderr how many had not): a late sample is kept, as the timeout,
 * rather than ending the run, so a busy machine still gives figures, marked as such.
 */
function everyClientSees(zone: string, what: string, match: (c: AlarmChange) => boolean, timeoutMs: number): { done: Promise<number | null>; state: () => Expect } {
  let e: Expect | undefined;
  const done = new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      const lost = dropped.length ? `; ${dropped.length} clients dropped (${dropped.slice(0, 3).join(', ')})` : '';
      process.stderr.write(`fanout-clients: ${e!.left} of ${sockets.length} clients did not get '${what}' on ${zone} within ${timeoutMs} ms${lost}\n`);
      if (expect === e) expect = undefined;
      resolve(null);
    }, timeoutMs);
    e = { zone, match, seen: new Uint8Array(sockets.length), left: sockets.length, resolve: (at) => (clearTimeout(timer), resolve(at)) };
  });
  expect = e;
  return { done, state: () => e! };
}

/** The sequence number is chosen before the publish: the change may reach a client before the PUBACK reaches us. */
async function publish(zone: string, state: 'alarm' | 'normal', mine: number): Promise<void> {
  await panel!.publishAsync(signalTopic(site, zone), JSON.stringify({ state, ts: Date.now(), seq: mine }), { qos: 1, retain: true });
}

serve({
  async connect(args: ConnectArgs): Promise<number> {
    if (sockets.length) throw new Error('clients are already connected');
    if (!args.logins.length) throw new Error('no logins given');
    const tokens: string[] = [];
    for (const l of args.logins) tokens.push(await login(args.http, l.username, l.password));
    frames = new Array<number>(args.count).fill(0);
    // In batches, so the handshakes do not all queue at once behind the hub's event loop.
    for (let i = 0; i < args.count; i += 25) {
      const batch = Array.from({ length: Math.min(25, args.count - i) }, (_, k) => open(args.http, tokens[(i + k) % tokens.length]!, i + k));
      sockets.push(...(await Promise.all(batch)));
    }
    return sockets.length;
  },
  async frames(args: { ms: number }): Promise<FrameCounts> {
    const before = [...frames];
    const v0 = values0;
    ages = { sum: 0, n: 0, max: 0 };
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, args.ms));
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const perClient = frames.map((n, i) => n - (before[i] ?? 0));
    const ageMsMean = ages.n ? ages.sum / ages.n : 0;
    return { seconds, perClient, valuesPerFrame: perClient[0] ? (values0 - v0) / perClient[0] : 0, ageMsMean, ageMsMax: ages.max, cpuPercent: ((cpu.user + cpu.system) / 1e6 / seconds) * 100 };
  },
  async panel(args: PanelArgs): Promise<void> {
    site = args.site;
    panel = await mqtt.connectAsync(args.broker, { clientId: `bench-fanout-panel-${process.pid}`, username: args.username, password: args.password, reconnectPeriod: 0 });
  },
  /**
   * `count` fire alarms, one at a time, rotating over `zones`: each is published, timed
   * until every client has its 'raised' or 'reactivated' change (matched by the
   * panel's sequence number), then returned to normal, and the next waits until
   * every client has that 'cleared' too, so no sample queues behind the last.
   * Stops after budgetMs even if fewer alarms were sent.
   */
  async alarms(args: { zones: string[]; count: number; timeoutMs: number; budgetMs: number }): Promise<AlarmSamples> {
    if (!panel || !sockets.length) throw new Error('connect the panel and the clients first');
    const out: AlarmSamples = { all: [], first: [], late: 0, seqs: [], publishedAt: [], dropped };
    const ends = performance.now() + args.budgetMs;
    // A dropped client can never have the alarm: there is nothing more to time.
    for (let i = 0; i < args.count && performance.now() < ends && !dropped.length; i++) {
      const zone = args.zones[i % args.zones.length]!;
      const mine = ++seq;
      const raised = everyClientSees(zone, 'raised', (c) => (c.change === 'raised' || c.change === 'reactivated') && c.alarm.seq === mine, args.timeoutMs);
      const t0 = performance.now();
      out.seqs.push(mine);
      out.publishedAt.push(performance.timeOrigin + t0);
      await publish(zone, 'alarm', mine);
      const t1 = await raised.done;
      const firstAt = raised.state().firstAt;
      out.all.push(t1 === null ? args.timeoutMs : t1 - t0);
      out.first.push(firstAt === undefined ? args.timeoutMs : firstAt - t0);
      const cleared = everyClientSees(zone, 'cleared', (c) => c.change === 'cleared', args.timeoutMs);
      await publish(zone, 'normal', ++seq);
      const t2 = await cleared.done;
      if (t1 === null || t2 === null) out.late++;
    }
    expect = undefined;
    return { ...out, dropped: [...dropped] };
  },
  async disconnect(): Promise<void> {
    for (const s of sockets.splice(0)) s.close();
    dropped.length = 0;
  },
  async stop() {
    for (const s of sockets.splice(0)) s.close();
    await panel?.endAsync(true);
    panel = undefined;
  },
});
