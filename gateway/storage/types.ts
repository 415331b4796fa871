import type { Quality } from '../events.ts';

// The two stores the hub writes (ARCHITECTURE.md): records carry money and safety
// and are never lost; telemetry is for trends only and nothing is billed from it.

/** One telemetry point. Measurement and tags name the series; time is ms since epoch. */
export interface Sample {
  measurement: string;
  tags: Record<string, string>;
  value: number;
  quality: Quality;
  time: number;
}

export interface RangeQuery {
  measurement: string;
  /** Exact-match tag filters, e.g. `{ device: 'A-0101-E', point: 'energy_import' }`. */
  tags?: Record<string, string>;
  /** Inclusive, ms since epoch. */
  from: number;
  /** Inclusive, ms since epoch. */
  to: number;
  /** At most this many points per series, newest kept. */
  limit?: number;
}

export interface Series {
  measurement: string;
  tags: Record<string, string>;
  /** [time ms, value] in ascending time. */
  points: Array<[number, number]>;
  /** The quality of each point, parallel to `points`. */
  qualities?: Quality[];
}

export interface TelemetryStore {
  readonly backend: 'embedded' | 'influxdb';
  open(): Promise<void>;
  write(batch: Sample[]): Promise<void>;
  query(q: RangeQuery): Promise<Series[]>;
  close(): Promise<void>;
}

export interface AuditEntry {
  /** Username, or `system` for the hub itself. */
  actor: string;
  /** What happened, dotted: `auth.login`, `auth.login_failed`, `config.loaded`, ... */
  action: string;
  /** What it happened to, e.g. a user, a meter or an alarm id. */
  subject: string;
  before?: unknown;
  after?: unknown;
  at: number;
}

export interface StoredAuditEntry extends AuditEntry {
  id: number;
}

/** The records store: SQLite in WAL mode; every write that matters is one transaction. */
export interface RecordStore {
  /** Runs fn in one transaction; a throw rolls everything back. */
  transaction<T>(fn: () => T): T;
  /** Append-only: entries are never updated or deleted. */
  appendAudit(entry: AuditEntry): StoredAuditEntry;
  listAudit(filter?: { actor?: string; action?: string; since?: number; limit?: number }): StoredAuditEntry[];
  /** The schema version the migrations have reached. */
  schemaVersion(): number;
  close(): void;
}
