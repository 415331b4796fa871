import { BohubError } from '../errors.ts';
import type { SqliteDb } from './sqlite-file.ts';

// The records schema, versioned in code. Migrations only ever get appended:
// a released migration is never edited, a change is a new entry.

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'audit_log',
    sql: `
      CREATE TABLE audit_log (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        at          INTEGER NOT NULL,
        actor       TEXT    NOT NULL,
        action      TEXT    NOT NULL,
        subject     TEXT    NOT NULL,
        before_json TEXT,
        after_json  TEXT
      );
      CREATE INDEX audit_log_at ON audit_log (at);
      CREATE INDEX audit_log_actor_at ON audit_log (actor, at);
      CREATE INDEX audit_log_action_at ON audit_log (action, at);
      -- The audit log is evidence: enforce append-only in the database itself,
      -- so no code path (or a future bug) can rewrite history.
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
    `,
  },
  {
    version: 2,
    name: 'alarms',
    sql: `
      -- One row per alarm episode (gateway/alarms). The full record is JSON; the
      -- columns are what the lists filter and sort on.
      CREATE TABLE alarms (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        condition   TEXT    NOT NULL,
        state       TEXT    NOT NULL,
        priority    INTEGER NOT NULL,
        raised_at   INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL,
        record_json TEXT    NOT NULL
      );
      -- At most one open episode per condition: a replayed signal can never start a second one.
      CREATE UNIQUE INDEX alarms_open_condition ON alarms (condition) WHERE state <> 'normal';
      CREATE INDEX alarms_state_priority ON alarms (state, priority, raised_at);
      -- The last signal event seen per signal, so a retained or replayed message is
      -- recognised after a restart of the hub or the broker.
      CREATE TABLE alarm_signal_seen (
        signal      TEXT    PRIMARY KEY,
        seq         INTEGER,
        source_time INTEGER NOT NULL,
        state       TEXT    NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'billing',
    sql: `
      -- Billing reads (gateway/billing): the register exactly as read, never only in telemetry.
      CREATE TABLE billing_reads (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        meter_id    TEXT    NOT NULL,
        serial      TEXT    NOT NULL,
        read_at     INTEGER NOT NULL,
        value       TEXT    NOT NULL,
        multiplier  TEXT    NOT NULL,
        kind        TEXT    NOT NULL,
        source      TEXT    NOT NULL,
        quality     TEXT    NOT NULL,
        note        TEXT,
        recorded_at INTEGER NOT NULL,
        recorded_by TEXT    NOT NULL,
        -- 1 for a plain rise the month-end validation may skip (gateway/billing/notable.ts).
        plain       INTEGER NOT NULL DEFAULT 0,
        -- When the run of reads with this value began (notable.ts keeps long runs by their ends).
        run_start   INTEGER
      );
      -- Duplicates are keyed on the meter and the read time, never the arrival time:
      -- the same read arriving twice from one source is one row; a different value at
      -- the same time is kept and flagged by the VEE as a conflict. The source is part
      -- of the key so a reading-day fallback to an interval read is still recorded.
      CREATE UNIQUE INDEX billing_reads_identity ON billing_reads (meter_id, read_at, serial, kind, value, source);
      CREATE INDEX billing_reads_meter_time ON billing_reads (meter_id, read_at, id);
      -- The month-end pass reads notable reads only; this partial index holds every
      -- column it needs, so they come from the index, not from pages all over the table.
      CREATE INDEX billing_reads_notable ON billing_reads (meter_id, read_at, value, serial, multiplier, kind, source, quality, recorded_by, note, recorded_at) WHERE plain = 0;
      -- Manual edits: the raw read stays; the latest edit (highest id) is the value billed.
      CREATE TABLE billing_read_edits (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        read_id INTEGER NOT NULL REFERENCES billing_reads (id),
        value   TEXT,
        reason  TEXT    NOT NULL,
        actor   TEXT    NOT NULL,
        at      INTEGER NOT NULL
      );
      CREATE INDEX billing_read_edits_read ON billing_read_edits (read_id, id);
      CREATE TABLE billing_tenancy_events (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        unit_id     TEXT    NOT NULL,
        kind        TEXT    NOT NULL,
        at          INTEGER NOT NULL,
        company     TEXT    NOT NULL,
        occupancy   TEXT    NOT NULL,
        recorded_at INTEGER NOT NULL,
        recorded_by TEXT    NOT NULL
      );
      CREATE INDEX billing_tenancy_unit_at ON billing_tenancy_events (unit_id, at);
      CREATE TABLE billing_payments (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        unit_id     TEXT    NOT NULL,
        paid_at     INTEGER NOT NULL,
        amount      TEXT    NOT NULL,
        reference   TEXT    NOT NULL UNIQUE,
        recorded_at INTEGER NOT NULL,
        recorded_by TEXT    NOT NULL
      );
      CREATE INDEX billing_payments_unit ON billing_payments (unit_id, paid_at);
      -- Every run that changed anything is a new version; a closed version is never
      -- rewritten, and a later version of a closed period is a correction.
      CREATE TABLE billing_runs (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        period       TEXT    NOT NULL,
        version      INTEGER NOT NULL,
        status       TEXT    NOT NULL,
        corrects     INTEGER,
        outputs_hash TEXT    NOT NULL,
        result_json  TEXT    NOT NULL,
        created_at   INTEGER NOT NULL,
        created_by   TEXT    NOT NULL,
        closed_at    INTEGER,
        closed_by    TEXT,
        UNIQUE (period, version)
      );
      CREATE TRIGGER billing_runs_closed_locked BEFORE UPDATE OF result_json, outputs_hash, period, version ON billing_runs
        WHEN OLD.status = 'closed'
        BEGIN SELECT RAISE(ABORT, 'a closed billing run is locked'); END;
      CREATE TRIGGER billing_runs_no_delete BEFORE DELETE ON billing_runs
        BEGIN SELECT RAISE(ABORT, 'billing runs are kept'); END;
      -- A VEE exception a finance user or supervisor has looked at and accepted as
      -- right (a unit closed for the holidays, a real spike), with the reason.
      CREATE TABLE billing_exception_acceptances (
        exception_id TEXT    PRIMARY KEY,
        reason       TEXT    NOT NULL,
        actor        TEXT    NOT NULL,
        at           INTEGER NOT NULL
      );
      -- The dunning calendar's lists (18th phone list, 23rd letters, suspension, ...):
      -- each one a document and a task with its own state.
      CREATE TABLE billing_tasks (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        period      TEXT    NOT NULL,
        list        TEXT    NOT NULL,
        due_date    TEXT    NOT NULL,
        state       TEXT    NOT NULL,
        doc_json    TEXT    NOT NULL,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL,
        updated_by  TEXT    NOT NULL,
        UNIQUE (period, list)
      );
    `,
  },
  {
    version: 4,
    name: 'incidents',
    sql: `
      -- Incidents (gateway/runbooks): one run of a runbook. The full record, with its
      -- steps, escalations, notifications and timeline, is JSON; the columns are what
      -- the lists filter and sort on and what deduplication needs.
      CREATE TABLE incidents (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        runbook     TEXT    NOT NULL,
        dedupe_key  TEXT    NOT NULL,
        state       TEXT    NOT NULL,
        priority    INTEGER NOT NULL,
        opened_at   INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL,
        record_json TEXT    NOT NULL
      );
      -- One open incident per key: a fire in B-12F and B-14F is one incident. Once it is
      -- stabilised, a new alarm there is a new incident (a real fire after a false alarm).
      CREATE UNIQUE INDEX incidents_open_key ON incidents (dedupe_key) WHERE state = 'open';
      CREATE INDEX incidents_key ON incidents (dedupe_key);
      CREATE INDEX incidents_state_opened ON incidents (state, opened_at);
      -- The last state the runbook engine saw per signal, so only a change into a
      -- trigger state opens an incident, also across restarts (a retained replay does not).
      CREATE TABLE runbook_signal_state (
        signal      TEXT    PRIMARY KEY,
        state       TEXT    NOT NULL,
        at          INTEGER NOT NULL
      );
    `,
  },
  {
    version: 5,
    name: 'display',
    sql: `
      -- Lobby-screen content (gateway/display): each item as JSON, with what the
      -- screens and the plan look it up by.
      CREATE TABLE display_items (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        state       TEXT    NOT NULL,
        start_at    INTEGER NOT NULL,
        end_at      INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL,
        record_json TEXT    NOT NULL
      );
      CREATE INDEX display_items_state_window ON display_items (state, start_at, end_at);
      -- Images are kept by content hash, so an edit that keeps the image stores nothing new.
      CREATE TABLE display_images (
        sha256      TEXT    PRIMARY KEY,
        mime        TEXT    NOT NULL,
        bytes       BLOB    NOT NULL,
        created_at  INTEGER NOT NULL
      );
      -- Runbook lobby messages approved in advance (issue 9): the approval holds for the
      -- exact text approved; a changed runbook text needs approving again.
      CREATE TABLE display_template_approvals (
        template_id TEXT    PRIMARY KEY,
        text_sha256 TEXT    NOT NULL,
        approved_by TEXT    NOT NULL,
        approved_at INTEGER NOT NULL,
        note        TEXT    NOT NULL
      );
    `,
  },
  {
    version: 6,
    name: 'sessions',
    sql: `
      -- Login sessions (gateway/auth/sessions.ts), so a hub restart does not log the
      -- control room out (issue 8: the page reconnects and resyncs without a new login).
      -- Keyed by the SHA-256 of the token, never the token: a copy of this file cannot
      -- be replayed as a login (OWASP Session Management Cheat Sheet).
      CREATE TABLE sessions (
        id           TEXT    PRIMARY KEY,
        username     TEXT    NOT NULL,
        display_name TEXT    NOT NULL,
        role         TEXT    NOT NULL,
        screen       TEXT,
        -- SHA-256 of what the login was checked against (role, user, screen, password or
        -- token hash): a session outlives no change of these in the config.
        binding      TEXT    NOT NULL,
        created_at   INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL
      );
      CREATE INDEX sessions_expires ON sessions (expires_at);
    `,
  },
  {
    version: 7,
    name: 'billing_imports',
    sql: `
      -- The journal of readings and payments imports (gateway/billing/imports.ts, issue 15).
      -- A checked file's rows wait in a staging file; they are copied into billing_reads
      -- or billing_payments in short transactions, and each one moves after_json (the
      -- last staged key copied) on, so a hub stopped mid-way finishes the import at start.
      CREATE TABLE billing_imports (
        id          INTEGER PRIMARY KEY,
        kind        TEXT    NOT NULL CHECK (kind IN ('readings', 'payments')),
        staging     TEXT    NOT NULL,
        rows        INTEGER NOT NULL,
        after_json  TEXT,
        inserted    INTEGER NOT NULL DEFAULT 0,
        duplicates  INTEGER NOT NULL DEFAULT 0,
        state       TEXT    NOT NULL CHECK (state IN ('writing', 'done')),
        created_at  INTEGER NOT NULL,
        created_by  TEXT    NOT NULL,
        finished_at INTEGER
      );
    `,
  },
];

/**
 * Brings db up to the newest migration; returns the version reached. Each
 * migration runs in its own transaction together with its schema_migrations row,
 * so a failing migration leaves the previous version intact.
 */
export function migrate(db: SqliteDb, now: number, migrations: readonly Migration[] = MIGRATIONS): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  const applied = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all() as Array<{ version: number; name: string }>;
  const latest = migrations.at(-1)?.version ?? 0;
  const current = applied.at(-1)?.version ?? 0;
  if (current > latest) {
    // A newer hub has migrated this file; running old code on it could corrupt it.
    throw new BohubError('BOHUB_RECORDS_UNAVAILABLE', `records schema version ${current} is newer than this bohub knows (${latest}); upgrade bohub or restore a backup`);
  }
  for (const row of applied) {
    const known = migrations.find((m) => m.version === row.version);
    if (known && known.name !== row.name) {
      throw new BohubError('BOHUB_RECORDS_UNAVAILABLE', `records migration ${row.version} was applied as "${row.name}" but this bohub calls it "${known.name}"`);
    }
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, now);
    })();
  }
  return latest;
}
