import { afterEach, describe, expect, it } from 'vitest';
import { computeRun } from '../../gateway/billing/run.ts';
import type { NewRead } from '../../gateway/billing/types.ts';
import { billingRig, type BillingRig } from '../helpers/billing.ts';

// The month-end pass skips plain reads (gateway/billing/notable.ts). That must
// change nothing: the same month of 15-minute reads, with every kind of trouble in
// it, gives exactly the same statements and exceptions whether validation sees
// every read or only the notable ones.

const rigs: BillingRig[] = [];
afterEach(() => rigs.splice(0).forEach((r) => r.close()));

const QUARTER = 900_000;

/** A month of 15-minute reads for A-0101..A-0104, stored time step by time step as the poller does. */
function month(rig: BillingRig): NewRead[] {
  const start = rig.at('2026-10-24T00:00');
  const end = rig.at('2026-11-26T00:00');
  const reads: NewRead[] = [];
  const values = new Map<string, number>([['A-0101-E', 999_900], ['A-0102-E', 5000], ['A-0103-E', 2000], ['A-0104-E', 800], ['A-0101-W', 10], ['A-0102-W', 20], ['A-0103-W', 30], ['A-0104-W', 40]]);
  let serial102 = 'DDSUA0102';
  for (let t = start, step = 0; t <= end; t += QUARTER, step++) {
    for (const [meter, v] of values) {
      const water = meter.endsWith('-W');
      const night = new Date(t + 8 * 3_600_000).getUTCHours() < 7;
      let next = v + (water ? (night ? 0 : 0.005) : night ? 0.1 : 1.25);
      let value = next.toFixed(water ? 3 : 2);
      let kind: NewRead['kind'] = 'actual';
      if (meter === 'A-0101-E' && next >= 1_000_000) (next -= 1_000_000), (value = next.toFixed(2)); // rollover
      if (meter === 'A-0103-E' && step === 1500) value = '0.00'; // glitch zero
      if (meter === 'A-0104-E' && step >= 2000 && step < 2400) (next = v), (value = v.toFixed(2)); // frozen for 4 days
      if (meter === 'A-0104-W' && t > rig.at('2026-11-22T00:00')) continue; // quiet: estimated
      if (meter === 'A-0102-E' && step === 1700) {
        reads.push({ meterId: meter, serial: serial102, readAt: t, value, multiplier: '1', kind: 'replacement_final', source: 'manual', quality: 'good' });
        serial102 = 'DDSU-NEW';
        next = 0;
        value = '0.00';
        kind = 'replacement_initial';
      }
      values.set(meter, next);
      const serial = meter === 'A-0102-E' ? serial102 : meter.replace(/^A-(\d+)-E$/, 'DDSUA$1').replace(/^A-(\d+)-W$/, 'WMA$1');
      reads.push({ meterId: meter, serial, readAt: t, value, multiplier: '1', kind, source: kind === 'actual' ? 'interval' : 'manual', quality: 'good' });
    }
  }
  return reads;
}

function twoRigs(): [BillingRig, BillingRig] {
  const fast = billingRig(() => {}, 4, true);
  const full = billingRig(() => {}, 4, false);
  rigs.push(fast, full);
  const reads = month(fast);
  // Interleaved across meters as the hub stores interval reads, six hours to a transaction.
  for (let i = 0; i < reads.length; i += 8 * 24) for (const rig of [fast, full]) rig.repo.insertReads(reads.slice(i, i + 8 * 24), 'poller');
  return [fast, full];
}

const result = (rig: BillingRig) => computeRun('2026-11', { config: rig.config, repo: rig.repo, accepted: new Set() });

describe('skipping plain reads changes no result (notable.ts)', () => {
  it('a month with a rollover, a glitch, a replacement, a frozen run and a quiet meter bills the same either way', () => {
    const [fast, full] = twoRigs();
    const plain = fast.records.db.prepare('SELECT avg(plain) FROM billing_reads').pluck().get() as number;
    expect(plain).toBeGreaterThan(0.9);
    const a = result(fast);
    expect(a).toEqual(result(full));
    expect(a.exceptions.map((e) => `${e.meterId} ${e.code}`).sort()).toEqual(['A-0103-E glitch_read', 'A-0104-E frozen', 'A-0104-W estimated']);
    expect(a.statements.find((s) => s.unitId === 'A-0102')!.meters[0]!.serials).toEqual(['DDSUA0102', 'DDSU-NEW']);
  });

  it('a read stored out of time order, and an edit, are judged with their neighbours the same way', () => {
    const [fast, full] = twoRigs();
    for (const rig of [fast, full]) {
      rig.repo.insertReads([{ meterId: 'A-0102-W', serial: 'WMA0102', readAt: rig.at('2026-11-05T10:07'), value: '1.000', multiplier: '1', kind: 'actual', source: 'import', quality: 'good' }], 'import');
      const read = rig.repo.readsOf('A-0101-W', rig.at('2026-11-10T12:00'), rig.at('2026-11-10T12:00'))[0]!;
      rig.repo.editRead(read.id, { value: '12.000', reason: 'hand read' }, 'finance');
    }
    const a = result(fast);
    expect(a).toEqual(result(full));
    expect(a.exceptions.map((e) => `${e.meterId} ${e.code}`)).toEqual(expect.arrayContaining(['A-0102-W glitch_read', 'A-0101-W glitch_read']));
  });
});
