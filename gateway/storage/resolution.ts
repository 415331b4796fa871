import type { Resolution, RetentionSettings } from './types.ts';

// Which stored resolution answers a bucketed query, and where buckets start in
// the building's own time zone. Daily buckets on UTC are wrong for a building in
// Shanghai: its day starts at 16:00 UTC (cf. home-assistant/core #82784).

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** Used when no config says otherwise (config storage.telemetry.*RetentionDays has the same defaults). */
export const DEFAULT_RETENTION: RetentionSettings = { rawDays: 30, rollup1mDays: 365, rollup1hDays: 3650 };

/** A rollup is read rather than a finer one only when the finer would return more rows per series than this. */
const MAX_ROWS = 10_000;

/**
 * The finest resolution that tiles `every`, still holds data at `from`, and
 * answers in at most MAX_ROWS rows per series; raw when `every` is not a whole
 * number of minutes. 1-hour rollups only serve zones whose offset is a whole
 * number of hours: an hour bucket in Kolkata (+05:30) would straddle two local hours.
 * Rollups trail the raw data by up to one bucket, so short ranges stay on raw.
 */
export function pickResolution(q: { from: number; to: number; every?: number; timeZone?: string }, now: number, retention: RetentionSettings): Resolution {
  const every = q.every;
  if (!every || every % MINUTE !== 0) return 'raw';
  const keeps = (days: number) => q.from >= now - days * DAY;
  const range = q.to - q.from;
  if (range <= HOUR * 6 && keeps(retention.rawDays)) return 'raw';
  const hourOk = every % HOUR === 0 && offsetMs(q.from, q.timeZone) % HOUR === 0 && keeps(retention.rollup1hDays);
  if (keeps(retention.rollup1mDays) && (range / MINUTE <= MAX_ROWS || !hourOk)) return '1m';
  if (hourOk) return '1h';
  return keeps(retention.rawDays) ? 'raw' : '1m';
}

/** The start of the bucket of width `every` that holds t, aligned to local wall-clock time in timeZone. */
export function bucketStart(t: number, every: number, timeZone?: string): number {
  const off = offsetMs(t, timeZone);
  const wall = t + off;
  if (every % DAY !== 0) return Math.floor(wall / every) * every - off;
  // Whole days: floor the local date, then find that local midnight in UTC. The
  // offset at midnight can differ from the one at t across a DST change.
  const midnight = Math.floor(wall / every) * every;
  const guess = midnight - offsetMs(midnight - off, timeZone);
  return midnight - offsetMs(guess, timeZone);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset from UTC at instant t, in ms (east positive); 0 for UTC or no zone. */
export function offsetMs(t: number, timeZone?: string): number {
  if (!timeZone || timeZone === 'UTC') return 0;
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(t).map((x) => [x.type, x.value]));
  const asUtc = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return asUtc - (t - (((t % 1000) + 1000) % 1000));
}
