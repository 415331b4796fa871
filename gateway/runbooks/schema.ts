import { z } from 'zod';
import { bilingual, id, ROLES } from '../config/primitives.ts';

// The runbook language: one YAML file in config/runbooks/ is one procedure of the
// handbook (第九节 and 第四节). The engine (engine.ts) knows nothing about fire or
// typhoons; everything it does comes from these files. Checks that need only the
// file are here (superRefine, naming the path); checks against the building (duty
// roles, signal ids, states) are in load.ts.

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** "3m", "30m", "2h", "2d", "1w": minutes, hours, calendar days, weeks. */
export const duration = z
  .string()
  .regex(/^\d+[mhdw]$/, 'a duration such as 3m, 30m, 2h, 2d or 1w')
  .transform((s) => Number(s.slice(0, -1)) * UNIT_MS[s.slice(-1) as keyof typeof UNIT_MS]);

/**
 * When a step's deadline counts from:
 *   start       the incident opened
 *   activated   the step itself became active (the default)
 *   stabilised  the incident was marked stabilised
 *   <step id>   that step was completed
 */
const deadlineFrom = z.string().min(1).default('activated');
export const SPECIAL_FROM = ['start', 'activated', 'stabilised'] as const;

const deadline = z
  .object({
    within: duration.optional(),
    /** Counted on the building's working calendar: the end of the office shift on the Nth working day after. */
    workingDays: z.number().int().min(1).max(30).optional(),
    from: deadlineFrom,
  })
  .refine((d) => (d.within === undefined) !== (d.workingDays === undefined), { message: 'a deadline has either `within` or `workingDays`', path: ['within'] });

const choice = z.object({ id, label: bilingual });

/** What completes a step. */
const completion = z.discriminatedUnion('by', [
  /** Someone acting in the step's role says it is done (with an optional note). */
  z.object({ by: z.literal('role') }),
  /** A recorded value, e.g. "people on the phones: 3"; with `min` the step stays open below it. */
  z.object({
    by: z.literal('value'),
    label: bilingual,
    type: z.enum(['number', 'text', 'choice']),
    min: z.number().optional(),
    choices: z.array(choice).min(2).optional(),
  }),
  /** The incident's signals all reach one of these states (e.g. power feeders back "on"). */
  z.object({ by: z.literal('signal'), states: z.array(z.string().min(1)).min(1) }),
  /** Phone calls to the affected units' contacts from the tenant directory, each with its outcome (第九节 六.1). */
  z.object({ by: z.literal('calls') }),
]);

const untilRule = z.string().regex(/^(closed|stabilised|expired|step:[A-Za-z0-9][A-Za-z0-9_.-]*)$/, "'closed', 'stabilised', 'expired' or 'step:<step id>'");

/**
 * Shown on the lobby screens from the moment the step becomes active, until `until`.
 * `{{<step id>}}` in the text is replaced by the value that step recorded (the
 * cause of a power loss, 第九节 五).
 */
const lobbyEffect = z.object({
  text: bilingual,
  /** 1 is the highest; emergencies outrank all planned content (第七节 二). */
  priority: z.number().int().min(1).max(9),
  /** 'tower': the displays of the incident's tower (every display when it has none). */
  screens: z.enum(['tower', 'all']).default('tower'),
  /**
   * When it comes down: 'closed', 'stabilised', 'expired' (the end of what triggered
   * it, e.g. the last day of a holiday), or 'step:<id>' (that step is completed); a
   * list comes down at the first of them.
   */
  until: z.union([untilRule, z.array(untilRule).min(1)]).default('closed').transform((u) => (Array.isArray(u) ? u : [u])),
});

export const runbookStep = z.object({
  id,
  /** A duty role from the building's `duty.roles`. */
  role: id,
  title: bilingual,
  /** The instruction, in the handbook's words. */
  text: bilingual,
  /** What to say to tenants, word for word (the handbook's scripts). */
  script: bilingual.optional(),
  /** Only in working or non-working time, and/or only once the trigger reaches one of `states` (typhoon 4-5). */
  when: z.object({ time: z.enum(['working', 'non-working']).optional(), states: z.array(z.string().min(1)).min(1).optional() }).optional(),
  /**
   * Steps that must be completed first: "<step id>", "<step id>=<choice or value>"
   * (only when that step recorded that value, else this step is skipped), or
   * "@stabilised" (once the incident is stabilised).
   */
  after: z.array(z.string().min(1)).default([]),
  /** "<step id>=<value>" conditions that make the step pointless: it is skipped once one holds (staff sent to the refuge floor no longer man the phones). */
  unless: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*=.+$/, '"<step id>=<value>"')).default([]),
  deadline: deadline.optional(),
  complete: completion.default({ by: 'role' }),
  /** When the deadline passes: who is told, and how often again while it stays open. */
  escalate: z.object({ to: z.array(id).min(1), every: duration.optional() }).optional(),
  /** Roles told when the step becomes active. */
  notify: z.array(id).default([]),
  lobby: lobbyEffect.optional(),
  /**
   * A recurring step (daily weather relays, weekly follow-up visits): once done, the
   * next round opens, due `every` after it was done, until the incident is closed
   * (or stabilised: a relay ends with the all clear).
   */
  repeat: z.object({ every: duration, until: z.enum(['closed', 'stabilised']).default('closed') }).optional(),
});

const manualField = z.object({ id, label: bilingual, required: z.boolean().default(false) });

const signalKind = z.enum(['fire-zone', 'leak', 'power-feeder', 'gas', 'typhoon', 'rainstorm']);

export const runbookTrigger = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('signal'),
    kind: signalKind,
    /** Only these signals; default every signal of the kind. */
    signals: z.array(id).min(1).optional(),
    /** A signal entering one of these states opens an incident, or joins the open one. */
    states: z.array(z.string().min(1)).min(1),
    /** One incident per tower (a fire in B-12F and B-14F), per site (a typhoon), or per signal. */
    groupBy: z.enum(['tower', 'site', 'signal']).default('tower'),
  }),
  /** Started by hand from the dashboard or the API, with the facts to record at the start. */
  z.object({ type: z.literal('manual'), fields: z.array(manualField).default([]) }),
  /** Opens by itself `daysBefore` days before the first day of each named public holiday in the calendar. */
  z.object({ type: z.literal('holiday'), names: z.array(z.string().min(1)).min(1), daysBefore: z.number().int().min(1).max(60) }),
]);

export const runbookSchema = z
  .object({
    id,
    title: bilingual,
    /** The handbook section it follows, e.g. "第九节 一.1". */
    handbook: z.string().min(1),
    /** 1 is the highest; the incident list sorts by it. */
    priority: z.number().int().min(1).max(9),
    trigger: runbookTrigger,
    /** Hub login roles that may start it by hand (every runbook can be started by hand). */
    startRoles: z.array(z.enum(ROLES)).default(['operator', 'supervisor', 'admin']),
    /** 'quiet': stabilised by itself once every signal of the incident is back to its quiet state. */
    stabiliseWhen: z.enum(['manual', 'quiet']).default('manual'),
    /**
     * 'at-open': the working or non-working steps are chosen when the incident opens
     * (a fire). 'follows-time': a long incident (a storm through the night) also gets
     * the other variant's steps when working time begins or ends.
     */
    variant: z.enum(['at-open', 'follows-time']).default('at-open'),
    steps: z.array(runbookStep).min(1),
  })
  .superRefine((rb, ctx) => {
    const ids = new Map<string, number>();
    rb.steps.forEach((s, i) => {
      if (ids.has(s.id)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'id'], message: `duplicate step "${s.id}"` });
      ids.set(s.id, i);
    });
    rb.steps.forEach((s, i) => {
      s.after.forEach((a, j) => {
        const ref = a.startsWith('@') ? undefined : a.split('=')[0]!;
        if (a.startsWith('@') && a !== '@stabilised') ctx.addIssue({ code: 'custom', path: ['steps', i, 'after', j], message: `unknown "${a}"; the only @ condition is @stabilised` });
        else if (ref !== undefined && !ids.has(ref)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'after', j], message: `unknown step "${ref}"` });
      });
      const from = s.deadline?.from;
      if (from && !(SPECIAL_FROM as readonly string[]).includes(from) && !ids.has(from))
        ctx.addIssue({ code: 'custom', path: ['steps', i, 'deadline', 'from'], message: `unknown step "${from}" (or start, activated, stabilised)` });
      for (const until of s.lobby?.until ?? [])
        if (until.startsWith('step:') && !ids.has(until.slice(5))) ctx.addIssue({ code: 'custom', path: ['steps', i, 'lobby', 'until'], message: `unknown step "${until.slice(5)}"` });
      for (const ref of placeholders(s.lobby ? `${s.lobby.text.zh} ${s.lobby.text.en}` : ''))
        if (!ids.has(ref)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'lobby', 'text'], message: `{{${ref}}} names no step` });
      s.unless.forEach((u, j) => {
        if (!ids.has(u.split('=')[0]!)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'unless', j], message: `unknown step "${u.split('=')[0]}"` });
      });
      if (s.complete.by === 'value' && s.complete.type === 'choice' && !s.complete.choices) ctx.addIssue({ code: 'custom', path: ['steps', i, 'complete', 'choices'], message: 'a choice needs its choices' });
      if (s.complete.by === 'signal' && rb.trigger.type !== 'signal') ctx.addIssue({ code: 'custom', path: ['steps', i, 'complete'], message: 'only a signal-triggered runbook has signals to complete a step' });
    });
    const cycle = dependencyCycle(rb.steps);
    if (cycle) ctx.addIssue({ code: 'custom', path: ['steps', ids.get(cycle[0]!)!, cycle.length === 1 ? 'deadline' : 'after'], message: cycle.length === 1 ? `step "${cycle[0]}" has a deadline that depends on itself` : `steps depend on each other in a circle: ${[...cycle, cycle[0]].join(' → ')}` });
  });

export type Runbook = z.infer<typeof runbookSchema>;
export type RunbookStep = Runbook['steps'][number];
export type RunbookTrigger = Runbook['trigger'];
export type StepCompletion = RunbookStep['complete'];

/** The step ids named as `{{<step id>}}` in a text. */
export function placeholders(text: string): string[] {
  return [...text.matchAll(/\{\{([^}]+)\}\}/g)].map((m) => m[1]!);
}

/** The steps a step waits for: its `after` steps and the step its deadline counts from. */
export function dependsOn(step: RunbookStep): string[] {
  const deps = step.after.filter((a) => !a.startsWith('@')).map((a) => a.split('=')[0]!);
  const from = step.deadline?.from;
  if (from && !(SPECIAL_FROM as readonly string[]).includes(from)) deps.push(from);
  return deps;
}

/** A step that waits for itself, directly or through others, can never start: returns the circle, or undefined. */
function dependencyCycle(steps: readonly RunbookStep[]): string[] | undefined {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'visiting') return path.slice(path.indexOf(id));
    const step = byId.get(id);
    if (!step) return undefined;
    state.set(id, 'visiting');
    path.push(id);
    for (const dep of dependsOn(step)) {
      const found = visit(dep);
      if (found) return found;
    }
    path.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const s of steps) {
    const found = visit(s.id);
    if (found) return found;
  }
  return undefined;
}
