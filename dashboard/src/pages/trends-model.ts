import type { Series } from '../../../gateway/storage/types.ts';
import { api } from '../api.ts';
import type { SiteReply } from '../building.ts';

// What the trends page (issue 8) asks GET /api/telemetry for: each picked meter's
// billing point over a window, at a resolution that keeps a series to about 2000
// points (raw for up to 6 h, 5-minute means for a day, hourly for a week or a month).

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** The hub refuses a longer range (gateway/http/routes/data.ts MAX_RANGE_MS). */
export const MAX_RANGE_MS = 366 * DAY;
/** Issue 8: compare up to 4 meters on one chart. */
export const MAX_METERS = 4;
/** About the most points per series the chart is given. */
export const MAX_POINTS = 2000;

export const PERIODS = [
  { id: '1h', ms: HOUR },
  { id: '6h', ms: 6 * HOUR },
  { id: '24h', ms: DAY },
  { id: '7d', ms: 7 * DAY },
  { id: '30d', ms: 30 * DAY },
] as const;
export type PeriodId = (typeof PERIODS)[number]['id'];

export interface TimeWindow {
  from: number;
  to: number;
}

type Tower = SiteReply['towers'][number];
export type SiteUnit = Tower['floors'][number]['units'][number];
export type SiteMeter = SiteUnit['meters'][number] & { unitId: string };

/** undefined is raw points; else a bucket width the API takes (`5m`, `1h`, `1d`). */
export function everyFor(spanMs: number): string | undefined {
  if (spanMs <= 6 * HOUR) return undefined;
  if (spanMs <= 2 * DAY) return '5m';
  if (spanMs <= (MAX_POINTS - 10) * HOUR) return '1h';
  return '1d';
}

const DENSE = ['10s', '15s', '30s', '1m', '2m', '5m'] as const;
const EVERY_MS: Record<string, number> = { s: 1000, m: MINUTE, h: HOUR, d: DAY };
export const everyMs = (every: string) => Number(every.slice(0, -1)) * EVERY_MS[every.slice(-1)]!;

/** When raw points are denser than MAX_POINTS (a fast poll), the finest buckets that fit instead. */
export function denseEvery(spanMs: number): string {
  return DENSE.find((e) => spanMs / everyMs(e) <= MAX_POINTS) ?? '5m';
}

export interface TrendLine {
  meter: SiteMeter;
  points: Array<[number, number]>;
}

export interface Trend {
  window: TimeWindow;
  /** undefined: raw points. */
  every: string | undefined;
  lines: TrendLine[];
}

async function fetchLine(meter: SiteMeter, win: TimeWindow, every: string | undefined): Promise<TrendLine> {
  const limit = every ? Math.min(10_000, Math.ceil((win.to - win.from) / everyMs(every)) + 2) : MAX_POINTS;
  const reply = await api<{ series: Series[] }>('/api/telemetry', {
    query: { device: meter.id, point: meter.point, from: Math.round(win.from), to: Math.round(win.to), every, limit },
  });
  return { meter, points: reply.series[0]?.points ?? [] };
}

export async function loadTrend(meters: SiteMeter[], win: TimeWindow): Promise<Trend> {
  let every = everyFor(win.to - win.from);
  let lines = await Promise.all(meters.map((m) => fetchLine(m, win, every)));
  // The API keeps the newest `limit` raw points: a full answer would lose the
  // window's start, so ask again for buckets, every series alike.
  if (!every && lines.some((l) => l.points.length >= MAX_POINTS)) {
    every = denseEvery(win.to - win.from);
    lines = await Promise.all(meters.map((m) => fetchLine(m, win, every)));
  }
  return { window: win, every, lines };
}

/** The site's meters by id, each with the unit it serves. */
export function meterIndex(tree: SiteReply | undefined): Map<string, SiteMeter> {
  const out = new Map<string, SiteMeter>();
  for (const tower of tree?.towers ?? [])
    for (const floor of tower.floors) for (const unit of floor.units) for (const m of unit.meters) out.set(m.id, { ...m, unitId: unit.id });
  return out;
}

/** Units whose id or tenant contains the text (case-insensitive), for the meter picker. */
export function searchUnits(tree: SiteReply | undefined, text: string, max = 12): SiteUnit[] {
  const q = text.trim().toLowerCase();
  if (!q) return [];
  const out: SiteUnit[] = [];
  for (const tower of tree?.towers ?? [])
    for (const floor of tower.floors)
      for (const unit of floor.units) {
        if (out.length >= max) return out;
        if (unit.meters.length && (unit.id.toLowerCase().includes(q) || unit.tenant?.company.toLowerCase().includes(q))) out.push(unit);
      }
  return out;
}

/** Why a custom window cannot be shown, or undefined when it can. */
export function windowProblem(win: TimeWindow | undefined): 'invalid' | 'order' | 'long' | undefined {
  if (!win || !Number.isFinite(win.from) || !Number.isFinite(win.to)) return 'invalid';
  if (win.from >= win.to) return 'order';
  if (win.to - win.from > MAX_RANGE_MS) return 'long';
  return undefined;
}
