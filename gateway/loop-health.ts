import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Clock, Timer } from './clock.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import { degraded, ok, type ComponentHealth, type Plugin } from './plugin.ts';

// Event-loop delay as a health signal (issue 15). ARCHITECTURE.md "One process, and
// the safety path inside it": no task on the main thread runs longer than about 20 ms;
// event-loop delay is exported in /metrics and turns health degraded when it stays high.
// The alarm path shares this loop, so a loop held for long means late alarms.

/** Health turns degraded when the p99 delay stays above this (issue 15)... */
export const DEGRADED_P99_MS = 50;
/** ...for this long, and back to ok at the first interval at or below it. */
export const DEGRADED_AFTER_MS = 60_000;
/**
 * How often the monitor's samples are read, observed and judged. 5 s at the 10 ms
 * resolution is about 500 samples, so an interval's p99 is its 5 worst samples, not
 * one hiccup; reading them costs about 2 ms of main thread.
 */
export const SAMPLE_INTERVAL_MS = 5_000;
/** Node's default resolution for monitorEventLoopDelay, and prom-client's. */
const RESOLUTION_MS = 10;

/** Where the delays come from: the real monitor in the hub, a scripted one in tests. */
export interface LoopDelaySampler {
  enable(): void;
  disable(): void;
  /** The delay (ms) of every sample taken since the last call. */
  take(): number[];
}

export interface LoopHealthOptions {
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  sampler?: LoopDelaySampler;
}

/**
 * Every SAMPLE_INTERVAL_MS (on the injected clock) it takes the samples of the main
 * thread's event-loop delay, observes each in bohub_event_loop_delay_seconds and
 * judges the interval's p99. Health is degraded once every interval of the last
 * DEGRADED_AFTER_MS had a p99 above DEGRADED_P99_MS.
 */
export class LoopHealth implements Plugin {
  readonly name = 'event-loop';
  private readonly sampler: LoopDelaySampler;
  private timer?: Timer;
  private intervalStart = 0;
  /** The latest judged interval. */
  private latest?: { p99Ms: number; ms: number };
  /** The run of consecutive intervals above the limit, if the latest one was. */
  private high?: { since: number; until: number; lowestP99Ms: number };
  private wasDegraded = false;

  constructor(private readonly options: LoopHealthOptions) {
    this.sampler = options.sampler ?? eventLoopDelaySampler();
  }

  async start(): Promise<void> {
    this.sampler.enable();
    this.intervalStart = this.options.clock.now();
    this.timer = this.options.clock.setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
    this.sampler.disable();
  }

  health(): ComponentHealth {
    const { latest, high } = this;
    if (!latest) return ok('measuring event loop delay');
    if (high && high.until - high.since >= DEGRADED_AFTER_MS)
      return degraded(`event loop delay p99 ${round(high.lowestP99Ms)} ms or more for the last ${Math.round((high.until - high.since) / 1000)} s (limit ${DEGRADED_P99_MS} ms for ${DEGRADED_AFTER_MS / 1000} s)`);
    if (high) return ok(`event loop delay p99 above ${DEGRADED_P99_MS} ms for ${Math.round((high.until - high.since) / 1000)} s (degraded after ${DEGRADED_AFTER_MS / 1000} s)`);
    return ok(`event loop delay p99 ${round(latest.p99Ms)} ms over the last ${Math.round(latest.ms / 1000)} s`);
  }

  private sample(): void {
    const delays = this.sampler.take();
    // No sample at all (the monitor's tick has not fired): the next interval covers this one.
    if (delays.length === 0) return;
    for (const ms of delays) this.options.metrics.eventLoopDelay.observe(ms / 1000);
    const now = this.options.clock.now();
    const p99Ms = p99(delays);
    this.latest = { p99Ms, ms: now - this.intervalStart };
    if (p99Ms > DEGRADED_P99_MS) {
      this.high = { since: this.high?.since ?? this.intervalStart, until: now, lowestP99Ms: Math.min(p99Ms, this.high?.lowestP99Ms ?? Infinity) };
    } else {
      this.high = undefined;
    }
    this.intervalStart = now;
    this.logChange();
  }

  /** Once when it turns degraded, once when it recovers (CONVENTIONS.md habit 3). */
  private logChange(): void {
    const health = this.health();
    const isDegraded = health.status === 'degraded';
    if (isDegraded === this.wasDegraded) return;
    this.wasDegraded = isDegraded;
    if (isDegraded) this.options.log.warn({ module: 'loop-health', detail: health.detail }, 'event loop delay too high: health degraded');
    else this.options.log.info({ module: 'loop-health', detail: health.detail }, 'event loop delay recovered');
  }
}

/**
 * The real sampler: perf_hooks.monitorEventLoopDelay. The monitor keeps an HDR
 * histogram, not its samples, but percentile(100·k/n) is its k-th smallest sample
 * (to 3 significant digits), so take() hands back every sample once, and the
 * Prometheus histogram gets true bucket counts and sum rather than counts guessed
 * from a few percentiles. Each sample is the time between two ticks of a
 * resolution-ms timer, so an idle loop reads about 10 ms (measured: p50 10.15 ms
 * at resolution 10); the resolution is subtracted to leave the delay itself.
 * Blind spot: reset() also forgets the monitor's last tick, so the one gap that spans
 * a take() is not measured: one sample in ~500, but a task that always ran in the same
 * turn as take() would go unseen (found by the test that holds the loop).
 */
export function eventLoopDelaySampler(resolutionMs = RESOLUTION_MS): LoopDelaySampler {
  const monitor = monitorEventLoopDelay({ resolution: resolutionMs });
  return {
    enable: () => void monitor.enable(),
    disable: () => void monitor.disable(),
    take() {
      const n = monitor.count;
      const delays: number[] = [];
      for (let k = 1; k <= n; k++) delays.push(Math.max(0, monitor.percentile((100 * k) / n) / 1e6 - resolutionMs));
      monitor.reset();
      return delays;
    },
  };
}

/** Nearest-rank 99th percentile. */
function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(0.99 * sorted.length) - 1]!;
}

const round = (ms: number) => (ms >= 10 ? Math.round(ms) : Math.round(ms * 10) / 10);
