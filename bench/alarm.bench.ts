// npm run bench -- alarm   (figures and targets: ../shared/BENCHMARKS.md)
// Fire-alarm latency from an MQTT publish to receipt by a socket.io client, through
// the embedded aedes broker, MqttSignals, the alarm engine (records in SQLite, FULL
// sync) and the socket.io server: p50, p99 and max over SAMPLES alarms, idle and with
// background telemetry of >= 10k msg/s published by a separate process
// (bench/servers/telemetry-load.ts) and received by a telemetry subscriber here.
// The hub's parts run in this process, as they do in the hub; the load does not.
import { performance } from 'node:perf_hooks';
import mqtt from 'mqtt';
import { io as connect } from 'socket.io-client';
import { AlarmEngine } from '../gateway/alarms/engine.ts';
import type { AlarmChange } from '../gateway/alarms/types.ts';
import { DEMO_PASSWORDS } from '../gateway/auth/passwords.ts';
import { systemClock } from '../gateway/clock.ts';
import { loadConfig } from '../gateway/config/load.ts';
import { RunbookEngine } from '../gateway/runbooks/engine.ts';
import { EmbeddedBroker } from '../gateway/broker/embedded.ts';
import { MqttSignals } from '../gateway/drivers/mqtt/signals.ts';
import { buildApp } from '../gateway/http/app.ts';
import { silentLogger } from '../gateway/log.ts';
import { signalTopic } from '../gateway/signals/states.ts';
import { SqliteRecordStore } from '../gateway/storage/records.ts';
import { hubTestConfig, tempDir } from '../test/helpers/config.ts';
import { fakeHub } from '../test/helpers/fake-stores.ts';
import { progress, report, startServer, stop } from './lib.ts';

const SAMPLES = 10_000;
const LOAD_RATE = 12_000;
const TARGET_MS = 50;

const config = loadConfig(hubTestConfig(2));
const site = config.building.site.id;
const zones = config.building.signals.fireZones.map((z) => z.id);

// The hub's alarm path, built from its parts.
const hub = fakeHub({ config, clock: systemClock });
const broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0, log: silentLogger });
await broker.start();
const records = SqliteRecordStore.open(tempDir('bohub-bench-alarm-'));
hub.services.records = records;
const engine = new AlarmEngine({ config, records, events: hub.services.events, clock: systemClock, log: silentLogger });
await engine.start();
hub.services.alarms = engine;
// The runbook engine follows every alarm into an incident, after the alarm engine, as in the hub.
const runbooks = new RunbookEngine({ config, records, events: hub.services.events, clock: systemClock, log: silentLogger });
await runbooks.start();
const signals = new MqttSignals({ config, url: () => broker.url(), events: hub.services.events, clock: systemClock, log: silentLogger, metrics: hub.services.metrics });
await signals.start();
const app = await buildApp(hub.services);
const httpUrl = await app.listen({ port: 0, host: '127.0.0.1' });

// The control-room client and the fire panel.
const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'viewer', password: DEMO_PASSWORDS.viewer } });
const socket = connect(httpUrl, { transports: ['websocket'], reconnection: false, auth: { token: login.json().token } });
await new Promise<void>((resolve, reject) => (socket.once('connect', () => resolve()), socket.once('connect_error', reject)));
const panel = await mqtt.connectAsync(broker.url(), { clientId: 'bench-fire-panel' });

let waiting: { zone: string; resolve: (at: number) => void } | undefined;
socket.on('alarm.changed', (c: AlarmChange) => {
  const at = performance.now();
  if (waiting && c.alarm.source === waiting.zone && (c.change === 'raised' || c.change === 'reactivated')) waiting.resolve(at);
});

let seq = 0;
async function measure(label: string, count = SAMPLES): Promise<number[]> {
  const latencies: number[] = [];
  const began = Date.now();
  for (let i = 0; i < count; i++) {
    const zone = zones[i % zones.length]!;
    const received = new Promise<number>((resolve) => (waiting = { zone, resolve }));
    const timeout = new Promise<number>((resolve) => setTimeout(() => resolve(NaN), 5_000));
    const t0 = performance.now();
    await panel.publishAsync(signalTopic(site, zone), JSON.stringify({ state: 'alarm', ts: Date.now(), seq: ++seq }), { qos: 1, retain: true });
    const t1 = await Promise.race([received, timeout]);
    if (Number.isNaN(t1)) throw new Error(`${label}: alarm ${i} on ${zone} not received within 5 s`);
    latencies.push(t1 - t0);
    // Back to normal, so the next alarm on this zone is a new activation.
    await panel.publishAsync(signalTopic(site, zone), JSON.stringify({ state: 'normal', ts: Date.now(), seq: ++seq }), { qos: 1, retain: true });
    if (i % 2000 === 1999) progress(`alarm ${label}: ${i + 1}/${count}`);
  }
  progress(`alarm ${label}: ${count} samples in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  return latencies;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function figures(label: string, latencies: number[], loadRate: number | null): void {
  const s = [...latencies].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 100) / 100;
  const p99 = percentile(s, 99);
  const peer = 'NFPA 72 on-premises budget 10 s';
  report({ bench: 'alarm', figure: `fire_latency_p50_ms_${label}`, value: round(percentile(s, 50)), peer, peer_value: 10_000, ratio: null, target: '-', ok: null });
  report({ bench: 'alarm', figure: `fire_latency_p99_ms_${label}`, value: round(p99), peer, peer_value: 10_000, ratio: null, target: `<=${TARGET_MS}`, ok: p99 <= TARGET_MS });
  report({ bench: 'alarm', figure: `fire_latency_max_ms_${label}`, value: round(s.at(-1)!), peer, peer_value: 10_000, ratio: null, target: '-', ok: null });
  if (loadRate !== null) report({ bench: 'alarm', figure: 'background_telemetry_msg_per_s', value: Math.round(loadRate), peer: 'required load', peer_value: 10_000, ratio: round(loadRate / 10_000), target: '>=10000', ok: loadRate >= 10_000 });
}

try {
  // Warm-up, not reported: JIT, SQLite statements, socket buffers.
  await measure('warm-up', 500);
  progress('alarm: idle');
  figures('idle', await measure('idle'), null);

  // The hub's telemetry subscriber: every message goes through the broker to it.
  const ingest = await mqtt.connectAsync(broker.url(), { clientId: 'bench-telemetry-ingest' });
  let received = 0;
  ingest.on('message', () => received++);
  await ingest.subscribeAsync(`bohub/${site}/telemetry/#`, { qos: 0 });
  const loadSeconds = 120;
  const load = await startServer('telemetry-load', [broker.url(), site, String(LOAD_RATE), String(loadSeconds)], 1);
  await new Promise((r) => setTimeout(r, 1000));
  const before = received;
  const t0 = Date.now();
  progress(`alarm: with background telemetry at ${LOAD_RATE} msg/s from a separate process`);
  const loaded = await measure('loaded');
  const rate = ((received - before) / (Date.now() - t0)) * 1000;
  await stop(load.child);
  await ingest.endAsync(true);
  figures('loaded', loaded, rate);
} finally {
  socket.close();
  await panel.endAsync(true);
  await app.close();
  await signals.stop();
  await runbooks.stop();
  await engine.stop();
  records.close();
  await broker.stop();
}
