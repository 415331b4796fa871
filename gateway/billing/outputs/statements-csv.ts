import { stringify } from 'csv-stringify/sync';
import { DateTime } from 'luxon';
import type { BillingConfig, TariffsConfig } from '../../config/schema.ts';
import type { BillingPeriod } from '../calendar.ts';
import { Dec, formatMoney, sum } from '../money.ts';
import type { BoundaryRead, LineCode, MeterUse, RunResult, Statement, VeeException } from '../types.ts';

// The billing run's CSV files for finance (handbook 第三节 三.1: the month's water
// and electricity totals go to the cashier, 收费室, who tabulates them). Amounts are
// copied as the decimal strings the run produced; they are never parsed as numbers.

/** What every billing document needs besides the run itself. */
export interface OutputContext {
  site: { id: string; name: { zh: string; en: string }; timezone: string };
  tariffs: TariffsConfig;
  billing: BillingConfig;
  period: BillingPeriod;
  version: number;
  /** Set on a correction of a closed period: the version it corrects and its statements, to show before → after. */
  corrects?: { version: number; statements: Statement[] };
}

export const STATEMENT_COLUMNS = [
  'period', 'version', 'unit_id', 'tower', 'floor', 'company', 'occupancy', 'from', 'to', 'status',
  ...meterColumns('electricity'),
  ...meterColumns('water'),
  'electricity_amount', 'water_amount', 'management_fee_amount', 'late_fee_amount',
  'current_charges', 'previous_arrears', 'total', 'due_date', 'holds',
] as const;

export const EXCEPTION_COLUMNS = ['id', 'unit_id', 'meter_id', 'code', 'blocking', 'at', 'detail'] as const;

/** One row per statement, ordered by unit then slice start. */
export function statementsCsv(result: RunResult, ctx: OutputContext): string {
  const tz = ctx.site.timezone;
  const rows = sortStatements(result.statements).map((s) => [
    s.period, String(ctx.version), s.unitId, s.tower, String(s.floor), s.company, s.occupancy,
    isoLocal(s.from, tz), isoLocal(s.to, tz), s.status,
    ...meterCells(s.meters, 'electricity'),
    ...meterCells(s.meters, 'water'),
    lineAmount(s, 'electricity'), lineAmount(s, 'water'), lineAmount(s, 'management_fee'), lineAmount(s, 'late_fee'),
    s.currentCharges, s.previousArrears, s.total, s.dueDate, s.holds.join('; '),
  ]);
  return toCsv(STATEMENT_COLUMNS, rows);
}

/**
 * Every VEE exception of the run, ordered by unit, meter, time and id. `at` is local
 * ISO time when a context is given, else UTC.
 */
export function exceptionsCsv(result: RunResult, ctx?: OutputContext): string {
  const tz = ctx?.site.timezone ?? 'UTC';
  const rows = sortExceptions(result.exceptions).map((e) => [
    e.id, e.unitId, e.meterId, e.code, e.blocking ? 'true' : 'false', isoLocal(e.at, tz), e.detail,
  ]);
  return toCsv(EXCEPTION_COLUMNS, rows);
}

/** Statements by unit id, then slice start: the order of every billing document. */
export function sortStatements(statements: readonly Statement[]): Statement[] {
  return [...statements].sort((a, b) => compareText(a.unitId, b.unitId) || a.from - b.from);
}

/** Exceptions by unit, meter, time, id. */
export function sortExceptions(exceptions: readonly VeeException[]): VeeException[] {
  return [...exceptions].sort(
    (a, b) => compareText(a.unitId, b.unitId) || compareText(a.meterId, b.meterId) || a.at - b.at || compareText(a.id, b.id),
  );
}

/** Code-unit order, so the result never depends on the machine's locale (localeCompare would). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sum of a statement's lines with one code (tiered electricity has several), "0.00" when none. */
export function lineAmount(s: Statement, code: LineCode): string {
  return formatMoney(sum(s.lines.filter((l) => l.code === code).map((l) => new Dec(l.amount))));
}

/** How a boundary read was obtained, e.g. "read", "estimated: interpolated between reads". */
export function basisText(read: BoundaryRead): string {
  return read.rule ? `${read.basis}: ${read.rule.en}` : read.basis;
}

function meterColumns<K extends 'electricity' | 'water'>(kind: K) {
  return [
    `${kind}_meter_id`, `${kind}_serials`,
    `${kind}_opening`, `${kind}_opening_basis`,
    `${kind}_closing`, `${kind}_closing_basis`,
    `${kind}_use`,
  ] as const;
}

// A unit normally has one meter of each kind; if it has more, their values are
// joined with "; " in meter-id order so the columns stay fixed.
function meterCells(meters: readonly MeterUse[], kind: MeterUse['kind']): string[] {
  const ofKind = meters.filter((m) => m.kind === kind).sort((a, b) => compareText(a.meterId, b.meterId));
  const join = (pick: (m: MeterUse) => string) => ofKind.map(pick).join('; ');
  return [
    join((m) => m.meterId),
    // Several serials within one meter means a replacement in the slice, in read order.
    join((m) => m.serials.join(' > ')),
    join((m) => m.opening.value),
    join((m) => basisText(m.opening)),
    join((m) => m.closing.value),
    join((m) => basisText(m.closing)),
    join((m) => m.use),
  ];
}

function isoLocal(at: number, timeZone: string): string {
  return DateTime.fromMillis(at, { zone: timeZone }).toISO({ suppressMilliseconds: true }) ?? '';
}

// A BOM so the cashier's spreadsheet reads the Chinese company names as UTF-8;
// "\n" record ends and quoting only where needed, so equal input gives equal bytes.
function toCsv(columns: readonly string[], rows: string[][]): string {
  return stringify(rows, { header: true, columns: [...columns], bom: true, record_delimiter: '\n' });
}
