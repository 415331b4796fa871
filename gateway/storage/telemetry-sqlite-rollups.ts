import type { SqliteDb } from './sqlite-file.ts';
import { bucketStart, DAY, HOUR, MINUTE } from './resolution.ts';
import type { Resolution, RetentionSettings } from './types.ts';

// The embedded store's rollups: 1-minute and 1-hour tables next to the raw
// samples, each row the sum, count, min and max of one series in one bucket, so
// a mean over any span of buckets is exact (sum of sums / sum of counts).
// Writes only widen a "dirty" time range; maintain() recomputes the buckets in it
// and prunes each table past its retention. Recomputing is idempotent, so a
// replayed or corrected sample simply shows up in the next round.

export const ROLLUP_SCHEMA = `
  CREATE TABLE IF NOT EXISTS rollup_1m (
    series_id INTEGER NOT NULL, bucket INTEGER NOT NULL,
    sum REAL NOT NULL, count INTEGER NOT NULL, min REAL NOT NULL, max REAL NOT NULL,
    PRIMARY KEY (series_id, bucket)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS rollup_1h (
    series_id INTEGER NOT NULL, bucket INTEGER NOT NULL,
    sum REAL NOT NULL, count INTEGER NOT NULL, min REAL NOT NULL, max REAL NOT NULL,
    PRIMARY KEY (series_id, bucket)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS rollup_dirty (
    id INTEGER PRIMARY KEY CHECK (id = 1), from_ms INTEGER NOT NULL, to_ms INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS rollup_pruned (
    id INTEGER PRIMARY KEY CHECK (id = 1), raw_before INTEGER NOT NULL, minute_before INTEGER NOT NULL
  );
`;

export type RollupStatements = ReturnType<typeof prepareRollups>;

export function prepareRollups(db: SqliteDb) {
  const table = { '1m': 'rollup_1m', '1h': 'rollup_1h' } as const;
  return {
    /** Widens the dirty range; runs inside the write transaction so it is never lost. */
    markDirty: db.prepare(
      'INSERT INTO rollup_dirty (id, from_ms, to_ms) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET from_ms = min(from_ms, excluded.from_ms), to_ms = max(to_ms, excluded.to_ms)',
    ),
    dirty: db.prepare('SELECT from_ms AS "from", to_ms AS "to" FROM rollup_dirty WHERE id = 1'),
    clearDirty: db.prepare('DELETE FROM rollup_dirty'),
    /** Where the last prune cut each table: buckets before it can no longer be recomputed from the finer table. */
    pruned: db.prepare('SELECT raw_before AS raw, minute_before AS minute FROM rollup_pruned WHERE id = 1'),
    setPruned: db.prepare('INSERT OR REPLACE INTO rollup_pruned (id, raw_before, minute_before) VALUES (1, ?, ?)'),
    // Integer division buckets by UTC minute and hour: every real time zone's
    // offset is a whole number of minutes, and pickResolution() only reads hour
    // rows for zones with whole-hour offsets.
    rollMinutes: db.prepare(
      `INSERT OR REPLACE INTO rollup_1m SELECT series_id, (time / ${MINUTE}) * ${MINUTE}, sum(value), count(*), min(value), max(value)
       FROM samples WHERE series_id = ? AND time >= ? AND time < ? GROUP BY series_id, time / ${MINUTE}`,
    ),
    rollHours: db.prepare(
      `INSERT OR REPLACE INTO rollup_1h SELECT series_id, (bucket / ${HOUR}) * ${HOUR}, sum(sum), sum(count), min(min), max(max)
       FROM rollup_1m WHERE series_id = ? AND bucket >= ? AND bucket < ? GROUP BY series_id, bucket / ${HOUR}`,
    ),
    pruneRaw: db.prepare('DELETE FROM samples WHERE series_id = ? AND time < ?'),
    prune1m: db.prepare('DELETE FROM rollup_1m WHERE series_id = ? AND bucket < ?'),
    prune1h: db.prepare('DELETE FROM rollup_1h WHERE series_id = ? AND bucket < ?'),
    selectRaw: db.prepare('SELECT time, value AS sum, 1 AS count FROM samples WHERE series_id = ? AND time >= ? AND time <= ? ORDER BY time'),
    select1m: db.prepare(`SELECT bucket AS time, sum, count FROM ${table['1m']} WHERE series_id = ? AND bucket >= ? AND bucket <= ? ORDER BY bucket`),
    select1h: db.prepare(`SELECT bucket AS time, sum, count FROM ${table['1h']} WHERE series_id = ? AND bucket >= ? AND bucket <= ? ORDER BY bucket`),
  };
}

/** Recomputes the dirty buckets and prunes past retention, all series, one transaction. */
export function maintainRollups(db: SqliteDb, st: RollupStatements, seriesIds: number[], now: number, retention: RetentionSettings): void {
  const rawCutoff = now - retention.rawDays * DAY;
  const minuteCutoff = now - retention.rollup1mDays * DAY;
  db.transaction(() => {
    const dirty = st.dirty.get() as { from: number; to: number } | undefined;
    const pruned = (st.pruned.get() as { raw: number; minute: number } | undefined) ?? { raw: -Infinity, minute: -Infinity };
    if (dirty) {
      // Roll up before pruning, and never recompute a bucket whose finer rows were
      // pruned by an earlier run: it would be rebuilt from a late point alone.
      const from = Math.max(Math.floor(dirty.from / MINUTE) * MINUTE, Math.ceil(pruned.raw / MINUTE) * MINUTE);
      const to = Math.floor(dirty.to / MINUTE) * MINUTE + MINUTE;
      const hourFrom = Math.max(Math.floor(dirty.from / HOUR) * HOUR, Math.ceil(pruned.minute / HOUR) * HOUR);
      const hourTo = Math.floor(dirty.to / HOUR) * HOUR + HOUR;
      for (const id of seriesIds) {
        if (from < to) st.rollMinutes.run(id, from, to);
        if (hourFrom < hourTo) st.rollHours.run(id, hourFrom, hourTo);
      }
      st.clearDirty.run();
    }
    for (const id of seriesIds) {
      st.pruneRaw.run(id, rawCutoff);
      st.prune1m.run(id, minuteCutoff);
      st.prune1h.run(id, now - retention.rollup1hDays * DAY);
    }
    st.setPruned.run(rawCutoff, minuteCutoff);
  })();
}

/**
 * Mean per bucket of width `every` in timeZone, from rows of (time, sum, count)
 * in ascending time: raw samples (count 1) or rollup rows.
 */
export function bucketRows(rows: Array<{ time: number; sum: number; count: number }>, every: number, timeZone?: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = NaN;
  let end = -Infinity;
  let sum = 0;
  let count = 0;
  for (const r of rows) {
    if (r.time >= end) {
      if (count) out.push([start, sum / count]);
      start = bucketStart(r.time, every, timeZone);
      // A local day is 23 to 25 hours across DST, so the next day's start is found, not added.
      end = every % DAY === 0 ? bucketStart(start + every + every / 2, every, timeZone) : start + every;
      sum = 0;
      count = 0;
    }
    sum += r.sum;
    count += r.count;
  }
  if (count) out.push([start, sum / count]);
  return out;
}

/** Rows of the chosen resolution, from the start of the rollup bucket that holds `from`. */
export function selectRows(st: RollupStatements, resolution: Resolution, seriesId: number, from: number, to: number) {
  const stmt = resolution === 'raw' ? st.selectRaw : resolution === '1m' ? st.select1m : st.select1h;
  const width = resolution === '1m' ? MINUTE : resolution === '1h' ? HOUR : 1;
  return stmt.all(seriesId, Math.floor(from / width) * width, to) as Array<{ time: number; sum: number; count: number }>;
}
