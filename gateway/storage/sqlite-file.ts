import { accessSync, constants, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { BohubError, type ErrorCode, describeError } from '../errors.ts';

// Both SQLite stores (records.db, telemetry.db) open their file the same way:
// the data dir is created if needed, WAL mode, a busy timeout, foreign keys on.

export type SqliteDb = Database.Database;

export interface OpenSqliteOptions {
  /**
   * FULL for records (a committed transaction survives a power cut), NORMAL for
   * telemetry (WAL + NORMAL is safe against a crash of the hub, and may lose the
   * last moments of trend data on power loss; that is the trade we want there).
   * https://www.sqlite.org/pragma.html#pragma_synchronous
   */
  synchronous: 'NORMAL' | 'FULL';
  /** The code thrown when the file itself cannot be opened or read. */
  unavailableCode: ErrorCode;
}

/** Makes sure dataDir exists and is writable, or throws BOHUB_DATA_DIR_UNWRITABLE naming it. */
export function ensureDataDir(dataDir: string): string {
  const dir = resolve(dataDir);
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new BohubError('BOHUB_DATA_DIR_UNWRITABLE', `data dir ${dir} cannot be created or written: ${describeError(err)}`, { cause: err });
  }
  return dir;
}

export function openSqlite(dataDir: string, fileName: string, options: OpenSqliteOptions): SqliteDb {
  const file = join(ensureDataDir(dataDir), fileName);
  let db: SqliteDb | undefined;
  try {
    db = new Database(file);
    // A file that is not a database only fails at the first statement, so the
    // pragmas double as the "can we read it" check.
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous}`);
    db.pragma('foreign_keys = ON');
    // The hub is the only writer, but a backup or `sqlite3` shell may hold a lock briefly.
    db.pragma('busy_timeout = 5000');
    return db;
  } catch (err) {
    db?.close();
    throw new BohubError(options.unavailableCode, `cannot open ${file}: ${describeError(err)}`, { cause: err });
  }
}
