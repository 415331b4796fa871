import type { TenancyEvent } from './types.ts';

// Who occupied a unit when (handbook 第三节: move-in 入伙 and move-out 迁出).
// The building file names the current tenant; recorded move-ins and move-outs
// say when occupancy changed. A spell is one company's stay, [from, to).

export interface Occupant {
  company: string;
  occupancy: 'owner' | 'tenant';
}

export interface Spell extends Occupant {
  from: number;
  to: number;
}

/**
 * The occupied spells of one unit that overlap [from, to), clipped to it.
 * Before the first recorded event the unit is as the building file says, unless
 * that event is a move-in (then it was empty) or a move-out (then the company
 * moving out was there).
 */
export function occupiedSpells(events: readonly TenancyEvent[], configured: Occupant | undefined, from: number, to: number): Spell[] {
  const sorted = [...events].sort((a, b) => a.at - b.at || a.id - b.id);
  const first = sorted[0];
  let current: Occupant | undefined = !first ? configured : first.kind === 'move_out' ? { company: first.company, occupancy: first.occupancy } : undefined;
  let since = Number.NEGATIVE_INFINITY;
  const spells: Spell[] = [];
  const close = (at: number) => {
    if (current && at > from && since < to) spells.push({ ...current, from: Math.max(since, from), to: Math.min(at, to) });
  };
  for (const e of sorted) {
    if (e.kind === 'move_out') {
      close(e.at);
      current = undefined;
    } else {
      close(e.at);
      current = { company: e.company, occupancy: e.occupancy };
    }
    since = e.at;
  }
  close(Number.POSITIVE_INFINITY);
  return spells.filter((s) => s.to > s.from);
}
