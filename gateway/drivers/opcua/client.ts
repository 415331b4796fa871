import {
  AttributeIds, MessageSecurityMode, OPCUACertificateManager, OPCUAClient, SecurityPolicy, TimestampsToReturn,
  type ClientMonitoredItem, type ClientSession, type ClientSubscription, type DataValue,
} from 'node-opcua';
import type { Clock, Timer } from '../../clock.ts';
import type { LoadedConfig } from '../../config/load.ts';
import type { OpcuaSourceConfig } from '../../config/schema.ts';
import type { EventBus } from '../../events.ts';
import type { Logger } from '../../log.ts';
import type { Metrics } from '../../metrics.ts';
import { degraded, down, ok, type ComponentHealth, type Plugin } from '../../plugin.ts';
import { ReplayFilter } from '../../signals/replay.ts';
import { signalCatalogue } from '../../signals/sources.ts';
import { isSignalState, type SignalKind } from '../../signals/states.ts';

export interface OpcuaSignalsOptions {
  config: LoadedConfig;
  /** The client's PKI: own certificate, trusted/ and rejected/ server certificates; normally <dataDir>/pki/opcua. */
  pkiDir: string;
  /** Where a source really listens, when not at its configured endpoint (simulators on free ports). */
  endpointOf?: (sourceId: string) => string | undefined;
  events: EventBus;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
}

/** Publishing cycles without a keep-alive before a subscription is taken for dead (Part 4 §5.13.1.1). */
const KEEPALIVE_COUNT = 10;
const RETRY_MS = [500, 1000, 2000, 5000];

/**
 * Subscribes to power-monitoring (or BMS) servers over OPC-UA and emits their
 * mapped nodes as 'signal.state', and each server's reachability as
 * 'source.status'. Every (re)connection builds a fresh client, session,
 * subscription and monitored items: node-opcua's own session repair after a
 * server restart has left subscriptions silently dead (node-opcua #474), so we do
 * not rely on it. A subscription that stops sending keep-alives is rebuilt too.
 */
export class OpcuaSignals implements Plugin {
  readonly name = 'opcua';
  private readonly links: SourceLink[] = [];
  private certificates?: OPCUACertificateManager;

  constructor(private readonly options: OpcuaSignalsOptions) {}

  async start(): Promise<void> {
    const sources = this.options.config.building.opcua.sources;
    if (!sources.length) return;
    this.certificates = new OPCUACertificateManager({ rootFolder: this.options.pkiDir, automaticallyAcceptUnknownCertificate: false });
    await this.certificates.initialize();
    for (const source of sources) this.links.push(new SourceLink(source, this.certificates, this.options));
    // Wait briefly for the first sessions; an unreachable server is retried in the background.
    await Promise.race([Promise.all(this.links.map((l) => l.firstAttempt)), new Promise((r) => setTimeout(r, 5000))]);
  }

  async stop(): Promise<void> {
    await Promise.all(this.links.splice(0).map((l) => l.stop()));
    await this.certificates?.dispose();
    this.certificates = undefined;
  }

  health(): ComponentHealth {
    if (!this.links.length) return ok('no OPC-UA sources configured');
    const states = this.links.map((l) => l.health());
    const detail = this.links.map((l, i) => `${l.id}: ${states[i]!.detail}`).join('; ');
    if (states.every((s) => s.status === 'ok')) return ok(detail);
    return states.some((s) => s.status === 'ok') ? degraded(detail) : down(detail);
  }
}

/** One server: a loop of connect, subscribe, wait until lost, clean up, back off. */
class SourceLink {
  readonly id: string;
  readonly firstAttempt: Promise<void>;
  private markFirst!: () => void;
  private stopped = false;
  private running?: Promise<void>;
  private state: ComponentHealth = down('connecting');
  private wakeUp?: () => void;
  private lastHeard = 0;
  private watchdog?: Timer;
  private readonly replays = new ReplayFilter();
  private readonly kinds = new Map<string, SignalKind>();

  constructor(private readonly source: OpcuaSourceConfig, private readonly certificates: OPCUACertificateManager, private readonly o: OpcuaSignalsOptions) {
    this.id = source.id;
    this.firstAttempt = new Promise((r) => (this.markFirst = r));
    for (const s of signalCatalogue(o.config.building).values()) this.kinds.set(s.id, s.kind);
    // Built by OpcuaSignals.start(), so the I/O still begins at start.
    this.running = this.loop();
  }

  private async loop(): Promise<void> {
    const log = this.o.log.child({ module: 'opcua', source: this.id });
    for (let attempt = 0; !this.stopped; attempt++) {
      const endpoint = this.o.endpointOf?.(this.id) ?? this.source.endpoint;
      const client = OPCUAClient.create({
        applicationName: `bohub-${this.o.config.building.site.id}`,
        endpointMustExist: false,
        securityMode: MessageSecurityMode[this.source.securityMode],
        securityPolicy: SecurityPolicy[this.source.securityPolicy],
        clientCertificateManager: this.certificates,
        // One try per loop turn: this loop, not node-opcua, owns reconnection.
        connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 500 },
        keepSessionAlive: true,
        requestedSessionTimeout: 60_000,
      });
      let session: ClientSession | undefined;
      try {
        const lost = new Promise<string>((resolve) => {
          this.wakeUp = () => resolve('stopping');
          client.on('connection_lost', () => resolve('connection lost'));
          client.on('close', () => resolve('connection closed'));
        });
        await client.connect(endpoint);
        session = await client.createSession();
        const subscription = await this.subscribe(session);
        attempt = 0;
        this.online(endpoint);
        this.markFirst();
        this.startWatchdog(() => this.wakeUp?.());
        const why = await Promise.race([lost, new Promise<string>((r) => subscription.on('terminated', () => r('subscription terminated')))]);
        if (!this.stopped) this.offline(why, log);
      } catch (err) {
        this.offline(explain(err), log);
        this.markFirst();
      } finally {
        this.watchdog?.cancel();
        await session?.close(true).catch(() => undefined);
        await client.disconnect().catch(() => undefined);
      }
      if (!this.stopped) await this.pause(RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]!);
    }
  }

  private async subscribe(session: ClientSession): Promise<ClientSubscription> {
    const s = this.source;
    const subscription = await session.createSubscription2({
      requestedPublishingInterval: s.publishingIntervalMs,
      requestedMaxKeepAliveCount: KEEPALIVE_COUNT,
      requestedLifetimeCount: KEEPALIVE_COUNT * 3, // Part 4 §5.13.2: at least three keep-alive counts
      maxNotificationsPerPublish: 0,
      publishingEnabled: true,
      priority: 200,
    });
    this.lastHeard = this.o.clock.now();
    subscription.on('keepalive', () => (this.lastHeard = this.o.clock.now()));
    subscription.on('received_notifications', () => (this.lastHeard = this.o.clock.now()));
    for (const node of s.nodes) {
      const item: ClientMonitoredItem = await subscription.monitor(
        { nodeId: node.nodeId, attributeId: AttributeIds.Value },
        // queueSize > 1 keeps a quick off-on between two publishes (Part 4 §5.12.1.5).
        { samplingInterval: s.samplingIntervalMs, queueSize: s.queueSize, discardOldest: true },
        TimestampsToReturn.Both,
      );
      // The first notification of a new monitored item is the current value, not a change (Part 4 §5.12.1.2).
      let first = true;
      item.on('changed', (dv: DataValue) => {
        this.lastHeard = this.o.clock.now();
        this.deliver(node.signal, node.values, dv, first);
        first = false;
      });
      item.on('err', (message: string) => this.reject(node.signal, `monitored item ${node.nodeId}: ${message}`));
    }
    return subscription;
  }

  private deliver(signal: string, values: Readonly<Record<string, string>> | undefined, dv: DataValue, initial: boolean): void {
    const kind = this.kinds.get(signal);
    if (!kind) return this.reject(signal, 'not a configured signal');
    if (!dv.statusCode.isGood()) return this.reject(signal, `bad value: ${dv.statusCode.name}`);
    const raw = dv.value.value as unknown;
    const text = typeof raw === 'boolean' || typeof raw === 'number' || typeof raw === 'string' ? String(raw) : undefined;
    const mapped = text === undefined ? undefined : values ? (Object.hasOwn(values, text) ? values[text] : undefined) : kind === 'power-feeder' ? { true: 'on', false: 'off' }[text] ?? text : text;
    if (mapped === undefined || !isSignalState(kind, mapped)) return this.reject(signal, `value ${String(text)} does not map to a ${kind} state`);
    const sourceTime = dv.sourceTimestamp?.getTime() ?? dv.serverTimestamp?.getTime() ?? this.o.clock.now();
    if (this.replays.isReplay({ signal, state: mapped, sourceTime, retained: initial })) return;
    this.o.metrics.signalEvents.inc({ kind });
    this.o.events.emit('signal.state', { signal, kind, state: mapped, sourceTime, retained: initial });
  }

  private reject(signal: string, reason: string): void {
    this.o.metrics.inputRejected.inc({ source: 'opcua' });
    this.o.events.emit('input.rejected', { source: `opcua:${this.id}:${signal}`, reason, at: this.o.clock.now() });
  }

  private online(endpoint: string): void {
    this.state = ok(`subscribed to ${this.source.nodes.length} nodes at ${endpoint}`);
    this.o.events.emit('source.status', { source: this.id, status: 'online', via: 'opcua', at: this.o.clock.now() });
  }

  /** Reported once per change of state, as "log when unavailable". */
  private offline(reason: string, log: Logger): void {
    const changed = this.state.status === 'ok' || this.state.detail !== reason;
    this.state = down(reason);
    if (!changed) return;
    log.warn({ reason }, 'OPC-UA source unavailable');
    this.o.events.emit('source.status', { source: this.id, status: 'offline', via: 'opcua', reason, at: this.o.clock.now() });
  }

  private startWatchdog(rebuild: () => void): void {
    const limit = 3 * KEEPALIVE_COUNT * this.source.publishingIntervalMs;
    this.watchdog = this.o.clock.setInterval(() => {
      if (this.o.clock.now() - this.lastHeard > limit) rebuild();
    }, Math.max(500, this.source.publishingIntervalMs));
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wakeUp = () => (clearTimeout(t), resolve());
    });
  }

  health(): ComponentHealth {
    return this.state;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.running;
    this.state = down('stopped');
  }
}

/** Turns node-opcua's errors into a trouble an operator can act on. */
function explain(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/certificate verification failed|BadCertificate/i.test(message))
    return `server certificate not trusted (${message.slice(0, 120)}); move it from the PKI rejected/ folder to trusted/ if it is genuine`;
  return message.slice(0, 200);
}
