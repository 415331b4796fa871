import { Dec } from './money.ts';
import type { ExceptionCode, StoredRead } from './types.ts';

// Validation, estimation and editing (VEE) of one meter's billing reads, before
// anything is billed (issue 7). The walk over the reads compares them as numbers,
// which is cheap; exact use comes from decimal arithmetic on the few reads that
// matter (segment starts and the boundary reads), never from summing floats.
//
// The series is cut into segments: runs of reads of one serial and one multiplier
// in which the register only rises. A rollover, a declared replacement, or an
// unexplained break starts a new segment; use across a break is added exactly
// (rollover) or not at all (replacement: never subtract across serial numbers).

export interface MeterFacts {
  meterId: string;
  unitId: string;
  /** The register's last value before it starts again at zero (device profile). */
  rolloverAt: number;
  /** The most the register can rise in an hour (device profile), before the multiplier. */
  maxUsePerHour: number;
  /** Reads of one value this many days in a row on an occupied unit are a frozen meter. */
  frozenDays: number;
}

export interface AcceptedRead {
  read: StoredRead;
  /** The value billed: the latest edit, else the raw value. */
  value: string;
  num: number;
  segment: number;
}

export interface Segment {
  serial: string;
  multiplier: string;
  /** Index in `reads` of the segment's first read. */
  first: number;
  /** Exact use, after multipliers, from the series' start to the segment's first read. */
  offset: Dec;
}

export interface Finding {
  code: ExceptionCode;
  at: number;
  /** For a frozen run: when it began. */
  since?: number;
  readId?: number;
  detail: string;
}

export interface ValidatedSeries {
  meter: MeterFacts;
  reads: AcceptedRead[];
  segments: Segment[];
  findings: Finding[];
}

/** Validates one meter's reads (ordered by read time, then id) into segments and findings. */
export function validateSeries(input: readonly StoredRead[], meter: MeterFacts): ValidatedSeries {
  const out: ValidatedSeries = { meter, reads: [], segments: [], findings: [] };
  const candidates = dedupe(input, out.findings);
  const modulus = rolloverModulus(meter.rolloverAt);
  let awaitingInitial = false;
  for (let i = 0; i < candidates.length; i++) {
    const r = candidates[i]!;
    const prev = out.reads.at(-1);
    const value = effectiveValue(r);
    const num = Number(value);
    if (!prev) {
      startSegment(out, r, value, num, new Dec(0));
      continue;
    }
    const seg = out.segments[prev.segment]!;
    if (r.kind === 'replacement_initial' || awaitingInitial) {
      // A declared replacement (or CT change): the new meter starts its own segment
      // with no use between the old meter's final read and this one.
      if (r.kind !== 'replacement_initial') note(out, r, 'serial_changed', `a replacement final read at ${iso(prev.read.readAt)} was not followed by the new meter's initial read`);
      else if (!awaitingInitial) note(out, r, 'serial_changed', `replacement initial read for ${r.serial} without the old meter's final read`);
      awaitingInitial = false;
      startSegment(out, r, value, num, useTo(out, prev));
      continue;
    }
    if (r.serial !== seg.serial || r.multiplier !== seg.multiplier) {
      const what = r.serial !== seg.serial ? `serial ${seg.serial} → ${r.serial}` : `multiplier ${seg.multiplier} → ${r.multiplier}`;
      note(out, r, 'serial_changed', `${what} with no declared replacement`);
      startSegment(out, r, value, num, useTo(out, prev));
      continue;
    }
    const hours = Math.max((r.readAt - prev.read.readAt) / 3_600_000, 1 / 60);
    const next = candidates[i + 1];
    const nextNum = next && next.serial === r.serial && next.kind === 'actual' ? Number(effectiveValue(next)) : undefined;
    const rise = num - prev.num;
    if (rise >= 0) {
      if (rise / hours > meter.maxUsePerHour) {
        // A read above both neighbours is a glitch (evcc #30267: a garbled read
        // decoding to a huge value); a lasting jump is held for a person to judge.
        if (nextNum !== undefined && nextNum < num && nextNum >= prev.num) {
          note(out, r, 'glitch_read', `${value} is above both ${prev.value} and the next read ${effectiveValue(next!)}; left out`);
          continue;
        }
        note(out, r, 'spike', `rose ${fmt(rise)} in ${fmt(hours)} h, more than the meter's maximum of ${meter.maxUsePerHour} an hour`);
      }
      out.reads.push({ read: r, value, num, segment: prev.segment });
      if (r.kind === 'replacement_final') awaitingInitial = true;
      continue;
    }
    // The register fell.
    if (nextNum !== undefined && nextNum >= prev.num) {
      // One low read between two consistent ones (a Modbus glitch zero).
      note(out, r, 'glitch_read', `${value} is below both ${prev.value} and the next read ${effectiveValue(next!)}; left out`);
      continue;
    }
    const wrapped = modulus.minus(prev.value).plus(value);
    if (wrapped.toNumber() / hours <= meter.maxUsePerHour) {
      // Rollover: the register passed its maximum and started again at zero.
      startSegment(out, r, value, num, useTo(out, prev).plus(wrapped.times(r.multiplier)));
      continue;
    }
    const nearTop = prev.num >= 0.9 * meter.rolloverAt;
    note(out, r, nearTop ? 'implausible_rollover' : 'unexplained_drop', `${prev.value} → ${value} in ${fmt(hours)} h${nearTop ? `; a rollover would be ${wrapped.toString()} of use` : ''}`);
    startSegment(out, r, value, num, useTo(out, prev));
  }
  if (awaitingInitial) note(out, out.reads.at(-1)!.read, 'serial_changed', "a replacement final read has no new meter's initial read after it");
  findFrozen(out);
  return out;
}

/** Accepts a read as the first of a new segment whose use so far is `offset`. */
function startSegment(out: ValidatedSeries, r: StoredRead, value: string, num: number, offset: Dec): void {
  out.segments.push({ serial: r.serial, multiplier: r.multiplier, first: out.reads.length, offset });
  out.reads.push({ read: r, value, num, segment: out.segments.length - 1 });
}

/** Exact use from the series' start up to the accepted read. */
export function useTo(series: ValidatedSeries, at: AcceptedRead): Dec {
  const seg = series.segments[at.segment]!;
  const first = series.reads[seg.first]!;
  return seg.offset.plus(new Dec(at.value).minus(first.value).times(seg.multiplier));
}

/**
 * Exact use from the series' start up to a value of the register at a moment that
 * is not itself an accepted read (a carried or estimated boundary): the value is
 * placed in the segment of the nearest accepted read of the same serial.
 * Undefined when no read of that serial is near.
 */
export function useToValue(series: ValidatedSeries, at: number, value: string, serial: string): Dec | undefined {
  const anchor = nearestRead(series, at, (r) => series.segments[r.segment]!.serial === serial);
  if (!anchor) return undefined;
  const seg = series.segments[anchor.segment]!;
  return useTo(series, anchor).plus(new Dec(value).minus(anchor.value).times(seg.multiplier));
}

/** The accepted read nearest to `at` (ties go to the earlier one) that passes `filter`. */
export function nearestRead(series: ValidatedSeries, at: number, filter: (r: AcceptedRead) => boolean = () => true): AcceptedRead | undefined {
  let best: AcceptedRead | undefined;
  for (const r of series.reads) {
    if (!filter(r)) continue;
    if (!best || Math.abs(r.read.readAt - at) < Math.abs(best.read.readAt - at)) best = r;
    else if (r.read.readAt > at) break;
  }
  return best;
}

export function effectiveValue(r: StoredRead): string {
  return r.edit?.value ?? r.value;
}

/** The number of register steps in one full turn: rolloverAt plus its last digit's step (999999.99 → 1000000.00). */
export function rolloverModulus(rolloverAt: number): Dec {
  const at = new Dec(String(rolloverAt));
  return at.plus(new Dec(10).pow(-at.decimalPlaces()));
}

/**
 * Drops excluded reads and repeats of one read, in time order. Duplicates are keyed
 * on (meter, read time), never on arrival time: the same value twice is one read;
 * two values at one time are a conflict, held until someone edits one of them.
 */
function dedupe(input: readonly StoredRead[], findings: Finding[]): StoredRead[] {
  const out: StoredRead[] = [];
  for (const r of input) {
    if (r.edit && r.edit.value === null) continue;
    const prev = out.at(-1);
    if (prev && prev.readAt === r.readAt && prev.serial === r.serial && !isReplacementPair(prev, r)) {
      if (effectiveValue(prev) === effectiveValue(r)) {
        // A declared kind (replacement, move) wins over a plain read of the same value,
        // and a reading-day fallback over the interval read it fell back to, so it stays flagged.
        if ((prev.kind === 'actual' && r.kind !== 'actual') || (prev.kind === r.kind && r.source === 'fallback')) out[out.length - 1] = r;
        continue;
      }
      findings.push({ code: 'conflicting_duplicate', at: r.readAt, readId: r.id, detail: `${effectiveValue(prev)} (read ${prev.id}) and ${effectiveValue(r)} (read ${r.id}) at ${iso(r.readAt)}` });
      continue;
    }
    out.push(r);
  }
  // The old meter's final read comes before the new meter's initial read taken at the same moment.
  return out.sort((a, b) => a.readAt - b.readAt || kindOrder(a) - kindOrder(b) || a.id - b.id);
}

function isReplacementPair(a: StoredRead, b: StoredRead): boolean {
  return (a.kind === 'replacement_final' && b.kind === 'replacement_initial') || (a.kind === 'replacement_initial' && b.kind === 'replacement_final');
}

function kindOrder(r: StoredRead): number {
  return r.kind === 'replacement_final' ? 0 : r.kind === 'replacement_initial' ? 2 : 1;
}

/**
 * One non-zero value held across `frozenDays` daily reads, i.e. for frozenDays − 1
 * days or more. Judged on the span of the run's first and last read, which is all
 * the month-end pass keeps of a run (notable.ts).
 */
function findFrozen(series: ValidatedSeries): void {
  const spanMs = (series.meter.frozenDays - 1) * 86_400_000;
  let start = 0;
  for (let i = 1; i <= series.reads.length; i++) {
    const r = series.reads[i];
    const first = series.reads[start]!;
    if (r && r.value === first.value && r.segment === first.segment) continue;
    const last = series.reads[i - 1]!;
    if (i - start >= 2 && last.read.readAt - first.read.readAt >= spanMs && first.num > 0)
      series.findings.push({ code: 'frozen', at: last.read.readAt, since: first.read.readAt, readId: last.read.id, detail: `${first.value} unchanged from ${iso(first.read.readAt)} to ${iso(last.read.readAt)}` });
    start = i;
  }
}

function note(series: ValidatedSeries, r: StoredRead, code: ExceptionCode, detail: string): void {
  series.findings.push({ code, at: r.readAt, readId: r.id, detail });
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function fmt(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}
