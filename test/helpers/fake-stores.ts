import { systemClock, type Clock } from '../../gateway/clock.ts';
import { loadConfig, type LoadedConfig } from '../../gateway/config/load.ts';
import { EventBus } from '../../gateway/events.ts';
import { LatestValues } from '../../gateway/latest.ts';
import { silentLogger } from '../../gateway/log.ts';
import { Metrics } from '../../gateway/metrics.ts';
import type { HealthReport, HubServices } from '../../gateway/services.ts';
import { directQueries } from '../../gateway/work/queries.ts';
import type { AuditEntry, RangeQuery, RecordStore, Sample, Series, StoredAuditEntry, TelemetryStore } from '../../gateway/storage/types.ts';

// In-memory stand-ins for the two stores (gateway/storage/types.ts), for tests of
// the layers above storage. They keep what they are given and nothing more.

export class FakeRecordStore implements RecordStore {
  readonly audit: StoredAuditEntry[] = [];

  transaction<T>(fn: () => T): T {
    // Roll the audit log back on a throw, as the real store's transaction does.
    const before = this.audit.length;
    try {
      return fn();
    } catch (err) {
      this.audit.length = before;
      throw err;
    }
  }

  appendAudit(entry: AuditEntry): StoredAuditEntry {
    const stored = { ...entry, id: this.audit.length + 1 };
    this.audit.push(stored);
    return stored;
  }

  listAudit(filter: { actor?: string; action?: string; since?: number; limit?: number } = {}): StoredAuditEntry[] {
    const rows = this.audit.filter(
      (e) => (!filter.actor || e.actor === filter.actor) && (!filter.action || e.action === filter.action) && (filter.since === undefined || e.at >= filter.since),
    );
    return filter.limit ? rows.slice(-filter.limit) : rows;
  }

  schemaVersion(): number {
    return 1;
  }

  close(): void {}
}

export class FakeTelemetryStore implements TelemetryStore {
  readonly backend = 'embedded' as const;
  readonly samples: Sample[] = [];
  readonly queries: RangeQuery[] = [];

  async open(): Promise<void> {}

  async write(batch: Sample[]): Promise<void> {
    this.samples.push(...batch);
  }

  async query(q: RangeQuery): Promise<Series[]> {
    this.queries.push(q);
    const series = new Map<string, Series>();
    for (const s of this.samples) {
      if (s.measurement !== q.measurement || s.time < q.from || s.time > q.to) continue;
      if (Object.entries(q.tags ?? {}).some(([k, v]) => s.tags[k] !== v)) continue;
      const key = JSON.stringify(Object.entries(s.tags).sort());
      const one = series.get(key) ?? { measurement: s.measurement, tags: s.tags, points: [] };
      one.points.push([s.time, s.value]);
      series.set(key, one);
    }
    for (const one of series.values()) {
      one.points.sort((a, b) => a[0] - b[0]);
      if (q.limit) one.points = one.points.slice(-q.limit);
    }
    return [...series.values()];
  }

  async close(): Promise<void> {}
}

export const DEMO_CONFIG_FILE = 'config/demo/building.yaml';

export interface FakeHub {
  services: HubServices;
  records: FakeRecordStore;
  telemetry: FakeTelemetryStore;
  /** Replaces what services.health() reports. */
  setHealth(report: HealthReport): void;
}

/** HubServices over the demo building, a real EventBus and LatestValues, and fake stores. */
export function fakeHub(options: { config?: LoadedConfig; clock?: Clock } = {}): FakeHub {
  const config = options.config ?? loadConfig(DEMO_CONFIG_FILE);
  const events = new EventBus();
  const latest = new LatestValues(events);
  latest.start();
  const records = new FakeRecordStore();
  const telemetry = new FakeTelemetryStore();
  let report: HealthReport = { status: 'ok', components: {} };
  const services: HubServices = {
    config,
    events,
    clock: options.clock ?? systemClock,
    log: silentLogger,
    metrics: new Metrics(),
    records,
    telemetry,
    latest,
    queries: directQueries(() => services),
    health: () => report,
  };
  return { services, records, telemetry, setHealth: (r) => (report = r) };
}
