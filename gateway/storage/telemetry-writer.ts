import type { Clock, Timer } from '../clock.ts';
import { describeError } from '../errors.ts';
import type { EventBus, PointValue, SignalState } from '../events.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { down, degraded, ok, type ComponentHealth, type HealthStatus, type Plugin } from '../plugin.ts';
import { stateCode } from '../signals/states.ts';
import { DeadLetterFile } from './dead-letter.ts';
import { StorageMetrics } from './metrics.ts';
import { DiskSpool, MemorySpool, type BatchSpool, type SpoolRecord } from './spool.ts';
import type { Sample, SpoolSettings, TelemetryStore } from './types.ts';

export interface TelemetryWriterOptions {
  store: TelemetryStore;
  events: EventBus;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  /** Samples per store.write; a full batch is written at once. Default 5000. */
  maxBatch?: number;
  /** How often a part-filled batch is written, and the first retry delay. Default 1000 ms. */
  flushMs?: number;
  /** Without a disk spool: points kept in memory while the store is down, oldest batches dropped beyond. Default 200 000. */
  maxBuffered?: number;
  /** The longest wait between retries of a failing store. Default 30 000 ms. */
  maxBackoffMs?: number;
  /** Full batches that may wait in memory for a slow store before further ones go to the spool. Default 4. */
  maxQueuedBatches?: number;
  /** Live batches written at once. Default 2. */
  maxInFlight?: number;
  /** Overrides store.spool (types.ts). */
  spool?: SpoolSettings;
  /** How often store.maintain() rolls up and prunes (embedded store). Default 60 000 ms. */
  maintenanceMs?: number;
}

/**
 * Turns 'meter.values' and 'signal.state' events into telemetry samples and
 * writes them in batches, by size and by time. Telemetry is for trends only
 * (ARCHITECTURE.md), so an unavailable store never stops the hub, and memory
 * stays bounded whatever the store does:
 * - a batch the store cannot take now (network error, 5xx, 429, timeout) goes
 *   to the spool (on disk when configured), and so does everything after it
 *   until the store answers again; retries back off exponentially;
 * - the spool is replayed oldest first once the store is back, between live
 *   batches, which always go first so the dashboards stay current;
 * - a batch the store refuses as invalid (HTTP 400) goes to the dead-letter file.
 */
export class TelemetryWriter implements Plugin {
  readonly name = 'telemetry';
  private readonly maxBatch: number;
  private readonly flushMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxQueued: number;
  private readonly maxInFlight: number;
  private log: Logger;
  private readonly spool: BatchSpool;
  private readonly deadLetter?: DeadLetterFile;
  private readonly storageMetrics: StorageMetrics;

  /** Samples of the batch being filled. */
  private pending: Sample[] = [];
  /** Full batches waiting for the store, at most maxQueued. */
  private queue: Sample[][] = [];
  private timers: Timer[] = [];
  private pumping?: Promise<void>;
  /** Wakes drain() when it waits on writes in flight and a new batch arrives. */
  private wake?: () => void;
  /** The latest append to the spool; the spool runs appends in order, so this settles after all earlier ones. */
  private spooling: Promise<void> = Promise.resolve();
  private phase: 'idle' | 'running' | 'stopped' = 'idle';
  private opened = false;
  private lastError?: string;
  private failures = 0;
  private retryAt = 0;
  private written = 0;
  private dropped = 0;
  private deadLettered = 0;
  /** Source-time range replayed from the spool since it was last empty, for store.backfill(). */
  private replayed?: { from: number; to: number };
  /** The health status last logged: logs record changes of state only. */
  private loggedStatus: HealthStatus = 'ok';

  constructor(private readonly options: TelemetryWriterOptions) {
    this.maxBatch = options.maxBatch ?? 5000;
    this.flushMs = options.flushMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.maxQueued = options.maxQueuedBatches ?? 4;
    this.maxInFlight = options.maxInFlight ?? 2;
    this.log = options.log;
    const spool = options.spool ?? options.store.spool;
    this.spool = spool ? new DiskSpool({ dir: spool.dir, maxBytes: spool.maxBytes }) : new MemorySpool(options.maxBuffered ?? 200_000);
    this.deadLetter = spool ? new DeadLetterFile(spool.deadLetterFile) : undefined;
    this.storageMetrics = StorageMetrics.in(options.metrics.registry);
  }

  async start(): Promise<void> {
    if (this.phase !== 'idle') return;
    this.phase = 'running';
    const { events, clock, store } = this.options;
    this.log = this.options.log.child({ module: 'telemetry', backend: store.backend });
    // The spool first: what a previous run left is replayed before anything is lost.
    await this.spool.open();
    this.storageMetrics.source = { stats: () => this.spool.stats(), now: () => clock.now() };
    const left = this.spool.stats();
    if (left.points) this.log.info({ points: left.points, bytes: left.bytes }, 'telemetry spool from a previous run will be replayed');
    // Subscribe before opening the store: samples that arrive meanwhile are kept, not lost.
    events.on(this.name, 'meter.values', ({ values }) => this.enqueue(values.flatMap(meterSample)));
    events.on(this.name, 'signal.state', (s) => this.enqueue(signalSample(s)));
    await this.tryOpen();
    this.timers.push(clock.setInterval(() => void this.flush(), this.flushMs));
    if (store.maintain) this.timers.push(clock.setInterval(() => void this.maintain(), this.options.maintenanceMs ?? 60_000));
  }

  /** Cuts the part-filled batch and writes (or spools) what can be written now. Never rejects. */
  async flush(): Promise<void> {
    if (this.pending.length) this.submit(this.cut());
    await Promise.all([this.pump(), this.spooling]);
  }

  async stop(): Promise<void> {
    if (this.phase === 'stopped') return;
    const wasRunning = this.phase === 'running';
    this.phase = 'stopped';
    for (const t of this.timers) t.cancel();
    this.options.events.removeOwner(this.name);
    if (!wasRunning) return;
    await Promise.all([this.pumping, this.spooling]);
    // One last try, backoff or not; what the store cannot take stays in the spool for the next start.
    this.retryAt = 0;
    if (this.pending.length) this.queue.push(this.cut());
    await this.pump(true);
    if (this.opened) await this.options.store.close().catch((err) => this.log.warn({ err: describeError(err) }, 'closing the telemetry store failed'));
    this.opened = false;
    await this.spool.close();
    const left = this.spool.stats().points;
    if (left && this.spool instanceof MemorySpool) this.log.warn({ lost: left }, 'telemetry samples not stored at stop');
  }

  /** Points not yet stored: in memory (filling or queued) and in the spool, and the spool's size. For health, tests and benchmarks. */
  backlog(): { memory: number; spooled: number; spoolBytes: number } {
    const spool = this.spool.stats();
    return { memory: this.pending.length + this.queue.reduce((n, b) => n + b.length, 0), spooled: spool.points, spoolBytes: spool.bytes };
  }

  health(): ComponentHealth {
    if (this.phase === 'idle') return down('not started');
    if (this.phase === 'stopped') return down('stopped');
    const { store, clock } = this.options;
    const spool = this.spool.stats();
    const waiting = this.pending.length + this.queue.reduce((n, b) => n + b.length, 0) + spool.points;
    const given = [this.dropped ? `${this.dropped} dropped (spool full)` : '', this.deadLettered ? `${this.deadLettered} dead-lettered` : ''].filter(Boolean);
    const backlog = [`${waiting} points waiting`, spool.bytes ? `spool ${spool.bytes} bytes, oldest ${Math.round((clock.now() - (spool.oldest ?? clock.now())) / 1000)} s` : '', ...given].filter(Boolean).join(', ');
    if (!this.opened) return down(`${store.backend} store not open: ${this.lastError ?? 'opening'}; ${backlog}`);
    if (this.failures > 0) return degraded(`${backlog}, last error: ${this.lastError}`);
    if (spool.points > 0) return degraded(`replaying the spool: ${backlog}`);
    return ok([`${store.backend}: ${this.written} points written`, ...given].join(', '));
  }

  private enqueue(samples: Sample[]): void {
    if (this.phase !== 'running' || samples.length === 0) return;
    for (const s of samples) this.pending.push(s);
    while (this.pending.length >= this.maxBatch) this.submit(this.cut());
  }

  private cut(): Sample[] {
    if (this.pending.length <= this.maxBatch) {
      const batch = this.pending;
      this.pending = [];
      return batch;
    }
    return this.pending.splice(0, this.maxBatch);
  }

  /** A full batch goes to the store when it is up and keeping pace, to the spool otherwise. */
  private submit(batch: Sample[]): void {
    const up = this.opened && this.failures === 0;
    if (up && this.queue.length < this.maxQueued) {
      this.queue.push(batch);
      this.wake?.();
      void this.pump();
    } else {
      this.spooling = this.toSpool(batch);
    }
  }

  private pump(final = false): Promise<void> {
    this.pumping ??= this.drain(final).finally(() => (this.pumping = undefined));
    return this.pumping;
  }

  private async drain(final: boolean): Promise<void> {
    if (this.options.clock.now() < this.retryAt) return;
    if (!this.opened && !(await this.tryOpen())) return this.spoolQueue();
    // Up to maxInFlight live batches at once, so the next batch is encoded while
    // the store works on the last (measured: bench/storage.bench.ts). Spooled
    // batches go one at a time, in order, in the gaps between live ones.
    const inFlight = new Set<Promise<boolean>>();
    let failing = false;
    while ((this.phase === 'running' || final) && !failing) {
      const batch = this.queue.shift();
      if (batch) {
        const sent: Promise<boolean> = this.send(batch).finally(() => inFlight.delete(sent));
        inFlight.add(sent);
        if (inFlight.size >= this.maxInFlight) failing = !(await Promise.race(inFlight));
        continue;
      }
      if (inFlight.size) {
        // Wait for a write to finish or a new batch to arrive, whichever is first.
        const woken = new Promise<boolean>((resolve) => (this.wake = () => resolve(true)));
        failing = !(await Promise.race([...inFlight, woken]));
        this.wake = undefined;
        continue;
      }
      if (final) break; // at stop, the spool waits for the next start
      const record = await this.spool.head();
      if (!record) break;
      failing = !(await this.send(record.samples, record));
    }
    failing = (await Promise.all(inFlight)).includes(false) || failing;
    if (!failing && this.replayed && this.spool.stats().points === 0) await this.backfill();
  }

  /** Writes one batch; false when the store failed and the writer backs off. */
  private async send(batch: Sample[], record?: SpoolRecord): Promise<boolean> {
    const { store, metrics } = this.options;
    try {
      await store.write(batch);
    } catch (err) {
      if ((err as { retryable?: boolean }).retryable === false) {
        await this.toDeadLetter(batch, err);
        if (record) await this.spool.ack(record);
        return true;
      }
      if (!record) await this.toSpool(batch);
      await this.spoolQueue();
      metrics.telemetryErrors.inc({ backend: store.backend });
      this.failed(err);
      return false;
    }
    this.written += batch.length;
    metrics.telemetryWritten.inc({ backend: store.backend }, batch.length);
    if (record) {
      await this.spool.ack(record);
      this.replayed = { from: Math.min(this.replayed?.from ?? Infinity, record.oldest), to: Math.max(this.replayed?.to ?? -Infinity, record.newest) };
    }
    if (this.failures) this.succeeded();
    return true;
  }

  /** Queued batches go to the spool while the store is failing: memory stays bounded. */
  private async spoolQueue(): Promise<void> {
    const queued = this.queue;
    this.queue = [];
    for (const batch of queued) await this.toSpool(batch);
  }

  private async toSpool(batch: Sample[]): Promise<void> {
    try {
      const dropped = await this.spool.append(batch);
      if (dropped) this.countDropped(dropped, 'spool_full');
    } catch (err) {
      // A spool that cannot be written (disk full) loses this batch; say so once per batch.
      this.log.error({ err: describeError(err), points: batch.length }, 'telemetry spool append failed; batch lost');
      this.countDropped(batch.length, 'spool_error');
    }
  }

  private countDropped(points: number, reason: string): void {
    if (this.dropped === 0) this.log.warn({ reason }, 'telemetry spool full; dropping the oldest points');
    this.dropped += points;
    this.storageMetrics.dropped.inc({ reason }, points);
  }

  private async toDeadLetter(batch: Sample[], err: unknown): Promise<void> {
    const error = describeError(err);
    // After a partial write InfluxDB says how many points it refused; the rest are stored.
    const refused = (err as { dropped?: number }).dropped ?? batch.length;
    this.deadLettered += refused;
    this.storageMetrics.deadLettered.inc(refused);
    this.log.error({ err: error, points: batch.length, file: this.deadLetter?.path }, 'telemetry batch refused as invalid; dead-lettered');
    await this.deadLetter?.append(batch, error, this.options.clock.now()).catch((e) => this.log.error({ err: describeError(e) }, 'dead-letter file not written'));
  }

  /** Rolls up what the replay brought in (InfluxDB's continuous queries only look back a little). */
  private async backfill(): Promise<void> {
    const range = this.replayed!;
    this.replayed = undefined;
    await this.options.store.backfill?.(range.from, range.to).catch((err) => this.log.warn({ err: describeError(err), ...range }, 'rollup backfill after replay failed'));
  }

  private async maintain(): Promise<void> {
    if (!this.opened) return;
    await this.options.store.maintain?.(this.options.clock.now()).catch((err) => this.log.warn({ err: describeError(err) }, 'telemetry maintenance failed'));
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
    const status: HealthStatus = !this.opened ? 'down' : this.failures > 0 ? 'degraded' : 'ok';
    if (status === this.loggedStatus) return;
    const { detail } = this.health();
    if (status === 'ok') this.log.info({ detail }, 'telemetry store available again');
    else this.log.error({ detail, retryInMs: this.retryAt - this.options.clock.now() }, `telemetry store ${status}; spooling samples`);
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
