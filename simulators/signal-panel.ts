import { demoSourcePassword } from '../gateway/auth/passwords.ts';
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import type { Clock, Timer } from '../gateway/clock.ts';
import type { LoadedConfig } from '../gateway/config/load.ts';
import type { Logger } from '../gateway/log.ts';
import { down, ok, type ComponentHealth, type Plugin } from '../gateway/plugin.ts';
import { signalCatalogue, type SignalInfo } from '../gateway/signals/sources.ts';
import { SIGNAL_STATES, heartbeatTopic, signalTopic, sourceStatusTopic } from '../gateway/signals/states.ts';

export interface SignalPanelOptions {
  config: LoadedConfig;
  url: () => string;
  clock: Clock;
  log: Logger;
  /** The password of a source's MQTT account; the demo site defaults to demoSourcePassword. */
  passwordOf?: (username: string) => string | undefined;
  /** How often each source publishes a heartbeat; 0 for none. */
  heartbeatMs?: number;
  /** For an mqtts broker: the CA that signed its certificate. */
  tls?: { caFile: string };
}

/** The demo building's MQTT device passwords (published, like the demo users'; site.demo only). */

interface Source {
  id: string;
  signals: SignalInfo[];
  client?: MqttClient;
}

/**
 * Simulates the fire panels, leak and gas gateways, power monitors and weather
 * feed of the building: one MQTT connection per source, on the default topic
 * layout with QoS 1. Every signal starts in its kind's quiet state, the first of
 * SIGNAL_STATES (normal, dry, on, none). Each
 * source sets its LWT (status "offline", retained) and announces "online"; on
 * every (re)connect it re-publishes its current states as real panels do, with
 * the same seq and time, so the hub sees exact replays it must drop.
 */
export class SignalPanelSimulator implements Plugin {
  readonly name = 'simulators.signals';
  private seq = 0;
  private readonly sources = new Map<string, Source>();
  private readonly sourceOf = new Map<string, Source>();
  /** The last payload per signal: re-published unchanged on reconnect. */
  private readonly current = new Map<string, string>();
  private heartbeat?: Timer;

  constructor(private readonly options: SignalPanelOptions) {}

  async start(): Promise<void> {
    const { config } = this.options;
    const site = config.building.site.id;
    // Signals delivered over OPC-UA, or on a vendor's topics, are not simulated here.
    for (const info of signalCatalogue(config.building).values()) {
      if (info.opcua || info.mqtt) continue;
      const source = this.sources.get(info.source) ?? { id: info.source, signals: [] };
      source.signals.push(info);
      this.sources.set(info.source, source);
      this.sourceOf.set(info.id, source);
      this.current.set(info.id, JSON.stringify({ state: SIGNAL_STATES[info.kind][0], ts: this.options.clock.now(), seq: ++this.seq }));
    }
    await Promise.all([...this.sources.values()].map((s) => this.connect(s, site)));
    const every = this.options.heartbeatMs ?? 10_000;
    if (every > 0) this.heartbeat = this.options.clock.setInterval(() => this.beat(site), every);
    this.options.log.info({ module: 'simulators.signals', sources: this.sources.size, signals: this.sourceOf.size }, 'signal simulator publishing');
  }

  private async connect(source: Source, site: string): Promise<void> {
    const b = this.options.config.building;
    const account = b.broker.mode === 'embedded' ? b.broker.accounts.find((a) => a.source === source.id) : undefined;
    const password = account ? (this.options.passwordOf?.(account.username) ?? (b.site.demo ? demoSourcePassword(account.username) : undefined)) : undefined;
    const status = sourceStatusTopic(site, source.id);
    const client = mqtt.connect(this.options.url(), {
      clientId: `sim-${site}-${source.id}`,
      username: account?.username,
      password,
      reconnectPeriod: 500,
      ...(this.options.tls ? { ca: readFileSync(this.options.tls.caFile) } : {}),
      // The broker publishes this if the source drops without DISCONNECT [MQTT-3.1.2-8].
      will: { topic: status, payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    source.client = client;
    client.on('connect', () => {
      client.publish(status, 'online', { qos: 1, retain: true });
      for (const s of source.signals) client.publish(signalTopic(site, s.id), this.current.get(s.id)!, { qos: 1, retain: true });
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
  }

  /** Publishes a new state for one signal (e.g. `set('FZ-A-07', 'alarm')`). */
  async set(signal: string, state: string): Promise<void> {
    const source = this.sourceOf.get(signal);
    if (!source?.client) throw new Error(`signal simulator does not publish "${signal}" (not started, unknown, or not on MQTT)`);
    const payload = JSON.stringify({ state, ts: this.options.clock.now(), seq: ++this.seq });
    this.current.set(signal, payload);
    await source.client.publishAsync(signalTopic(this.options.config.building.site.id, signal), payload, { qos: 1, retain: true });
  }

  /** Cuts a source's connection without DISCONNECT, as a power cut would: the broker publishes its LWT. */
  kill(sourceId: string): void {
    this.sources.get(sourceId)?.client?.stream.destroy();
  }

  /** The source ids simulated, e.g. FP-A, LEAK-GW-A. */
  sourceIds(): string[] {
    return [...this.sources.keys()];
  }

  private beat(site: string): void {
    for (const s of this.sources.values())
      if (s.client?.connected) s.client.publish(heartbeatTopic(site, s.id), JSON.stringify({ ts: this.options.clock.now() }), { qos: 0 });
  }

  async stop(): Promise<void> {
    this.heartbeat?.cancel();
    this.heartbeat = undefined;
    const clients = [...this.sources.values()].map((s) => s.client).filter((c): c is MqttClient => !!c);
    this.sources.clear();
    this.sourceOf.clear();
    // A clean DISCONNECT: the broker discards the will [MQTT-3.1.2-10].
    await Promise.all(clients.map((c) => c.endAsync()));
  }

  health(): ComponentHealth {
    const sources = [...this.sources.values()];
    const up = sources.filter((s) => s.client?.connected).length;
    return sources.length && up === sources.length ? ok(`${this.sourceOf.size} signals from ${up} sources simulated`) : down(`${up} of ${sources.length} sources connected`);
  }
}
