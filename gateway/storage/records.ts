import { systemClock, type Clock } from '../clock.ts';
import { MIGRATIONS, migrate } from './migrations.ts';
import { openSqlite, type SqliteDb } from './sqlite-file.ts';
import type { AuditEntry, RecordStore, StoredAuditEntry } from './types.ts';

export const RECORDS_FILE = 'records.db';

export interface AuditFilter {
  actor?: string;
  action?: string;
  /** Entries at or after this time (ms since epoch). */
  since?: number;
  limit?: number;
}

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

  private constructor(
    /** The open database, for repositories that add their own tables via migrations. */
    readonly db: SqliteDb,
    private readonly version: number,
  ) {
    this.insertAudit = db.prepare(
      'INSERT INTO audit_log (at, actor, action, subject, before_json, after_json) VALUES (@at, @actor, @action, @subject, @before_json, @after_json)',
    );
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

  /** Newest first. */
  listAudit(filter: AuditFilter = {}): StoredAuditEntry[] {
    const where: string[] = [];
    const params: Record<string, string | number> = {};
    if (filter.actor !== undefined) (where.push('actor = @actor'), (params.actor = filter.actor));
    if (filter.action !== undefined) (where.push('action = @action'), (params.action = filter.action));
    if (filter.since !== undefined) (where.push('at >= @since'), (params.since = filter.since));
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
