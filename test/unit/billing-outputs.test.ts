import { createHash } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { billingPeriod } from '../../gateway/billing/calendar.ts';
import { dunningLetterHtml, dunningListHtml, dunningLists, type DunningListId, type UnitArrears } from '../../gateway/billing/outputs/dunning.ts';
import { lateFeeText, noticesHtml } from '../../gateway/billing/outputs/notices.ts';
import { EXCEPTION_COLUMNS, STATEMENT_COLUMNS, exceptionsCsv, statementsCsv, type OutputContext } from '../../gateway/billing/outputs/statements-csv.ts';
import { runSummary, summaryHtml, summaryJson } from '../../gateway/billing/outputs/summary.ts';
import type { RunResult, Statement, VeeException } from '../../gateway/billing/types.ts';
import { BILLING_DEFAULTS, tariffs } from '../../gateway/config/schema-billing.ts';

const TZ = 'Asia/Shanghai';
const PERIOD = billingPeriod('2026-11', BILLING_DEFAULTS, TZ);
const OPENS = PERIOD.opensAt;
const CLOSES = PERIOD.closesAt;
const NASTY = '华联<科技>&"有限"公司';

const ctx: OutputContext = {
  site: { id: 'union-plaza', name: { zh: '联合广场', en: 'Union Plaza' }, timezone: TZ },
  tariffs: tariffs.parse({ electricityPerKWh: '1.0120', waterPerM3: '4.96', managementFeePerM2Month: '28.00', lateFeePerDay: '0.0005' }),
  billing: { ...BILLING_DEFAULTS, enquiryPhone: '021-63581234' },
  period: PERIOD,
  version: 1,
};

function statement(over: Partial<Statement> & Pick<Statement, 'unitId'>): Statement {
  return {
    period: '2026-11', tower: 'A', floor: 12, areaM2: 150, company: 'Acme', occupancy: 'tenant', from: OPENS, to: CLOSES, readsFrom: OPENS, readsTo: CLOSES, feeDays: 30,
    meters: [
      { meterId: `E-${over.unitId}`, kind: 'electricity', unit: 'kWh', serials: ['SN-E1'], use: '1000.00',
        opening: { at: OPENS, value: '11840.20', serial: 'SN-E1', basis: 'carried' },
        closing: { at: CLOSES, value: '12840.20', serial: 'SN-E1', basis: 'read' } },
    ],
    lines: [{ code: 'electricity', quantity: '1000.00', unitPrice: '1.0120', amount: '1012.00', basis: { en: 'flat', zh: 'flat' } }],
    currentCharges: '1012.00', previousArrears: '0.00', total: '1012.00', dueDate: PERIOD.dueDate, status: 'billed', holds: [],
    ...over,
  };
}

// A-12-01: tenant with an estimated water read, a late fee and arrears; A-12-02: held; B-03-01: owner-occupier.
const A1 = statement({
  unitId: 'A-12-01', company: NASTY,
  meters: [
    ...statement({ unitId: 'A-12-01' }).meters,
    { meterId: 'W-A-12-01', kind: 'water', unit: 'm³', serials: ['SN-W1'], use: '12.500',
      opening: { at: OPENS, value: '300.000', serial: 'SN-W1', basis: 'read' },
      closing: { at: CLOSES, value: '312.500', serial: 'SN-W1', basis: 'estimated', rule: { en: 'average daily use of 3 periods', zh: '按三期日均用量' } } },
  ],
  lines: [
    { code: 'electricity', quantity: '1000.00', unitPrice: '1.0120', amount: '1012.00', basis: { en: 'flat', zh: 'flat' } },
    { code: 'water', quantity: '12.500', unitPrice: '4.96', amount: '62.00', basis: { en: 'flat', zh: 'flat' } },
    { code: 'management_fee', quantity: '150', unitPrice: '28.00', amount: '4200.00', basis: { en: '30/30 days', zh: '30/30 days' } },
    { code: 'late_fee', quantity: '1234.50', unitPrice: '0.0065', amount: '8.02', basis: { en: 'on 1234.50 overdue for 13 days', zh: 'on 1234.50 overdue for 13 days' } },
  ],
  currentCharges: '5282.02', previousArrears: '1234.50', total: '6516.52',
});
const A2 = statement({ unitId: 'A-12-02', status: 'held', holds: ['E-A-12-02: unexplained_drop'], total: '999.99' });
const B1 = statement({ unitId: 'B-03-01', tower: 'B', floor: 3, company: 'Owner & Sons', occupancy: 'owner', total: '1012.00' });
const EXCEPTIONS: VeeException[] = [
  { id: '2026-11/W-A-12-01/estimated/1', meterId: 'W-A-12-01', unitId: 'A-12-01', code: 'estimated', blocking: false, at: CLOSES, detail: 'no read at close' },
  { id: '2026-11/E-A-12-02/unexplained_drop/1', meterId: 'E-A-12-02', unitId: 'A-12-02', code: 'unexplained_drop', blocking: true, at: CLOSES - 3_600_000, detail: '11 840.20 → 310.55 kWh' },
];

function run(statements: Statement[] = [B1, A2, A1], exceptions = EXCEPTIONS): RunResult {
  return { period: '2026-11', statements: structuredClone(statements), exceptions: structuredClone(exceptions) };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const notices = (html: string) => html.split('<section class="sheet notice">').length - 1;
const rows = (csv: string) => parse(csv, { bom: true, columns: true }) as Array<Record<string, string>>;

describe('statementsCsv', () => {
  it('writes the snake_case header', () => {
    const header = statementsCsv(run(), ctx).replace(/^\uFEFF/, '').split('\n')[0];
    expect(header).toBe(STATEMENT_COLUMNS.join(','));
    expect(STATEMENT_COLUMNS).toContain('electricity_opening_basis');
  });

  it("copies a row's amounts, reads and local times exactly", () => {
    const row = rows(statementsCsv(run(), ctx)).find((r) => r.unit_id === 'A-12-01')!;
    expect(row).toMatchObject({
      period: '2026-11', version: '1', company: NASTY, from: '2026-10-25T00:00:00+08:00', to: '2026-11-25T00:00:00+08:00',
      electricity_opening: '11840.20', electricity_opening_basis: 'carried', electricity_use: '1000.00',
      water_closing: '312.500', water_closing_basis: 'estimated: average daily use of 3 periods',
      electricity_amount: '1012.00', water_amount: '62.00', management_fee_amount: '4200.00', late_fee_amount: '8.02',
      current_charges: '5282.02', previous_arrears: '1234.50', total: '6516.52', due_date: '2026-12-05',
    });
  });

  it('orders rows by unit then slice start and keeps held ones with their holds', () => {
    const all = rows(statementsCsv(run(), ctx));
    expect(all.map((r) => r.unit_id)).toEqual(['A-12-01', 'A-12-02', 'B-03-01']);
    expect(all[1]).toMatchObject({ status: 'held', holds: 'E-A-12-02: unexplained_drop', late_fee_amount: '0.00' });
  });

  it('lists every VEE exception', () => {
    const csv = exceptionsCsv(run(), ctx);
    expect(csv.replace(/^\uFEFF/, '').split('\n')[0]).toBe(EXCEPTION_COLUMNS.join(','));
    expect(rows(csv).map((r) => [r.unit_id, r.code, r.blocking])).toEqual([['A-12-01', 'estimated', 'false'], ['A-12-02', 'unexplained_drop', 'true']]);
  });
});

describe('noticesHtml (handbook 第三节 三.4)', () => {
  it('prints exactly one notice per billed statement and none for a held one', () => {
    const html = noticesHtml(run(), ctx, 'zh');
    expect(notices(html)).toBe(2);
    expect(html).toContain('B-03-01');
    expect(html).not.toContain('A-12-02');
  });

  it('shows the payment deadline, late-fee rule and enquiry phone in Chinese', () => {
    const html = noticesHtml(run(), ctx, 'zh');
    expect(html).toContain('收费通知单');
    expect(html).toContain('请于2026年12月5日前交清');
    expect(html).toContain('逾期按欠费金额每日万分之五(0.05%)计收滞纳金');
    expect(html).toContain('查询电话：021-63581234');
  });

  it('shows the payment deadline, late-fee rule and enquiry phone in English', () => {
    const html = noticesHtml(run(), ctx, 'en');
    expect(html).toContain('Fee notice');
    expect(html).toContain('by 5 December 2026');
    expect(html).toContain('A late fee of 0.05% of the overdue amount is charged for each day after the due date.');
    expect(html).toContain('Enquiries: 021-63581234');
  });

  it('writes other daily rates in words or as a percentage', () => {
    expect(lateFeeText('0.001', 'zh')).toContain('每日千分之一(0.1%)');
    expect(lateFeeText('0.00035', 'zh')).toContain('每日0.035%计收');
  });

  it('marks an estimated read and explains it in a footnote', () => {
    const html = noticesHtml(run(), ctx, 'zh');
    expect(html).toContain('312.500<sup>1</sup>');
    expect(html).toContain('<li>估算读数（按三期日均用量）</li>');
  });

  it('shows each charge as quantity × unit price = amount, then arrears and total', () => {
    const html = noticesHtml(run(), ctx, 'en');
    expect(html).toContain('<td class="num">12.500 m³</td><td class="num">× 4.96</td><td class="num">= 62.00</td>');
    expect(html).toMatch(/Previous balance[^<]*<\/th><td class="num">1234\.50/);
    expect(html).toMatch(/Total due<\/th><td class="num">6516\.52/);
  });

  it('escapes company names from the config', () => {
    const html = noticesHtml(run(), ctx, 'zh');
    expect(html).toContain('华联&lt;科技&gt;&amp;&quot;有限&quot;公司');
    expect(html).not.toContain('<科技>');
  });

  it('uses no external resources', () => {
    const html = noticesHtml(run(), ctx, 'en');
    expect(html).not.toMatch(/<script|<link|https?:|@import|url\(/);
    expect(html).toContain('size: A4');
    expect(html).toContain('break-after: page');
  });

  it('titles a correction and shows the previous total and the difference per unit', () => {
    const before = [{ ...A1, total: '6500.00' }, B1];
    const html = noticesHtml(run(), { ...ctx, version: 2, corrects: { version: 1, statements: before } }, 'zh');
    expect(html).toContain('<h1>更正通知单</h1>');
    expect(html).toContain('原应缴总额：6500.00');
    expect(html).toContain('差额：+16.52');
    expect(html).toContain('差额：0.00');
  });
});

describe('determinism', () => {
  it('renders byte-identical documents for the same run in any input order', () => {
    const render = (r: RunResult) => [statementsCsv(r, ctx), exceptionsCsv(r, ctx), noticesHtml(r, ctx, 'zh'), noticesHtml(r, ctx, 'en'),
      summaryJson(runSummary(r, 1), r), summaryHtml(runSummary(r, 1), r, ctx)].map(sha256);
    expect(render(run([A2, A1, B1], [...EXCEPTIONS].reverse()))).toEqual(render(run()));
  });

  it('renders dunning documents byte-identically in any input order', () => {
    const render = (arrears: UnitArrears[]) => dunningLists(PERIOD, arrears).flatMap((l) => (l.id === 'dunning_letters' || l.id === 'owner_letters' ? [dunningLetterHtml(l, ctx, 'zh')] : [dunningListHtml(l, ctx, 'en')])).map(sha256);
    expect(render([...ARREARS].reverse())).toEqual(render(ARREARS));
  });
});

describe('runSummary and summaryJson', () => {
  it('totals billed statements only and counts blocking exceptions as open', () => {
    const s = runSummary(run(), 3);
    expect(s).toMatchObject({ period: '2026-11', version: 3, units: 3, statements: 3, held: 1, exceptionsOpen: 1 });
    expect(s.totals).toEqual({ electricity: '2024.00', water: '62.00', management_fee: '4200.00', late_fee: '8.02', currentCharges: '6294.02', total: '7528.52' });
    expect(s.exceptionsByCode).toEqual({ unexplained_drop: 1, estimated: 1 });
  });

  it('writes stable two-space JSON with a trailing newline and the open blocking exceptions', () => {
    const r = run();
    const json = summaryJson(runSummary(r, 1), r);
    expect(json.endsWith('}\n')).toBe(true);
    expect(json).toContain('\n  "period": "2026-11",\n  "version": 1,');
    expect(JSON.parse(json).openExceptions).toEqual([
      { id: '2026-11/E-A-12-02/unexplained_drop/1', unitId: 'A-12-02', meterId: 'E-A-12-02', code: 'unexplained_drop', detail: '11 840.20 → 310.55 kWh' },
    ]);
  });
});

// Arrears as of the list dates (handbook 第三节 四, 费用催缴规程).
const arrears = (unitId: string, occupancy: 'owner' | 'tenant', periods: string[], vacant = false): UnitArrears => ({
  unitId, company: unitId === 'A-12-01' ? NASTY : `Co ${unitId}`, occupancy, vacant,
  unpaid: periods.map((period) => ({ period, total: '100.00', unpaid: '100.00', dueDate: `${period}-05` })),
  contacts: [{ name: '王经理', phone: '021-1234', mobile: '139-0000' }],
  balance: `${periods.length * 100}.00`,
});
const ARREARS: UnitArrears[] = [
  arrears('B-03-01', 'owner', ['2026-10', '2026-11']),
  arrears('A-12-01', 'tenant', ['2026-10', '2026-11']),
  arrears('A-05-01', 'tenant', ['2026-09', '2026-10', '2026-11'], true),
  arrears('A-06-01', 'tenant', ['2026-09', '2026-10', '2026-11'], false),
  arrears('A-07-01', 'tenant', []),
];
const listOf = (id: DunningListId) => dunningLists(PERIOD, ARREARS).find((l) => l.id === id)!;
const unitsOf = (id: DunningListId) => listOf(id).units.map((u) => u.unitId);

describe('dunningLists (handbook 第三节 四.3)', () => {
  it('phones every unit with a balance on the 18th, sorted by unit (四.3(2))', () => {
    expect(listOf('phone_reminders').date).toBe('2026-12-18');
    expect(unitsOf('phone_reminders')).toEqual(['A-05-01', 'A-06-01', 'A-12-01', 'B-03-01']);
  });

  it('sends dunning letters on the 23rd (四.3(3))', () => {
    expect(listOf('dunning_letters').date).toBe('2026-12-23');
    expect(unitsOf('dunning_letters')).toEqual(unitsOf('phone_reminders'));
  });

  it("writes to the owner about a tenant with 2 unpaid months (四.3(7), 附件1)", () => {
    expect(unitsOf('owner_letters')).toContain('A-12-01');
  });

  it('writes no owner letter for an owner-occupier with 2 unpaid months (四.3(7))', () => {
    expect(unitsOf('owner_letters')).not.toContain('B-03-01');
  });

  it('lists for legal action only vacant units 3 months or more in arrears (四.3(5))', () => {
    expect(unitsOf('legal')).toEqual(['A-05-01']);
  });

  it("puts the suspension list on the month's last day for the director's approval (四.3(4))", () => {
    expect(listOf('suspension')).toMatchObject({ date: '2026-12-31', needsApproval: true });
    expect(dunningListHtml(listOf('suspension'), ctx, 'zh')).toContain('管理处主任审批：');
  });

  it('sends the arrears list to the security duty room on the 5th (第六节 (三)3)', () => {
    expect(listOf('security_arrears')).toMatchObject({ date: '2026-12-05', title: { zh: '当月欠费情况表' } });
  });
});

describe('dunning letters', () => {
  it('follows 附件2 with a deadline and a receipt the tenant signs (四.3(3))', () => {
    const html = dunningLetterHtml(listOf('dunning_letters'), ctx, 'zh');
    expect(html.split('<section class="sheet letter">').length - 1).toBe(4);
    expect(html).toContain('关于催缴物业管理费用的函');
    expect(html).toContain('尚未缴付2026年10月、2026年11月份的物业管理费用共计200.00元');
    expect(html).toContain('请贵司在2026年12月30日前前来我处缴清上述费用');
    expect(html).toContain('签收人：');
    expect(html).toContain('华联&lt;科技&gt;&amp;&quot;有限&quot;公司');
  });

  it('follows 附件1 for the letter to the owner, with the enquiry phone (四.3(7))', () => {
    const html = dunningLetterHtml(listOf('owner_letters'), ctx, 'en');
    expect(html).toContain('Property management charges unpaid by your tenant');
    expect(html).toContain('jointly liable for the tenant');
    expect(html).toContain('Phone: 021-63581234');
  });

  it('refuses to print letters for a list that has none', () => {
    expect(() => dunningLetterHtml(listOf('legal'), ctx, 'zh')).toThrow(/dunningListHtml/);
  });
});
