import type { DeviceStatus, PointValue, SignalState } from '../../gateway/events.ts';
import type { SiteReply } from '../../gateway/http/routes/site.ts';
import { api } from './api.ts';
import { onLive, onResync } from './live.ts';
import { Store } from './store.ts';
import { buildingZone } from './time.ts';

// The building as the page knows it: the site tree (once), and the latest value
// of every point, the comm status of every device and the state of every safety
// signal, from GET /api/live/snapshot at every (re)connect and then from the live
// events in between.

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
    signals.set(new Map(snap.signals.map((s) => [s.signal, s])));
  });
  onLive('meter.values', ({ values: frame }) => {
    const next = new Map(values.get());
    for (const v of frame) next.set(pointKey(v.device, v.point), v);
    values.set(next);
  });
  onLive('signal.state', (state) => {
    const next = new Map(signals.get());
    next.set(state.signal, state);
    signals.set(next);
  });
  onLive('device.status', (status) => {
    const next = new Map(deviceStatus.get());
    next.set(status.device, status);
    deviceStatus.set(next);
  });
}
