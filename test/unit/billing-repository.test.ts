import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BillingError, BillingRepository } from '../../gateway/billing/repository.ts';
import type { NewRead, RunResult } from '../../gateway/billing/types.ts';
import { ManualClock } from '../../gateway/clock.ts';
import { SqliteRecordStore } from '../../gateway/storage/records.ts';

const T0 = Date.UTC(2026, 10, 24, 16); // 2026-11-25 00:00 in Asia/Shanghai
const MIN15 = 15 * 60_000;

function read(meterId: string, readAt: number, value: string, extra: Partial<NewRead> = {}): NewRead {
  return { meterId, serial: `S-${meterId}`, readAt, value, multiplier: '1', kind: 'actual', source: 'interval', quality: 'good', ...extra };
}

/** The repository stores a result as it is given; its contents do not matter here. */
function result(period: string): RunResult {
  return { period, statements: [], exceptions: [] };
}

/** Thrown when a test wants an error and gets none. */
function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('BillingRepository', () => {
  let dir: string;
  let clock: ManualClock;
  let records: SqliteRecordStore;
  let repo: BillingRepository;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bohub-billing-'));
    clock = new ManualClock(T0 + 3_600_000);
    records = SqliteRecordStore.open(dir, clock);
    repo = new BillingRepository(records, clock);
  });
  afterEach(() => {
    records.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const count = (table: string) => (records.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

  describe('reads', () => {
    it('stores the same read arriving twice as one row, keyed on meter and read time', () => {
      expect(repo.insertReads([read('A-0101-E', T0, '100.5')], 'system')).toEqual({ inserted: 1, duplicates: 0 });
      expect(repo.insertReads([read('A-0101-E', T0, '100.5'), read('A-0101-E', T0 + MIN15, '100.7')], 'system')).toEqual({ inserted: 1, duplicates: 1 });
      expect(count('billing_reads')).toBe(2);
    });

    it('keeps a different value at the same meter and read time as a second row', () => {
      repo.insertReads([read('A-0101-E', T0, '100.5'), read('A-0101-E', T0, '100.9')], 'system');
      expect(repo.readsOf('A-0101-E', T0, T0).map((r) => r.value)).toEqual(['100.5', '100.9']);
    });

    it('stores decimal strings untouched and records who and when', () => {
      repo.insertReads([read('A-0101-E', T0, '0100.50', { multiplier: '40', note: 'hand read' })], 'alice');
      expect(repo.readsOf('A-0101-E', T0, T0)).toEqual([
        { id: 1, ...read('A-0101-E', T0, '0100.50', { multiplier: '40', note: 'hand read' }), recordedAt: clock.now(), recordedBy: 'alice' },
      ]);
    });

    it('audits a batch once when asked, and interval reads not at all', () => {
      repo.insertReads([read('A-0101-E', T0, '1')], 'system');
      expect(records.listAudit()).toEqual([]);
      repo.insertReads([read('A-0101-E', T0, '1'), read('A-0102-E', T0, '2')], 'alice', { action: 'billing.reads.import', subject: 'readings.csv' });
      expect(records.listAudit()).toEqual([
        { id: 1, at: clock.now(), actor: 'alice', action: 'billing.reads.import', subject: 'readings.csv', after: { inserted: 1, duplicates: 1 } },
      ]);
    });

    it('groups reads per meter in time order, within the range inclusive, with their latest edits', () => {
      repo.insertReads(
        [read('B-0201-E', T0 + MIN15, '7'), read('A-0101-E', T0 + 2 * MIN15, '3'), read('A-0101-E', T0, '1'), read('B-0201-E', T0, '6'), read('A-0101-E', T0 + MIN15, '2'), read('A-0101-E', T0 + 3 * MIN15, '4')],
        'system',
      );
      const a1 = repo.readsOf('A-0101-E', T0 + MIN15, T0 + MIN15)[0]!;
      repo.editRead(a1.id, { value: '2.5', reason: 'first try' }, 'alice');
      repo.editRead(a1.id, { value: '2.2', reason: 'photo of the register' }, 'bob');

      const seen: Array<[string, Array<[number, string, string | null | undefined]>]> = [];
      repo.forEachMeterSeries(T0, T0 + 2 * MIN15, (meterId, reads) => seen.push([meterId, reads.map((r) => [r.readAt - T0, r.value, r.edit?.value])]));
      expect(seen).toEqual([
        ['A-0101-E', [[0, '1', undefined], [MIN15, '2', '2.2'], [2 * MIN15, '3', undefined]]],
        ['B-0201-E', [[0, '6', undefined], [MIN15, '7', undefined]]],
      ]);
    });

    it('skips meters with no reads in the range', () => {
      repo.insertReads([read('A-0101-E', T0, '1'), read('B-0201-E', T0 + 10 * MIN15, '1')], 'system');
      const meters: string[] = [];
      repo.forEachMeterSeries(T0, T0 + MIN15, (meterId) => meters.push(meterId));
      expect(meters).toEqual(['A-0101-E']);
    });
  });

  describe('edits', () => {
    it('keeps the raw value beside the edit and audits it', () => {
      repo.insertReads([read('A-0101-E', T0, '11840.20')], 'system');
      clock.advance(60_000);
      const edited = repo.editRead(1, { value: '11480.20', reason: 'digits swapped on the hand read' }, 'alice');
      expect(edited.value).toBe('11840.20');
      expect(edited.edit).toEqual({ value: '11480.20', reason: 'digits swapped on the hand read', actor: 'alice', at: clock.now() });
      expect(repo.getRead(1)).toEqual(edited);
      expect(records.listAudit({ action: 'billing.read.edit' })).toEqual([
        { id: 1, at: clock.now(), actor: 'alice', action: 'billing.read.edit', subject: 'read/1', before: { value: '11840.20' }, after: { value: '11480.20', reason: 'digits swapped on the hand read' } },
      ]);
    });

    it('audits a second edit with the previous edit as before', () => {
      repo.insertReads([read('A-0101-E', T0, '5')], 'system');
      repo.editRead(1, { value: '6', reason: 'one' }, 'alice');
      repo.editRead(1, { value: null, reason: 'two' }, 'bob');
      expect(records.listAudit()[0]).toMatchObject({ before: { value: '6' }, after: { value: null, reason: 'two' } });
      expect(repo.getRead(1)?.edit).toMatchObject({ value: null, actor: 'bob' });
    });

    it('writes the edit and its audit entry in one transaction', () => {
      repo.insertReads([read('A-0101-E', T0, '5')], 'system');
      const append = records.appendAudit.bind(records);
      records.appendAudit = () => {
        throw new Error('disk full');
      };
      expect(() => repo.editRead(1, { value: '6', reason: 'typo' }, 'alice')).toThrow('disk full');
      records.appendAudit = append;
      expect(count('billing_read_edits')).toBe(0);
      expect(repo.getRead(1)?.edit).toBeUndefined();
    });

    it('rejects an edit without a reason', () => {
      repo.insertReads([read('A-0101-E', T0, '5')], 'system');
      const err = caught(() => repo.editRead(1, { value: '6', reason: '  ' }, 'alice'));
      expect(err).toBeInstanceOf(BillingError);
      expect(err).toMatchObject({ code: 'BOHUB_BILLING_INVALID', status: 400 });
      expect(count('billing_read_edits')).toBe(0);
    });

    it('rejects a value that is not a non-negative decimal', () => {
      repo.insertReads([read('A-0101-E', T0, '5')], 'system');
      for (const value of ['-3', '1e3', '1,5', '', '.5']) {
        expect(caught(() => repo.editRead(1, { value, reason: 'x' }, 'alice'))).toMatchObject({ code: 'BOHUB_BILLING_INVALID' });
      }
    });

    it('answers an edit of an unknown read with not found', () => {
      expect(caught(() => repo.editRead(42, { value: '1', reason: 'x' }, 'alice'))).toMatchObject({ code: 'BOHUB_BILLING_NOT_FOUND', status: 404 });
    });
  });

  describe('tenancy and payments', () => {
    it('records a move-in with its reads and audit entry', () => {
      const event = repo.addTenancyEvent(
        { unitId: 'A-0101', kind: 'move_in', at: T0, company: 'Acme Ltd', occupancy: 'tenant' },
        [read('A-0101-E', T0, '10', { source: 'manual' }), read('A-0101-W', T0, '3', { source: 'manual' })],
        'alice',
      );
      expect(event).toEqual({ id: 1, unitId: 'A-0101', kind: 'move_in', at: T0, company: 'Acme Ltd', occupancy: 'tenant', recordedAt: clock.now(), recordedBy: 'alice' });
      expect(repo.readsOf('A-0101-E', T0, T0).map((r) => r.kind)).toEqual(['move_in']);
      expect(records.listAudit()).toMatchObject([{ action: 'billing.move_in', subject: 'unit/A-0101', actor: 'alice' }]);
    });

    it('lists tenancy events by time, for one unit or all', () => {
      repo.addTenancyEvent({ unitId: 'A-0101', kind: 'move_out', at: T0 + 2, company: 'Acme Ltd', occupancy: 'tenant' }, [], 'alice');
      repo.addTenancyEvent({ unitId: 'A-0102', kind: 'move_in', at: T0 + 1, company: 'Beta', occupancy: 'owner' }, [], 'alice');
      repo.addTenancyEvent({ unitId: 'A-0101', kind: 'move_in', at: T0, company: 'Acme Ltd', occupancy: 'tenant' }, [], 'alice');
      expect(repo.tenancyEvents().map((e) => e.id)).toEqual([3, 2, 1]);
      expect(repo.tenancyEvents('A-0101').map((e) => e.kind)).toEqual(['move_in', 'move_out']);
    });

    it('counts a payment with a reference already stored as a duplicate, and audits a batch when asked', () => {
      const p = { unitId: 'A-0101', paidAt: T0, amount: '1234.50', reference: 'BANK-001' };
      const audit = { action: 'billing.payments.import', subject: 'payments' };
      expect(repo.insertPayments([p], 'alice', audit)).toEqual({ inserted: 1, duplicates: 0 });
      expect(repo.insertPayments([{ ...p, amount: '99.00' }, { ...p, reference: 'BANK-002', paidAt: T0 - 1 }], 'alice', audit)).toEqual({ inserted: 1, duplicates: 1 });
      repo.insertPayments([{ ...p, reference: 'BANK-003' }], 'alice');
      expect(repo.payments().map((x) => [x.reference, x.amount])).toEqual([['BANK-002', '1234.50'], ['BANK-001', '1234.50'], ['BANK-003', '1234.50']]);
      expect(records.listAudit({ action: 'billing.payments.import' }).map((e) => e.after)).toEqual([{ inserted: 1, duplicates: 1 }, { inserted: 1, duplicates: 0 }]);
    });

    it('filters payments by unit and by time, inclusive', () => {
      repo.insertPayments(
        [{ unitId: 'A-0101', paidAt: T0, amount: '1.00', reference: 'r1' }, { unitId: 'A-0102', paidAt: T0, amount: '2.00', reference: 'r2' }, { unitId: 'A-0101', paidAt: T0 + 1, amount: '3.00', reference: 'r3' }],
        'alice',
      );
      expect(repo.payments({ unitId: 'A-0101' }).map((p) => p.reference)).toEqual(['r1', 'r3']);
      expect(repo.payments({ until: T0 }).map((p) => p.reference)).toEqual(['r1', 'r2']);
    });
  });

  describe('runs', () => {
    it('saves each run as the next version of its period, as a draft', () => {
      const v1 = repo.saveRun({ period: '2026-11', outputsHash: 'h1', result: result('2026-11') }, 'alice');
      const v2 = repo.saveRun({ period: '2026-11', outputsHash: 'h2', result: result('2026-11') }, 'alice');
      repo.saveRun({ period: '2026-12', outputsHash: 'h3', result: result('2026-12') }, 'alice');
      expect([v1.version, v2.version, repo.latestRun('2026-12')?.version]).toEqual([1, 2, 1]);
      expect(v2).toEqual({ id: 2, period: '2026-11', version: 2, status: 'draft', outputsHash: 'h2', result: result('2026-11'), createdAt: clock.now(), createdBy: 'alice' });
      expect(repo.latestRun('2026-11')).toEqual(v2);
      expect(repo.run('2026-11', 1)).toEqual(v1);
      expect(repo.runs('2026-11').map((r) => r.version)).toEqual([2, 1]);
      expect(repo.runs()[0]).not.toHaveProperty('result');
      expect(records.listAudit({ action: 'billing.run' })[0]?.after).toEqual({ period: '2026-12', version: 1, outputsHash: 'h3', corrects: null });
    });

    it('closes the latest version; the database then refuses to rewrite it', () => {
      repo.saveRun({ period: '2026-11', outputsHash: 'h1', result: result('2026-11') }, 'alice');
      clock.advance(1_000);
      const closed = repo.closeRun('2026-11', 'bob');
      expect(closed).toMatchObject({ version: 1, status: 'closed', closedAt: clock.now(), closedBy: 'bob' });
      expect(repo.latestRunMeta('2026-11')).toEqual(closed);
      expect(() => records.db.prepare("UPDATE billing_runs SET result_json = '{}', outputs_hash = 'forged' WHERE period = '2026-11'").run()).toThrow(/closed billing run is locked/);
      expect(() => records.db.prepare('DELETE FROM billing_runs').run()).toThrow(/kept/);
      expect(records.listAudit({ action: 'billing.close' })).toMatchObject([{ actor: 'bob', subject: 'run/2026-11/1', after: { status: 'closed', outputsHash: 'h1' } }]);
    });

    it('answers closing a closed period with a conflict, and a period with no run with not found', () => {
      repo.saveRun({ period: '2026-11', outputsHash: 'h1', result: result('2026-11') }, 'alice');
      repo.closeRun('2026-11', 'bob');
      expect(caught(() => repo.closeRun('2026-11', 'bob'))).toMatchObject({ code: 'BOHUB_BILLING_CONFLICT', status: 409 });
      expect(caught(() => repo.closeRun('2026-10', 'bob'))).toMatchObject({ code: 'BOHUB_BILLING_NOT_FOUND', status: 404 });
    });

    it('keeps a correction as a new version that names the one it corrects', () => {
      repo.saveRun({ period: '2026-11', outputsHash: 'h1', result: result('2026-11') }, 'alice');
      repo.closeRun('2026-11', 'bob');
      const v2 = repo.saveRun({ period: '2026-11', outputsHash: 'h2', result: result('2026-11'), corrects: 1 }, 'alice');
      expect(v2).toMatchObject({ version: 2, status: 'draft', corrects: 1 });
      expect(repo.run('2026-11', 1)?.status).toBe('closed');
    });
  });

  describe('tasks', () => {
    it('creates a task per period and list, and replaces its document on a second upsert', () => {
      const first = repo.upsertTask({ period: '2026-11', list: 'reminder', dueDate: '2026-12-18', state: 'open', doc: { units: ['A-0101'] } }, 'system');
      clock.advance(1_000);
      const second = repo.upsertTask({ period: '2026-11', list: 'reminder', dueDate: '2026-12-18', state: 'pending_approval', doc: { units: [] } }, 'system');
      expect(second).toEqual({ ...first, state: 'pending_approval', doc: { units: [] }, updatedAt: clock.now() });
      expect(repo.tasks('2026-11')).toEqual([second]);
      expect(records.listAudit({ action: 'billing.task' })[0]).toMatchObject({ before: { state: 'open' }, after: { state: 'pending_approval' } });
    });

    it('sets a task state with an audit entry', () => {
      const task = repo.upsertTask({ period: '2026-11', list: 'suspension', dueDate: '2026-12-31', state: 'pending_approval', doc: {} }, 'system');
      expect(repo.setTaskState(task.id, 'approved', 'manager')).toMatchObject({ state: 'approved', updatedBy: 'manager' });
      expect(repo.tasks()[0]?.state).toBe('approved');
      expect(records.listAudit({ action: 'billing.task.state' })).toMatchObject([{ actor: 'manager', before: { state: 'pending_approval' }, after: { state: 'approved' } }]);
      expect(caught(() => repo.setTaskState(99, 'done', 'manager'))).toMatchObject({ code: 'BOHUB_BILLING_NOT_FOUND' });
    });
  });

  it('knows whether the reading-day snapshot for a boundary was taken', () => {
    expect(repo.hasSnapshot(T0, 6 * 3_600_000)).toBe(false);
    repo.insertReads([read('A-0101-E', T0, '1', { source: 'snapshot' })], 'system', { action: 'billing.snapshot', subject: new Date(T0).toISOString() });
    expect(repo.hasSnapshot(T0, 6 * 3_600_000)).toBe(true);
    expect(repo.hasSnapshot(T0 + 86_400_000, 6 * 3_600_000)).toBe(false);
  });
});
