import mqtt, { type MqttClient } from 'mqtt';
import { z } from 'zod';
import type { Clock } from '../../clock.ts';
import type { LoadedConfig } from '../../config/load.ts';
import type { EventBus, SignalState } from '../../events.ts';
import type { Logger } from '../../log.ts';
import type { Metrics } from '../../metrics.ts';
import { down, ok, type ComponentHealth, type Plugin } from '../../plugin.ts';
import { SIGNAL_STATES, signalTopic } from '../../signals/states.ts';

export interface MqttSignalsOptions {
  config: LoadedConfig;
  /** Where to connect: the embedded broker's URL, or the external broker's. */
  url: () => string;
  username?: string;
  password?: string;
  protocolVersion?: 4 | 5;
  events: EventBus;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
}

const payloadSchema = z.object({
  state: z.string(),
  ts: z.number().int().positive().optional(),
  seq: z.number().int().min(0).optional(),
});

/**
 * Receives fire-zone, leak and power-feeder signals over MQTT (default topic layout,
 * see signals/states.ts) and emits them as normalised 'signal.state' events.
 * Safety topics use QoS 1 with a persistent session, so nothing published while the
 * hub was briefly away is lost (MQTT 3.1.1 §3.1.2.4, clean session = 0).
 */
export class MqttSignals implements Plugin {
  readonly name = 'mqtt.signals';
  private client?: MqttClient;
  private state: ComponentHealth = down('not started');
  private readonly kinds = new Map<string, SignalState['kind']>();
  private rejected = 0;
  private lastRejection = '';

  constructor(private readonly options: MqttSignalsOptions) {}

  async start(): Promise<void> {
    const { config, log } = this.options;
    const s = config.building.signals;
    for (const z of s.fireZones) this.kinds.set(z.id, 'fire-zone');
    for (const l of s.leakSensors) this.kinds.set(l.id, 'leak');
    for (const p of s.powerFeeders) this.kinds.set(p.id, 'power-feeder');

    const site = config.building.site.id;
    const client = mqtt.connect(this.options.url(), {
      clientId: `bohub-${site}-signals`,
      clean: false,
      username: this.options.username,
      password: this.options.password,
      protocolVersion: this.options.protocolVersion ?? 4,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
    });
    this.client = client;
    const mlog = log.child({ module: 'mqtt.signals' });
    client.on('connect', () => {
      this.state = ok(`connected to ${this.options.url()}`);
      mlog.info('connected to the broker');
      client.subscribe(signalTopic(site, '+'), { qos: 1 });
    });
    client.on('offline', () => {
      if (this.state.status !== 'down') mlog.warn('broker connection lost; reconnecting');
      this.state = down(`broker ${this.options.url()} unreachable`);
    });
    client.on('error', (err) => (this.state = down(`broker error: ${err.message}`)));
    client.on('message', (topic, payload, packet) => this.receive(topic, payload, packet.retain));
    // Wait for the first connection briefly; an unreachable broker is reported in
    // health and retried, it does not stop the hub.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      client.once('connect', () => (clearTimeout(timer), resolve()));
    });
  }

  private receive(topic: string, payload: Buffer, retained: boolean): void {
    const signal = topic.split('/').pop() ?? '';
    const kind = this.kinds.get(signal);
    if (!kind) return this.reject(topic, `unknown signal "${signal}"`);
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      return this.reject(topic, 'payload is not JSON');
    }
    const parsed = payloadSchema.safeParse(json);
    if (!parsed.success) return this.reject(topic, parsed.error.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; '));
    const { state, ts, seq } = parsed.data;
    if (!(SIGNAL_STATES[kind] as readonly string[]).includes(state))
      return this.reject(topic, `state "${state}" is not one of ${SIGNAL_STATES[kind].join(', ')}`);
    this.options.metrics.signalEvents.inc({ kind });
    this.options.events.emit('signal.state', { signal, kind, state, sourceTime: ts ?? this.options.clock.now(), seq, retained });
  }

  private reject(source: string, reason: string): void {
    this.rejected++;
    this.lastRejection = `${source}: ${reason}`;
    this.options.metrics.inputRejected.inc({ source: 'mqtt' });
    this.options.log.warn({ module: 'mqtt.signals', topic: source, reason }, 'rejected a signal payload');
    this.options.events.emit('input.rejected', { source, reason, at: this.options.clock.now() });
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync(true);
    this.state = down('stopped');
  }

  health(): ComponentHealth {
    // A bad payload is counted and named, but it does not make the hub unhealthy.
    if (this.state.status === 'ok' && this.rejected) return ok(`${this.state.detail}; ${this.rejected} payloads rejected, last: ${this.lastRejection}`);
    return this.state;
  }
}
