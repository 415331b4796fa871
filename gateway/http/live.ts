import type { FastifyInstance } from 'fastify';
import { Server, type Socket } from 'socket.io';
import { SESSION_COOKIE, type Session } from '../auth/sessions.ts';
import type { Timer } from '../clock.ts';
import type { PointValue, SignalState } from '../events.ts';
import { DATA_ROLES } from './access.ts';
import { BILLING_READ_ROLES } from './routes/billing.ts';
import type { HttpContext } from './context.ts';
import { COALESCE_MS, SIGNAL_COALESCE_MS, type ClientToServerEvents, type LiveAuth, type LiveRefusal, type ServerToClientEvents } from './live-types.ts';

// Live updates over socket.io, on the fastify server's own port. Deny by default: a
// connection without a valid session for a data role is refused at the handshake,
// and a socket is dropped when its session ends (logout or expiry).
//
// Alarm changes are never coalesced or delayed: each goes out at once to every
// authorised client, ahead of anything still waiting for its window (issue 15: a
// device flooding signal reports must not hold the red fire banner back). Incident,
// lobby-screen and device status changes likewise go out at once.
//
// Meter values and signal states are coalesced to the latest value per point or
// signal: one 'meter.values' frame per COALESCE_MS, one 'signal.states' frame per
// SIGNAL_COALESCE_MS, so a burst costs a browser a few frames a second. Neither is
// queued to a client that is still writing an earlier frame (a slow client), so an
// alarm frame never waits behind them: meter values are sent volatile (dropped
// there; the next poll brings the point again), while signal states are held for
// that client, the latest per signal, and tried again a window later, since a
// signal may not change again for days.
//
// Nothing is accepted up the socket: the dashboard only listens (every action is a
// REST call, checked by role and audited). An event a client sends anyway is refused,
// counted in bohub_live_refused_events_total and logged once per socket; an ack it
// asked for is answered with the refusal. The socket itself stays up.

interface SocketData {
  session: Session;
}

type LiveIo = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type LiveSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

export interface LiveServer {
  readonly io: LiveIo;
  /** True once the app is closing: new connections are refused, so none outlives the hub. */
  readonly stopping: boolean;
}

/** Room every authorised socket joins; events are broadcast to it. */
const ROOM = 'live';
/** Sockets whose role may read billing: they are told of billing jobs' progress. */
const BILLING_ROOM = 'billing';
/** Refused event names are a metric label: cut to this length, and to this many distinct names (then '(other)'), so a client cannot grow the registry without bound. */
const EVENT_LABEL_CHARS = 64;
const EVENT_LABELS_MAX = 50;
let instances = 0;

/**
 * Attaches socket.io to app.server. Call before app.listen. Clients are disconnected
 * in the app's preClose hook (an open WebSocket would otherwise keep server.close()
 * waiting) and the bus listeners are removed in onClose.
 */
export function attachLive(app: FastifyInstance, { services, sessions }: HttpContext): LiveServer {
  const { events, metrics, clock } = services;
  const owner = `http.live#${++instances}`;
  // Same-origin only (no CORS): the dashboard is served from this server.
  const io: LiveIo = new Server(app.server, { serveClient: true });

  // Set in preClose. Between the sockets being dropped there and the server closing, a
  // client retrying at once would otherwise connect to a hub that is going away and keep
  // that socket open after it (http.Server.close leaves upgraded sockets alone).
  let stopping = false;
  io.use((socket, next) => {
    const session = sessionOf(socket.handshake, app, sessions);
    const refuse = (code: LiveRefusal, message: string) => next(Object.assign(new Error(message), { data: { code } }));
    if (stopping) return refuse('BOHUB_UNAVAILABLE', 'the hub is stopping');
    if (!session) return refuse('BOHUB_AUTH_REQUIRED', 'log in first');
    if (!DATA_ROLES.includes(session.role)) return refuse('BOHUB_FORBIDDEN', `the role ${session.role} may not receive live values`);
    socket.data.session = session;
    next();
  });

  const expiryTimers = new Map<string, Timer>();
  /** By socket id: the signal states a socket was too busy for at a flush, latest per signal. */
  const heldSignals = new Map<string, Map<string, SignalState>>();
  const refuseClientEvents = clientEventRefuser(app, metrics);
  io.on('connection', (socket) => {
    metrics.socketClients.inc();
    void socket.join(ROOM);
    if (BILLING_READ_ROLES.includes(socket.data.session.role)) void socket.join(BILLING_ROOM);
    refuseClientEvents(socket);
    // Node timers overflow past 2^31-1 ms (~24.8 days); a longer session is re-checked by reconnecting.
    const untilExpiry = Math.min(socket.data.session.expiresAt - clock.now(), 2 ** 31 - 1);
    expiryTimers.set(socket.id, clock.setTimeout(() => socket.disconnect(true), Math.max(0, untilExpiry)));
    socket.on('disconnect', () => {
      metrics.socketClients.dec();
      expiryTimers.get(socket.id)?.cancel();
      expiryTimers.delete(socket.id);
      heldSignals.delete(socket.id);
    });
  });

  const stopWatchingSessions = sessions.onEnd((sessionId) => {
    for (const socket of io.of('/').sockets.values()) if (socket.data.session?.id === sessionId) socket.disconnect(true);
  });

  const pendingValues = new Map<string, PointValue>();
  let valuesTimer: Timer | undefined;
  const flushValues = () => {
    valuesTimer = undefined;
    if (!pendingValues.size) return;
    const values = [...pendingValues.values()];
    pendingValues.clear();
    io.to(ROOM).volatile.emit('meter.values', { values });
  };

  const pendingSignals = new Map<string, SignalState>();
  let signalsTimer: Timer | undefined;
  const flushSignals = () => {
    signalsTimer = undefined;
    const batch = [...pendingSignals.values()];
    pendingSignals.clear();
    for (const socket of io.of('/').sockets.values()) {
      if (!socket.rooms.has(ROOM)) continue;
      let states = batch;
      const held = heldSignals.get(socket.id);
      if (held) {
        for (const s of batch) held.set(s.signal, s);
        states = [...held.values()];
      }
      if (!states.length) continue;
      // What socket.io's volatile flag checks (Client.writeToEngine), but the states are kept, not dropped.
      if (socket.conn.transport.writable) {
        heldSignals.delete(socket.id);
        socket.emit('signal.states', { states });
      } else if (!held) heldSignals.set(socket.id, new Map(states.map((s) => [s.signal, s])));
    }
    if (heldSignals.size) signalsTimer ??= clock.setTimeout(flushSignals, SIGNAL_COALESCE_MS);
  };

  events.on(owner, 'meter.values', ({ values }) => {
    // A newer value of the same point within the window replaces the older one:
    // the screen shows the present, and the snapshot API has nothing older to add.
    for (const v of values) pendingValues.set(`${v.device}/${v.point}`, v);
    valuesTimer ??= clock.setTimeout(flushValues, COALESCE_MS);
  });
  // Safety signal states (fire zones, leaks, feeders, weather) likewise: the alarm a
  // signal raises comes as its own 'alarm.changed' at once, so the window delays only
  // the overview's signal line.
  events.on(owner, 'signal.state', (state) => {
    pendingSignals.set(state.signal, state);
    signalsTimer ??= clock.setTimeout(flushSignals, SIGNAL_COALESCE_MS);
  });
  events.on(owner, 'device.status', (status) => io.to(ROOM).emit('device.status', status));
  // Alarms bypass the windows entirely: each change is its own frame, at once, and the
  // signal states still pending are not flushed ahead of it (NFPA 72 on-premises
  // notification; issue 5 aims far below its 10 s).
  events.on(owner, 'alarm.changed', (change) => io.to(ROOM).emit('alarm.changed', change));
  // Incidents likewise: a countdown, an escalation or a step done is shown the moment it happens (handbook 第九节).
  events.on(owner, 'incident.changed', (change) => io.to(ROOM).emit('incident.changed', change));
  // The lobby screens' own pushes go out on /display (display-live.ts); the control room is told which screens changed.
  events.on(owner, 'display.changed', (change) => io.to(ROOM).emit('display.changed', change));
  // Billing runs and exports (gateway/work/jobs.ts): a few frames a second at most, each in order, to finance's pages.
  events.on(owner, 'job.progress', (progress) => io.to(BILLING_ROOM).emit('job.progress', progress));

  app.addHook('preClose', async () => {
    stopping = true;
    events.removeOwner(owner);
    for (const timer of [valuesTimer, signalsTimer]) timer?.cancel();
    valuesTimer = signalsTimer = undefined;
    pendingValues.clear();
    pendingSignals.clear();
    heldSignals.clear();
    stopWatchingSessions();
    io.disconnectSockets(true);
    // Closes engine.io's clients (WebSocket and long-polling) without closing
    // app.server, which fastify closes itself.
    io.engine.close();
  });
  app.addHook('onClose', async () => {
    for (const t of expiryTimers.values()) t.cancel();
    expiryTimers.clear();
  });

  return {
    io,
    get stopping() {
      return stopping;
    },
  };
}

/**
 * Returns what refuses, on one socket, every event its client sends: counted by name,
 * logged once per socket at warn, an ack answered with the refusal; the socket stays
 * up. One per app, so the label cap is shared by all its sockets (also for the
 * /display namespace, display-live.ts).
 */
export function clientEventRefuser(app: FastifyInstance, metrics: HttpContext['services']['metrics']): (socket: Socket<Record<string, never>, object, object, { session: Session }>) => void {
  const labels = new Set<string>();
  const labelOf = (event: unknown): string => {
    const name = String(event).slice(0, EVENT_LABEL_CHARS);
    if (labels.has(name)) return name;
    if (labels.size >= EVENT_LABELS_MAX) return '(other)';
    labels.add(name);
    return name;
  };
  return (socket) => {
    let warned = false;
    socket.onAny((event: unknown, ...args: unknown[]) => {
      const label = labelOf(event);
      metrics.liveRefusedEvents.inc({ event: label });
      if (!warned) {
        warned = true;
        const { username, role } = socket.data.session;
        app.log.warn({ socket: socket.id, namespace: socket.nsp.name, username, role, event: label }, 'live client sent an event up the socket; refused (further ones from this socket are counted, not logged)');
      }
      const ack = args.at(-1);
      if (typeof ack === 'function') ack({ error: { code: 'BOHUB_FORBIDDEN', message: 'the live socket accepts no events; use the REST API' } });
    });
  };
}

/** The session from the handshake's `auth.token`, else from the session cookie (also used by display-live.ts). */
export function sessionOf(handshake: { auth: unknown; headers: { cookie?: string } }, app: FastifyInstance, sessions: HttpContext['sessions']): Session | undefined {
  const auth = handshake.auth as LiveAuth | undefined;
  if (typeof auth?.token === 'string' && auth.token) return sessions.lookup(auth.token);
  const header = handshake.headers.cookie;
  return header ? sessions.lookup(app.parseCookie(header)[SESSION_COOKIE]) : undefined;
}
