import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import { systemClock, type Clock } from '../gateway/clock.ts';
import type { LoadedConfig } from '../gateway/config/load.ts';
import { signalCatalogue } from '../gateway/signals/sources.ts';
import { SIGNAL_STATES } from '../gateway/signals/states.ts';

// The scenario runner (issue 5): plays a YAML scenario, such as
// config/demo/scenarios/night-fire.yaml, against anything that can set a signal
// (the SignalPanelSimulator over MQTT, or a fake in tests), with time acceleration:
// scenario time passes `speedup` times faster on the given clock.

/** What a scenario drives: SignalPanelSimulator has exactly this method. */
export interface SignalPublisher {
  set(signal: string, state: string): Promise<void>;
}

const timeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/, 'a time of day, HH:MM or HH:MM:SS');
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000 } as const;
const duration = z
  .string()
  .regex(/^\d+[smh]$/, 'a duration such as 30s, 5m or 1h')
  .transform((s) => Number(s.slice(0, -1)) * UNIT_MS[s.slice(-1) as keyof typeof UNIT_MS]);

const step = z
  .object({
    at: timeOfDay,
    signal: z.string().min(1),
    state: z.string().min(1),
    /** Hold the state this long, then set `then`. */
    for: duration.optional(),
    then: z.string().min(1).optional(),
    note: z.string().optional(),
  })
  .refine((s) => (s.for === undefined) === (s.then === undefined), { message: '`for` and `then` go together', path: ['then'] });

export const scenarioSchema = z.object({
  name: z.string().min(1),
  /** Scenario time of day when it starts; steps are times of day after it (crossing midnight is allowed). */
  start: timeOfDay,
  steps: z.array(step).min(1),
});

export type Scenario = z.infer<typeof scenarioSchema>;

/** One signal change, at its offset in scenario time from the start. */
export interface TimedChange {
  offsetMs: number;
  signal: string;
  state: string;
  note?: string;
}

/** Reads and validates a scenario file; with a config, also checks its signals and states. Throws naming the step. */
export function loadScenario(file: string, config?: LoadedConfig): Scenario {
  const parsed = scenarioSchema.safeParse(parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${file}: ${issue.path.join('.') || 'scenario'}: ${issue.message}`);
  }
  if (config) checkSignals(parsed.data, config, file);
  return parsed.data;
}

/** The scenario as changes in time order; a `for` step adds its `then` change. */
export function timeline(scenario: Scenario): TimedChange[] {
  const start = secondsOfDay(scenario.start);
  const changes: TimedChange[] = [];
  for (const s of scenario.steps) {
    // A step earlier in the day than the start is on the next day (a night shift).
    const offsetMs = (((secondsOfDay(s.at) - start) % 86_400 + 86_400) % 86_400) * 1000;
    changes.push({ offsetMs, signal: s.signal, state: s.state, ...(s.note ? { note: s.note } : {}) });
    if (s.for !== undefined && s.then) changes.push({ offsetMs: offsetMs + s.for, signal: s.signal, state: s.then });
  }
  // Stable: two changes at the same moment keep their file order.
  return changes.map((c, i) => ({ c, i })).sort((a, b) => a.c.offsetMs - b.c.offsetMs || a.i - b.i).map(({ c }) => c);
}

export interface PlayOptions {
  clock?: Clock;
  /** How many times faster than real time scenario time passes (default 1). */
  speedup?: number;
  /** Called after each change is published. */
  onChange?: (change: TimedChange) => void;
}

/** Plays the scenario: each change is published when its (accelerated) time comes. */
export async function playScenario(scenario: Scenario, publisher: SignalPublisher, options: PlayOptions = {}): Promise<TimedChange[]> {
  const clock = options.clock ?? systemClock;
  const speedup = options.speedup ?? 1;
  if (!(speedup > 0)) throw new Error('speedup must be positive');
  const began = clock.now();
  const played: TimedChange[] = [];
  for (const change of timeline(scenario)) {
    // Waits are measured from the start, so slow publishes do not add up as drift.
    const due = began + change.offsetMs / speedup;
    const wait = due - clock.now();
    if (wait > 0) await new Promise<void>((r) => clock.setTimeout(r, wait));
    await publisher.set(change.signal, change.state);
    played.push(change);
    options.onChange?.(change);
  }
  return played;
}

function checkSignals(scenario: Scenario, config: LoadedConfig, file: string): void {
  const catalogue = signalCatalogue(config.building);
  scenario.steps.forEach((step, i) => {
    const kind = catalogue.get(step.signal)?.kind;
    if (!kind) throw new Error(`${file}: steps.${i}.signal: "${step.signal}" is not a signal of ${config.building.site.id}`);
    const states = SIGNAL_STATES[kind] as readonly string[];
    for (const state of [step.state, step.then].filter((x): x is string => !!x))
      if (!states.includes(state)) throw new Error(`${file}: steps.${i}: "${state}" is not a ${kind} state (${states.join(', ')})`);
  });
}

function secondsOfDay(hhmm: string): number {
  const [h, m, s] = hhmm.split(':').map(Number);
  return h! * 3600 + m! * 60 + (s ?? 0);
}
