import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { checkImport, MAX_LISTED, paymentsToCsv, readingsToCsv } from '../../gateway/billing/csv.ts';
import { ImportStaging } from '../../gateway/billing/import-staging.ts';
import { READ_KINDS, type StoredRead } from '../../gateway/billing/types.ts';

const ZONE = 'Asia/Shanghai';
const T0 = Date.UTC(2026, 10, 24, 16); // 2026-11-25T00:00:00+08:00
const METERS = new Map([
  ['A-0101-E', { multiplier: '1' }],
  ['A-0101-W', { multiplier: '1' }],
  ['B-0201-E', { multiplier: '40' }],
]);
const UNITS = new Set(['A-0101', 'A-0102']);
const HEADER = 'meter_id,read_at,value,kind,serial';

const csv = (...lines: string[]) => `${lines.join('\n')}\n`;
const RULES = { meters: METERS, units: UNITS };

/**
 * Checks a file the way a worker does (streamed, in small pieces so that rows and
 * quoted cells cross chunk boundaries), and gives back what was staged.
 */
async function check(kind: 'readings' | 'payments', text: string) {
  const staging = ImportStaging.create(':memory:');
  const pieces = text.match(/[\s\S]{1,7}/g) ?? [];
  const report = await checkImport(kind, Readable.from(pieces.map((p) => Buffer.from(p))), RULES, staging);
  const reads = staging.readsAfter(null, 1e6).rows;
  const payments = staging.paymentsAfter(null, 1e6).rows;
  staging.close();
  return report.ok ? { ok: true as const, rows: report.rows, reads, payments } : report;
}
const parseReadingsCsv = (text: string) => check('readings', text);
const parsePaymentsCsv = (text: string) => check('payments', text);

function stored(meterId: string, readAt: number, value: string, extra: Partial<StoredRead> = {}): StoredRead {
  return { id: 1, meterId, serial: 'S1', readAt, value, multiplier: '1', kind: 'actual', source: 'interval', quality: 'good', recordedAt: 0, recordedBy: 'system', ...extra };
}

describe('parseReadingsCsv', () => {
  it('reads a clean file into good reads with the configured multiplier', async () => {
    const parsed = await parseReadingsCsv(csv(HEADER, 'B-0201-E,2026-11-25T00:00:00+08:00,11840.20,actual,E-7781', 'A-0101-W,2026-11-24T16:00:00Z,310.5,replacement_final,W-1'));
    // Staged by meter, then time: the order they are written in (imports.ts).
    expect(parsed).toEqual({
      ok: true,
      rows: 2,
      reads: [
        { meterId: 'A-0101-W', serial: 'W-1', readAt: T0, value: '310.5', multiplier: '1', kind: 'replacement_final', source: 'import', quality: 'good' },
        { meterId: 'B-0201-E', serial: 'E-7781', readAt: T0, value: '11840.20', multiplier: '40', kind: 'actual', source: 'import', quality: 'good' },
      ],
      payments: [],
    });
  });

  it('tolerates a byte order mark, CRLF line ends and blank lines', async () => {
    const parsed = await parseReadingsCsv(`\uFEFF${HEADER}\r\n\r\nA-0101-E,2026-11-25T00:00:00+08:00,1,actual,S1\r\n`);
    expect(parsed.ok && parsed.reads).toHaveLength(1);
  });

  it('rejects a file with several bad rows, naming every line and reason, and returns no reads', async () => {
    const parsed = await parseReadingsCsv(
      csv(
        HEADER,
        'A-0101-E,2026-11-25T00:00:00+08:00,1,actual,S1',
        'Z-9999-E,2026-11-25T00:00:00+08:00,1,actual,S1',
        'A-0101-E,2026-11-25 00:00,2,actual,S1',
        'A-0101-E,2026-11-25T00:15:00+08:00,-3,foo,',
        'A-0101-E,2026-11-25T00:30:00+08:00,4,actual',
      ),
    );
    expect(parsed).toEqual({
      ok: false,
      problems: [
        { line: 3, reason: 'unknown meter "Z-9999-E"' },
        { line: 4, reason: 'read_at "2026-11-25 00:00" is not ISO 8601 with an offset (e.g. 2026-11-25T00:00:00+08:00)' },
        { line: 5, reason: 'value "-3" is not a non-negative decimal' },
        { line: 5, reason: 'kind "foo" is not one of actual, replacement_final, replacement_initial, move_in, move_out' },
        { line: 5, reason: 'serial is empty' },
        { line: 6, reason: 'expected 5 columns (meter_id,read_at,value,kind,serial), found 4' },
      ],
      problemCount: 6,
    });
  });

  it('lists the first thousand problems of a file full of them, and counts them all', async () => {
    const rows = Array.from({ length: 2500 }, (_, i) => `Z-${i},2026-11-25T00:00:00+08:00,1,actual,S1`);
    const parsed = await parseReadingsCsv(csv(HEADER, ...rows));
    expect(!parsed.ok && parsed.problemCount).toBe(2500);
    expect(!parsed.ok && parsed.problems).toHaveLength(MAX_LISTED);
    expect(!parsed.ok && parsed.problems.at(-1)).toEqual({ line: MAX_LISTED + 1, reason: `unknown meter "Z-${MAX_LISTED - 1}"` });
  });

  it('rejects a time without an offset, even in full ISO form', async () => {
    const parsed = await parseReadingsCsv(csv(HEADER, 'A-0101-E,2026-11-25T00:00:00,1,actual,S1'));
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.problems[0]?.reason).toMatch(/not ISO 8601 with an offset/);
  });

  it('rejects an impossible date', async () => {
    const parsed = await parseReadingsCsv(csv(HEADER, 'A-0101-E,2026-02-30T00:00:00+08:00,1,actual,S1'));
    expect(!parsed.ok && parsed.problems).toEqual([{ line: 2, reason: 'read_at "2026-02-30T00:00:00+08:00" is not ISO 8601 with an offset (e.g. 2026-11-25T00:00:00+08:00)' }]);
  });

  it('reports a row that repeats a read with a different value, naming both lines', async () => {
    const parsed = await parseReadingsCsv(csv(HEADER, 'A-0101-E,2026-11-25T00:00:00+08:00,1.5,actual,S1', 'A-0101-E,2026-11-24T16:00:00Z,1.7,actual,S1'));
    expect(!parsed.ok && parsed.problems).toEqual([{ line: 3, reason: 'line 3 repeats meter/read_at of line 2 with a different value ("1.5" there, "1.7" here)' }]);
  });

  it('keeps one read where a row is repeated with the same value', async () => {
    const parsed = await parseReadingsCsv(csv(HEADER, 'A-0101-E,2026-11-25T00:00:00+08:00,1.5,actual,S1', 'A-0101-E,2026-11-25T00:00:00+08:00,1.50,actual,S1'));
    expect(parsed.ok && parsed.reads.map((r) => r.value)).toEqual(['1.5']);
  });

  it('requires the exact header, in order', async () => {
    const parsed = await parseReadingsCsv(csv('meter_id,value,read_at,kind,serial', 'A-0101-E,1,2026-11-25T00:00:00+08:00,actual,S1'));
    expect(!parsed.ok && parsed.problems).toEqual([
      { line: 1, reason: 'the header must be exactly "meter_id,read_at,value,kind,serial", in this order; found "meter_id,value,read_at,kind,serial"' },
    ]);
  });

  it('reports an empty file or a header alone as having no rows', async () => {
    expect(await parseReadingsCsv('')).toEqual({ ok: false, problems: [{ line: 1, reason: 'no rows' }], problemCount: 1 });
    expect(await parseReadingsCsv(csv(HEADER))).toEqual({ ok: false, problems: [{ line: 1, reason: 'no rows' }], problemCount: 1 });
  });

  it('counts lines physically when a quoted cell spans lines', async () => {
    const parsed = await parseReadingsCsv(csv(HEADER, 'A-0101-E,2026-11-25T00:00:00+08:00,1,actual,"S\n1"', 'A-0101-E,bad,1,actual,S1'));
    expect(!parsed.ok && parsed.problems.map((p) => p.line)).toEqual([4]);
  });

  it('reports broken CSV quoting with its line', async () => {
    const parsed = await parseReadingsCsv(csv(HEADER, 'A-0101-E,2026-11-25T00:00:00+08:00,1,actual,"S1'));
    expect(!parsed.ok && parsed.problems[0]).toMatchObject({ reason: expect.stringMatching(/^not valid CSV/) });
  });
});

describe('parsePaymentsCsv', () => {
  it('reads payments with amounts to two decimals', async () => {
    const parsed = await parsePaymentsCsv(csv('unit_id,paid_at,amount,reference', 'A-0101,2026-12-03T10:15:00+08:00,1234.5,BANK-001'));
    expect(parsed).toEqual({ ok: true, rows: 1, reads: [], payments: [{ unitId: 'A-0101', paidAt: Date.UTC(2026, 11, 3, 2, 15), amount: '1234.50', reference: 'BANK-001' }] });
  });

  it('reports a reference repeated within the file', async () => {
    const parsed = await parsePaymentsCsv(csv('unit_id,paid_at,amount,reference', 'A-0101,2026-12-03T10:15:00+08:00,10,R1', 'A-0102,2026-12-04T10:15:00+08:00,20,R1'));
    expect(!parsed.ok && parsed.problems).toEqual([{ line: 3, reason: 'reference "R1" repeats line 2' }]);
  });

  it('reports bad units, times, amounts and references on every line', async () => {
    const parsed = await parsePaymentsCsv(
      csv('unit_id,paid_at,amount,reference', 'Z-9,2026-12-03T10:15:00+08:00,10,R1', 'A-0101,2026-12-03,10,R2', 'A-0101,2026-12-03T10:15:00+08:00,10.005,R3', 'A-0101,2026-12-03T10:15:00+08:00,0.00,R4', 'A-0101,2026-12-03T10:15:00+08:00,-5,'),
    );
    expect(!parsed.ok && parsed.problems).toEqual([
      { line: 2, reason: 'unknown unit "Z-9"' },
      { line: 3, reason: 'paid_at "2026-12-03" is not ISO 8601 with an offset (e.g. 2026-12-03T10:15:00+08:00)' },
      { line: 4, reason: 'amount "10.005" is not a positive amount with at most two decimals' },
      { line: 5, reason: 'amount "0.00" is not a positive amount with at most two decimals' },
      { line: 6, reason: 'amount "-5" is not a positive amount with at most two decimals' },
      { line: 6, reason: 'reference is empty' },
    ]);
  });
});

describe('export', () => {
  it('writes reads with the building offset, the edited value, and without excluded reads', async () => {
    const edit = { reason: 'r', actor: 'alice', at: 0 };
    const text = readingsToCsv(
      [stored('A-0101-E', T0, '100.50'), stored('A-0101-E', T0 + 900_000, '101', { edit: { ...edit, value: '100.75' } }), stored('A-0101-E', T0 + 1_800_000, '999', { edit: { ...edit, value: null } })],
      ZONE,
    );
    expect(text).toBe(csv(HEADER, 'A-0101-E,2026-11-25T00:00:00+08:00,100.50,actual,S1', 'A-0101-E,2026-11-25T00:15:00+08:00,100.75,actual,S1'));
  });

  it('writes the header alone when there is nothing to export', async () => {
    expect(readingsToCsv([], ZONE)).toBe(`${HEADER}\n`);
  });

  it('writes payments with the building offset', async () => {
    const text = paymentsToCsv([{ unitId: 'A-0101', paidAt: Date.UTC(2026, 11, 3, 2, 15), amount: '1234.50', reference: 'BANK, 001' }], ZONE);
    expect(text).toBe(csv('unit_id,paid_at,amount,reference', 'A-0101,2026-12-03T10:15:00+08:00,1234.50,"BANK, 001"'));
  });

  it('gives back the same reads when an export is imported again', async () => {
    const text = fc.stringMatching(/^[A-Za-z0-9](?:[A-Za-z0-9 ,"\-]{0,8}[A-Za-z0-9])?$/);
    const readArb = fc.record({
      meterId: fc.constantFrom(...METERS.keys()),
      serial: text,
      readAt: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }),
      value: fc.oneof(fc.nat().map(String), fc.tuple(fc.nat(), fc.nat({ max: 9999 })).map(([a, b]) => `${a}.${String(b).padStart(4, '0')}`)),
      kind: fc.constantFrom(...READ_KINDS),
    });
    const key = (r: { meterId: string; readAt: number; kind: string; serial: string }) => `${r.meterId}|${r.readAt}|${r.kind}|${r.serial}`;
    const byKey = (a: { meterId: string; readAt: number; kind: string; serial: string }, b: typeof a) =>
      a.meterId.localeCompare(b.meterId, 'en') || a.readAt - b.readAt || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0) || (a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0);
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(readArb, { minLength: 1, maxLength: 30, selector: key }), fc.constantFrom(ZONE, 'UTC', 'America/New_York', 'Asia/Kolkata'), async (reads, zone) => {
        const original = reads.map((r) => stored(r.meterId, r.readAt, r.value, { serial: r.serial, kind: r.kind, multiplier: METERS.get(r.meterId)!.multiplier, source: 'import' }));
        const parsed = await parseReadingsCsv(readingsToCsv(original, zone));
        const expected = original.map(({ id: _id, recordedAt: _at, recordedBy: _by, ...read }) => read).sort(byKey);
        expect(parsed).toEqual({ ok: true, rows: reads.length, reads: expected, payments: [] });
      }),
      { numRuns: 50 },
    );
  });

  it('gives back the same payments when an export is imported again', async () => {
    const payments = [
      { unitId: 'A-0101', paidAt: Date.UTC(2026, 11, 3, 2, 15, 7, 250), amount: '0.01', reference: 'a"b' },
      { unitId: 'A-0102', paidAt: Date.UTC(2026, 11, 4), amount: '1234567.89', reference: 'R 2' },
    ];
    expect(await parsePaymentsCsv(paymentsToCsv(payments, ZONE))).toEqual({ ok: true, rows: 2, reads: [], payments: [payments[1], payments[0]] });
  });
});
