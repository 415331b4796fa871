import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { BillingService } from '../../gateway/billing/service.ts';
import { billingRig, plainMonth, type BillingRig } from '../helpers/billing.ts';

// Repeatable billing (issue 7): the same period twice gives byte-identical
// documents; a closed period is locked and a change after it is a versioned
// correction; imports are all or nothing.

let rig: BillingRig;
let service: BillingService;
afterEach(() => rig?.close());

function setUp(): void {
  rig = billingRig();
  service = new BillingService(rig.config, rig.records, rig.clock);
  plainMonth(rig);
}

const hashes = (files: Map<string, string>) => new Map([...files].map(([name, text]) => [name, createHash('sha256').update(text).digest('hex')]));

describe('billing runs are repeatable (issue 7)', () => {
  it('running the same period twice gives byte-identical outputs and no new version', () => {
    setUp();
    const first = service.run('2026-11', 'finance');
    rig.clock.advance(3_600_000);
    const second = service.run('2026-11', 'finance');
    expect(first.outcome).toBe('new');
    expect(second.outcome).toBe('unchanged');
    expect(second.run.version).toBe(1);
    expect(hashes(second.files)).toEqual(hashes(first.files));
    expect([...first.files.keys()].sort()).toEqual(['exceptions.csv', 'notices.en.html', 'notices.zh.html', 'statements.csv', 'summary.html', 'summary.json']);
  });

  it('a re-run after an edit to a closed period is a versioned correction; the closed version is kept as it was', () => {
    setUp();
    const v1 = service.run('2026-11', 'finance');
    service.close('2026-11', 'finance');
    const closing = rig.repo.readsOf('A-0102-E', rig.at('2026-11-25T00:00'), rig.at('2026-11-25T00:00'))[0]!;
    rig.repo.editRead(closing.id, { value: '1600.50', reason: 'hand read on the 25th was 1600.50; the photo is on file' }, 'finance');
    const v2 = service.run('2026-11', 'finance');
    expect(v2).toMatchObject({ outcome: 'correction', run: { version: 2, corrects: 1, status: 'draft' } });
    expect(rig.repo.run('2026-11', 1)!.status).toBe('closed');
    expect(hashes(service.render(rig.repo.run('2026-11', 1)!))).toEqual(hashes(v1.files));
    const a0102 = v2.run.result.statements.find((s) => s.unitId === 'A-0102')!;
    expect(a0102.meters.find((m) => m.meterId === 'A-0102-E')!.use).toBe('600.5');
    expect(v2.files.get('notices.zh.html')).toContain('更正');
  });

  it('a closed run cannot be rewritten in the database itself', () => {
    setUp();
    service.run('2026-11', 'finance');
    service.close('2026-11', 'finance');
    expect(() => rig.records.db.prepare("UPDATE billing_runs SET result_json = '{}' WHERE period = '2026-11'").run()).toThrow(/locked/);
  });

  it('edits keep the raw read beside the edited one and are audited with the reason', () => {
    setUp();
    const read = rig.repo.readsOf('A-0101-E', rig.at('2026-11-25T00:00'), rig.at('2026-11-25T00:00'))[0]!;
    const edited = rig.repo.editRead(read.id, { value: '1499.00', reason: 'display photo' }, 'supervisor');
    expect(edited).toMatchObject({ value: '1500.50', edit: { value: '1499.00', reason: 'display photo', actor: 'supervisor' } });
    expect(rig.records.listAudit({ action: 'billing.read.edit' })[0]).toMatchObject({ actor: 'supervisor', subject: `read/${read.id}` });
  });

  it('an import with bad rows names each line and reason and imports nothing from the file', async () => {
    setUp();
    const before = rig.repo.readsOf('A-0101-E', 0, Date.UTC(2030, 0, 1)).length;
    const csv = [
      'meter_id,read_at,value,kind,serial',
      'A-0101-E,2026-11-26T09:00:00+08:00,1510.00,actual,DDSUA0101',
      'A-9999-E,2026-11-26T09:00:00+08:00,1.00,actual,X',
      'A-0101-E,2026-11-26 09:00,1511.00,actual,DDSUA0101',
      'A-0101-E,2026-11-27T09:00:00+08:00,-4,actual,DDSUA0101',
    ].join('\n');
    const report = await service.imports.upload('readings', Readable.from([csv]), 'operator', Infinity);
    expect(report.ok).toBe(false);
    if (report.ok) return;
    expect(report.problems.map((p) => p.line)).toEqual([3, 4, 5]);
    expect(report.problems[0]!.reason).toMatch(/A-9999-E/);
    expect(rig.repo.readsOf('A-0101-E', 0, Date.UTC(2030, 0, 1))).toHaveLength(before);
  });

  it('a clean import loads every row, and loading it again adds nothing', async () => {
    setUp();
    const csv = 'meter_id,read_at,value,kind,serial\nA-0101-E,2026-11-26T09:00:00+08:00,1510.00,actual,DDSUA0101\n';
    expect(await service.imports.upload('readings', Readable.from([csv]), 'operator', Infinity)).toEqual({ ok: true, inserted: 1, duplicates: 0 });
    expect(await service.imports.upload('readings', Readable.from([csv]), 'operator', Infinity)).toEqual({ ok: true, inserted: 0, duplicates: 1 });
  });

  it('payments reduce the next period\'s arrears and late fees accrue only on what stays unpaid (handbook 第三节)', async () => {
    setUp();
    for (const unit of ['A-0101', 'A-0102', 'A-0103', 'A-0104']) {
      rig.reads(`${unit}-E`, [['2026-12-25T00:00', '1600.50']]);
      rig.reads(`${unit}-W`, [['2026-12-25T00:00', '22.500']]);
    }
    const nov = service.run('2026-11', 'finance').run.result.statements.find((s) => s.unitId === 'A-0102')!;
    expect(nov.total).toBe('6168.51');
    // A-0102 pays 5000.00 on the due date; 1168.51 stays unpaid for 19 days (6–24 Dec) at 0.05 % a day.
    expect(await service.imports.upload('payments', Readable.from(['unit_id,paid_at,amount,reference\nA-0102,2026-12-05T10:00:00+08:00,5000.00,BANK-1\n']), 'finance', Infinity)).toMatchObject({ ok: true, inserted: 1 });
    const dec = service.run('2026-12', 'finance').run.result.statements.find((s) => s.unitId === 'A-0102')!;
    expect(dec.previousArrears).toBe('1168.51');
    // 1168.51 × 0.0005 × 19 = 11.100845 → 11.10
    expect(dec.lines.find((l) => l.code === 'late_fee')!.amount).toBe('11.10');
  });
});
