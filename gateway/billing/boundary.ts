import { Dec } from './money.ts';
import type { Bilingual, BoundaryRead } from './types.ts';
import { nearestRead, useTo, useToValue, type AcceptedRead, type ValidatedSeries } from './vee.ts';

// The reads a statement starts and ends on. A read taken at the boundary (the
// reading-day snapshot, a move-in or move-out read) is used as it is; failing that,
// the nearest read within the tolerance; failing that, an estimate, marked with
// the rule that produced it (issue 7: "A missing read is estimated").

export interface BoundaryOptions {
  /** A read this close to the boundary stands for it. */
  toleranceMs: number;
  /** A move-in or move-out read of this kind at the boundary wins over everything else. */
  kind?: 'move_in' | 'move_out';
  /** Use per day (after the multiplier) from the meter's own earlier periods, for extrapolation. */
  historicDailyUse?: number;
  /** Whether an estimate may be made; false once the cap of consecutive estimates is reached. */
  mayEstimate: boolean;
  /** The slice's opening, to extrapolate from when the meter sent no read at all (with the meter's CT ratio). */
  anchor?: { boundary: Boundary; multiplier: string };
}

export interface Boundary {
  read: BoundaryRead;
  /** Exact use from the series' start to this boundary (multipliers applied). */
  odometer: Dec;
}

export type BoundaryProblem = 'missing_read' | 'estimate_cap';

/** The boundary read at `at`, or why there is none. */
export function boundaryAt(series: ValidatedSeries, at: number, opts: BoundaryOptions): Boundary | BoundaryProblem {
  const declared = opts.kind && series.reads.find((r) => r.read.readAt === at && r.read.kind === opts.kind);
  const near = declared || nearestRead(series, at);
  if (near && Math.abs(near.read.readAt - at) <= opts.toleranceMs) return { read: fromRead(near), odometer: useTo(series, near) };
  if (!opts.mayEstimate) return 'estimate_cap';
  return estimate(series, at, opts.historicDailyUse) ?? fromAnchor(at, opts) ?? 'missing_read';
}

/** A boundary carried over from the previous statement's closing read: same value, so nothing is billed twice. */
export function carriedBoundary(series: ValidatedSeries, closing: BoundaryRead): Boundary | undefined {
  // A meter that sent nothing this period: the carried read is where its use starts.
  if (series.reads.length === 0) return { read: { ...closing, basis: 'carried' }, odometer: new Dec(0) };
  const odometer = useToValue(series, closing.at, closing.value, closing.serial);
  return odometer && { read: { ...closing, basis: 'carried' }, odometer };
}

/** A meter silent all period: its opening plus its usual daily use from earlier periods. */
function fromAnchor(at: number, opts: BoundaryOptions): Boundary | undefined {
  if (!opts.anchor || opts.historicDailyUse === undefined) return undefined;
  const { boundary, multiplier } = opts.anchor;
  const decimals = decimalsOf(boundary.read.value);
  const days = new Dec(at - boundary.read.at).div(86_400_000);
  const value = new Dec(boundary.read.value).plus(new Dec(String(opts.historicDailyUse)).div(multiplier).times(days)).toDecimalPlaces(decimals, Dec.ROUND_HALF_UP);
  const rule = { en: 'average daily use of earlier periods, from the opening read', zh: '自上期读数起按以往各期的日均用量' };
  return { read: { at, value: value.toFixed(decimals), serial: boundary.read.serial, basis: 'estimated', rule }, odometer: boundary.odometer.plus(value.minus(boundary.read.value).times(multiplier)) };
}

function fromRead(r: AcceptedRead): BoundaryRead {
  const basis = r.read.edit ? 'edited' : r.read.source === 'fallback' ? 'fallback' : 'read';
  return { at: r.read.readAt, value: r.value, serial: r.read.serial, basis, readId: r.read.id };
}

/**
 * Interpolates between the reads either side of the boundary when both are of one
 * segment; otherwise extrapolates from the last read before it at the meter's
 * average daily use (this period's reads when they span a day, else its history).
 */
function estimate(series: ValidatedSeries, at: number, historicDailyUse: number | undefined): Boundary | undefined {
  const after = series.reads.findIndex((r) => r.read.readAt > at);
  const before = after === -1 ? series.reads.at(-1) : series.reads[after - 1];
  const next = after === -1 ? undefined : series.reads[after];
  if (!before) return undefined;
  // Estimates are written to the register's own resolution.
  const decimals = Math.max(...[before, next].filter((r) => r !== undefined).map((r) => decimalsOf(r.value)));
  const place = (value: Dec, rule: Bilingual): Boundary => {
    const v = value.toDecimalPlaces(decimals, Dec.ROUND_HALF_UP).toFixed(decimals);
    const seg = series.segments[before.segment]!;
    const odometer = useTo(series, before).plus(new Dec(v).minus(before.value).times(seg.multiplier));
    return { read: { at, value: v, serial: seg.serial, basis: 'estimated', rule }, odometer };
  };
  if (next && next.segment === before.segment) {
    const fraction = new Dec(at - before.read.readAt).div(next.read.readAt - before.read.readAt);
    return place(new Dec(before.value).plus(new Dec(next.value).minus(before.value).times(fraction)), { en: `interpolated between the reads at ${iso(before.read.readAt)} and ${iso(next.read.readAt)}`, zh: `按 ${iso(before.read.readAt)} 与 ${iso(next.read.readAt)} 两次读数插值` });
  }
  const segStart = series.reads[series.segments[before.segment]!.first]!;
  const spanDays = (before.read.readAt - segStart.read.readAt) / 86_400_000;
  const gapDays = new Dec(at - before.read.readAt).div(86_400_000);
  if (spanDays >= 1) {
    const perDay = new Dec(before.value).minus(segStart.value).div(new Dec(before.read.readAt - segStart.read.readAt).div(86_400_000));
    return place(new Dec(before.value).plus(perDay.times(gapDays)), { en: `average daily use over ${Math.floor(spanDays)} days of reads`, zh: `按 ${Math.floor(spanDays)} 天读数的日均用量` });
  }
  if (historicDailyUse !== undefined) {
    // History is use after the multiplier; the register moves by use / multiplier.
    const perDay = new Dec(String(historicDailyUse)).div(series.segments[before.segment]!.multiplier);
    return place(new Dec(before.value).plus(perDay.times(gapDays)), { en: 'average daily use of earlier periods', zh: '按以往各期的日均用量' });
  }
  return undefined;
}

/** Decimal places as written ("3448.00" → 2); decimal.js would normalise them away. */
function decimalsOf(value: string): number {
  return value.split('.')[1]?.length ?? 0;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
