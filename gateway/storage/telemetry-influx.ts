import { InfluxDB, escape, type IPoint, type IPoolOptions } from 'influx';
import { BohubError, describeError } from '../errors.ts';
import type { Quality } from '../events.ts';
import type { RangeQuery, Sample, Series, TelemetryStore } from './types.ts';

export interface InfluxTelemetryOptions {
  /** e.g. `http://influxdb:8086`; a path is kept, for an InfluxDB behind a reverse proxy. */
  url: string;
  database: string;
  username?: string;
  password?: string;
  /** Per HTTP request; default 10 s. */
  requestTimeoutMs?: number;
}

/** The tag that carries a sample's quality; user tags named `q` are overwritten by it. */
export const QUALITY_TAG = 'q';

/**
 * Telemetry in InfluxDB 1.x, or anything that speaks its v1 HTTP API (backend
 * 'influxdb'). One point per sample: measurement, the sample's tags plus the
 * quality tag `q`, one float field `value`, a timestamp in ms.
 * This class does not retry: the TelemetryWriter owns buffering and backoff.
 */
export class InfluxTelemetryStore implements TelemetryStore {
  readonly backend = 'influxdb' as const;
  private client?: InfluxDB;

  constructor(private readonly options: InfluxTelemetryOptions) {}

  /** Creates the database if it is missing. Throws BOHUB_TELEMETRY_WRITE naming the server when it cannot be reached. */
  async open(): Promise<void> {
    if (this.client) return;
    const { database } = this.options;
    let url: URL;
    try {
      url = new URL(this.options.url);
    } catch (err) {
      throw new BohubError('BOHUB_TELEMETRY_WRITE', `InfluxDB url "${this.options.url}" is not a url`, { cause: err });
    }
    const client = new InfluxDB({
      protocol: url.protocol === 'https:' ? 'https' : 'http',
      host: url.hostname,
      port: url.port ? Number(url.port) : 8086,
      path: url.pathname === '/' ? '' : url.pathname,
      database,
      username: this.options.username ?? (url.username || undefined),
      password: this.options.password ?? (url.password || undefined),
      // No retries and no host quarantine inside the client: a failure is reported
      // at once, and the writer's own backoff decides when to try again.
      pool: { maxRetries: 0, backoff: NO_BACKOFF, requestTimeout: this.options.requestTimeoutMs ?? 10_000 },
    });
    try {
      // Only create when missing: a write-only user may lack the right to CREATE DATABASE.
      const names = await client.getDatabaseNames();
      if (!names.includes(database)) await client.createDatabase(database);
    } catch (err) {
      throw new BohubError('BOHUB_TELEMETRY_WRITE', `InfluxDB at ${this.where()} (database "${database}") is unavailable: ${describeError(err)}`, { cause: err });
    }
    this.client = client;
  }

  async write(batch: Sample[]): Promise<void> {
    const client = this.ready();
    if (batch.length === 0) return;
    const points: IPoint[] = batch.map((s) => ({
      measurement: s.measurement,
      tags: { ...withoutEmpty(s.tags), [QUALITY_TAG]: s.quality },
      fields: { value: s.value },
      timestamp: Math.round(s.time),
    }));
    try {
      // The client escapes measurement, tag keys and tag values for the line protocol.
      await client.writePoints(points, { precision: 'ms' });
    } catch (err) {
      throw new BohubError('BOHUB_TELEMETRY_WRITE', `InfluxDB at ${this.where()} refused a batch of ${batch.length}: ${describeError(err)}`, { cause: err });
    }
  }

  async query(q: RangeQuery): Promise<Series[]> {
    const client = this.ready();
    const measurement = escape.quoted(q.measurement);
    // Group by every tag except quality, so a series whose quality changed stays one series.
    const keysRaw = await client.queryRaw(`SHOW TAG KEYS FROM ${measurement}`);
    const groupKeys = rows(keysRaw)
      .flatMap((s) => s.values ?? [])
      .map((v) => String(v[0]))
      .filter((k) => k !== QUALITY_TAG);

    const where = [`time >= ${Math.trunc(q.from)}ms`, `time <= ${Math.trunc(q.to)}ms`];
    for (const [k, v] of Object.entries(q.tags ?? {})) where.push(`${escape.quoted(k)} = ${stringLiteral(v)}`);
    const sql =
      `SELECT "value", ${escape.quoted(QUALITY_TAG)} FROM ${measurement} WHERE ${where.join(' AND ')}` +
      (groupKeys.length ? ` GROUP BY ${groupKeys.map((k) => escape.quoted(k)).join(', ')}` : '') +
      // Newest first so LIMIT (which InfluxQL applies per series) keeps the newest.
      ' ORDER BY time DESC' +
      (q.limit !== undefined ? ` LIMIT ${Math.max(0, Math.trunc(q.limit))}` : '');
    const raw = await client.queryRaw(sql, { precision: 'ms' });

    return rows(raw).map((s) => {
      const values = [...(s.values ?? [])].reverse();
      const columns = s.columns ?? [];
      const [t, v, quality] = ['time', 'value', QUALITY_TAG].map((c) => columns.indexOf(c)) as [number, number, number];
      return {
        measurement: s.name ?? q.measurement,
        // A series that lacks one of the grouped keys comes back with "" for it.
        tags: withoutEmpty(s.tags ?? {}),
        points: values.map((r) => [Number(r[t]), Number(r[v])] as [number, number]),
        qualities: values.map((r) => (r[quality] ?? 'bad') as Quality),
      };
    });
  }

  async close(): Promise<void> {
    // The client holds no sockets between requests.
    this.client = undefined;
  }

  private ready(): InfluxDB {
    if (!this.client) throw new BohubError('BOHUB_TELEMETRY_WRITE', `InfluxDB store for ${this.where()} is not open`);
    return this.client;
  }

  /** The server, without any credentials the url may carry. */
  private where(): string {
    try {
      const u = new URL(this.options.url);
      return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
    } catch {
      return '(invalid url)';
    }
  }
}

/**
 * An InfluxQL string literal. influx's escape.stringLit escapes quotes but not
 * backslashes, and InfluxQL reads `\` as the start of an escape sequence, so a
 * tag value containing one would fail or match the wrong thing.
 */
export function stringLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

type BackoffStrategy = NonNullable<IPoolOptions['backoff']>;
const NO_BACKOFF: BackoffStrategy = {
  getDelay: () => 0,
  next: () => NO_BACKOFF,
  reset: () => NO_BACKOFF,
};

interface RawSeries {
  name?: string;
  tags?: Record<string, string>;
  columns?: string[];
  values?: unknown[][];
}

/** The series of a raw /query answer; an error in it becomes a throw. */
function rows(raw: unknown): RawSeries[] {
  const results = (raw as { results?: Array<{ error?: string; series?: RawSeries[] }> }).results ?? [];
  for (const r of results) if (r.error) throw new BohubError('BOHUB_TELEMETRY_WRITE', `InfluxDB query failed: ${r.error}`);
  return results.flatMap((r) => r.series ?? []);
}

function withoutEmpty(tags: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).filter(([, v]) => v !== ''));
}
