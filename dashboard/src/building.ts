import type { DeviceStatus, PointValue, SignalState } from '../../gateway/events.ts';
import type { SiteReply } from '../../gateway/http/routes/site.ts';
import { api } from './api.ts';
import { onLive, onResync } from './live.ts';
import { Store } from './store.ts';
import { buildingZone } from './time.ts';

// The building as the page knows it: the site tree (once), and the latest value
// of every point, the comm status of every device and the state of every safety
// signal, from GET /api/live/snapshot at every (re)connect and then from the live
// events in between. Signal states are applied once per animation frame, into one
// new map, however many frames arrived (issue 15); the alarm banner does not wait
// for them, it follows 'alarm.changed' alone (alarms-state.ts).

export type { SiteReply };
export const site = new Store<SiteReply | undefined>(undefined);
/** Latest value per `device/point`. */
export const values = new Store<ReadonlyMap<string, PointValue>>(new Map());
/** Comm status per device id (meters; see the devices page for buses). */
export const deviceStatus = new Store<ReadonlyMap<string, DeviceStatus>>(new Map());
export const signals = new Store<ReadonlyMap<string, SignalState>>(new Map());

export const pointKey = (device: string, point: string) => `${device}/${point}`;

interface Snapshot {
  values: PointValue[];
  devices: DeviceStatus[];
  signals: SignalState[];
}

let started = false;
/** Signal states received since the last animation frame, latest per signal. */
const unappliedSignals = new Map<string, SignalState>();
let signalsFrame: number | undefined;

export function startBuilding(): void {
  if (started) return;
  started = true;
  onResync(async () => {
    if (!site.get()) {
      const tree = await api<SiteReply>('/api/site');
      buildingZone.set(tree.site.timezone);
      site.set(tree);
    }
    const snap = await api<Snapshot>('/api/live/snapshot');
    values.set(new Map(snap.values.map((v) => [pointKey(v.device, v.point), v])));
    deviceStatus.set(new Map(snap.devices.map((d) => [d.device, d])));
    // The snapshot replaces the live states received before it, those still waiting for a frame too.
    unappliedSignals.clear();
    signals.set(new Map(snap.signals.map((s) => [s.signal, s])));
  });
  onLive('meter.values', ({ values: frame }) => {
    const next = new Map(values.get());
    for (const v of frame) next.set(pointKey(v.device, v.point), v);
    values.set(next);
  });
  onLive('signal.states', ({ states }) => {
    for (const s of states) unappliedSignals.set(s.signal, s);
    signalsFrame ??= requestAnimationFrame(applySignals);
  });
  onLive('device.status', (status) => {
    const next = new Map(deviceStatus.get());
    next.set(status.device, status);
    deviceStatus.set(next);
  });
}

function applySignals(): void {
  signalsFrame = undefined;
  if (!unappliedSignals.size) return;
  const next = new Map(signals.get());
  for (const [id, s] of unappliedSignals) next.set(id, s);
  unappliedSignals.clear();
  signals.set(next);
}
