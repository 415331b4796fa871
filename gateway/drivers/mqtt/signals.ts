import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Clock } from '../../clock.ts';
import type { LoadedConfig } from '../../config/load.ts';
import type { EventBus } from '../../events.ts';
import type { Logger } from '../../log.ts';
import type { Metrics } from '../../metrics.ts';
import { degraded, down, ok, type ComponentHealth, type Plugin } from '../../plugin.ts';
import { ReplayFilter } from '../../signals/replay.ts';
import { SignalRouter } from './router.ts';

export interface MqttSignalsOptions {
  config: LoadedConfig;
  /** Where to connect: the embedded broker's URL, or the external broker's. */
  url: () => string;
  username?: string;
  password?: string;
  /** Read at each start; the embedded broker's hub account (EmbeddedBroker.hubCredentials) is made at its start. */
  credentials?: () => { username: string; password: string } | undefined;
  protocolVersion?: 4 | 5;
  /** mqtts/wss: the broker's CA, and a client certificate where the broker asks for one. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  /** Default bohub-<site>-signals. A persistent session is tied to it [MQTT-3.1.2-4]. */
  clientId?: string;
  events: EventBus;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
}

/**
 * Receives fire-zone, leak and power-feeder signals over MQTT (the default topic
 * layout of signals/states.ts, or a vendor's topics mapped in config) and emits
 * them as normalised 'signal.state' events; source status (LWT) and heartbeats
 * become 'source.status'. Safety topics use QoS 1 with a persistent session, so
 * nothing published while the hub was briefly away is lost (MQTT 3.1.1 §3.1.2.4,
 * clean session = 0). Exact replays (retained copies, redeliveries) are dropped
 * by signals/replay.ts, so a retained fire replayed after a broker restart does
 * not start a second incident.
 */
export class MqttSignals implements Plugin {
  readonly name = 'mqtt.signals';
  private client?: MqttClient;
  private state: ComponentHealth = down('not started');
  private readonly router: SignalRouter;
  private readonly replays = new ReplayFilter();
  private rejected = 0;
  private lastRejection = '';

  constructor(private readonly options: MqttSignalsOptions) {
    // Pure: the topic table from config; no I/O until start().
    this.router = new SignalRouter(options.config);
  }

  async start(): Promise<void> {
    const { config, log } = this.options;
    const site = config.building.site.id;
    const creds = this.options.credentials?.();
    const client = mqtt.connect(this.options.url(), {
      clientId: this.options.clientId ?? `bohub-${site}-signals`,
      clean: false,
      username: creds?.username ?? this.options.username,
      password: creds?.password ?? this.options.password,
      protocolVersion: this.options.protocolVersion ?? 4,
      // MQTT 5 drops the session on disconnect unless it is given an expiry (MQTT 5 §3.1.2.11.2).
      ...(this.options.protocolVersion === 5 ? { properties: { sessionExpiryInterval: 24 * 3600 } } : {}),
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      ...this.tlsOptions(),
    });
    this.client = client;
    const mlog = log.child({ module: 'mqtt.signals' });
    client.on('connect', (connack) => {
      this.state = ok(`connected to ${this.options.url()}`);
      mlog.info({ sessionPresent: connack.sessionPresent }, 'connected to the broker');
      const topics = Object.fromEntries(this.router.subscriptions().map((t) => [t, { qos: 1 as const }]));
      client.subscribe(topics, (err, granted) => {
        // A refused filter comes back as 0x80 [MQTT-3.9.3-2]: the hub would be deaf to those signals.
        const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
        if (err || refused.length) {
          this.state = degraded(`subscription refused: ${err?.message ?? refused.join(', ')}`);
          mlog.error({ refused, err: err?.message }, 'broker refused a safety subscription');
        }
      });
    });
    client.on('offline', () => {
      if (this.state.status !== 'down') mlog.warn('broker connection lost; reconnecting');
      this.state = down(`broker ${this.options.url()} unreachable`);
    });
    client.on('error', (err) => (this.state = down(`broker error: ${err.message}`)));
    client.on('message', (topic, payload, packet) => this.handle(topic, payload, packet.retain));
    // Wait for the first connection briefly; an unreachable broker is reported in
    // health and retried, it does not stop the hub.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      client.once('connect', () => (clearTimeout(timer), resolve()));
    });
  }

  /** Handles one message; public so the decoders can be fuzzed end to end without a broker. Never throws. */
  handle(topic: string, payload: Uint8Array, retained: boolean): void {
    const { events, clock, metrics } = this.options;
    const r = this.router.route(topic, payload);
    if (r.type === 'rejected') return this.reject(topic, r.reason);
    if (r.type === 'source') {
      events.emit('source.status', { source: r.source, status: r.status, via: r.via, reason: r.status === 'offline' ? 'last will: the source lost its broker connection' : undefined, at: clock.now() });
      return;
    }
    if (this.replays.isReplay({ signal: r.signal, state: r.state, seq: r.seq, sourceTime: r.sourceTime, retained })) {
      this.options.log.debug({ module: 'mqtt.signals', signal: r.signal, seq: r.seq, retained }, 'dropped an exact replay');
      return;
    }
    metrics.signalEvents.inc({ kind: r.kind });
    events.emit('signal.state', { signal: r.signal, kind: r.kind, state: r.state, sourceTime: r.sourceTime ?? clock.now(), seq: r.seq, retained });
  }

  private reject(source: string, reason: string): void {
    this.rejected++;
    const topic = source.length > 200 ? `${source.slice(0, 200)}…` : source;
    this.lastRejection = `${topic}: ${reason}`;
    this.options.metrics.inputRejected.inc({ source: 'mqtt' });
    this.options.log.warn({ module: 'mqtt.signals', topic, reason }, 'rejected a signal payload');
    this.options.events.emit('input.rejected', { source: topic, reason, at: this.options.clock.now() });
  }

  private tlsOptions(): Partial<IClientOptions> {
    const tls = this.options.tls;
    if (!tls) return {};
    return {
      ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : {}),
      ...(tls.certFile ? { cert: readFileSync(tls.certFile) } : {}),
      ...(tls.keyFile ? { key: readFileSync(tls.keyFile) } : {}),
      // The broker's certificate and name are always checked; there is no switch to turn that off.
      rejectUnauthorized: true,
    };
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync(true);
    this.state = down('stopped');
  }

  health(): ComponentHealth {
    // A bad payload is counted and named, but it does not make the hub unhealthy.
    const notes = [
      ...(this.rejected ? [`${this.rejected} payloads rejected, last: ${this.lastRejection}`] : []),
      ...(this.replays.droppedCount() ? [`${this.replays.droppedCount()} replays dropped`] : []),
    ];
    if (this.state.status === 'ok' && notes.length) return ok(`${this.state.detail}; ${notes.join('; ')}`);
    return this.state;
  }
}
