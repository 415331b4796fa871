// npm run bench -- ingest   (BENCHMARKS.md: telemetry msg/s through the embedded
// broker into storage, against the same pipeline through Mosquitto; report the ratio)
//
// The pipeline is the hub's: an MQTT subscriber decodes each telemetry message into
// a point value on the event bus, and the TelemetryWriter batches it into the
// embedded SQLite store. Only the broker differs: aedes inside this process, as
// `npm start` runs it, or Mosquitto as its own process. A separate process
// (bench/servers/telemetry-load.ts) publishes faster than either can take.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { EmbeddedBroker } from '../gateway/broker/embedded.ts';
import { systemClock } from '../gateway/clock.ts';
import { EventBus } from '../gateway/events.ts';
import { silentLogger } from '../gateway/log.ts';
import { Metrics } from '../gateway/metrics.ts';
import { SqliteTelemetryStore } from '../gateway/storage/telemetry-sqlite.ts';
import { TelemetryWriter } from '../gateway/storage/telemetry-writer.ts';
import { startMosquitto } from '../test/helpers/mosquitto.ts';
import { hasProgram, median, progress, report, startServer, stop } from './lib.ts';

const ROUNDS = 3;
const SECONDS = 8;
const OFFERED_RATE = 40_000;
const SITE = 'bench';

const mosquitto = ['mosquitto', '/usr/sbin/mosquitto'].find((p) => hasProgram(p));
const embedded: number[] = [];
const external: number[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  embedded.push(await throughEmbedded());
  if (mosquitto) external.push(await throughMosquitto(mosquitto));
  progress(`ingest: round ${round}: embedded ${Math.round(embedded.at(-1)!)} msg/s${mosquitto ? `, mosquitto ${Math.round(external.at(-1)!)} msg/s` : ''}`);
}
const ours = median(embedded);
const peer = mosquitto ? median(external) : null;
if (!mosquitto) progress('ingest: the Mosquitto figure needs the Debian package mosquitto');
report({ bench: 'ingest', figure: 'telemetry_msg_per_s_into_storage', value: Math.round(ours), peer: 'same pipeline through Mosquitto', peer_value: peer === null ? null : Math.round(peer), ratio: peer ? Math.round((ours / peer) * 1000) / 1000 : null, target: 'report, aim >=1.0', ok: peer ? ours / peer >= 1 : null });

async function throughEmbedded(): Promise<number> {
  const broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0, log: silentLogger });
  await broker.start();
  try {
    return await pipeline(broker.url());
  } finally {
    await broker.stop();
  }
}

async function throughMosquitto(program: string): Promise<number> {
  const broker = await startMosquitto(program);
  try {
    return await pipeline(broker.url);
  } finally {
    await broker.stop();
  }
}

/** Messages stored per second while the load generator offers more than the pipeline takes. */
async function pipeline(url: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bohub-bench-ingest-'));
  const events = new EventBus();
  const metrics = new Metrics();
  const store = new SqliteTelemetryStore(dir);
  const writer = new TelemetryWriter({ store, events, clock: systemClock, log: silentLogger, metrics });
  await writer.start();
  const subscriber = await mqtt.connectAsync(url, { clientId: 'bench-ingest' });
  subscriber.on('message', (topic, payload) => {
    const { point, value, ts } = JSON.parse(payload.toString()) as { point: string; value: number; ts: number };
    const device = topic.slice(topic.lastIndexOf('/') + 1);
    events.emit('meter.values', { device, values: [{ device, point, value, unit: 'kW', quality: 'good', sourceTime: ts }] });
  });
  await subscriber.subscribeAsync(`bohub/${SITE}/telemetry/#`, { qos: 0 });
  const load = await startServer('telemetry-load', [url, SITE, String(OFFERED_RATE), String(SECONDS)], 1);
  const stored = async () => (await metrics.telemetryWritten.get()).values.reduce((n, v) => n + v.value, 0);
  // Measure the middle of the run: skip the first second's warm-up.
  await new Promise((r) => setTimeout(r, 1000));
  const from = await stored();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, (SECONDS - 2) * 1000));
  await writer.flush();
  const rate = ((await stored()) - from) / ((performance.now() - t0) / 1000);
  await stop(load.child);
  await subscriber.endAsync(true);
  await writer.stop();
  rmSync(dir, { recursive: true, force: true });
  return rate;
}
