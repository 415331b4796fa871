import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { SqliteDb } from '../storage/sqlite-file.ts';
import type { NewPaymentRow } from './csv.ts';
import type { NewRead, ReadKind } from './types.ts';

// An import's checked rows, in a SQLite file of their own beside records.db
// (issue 15: a 50 MB readings file imports with flat memory). A worker fills it
// while it checks the file; a repeat inside the file is found by the unique key,
// not by a map of every row in memory. Once the whole file is clean, the main
// thread copies the rows into records.db in short transactions (imports.ts), in
// key order, and the file is deleted. Nothing here is money yet: records.db is.

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS reads (
    meter_id TEXT NOT NULL, read_at INTEGER NOT NULL, kind TEXT NOT NULL, serial TEXT NOT NULL,
    value TEXT NOT NULL, multiplier TEXT NOT NULL, line INTEGER NOT NULL,
    PRIMARY KEY (meter_id, read_at, kind, serial)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS payments (
    reference TEXT PRIMARY KEY, unit_id TEXT NOT NULL, paid_at INTEGER NOT NULL, amount TEXT NOT NULL, line INTEGER NOT NULL
  ) WITHOUT ROWID;
`;

/** Where a batch of rows ends: the next batch starts after it. */
export type StagingKey = readonly (string | number)[];

export class ImportStaging {
  private readonly stmt;

  private constructor(private readonly db: SqliteDb) {
    this.stmt = {
      addRead: db.prepare('INSERT INTO reads (meter_id, read_at, kind, serial, value, multiplier, line) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      sameRead: db.prepare('SELECT line, value FROM reads WHERE meter_id = ? AND read_at = ? AND kind = ? AND serial = ?'),
      addPayment: db.prepare('INSERT INTO payments (reference, unit_id, paid_at, amount, line) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      samePayment: db.prepare('SELECT line FROM payments WHERE reference = ?').pluck(),
      // Keyset pages in key order; prepared once, as the main thread reads one per transaction.
      firstReads: db.prepare('SELECT * FROM reads ORDER BY meter_id, read_at, kind, serial LIMIT ?'),
      readsAfter: db.prepare('SELECT * FROM reads WHERE (meter_id, read_at, kind, serial) > (?, ?, ?, ?) ORDER BY meter_id, read_at, kind, serial LIMIT ?'),
      paymentsAfter: db.prepare('SELECT * FROM payments WHERE reference > ? ORDER BY reference LIMIT ?'),
    };
  }

  /**
   * A new staging file (a worker checking an upload). Durability is not needed: a
   * crash before the check ends leaves nothing anyone relies on, and the upload is
   * checked again. ':memory:' keeps it in memory (the CLI's small files, tests).
   */
  static create(path: string): ImportStaging {
    rmSync(path, { force: true });
    const db = new Database(path);
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.exec(SCHEMA);
    return new ImportStaging(db);
  }

  /** A checked file, for the main thread to copy from (and to resume from after a restart). */
  static open(path: string): ImportStaging {
    return new ImportStaging(new Database(path, { readonly: true, fileMustExist: true }));
  }

  /** A worker stores a file's rows in a few large transactions: it opens one, and commits every so many rows. */
  begin(): void {
    this.db.exec('BEGIN');
  }

  commit(): void {
    if (this.db.inTransaction) this.db.exec('COMMIT');
  }

  /** Stores a read; when the file already has one with the same key, its line and value. */
  addRead(r: NewRead, line: number): { line: number; value: string } | undefined {
    if (this.stmt.addRead.run(r.meterId, r.readAt, r.kind, r.serial, r.value, r.multiplier, line).changes) return undefined;
    return this.stmt.sameRead.get(r.meterId, r.readAt, r.kind, r.serial) as { line: number; value: string };
  }

  /** Stores a payment; when the file already has its reference, that line. */
  addPayment(p: NewPaymentRow, line: number): number | undefined {
    if (this.stmt.addPayment.run(p.reference, p.unitId, p.paidAt, p.amount, line).changes) return undefined;
    return this.stmt.samePayment.get(p.reference) as number;
  }

  /** Up to `limit` reads after `after`, by meter, then time: the order the classifier wants (notable.ts). */
  readsAfter(after: StagingKey | null, limit: number): { rows: NewRead[]; last: StagingKey | null } {
    const rows = (after ? this.stmt.readsAfter.all(...after, limit) : this.stmt.firstReads.all(limit)) as Array<{ meter_id: string; read_at: number; kind: ReadKind; serial: string; value: string; multiplier: string }>;
    const last = rows.at(-1);
    return {
      rows: rows.map((r) => ({ meterId: r.meter_id, readAt: r.read_at, kind: r.kind, serial: r.serial, value: r.value, multiplier: r.multiplier, source: 'import', quality: 'good' })),
      last: last ? [last.meter_id, last.read_at, last.kind, last.serial] : null,
    };
  }

  /** Up to `limit` payments after `after`, by reference. */
  paymentsAfter(after: StagingKey | null, limit: number): { rows: NewPaymentRow[]; last: StagingKey | null } {
    const rows = this.stmt.paymentsAfter.all(after?.[0] ?? '', limit) as Array<{ reference: string; unit_id: string; paid_at: number; amount: string }>;
    const last = rows.at(-1);
    return { rows: rows.map((p) => ({ unitId: p.unit_id, paidAt: p.paid_at, amount: p.amount, reference: p.reference })), last: last ? [last.reference] : null };
  }

  close(): void {
    this.db.close();
  }
}
