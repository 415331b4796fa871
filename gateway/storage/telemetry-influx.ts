import { BohubError, describeError } from '../errors.ts';
import type { Quality } from '../events.ts';
import { InfluxHttp, quoteIdent, stringLiteral, type InfluxHttpOptions, type InfluxSeries } from './influx-http.ts';
import { encodeBatch, QUALITY_FIELD, VALUE_FIELD } from './line-protocol.ts';
import { DEFAULT_RETENTION, pickResolution } from './resolution.ts';
import type { RangeQuery, Resolution, RetentionSettings, Sample, Series, SpoolSettings, TelemetryStore } from './types.ts';

export interface InfluxTelemetryOptions extends InfluxHttpOptions {
  /** How long raw points and rollups are kept; default 30 days, 1 year, 10 years. */
  retention?: RetentionSettings;
  /** Passed on to the TelemetryWriter (types.ts). */
  spool?: SpoolSettings;
  /** For choosing a resolution by age; default Date.now. */
  now?: () => number;
  /**
   * Manage retention policies and continuous queries (default true). Servers that
   * speak only the v1 write and query API without them (VictoriaMetrics, the v1
   * compatibility endpoints of InfluxDB 2 and 3) need false: points then go to the
   * database's default policy, are kept as that server keeps them, and every
   * query reads raw points (aggregated with GROUP BY time when `every` is given).
   */
  rollups?: boolean;
}

/** The retention policy of each resolution. Raw points are written with rp= this name, never to the database's default. */
export const RETENTION_POLICY: Record<Resolution, string> = { raw: 'bohub_raw', '1m': 'bohub_1m', '1h': 'bohub_1h' };

/**
 * Telemetry in InfluxDB 1.x, or anything that speaks its v1 HTTP API (backend
 * 'influxdb'). One point per sample: the sample's measurement and tags, a float
 * field `value` and a string field `q` (the quality), a timestamp in ms
 * (line-protocol.ts). Rollups are InfluxDB's own: a retention policy per
 * resolution and continuous queries that fill the 1-minute and 1-hour ones,
 * created or brought up to date at open().
 * This class does not retry: the TelemetryWriter owns buffering, spooling and backoff.
 */
export class InfluxTelemetryStore implements TelemetryStore {
  readonly backend = 'influxdb' as const;
  readonly spool?: SpoolSettings;
  private readonly http: InfluxHttp;
  private readonly retention: RetentionSettings;
  private opened = false;

  constructor(private readonly options: InfluxTelemetryOptions) {
    this.http = new InfluxHttp(options);
    this.retention = options.retention ?? DEFAULT_RETENTION;
    this.spool = options.spool;
  }

  /** Creates the database, retention policies and continuous queries where missing. Throws BOHUB_TELEMETRY_WRITE naming the server. */
  async open(): Promise<void> {
    if (this.opened) return;
    const db = quoteIdent(this.options.database);
    try {
      // Only create when missing: a write-only user may lack the right to CREATE DATABASE.
      const names = (await this.http.query('SHOW DATABASES')).flatMap((s) => s.values ?? []).map((v) => String(v[0]));
      if (!names.includes(this.options.database)) await this.http.query(`CREATE DATABASE ${db}`, { post: true });
      if (this.rollups) {
        await this.ensureRetentionPolicies(db);
        await this.ensureContinuousQueries(db);
      }
    } catch (err) {
      throw new BohubError('BOHUB_TELEMETRY_WRITE', `InfluxDB at ${this.http.where()} (database "${this.options.database}") is unavailable: ${describeError(err)}`, { cause: err });
    }
    this.opened = true;
  }

  /** Throws TelemetryWriteError: retryable for network errors, 5xx and 429, not for 400. */
  async write(batch: Sample[]): Promise<void> {
    this.ready();
    if (batch.length === 0) return;
    await this.http.write(encodeBatch(batch), this.rollups ? RETENTION_POLICY.raw : undefined);
  }

  async query(q: RangeQuery): Promise<Series[]> {
    this.ready();
    const resolution = this.rollups ? pickResolution(q, (this.options.now ?? Date.now)(), this.retention) : 'raw';
    const from = this.rollups ? `${quoteIdent(RETENTION_POLICY[resolution])}.${quoteIdent(q.measurement)}` : quoteIdent(q.measurement);
    const where = [`time >= ${Math.trunc(q.from)}ms`, `time <= ${Math.trunc(q.to)}ms`];
    for (const [k, v] of Object.entries(q.tags ?? {})) where.push(`${quoteIdent(k)} = ${stringLiteral(v)}`);
    const limit = q.limit !== undefined ? ` LIMIT ${Math.max(0, Math.trunc(q.limit))}` : '';
    // tz() aligns GROUP BY time() buckets to local midnight (InfluxQL, "The time zone clause").
    const tz = q.timeZone && q.timeZone !== 'UTC' ? ` tz(${stringLiteral(q.timeZone)})` : '';
    const sql = q.every
      ? `SELECT mean(${quoteIdent(VALUE_FIELD)}) AS ${quoteIdent(VALUE_FIELD)} FROM ${from} WHERE ${where.join(' AND ')} GROUP BY time(${Math.trunc(q.every)}ms), * fill(none) ORDER BY time DESC${limit}${tz}`
      : // Newest first so LIMIT (which InfluxQL applies per series) keeps the newest.
        `SELECT ${quoteIdent(VALUE_FIELD)}, ${quoteIdent(QUALITY_FIELD)} FROM ${from} WHERE ${where.join(' AND ')} GROUP BY * ORDER BY time DESC${limit}`;
    const raw = await this.http.query(sql, { epoch: 'ms' });
    return raw.map((s) => toSeries(s, q, q.every ? resolution : undefined)).sort((a, b) => JSON.stringify(a.tags).localeCompare(JSON.stringify(b.tags)));
  }

  async close(): Promise<void> {
    // fetch keeps no sockets that need closing.
    this.opened = false;
  }

  /** Makes each resolution's retention policy exist with the configured duration. */
  private async ensureRetentionPolicies(db: string): Promise<void> {
    const existing = new Map((await this.http.query(`SHOW RETENTION POLICIES ON ${db}`)).flatMap((s) => s.values ?? []).map((v) => [String(v[0]), String(v[1])]));
    const days: Record<Resolution, number> = { raw: this.retention.rawDays, '1m': this.retention.rollup1mDays, '1h': this.retention.rollup1hDays };
    for (const resolution of ['raw', '1m', '1h'] as const) {
      const name = RETENTION_POLICY[resolution];
      const duration = `${days[resolution]}d`;
      // SHOW RETENTION POLICIES prints durations as e.g. "720h0m0s".
      const want = `${days[resolution] * 24}h0m0s`;
      if (!existing.has(name)) await this.http.query(`CREATE RETENTION POLICY ${quoteIdent(name)} ON ${db} DURATION ${duration} REPLICATION 1`, { post: true });
      else if (existing.get(name) !== want) await this.http.query(`ALTER RETENTION POLICY ${quoteIdent(name)} ON ${db} DURATION ${duration}`, { post: true });
    }
  }

  /**
   * One continuous query per rollup. RESAMPLE FOR 2 intervals so a bucket is
   * recomputed once more after late points arrive; points replayed from the spool
   * after a longer outage are rolled up by backfill() instead.
   * The hour rollup averages minute means: exact when a series is sampled at a
   * steady rate, which polled meters are.
   */
  private async ensureContinuousQueries(db: string): Promise<void> {
    // One series per database, named after it: only ours count.
    const shown = (await this.http.query('SHOW CONTINUOUS QUERIES')).filter((s) => s.name === this.options.database);
    const existing = new Set(shown.flatMap((s) => s.values ?? []).map((v) => String(v[0])));
    for (const [name, sql] of this.rollupQueries(db, 'cq')) {
      if (!existing.has(name)) await this.http.query(sql, { post: true });
    }
  }

  /**
   * Recomputes the rollups for [from, to]: for points that arrived after their
   * continuous query had run (spool replay after an outage). Idempotent: a
   * rollup point is keyed like any other, so it is overwritten.
   */
  async backfill(from: number, to: number): Promise<void> {
    if (!this.rollups) return;
    const db = quoteIdent(this.options.database);
    // Whole hours, so no hour bucket is recomputed from part of its minutes.
    const where = ` WHERE time >= ${Math.floor(from / 3_600_000) * 3_600_000}ms AND time < ${Math.ceil((to + 1) / 3_600_000) * 3_600_000}ms`;
    for (const [, sql] of this.rollupQueries(db, 'select')) await this.http.query(sql.replace(' GROUP BY', `${where} GROUP BY`), { post: true });
  }

  private rollupQueries(db: string, form: 'cq' | 'select'): Array<[string, string]> {
    const rp = (r: Resolution) => `${db}.${quoteIdent(RETENTION_POLICY[r])}`;
    const v = quoteIdent(VALUE_FIELD);
    const minute = `SELECT mean(${v}) AS ${v}, min(${v}) AS "min", max(${v}) AS "max", count(${v}) AS "count" INTO ${rp('1m')}.:MEASUREMENT FROM ${rp('raw')}./.*/ GROUP BY time(1m), *`;
    const hour = `SELECT mean(${v}) AS ${v}, min("min") AS "min", max("max") AS "max", sum("count") AS "count" INTO ${rp('1h')}.:MEASUREMENT FROM ${rp('1m')}./.*/ GROUP BY time(1h), *`;
    if (form === 'select') return [['bohub_1m', minute], ['bohub_1h', hour]];
    return [
      ['bohub_1m', `CREATE CONTINUOUS QUERY "bohub_1m" ON ${db} RESAMPLE FOR 2m BEGIN ${minute} END`],
      ['bohub_1h', `CREATE CONTINUOUS QUERY "bohub_1h" ON ${db} RESAMPLE FOR 2h BEGIN ${hour} END`],
    ];
  }

  private get rollups(): boolean {
    return this.options.rollups ?? true;
  }

  private ready(): void {
    if (!this.opened) throw new BohubError('BOHUB_TELEMETRY_WRITE', `InfluxDB store for ${this.http.where()} is not open`);
  }
}

function toSeries(s: InfluxSeries, q: RangeQuery, resolution: Resolution | undefined): Series {
  const values = [...(s.values ?? [])].reverse();
  const columns = s.columns ?? [];
  const [t, v, quality] = ['time', VALUE_FIELD, QUALITY_FIELD].map((c) => columns.indexOf(c)) as [number, number, number];
  const series: Series = {
    measurement: s.name ?? q.measurement,
    // GROUP BY * returns "" for a tag a series lacks.
    tags: Object.fromEntries(Object.entries(s.tags ?? {}).filter(([, x]) => x !== '')),
    points: values.map((r) => [Number(r[t]), Number(r[v])] as [number, number]),
  };
  if (resolution) series.resolution = resolution;
  else series.qualities = values.map((r) => (r[quality] ?? 'bad') as Quality);
  return series;
}
