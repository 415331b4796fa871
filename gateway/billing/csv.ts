import type { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { stringify } from 'csv-stringify/sync';
import { DateTime } from 'luxon';
import { Dec } from './money.ts';
import type { ImportStaging } from './import-staging.ts';
import { READ_KINDS, type Payment, type ReadKind, type StoredRead } from './types.ts';

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

export type NewPaymentRow = Pick<Payment, 'unitId' | 'paidAt' | 'amount' | 'reference'>;

/** What an import may name: the building's meters (with the multiplier in force) and units. */
export interface ImportRules {
  meters: ReadonlyMap<string, { multiplier: string }>;
  units: ReadonlySet<string>;
}

export type ImportKind = 'readings' | 'payments';

/** A checked file: clean, with its row count, or its problems (the first MAX_LISTED of them, and how many in all). */
export type CheckReport = { ok: true; rows: number } | { ok: false; problems: CsvProblem[]; problemCount: number };

/** A file with 800,000 bad rows answers with the first thousand and the count, not a 100 MB list. */
export const MAX_LISTED = 1000;
/** Staged rows are committed this often: few transactions, and a worker's memory stays flat. */
const COMMIT_EVERY = 20_000;

/**
 * Checks an import file as it streams past (issue 15: a 50 MB file, flat memory):
 * `readings` is `meter_id,read_at,value,kind,serial`, `payments` is
 * `unit_id,paid_at,amount,reference`. Clean rows go into staging, whose keys also
 * find a row the file repeats; progress is told every COMMIT_EVERY rows.
 */
export async function checkImport(kind: ImportKind, input: Readable, rules: ImportRules, staging: ImportStaging, onRows?: (rows: number) => void): Promise<CheckReport> {
  const columns = kind === 'readings' ? READING_COLUMNS : PAYMENT_COLUMNS;
  const expected = columns.join(',');
  const problems = new ProblemList();
  const parser = input.pipe(parse({ bom: true, info: true, relax_column_count: true, skip_empty_lines: true, trim: true }));
  input.once('error', (err) => parser.destroy(err));
  let header = true;
  let rows = 0;
  staging.begin();
  try {
    for await (const r of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const line = startLine(r);
      if (header) {
        header = false;
        if (r.record.join(',') !== expected) return problems.fatal({ line, reason: `the header must be exactly "${expected}", in this order; found "${r.record.join(',')}"` });
        continue;
      }
      rows++;
      if (r.record.length !== columns.length) problems.add({ line, reason: `expected ${columns.length} columns (${expected}), found ${r.record.length}` });
      else if (kind === 'readings') checkReading(line, r.record, rules, staging, problems);
      else checkPayment(line, r.record, rules, staging, problems);
      if (rows % COMMIT_EVERY === 0) {
        staging.commit();
        staging.begin();
        onRows?.(rows);
      }
    }
  } catch (err) {
    if (err instanceof CsvError) return problems.fatal({ line: typeof err.lines === 'number' ? err.lines : 1, reason: `not valid CSV: ${err.message}` });
    throw err;
  } finally {
    staging.commit();
  }
  if (rows === 0) return problems.fatal({ line: 1, reason: 'no rows' });
  onRows?.(rows);
  return problems.count > 0 ? problems.report() : { ok: true, rows };
}

/** A reading row: a known meter, an instant with an offset, a decimal, a known kind, a serial; a repeat must agree. */
function checkReading(line: number, cells: string[], { meters }: ImportRules, staging: ImportStaging, problems: ProblemList): void {
  const [meterId, readAtText, value, kind, serial] = cells as [string, string, string, string, string];
  const before = problems.count;
  const meter = meters.get(meterId);
  if (!meter) problems.add({ line, reason: `unknown meter "${meterId}"` });
  const readAt = parseInstant(readAtText);
  if (readAt === undefined) problems.add({ line, reason: `read_at "${readAtText}" is not ISO 8601 with an offset (e.g. 2026-11-25T00:00:00+08:00)` });
  if (!DECIMAL.test(value)) problems.add({ line, reason: `value "${value}" is not a non-negative decimal` });
  if (!(READ_KINDS as readonly string[]).includes(kind)) problems.add({ line, reason: `kind "${kind}" is not one of ${READ_KINDS.join(', ')}` });
  if (serial === '') problems.add({ line, reason: 'serial is empty' });
  if (problems.count > before || !meter || readAt === undefined) return;
  // An exact repeat is harmless (the store would skip it anyway); two values for
  // the same read are a mistake in the file, and which one is right is for a person to say.
  const first = staging.addRead({ meterId, serial, readAt, value, multiplier: meter.multiplier, kind: kind as ReadKind, source: 'import', quality: 'good' }, line);
  if (first && !new Dec(first.value).eq(value)) problems.add({ line, reason: `line ${line} repeats meter/read_at of line ${first.line} with a different value ("${first.value}" there, "${value}" here)` });
}

/** A payment row: a known unit, an instant with an offset, a positive amount of at most two decimals, a reference used once. */
function checkPayment(line: number, cells: string[], { units }: ImportRules, staging: ImportStaging, problems: ProblemList): void {
  const [unitId, paidAtText, amount, reference] = cells as [string, string, string, string];
  if (!units.has(unitId)) problems.add({ line, reason: `unknown unit "${unitId}"` });
  const paidAt = parseInstant(paidAtText);
  if (paidAt === undefined) problems.add({ line, reason: `paid_at "${paidAtText}" is not ISO 8601 with an offset (e.g. 2026-12-03T10:15:00+08:00)` });
  const amountOk = AMOUNT.test(amount) && !new Dec(amount).isZero();
  if (!amountOk) problems.add({ line, reason: `amount "${amount}" is not a positive amount with at most two decimals` });
  if (reference === '') return problems.add({ line, reason: 'reference is empty' });
  // A bad row still claims its reference, so a later line that repeats it is named
  // too; a file with any problem is never imported, so what is staged then is moot.
  const firstLine = staging.addPayment({ unitId, paidAt: paidAt ?? 0, amount: amountOk ? new Dec(amount).toFixed(2) : '0', reference }, line);
  if (firstLine !== undefined) problems.add({ line, reason: `reference "${reference}" repeats line ${firstLine}` });
}

/** Problems in file order: every one counted, the first MAX_LISTED kept. */
class ProblemList {
  private readonly listed: CsvProblem[] = [];
  count = 0;

  add(p: CsvProblem): void {
    if (this.count++ < MAX_LISTED) this.listed.push(p);
  }

  /** A problem with the file as a whole (its header, its syntax): it ends the check. */
  fatal(p: CsvProblem): CheckReport {
    this.add(p);
    return this.report();
  }

  report(): CheckReport {
    return { ok: false, problems: this.listed, problemCount: this.count };
  }
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
