import type { Alarm, AlarmKind } from '../../gateway/alarms/types.ts';
import type { Incident } from '../../gateway/runbooks/types.ts';
import { prepareSound } from './alarms-sound.ts';
import { api } from './api.ts';
import { onLive, onResync } from './live.ts';
import { Store } from './store.ts';

// The page's open alarms and open incidents (issue 8). Each list is loaded from the
// API at every (re)connect and REPLACED, never merged, so nothing that changed while
// the page was offline stays stale; in between, every 'alarm.changed' and
// 'incident.changed' event is applied at once (the hub never coalesces them).

export type { Alarm, Incident };

/** Open alarms (every state but normal, shelved ones included), highest priority first, then newest. */
export const alarms = new Store<readonly Alarm[]>([]);
/** Open and stabilised incidents (the hub's 'active' view), highest priority first, then newest. */
export const incidents = new Store<readonly Incident[]>([]);
/** True once the first load from the API has arrived. */
export const alarmsLoaded = new Store(false);
/** Alarms whose horn this page has muted (per alarm; a muted alarm keeps flashing until acknowledged). */
export const muted = new Store<ReadonlySet<number>>(new Set());

/**
 * Kinds that sound the horn and flash on every page: fire, and gas, which the handbook
 * treats as an emergency like fire (第九节 七) and the hub never shelves either.
 */
const EMERGENCY_KINDS: ReadonlySet<AlarmKind> = new Set(['fire', 'gas']);

/**
 * Whether an alarm must be announced now: a fire, gas or priority-1 alarm that nobody has
 * acknowledged. Shelved alarms and alarms raised in a maintenance window are recorded
 * without notification by the hub (AlarmChange.notify false); the page does the same.
 */
export function alerting(a: Alarm): boolean {
  return (EMERGENCY_KINDS.has(a.kind) || a.priority === 1) && !a.acked && a.state !== 'normal' && !a.shelved && !a.maintenanceWindow;
}

/** Highest priority first, then newest (gateway/alarms/types.ts byPriorityThenTime; not imported: no runtime code from gateway). */
export function alarmOrder(a: Alarm, b: Alarm): number {
  return a.priority - b.priority || b.raisedAt - a.raisedAt || b.id - a.id;
}

/** Open first, then stabilised, then closed; within each, highest priority first, then newest. */
export function incidentOrder(a: Incident, b: Incident): number {
  const rank = { open: 0, stabilised: 1, closed: 2 } as const;
  return rank[a.state] - rank[b.state] || a.priority - b.priority || b.openedAt - a.openedAt;
}

/** The open incident an alarm's signal opened or joined, if any. */
export function incidentOf(alarm: Alarm, list: readonly Incident[]): Incident | undefined {
  return list.find((i) => i.state !== 'closed' && i.signals.some((s) => s.signal === alarm.source));
}

/** Applies one alarm as the hub now has it: a newer record replaces an older one; a normal one leaves the open list. */
export function applyAlarm(alarm: Alarm): void {
  const current = alarms.get();
  const old = current.find((a) => a.id === alarm.id);
  if (old && old.updatedAt > alarm.updatedAt) return;
  const rest = current.filter((a) => a.id !== alarm.id);
  alarms.set(alarm.state === 'normal' ? rest : [...rest, alarm].sort(alarmOrder));
  if (!alerting(alarm) && muted.get().has(alarm.id)) {
    const next = new Set(muted.get());
    next.delete(alarm.id);
    muted.set(next);
  }
}

/** Applies one incident as the hub now has it; a closed one leaves the active list. */
export function applyIncident(incident: Incident): void {
  const current = incidents.get();
  const old = current.find((i) => i.id === incident.id);
  if (old && old.updatedAt > incident.updatedAt) return;
  const rest = current.filter((i) => i.id !== incident.id);
  incidents.set(incident.state === 'closed' ? rest : [...rest, incident].sort(incidentOrder));
}

export function toggleMute(id: number): void {
  const next = new Set(muted.get());
  if (!next.delete(id)) next.add(id);
  muted.set(next);
}

/**
 * A resync that replaces a list from the API. Events that arrive while the request is
 * on its way are applied again on top of the answer, so a change the answer predates
 * is not lost (the answer may have been produced before the event).
 */
function resyncer<T>(load: () => Promise<readonly T[]>, replace: (list: readonly T[]) => void, apply: (item: T) => void) {
  let inFlight: T[] | undefined;
  return {
    event(item: T) {
      inFlight?.push(item);
      apply(item);
    },
    async resync() {
      const during: T[] = [];
      inFlight = during;
      try {
        const list = await load();
        replace(list);
        for (const item of during) apply(item);
      } finally {
        if (inFlight === during) inFlight = undefined;
      }
    },
  };
}

let started = false;

/** Called once by the shell after login. */
export function startAlarms(): void {
  if (started) return;
  started = true;
  // Right after the login click (a user gesture): the browser lets the horn sound later.
  prepareSound();
  const alarmSync = resyncer(
    async () => (await api<{ alarms: Alarm[] }>('/api/alarms', { query: { state: 'active' } })).alarms,
    (list) => {
      alarms.set([...list].sort(alarmOrder));
      // A mute is for an alarm the page still shows; forget the others.
      const open = new Set(list.filter(alerting).map((a) => a.id));
      muted.set(new Set([...muted.get()].filter((id) => open.has(id))));
      alarmsLoaded.set(true);
    },
    applyAlarm,
  );
  const incidentSync = resyncer(
    async () => (await api<{ incidents: Incident[] }>('/api/incidents', { query: { state: 'active' } })).incidents,
    (list) => incidents.set([...list].sort(incidentOrder)),
    applyIncident,
  );
  onResync(alarmSync.resync);
  onResync(incidentSync.resync);
  onLive('alarm.changed', (change) => alarmSync.event(change.alarm));
  onLive('incident.changed', (change) => incidentSync.event(change.incident));
}
