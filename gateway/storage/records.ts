import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { systemClock, type Clock } from '../clock.ts';
import { BohubError, describeError } from '../errors.ts';
import { MIGRATIONS, migrate } from './migrations.ts';
import { openSqlite, type SqliteDb } from './sqlite-file.ts';
import type { AuditEntry, AuditFilter, RecordStore, SessionRecords, StoredAuditEntry, StoredSession } from './types.ts';

export type { AuditFilter } from './types.ts';

export const RECORDS_FILE = 'records.db';

interface AuditRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  subject: string;
  before_json: string | null;
  after_json: string | null;
}

/**
 * The records store (ARCHITECTURE.md): one SQLite file, `records.db`, in the data
 * dir. better-sqlite3 is synchronous, so a transaction cannot interleave with
 * other work on the event loop: fn sees and leaves a consistent database.
 */
export class SqliteRecordStore implements RecordStore {
  private readonly insertAudit;
  readonly sessions: SessionRecords;

  private constructor(
    /** The open database, for repositories that add their own tables via migrations. */
    readonly db: SqliteDb,
    private readonly version: number,
  ) {
    this.insertAudit = db.prepare(
      'INSERT INTO audit_log (at, actor, action, subject, before_json, after_json) VALUES (@at, @actor, @action, @subject, @before_json, @after_json)',
    );
    this.sessions = new SqliteSessionRecords(db);
  }

  /**
   * Opens (creating if needed) `<dataDir>/records.db` and runs pending migrations.
   * Throws BOHUB_DATA_DIR_UNWRITABLE or BOHUB_RECORDS_UNAVAILABLE naming the path.
   */
  static open(dataDir: string, clock: Clock = systemClock): SqliteRecordStore {
    // FULL, not NORMAL: in WAL mode NORMAL may lose the last committed
    // transactions on power loss, and records carry money and safety.
    const db = openSqlite(dataDir, RECORDS_FILE, { synchronous: 'FULL', unavailableCode: 'BOHUB_RECORDS_UNAVAILABLE' });
    try {
      return new SqliteRecordStore(db, migrate(db, clock.now(), MIGRATIONS));
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /**
   * Opens `<dataDir>/records.db` read-only, for a worker thread (gateway/work). WAL
   * lets readers run beside the one writer: the worker sees the last committed state
   * and never holds the write lock, so it can never make an alarm write wait.
   * https://www.sqlite.org/wal.html ("readers do not block writers")
   */
  static openReader(dataDir: string): SqliteRecordStore {
    const file = join(resolve(dataDir), RECORDS_FILE);
    let db: SqliteDb | undefined;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true });
      db.pragma('busy_timeout = 5000');
      const version = (db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0;
      return new SqliteRecordStore(db, version);
    } catch (err) {
      db?.close();
      throw new BohubError('BOHUB_RECORDS_UNAVAILABLE', `cannot open ${file} for reading: ${describeError(err)}`, { cause: err });
    }
  }

  transaction<T>(fn: () => T): T {
    // Nested calls become savepoints (better-sqlite3), so repositories can compose.
    return this.db.transaction(fn)();
  }

  appendAudit(entry: AuditEntry): StoredAuditEntry {
    const info = this.insertAudit.run({
      at: entry.at,
      actor: entry.actor,
      action: entry.action,
      subject: entry.subject,
      before_json: entry.before === undefined ? null : JSON.stringify(entry.before),
      after_json: entry.after === undefined ? null : JSON.stringify(entry.after),
    });
    return { ...entry, id: Number(info.lastInsertRowid) };
  }

  /** Newest first (by time, then id); `before` continues after that entry in the same order. */
  listAudit(filter: AuditFilter = {}): StoredAuditEntry[] {
    const where: string[] = [];
    const params: Record<string, string | number> = {};
    if (filter.actor !== undefined) (where.push('actor = @actor'), (params.actor = filter.actor));
    if (filter.action !== undefined) {
      if (filter.actionPrefix) {
        // substr, not LIKE: an action's `_` or `%` must not act as a wildcard.
        where.push('substr(action, 1, length(@action)) = @action');
      } else where.push('action = @action');
      params.action = filter.action;
    }
    if (filter.subject !== undefined) (where.push('subject = @subject'), (params.subject = filter.subject));
    if (filter.since !== undefined) (where.push('at >= @since'), (params.since = filter.since));
    if (filter.until !== undefined) (where.push('at <= @until'), (params.until = filter.until));
    if (filter.before !== undefined) {
      // Keyset paging on (at, id), the order of the answer: a page never repeats or skips
      // an entry, even when clocks made a later id carry an earlier time.
      where.push('(at < (SELECT at FROM audit_log WHERE id = @before) OR (at = (SELECT at FROM audit_log WHERE id = @before) AND id < @before))');
      params.before = filter.before;
    }
    // SQLite treats a negative LIMIT as "no limit".
    params.limit = filter.limit ?? -1;
    const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT @limit`;
    return (this.db.prepare(sql).all(params) as AuditRow[]).map(toEntry);
  }

  schemaVersion(): number {
    return this.version;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function toEntry(row: AuditRow): StoredAuditEntry {
  const entry: StoredAuditEntry = { id: row.id, at: row.at, actor: row.actor, action: row.action, subject: row.subject };
  if (row.before_json !== null) entry.before = JSON.parse(row.before_json);
  if (row.after_json !== null) entry.after = JSON.parse(row.after_json);
  return entry;
}

interface SessionRow {
  id: string;
  username: string;
  display_name: string;
  role: string;
  screen: string | null;
  binding: string;
  created_at: number;
  expires_at: number;
}

/** The `sessions` table (migration 6): what gateway/auth/sessions.ts keeps across a restart. */
class SqliteSessionRecords implements SessionRecords {
  private readonly insert;
  private readonly remove;
  private readonly removeExpired;
  private readonly selectAll;

  constructor(db: SqliteDb) {
    this.insert = db.prepare(
      'INSERT OR REPLACE INTO sessions (id, username, display_name, role, screen, binding, created_at, expires_at) VALUES (@id, @username, @display_name, @role, @screen, @binding, @created_at, @expires_at)',
    );
    this.remove = db.prepare('DELETE FROM sessions WHERE id = ?');
    this.removeExpired = db.prepare('DELETE FROM sessions WHERE expires_at <= ?');
    this.selectAll = db.prepare('SELECT * FROM sessions ORDER BY created_at, id');
  }

  saveSession(s: StoredSession): void {
    this.insert.run({ id: s.id, username: s.username, display_name: s.displayName, role: s.role, screen: s.screen ?? null, binding: s.binding, created_at: s.createdAt, expires_at: s.expiresAt });
  }

  deleteSession(id: string): void {
    this.remove.run(id);
  }

  loadSessions(now: number): StoredSession[] {
    this.removeExpired.run(now);
    return (this.selectAll.all() as SessionRow[]).map((r) => ({
      id: r.id,
      username: r.username,
      displayName: r.display_name,
      role: r.role,
      ...(r.screen !== null ? { screen: r.screen } : {}),
      binding: r.binding,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
    }));
  }
}
