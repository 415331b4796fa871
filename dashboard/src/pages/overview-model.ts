import type { DeviceStatus, PointValue, SignalState } from '../../../gateway/events.ts';
import type { SiteReply } from '../building.ts';
import { pointKey } from '../building.ts';

// What the building overview (issue 8) computes from the site tree and the live
// stores: per-tower counts for the summary line, the safety signals of each tower,
// and how a value or a signal state is coloured.

export type Tower = SiteReply['towers'][number];
export type Unit = Tower['floors'][number]['units'][number];
export type Meter = Unit['meters'][number];
export type Comm = DeviceStatus['status'] | 'unknown';

export interface TowerSummary {
  meters: number;
  online: number;
  offline: number;
  /** No status heard yet (the hub has not polled it since start). */
  unknown: number;
  bad: number;
  stale: number;
}

export function commOf(status: ReadonlyMap<string, DeviceStatus>, device: string): Comm {
  return status.get(device)?.status ?? 'unknown';
}

export function towerSummary(tower: Tower, values: ReadonlyMap<string, PointValue>, status: ReadonlyMap<string, DeviceStatus>): TowerSummary {
  const s: TowerSummary = { meters: 0, online: 0, offline: 0, unknown: 0, bad: 0, stale: 0 };
  for (const floor of tower.floors)
    for (const unit of floor.units)
      for (const meter of unit.meters) {
        s.meters++;
        s[commOf(status, meter.id)]++;
        const q = values.get(pointKey(meter.id, meter.point))?.quality;
        if (q === 'bad') s.bad++;
        else if (q === 'stale') s.stale++;
      }
  return s;
}

/** Floors top down, as a building is drawn; floors without units (plant rooms, car parks) are left out. */
export function floorsTopDown(tower: Tower): Tower['floors'] {
  return tower.floors.filter((f) => f.units.length > 0).sort((a, b) => b.level - a.level);
}

/** B1, 1, 12: the floor label a Chinese building uses for basements. */
export function floorLabel(level: number): string {
  return level < 0 ? `B${-level}` : String(level);
}

/**
 * The signals of each tower, by the place /api/site gives each (`signals[].tower`).
 * Signals that name no tower (weather) are not shown per tower.
 */
export function signalsByTower(signals: ReadonlyMap<string, SignalState>, places: ReadonlyArray<{ id: string; tower: string }>, towerIds: string[]): Map<string, SignalState[]> {
  const out = new Map<string, SignalState[]>(towerIds.map((id) => [id, []]));
  const towerOf = new Map(places.map((p) => [p.id, p.tower]));
  for (const s of signals.values()) {
    const tower = towerOf.get(s.signal);
    if (tower !== undefined) out.get(tower)?.push(s);
  }
  for (const list of out.values()) list.sort((a, b) => a.signal.localeCompare(b.signal));
  return out;
}

/** The quiet state of each kind (gateway/signals/states.ts: index 0). */
const QUIET: Record<SignalState['kind'], string> = {
  'fire-zone': 'normal',
  leak: 'dry',
  'power-feeder': 'on',
  gas: 'normal',
  typhoon: 'none',
  rainstorm: 'none',
};

/** A fire or gas alarm, a wet floor and a feeder off are emergencies (第九节); faults, tests and backup power are warnings. */
const ALARMING = new Set(['alarm', 'wet', 'off']);

export function isQuiet(s: SignalState): boolean {
  return s.state === QUIET[s.kind];
}

/** The value-quality colour classes double as signal colours: good quiet, stale a warning, bad an emergency. */
export function signalClass(s: SignalState): 'q-good' | 'q-stale' | 'q-bad' {
  if (isQuiet(s)) return 'q-good';
  return ALARMING.has(s.state) ? 'q-bad' : 'q-stale';
}

const numberFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });

/** "12,345.6"; '—' for a failed read (null). */
export function fmtValue(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : numberFormat.format(v);
}
