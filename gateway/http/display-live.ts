import type { FastifyInstance } from 'fastify';
import type { Namespace, Socket } from 'socket.io';
import type { Session } from '../auth/sessions.ts';
import type { Timer } from '../clock.ts';
import { mayReadScreen } from './access.ts';
import type { HttpContext } from './context.ts';
import { clientEventRefuser, sessionOf, type LiveServer } from './live.ts';
import {
  DISPLAY_NAMESPACE,
  type ClientToServerEvents,
  type DisplayLiveAuth,
  type DisplayLiveRefusal,
  type DisplayServerToClientEvents,
} from './live-types.ts';

// The lobby screens' push (issue 9): the socket.io namespace /display on the live
// server's port. Each socket is in exactly one screen's room. A lobby screen's own
// session (role display, from POST /api/display/login) gets its own screen and no
// other; the control room may preview any screen by naming it in the handshake.
// Everything else is refused at the handshake (deny by default, as live.ts).
//
// On connect the socket gets what its screen shows at once ('display.now'), then the
// fresh ScreenNow on every 'display.changed' for that screen: never coalesced, so an
// emergency override (handbook 第九节) is on the screen the moment the runbook puts it
// there, and nothing unapproved is ever sent (第七节 二: the service decides what a
// screen shows; this file only forwards it).

interface SocketData {
  session: Session;
  screen: string;
}

type DisplayNamespace = Namespace<ClientToServerEvents, DisplayServerToClientEvents, Record<string, never>, SocketData>;
type DisplaySocket = Socket<ClientToServerEvents, DisplayServerToClientEvents, Record<string, never>, SocketData>;

/** The room of one screen's sockets. */
export const screenRoom = (screen: string): string => `screen:${screen}`;

let instances = 0;

/**
 * Opens /display on the live server's io. Sockets are dropped when their session ends
 * and in the app's preClose hook; the bus listener is removed there too.
 */
export function attachDisplayLive(app: FastifyInstance, { services, sessions }: HttpContext, live: LiveServer): void {
  const { events, metrics, clock, config } = services;
  const owner = `http.display-live#${++instances}`;
  const screens = new Set(config.building.displays.map((d) => d.id));
  const ns = live.io.of(DISPLAY_NAMESPACE) as unknown as DisplayNamespace;

  ns.use((socket, next) => {
    const refuse = (code: DisplayLiveRefusal, message: string) => next(Object.assign(new Error(message), { data: { code } }));
    if (live.stopping) return refuse('BOHUB_UNAVAILABLE', 'the hub is stopping');
    const session = sessionOf(socket.handshake, app, sessions);
    if (!session) return refuse('BOHUB_AUTH_REQUIRED', 'log in first');
    const asked = (socket.handshake.auth as DisplayLiveAuth | undefined)?.screen;
    // A screen's session needs not name its screen; naming another one is refused, not ignored.
    const screen = session.role === 'display' ? (asked ?? session.screen) : asked;
    if (typeof screen !== 'string' || !screen) {
      if (session.role === 'display') return refuse('BOHUB_FORBIDDEN', 'this display login has no screen');
      return refuse('BOHUB_FORBIDDEN', 'name the screen to preview in auth.screen');
    }
    if (!mayReadScreen(session, screen)) return refuse('BOHUB_FORBIDDEN', `the ${session.role} login may not read the screen ${screen}`);
    if (!screens.has(screen)) return refuse('BOHUB_DISPLAY_NOT_FOUND', `no screen ${screen}`);
    if (!services.display) return refuse('BOHUB_DISPLAY_UNAVAILABLE', 'the display service is not running');
    socket.data.session = session;
    socket.data.screen = screen;
    next();
  });

  const expiryTimers = new Map<string, Timer>();
  // A screen only listens, like the control room: whatever it sends is refused and counted.
  const refuseClientEvents = clientEventRefuser(app, metrics);
  ns.on('connection', (socket) => {
    metrics.socketClients.inc();
    refuseClientEvents(socket);
    const { screen, session } = socket.data;
    void socket.join(screenRoom(screen));
    // Node timers overflow past 2^31-1 ms (~24.8 days); a longer session is re-checked by reconnecting.
    const untilExpiry = Math.min(session.expiresAt - clock.now(), 2 ** 31 - 1);
    expiryTimers.set(socket.id, clock.setTimeout(() => socket.disconnect(true), Math.max(0, untilExpiry)));
    socket.on('disconnect', () => {
      metrics.socketClients.dec();
      expiryTimers.get(socket.id)?.cancel();
      expiryTimers.delete(socket.id);
    });
    const now = screenNow(screen);
    if (now) socket.emit('display.now', now);
  });

  const stopWatchingSessions = sessions.onEnd((sessionId) => {
    for (const socket of ns.sockets.values()) if (socket.data.session?.id === sessionId) socket.disconnect(true);
  });

  events.on(owner, 'display.changed', ({ screens: changed }) => {
    for (const screen of new Set(changed)) {
      const room = screenRoom(screen);
      // Nobody watching this screen: nothing to compute.
      if (!ns.adapter.rooms.get(room)?.size) continue;
      const now = screenNow(screen);
      if (now) ns.to(room).emit('display.now', now);
    }
  });

  /** What the screen shows now, or undefined (logged) when the service cannot say. */
  function screenNow(screen: string) {
    try {
      return services.display?.now(screen);
    } catch (err) {
      // The screen keeps showing what it last got (the lobby page's offline rule); the hub log says why.
      app.log.error({ err, screen }, 'could not compute what the screen shows');
      return undefined;
    }
  }

  app.addHook('preClose', async () => {
    events.removeOwner(owner);
    stopWatchingSessions();
    ns.disconnectSockets(true);
  });
  app.addHook('onClose', async () => {
    for (const t of expiryTimers.values()) t.cancel();
    expiryTimers.clear();
  });
}

