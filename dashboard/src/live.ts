import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, LiveRefusal, ServerToClientEvents } from '../../gateway/http/live-types.ts';
import { sessionLost } from './api.ts';
import { Store } from './store.ts';

// The one socket.io connection of the page (gateway/http/live.ts). socket.io
// reconnects by itself with backoff; after every (re)connect each part of the page
// reloads its state from the REST API (resync handlers), so nothing missed while
// offline stays stale. While disconnected, `connection` says since when, for the
// "offline since …" banner.

export interface Connection {
  state: 'connecting' | 'online' | 'offline';
  /** When the page lost the hub (ms); set while offline. */
  offlineSince?: number;
  /** Completed resyncs since the page loaded (the first connect counts). */
  syncs: number;
}

export const connection = new Store<Connection>({ state: 'connecting', syncs: 0 });

type LiveSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
type Handler = () => Promise<void> | void;

let socket: LiveSocket | undefined;
const resyncHandlers = new Set<Handler>();

/** Called after every connect and reconnect (and at once when already online): reload from the API. */
export function onResync(fn: Handler): () => void {
  resyncHandlers.add(fn);
  if (connection.get().state === 'online') void fn();
  return () => resyncHandlers.delete(fn);
}

/** Listens to a live event; returns the unsubscribe. Safe to call before startLive. */
export function onLive<K extends keyof ServerToClientEvents>(event: K, fn: ServerToClientEvents[K]): () => void {
  const listeners = eventListeners(event);
  listeners.add(fn as never);
  return () => listeners.delete(fn as never);
}

const listenersByEvent = new Map<string, Set<(...args: unknown[]) => void>>();
function eventListeners(event: string): Set<(...args: unknown[]) => void> {
  let set = listenersByEvent.get(event);
  if (!set) listenersByEvent.set(event, (set = new Set()));
  return set;
}

const EVENTS: Array<keyof ServerToClientEvents> = ['meter.values', 'device.status', 'signal.states', 'alarm.changed', 'incident.changed', 'display.changed', 'job.progress'];

/**
 * After a (re)connect: online first, then every handler reloads. A part of the page
 * that registers while the reloads run (a page opened just after login) is therefore
 * called at once by onResync, never left waiting for the next reconnect.
 */
export async function resync(): Promise<void> {
  connection.update((c) => ({ state: 'online', syncs: c.syncs }));
  await Promise.allSettled([...resyncHandlers].map((fn) => fn()));
  connection.update((c) => ({ ...c, syncs: c.syncs + 1 }));
}

export function startLive(): void {
  if (socket) return;
  // Same origin, the session cookie rides along. Reconnection is socket.io's own,
  // with a ceiling of 5 s between attempts so a restarted hub is found quickly.
  socket = io({ reconnectionDelay: 500, reconnectionDelayMax: 5000, withCredentials: true }) as LiveSocket;
  for (const event of EVENTS) {
    socket.on(event, ((payload: unknown) => {
      for (const fn of eventListeners(event)) fn(payload);
    }) as never);
  }
  socket.on('connect', () => void resync());
  socket.on('disconnect', (reason) => {
    connection.update((c) => ({ ...c, state: 'offline', offlineSince: c.offlineSince ?? Date.now() }));
    // The server closed the socket: a stopping hub, a logout or an expired session.
    // socket.io does not retry that by itself, so try again; an ended session is then
    // refused at the handshake (connect_error BOHUB_AUTH_REQUIRED) and the login shows.
    if (reason === 'io server disconnect') setTimeout(() => socket?.connect(), 1000);
  });
  socket.on('connect_error', (err) => {
    const code = (err as Error & { data?: { code?: LiveRefusal } }).data?.code;
    if (code === 'BOHUB_AUTH_REQUIRED') sessionLost.set(true);
    // A refusal by the hub (a hub that is stopping: BOHUB_UNAVAILABLE) is not retried by
    // socket.io itself (the socket is no longer active); try again shortly.
    else if (socket && !socket.active) setTimeout(() => socket?.connect(), 2000);
    connection.update((c) => (c.state === 'online' ? c : { ...c, state: 'offline', offlineSince: c.offlineSince ?? Date.now() }));
  });
}

export function stopLive(): void {
  socket?.disconnect();
  socket = undefined;
  connection.set({ state: 'connecting', syncs: 0 });
}
