import { z } from 'zod';
import { id } from './primitives.ts';

// The alarm system (gateway/alarms): priorities, shelving, on/off delays and chatter as
// ISA-18.2 describes them; shelving as OPC-UA Part 9's ShelvedStateMachine (timed shelve).
// FIRE ALARMS ARE NEVER DELAYED, SHELVED OR SUPPRESSED, and neither are gas alarms
// (handbook 第九节 七: an emergency), so nothing below has a fire or gas delay:
// conditioning exists for leaks and supervisory (loss of communication) only.

const chatter = z.object({
  /** A condition that goes active this many times within windowSeconds is chattering (ISA-18.2 chattering alarm). */
  maxActivations: z.number().int().min(2).default(4),
  windowSeconds: z.number().int().positive().default(60),
});

/** On-delay: the condition must stay active this long before it alarms; off-delay: inactive this long before it clears. */
const conditioning = (onDelaySeconds: number, offDelaySeconds: number) => ({
  onDelaySeconds: z.number().int().min(0).max(600).default(onDelaySeconds),
  offDelaySeconds: z.number().int().min(0).max(3600).default(offDelaySeconds),
  chatter: chatter.prefault({}),
});

/** The building systems that maintenance windows and supervised sources belong to. */
const alarmSystem = z.enum(['fire', 'gas', 'leak', 'power']);

/** 1 is the highest priority. */
const priority = z.number().int().min(1).max(9);

export const alarms = z.object({
  priorities: z
    // A gas leak is an emergency (handbook 第九节 七), next after fire.
    .object({ fire: priority.default(1), gas: priority.default(2), powerLoss: priority.default(3), leak: priority.default(4), trouble: priority.default(5) })
    .superRefine((p, ctx) => {
      // Fire outranks everything (NFPA 72 signal priority: fire alarm signals come first).
      for (const k of ['gas', 'powerLoss', 'leak', 'trouble'] as const)
        if (p[k] <= p.fire) ctx.addIssue({ code: 'custom', path: [k], message: `must be lower than fire's (a larger number than ${p.fire})` });
    })
    .prefault({}),
  /** Leak sensors: a splash is not a flood; a wet sensor must stay wet for the on-delay. */
  leak: z.object(conditioning(5, 30)).prefault({}),
  supervision: z
    .object({
      /** A source not heard from (heartbeat, online, or any of its signals) for this long raises a trouble alarm. */
      heartbeatTimeoutSeconds: z.number().int().min(5).default(90),
      /** How often silence is checked; the worst case to raise is timeout + check interval + on-delay. */
      checkIntervalSeconds: z.number().int().min(1).max(30).default(5),
      /**
       * Sources supervised besides the fire panels named in signals.fireZones (e.g. a
       * leak gateway), with the system whose maintenance window covers them. A source
       * that reports itself online later is supervised from then on.
       */
      sources: z.array(z.object({ id, system: alarmSystem })).default([]),
      ...conditioning(0, 30),
    })
    .superRefine((s, ctx) => {
      // GB 50166 (issue 5): a fault is displayed within 100 s.
      const worst = s.heartbeatTimeoutSeconds + s.checkIntervalSeconds + s.onDelaySeconds;
      if (worst > 100) ctx.addIssue({ code: 'custom', path: ['heartbeatTimeoutSeconds'], message: `timeout + check interval + on-delay is ${worst} s; loss of communication must raise trouble within 100 s (GB 50166)` });
    })
    .prefault({}),
  /** The longest an operator may shelve an alarm (ISA-18.2: shelving is time-limited). */
  maxShelveMinutes: z.number().int().positive().default(8 * 60),
  /** Planned work per system: notifications of that system are silenced; alarms are still recorded and flagged. */
  maintenanceWindows: z
    .array(
      z
        .object({
          id,
          system: alarmSystem,
          from: z.iso.datetime({ offset: true }),
          to: z.iso.datetime({ offset: true }),
          reason: z.string().min(1),
        })
        .refine((w) => Date.parse(w.from) < Date.parse(w.to), { message: 'from must be before to', path: ['to'] }),
    )
    .default([]),
});
