import { CsvError, parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { DateTime } from 'luxon';
import { Dec } from './money.ts';
import { READ_KINDS, type NewRead, type Payment, type ReadKind, type StoredRead } from './types.ts';

// The import and export formats (issue 7): `bohub billing import readings.csv`
// loads historic or hand reads, payments import the same way, and the same
// formats export. A file is all or nothing: every bad row is reported with its
// line number and reason, and nothing is imported until the file is clean, so a
// half-loaded file can never leave the ledger in a state nobody chose.

export const READING_COLUMNS = ['meter_id', 'read_at', 'value', 'kind', 'serial'] as const;
export const PAYMENT_COLUMNS = ['unit_id', 'paid_at', 'amount', 'reference'] as const;

export interface CsvProblem {
  /** 1-based physical line in the file; the header is line 1. */
  line: number;
  reason: string;
}

export type ParsedReadings = { ok: true; reads: NewRead[] } | { ok: false; problems: CsvProblem[] };

export type NewPaymentRow = Pick<Payment, 'unitId' | 'paidAt' | 'amount' | 'reference'>;
export type ParsedPayments = { ok: true; payments: NewPaymentRow[] } | { ok: false; problems: CsvProblem[] };

/** Reads `meter_id,read_at,value,kind,serial`; the multiplier comes from the meter's configuration. */
export function parseReadingsCsv(text: string, meters: ReadonlyMap<string, { multiplier: string }>, source: 'import' | 'manual' = 'import'): ParsedReadings {
  const table = readTable(text, READING_COLUMNS);
  if ('fatal' in table) return { ok: false, problems: table.fatal };
  const problems = table.problems;
  const reads: NewRead[] = [];
  // An exact repeat is harmless (the store would skip it anyway); two values for
  // the same read are a mistake in the file, and which one is right is for a person to say.
  const seen = new Map<string, { line: number; value: string }>();
  for (const { line, cells } of table.rows) {
    const [meterId, readAtText, value, kind, serial] = cells as [string, string, string, string, string];
    const before = problems.length;
    const meter = meters.get(meterId);
    if (!meter) problems.push({ line, reason: `unknown meter "${meterId}"` });
    const readAt = parseInstant(readAtText);
    if (readAt === undefined) problems.push({ line, reason: `read_at "${readAtText}" is not ISO 8601 with an offset (e.g. 2026-11-25T00:00:00+08:00)` });
    if (!DECIMAL.test(value)) problems.push({ line, reason: `value "${value}" is not a non-negative decimal` });
    if (!(READ_KINDS as readonly string[]).includes(kind)) problems.push({ line, reason: `kind "${kind}" is not one of ${READ_KINDS.join(', ')}` });
    if (serial === '') problems.push({ line, reason: 'serial is empty' });
    if (problems.length > before || !meter || readAt === undefined) continue;

    const key = `${meterId}\u0000${readAt}\u0000${kind}\u0000${serial}`;
    const first = seen.get(key);
    if (first) {
      if (!new Dec(first.value).eq(value)) problems.push({ line, reason: `line ${line} repeats meter/read_at of line ${first.line} with a different value ("${first.value}" there, "${value}" here)` });
      continue;
    }
    seen.set(key, { line, value });
    reads.push({ meterId, serial, readAt, value, multiplier: meter.multiplier, kind: kind as ReadKind, source, quality: 'good' });
  }
  return problems.length > 0 ? { ok: false, problems: byLine(problems) } : { ok: true, reads };
}

/** Reads `unit_id,paid_at,amount,reference`; amounts come back with two decimals. */
export function parsePaymentsCsv(text: string, units: ReadonlySet<string>): ParsedPayments {
  const table = readTable(text, PAYMENT_COLUMNS);
  if ('fatal' in table) return { ok: false, problems: table.fatal };
  const problems = table.problems;
  const payments: NewPaymentRow[] = [];
  const references = new Map<string, number>();
  for (const { line, cells } of table.rows) {
    const [unitId, paidAtText, amount, reference] = cells as [string, string, string, string];
    const before = problems.length;
    if (!units.has(unitId)) problems.push({ line, reason: `unknown unit "${unitId}"` });
    const paidAt = parseInstant(paidAtText);
    if (paidAt === undefined) problems.push({ line, reason: `paid_at "${paidAtText}" is not ISO 8601 with an offset (e.g. 2026-12-03T10:15:00+08:00)` });
    if (!AMOUNT.test(amount) || new Dec(amount).isZero()) problems.push({ line, reason: `amount "${amount}" is not a positive amount with at most two decimals` });
    const firstLine = references.get(reference);
    if (reference === '') problems.push({ line, reason: 'reference is empty' });
    else if (firstLine !== undefined) problems.push({ line, reason: `reference "${reference}" repeats line ${firstLine}` });
    else references.set(reference, line);
    if (problems.length > before || paidAt === undefined) continue;
    payments.push({ unitId, paidAt, amount: new Dec(amount).toFixed(2), reference });
  }
  return problems.length > 0 ? { ok: false, problems: byLine(problems) } : { ok: true, payments };
}

/**
 * Writes reads in the import format, in the order given, with times in the
 * building's offset. The billed value is written: an edit's value where there is
 * one, and reads an edit excluded are left out.
 */
export function readingsToCsv(reads: StoredRead[], timeZone: string, header = true): string {
  const rows: string[][] = [];
  for (const r of reads) {
    if (r.edit && r.edit.value === null) continue;
    rows.push([r.meterId, isoAt(r.readAt, timeZone), r.edit?.value ?? r.value, r.kind, r.serial]);
  }
  return stringify(rows, { header, columns: [...READING_COLUMNS], record_delimiter: 'unix' });
}

/** Writes payments in the import format, in the order given. */
export function paymentsToCsv(payments: NewPaymentRow[], timeZone: string): string {
  const rows = payments.map((p) => [p.unitId, isoAt(p.paidAt, timeZone), p.amount, p.reference]);
  return stringify(rows, { header: true, columns: [...PAYMENT_COLUMNS], record_delimiter: 'unix' });
}

// Helpers.

const DECIMAL = /^\d+(\.\d+)?$/;
const AMOUNT = /^\d+(\.\d{1,2})?$/;
// A time without an offset would be read in whatever zone the hub runs in; bills
// are judged in the building's zone, so the file must say which instant it means.
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

interface Row {
  line: number;
  cells: string[];
}

/** Splits a file into rows under an exact header; problems with the file as a whole come back alone. */
function readTable(text: string, columns: readonly string[]): { rows: Row[]; problems: CsvProblem[] } | { fatal: CsvProblem[] } {
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(text, { bom: true, info: true, relax_column_count: true, skip_empty_lines: true, trim: true }) as unknown as typeof records;
  } catch (err) {
    if (err instanceof CsvError) return { fatal: [{ line: typeof err.lines === 'number' ? err.lines : 1, reason: `not valid CSV: ${err.message}` }] };
    throw err;
  }
  const [header, ...body] = records;
  const expected = columns.join(',');
  if (header && header.record.join(',') !== expected) {
    return { fatal: [{ line: startLine(header), reason: `the header must be exactly "${expected}", in this order; found "${header.record.join(',')}"` }] };
  }
  if (body.length === 0) return { fatal: [{ line: 1, reason: 'no rows' }] };
  const rows: Row[] = [];
  const problems: CsvProblem[] = [];
  for (const r of body) {
    const line = startLine(r);
    if (r.record.length !== columns.length) problems.push({ line, reason: `expected ${columns.length} columns (${expected}), found ${r.record.length}` });
    else rows.push({ line, cells: r.record });
  }
  return { rows, problems };
}

/** The line a record starts on: csv-parse counts to its end, and a quoted cell may span lines. */
function startLine(r: { record: string[]; info: { lines: number } }): number {
  let breaks = 0;
  for (const cell of r.record) for (let i = cell.indexOf('\n'); i !== -1; i = cell.indexOf('\n', i + 1)) breaks++;
  return r.info.lines - breaks;
}

/** ms since epoch, or undefined when the text is not an ISO 8601 instant with an offset. */
function parseInstant(text: string): number | undefined {
  if (!ISO_WITH_OFFSET.test(text)) return undefined;
  const t = DateTime.fromISO(text, { setZone: true });
  return t.isValid ? t.toMillis() : undefined;
}

function isoAt(ms: number, timeZone: string): string {
  const iso = DateTime.fromMillis(ms, { zone: timeZone }).toISO({ suppressMilliseconds: true });
  if (iso === null) throw new RangeError(`cannot write ${ms} in time zone "${timeZone}"`);
  return iso;
}

/** In file order; a line's own problems keep the order they were found in. */
function byLine(problems: CsvProblem[]): CsvProblem[] {
  return problems.sort((a, b) => a.line - b.line);
}
