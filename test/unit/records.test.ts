import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../gateway/clock.ts';
import { BohubError } from '../../gateway/errors.ts';
import { MIGRATIONS } from '../../gateway/storage/migrations.ts';
import { SqliteRecordStore } from '../../gateway/storage/records.ts';

describe('SqliteRecordStore', () => {
  let dir: string;
  let store: SqliteRecordStore | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bohub-records-'));
  });
  afterEach(() => {
    store?.close();
    store = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const migrationRows = (file: string) => {
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all();
    } finally {
      db.close();
    }
  };

  it('creates the data dir and opens records.db in WAL mode with foreign keys on', () => {
    store = SqliteRecordStore.open(join(dir, 'nested', 'data'));
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2); // FULL
  });

  it('runs every migration once and records it in schema_migrations', () => {
    const clock = new ManualClock(1_000);
    store = SqliteRecordStore.open(dir, clock);
    store.close();
    clock.advance(5_000);
    store = SqliteRecordStore.open(dir, clock);

    const rows = migrationRows(join(dir, 'records.db'));
    expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name, applied_at: 1_000 })));
    expect(store.schemaVersion()).toBe(MIGRATIONS.at(-1)!.version);
  });

  it('keeps appended audit entries across a reopen', () => {
    store = SqliteRecordStore.open(dir);
    const stored = store.appendAudit({ actor: 'alice', action: 'auth.login', subject: 'alice', after: { role: 'operator' }, at: 10 });
    store.close();
    store = SqliteRecordStore.open(dir);
    expect(store.listAudit()).toEqual([{ id: stored.id, actor: 'alice', action: 'auth.login', subject: 'alice', after: { role: 'operator' }, at: 10 }]);
  });

  it('refuses UPDATE and DELETE on audit_log', () => {
    store = SqliteRecordStore.open(dir);
    store.appendAudit({ actor: 'alice', action: 'auth.login', subject: 'alice', at: 10 });
    expect(() => store!.db.prepare("UPDATE audit_log SET actor = 'mallory'").run()).toThrow(/append-only/);
    expect(() => store!.db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    expect(store.listAudit()).toHaveLength(1);
    expect(store.listAudit()[0]!.actor).toBe('alice');
  });

  it('rolls a transaction back when fn throws', () => {
    store = SqliteRecordStore.open(dir);
    expect(() =>
      store!.transaction(() => {
        store!.appendAudit({ actor: 'system', action: 'billing.read', subject: 'A-0101-E', at: 1 });
        throw new Error('VEE failed');
      }),
    ).toThrow('VEE failed');
    expect(store.listAudit()).toEqual([]);
    expect(store.transaction(() => store!.appendAudit({ actor: 'system', action: 'billing.read', subject: 'A-0101-E', at: 2 }).id)).toBeGreaterThan(0);
    expect(store.listAudit()).toHaveLength(1);
  });

  it('filters listAudit by actor, action, since and limit, newest first', () => {
    store = SqliteRecordStore.open(dir);
    const add = (actor: string, action: string, at: number) => store!.appendAudit({ actor, action, subject: 's', at });
    add('alice', 'auth.login', 100);
    add('bob', 'auth.login', 200);
    add('alice', 'alarm.ack', 300);
    add('alice', 'auth.login', 400);

    const summary = (f?: Parameters<SqliteRecordStore['listAudit']>[0]) => store!.listAudit(f).map((e) => `${e.actor}:${e.action}@${e.at}`);
    expect(summary()).toEqual(['alice:auth.login@400', 'alice:alarm.ack@300', 'bob:auth.login@200', 'alice:auth.login@100']);
    expect(summary({ actor: 'alice' })).toEqual(['alice:auth.login@400', 'alice:alarm.ack@300', 'alice:auth.login@100']);
    expect(summary({ action: 'auth.login' })).toEqual(['alice:auth.login@400', 'bob:auth.login@200', 'alice:auth.login@100']);
    expect(summary({ since: 200 })).toEqual(['alice:auth.login@400', 'alice:alarm.ack@300', 'bob:auth.login@200']);
    expect(summary({ actor: 'alice', action: 'auth.login', limit: 1 })).toEqual(['alice:auth.login@400']);
  });

  it('gives BOHUB_DATA_DIR_UNWRITABLE naming the path when the data dir cannot be created', () => {
    // Tests run as root, where chmod does not stop writes; a path under a regular file always fails.
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    const target = join(file, 'data');
    const err = catchError(() => SqliteRecordStore.open(target));
    expect(err).toBeInstanceOf(BohubError);
    expect((err as BohubError).code).toBe('BOHUB_DATA_DIR_UNWRITABLE');
    expect((err as BohubError).message).toContain(target);
  });

  it('gives BOHUB_RECORDS_UNAVAILABLE naming the file when records.db is not a database', () => {
    writeFileSync(join(dir, 'records.db'), 'this is not sqlite, just some text that is long enough to have a header'.repeat(20));
    const err = catchError(() => SqliteRecordStore.open(dir));
    expect((err as BohubError).code).toBe('BOHUB_RECORDS_UNAVAILABLE');
    expect((err as BohubError).message).toContain(join(dir, 'records.db'));
  });

  it('refuses to open a database migrated by a newer bohub', () => {
    SqliteRecordStore.open(dir).close();
    const db = new Database(join(dir, 'records.db'));
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, ?, 0)').run('from the future');
    db.close();
    const err = catchError(() => SqliteRecordStore.open(dir));
    expect((err as BohubError).code).toBe('BOHUB_RECORDS_UNAVAILABLE');
    expect((err as BohubError).message).toMatch(/999 is newer/);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}
