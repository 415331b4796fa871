import { setImmediate as nextTurn } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import { BohubError } from '../errors.ts';
import type { Quality } from '../events.ts';
import { DEFAULT_RETENTION, pickResolution } from './resolution.ts';
import { openSqlite, type SqliteDb } from './sqlite-file.ts';
import { bucketRows, maintainRollups, prepareRollups, ROLLUP_SCHEMA, selectRows, type RollupStatements } from './telemetry-sqlite-rollups.ts';
import type { RangeQuery, RetentionSettings, Sample, Series, SpoolSettings, TelemetryStore } from './types.ts';

export const TELEMETRY_FILE = 'telemetry.db';
/** Samples per transaction: about 7 ms of the event loop each (write()). */
export const ROWS_PER_TRANSACTION = 500;

// Quality as a small integer: the samples table is the big one, keep rows narrow.
const QUALITY_CODE: Record<Quality, number> = { good: 0, stale: 1, bad: 2 };
const QUALITY_BY_CODE: Quality[] = ['good', 'stale', 'bad'];

export interface SqliteTelemetryOptions {
  /** How long raw samples and rollups are kept; default 30 days, 1 year, 10 years. */
  retention?: RetentionSettings;
  /** Passed on to the TelemetryWriter (types.ts). */
  spool?: SpoolSettings;
  /** For choosing a resolution by age; default Date.now. */
  now?: () => number;
}

interface SeriesRow {
  id: number;
  measurement: string;
  tags: Record<string, string>;
}

/**
 * The embedded telemetry store (backend 'embedded'): `telemetry.db` in the data
 * dir, apart from records.db so trend volume never slows or bloats the records.
 * A series (measurement + tag set) gets an integer id; samples are keyed by
 * (series, time), which is also the index every range query walks.
 * Like InfluxDB, a second sample for the same series and time replaces the first.
 * Rollups and pruning: telemetry-sqlite-rollups.ts, run by maintain().
 */
export class SqliteTelemetryStore implements TelemetryStore {
  readonly backend = 'embedded' as const;
  private db?: SqliteDb;
  private statements?: ReturnType<typeof prepare>;
  private rollups?: RollupStatements;
  readonly spool?: SpoolSettings;
  private readonly retention: RetentionSettings;
  /** Every series, by canonical key. A building has a few thousand; they live in memory. */
  private readonly series = new Map<string, SeriesRow>();

  constructor(
    private readonly dataDir: string,
    private readonly options: SqliteTelemetryOptions = {},
  ) {
    this.retention = options.retention ?? DEFAULT_RETENTION;
    this.spool = options.spool;
  }

  async open(): Promise<void> {
    if (this.db) return;
    const db = openSqlite(this.dataDir, TELEMETRY_FILE, { synchronous: 'NORMAL', unavailableCode: 'BOHUB_TELEMETRY_WRITE' });
    try {
      db.exec(`
        CREATE TABLE IF NOT EXISTS series (
          id          INTEGER PRIMARY KEY,
          measurement TEXT NOT NULL,
          tags_json   TEXT NOT NULL,
          UNIQUE (measurement, tags_json)
        );
        CREATE TABLE IF NOT EXISTS samples (
          series_id INTEGER NOT NULL REFERENCES series (id),
          time      INTEGER NOT NULL,
          value     REAL    NOT NULL,
          quality   INTEGER NOT NULL,
          PRIMARY KEY (series_id, time)
        ) WITHOUT ROWID;
      ` + ROLLUP_SCHEMA);
      for (const row of db.prepare('SELECT id, measurement, tags_json FROM series').all() as Array<{ id: number; measurement: string; tags_json: string }>) {
        this.series.set(seriesKey(row.measurement, row.tags_json), { id: row.id, measurement: row.measurement, tags: JSON.parse(row.tags_json) });
      }
      this.statements = prepare(db);
      this.rollups = prepareRollups(db);
      this.db = db;
    } catch (err) {
      db.close();
      this.series.clear();
      throw err;
    }
  }

  async write(batch: Sample[]): Promise<void> {
    // A batch is up to 5,000 samples; in one transaction it held the event loop for
    // up to 70 ms (bench alarm-under-work), so it is written in slices with the loop
    // free between them. A retried batch rewrites the slices already stored: a sample
    // replaces the one of its series and time (INSERT OR REPLACE), so nothing doubles.
    this.ready();
    for (let first = 0; first < batch.length; first += ROWS_PER_TRANSACTION) {
      if (first > 0) await nextTurn();
      this.writeSlice(batch.slice(first, first + ROWS_PER_TRANSACTION), batch.length);
    }
  }

  private writeSlice(slice: Sample[], batchSize: number): void {
    const { db, statements } = this.ready();
    const added: string[] = [];
    try {
      // One transaction per slice: one WAL append instead of one per row.
      db.transaction(() => {
        let from = Infinity;
        let to = -Infinity;
        for (const s of slice) {
          const id = this.seriesId(s.measurement, s.tags, statements, added);
          const time = Math.round(s.time);
          statements.insertSample.run(id, time, s.value, QUALITY_CODE[s.quality]);
          if (time < from) from = time;
          if (time > to) to = time;
        }
        this.rollups!.markDirty.run(from, to);
      })();
    } catch (err) {
      // The rollback took the new series rows with it; forget their ids too.
      for (const key of added) this.series.delete(key);
      throw new BohubError('BOHUB_TELEMETRY_WRITE', `telemetry batch of ${batchSize} not stored: ${(err as Error).message}`, { cause: err });
    }
  }

  async query(q: RangeQuery): Promise<Series[]> {
    const { statements } = this.ready();
    const wanted = Object.entries(q.tags ?? {});
    const result: Series[] = [];
    for (const row of this.series.values()) {
      if (row.measurement !== q.measurement) continue;
      if (!wanted.every(([k, v]) => row.tags[k] === v)) continue;
      if (q.every) {
        const resolution = pickResolution(q, (this.options.now ?? Date.now)(), this.retention);
        const points = bucketRows(selectRows(this.rollups!, resolution, row.id, q.from, q.to), q.every, q.timeZone);
        if (points.length) result.push({ measurement: row.measurement, tags: { ...row.tags }, points: q.limit ? points.slice(-q.limit) : points, resolution });
        continue;
      }
      // Newest first so LIMIT keeps the newest, then turned around to ascending.
      const rows = statements.selectRange.all(row.id, q.from, q.to, q.limit ?? -1) as Array<{ time: number; value: number; quality: number }>;
      if (rows.length === 0) continue;
      rows.reverse();
      result.push({
        measurement: row.measurement,
        tags: { ...row.tags },
        points: rows.map((r) => [r.time, r.value]),
        qualities: rows.map((r) => QUALITY_BY_CODE[r.quality] ?? 'bad'),
      });
    }
    return result.sort((a, b) => JSON.stringify(a.tags).localeCompare(JSON.stringify(b.tags)));
  }

  /** Recomputes the rollups written to since the last run and prunes each resolution past its retention. */
  async maintain(now: number): Promise<void> {
    const { db } = this.ready();
    maintainRollups(db, this.rollups!, [...this.series.values()].map((s) => s.id), now, this.retention);
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
    this.statements = undefined;
    this.rollups = undefined;
    this.series.clear();
  }

  private ready(): { db: SqliteDb; statements: ReturnType<typeof prepare> } {
    if (!this.db || !this.statements) throw new BohubError('BOHUB_TELEMETRY_WRITE', `telemetry store ${this.dataDir}/${TELEMETRY_FILE} is not open`);
    return { db: this.db, statements: this.statements };
  }

  private seriesId(measurement: string, tags: Record<string, string>, statements: ReturnType<typeof prepare>, added: string[]): number {
    const tagsJson = canonicalTags(tags);
    const key = seriesKey(measurement, tagsJson);
    const known = this.series.get(key);
    if (known) return known.id;
    const id = Number(statements.insertSeries.run(measurement, tagsJson).lastInsertRowid);
    this.series.set(key, { id, measurement, tags: JSON.parse(tagsJson) });
    added.push(key);
    return id;
  }
}

function prepare(db: Database.Database) {
  return {
    insertSeries: db.prepare('INSERT INTO series (measurement, tags_json) VALUES (?, ?)'),
    insertSample: db.prepare('INSERT OR REPLACE INTO samples (series_id, time, value, quality) VALUES (?, ?, ?, ?)'),
    // A negative LIMIT is "no limit" in SQLite.
    selectRange: db.prepare('SELECT time, value, quality FROM samples WHERE series_id = ? AND time >= ? AND time <= ? ORDER BY time DESC LIMIT ?'),
  };
}

/** Tags sorted by key, so {a,b} and {b,a} name the same series. Empty values are dropped, as InfluxDB does. */
function canonicalTags(tags: Record<string, string>): string {
  const sorted = Object.entries(tags)
    .filter(([, v]) => v !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(Object.fromEntries(sorted));
}

function seriesKey(measurement: string, tagsJson: string): string {
  return `${measurement}\u0000${tagsJson}`;
}
