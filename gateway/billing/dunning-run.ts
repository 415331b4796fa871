import { DateTime } from 'luxon';
import type { BuildingConfig } from '../config/schema.ts';
import { billingPeriod, localDate, previousPeriodId } from './calendar.ts';
import { history, ledgerOf } from './history.ts';
import { unpaidOn, type LedgerPayment } from './ledger.ts';
import { Dec, formatMoney, sum } from './money.ts';
import { dunningLists, type DunningList, type UnitArrears } from './outputs/dunning.ts';
import type { BillingService } from './service.ts';
import { occupiedSpells } from './tenancy.ts';

// The dunning calendar (handbook 第三节 费用催缴规程): on the 5th the arrears list for
// security, on the 18th the phone list, on the 23rd the letters, at month end the
// suspension list for the director. Each list is worked out from the arrears on
// its own date and kept as a task with a state.

/** The period's dunning lists with arrears as of the local date `date` (payments up to its end). */
export function dunningFor(service: BillingService, building: BuildingConfig, period: string, date: string): DunningList[] {
  const tz = building.site.timezone;
  const p = billingPeriod(period, building.billing, tz);
  const endOfDate = DateTime.fromISO(date, { zone: tz }).plus({ days: 1 }).toMillis();
  const nextPeriod = DateTime.fromISO(`${period}-01`, { zone: 'UTC' }).plus({ months: 1 }).toFormat('yyyy-MM');
  const past = history(nextPeriod, service.repo, building.billing.maxConsecutiveEstimates);
  const payments = service.repo.payments({ until: endOfDate - 1 });
  const events = service.repo.tenancyEvents();
  const arrears: UnitArrears[] = [];
  for (const unit of building.towers.flatMap((t) => t.floors.flatMap((f) => f.units))) {
    const entries = ledgerOf(past, unit.id);
    if (entries.length === 0) continue;
    const paid: LedgerPayment[] = payments.filter((x) => x.unitId === unit.id).map((x) => ({ date: localDate(x.paidAt, tz), amount: new Dec(x.amount) }));
    const unpaid = unpaidOn(entries, paid, date).filter((u) => u.unpaid.gt(0) && u.entry.dueDate <= date);
    const latest = past.statements.filter((s) => s.unitId === unit.id).at(-1)!;
    const own = events.filter((e) => e.unitId === unit.id);
    const configured = unit.tenant && { company: unit.tenant.company, occupancy: unit.tenant.occupancy };
    const vacant = occupiedSpells(own, configured, endOfDate - 1, endOfDate).length === 0;
    arrears.push({
      unitId: unit.id, company: latest.company, occupancy: latest.occupancy, vacant,
      unpaid: unpaid.map((u) => ({ period: u.entry.period, total: formatMoney(u.entry.charges), unpaid: formatMoney(u.unpaid), dueDate: u.entry.dueDate })),
      contacts: unit.tenant ? [...unit.tenant.contacts.office, ...unit.tenant.contacts.afterHours] : [],
      balance: formatMoney(sum(unpaid.map((u) => u.unpaid))),
    });
  }
  return dunningLists(p, arrears);
}

/**
 * Opens the lists of last month's period whose date has come: each once, as a
 * task ('pending_approval' for the suspension list, which the director approves).
 */
export async function scheduleDunning(service: BillingService, building: BuildingConfig, now: number): Promise<DunningList[]> {
  const tz = building.site.timezone;
  const today = localDate(now, tz);
  const period = previousPeriodId(today.slice(0, 7));
  if (!service.repo.latestRunMeta(period)) return [];
  const existing = new Set(service.repo.tasks(period).map((t) => t.list));
  // Which lists are due follows from the calendar alone (no arrears needed): the
  // hub asks every minute, and on most minutes the answer is none (issue 15).
  const isDue = (l: { id: string; date: string }) => l.date <= today && !existing.has(l.id);
  if (!dunningLists(billingPeriod(period, building.billing, tz), []).some(isDue)) return [];
  // Working out the arrears reads every unit's ledger: in a worker in the hub (work.ts).
  const due = (await service.work.dunning(period, today)).filter(isDue);
  for (const list of due) service.repo.upsertTask({ period, list: list.id, dueDate: list.date, state: list.needsApproval ? 'pending_approval' : 'open', doc: list }, 'system');
  return due;
}
