// A telemetry load generator for the alarm benchmark, run as its own process (the load
// generator and the system under test must be separate processes: BENCHMARKS.md).
// It publishes meter-like JSON at RATE msg/s (QoS 0) under bohub/<site>/telemetry/...
// for at most SECONDS, in 5 ms ticks, and stops by itself.
// usage: telemetry-load.ts URL SITE RATE SECONDS   prints "ready" once connected
import mqtt from 'mqtt';

const [url, site, rateArg, secondsArg] = process.argv.slice(2);
const rate = Number(rateArg ?? 10_000);
const seconds = Number(secondsArg ?? 60);
const TICK_MS = 5;

const client = await mqtt.connectAsync(url!, { clientId: `bench-telemetry-load-${process.pid}`, reconnectPeriod: 0 });
process.stdout.write('ready\n');

const began = Date.now();
let sent = 0;
const timer = setInterval(() => {
  const elapsed = Date.now() - began;
  if (elapsed > seconds * 1000) return finish();
  // Catch up to the rate the elapsed time calls for, so a slow tick does not lower it.
  const due = Math.floor((elapsed / 1000) * rate);
  for (; sent < due; sent++) {
    const device = `D${sent % 500}`;
    client.publish(`bohub/${site}/telemetry/${device}`, JSON.stringify({ point: 'active_power', value: (sent % 1000) / 10, ts: Date.now() }), { qos: 0 });
  }
}, TICK_MS);

function finish(): void {
  clearInterval(timer);
  process.stderr.write(`telemetry-load: sent ${sent} in ${((Date.now() - began) / 1000).toFixed(1)} s\n`);
  client.end(true, () => process.exit(0));
}
process.once('SIGTERM', finish);
