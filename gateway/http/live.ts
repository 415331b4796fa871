import type { FastifyInstance } from 'fastify';
import { Server, type Socket } from 'socket.io';
import { SESSION_COOKIE, type Session } from '../auth/sessions.ts';
import type { Timer } from '../clock.ts';
import type { PointValue } from '../events.ts';
import { DATA_ROLES } from './access.ts';
import type { HttpContext } from './context.ts';
import { COALESCE_MS, type ClientToServerEvents, type LiveAuth, type LiveRefusal, type ServerToClientEvents } from './live-types.ts';

// Live updates over socket.io, on the fastify server's own port. Deny by default: a
// connection without a valid session for a data role is refused at the handshake,
// and a socket is dropped when its session ends (logout or expiry).
//
// Meter values are coalesced: values arriving within COALESCE_MS go out as one frame
// (latest value per point), so a burst of polls costs a wall screen at most 10 frames
// a second. Device status changes are rare and go out at once. Alarm and incident
// changes are never coalesced or delayed: each goes out at once to every authorised client.
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
  const refuseClientEvents = clientEventRefuser(app, metrics);
  io.on('connection', (socket) => {
    metrics.socketClients.inc();
    void socket.join(ROOM);
    refuseClientEvents(socket);
    // Node timers overflow past 2^31-1 ms (~24.8 days); a longer session is re-checked by reconnecting.
    const untilExpiry = Math.min(socket.data.session.expiresAt - clock.now(), 2 ** 31 - 1);
    expiryTimers.set(socket.id, clock.setTimeout(() => socket.disconnect(true), Math.max(0, untilExpiry)));
    socket.on('disconnect', () => {
      metrics.socketClients.dec();
      expiryTimers.get(socket.id)?.cancel();
      expiryTimers.delete(socket.id);
    });
  });

  const stopWatchingSessions = sessions.onEnd((sessionId) => {
    for (const socket of io.of('/').sockets.values()) if (socket.data.session?.id === sessionId) socket.disconnect(true);
  });

  const pending = new Map<string, PointValue>();
  let flushTimer: Timer | undefined;
  const flush = () => {
    flushTimer = undefined;
    if (!pending.size) return;
    const values = [...pending.values()];
    pending.clear();
    io.to(ROOM).emit('meter.values', { values });
  };

  events.on(owner, 'meter.values', ({ values }) => {
    // A newer value of the same point within the window replaces the older one:
    // the screen shows the present, and the snapshot API has nothing older to add.
    for (const v of values) pending.set(`${v.device}/${v.point}`, v);
    flushTimer ??= clock.setTimeout(flush, COALESCE_MS);
  });
  events.on(owner, 'device.status', (status) => io.to(ROOM).emit('device.status', status));
  // Safety signal states (fire zones, leaks, feeders, weather) are rare and go out at once, like alarms.
  events.on(owner, 'signal.state', (state) => io.to(ROOM).emit('signal.state', state));
  // Alarms bypass the coalescing window entirely: each change is its own frame, at once
  // (NFPA 72 on-premises notification; issue 5 aims far below its 10 s).
  events.on(owner, 'alarm.changed', (change) => io.to(ROOM).emit('alarm.changed', change));
  // Incidents likewise: a countdown, an escalation or a step done is shown the moment it happens (handbook 第九节).
  events.on(owner, 'incident.changed', (change) => io.to(ROOM).emit('incident.changed', change));
  // The lobby screens' own pushes go out on /display (display-live.ts); the control room is told which screens changed.
  events.on(owner, 'display.changed', (change) => io.to(ROOM).emit('display.changed', change));

  app.addHook('preClose', async () => {
    stopping = true;
    events.removeOwner(owner);
    flushTimer?.cancel();
    flushTimer = undefined;
    pending.clear();
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
