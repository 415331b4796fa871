import type { DeviceStatus } from '../../../gateway/events.ts';
import type { BusReport, DeviceReport, DevicesReply, SourceReport } from '../../../gateway/http/api-types.ts';

// The devices page's view of GET /api/devices (issue 8): the report merged with
// the live comm status, filtered to the problems if asked, offline first.

export type { BusReport, DeviceReport, DevicesReply, SourceReport };

/**
 * The live `device.status` events are newer than the last report for as long as
 * the page is connected (after a reconnect both are reloaded), so a live status
 * wins; an offline transition also names its error.
 */
export function mergeLive(devices: DeviceReport[], live: ReadonlyMap<string, DeviceStatus>): DeviceReport[] {
  return devices.map((d) => {
    const s = live.get(d.id);
    if (!s || s.status === d.status) return d;
    const merged: DeviceReport = { ...d, status: s.status };
    if (s.status === 'offline' && s.error && s.at >= (d.lastErrorAt ?? 0)) {
      merged.lastError = s.error;
      merged.lastErrorAt = s.at;
    }
    return merged;
  });
}

export const deviceProblem = (d: DeviceReport) => d.status !== 'online' || d.consecutiveFailures > 0;
export const busProblem = (b: BusReport) => !b.connected;
export const sourceProblem = (s: SourceReport) => s.status !== 'online';

const RANK = { offline: 0, unknown: 1, online: 2 } as const;

/** Offline first, then unknown, then by id. */
export function sortDevices(list: DeviceReport[]): DeviceReport[] {
  return [...list].sort((a, b) => RANK[a.status] - RANK[b.status] || b.consecutiveFailures - a.consecutiveFailures || a.id.localeCompare(b.id));
}

export function sortBuses(list: BusReport[]): BusReport[] {
  return [...list].sort((a, b) => Number(a.connected) - Number(b.connected) || a.id.localeCompare(b.id));
}

export function sortSources(list: SourceReport[]): SourceReport[] {
  return [...list].sort((a, b) => RANK[a.status] - RANK[b.status] || a.source.localeCompare(b.source));
}

export type DeviceCounts = { online: number; offline: number; unknown: number };

export function countDevices(list: DeviceReport[]): DeviceCounts {
  const c: DeviceCounts = { online: 0, offline: 0, unknown: 0 };
  for (const d of list) c[d.status]++;
  return c;
}
