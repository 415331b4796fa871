import type { Clock, Timer } from '../clock.ts';
import { describeError } from '../errors.ts';
import type { EventBus, PointValue, SignalState } from '../events.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { down, degraded, ok, type ComponentHealth, type HealthStatus, type Plugin } from '../plugin.ts';
import { stateCode } from '../signals/states.ts';
import type { Sample, TelemetryStore } from './types.ts';

export interface TelemetryWriterOptions {
  store: TelemetryStore;
  events: EventBus;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  /** Samples per store.write; a full batch is written at once. Default 5000. */
  maxBatch?: number;
  /** How often buffered samples are written, and the first retry delay. Default 1000 ms. */
  flushMs?: number;
  /** Samples kept while the store is unavailable; beyond this the oldest are dropped. Default 200 000. */
  maxBuffered?: number;
  /** The longest wait between retries of a failing store. Default 30 000 ms. */
  maxBackoffMs?: number;
}

/**
 * Turns 'meter.values' and 'signal.state' events into telemetry samples and
 * writes them in batches (by size and by time). Telemetry is for trends only
 * (ARCHITECTURE.md), so an unavailable store never stops the hub: samples wait
 * in a bounded queue, and open/write are retried with exponential backoff.
 */
export class TelemetryWriter implements Plugin {
  readonly name = 'telemetry';
  private readonly maxBatch: number;
  private readonly flushMs: number;
  private readonly maxBuffered: number;
  private readonly maxBackoffMs: number;
  private log: Logger;

  private buffer: Sample[] = [];
  private timer?: Timer;
  private flushing?: Promise<void>;
  private phase: 'idle' | 'running' | 'stopped' = 'idle';
  private opened = false;
  private lastError?: string;
  private failures = 0;
  private retryAt = 0;
  private dropped = 0;
  private written = 0;
  /** The health status last logged: logs record changes of state only. */
  private loggedStatus: HealthStatus = 'ok';

  constructor(private readonly options: TelemetryWriterOptions) {
    this.maxBatch = options.maxBatch ?? 5000;
    this.flushMs = options.flushMs ?? 1000;
    this.maxBuffered = options.maxBuffered ?? 200_000;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.log = options.log;
  }

  async start(): Promise<void> {
    if (this.phase !== 'idle') return;
    this.phase = 'running';
    const { events, clock, store } = this.options;
    this.log = this.options.log.child({ module: 'telemetry', backend: store.backend });
    // Subscribe first: samples that arrive while the store opens are buffered, not lost.
    events.on(this.name, 'meter.values', ({ values }) => this.enqueue(values.flatMap(meterSample)));
    events.on(this.name, 'signal.state', (s) => this.enqueue(signalSample(s)));
    await this.tryOpen();
    this.timer = clock.setInterval(() => void this.flush(), this.flushMs);
  }

  /** Writes what is buffered, unless the store is in backoff. Never rejects. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  async stop(): Promise<void> {
    if (this.phase === 'stopped') return;
    const wasRunning = this.phase === 'running';
    this.phase = 'stopped';
    this.timer?.cancel();
    this.options.events.removeOwner(this.name);
    if (!wasRunning) return;
    await this.flushing;
    if (this.opened) {
      // One last try, backoff or not: stopping is the last chance for these samples.
      this.retryAt = 0;
      await this.drain();
      await this.options.store.close().catch((err) => this.log.warn({ err: describeError(err) }, 'closing the telemetry store failed'));
      this.opened = false;
    }
    if (this.buffer.length > 0) this.log.warn({ lost: this.buffer.length }, 'telemetry samples not stored at stop');
  }

  health(): ComponentHealth {
    if (this.phase === 'idle') return down('not started');
    if (this.phase === 'stopped') return down('stopped');
    const waiting = `${this.buffer.length} points waiting${this.dropped ? `, ${this.dropped} dropped (queue full)` : ''}`;
    if (!this.opened) return down(`${this.options.store.backend} store not open: ${this.lastError ?? 'opening'}; ${waiting}`);
    if (this.failures > 0) return degraded(`${waiting}, last error: ${this.lastError}`);
    return ok(`${this.options.store.backend}: ${this.written} points written${this.dropped ? `, ${this.dropped} dropped` : ''}`);
  }

  private enqueue(samples: Sample[]): void {
    if (this.phase !== 'running' || samples.length === 0) return;
    this.buffer.push(...samples);
    const excess = this.buffer.length - this.maxBuffered;
    if (excess > 0) {
      // Keep the newest: after an outage the recent trend matters more than the old.
      this.buffer.splice(0, excess);
      if (this.dropped === 0) this.log.warn({ maxBuffered: this.maxBuffered }, 'telemetry queue full; dropping the oldest samples');
      this.dropped += excess;
    }
    if (this.buffer.length >= this.maxBatch) void this.flush();
  }

  private async drain(): Promise<void> {
    if (this.options.clock.now() < this.retryAt) return;
    if (!this.opened && !(await this.tryOpen())) return;
    const { store, metrics } = this.options;
    while (this.buffer.length > 0) {
      // Taken out while in flight, so overflow trimming never touches these.
      const batch = this.buffer.splice(0, this.maxBatch);
      try {
        await store.write(batch);
      } catch (err) {
        this.buffer = batch.concat(this.buffer).slice(-this.maxBuffered);
        metrics.telemetryErrors.inc({ backend: store.backend });
        this.failed(err);
        return;
      }
      this.written += batch.length;
      metrics.telemetryWritten.inc({ backend: store.backend }, batch.length);
      this.succeeded();
    }
  }

  private async tryOpen(): Promise<boolean> {
    try {
      await this.options.store.open();
      this.opened = true;
      this.succeeded();
      return true;
    } catch (err) {
      this.failed(err);
      return false;
    }
  }

  private failed(err: unknown): void {
    this.lastError = describeError(err);
    this.failures += 1;
    const backoff = Math.min(this.maxBackoffMs, this.flushMs * 2 ** (this.failures - 1));
    this.retryAt = this.options.clock.now() + backoff;
    this.logChange();
  }

  private succeeded(): void {
    this.failures = 0;
    this.retryAt = 0;
    this.logChange();
  }

  /** "Log when unavailable" (Home Assistant modbus): once on failing, once on recovery. */
  private logChange(): void {
    const { status, detail } = this.health();
    if (status === this.loggedStatus) return;
    if (status === 'ok') this.log.info({ detail }, 'telemetry store available again');
    else this.log.error({ detail, retryInMs: this.retryAt - this.options.clock.now() }, `telemetry store ${status}; buffering samples`);
    this.loggedStatus = status;
  }
}

function meterSample(v: PointValue): Sample[] {
  // null is "no value" (failed read, NaN); neither store can hold it as a number.
  if (v.value === null || !Number.isFinite(v.value)) return [];
  return [{ measurement: 'meter', tags: { device: v.device, point: v.point }, value: v.value, quality: v.quality, time: v.sourceTime }];
}

function signalSample(s: SignalState): Sample[] {
  // States are trended as numeric codes, 0 the quiet state (signals/states.ts).
  const code = stateCode(s.kind, s.state);
  if (code < 0) return [];
  return [{ measurement: 'signal', tags: { signal: s.signal, kind: s.kind }, value: code, quality: 'good', time: s.sourceTime }];
}
