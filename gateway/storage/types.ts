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
  /**
   * Bucket width in ms. Given, the answer is one mean per bucket, read from the
   * coarsest resolution that fits (raw, 1-minute or 1-hour rollups); absent, raw points.
   */
  every?: number;
  /** IANA time zone buckets are aligned to (a 1-day bucket starts at local midnight). Default UTC. */
  timeZone?: string;
}

/** Where an answer came from: raw points, or the 1-minute or 1-hour rollups. */
export type Resolution = 'raw' | '1m' | '1h';

/** How long each resolution is kept (config storage.telemetry.*RetentionDays). */
export interface RetentionSettings {
  rawDays: number;
  rollup1mDays: number;
  rollup1hDays: number;
}

/** Where the writer spools batches the store cannot take yet (config storage.telemetry.spoolMaxBytes). */
export interface SpoolSettings {
  /** A folder of its own under the data dir. */
  dir: string;
  maxBytes: number;
  /** Batches InfluxDB refused as invalid (HTTP 400), as line protocol with comments. */
  deadLetterFile: string;
}

export interface Series {
  measurement: string;
  tags: Record<string, string>;
  /** [time ms, value] in ascending time. */
  points: Array<[number, number]>;
  /** The quality of each point, parallel to `points`. */
  qualities?: Quality[];
  /** Set on bucketed answers (RangeQuery.every): the resolution they were read from. */
  resolution?: Resolution;
}

export interface TelemetryStore {
  readonly backend: 'embedded' | 'influxdb';
  /**
   * Spool settings from the config. They travel with the store because the
   * factory is the one place that reads storage config; the TelemetryWriter
   * spools to disk when they are set, and keeps a bounded queue in memory when not.
   */
  readonly spool?: SpoolSettings;
  open(): Promise<void>;
  /** Throws TelemetryWriteError (influx-http.ts) with retryable=false for a batch that can never be stored. */
  write(batch: Sample[]): Promise<void>;
  query(q: RangeQuery): Promise<Series[]>;
  /** Rolls up and prunes, where the backend does not do it itself; called by the writer on a timer. */
  maintain?(now: number): Promise<void>;
  /** Recomputes rollups over [from, to] after points arrived late (spool replay), where the backend's own rollups would miss them. */
  backfill?(from: number, to: number): Promise<void>;
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

/** Which audit entries listAudit returns; every field narrows the answer (GET /api/audit, AuditReply). */
export interface AuditFilter {
  actor?: string;
  /** Exact action, or with actionPrefix every action starting with it (`alarm.`). */
  action?: string;
  /** Match `action` as a prefix. */
  actionPrefix?: boolean;
  subject?: string;
  /** Entries at or after this time (ms since epoch). */
  since?: number;
  /** Entries at or before this time (ms since epoch). */
  until?: number;
  /** Entries older than this entry (in the newest-first order): the next page. */
  before?: number;
  limit?: number;
}

/** A login session as kept in the records store (gateway/auth/sessions.ts); never the token itself. */
export interface StoredSession {
  /** SHA-256 of the token, hex. */
  id: string;
  username: string;
  displayName: string;
  role: string;
  screen?: string;
  /** SHA-256 of what the login was checked against, so a changed user or password ends the session at load. */
  binding: string;
  createdAt: number;
  expiresAt: number;
}

/** Where sessions survive a restart (the records store's `sessions` table, migration 6). */
export interface SessionRecords {
  saveSession(session: StoredSession): void;
  deleteSession(id: string): void;
  /** Deletes the sessions expired at `now` and returns the others. */
  loadSessions(now: number): StoredSession[];
}

/** The records store: SQLite in WAL mode; every write that matters is one transaction. */
export interface RecordStore {
  /** Runs fn in one transaction; a throw rolls everything back. */
  transaction<T>(fn: () => T): T;
  /** Append-only: entries are never updated or deleted. */
  appendAudit(entry: AuditEntry): StoredAuditEntry;
  /** Newest first. */
  listAudit(filter?: AuditFilter): StoredAuditEntry[];
  /** Persistent login sessions; a store without them (a test's fake) keeps sessions in memory only. */
  readonly sessions?: SessionRecords;
  /** The schema version the migrations have reached. */
  schemaVersion(): number;
  close(): void;
}
