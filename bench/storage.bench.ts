// npm run bench -- storage   (figures and targets: ../shared/BENCHMARKS.md)
//  1. points/s into a local influxd: (a) TelemetryWriter vs (c) raw line protocol POSTed in 5,000-point batches
//  2. the same (a) vs (b) the `influx` package's writePoints called naively, one meter's poll (10 points) per call
//  3. p99 batch latency of the writer at a steady 10,000 points/s
//  4. an InfluxDB outage at 5,000 points/s: peak RSS (flat?), peak spool, points lost after recovery
//     (duration: --outage-s=N or BOHUB_BENCH_OUTAGE_S, default 600 s as in the issue)
//  5. points/s into the embedded (SQLite) store
// influxd (the system under test's server) is its own process; the load is generated here.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfluxDB } from 'influx';
import { systemClock } from '../gateway/clock.ts';
import { EventBus, type PointValue } from '../gateway/events.ts';
import { silentLogger } from '../gateway/log.ts';
import { Metrics } from '../gateway/metrics.ts';
import { encodeBatch } from '../gateway/storage/line-protocol.ts';
import { InfluxHttp } from '../gateway/storage/influx-http.ts';
import { InfluxTelemetryStore } from '../gateway/storage/telemetry-influx.ts';
import { SqliteTelemetryStore } from '../gateway/storage/telemetry-sqlite.ts';
import { TelemetryWriter } from '../gateway/storage/telemetry-writer.ts';
import type { RangeQuery, Sample, Series, TelemetryStore } from '../gateway/storage/types.ts';
import { startInfluxd, type Influxd } from '../test/helpers/influxd.ts';
import { hasProgram, median, progress, report } from './lib.ts';

const ROUNDS = 3;
const ROUND_MS = 4000;
const BATCH = 5000;
const LONG = { rawDays: 3650, rollup1mDays: 3650, rollup1hDays: 3650 };
const outageArg = process.argv.find((a) => a.startsWith('--outage-s='))?.split('=')[1];
const OUTAGE_S = Number(outageArg ?? process.env.BOHUB_BENCH_OUTAGE_S ?? 600);

/** 1,000 meters x 5 points: each call yields the next `n` points, every one a new time. */
let clockMs = Date.now() - 30 * 86_400_000;
function nextPoints(n: number): PointValue[] {
  const out: PointValue[] = [];
  for (let i = 0; i < n; i++) {
    const k = clockMs++;
    out.push({ device: `M-${k % 1000}`, point: `p${Math.floor(k / 1000) % 5}`, value: (k % 100_000) / 10, unit: 'kWh', quality: 'good', sourceTime: k });
  }
  return out;
}
const asSamples = (values: PointValue[]): Sample[] => values.map((v) => ({ measurement: 'meter', tags: { device: v.device, point: v.point }, value: v.value!, quality: v.quality, time: v.sourceTime }));

/** Wraps a store to count points and time each batch. */
class TimedStore implements TelemetryStore {
  readonly backend;
  points = 0;
  latencies: number[] = [];
  constructor(readonly inner: TelemetryStore) {
    this.backend = inner.backend;
  }
  get spool() {
    return this.inner.spool;
  }
  open = () => this.inner.open();
  async write(batch: Sample[]) {
    const t = performance.now();
    await this.inner.write(batch);
    this.latencies.push(performance.now() - t);
    this.points += batch.length;
  }
  query = (q: RangeQuery): Promise<Series[]> => this.inner.query(q);
  close = () => this.inner.close();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const figure = (figure: string, value: number, peer: string, peer_value: number | null, target: string, ok: boolean | null) =>
  report({ bench: 'storage', figure, value: Math.round(value * 100) / 100, peer, peer_value: peer_value === null ? null : Math.round(peer_value * 100) / 100, ratio: peer_value ? Math.round((value / peer_value) * 1000) / 1000 : null, target, ok });

if (!hasProgram('influxd')) {
  progress('storage: influxd not found; install the Debian package influxdb');
  for (const f of ['points_per_s_vs_raw', 'points_per_s_vs_influx_package', 'p99_batch_ms_at_10k', 'outage_peak_rss_mb']) figure(f, 0, '', null, '', null);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'bohub-bench-storage-'));
  const server = await startInfluxd('influxd');
  try {
    await throughput(server, dir);
    await latencyAt10k(server, dir);
    await embedded(dir);
    await outage(server, dir);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function makeWriter(store: TelemetryStore, events: EventBus, dataDir: string) {
  return new TelemetryWriter({ store, events, clock: systemClock, log: silentLogger, metrics: new Metrics(), spool: { dir: join(dataDir, `spool-${clockMs}`), maxBytes: 256 << 20, deadLetterFile: join(dataDir, 'dead.lp') } });
}

/** (a) the writer fed through the event bus as the drivers feed it, paced by its own backlog so nothing is spooled. */
async function writerRound(url: string, dataDir: string): Promise<number> {
  const store = new TimedStore(new InfluxTelemetryStore({ url, database: 'bench_a', retention: LONG }));
  const events = new EventBus();
  const writer = makeWriter(store, events, dataDir);
  await writer.start();
  // Generated before the clock starts, as (c)'s bodies are: the load generator's cost is not the writer's.
  const polls = Array.from({ length: 600 }, () => nextPoints(1000));
  const t0 = performance.now();
  while (performance.now() - t0 < ROUND_MS && polls.length) {
    if (writer.backlog().memory < 2 * BATCH) events.emit('meter.values', { device: 'bench', values: polls.pop()! });
    else await sleep(1);
  }
  await writer.flush();
  const elapsed = (performance.now() - t0) / 1000;
  await writer.stop();
  return store.points / elapsed;
}

/** (c) pre-serialised 5,000-point bodies POSTed one after another. */
async function rawRound(url: string): Promise<number> {
  const http = new InfluxHttp({ url, database: 'bench_a' });
  const bodies = Array.from({ length: 40 }, () => encodeBatch(asSamples(nextPoints(BATCH))));
  let points = 0;
  const t0 = performance.now();
  for (const body of bodies) {
    if (performance.now() - t0 >= ROUND_MS) break;
    await http.write(body, 'bohub_raw');
    points += BATCH;
  }
  return points / ((performance.now() - t0) / 1000);
}

/** (b) the influx package as a naive user calls it: one writePoints per meter poll (10 points). */
async function naiveRound(client: InfluxDB): Promise<number> {
  let points = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ROUND_MS) {
    const batch = nextPoints(10).map((v) => ({ measurement: 'meter', tags: { device: v.device, point: v.point }, fields: { value: v.value!, q: 'good' }, timestamp: v.sourceTime }));
    await client.writePoints(batch, { precision: 'ms', retentionPolicy: 'bohub_raw' });
    points += batch.length;
  }
  return points / ((performance.now() - t0) / 1000);
}

async function throughput(server: Influxd, dataDir: string): Promise<void> {
  const setup = new InfluxTelemetryStore({ url: server.url, database: 'bench_a', retention: LONG });
  await setup.open();
  const client = new InfluxDB({ host: '127.0.0.1', port: server.port, database: 'bench_a' });
  const a: number[] = [];
  const b: number[] = [];
  const c: number[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    a.push(await writerRound(server.url, dataDir));
    c.push(await rawRound(server.url));
    b.push(await naiveRound(client));
    progress(`storage: round ${r}/${ROUNDS}: writer ${Math.round(a.at(-1)!)} points/s, raw 5k batches ${Math.round(c.at(-1)!)}, influx naive ${Math.round(b.at(-1)!)}`);
  }
  const [ma, mb, mc] = [median(a), median(b), median(c)];
  figure('points_per_s_vs_raw', ma, 'raw line protocol, 5,000-point POSTs', mc, '>=0.8', ma / mc >= 0.8);
  figure('points_per_s_vs_influx_package', ma, 'influx writePoints, 10 points per call', mb, '>=3', ma / mb >= 3);
}

/** The writer fed 1,000 points every 100 ms for 10 s; p99 of store.write per batch. */
async function latencyAt10k(server: Influxd, dataDir: string): Promise<void> {
  const rounds: number[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const store = new TimedStore(new InfluxTelemetryStore({ url: server.url, database: 'bench_lat', retention: LONG }));
    const events = new EventBus();
    const writer = makeWriter(store, events, dataDir);
    await writer.start();
    for (let i = 0; i < 100; i++) {
      events.emit('meter.values', { device: 'bench', values: nextPoints(1000) });
      await sleep(100);
    }
    await writer.stop();
    const sorted = [...store.latencies].sort((x, y) => x - y);
    rounds.push(sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? 0);
    progress(`storage: 10k points/s round ${r}: ${sorted.length} batches, p99 ${rounds.at(-1)!.toFixed(1)} ms`);
  }
  figure('p99_batch_ms_at_10k_points_per_s', median(rounds), '', null, 'report', null);
}

async function embedded(dataDir: string): Promise<void> {
  const rounds: number[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const store = new SqliteTelemetryStore(join(dataDir, `embedded-${r}`));
    await store.open();
    let points = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < ROUND_MS) {
      await store.write(asSamples(nextPoints(BATCH)));
      points += BATCH;
    }
    rounds.push(points / ((performance.now() - t0) / 1000));
    await store.close();
  }
  progress(`storage: embedded ${rounds.map(Math.round).join(', ')} points/s`);
  figure('embedded_points_per_s', median(rounds), '', null, 'report', null);
}

/** influxd down for OUTAGE_S at 5,000 points/s: memory must stay flat (the spool is on disk), nothing lost after recovery. */
async function outage(server: Influxd, dataDir: string): Promise<void> {
  const store = new TimedStore(new InfluxTelemetryStore({ url: server.url, database: 'bench_outage', retention: LONG }));
  const events = new EventBus();
  const writer = makeWriter(store, events, dataDir);
  await writer.start();
  const firstTime = clockMs;
  let sent = 0;
  const feed = setInterval(() => {
    events.emit('meter.values', { device: 'bench', values: nextPoints(500) });
    sent += 500;
  }, 100);
  await sleep(2000);
  await server.kill();
  progress(`storage: influxd killed; outage of ${OUTAGE_S} s at 5,000 points/s`);
  const rss: number[] = [];
  let peakSpool = 0;
  const t0 = Date.now();
  while (Date.now() - t0 < OUTAGE_S * 1000) {
    await sleep(1000);
    rss.push(process.memoryUsage().rss);
    peakSpool = Math.max(peakSpool, writer.backlog().spoolBytes);
    if (rss.length % 30 === 0) progress(`storage: outage ${rss.length} s, rss ${(rss.at(-1)! / 2 ** 20).toFixed(0)} MB, spool ${(peakSpool / 2 ** 20).toFixed(0)} MB`);
  }
  await server.restart();
  await sleep(2000);
  clearInterval(feed);
  const t1 = Date.now();
  while (Date.now() - t1 < 15 * 60_000) {
    await writer.flush();
    const b = writer.backlog();
    if (b.memory === 0 && b.spooled === 0) break;
    await sleep(200);
  }
  progress(`storage: recovered; spool replayed in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  await writer.stop();
  const http = new InfluxHttp({ url: server.url, database: 'bench_outage' });
  const [count] = await http.query(`SELECT count("value") FROM "bohub_raw"."meter" WHERE time >= ${firstTime}ms`);
  const stored = Number(count?.values?.[0]?.[1] ?? 0);
  // Flat: the last quarter of the outage holds no more memory than 32 MB above the first quarter.
  const quarter = Math.max(1, Math.floor(rss.length / 4));
  const early = Math.max(...rss.slice(0, quarter));
  const late = Math.max(...rss.slice(-quarter));
  const peakMb = Math.max(...rss) / 2 ** 20;
  figure('outage_peak_rss_mb', peakMb, 'rss in the first quarter of the outage', early / 2 ** 20, 'flat (late quarter <= first quarter + 32 MB)', late - early <= 32 * 2 ** 20);
  figure('outage_peak_spool_mb', peakSpool / 2 ** 20, '', null, 'report', null);
  figure('outage_points_lost', sent - stored, `${sent} sent`, null, '0', sent === stored);
}
