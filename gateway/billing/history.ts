import { previousPeriodId } from './calendar.ts';
import type { LedgerEntry } from './ledger.ts';
import { Dec, sum } from './money.ts';
import type { BillingRepository } from './repository.ts';
import type { BoundaryRead, Statement } from './types.ts';

// What earlier periods say about this one, from the latest version of each
// earlier run: the closing reads to carry over, each meter's usual daily use, how
// many estimates in a row it has had, and the unit ledgers for arrears.

export interface History {
  /** The previous period's closing read of the meter, from a billed statement. */
  closing(meterId: string): BoundaryRead | undefined;
  /** Use per day (after the multiplier) over up to three earlier periods; undefined without any. */
  dailyUse(meterId: string): number | undefined;
  /** Whether the meter may have one more estimated closing read (config billing.maxConsecutiveEstimates). */
  mayEstimate(meterId: string): boolean;
  consecutiveEstimates(meterId: string): number;
  /** Billed statements of every earlier period, oldest period first. */
  readonly statements: readonly Statement[];
}

const HISTORY_PERIODS = 3;

export function history(periodId: string, repo: BillingRepository, maxConsecutiveEstimates: number): History {
  const periods = [...new Set(repo.runs().map((r) => r.period))].filter((p) => p < periodId).sort();
  const byPeriod = new Map(periods.map((p) => [p, (repo.latestRun(p)?.result.statements ?? []).filter((s) => s.status === 'billed')]));
  const recent = (n: number) => {
    const out: Statement[][] = [];
    for (let p = previousPeriodId(periodId); out.length < n && byPeriod.has(p); p = previousPeriodId(p)) out.push(byPeriod.get(p)!);
    return out;
  };
  const usesOf = (statements: readonly Statement[], meterId: string) => statements.flatMap((s) => s.meters.filter((m) => m.meterId === meterId));
  const consecutive = (meterId: string) => {
    let n = 0;
    for (let p = previousPeriodId(periodId); byPeriod.has(p); p = previousPeriodId(p)) {
      const last = usesOf(byPeriod.get(p)!, meterId).sort((a, b) => a.closing.at - b.closing.at).at(-1);
      if (last?.closing.basis !== 'estimated') break;
      n++;
    }
    return n;
  };
  return {
    statements: periods.flatMap((p) => byPeriod.get(p)!),
    closing: (meterId) => usesOf(recent(1)[0] ?? [], meterId).sort((a, b) => a.closing.at - b.closing.at).at(-1)?.closing,
    dailyUse: (meterId) => {
      const uses = recent(HISTORY_PERIODS).flatMap((s) => usesOf(s, meterId));
      const days = uses.reduce((d, u) => d + (u.closing.at - u.opening.at) / 86_400_000, 0);
      return days >= 1 ? sum(uses.map((u) => new Dec(u.use))).toNumber() / days : undefined;
    },
    consecutiveEstimates: consecutive,
    mayEstimate: (meterId) => consecutive(meterId) < maxConsecutiveEstimates,
  };
}

/** The unit's earlier statements as ledger entries (current charges, late fee, due date). */
export function ledgerOf(past: History, unitId: string): LedgerEntry[] {
  return past.statements
    .filter((s) => s.unitId === unitId)
    .map((s) => ({
      period: s.period,
      company: s.company,
      charges: new Dec(s.currentCharges),
      lateFee: sum(s.lines.filter((l) => l.code === 'late_fee').map((l) => new Dec(l.amount))),
      dueDate: s.dueDate,
    }));
}
