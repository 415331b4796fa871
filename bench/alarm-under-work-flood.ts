// The flooding device of the alarm-under-work benchmark, in its own process
// (BENCHMARKS.md): another panel's own broker account (tower B's fire panel) sends
// valid state reports, {"state":"normal","seq":n}, to its own signals as fast as the
// broker lets it: QoS 1, retained, as panels publish, with a window of reports in
// flight, so the pace is the broker's PUBACKs. Bounded in count and time; 'finish'
// stops it sooner.
import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import { signalTopic } from '../gateway/signals/states.ts';
import { serve } from './fanout-ipc.ts';
import { BackgroundJob } from './hub-api.ts';

export interface FloodArgs {
  broker: string;
  site: string;
  username: string;
  password: string;
  /** The account's own signals (its panel's fire zones). */
  signals: string[];
  /** Reports published but not yet acknowledged by the broker, at most. */
  inFlight: number;
  maxMs: number;
  maxMessages: number;
}

export interface FloodReport {
  /** Reports the broker acknowledged. */
  acked: number;
  /** Reports it refused or that failed (a closed connection, a broker limit). */
  failed: number;
  seconds: number;
  perS: number;
  /** Times the connection dropped (a broker may disconnect a flooder). */
  disconnects: number;
}

const PUBACK_TIMEOUT_MS = 5_000;

const job = new BackgroundJob<FloodReport>('the flood');

serve({
  async start(args: FloodArgs): Promise<void> {
    const client = await mqtt.connectAsync(args.broker, { clientId: `bench-auw-flood-${process.pid}`, username: args.username, password: args.password, reconnectPeriod: 500 });
    job.start((state) => flood(client, args, state));
  },
  finish: () => job.finish(),
  stop: () => job.stop(),
});

async function flood(client: MqttClient, args: FloodArgs, state: { stop: boolean }): Promise<FloodReport> {
  let disconnects = 0;
  client.on('close', () => disconnects++);
  const began = performance.now();
  let sent = 0;
  let acked = 0;
  let failed = 0;
  let seq = Date.now();
  const over = () => state.stop || sent >= args.maxMessages || performance.now() - began > args.maxMs;
  const lane = async () => {
    while (!over()) {
      const signal = args.signals[sent++ % args.signals.length]!;
      let timer: NodeJS.Timeout | undefined;
      try {
        // A PUBACK that never comes (a dropped connection the client holds the report for) ends the wait, not the loop.
        const sent = client.publishAsync(signalTopic(args.site, signal), JSON.stringify({ state: 'normal', seq: ++seq }), { qos: 1, retain: true });
        await Promise.race([sent, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no PUBACK')), PUBACK_TIMEOUT_MS)))]);
        acked++;
      } catch {
        failed++;
        // Refused or disconnected: give the connection a moment rather than spin.
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        clearTimeout(timer);
      }
    }
  };
  await Promise.all(Array.from({ length: args.inFlight }, lane));
  const seconds = (performance.now() - began) / 1000;
  const dropped = disconnects;
  await client.endAsync(true).catch(() => {});
  return { acked, failed, seconds, perS: acked / seconds, disconnects: dropped };
}
