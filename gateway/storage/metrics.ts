import { Counter, Gauge, type Registry } from 'prom-client';
import type { SpoolStats } from './spool.ts';

// The telemetry writer's own figures on /metrics: how much waits in the spool,
// how old its oldest point is, and what was given up (dropped when the spool was
// full, dead-lettered when InfluxDB refused it). They live here rather than in
// gateway/metrics.ts so storage owns its figures; they go into the hub's registry.

export interface SpoolSource {
  stats(): SpoolStats;
  now(): number;
}

export class StorageMetrics {
  /** The writer whose spool the gauges read; the last one started wins (one per hub). */
  source?: SpoolSource;

  readonly dropped: Counter<'reason'>;
  readonly deadLettered: Counter;

  private constructor(registry: Registry) {
    const read = (pick: (s: SpoolStats, now: number) => number) =>
      function (this: Gauge) {
        const source = metrics.source;
        this.set(source ? pick(source.stats(), source.now()) : 0);
      };
    const metrics = this;
    new Gauge({ name: 'bohub_telemetry_spool_bytes', help: 'Bytes of telemetry waiting in the disk spool', registers: [registry], collect: read((s) => s.bytes) });
    new Gauge({ name: 'bohub_telemetry_spool_points', help: 'Telemetry points waiting in the spool', registers: [registry], collect: read((s) => s.points) });
    new Gauge({
      name: 'bohub_telemetry_spool_oldest_age_seconds',
      help: 'Age of the oldest spooled point (by its source time); 0 when the spool is empty',
      registers: [registry],
      collect: read((s, now) => (s.oldest === undefined ? 0 : Math.max(0, (now - s.oldest) / 1000))),
    });
    this.dropped = new Counter({ name: 'bohub_telemetry_points_dropped_total', help: 'Telemetry points given up: spool full (oldest first) or a damaged spool record', labelNames: ['reason'], registers: [registry] });
    this.deadLettered = new Counter({ name: 'bohub_telemetry_points_dead_lettered_total', help: 'Telemetry points the store refused as invalid (HTTP 400), kept in the dead-letter file', registers: [registry] });
  }

  private static readonly byRegistry = new WeakMap<Registry, StorageMetrics>();

  /** One set per registry: a registry refuses a second metric of the same name. */
  static in(registry: Registry): StorageMetrics {
    let m = StorageMetrics.byRegistry.get(registry);
    if (!m) StorageMetrics.byRegistry.set(registry, (m = new StorageMetrics(registry)));
    return m;
  }
}
