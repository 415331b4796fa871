// The fire-control room of the alarm-under-work benchmark, in its own process
// (BENCHMARKS.md: load generator and hub apart): tower A's fire panel, publishing
// with its own broker account as the real panel does (QoS 1, retained), and the
// operator, logged in as the dashboard does, with a socket.io client and, when asked,
// a headless Chromium control room (the real page, logged in through its form).
// The panel and the socket share this process's clock, so the socket latency is one
// performance.now() minus another; the banner time is taken by the page itself
// (performance.timeOrigin + now(), a wall clock, like the publish's here).
//
// Fire alarms latch (README "Alarms"), so each sample is a new alarm, as an operator
// would have it: the panel reports alarm, the zone goes back to normal, and the
// operator acknowledges and resets it through the API before the next one. The
// acknowledgement also takes it off the banner, so the next alarm's row is new.
import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { io, type Socket } from 'socket.io-client';
import type { Alarm, AlarmChange } from '../gateway/alarms/types.ts';
import type { ServerToClientEvents } from '../gateway/http/live-types.ts';
import { signalTopic } from '../gateway/signals/states.ts';
import { launchChromium, logIn, WALL } from '../test/helpers/control-room.ts';
import { serve } from './fanout-ipc.ts';
import { call, login } from './hub-api.ts';

export interface OperatorArgs {
  http: string;
  broker: string;
  site: string;
  /** The fire panel's MQTT account (config broker.accounts). */
  panel: { username: string; password: string };
  operator: { username: 'operator'; password: string };
}

export interface AlarmArgs {
  zones: string[];
  count: number;
  /** A step not seen within this long counts as this long (and as late); the run goes on. */
  timeoutMs: number;
  /** The whole run stops after this long, even with fewer samples. */
  budgetMs: number;
  /** Also time the alarm's row in the Chromium control room's banner. */
  banner: boolean;
  /** A random pause of up to this long after each sample, so the samples fall at any moment of the load, not in step with it. */
  gapMs: number;
}

export interface AlarmRun {
  /** ms from just before the publish until the operator's socket had 'alarm.changed' raised. */
  socket: number[];
  /** ms from the same moment until the page drew the banner row (its next animation frame). */
  banner: number[];
  /** Alarms the socket did not have within the timeout, and banner rows not drawn within it. */
  late: number;
  bannerLate: number;
  /** Alarms that could not be returned to normal, acknowledged and reset afterwards. */
  unsettled: number;
  seconds: number;
  /** Times the socket lost its connection (it reconnects by itself, as the dashboard does). */
  disconnects: number;
}

type LiveSocket = Socket<ServerToClientEvents, Record<string, never>>;
interface Waiter {
  match: (c: AlarmChange) => boolean;
  resolve: (seen: { change: AlarmChange; at: number } | null) => void;
}

/**
 * Watches the alarm alerter (dashboard/src/components/alarm-alerter.tsx) for new rows:
 * when each was put in the page, and the animation frame that drew it. A string, so
 * tsx's name helpers (keepNames) do not reach the page.
 */
const BANNER_WATCH = `(() => {
  const w = window;
  w.__bench = { seen: {}, drawn: {} };
  const scan = () => {
    const now = performance.timeOrigin + performance.now();
    for (const el of document.querySelectorAll('[data-testid="alarm-alert"]')) {
      const id = el.getAttribute('data-alarm-id');
      if (!id || id in w.__bench.seen) continue;
      w.__bench.seen[id] = now;
      requestAnimationFrame(() => { w.__bench.drawn[id] = performance.timeOrigin + performance.now(); });
    }
  };
  new MutationObserver(scan).observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-alarm-id'] });
  scan();
})()`;

let hub: { http: string; site: string; token: string } | undefined;
let socket: LiveSocket | undefined;
let panel: MqttClient | undefined;
let browser: Browser | undefined;
let page: Page | undefined;
let disconnects = 0;
/** Above any earlier run's: a change is matched to its sample by the panel's sequence number. */
let seq = Date.now();
const waiters = new Set<Waiter>();

serve({
  async connect(args: OperatorArgs): Promise<void> {
    await disconnect();
    const token = await login(args.http, args.operator.username, args.operator.password);
    hub = { http: args.http, site: args.site, token };
    // Reconnecting, as the dashboard does: a hub frozen past the ping timeout drops the socket.
    socket = io(args.http, { forceNew: true, transports: ['websocket'], auth: { token } });
    socket.on('alarm.changed', (change) => {
      const at = performance.now();
      for (const w of waiters)
        if (w.match(change)) {
          waiters.delete(w);
          w.resolve({ change, at });
        }
    });
    socket.on('disconnect', () => disconnects++);
    await new Promise<void>((resolve, reject) => {
      socket!.once('connect', () => resolve());
      socket!.once('connect_error', (err) => reject(new Error(`the operator's socket: ${err.message}`)));
    });
    panel = await mqtt.connectAsync(args.broker, { clientId: `bench-auw-panel-${process.pid}`, username: args.panel.username, password: args.panel.password, reconnectPeriod: 1000 });
  },
  /** Opens the control room in headless Chromium as the operator; false (with the reason on stderr) when it cannot. */
  async browser(args: { executablePath: string }): Promise<boolean> {
    if (!hub) throw new Error('connect first');
    try {
      browser = await launchChromium(args.executablePath);
      page = await (await browser.newContext(WALL)).newPage();
      await page.goto(hub.http);
      await logIn(page, 'operator');
      await page.evaluate(BANNER_WATCH);
      return true;
    } catch (err) {
      process.stderr.write(`alarm-under-work-operator: no control room in Chromium: ${err instanceof Error ? err.message : String(err)}\n`);
      await closeBrowser();
      return false;
    }
  },
  closeBrowser,
  async alarms(args: AlarmArgs): Promise<AlarmRun> {
    if (!hub || !panel) throw new Error('connect first');
    if (args.banner && !page) throw new Error('open the control room first');
    const out: AlarmRun = { socket: [], banner: [], late: 0, bannerLate: 0, unsettled: 0, seconds: 0, disconnects: 0 };
    const began = performance.now();
    const lostBefore = disconnects;
    for (const zone of args.zones) if (!(await settle(zone, args.timeoutMs))) out.unsettled++;
    for (let i = 0; i < args.count && performance.now() - began < args.budgetMs; i++) {
      const zone = args.zones[i % args.zones.length]!;
      const mine = ++seq;
      const raised = change((c) => c.alarm.source === zone && c.alarm.kind === 'fire' && (c.change === 'raised' || c.change === 'reactivated') && c.alarm.seq === mine, args.timeoutMs);
      const t0 = performance.now();
      const wall0 = performance.timeOrigin + t0;
      await publish(zone, 'alarm', mine, args.timeoutMs);
      const seen = await raised;
      out.socket.push(seen ? seen.at - t0 : args.timeoutMs);
      if (!seen) out.late++;
      if (args.banner) {
        const drawn = seen ? await bannerDrawn(seen.change.alarm.id, Math.max(1, args.timeoutMs - (performance.now() - t0))) : null;
        out.banner.push(drawn === null ? args.timeoutMs : drawn - wall0);
        if (drawn === null) out.bannerLate++;
      }
      // Back to normal, acknowledged and reset: the next sample is a new alarm.
      const id = seen?.change.alarm.id;
      const cleared = change((c) => c.change === 'cleared' && (id === undefined ? c.alarm.source === zone && c.alarm.kind === 'fire' : c.alarm.id === id), args.timeoutMs);
      await publish(zone, 'normal', ++seq, args.timeoutMs);
      const done = id !== undefined && (await cleared) !== null && (await ackAndReset(id, args.timeoutMs));
      if (!done && !(await settle(zone, args.timeoutMs))) out.unsettled++;
      await new Promise((r) => setTimeout(r, Math.random() * args.gapMs));
    }
    out.seconds = (performance.now() - began) / 1000;
    out.disconnects = disconnects - lostBefore;
    return out;
  },
  async stop() {
    await closeBrowser();
    await disconnect();
  },
});

/** Resolves with the first change that matches (and when it came), or null after timeoutMs. */
function change(match: (c: AlarmChange) => boolean, timeoutMs: number): Promise<{ change: AlarmChange; at: number } | null> {
  return new Promise((resolve) => {
    const w: Waiter = { match, resolve: (seen) => (clearTimeout(timer), resolve(seen)) };
    const timer = setTimeout(() => (waiters.delete(w), resolve(null)), timeoutMs);
    waiters.add(w);
  });
}

/** QoS 1 and retained, as the panels publish (simulators/signal-panel.ts); a hub that never answers the PUBACK fails the step, not the run. */
async function publish(zone: string, state: 'alarm' | 'normal', mine: number, timeoutMs: number): Promise<void> {
  const sent = panel!.publishAsync(signalTopic(hub!.site, zone), JSON.stringify({ state, ts: Date.now(), seq: mine }), { qos: 1, retain: true });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([sent.catch(() => {}), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
  clearTimeout(timer);
}

/** When the page drew alarm `id`'s banner row (wall-clock ms), or null if it did not within timeoutMs. */
async function bannerDrawn(id: number, timeoutMs: number): Promise<number | null> {
  try {
    // A function, not a string: the page's CSP (no 'unsafe-eval') refuses a string predicate. Anonymous, so tsx adds no name helper to it.
    const handle = await page!.waitForFunction((alarm) => (window as unknown as { __bench?: { drawn: Record<string, number> } }).__bench?.drawn[alarm], id, { timeout: timeoutMs, polling: 20 });
    return (await handle.jsonValue()) as number;
  } catch {
    return null;
  }
}

async function ackAndReset(id: number, timeoutMs: number): Promise<boolean> {
  try {
    for (const action of ['ack', 'reset']) await call(hub!.http, hub!.token, 'POST', `/api/alarms/${id}/${action}`, { body: { comment: 'bench: checked on site, false alarm' }, timeoutMs });
    return true;
  } catch (err) {
    process.stderr.write(`alarm-under-work-operator: alarm ${id}: ${err instanceof Error ? err.message : String(err)}\n`);
    return false;
  }
}

/**
 * Brings the zone's fire alarm, if one is open, to the end of its episode through the
 * API (normal, acknowledged, reset), whatever step a late sample stopped at; false if
 * it is still open after timeoutMs.
 */
async function settle(zone: string, timeoutMs: number): Promise<boolean> {
  const ends = performance.now() + timeoutMs;
  while (performance.now() < ends) {
    try {
      const { body } = await call(hub!.http, hub!.token, 'GET', '/api/alarms?state=active', { timeoutMs });
      const open = (JSON.parse(body) as { alarms: Alarm[] }).alarms.filter((a) => a.kind === 'fire' && a.source === zone);
      if (!open.length) return true;
      for (const a of open) {
        const comment = { body: { comment: 'bench: checked on site, false alarm' }, timeoutMs };
        if (a.active) await publish(zone, 'normal', ++seq, timeoutMs);
        else if (!a.acked) await call(hub!.http, hub!.token, 'POST', `/api/alarms/${a.id}/ack`, comment);
        else await call(hub!.http, hub!.token, 'POST', `/api/alarms/${a.id}/reset`, comment);
      }
    } catch {
      // A busy hub: try again until the deadline.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

async function closeBrowser(): Promise<void> {
  const b = browser;
  browser = page = undefined;
  await b?.close().catch(() => {});
}

async function disconnect(): Promise<void> {
  for (const w of waiters) w.resolve(null);
  waiters.clear();
  socket?.close();
  socket = undefined;
  await panel?.endAsync(true).catch(() => {});
  panel = undefined;
  hub = undefined;
}
