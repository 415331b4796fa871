import type { LoadedConfig } from '../config/load.ts';
import type { MeterConfig } from '../config/schema.ts';
import { boundaryAt, carriedBoundary, type Boundary } from './boundary.ts';
import { billingPeriod, daysBetween, localDate, type BillingPeriod } from './calendar.ts';
import { electricityLines, lateFeeLine, managementFeeLine, waterLine } from './charges.ts';
import { history, ledgerOf, type History } from './history.ts';
import { creditOn, lateFee, unpaidOn, type LedgerPayment } from './ledger.ts';
import { Dec, formatMoney, sum } from './money.ts';
import type { BillingRepository } from './repository.ts';
import { occupiedSpells, type Spell } from './tenancy.ts';
import { EXCEPTION_CODES, type ExceptionCode, type MeterUse, type RunResult, type Statement, type StatementLine, type VeeException } from './types.ts';
import { validateSeries, type ValidatedSeries } from './vee.ts';

// The billing run for one period (issue 7): validate every meter's reads, find the
// boundary reads of every tenant's slice of the period, and price the use, the
// management fee, arrears and the late fee. It reads the records store and writes
// nothing: the same inputs give the same result, byte for byte.

export interface RunInputs {
  config: LoadedConfig;
  repo: BillingRepository;
  /** Exception ids a finance user or supervisor accepted as right. */
  accepted: ReadonlySet<string>;
  /** Told after each meter is validated: the dashboard's progress bar (issue 15). */
  progress?: (done: number, total: number) => void;
}

interface UnitInfo {
  unitId: string;
  tower: string;
  floor: number;
  areaM2: number;
  meters: MeterConfig[];
  spells: Spell[];
}

/** One meter's use in one spell, or why there is none. */
interface SliceUse {
  spell: Spell;
  use?: MeterUse;
}

export function computeRun(periodId: string, inputs: RunInputs): RunResult {
  const { building, profiles } = inputs.config;
  const period = billingPeriod(periodId, building.billing, building.site.timezone);
  const toleranceMs = building.billing.fallbackToleranceHours * 3_600_000;
  const past = history(periodId, inputs.repo, building.billing.maxConsecutiveEstimates);
  const units = unitsOf(inputs, period);
  const unitOfMeter = new Map(building.modbus.meters.map((m) => [m.id, units.get(m.unit)!]));
  const exceptions: VeeException[] = [];
  const uses = new Map<string, SliceUse[]>();
  const raise = (meterId: string, code: ExceptionCode, at: number, detail: string, readId?: number) => {
    const id = `${periodId}/${meterId}/${code}/${at}`;
    const blocking = EXCEPTION_CODES[code].blocking && !inputs.accepted.has(id);
    exceptions.push({ id, meterId, unitId: unitOfMeter.get(meterId)!.unitId, code, blocking, at, detail, ...(readId !== undefined ? { readId } : {}) });
  };

  const measure = (meter: MeterConfig, reads: Parameters<typeof validateSeries>[0]) => {
    const profile = profiles.get(meter.profile)!;
    const unit = unitOfMeter.get(meter.id)!;
    const series = validateSeries(reads, { meterId: meter.id, unitId: unit.unitId, rolloverAt: profile.billing.rolloverAt, maxUsePerHour: profile.billing.maxUsePerHour, frozenDays: building.billing.frozenDays });
    // A meter standing still while the unit was empty is no fault: only the occupied part of a run counts.
    const occupiedMs = (a: number, b: number) => unit.spells.reduce((ms, s) => ms + Math.max(0, Math.min(b, s.to) - Math.max(a, s.from)), 0);
    const frozenMs = (building.billing.frozenDays - 1) * 86_400_000;
    for (const f of series.findings) {
      // Findings in the look-back margin belong to the previous period.
      if (f.at <= period.opensAt || f.at > period.closesAt) continue;
      if (f.code === 'frozen' && occupiedMs(f.since!, f.at) < frozenMs) continue;
      raise(meter.id, f.code, f.at, f.detail, f.readId);
    }
    const slices: SliceUse[] = [];
    for (const spell of unit.spells) {
      const from = Math.max(spell.from, period.opensAt);
      const to = Math.min(spell.to, period.closesAt);
      if (to <= from) continue;
      const use = meterUse(meter, series, from, to, spell, period, toleranceMs, past, raise);
      slices.push({ spell, ...(use ? { use } : {}) });
    }
    uses.set(meter.id, slices);
    for (const gap of vacantSlices(unit.spells, period)) {
      const a = boundaryAt(series, gap.from, { toleranceMs, kind: 'move_out', mayEstimate: false });
      const b = boundaryAt(series, gap.to, { toleranceMs, kind: 'move_in', mayEstimate: false });
      if (typeof a !== 'string' && typeof b !== 'string' && b.odometer.gt(a.odometer))
        raise(meter.id, 'use_on_vacant', gap.to, `${b.odometer.minus(a.odometer).toString()} ${meter.kind === 'electricity' ? 'kWh' : 'm³'} while nobody held the unit`);
    }
  };

  const meters = new Map(building.modbus.meters.map((m) => [m.id, m]));
  const [from, to] = [period.opensAt - toleranceMs, period.closesAt + toleranceMs];
  // Each meter is read around the period's ends and its own unit's move-ins and move-outs.
  const moves = new Map<string, number[]>();
  for (const e of inputs.repo.tenancyEvents()) if (e.at > from && e.at < to) moves.set(e.unitId, [...(moves.get(e.unitId) ?? []), e.at]);
  const boundariesOf = (meterId: string) => [period.opensAt, period.closesAt, ...(moves.get(meters.get(meterId)!.unit) ?? [])];
  let measured = 0;
  inputs.repo.forEachMeterEssentials([...meters.keys()], from, to, boundariesOf, (meterId, reads) => {
    measure(meters.get(meterId)!, reads);
    inputs.progress?.(++measured, meters.size);
  });

  const payments = inputs.repo.payments({ until: period.closesAt });
  const statements = [...units.values()].flatMap((unit) => statementsOf(unit, period, inputs, uses, past, payments));
  checkUse(statements, past, inputs, raise);
  const sorted = exceptions.sort((a, b) => a.unitId.localeCompare(b.unitId) || a.meterId.localeCompare(b.meterId) || a.at - b.at || a.code.localeCompare(b.code));
  for (const s of statements) {
    const holds = sorted.filter((e) => e.blocking && e.unitId === s.unitId && e.at >= s.from && e.at <= s.to).map((e) => `${e.meterId}: ${EXCEPTION_CODES[e.code].en}`);
    if (holds.length) Object.assign(s, { status: 'held', holds: [...new Set(holds)] });
  }
  return { period: periodId, statements, exceptions: sorted };
}

/** The parts of the period's read window when nobody held the unit. */
function vacantSlices(spells: readonly Spell[], period: BillingPeriod): Array<{ from: number; to: number }> {
  const gaps: Array<{ from: number; to: number }> = [];
  let cursor = period.opensAt;
  for (const s of [...spells].sort((a, b) => a.from - b.from)) {
    if (s.from > cursor) gaps.push({ from: cursor, to: Math.min(s.from, period.closesAt) });
    cursor = Math.max(cursor, s.to);
  }
  if (cursor < period.closesAt) gaps.push({ from: cursor, to: period.closesAt });
  return gaps.filter((g) => g.to > g.from);
}

function unitsOf(inputs: RunInputs, period: BillingPeriod): Map<string, UnitInfo> {
  const events = inputs.repo.tenancyEvents();
  const units = new Map<string, UnitInfo>();
  for (const tower of inputs.config.building.towers)
    for (const floor of tower.floors)
      for (const u of floor.units) {
        const configured = u.tenant && { company: u.tenant.company, occupancy: u.tenant.occupancy };
        const own = events.filter((e) => e.unitId === u.id);
        const spells = occupiedSpells(own, configured, Math.min(period.opensAt, period.feeMonth.start), Math.max(period.closesAt, period.feeMonth.end));
        const meters = inputs.config.building.modbus.meters.filter((m) => m.unit === u.id);
        units.set(u.id, { unitId: u.id, tower: tower.id, floor: floor.level, areaM2: u.areaM2, meters, spells });
      }
  return units;
}

type Raise = (meterId: string, code: ExceptionCode, at: number, detail: string, readId?: number) => void;

function meterUse(meter: MeterConfig, series: ValidatedSeries, from: number, to: number, spell: Spell, period: BillingPeriod, toleranceMs: number, past: History, raise: Raise): MeterUse | undefined {
  const mayEstimate = past.mayEstimate(meter.id);
  const historicDailyUse = past.dailyUse(meter.id);
  const carried = from === period.opensAt ? past.closing(meter.id) : undefined;
  const opening: Boundary | 'missing_read' | 'estimate_cap' =
    (carried && carriedBoundary(series, carried)) || boundaryAt(series, from, { toleranceMs, kind: from === spell.from ? 'move_in' : undefined, historicDailyUse, mayEstimate: true });
  const anchor = typeof opening === 'string' ? undefined : { boundary: opening, multiplier: String(meter.ctRatio) };
  const closing = boundaryAt(series, to, { toleranceMs, kind: to === spell.to ? 'move_out' : undefined, historicDailyUse, mayEstimate, anchor });
  for (const [b, at] of [[opening, from], [closing, to]] as const)
    if (typeof b === 'string') raise(meter.id, b, at, b === 'missing_read' ? `no read within ${toleranceMs / 3_600_000} h of ${new Date(at).toISOString()} and nothing to estimate from` : `${past.consecutiveEstimates(meter.id)} estimated closing reads in a row already`);
  if (typeof opening === 'string' || typeof closing === 'string') return undefined;
  if (closing.read.basis === 'estimated') raise(meter.id, 'estimated', to, `${closing.read.value} by ${closing.read.rule?.en}`);
  if (closing.read.basis === 'fallback') raise(meter.id, 'fallback', closing.read.at, `closing read ${closing.read.value} from ${new Date(closing.read.at).toISOString()}`, closing.read.readId);
  const use = closing.odometer.minus(opening.odometer);
  if (use.lt(0)) raise(meter.id, 'negative_use', to, `${opening.read.value} → ${closing.read.value}`);
  const serials = [...new Set(series.segments.filter((s, i) => i >= segmentAt(series, from) && i <= segmentAt(series, to)).map((s) => s.serial))];
  return { meterId: meter.id, kind: meter.kind, unit: meter.kind === 'electricity' ? 'kWh' : 'm³', serials: serials.length ? serials : [meter.serial], opening: opening.read, closing: closing.read, use: use.toString() };
}

function segmentAt(series: ValidatedSeries, at: number): number {
  let seg = 0;
  for (const r of series.reads) if (r.read.readAt <= at) seg = r.segment;
  return seg;
}

function statementsOf(unit: UnitInfo, period: BillingPeriod, inputs: RunInputs, uses: Map<string, SliceUse[]>, past: History, payments: ReturnType<BillingRepository['payments']>): Statement[] {
  const { tariffs, site } = inputs.config.building;
  const tz = site.timezone;
  const unitPayments: LedgerPayment[] = payments.filter((p) => p.unitId === unit.unitId).map((p) => ({ date: localDate(p.paidAt, tz), amount: new Dec(p.amount) }));
  const entries = ledgerOf(past, unit.unitId);
  const byCompany = new Map<string, Spell[]>();
  for (const s of unit.spells) byCompany.set(s.company, [...(byCompany.get(s.company) ?? []), s]);
  const out: Statement[] = [];
  for (const [company, spells] of byCompany) {
    const meters = unit.meters.flatMap((m) => (uses.get(m.id) ?? []).filter((u) => spells.includes(u.spell) && u.use).map((u) => u.use!));
    const feeDays = spells.reduce((n, s) => n + localDays(Math.max(s.from, period.feeMonth.start), Math.min(s.to, period.feeMonth.end), tz), 0);
    const readFrom = Math.min(...spells.map((s) => Math.max(s.from, period.opensAt)));
    if (meters.length === 0 && feeDays === 0 && !spells.some((s) => s.to > period.opensAt && s.from < period.closesAt)) continue;
    const useOf = (kind: 'electricity' | 'water') => sum(meters.filter((m) => m.kind === kind).map((m) => new Dec(m.use)));
    const lines: StatementLine[] = [...electricityLines(useOf('electricity'), tariffs), waterLine(useOf('water'), tariffs)];
    if (feeDays > 0) lines.push(managementFeeLine(unit.areaM2, feeDays, period.feeMonth.days, tariffs));
    const own = entries.filter((e) => e.company === company);
    // No earlier statement, no late fee: skip the day-by-day walk (most units, most months).
    const fee = own.length ? lateFee(own, unitPayments, localDate(period.opensAt - 1, tz), localDate(period.closesAt - 1, tz), tariffs.lateFeePerDay) : { amount: new Dec(0), days: 0 };
    if (fee.amount.gt(0)) lines.push(lateFeeLine(fee.amount, { en: `${fee.days} days overdue`, zh: `逾期 ${fee.days} 天` }, tariffs));
    const current = sum(lines.map((l) => new Dec(l.amount)));
    const asOf = localDate(period.closesAt - 1, tz);
    const arrears = sum(unpaidOn(entries, unitPayments, asOf).filter((u) => u.entry.company === company).map((u) => u.unpaid)).minus(creditOn(entries, unitPayments, asOf));
    const first = spells[0]!;
    out.push({
      period: period.id, unitId: unit.unitId, tower: unit.tower, floor: unit.floor, areaM2: unit.areaM2, company, occupancy: first.occupancy,
      readsFrom: readFrom,
      readsTo: Math.max(readFrom, ...spells.map((s) => Math.min(s.to, period.closesAt))),
      feeDays,
      from: Math.min(readFrom, ...spells.map((s) => Math.max(s.from, period.feeMonth.start))),
      to: Math.max(...spells.map((s) => Math.min(s.to, Math.max(period.closesAt, period.feeMonth.end)))),
      meters, lines, currentCharges: formatMoney(current), previousArrears: formatMoney(arrears), total: formatMoney(current.plus(arrears)),
      dueDate: period.dueDate, status: 'billed', holds: [],
    });
  }
  return out.sort((a, b) => a.from - b.from);
}

/** Use the unit's own history calls odd: a spike, nothing on an occupied unit, or use on an empty one. */
function checkUse(statements: Statement[], past: History, inputs: RunInputs, raise: Raise): void {
  const { spikeFactor } = inputs.config.building.billing;
  for (const s of statements)
    for (const m of s.meters) {
      const use = Number(m.use);
      const days = (m.closing.at - m.opening.at) / 86_400_000;
      const usual = past.dailyUse(m.meterId);
      if (days >= 1 && use === 0) raise(m.meterId, 'zero_use_occupied', m.closing.at, `no use from ${new Date(m.opening.at).toISOString()} to ${new Date(m.closing.at).toISOString()}`);
      if (usual !== undefined && usual > 0 && days > 0 && use / days > spikeFactor * usual)
        raise(m.meterId, 'spike', m.closing.at, `${(use / days).toFixed(2)} ${m.unit}/day against a usual ${usual.toFixed(2)}`);
    }
}

/**
 * Local days from a to b (ms): the day of a move-in is the incoming tenant's, the
 * day of a move-out is not the outgoing tenant's, so a change-over day is billed once.
 */
function localDays(a: number, b: number, tz: string): number {
  return b <= a ? 0 : daysBetween(localDate(a, tz), localDate(b, tz));
}
