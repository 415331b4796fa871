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
