import type { WorkingCalendar } from './calendar.ts';
import { addSteps, dueEscalations, nextWake, takeDownLobby, type StepContext } from './steps.ts';
import type { EscalationRecord, Incident, TimeVariant } from './types.ts';

// What time does to an incident, besides its own steps' deadlines: working time
// beginning or ending for a runbook whose steps follow it (a storm through the night
// gets its working-time steps at 08:30), and the end of what triggered it (a holiday's
// notices come down when the holiday is over, 第七节 二: expired information comes down).

export interface TimeEffects {
  escalations: EscalationRecord[];
  /** Set when the incident moved into the other variant and got its steps. */
  variant?: TimeVariant;
  /** Lobby messages taken down because the incident's trigger ended. */
  expired: number;
}

/** The next moment time changes something in the incident, if any. */
export function wakeAt(incident: Incident, ctx: StepContext, calendar: WorkingCalendar, now: number): number | undefined {
  const times = [nextWake(incident)];
  if (ctx.runbook.variant === 'follows-time') times.push(calendar.nextChange(now));
  if (incident.expiresAt !== undefined && incident.lobby.some((m) => m.until === undefined)) times.push(incident.expiresAt);
  const defined = times.filter((t): t is number => t !== undefined);
  return defined.length ? Math.min(...defined) : undefined;
}

/** Applies everything due by `now`: escalations, a change of working time, expiry. */
export function applyTime(incident: Incident, ctx: StepContext, calendar: WorkingCalendar, now: number): TimeEffects {
  const effects: TimeEffects = { escalations: dueEscalations(incident, ctx, now), expired: 0 };
  const variant = calendar.variantAt(now);
  if (ctx.runbook.variant === 'follows-time' && variant !== incident.variant) {
    incident.variant = variant;
    addSteps(incident, ctx);
    effects.variant = variant;
  }
  if (incident.expiresAt !== undefined && incident.expiresAt <= now) effects.expired = takeDownLobby(incident, ctx, (rule) => rule === 'expired', now);
  return effects;
}
