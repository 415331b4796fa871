// The system under test of the fanout benchmark, in its own process (BENCHMARKS.md):
// a whole Hub, as `bohub start` builds it, on the config file the benchmark wrote
// (the demo building with its field simulated by bench/fanout-field.ts in another
// process). It reports its own CPU time over IPC: process.cpuUsage() counts every
// thread of this process (the event loop and libuv's pool), and nothing else; and,
// for the alarm-under-work benchmark (the demo building with its simulators inside,
// as `npm start` runs it), how long its event loop was held up.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { loadConfig } from '../gateway/config/load.ts';
import { Hub } from '../gateway/hub.ts';
import { silentLogger } from '../gateway/log.ts';
import { serve } from './fanout-ipc.ts';

export interface HubStarted {
  http: string;
  broker: string;
  pid: number;
}

export interface CpuSample {
  /** User + system CPU time of this process, in microseconds. */
  cpuUs: number;
  /** performance.now() of this process, in milliseconds. */
  atMs: number;
  /** 'meter.values' events (one per meter poll) so far: the input load, to be the same with and without clients. */
  meterPolls: number;
}

export interface LoopDelay {
  /** The longest the event loop was held up since the last reading, in ms. */
  maxMs: number;
  p99Ms: number;
  meanMs: number;
}

/** The event-loop delay histogram's timer period (Node's default). */
const LOOP_RESOLUTION_MS = 10;

let hub: Hub | undefined;
let meterPolls = 0;
const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
/** When the socket.io server had written each fire alarm (by the panel's seq) to every socket; wall-clock ms. */
const sent = new Map<number, number>();

serve({
  /** dashboardDir: the built control room, when it is not dashboard/dist (a bench builds its own copy). */
  async start(args: { config: string; dashboardDir?: string }): Promise<HubStarted> {
    if (hub) throw new Error('the hub is already running');
    hub = new Hub({ config: loadConfig(args.config, {}), log: silentLogger, ...(args.dashboardDir ? { dashboardDir: args.dashboardDir } : {}) });
    hub.events.on('bench.fanout', 'meter.values', () => meterPolls++);
    await hub.start();
    // Registered after the web server's own listener (http/live.ts), and the bus calls
    // listeners in order, synchronously: this runs once io.emit has handed the change
    // to every client's socket, so it marks the hub's side of "every client has it".
    // performance.timeOrigin + now() is a wall-clock time comparable across processes.
    hub.events.on('bench.fanout', 'alarm.changed', (c) => {
      if (c.alarm.kind !== 'fire' || c.alarm.seq === undefined || (c.change !== 'raised' && c.change !== 'reactivated')) return;
      sent.set(c.alarm.seq, performance.timeOrigin + performance.now());
      if (sent.size > 10_000) sent.delete(sent.keys().next().value!);
    });
    loop.enable();
    const health = hub.health();
    const down = Object.entries(health.components).filter(([, c]) => c.status === 'down');
    if (down.length) throw new Error(`hub parts down: ${down.map(([n, c]) => `${n} (${c.detail})`).join(', ')}`);
    return { http: hub.parts.http!.url(), broker: hub.parts.broker!.url(), pid: process.pid };
  },
  cpu(): CpuSample {
    const { user, system } = process.cpuUsage();
    return { cpuUs: user + system, atMs: performance.now(), meterPolls };
  },
  /**
   * The event loop's delay since the last call (or the start), then starts again. The
   * histogram times its own 10-ms timer: a delay is the time between two of its ticks
   * less that period (a tick that came on time counts as 0).
   */
  eventLoop(): LoopDelay {
    const ms = (ns: number) => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
    const out = loop.count ? { maxMs: ms(loop.max), p99Ms: ms(loop.percentile(99)), meanMs: ms(loop.mean) } : { maxMs: 0, p99Ms: 0, meanMs: 0 };
    loop.reset();
    return out;
  },
  /** The send times of these alarms (null for one the hub never sent). */
  sent(args: { seqs: number[] }): (number | null)[] {
    return args.seqs.map((seq) => sent.get(seq) ?? null);
  },
  async clients(): Promise<number> {
    return (await hub!.metrics.socketClients.get()).values[0]?.value ?? 0;
  },
  health() {
    return hub?.health();
  },
  async stop() {
    loop.disable();
    await hub?.stop();
    hub = undefined;
  },
});
