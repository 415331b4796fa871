import { afterEach, describe, expect, it } from 'vitest';
import { computeRun } from '../../gateway/billing/run.ts';
import type { RunResult, Statement } from '../../gateway/billing/types.ts';
import { billingRig, daily, type BillingRig } from '../helpers/billing.ts';

// Golden fixtures for the billing run, each checked to the cent (issue 7). The
// demo tariffs: electricity 1.0120/kWh, water 4.96/m³, management fee 28.00/m²
// a month; A-0102 is a 200 m² tenant unit, A-0103 220 m². Period 2026-11 reads
// from local midnight of 2026-10-25 to local midnight of 2026-11-25.

let rig: BillingRig;
afterEach(() => rig?.close());

const run = (accepted: string[] = []): RunResult => computeRun('2026-11', { config: rig.config, repo: rig.repo, accepted: new Set(accepted) });
const statementOf = (result: RunResult, unitId: string, company?: string): Statement =>
  result.statements.find((s) => s.unitId === unitId && (company === undefined || s.company === company))!;
const amount = (s: Statement, code: string) => s.lines.filter((l) => l.code === code).map((l) => l.amount);
const codes = (result: RunResult, meterId: string) => result.exceptions.filter((e) => e.meterId === meterId).map((e) => e.code);

/** Plain water reads for A-0102 so its statement has both meters: 12.5 m³ = 62.00. */
const plainWater = () => rig.reads('A-0102-W', [['2026-10-25T00:00', '10.000'], ['2026-11-25T00:00', '22.500']]);

describe('billing golden fixtures (issue 7)', () => {
  it('plain month: opening and closing reads at local midnight price to the cent', () => {
    rig = billingRig();
    rig.reads('A-0102-E', [['2026-10-25T00:00', '1000.00'], ['2026-11-25T00:00', '1500.50']]);
    plainWater();
    const s = statementOf(run(), 'A-0102');
    expect(s.meters.find((m) => m.meterId === 'A-0102-E')!.use).toBe('500.5');
    // 500.50 × 1.0120 = 506.506 → 506.51 (half up); 200 m² × 28.00 = 5600.00.
    expect(amount(s, 'electricity')).toEqual(['506.51']);
    expect(amount(s, 'water')).toEqual(['62.00']);
    expect(amount(s, 'management_fee')).toEqual(['5600.00']);
    expect([s.currentCharges, s.total, s.dueDate, s.status]).toEqual(['6168.51', '6168.51', '2026-12-05', 'billed']);
  });

  it('rollover: 999 800.00 → 300.50 past the DDSU666 maximum bills 500.50 kWh, not a negative or a 999 499 kWh bill', () => {
    rig = billingRig();
    rig.reads('A-0102-E', [...daily('2026-10-25', 31, 999_800, 6), ['2026-11-25T00:00', '300.50']]);
    plainWater();
    const result = run();
    const e = statementOf(result, 'A-0102').meters.find((m) => m.meterId === 'A-0102-E')!;
    // 1 000 000.00 − 999 800.00 + 300.50
    expect(e.use).toBe('500.5');
    expect(amount(statementOf(result, 'A-0102'), 'electricity')).toEqual(['506.51']);
    expect(codes(result, 'A-0102-E')).toEqual([]);
  });

  it('a drop that no rollover can explain is held unbilled, never billed as negative use', () => {
    rig = billingRig();
    rig.reads('A-0102-E', [['2026-10-25T00:00', '11840.20'], ['2026-11-10T00:00', '12000.00'], ['2026-11-11T00:00', '310.55'], ['2026-11-25T00:00', '400.00']]);
    plainWater();
    const result = run();
    const s = statementOf(result, 'A-0102');
    expect(codes(result, 'A-0102-E')).toEqual(['unexplained_drop']);
    expect(s.status).toBe('held');
    expect(s.holds[0]).toMatch(/A-0102-E/);
  });

  it('negative use: an estimate last period that overshot the real read is named and held, never billed as a credit', () => {
    rig = billingRig();
    // October: 10 kWh a day until the 21st, then quiet: its closing read is estimated at 1300.00.
    rig.reads('A-0102-E', daily('2026-09-25', 27, 1000, 10));
    rig.reads('A-0102-W', [['2026-09-25T00:00', '5.000'], ['2026-10-25T00:00', '10.000']]);
    const october = computeRun('2026-10', { config: rig.config, repo: rig.repo, accepted: new Set() });
    expect(october.statements.find((s) => s.unitId === 'A-0102')!.meters[0]!.closing).toMatchObject({ basis: 'estimated', value: '1300.00' });
    rig.repo.saveRun({ period: '2026-10', outputsHash: 'x', result: october }, 'test');
    // The meter is read again on 25 November: 1290.00, below the estimate carried over.
    rig.reads('A-0102-E', [['2026-11-25T00:00', '1290.00']]);
    plainWater();
    const result = run();
    const e = result.exceptions.find((x) => x.code === 'negative_use')!;
    expect(e).toMatchObject({ meterId: 'A-0102-E', blocking: true, detail: '1300.00 → 1290.00' });
    expect(statementOf(result, 'A-0102').status).toBe('held');
  });

  it('declared replacement: old meter final 5 200.00, new meter from 0.00 to 300.25 bills 500.25 kWh, never across serials', () => {
    rig = billingRig();
    rig.reads('A-0102-E', [['2026-10-25T00:00', '5000.00']]);
    rig.reads('A-0102-E', [['2026-11-10T10:00', '5200.00']], { kind: 'replacement_final' });
    rig.reads('A-0102-E', [['2026-11-10T10:00', '0.00']], { serial: 'DDSU-NEW-1', kind: 'replacement_initial' });
    rig.reads('A-0102-E', [['2026-11-25T00:00', '300.25']], { serial: 'DDSU-NEW-1' });
    plainWater();
    const result = run();
    const e = statementOf(result, 'A-0102').meters.find((m) => m.meterId === 'A-0102-E')!;
    expect(e.use).toBe('500.25');
    expect(e.serials).toEqual(['DDSUA0102', 'DDSU-NEW-1']);
    expect(amount(statementOf(result, 'A-0102'), 'electricity')).toEqual(['506.25']); // 500.25 × 1.0120 = 506.253
    expect(codes(result, 'A-0102-E')).toEqual([]);
  });

  it('a change of CT multiplier is declared like a replacement: 200 kWh at ×1 plus 7.5 at ×40 is 500 kWh', () => {
    rig = billingRig();
    rig.reads('A-0102-E', [['2026-10-25T00:00', '5000.00']]);
    rig.reads('A-0102-E', [['2026-11-10T10:00', '5200.00']], { kind: 'replacement_final' });
    rig.reads('A-0102-E', [['2026-11-10T10:00', '5200.00']], { kind: 'replacement_initial', multiplier: '40' });
    rig.reads('A-0102-E', [['2026-11-25T00:00', '5207.50']], { multiplier: '40' });
    plainWater();
    const result = run();
    expect(statementOf(result, 'A-0102').meters.find((m) => m.meterId === 'A-0102-E')!.use).toBe('500');
    expect(codes(result, 'A-0102-E')).toEqual([]);
  });

  it('a serial change nobody declared is held (ioBroker.statistics #264: a replaced meter gave negative use)', () => {
    rig = billingRig();
    rig.reads('A-0102-E', [['2026-10-25T00:00', '5000.00']]);
    rig.reads('A-0102-E', [['2026-11-25T00:00', '12.00']], { serial: 'DDSU-NEW-2' });
    plainWater();
    const result = run();
    expect(codes(result, 'A-0102-E')).toContain('serial_changed');
    expect(statementOf(result, 'A-0102').status).toBe('held');
  });

  it('a 1-hour gap in 15-minute reads changes nothing: use is closing minus opening', () => {
    rig = billingRig();
    const points: Array<[string, string]> = [];
    for (let q = 0, t = rig.at('2026-10-25T00:00'); t <= rig.at('2026-11-25T00:00'); t += 900_000, q++) {
      const local = new Date(t + 8 * 3_600_000).toISOString().slice(0, 16);
      if (local >= '2026-11-03T10:00' && local < '2026-11-03T11:00') continue;
      points.push([local, (2000 + q * 0.25).toFixed(2)]);
    }
    rig.reads('A-0102-E', points);
    plainWater();
    const result = run();
    // 31 days × 96 quarter hours × 0.25 kWh = 744 kWh; 744 × 1.0120 = 752.928 → 752.93.
    expect(statementOf(result, 'A-0102').meters.find((m) => m.meterId === 'A-0102-E')!.use).toBe('744');
    expect(amount(statementOf(result, 'A-0102'), 'electricity')).toEqual(['752.93']);
    expect(codes(result, 'A-0102-E')).toEqual([]);
  });

  it('a 3-day gap before the reading day: the closing read is estimated from the average daily use and marked so', () => {
    rig = billingRig();
    // 16.00 kWh a day for 28 days, then the meter goes quiet 3 days before the 25th.
    rig.reads('A-0102-E', daily('2026-10-25', 29, 3000, 16));
    plainWater();
    const result = run();
    const e = statementOf(result, 'A-0102').meters.find((m) => m.meterId === 'A-0102-E')!;
    expect(e.closing).toMatchObject({ basis: 'estimated', value: '3496.00', rule: { en: 'average daily use over 28 days of reads', zh: '按 28 天读数的日均用量' } });
    expect(e.use).toBe('496'); // 31 days × 16.00
    expect(amount(statementOf(result, 'A-0102'), 'electricity')).toEqual(['501.95']); // 496 × 1.0120 = 501.952
    const estimated = result.exceptions.find((x) => x.code === 'estimated')!;
    expect(estimated).toMatchObject({ meterId: 'A-0102-E', blocking: false });
    expect(statementOf(result, 'A-0102').status).toBe('billed');
  });

  it('a closing read that fell back to the latest good read is billed and flagged as a fallback', () => {
    rig = billingRig();
    rig.reads('A-0102-E', [['2026-10-25T00:00', '1000.00'], ['2026-11-24T21:00', '1500.50']]);
    rig.reads('A-0102-E', [['2026-11-24T21:00', '1500.50']], { source: 'fallback', note: 'fresh read failed (timeout); latest good read 180 min old' });
    plainWater();
    const result = run();
    const e = statementOf(result, 'A-0102').meters.find((m) => m.meterId === 'A-0102-E')!;
    expect(e.closing).toMatchObject({ basis: 'fallback', value: '1500.50' });
    expect(result.exceptions.find((x) => x.meterId === 'A-0102-E')).toMatchObject({ code: 'fallback', blocking: false });
    expect(statementOf(result, 'A-0102').status).toBe('billed');
  });

  it('tiered electricity prices each tier the use reaches: 200 kWh at 0.62 and 300.50 at 0.67', () => {
    rig = billingRig((raw) => (raw.tariffs.electricityTiers = [{ uptoKWh: '200', pricePerKWh: '0.62' }, { pricePerKWh: '0.67' }]));
    rig.reads('A-0102-E', [['2026-10-25T00:00', '1000.00'], ['2026-11-25T00:00', '1500.50']]);
    plainWater();
    const s = statementOf(run(), 'A-0102');
    // 200 × 0.62 = 124.00; 300.50 × 0.67 = 201.335 → 201.34 (half up)
    expect(s.lines.filter((l) => l.code === 'electricity').map((l) => [l.quantity, l.unitPrice, l.amount])).toEqual([['200', '0.62', '124.00'], ['300.5', '0.67', '201.34']]);
  });

  it('estimates are capped: a third estimated closing read in a row holds the meter for a hand read', () => {
    rig = billingRig();
    // The meter stops answering on 20 August: August and September are estimated, October may not be.
    rig.reads('A-0102-E', daily('2026-07-25', 27, 1000, 10));
    rig.reads('A-0102-W', ['2026-07', '2026-08', '2026-09', '2026-10'].map((p, i) => [`${p}-25T00:00`, `${10 + i}.000`]));
    const bill = (period: string) => computeRun(period, { config: rig.config, repo: rig.repo, accepted: new Set() });
    for (const [period, value] of [['2026-08', '1310.00'], ['2026-09', '1620.00']] as const) {
      const result = bill(period);
      expect(result.statements.find((s) => s.unitId === 'A-0102')!.meters.find((m) => m.meterId === 'A-0102-E')!.closing).toMatchObject({ basis: 'estimated', value });
      rig.repo.saveRun({ period, outputsHash: period, result }, 'test');
    }
    const october = bill('2026-10');
    expect(october.exceptions.find((e) => e.meterId === 'A-0102-E')).toMatchObject({ code: 'estimate_cap', blocking: true });
    expect(october.statements.find((s) => s.unitId === 'A-0102')!.status).toBe('held');
  });

  it('spike: a Modbus glitch read far above both neighbours is left out and named (evcc #30267)', () => {
    rig = billingRig();
    rig.reads('A-0102-E', [['2026-10-25T00:00', '1000.00'], ['2026-11-10T00:00', '1200.00'], ['2026-11-10T00:15', '999999.00'], ['2026-11-10T00:30', '1200.10'], ['2026-11-25T00:00', '1500.50']]);
    plainWater();
    const result = run();
    expect(codes(result, 'A-0102-E')).toEqual(['glitch_read']);
    expect(statementOf(result, 'A-0102').meters.find((m) => m.meterId === 'A-0102-E')!.use).toBe('500.5');
    expect(statementOf(result, 'A-0102').status).toBe('billed');
  });

  it('a suspect zero between two good reads is left out, not billed as a rollover', () => {
    rig = billingRig();
    rig.reads('A-0102-E', [['2026-10-25T00:00', '1000.00'], ['2026-11-10T00:00', '1200.00'], ['2026-11-10T00:15', '0.00'], ['2026-11-10T00:30', '1200.10'], ['2026-11-25T00:00', '1500.50']]);
    plainWater();
    const result = run();
    expect(codes(result, 'A-0102-E')).toEqual(['glitch_read']);
    expect(statementOf(result, 'A-0102').meters.find((m) => m.meterId === 'A-0102-E')!.use).toBe('500.5');
  });

  it('spike against the unit\'s own history holds the statement until someone accepts it', () => {
    rig = billingRig();
    rig.reads('A-0102-E', [['2026-09-25T00:00', '1000.00'], ['2026-10-25T00:00', '1310.00'], ['2026-11-25T00:00', '4410.00']]);
    plainWater();
    rig.reads('A-0102-W', [['2026-09-25T00:00', '0.000']]);
    rig.repo.saveRun({ period: '2026-10', outputsHash: 'x', result: computeRun('2026-10', { config: rig.config, repo: rig.repo, accepted: new Set() }) }, 'test');
    const result = run();
    const spike = result.exceptions.find((e) => e.code === 'spike')!;
    expect(spike).toMatchObject({ meterId: 'A-0102-E', blocking: true });
    expect(statementOf(result, 'A-0102').status).toBe('held');
    expect(statementOf(run([spike.id]), 'A-0102').status).toBe('billed');
  });

  it('frozen reads: the same non-zero value on three daily reads of an occupied unit is named, and billed as read', () => {
    rig = billingRig();
    rig.reads('A-0102-E', [['2026-10-25T00:00', '1000.00'], ['2026-11-20T00:00', '1400.00'], ['2026-11-21T00:00', '1400.00'], ['2026-11-22T00:00', '1400.00'], ['2026-11-25T00:00', '1400.00']]);
    plainWater();
    const result = run();
    expect(result.exceptions.filter((e) => e.meterId === 'A-0102-E').map((e) => [e.code, e.blocking])).toEqual([['frozen', false]]);
    expect(statementOf(result, 'A-0102').status).toBe('billed');
  });

  it('a meter standing still while the unit was empty is not frozen', () => {
    rig = billingRig((raw) => delete raw.towers[0].floors[1].units[2].tenant);
    rig.repo.addTenancyEvent({ unitId: 'A-0103', kind: 'move_in', at: rig.at('2026-11-24T09:00'), company: '新租户有限公司', occupancy: 'tenant' }, [], 'operator');
    rig.reads('A-0103-E', [['2026-10-25T00:00', '100.00'], ['2026-11-24T09:00', '100.00'], ['2026-11-25T00:00', '100.00']]);
    rig.reads('A-0103-W', [['2026-10-25T00:00', '5.000'], ['2026-11-25T00:00', '5.000']]);
    expect(run().exceptions.filter((e) => e.code === 'frozen')).toEqual([]);
  });

  it('duplicates are keyed on meter and read time: the same read twice bills once, two values at one time are held', () => {
    rig = billingRig();
    rig.reads('A-0102-E', [['2026-10-25T00:00', '1000.00'], ['2026-11-25T00:00', '1500.50']]);
    rig.reads('A-0102-E', [['2026-11-25T00:00', '1500.50']], { source: 'snapshot' });
    plainWater();
    expect(statementOf(run(), 'A-0102').meters.find((m) => m.meterId === 'A-0102-E')!.use).toBe('500.5');
    rig.reads('A-0102-E', [['2026-11-25T00:00', '1555.00']]);
    const result = run();
    expect(codes(result, 'A-0102-E')).toContain('conflicting_duplicate');
    expect(statementOf(result, 'A-0102').status).toBe('held');
  });

  it('move-in in the middle of the month: base reads from the handover, management fee for 21 of 30 days (handbook 附件8)', () => {
    rig = billingRig((raw) => delete raw.towers[0].floors[1].units[2].tenant);
    rig.repo.addTenancyEvent({ unitId: 'A-0103', kind: 'move_in', at: rig.at('2026-11-10T15:00'), company: '新租户有限公司', occupancy: 'tenant' }, [
      { meterId: 'A-0103-E', serial: 'DDSUA0103', readAt: rig.at('2026-11-10T15:00'), value: '100.00', multiplier: '1', kind: 'move_in', source: 'manual', quality: 'good' },
      { meterId: 'A-0103-W', serial: 'WMA0103', readAt: rig.at('2026-11-10T15:00'), value: '5.000', multiplier: '1', kind: 'move_in', source: 'manual', quality: 'good' },
    ], 'operator');
    rig.reads('A-0103-E', [['2026-10-25T00:00', '100.00'], ['2026-11-25T00:00', '250.00']]);
    rig.reads('A-0103-W', [['2026-10-25T00:00', '5.000'], ['2026-11-25T00:00', '8.000']]);
    const result = run();
    const s = statementOf(result, 'A-0103');
    expect(s.company).toBe('新租户有限公司');
    expect(s.from).toBe(rig.at('2026-11-10T15:00'));
    expect(amount(s, 'electricity')).toEqual(['151.80']); // 150 × 1.0120
    expect(amount(s, 'water')).toEqual(['14.88']); // 3 × 4.96
    expect(amount(s, 'management_fee')).toEqual(['4312.00']); // 220 × 28.00 × 21 / 30
    expect(result.statements.filter((x) => x.unitId === 'A-0103')).toHaveLength(1);
  });

  it('a tenant change splits the period: each tenant pays its own use and days', () => {
    rig = billingRig();
    const handover = (kind: 'move_in' | 'move_out', company: string) =>
      rig.repo.addTenancyEvent({ unitId: 'A-0102', kind, at: rig.at('2026-11-10T15:00'), company, occupancy: 'tenant' }, [
        { meterId: 'A-0102-E', serial: 'DDSUA0102', readAt: rig.at('2026-11-10T15:00'), value: '1300.00', multiplier: '1', kind, source: 'manual', quality: 'good' },
        { meterId: 'A-0102-W', serial: 'WMA0102', readAt: rig.at('2026-11-10T15:00'), value: '15.000', multiplier: '1', kind, source: 'manual', quality: 'good' },
      ], 'operator');
    handover('move_out', '新海花店');
    handover('move_in', '后来咨询公司');
    rig.reads('A-0102-E', [['2026-10-25T00:00', '1000.00'], ['2026-11-25T00:00', '1500.50']]);
    plainWater();
    const result = run();
    const before = statementOf(result, 'A-0102', '新海花店');
    const after = statementOf(result, 'A-0102', '后来咨询公司');
    expect([amount(before, 'electricity'), amount(after, 'electricity')]).toEqual([['303.60'], ['202.91']]); // 300 and 200.50 kWh
    expect([amount(before, 'water'), amount(after, 'water')]).toEqual([['24.80'], ['37.20']]); // 5 and 7.5 m³
    expect([amount(before, 'management_fee'), amount(after, 'management_fee')]).toEqual([['1680.00'], ['3920.00']]); // 9 and 21 of 30 days
  });

  it('Asia/Shanghai: the period closes at local midnight of the 25th (16:00 UTC), not at UTC midnight (home-assistant/core #82784)', () => {
    rig = billingRig();
    rig.reads('A-0102-E', [['2026-10-25T00:00', '1000.00'], ['2026-11-25T00:00', '1500.50'], ['2026-11-25T08:00', '1540.00']]);
    plainWater();
    const e = statementOf(run(), 'A-0102').meters.find((m) => m.meterId === 'A-0102-E')!;
    expect(e.closing).toMatchObject({ at: Date.UTC(2026, 10, 24, 16), value: '1500.50' });
  });

  it('a zone with daylight saving: Europe/London leaves BST on 2026-10-25, and the period still opens at local midnight', () => {
    rig = billingRig((raw) => (raw.site.timezone = 'Europe/London'));
    // Local midnight of 25 Oct is still BST (23:00 UTC on the 24th); of 25 Nov it is GMT.
    rig.reads('A-0102-E', [['2026-10-25T00:00', '1000.00'], ['2026-10-25T01:00', '1000.90'], ['2026-11-25T00:00', '1500.50']]);
    plainWater();
    const s = statementOf(run(), 'A-0102');
    const e = s.meters.find((m) => m.meterId === 'A-0102-E')!;
    expect([e.opening.at, e.closing.at]).toEqual([Date.UTC(2026, 9, 24, 23), Date.UTC(2026, 10, 25, 0)]);
    expect(amount(s, 'electricity')).toEqual(['506.51']);
  });
});
