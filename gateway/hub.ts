import { join, resolve } from 'node:path';
import { systemClock, type Clock } from './clock.ts';
import type { LoadedConfig } from './config/load.ts';
import { EventBus } from './events.ts';
import { LatestValues } from './latest.ts';
import { createLogger, type Logger } from './log.ts';
import { Metrics } from './metrics.ts';
import { down, type Plugin } from './plugin.ts';
import type { HealthReport, HubServices } from './services.ts';
import { describeError } from './errors.ts';
import { EmbeddedBroker } from './broker/embedded.ts';
import { ModbusDriver } from './drivers/modbus/driver.ts';
import { MqttSignals } from './drivers/mqtt/signals.ts';
import { OpcuaSignals } from './drivers/opcua/client.ts';
import { routeOpcuaLogs } from './drivers/opcua/logging.ts';
import { HttpServer } from './http/server.ts';
import { LoopHealth } from './loop-health.ts';
import { SqliteRecordStore } from './storage/records.ts';
import { openTelemetryStore } from './storage/telemetry-factory.ts';
import { TelemetryWriter } from './storage/telemetry-writer.ts';
import type { TelemetryStore } from './storage/types.ts';
import { AlarmEngine } from './alarms/engine.ts';
import { BillingPlugin } from './billing/plugin.ts';
import { JobTracker } from './work/jobs.ts';
import { WorkPool } from './work/pool.ts';
import { pooledQueries } from './work/queries.ts';
import { RunbookEngine } from './runbooks/engine.ts';
import { DisplayEngine } from './display/engine.ts';
import { ModbusMeterSimulator } from '../simulators/modbus-meters.ts';
import { SignalPanelSimulator } from '../simulators/signal-panel.ts';
import { OpcuaPowerSimulator } from '../simulators/opcua-power.ts';

export interface HubOptions {
  config: LoadedConfig;
  log?: Logger;
  clock?: Clock;
  /** Folder of the dashboard's static files. */
  dashboardDir?: string;
}

/** Plug-ins without which the hub must not run: it exits with a clear message instead. */
const ESSENTIAL = new Set(['http']);

/**
 * The composition root. It builds every plug-in, starts them in order and stops
 * them in reverse. A plug-in that fails to start is reported in health and does
 * not take the others down; the records store (opened before anything else) and
 * the web server are the exceptions.
 */
export class Hub {
  readonly events = new EventBus();
  readonly metrics = new Metrics();
  readonly log: Logger;
  readonly clock: Clock;
  readonly latest: LatestValues;
  private records?: SqliteRecordStore;
  private telemetry?: TelemetryStore;
  private readonly plugins: Plugin[] = [];
  private readonly started: Plugin[] = [];
  private readonly failed = new Map<string, string>();
  private stopping?: Promise<void>;
  /** The plug-ins tests and the CLI reach into: simulators and the web server. */
  readonly parts: { alarms?: AlarmEngine; runbooks?: RunbookEngine; display?: DisplayEngine; billing?: BillingPlugin; work?: WorkPool; modbusSim?: ModbusMeterSimulator; signalSim?: SignalPanelSimulator; opcuaSim?: OpcuaPowerSimulator; modbus?: ModbusDriver; http?: HttpServer; broker?: EmbeddedBroker } = {};

  constructor(private readonly options: HubOptions) {
    this.log = options.log ?? createLogger();
    this.clock = options.clock ?? systemClock;
    this.latest = new LatestValues(this.events);
  }

  async start(): Promise<void> {
    const { building } = this.options.config;
    const dataDir = resolve(building.storage.dataDir);
    // Records carry money and safety: without them the hub does not run (throws).
    this.records = SqliteRecordStore.open(dataDir);
    this.telemetry = openTelemetryStore(building.storage, dataDir);
    this.records.appendAudit({ actor: 'system', action: 'hub.start', subject: building.site.id, after: { config: this.options.config.file }, at: this.clock.now() });
    this.latest.start();
    this.events.onListenerError(({ owner, event, err }) => this.log.error({ owner, event, err: describeError(err) }, 'event listener failed'));
    this.buildPlugins(dataDir);
    for (const plugin of this.plugins) {
      try {
        await plugin.start();
        this.started.push(plugin);
        this.log.debug({ plugin: plugin.name }, 'plug-in started');
      } catch (err) {
        const detail = describeError(err);
        this.failed.set(plugin.name, detail);
        this.log.error({ plugin: plugin.name, err: detail }, 'plug-in failed to start');
        if (ESSENTIAL.has(plugin.name)) {
          await this.stop();
          throw err;
        }
      }
    }
    this.log.info({ health: this.health().status, url: this.parts.http?.url() }, 'hub started');
  }

  private buildPlugins(dataDir: string): void {
    const { config } = this.options;
    const { building } = config;
    const base = { config, events: this.events, clock: this.clock, log: this.log, metrics: this.metrics };
    this.plugins.push(new LoopHealth({ clock: this.clock, log: this.log, metrics: this.metrics }));
    this.plugins.push(new TelemetryWriter({ store: this.telemetry!, events: this.events, clock: this.clock, log: this.log, metrics: this.metrics }));
    // Before any signal source connects, so retained messages replayed at connect are recognised.
    this.parts.alarms = new AlarmEngine({ config, records: this.records!, events: this.events, clock: this.clock, log: this.log });
    // After the alarm engine, so the alarm path never waits for an incident; also before
    // the signal sources, so a fire alarm standing at start opens its incident.
    this.parts.runbooks = new RunbookEngine({ config, records: this.records!, events: this.events, clock: this.clock, log: this.log.child({ module: 'runbooks' }), metrics: this.metrics });
    // After the runbook engine, whose incidents' lobby messages override the screens.
    const runbooks = this.parts.runbooks;
    this.parts.display = new DisplayEngine({ config, records: this.records!, events: this.events, clock: this.clock, log: this.log.child({ module: 'display' }), incidents: () => runbooks });
    this.plugins.push(this.parts.alarms, this.parts.runbooks, this.parts.display);

    const broker = building.broker;
    let brokerUrl = () => (broker.mode === 'external' ? broker.url : '');
    let hubAccount: (() => { username: string; password: string } | undefined) | undefined;
    if (broker.mode === 'embedded') {
      // The building's accounts and signal sources give the broker its ACLs; refusals are audited.
      const embedded = new EmbeddedBroker({ host: broker.host, port: broker.port, log: this.log, config, clock: this.clock, metrics: this.metrics, audit: (e) => this.records?.appendAudit(e) });
      this.parts.broker = embedded;
      this.plugins.push(embedded);
      brokerUrl = () => embedded.url();
      hubAccount = () => embedded.hubCredentials();
    }
    if (building.simulators.enabled) {
      const ephemeral = building.simulators.ephemeralPorts;
      this.parts.modbusSim = new ModbusMeterSimulator({ config, clock: this.clock, log: this.log, ephemeralPorts: ephemeral });
      this.parts.signalSim = new SignalPanelSimulator({ config, url: brokerUrl, clock: this.clock, log: this.log });
      this.plugins.push(this.parts.modbusSim, this.parts.signalSim);
      if (building.opcua.sources.length) {
        // The demo's power-monitoring server; a source's port comes from its configured endpoint.
        const port = ephemeral ? 0 : Number(new URL(building.opcua.sources[0]!.endpoint).port || 4840);
        this.parts.opcuaSim = new OpcuaPowerSimulator({ config, port, pkiDir: join(dataDir, 'pki', 'opcua-sim'), log: this.log });
        this.plugins.push(this.parts.opcuaSim);
      }
    }
    const sim = this.parts.modbusSim;
    // Simulated buses may listen on ephemeral ports or on a pty made at start.
    const simulatedEndpoint = (busId: string) => {
      const rtu = building.modbus.buses.find((b) => b.id === busId)?.transport === 'rtu';
      return rtu ? { path: sim!.serialPathOf(busId) } : sim!.endpoints().get(busId);
    };
    this.parts.modbus = new ModbusDriver({ ...base, endpointOf: sim ? simulatedEndpoint : undefined });
    this.plugins.push(this.parts.modbus);
    this.plugins.push(new MqttSignals({
      ...base,
      url: brokerUrl,
      ...(broker.mode === 'embedded'
        ? { credentials: hubAccount }
        : { username: broker.username, password: broker.password, protocolVersion: broker.protocolVersion, clientId: broker.clientId, tls: { caFile: broker.caFile, certFile: broker.certFile, keyFile: broker.keyFile } }),
    }));
    if (building.opcua.sources.length) {
      routeOpcuaLogs(this.log);
      const opcuaSim = this.parts.opcuaSim;
      this.plugins.push(new OpcuaSignals({ ...base, pkiDir: join(dataDir, 'pki', 'opcua'), endpointOf: opcuaSim ? (id: string) => (id === building.opcua.sources[0]!.id ? opcuaSim.url() : undefined) : undefined }));
    }
    // After the Modbus driver: the reading-day snapshot reads every meter through it.
    const modbus = this.parts.modbus;
    // Bulk work (billing runs, documents, exports) runs in worker threads, never on the alarm path's event loop (issue 15).
    this.parts.work = new WorkPool({ config, dataDir, log: this.log });
    const work = { runner: this.parts.work, jobs: new JobTracker(this.events, this.clock) };
    this.parts.billing = new BillingPlugin({ config, records: this.records!, events: this.events, clock: this.clock, log: this.log, latest: this.latest, readNow: (id) => modbus.readNow(id), work });
    this.plugins.push(this.parts.work, this.parts.billing);
    this.parts.http = new HttpServer({ services: this.services(), dashboardDir: this.options.dashboardDir });
    this.plugins.push(this.parts.http);
  }

  services(): HubServices {
    return {
      config: this.options.config, events: this.events, clock: this.clock, log: this.log, metrics: this.metrics,
      records: this.records!, telemetry: this.telemetry!, latest: this.latest, alarms: this.parts.alarms, incidents: this.parts.runbooks, modbus: this.parts.modbus, display: this.parts.display, billing: this.parts.billing?.service,
      queries: pooledQueries(this.parts.work!), health: () => this.health(),
    };
  }

  /** Stops the plug-ins in reverse order within the grace period; idempotent. */
  stop(graceMs = 10_000): Promise<void> {
    this.stopping ??= this.stopAll(graceMs);
    return this.stopping;
  }

  private async stopAll(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    for (const plugin of [...this.started].reverse()) {
      const left = Math.max(0, deadline - Date.now());
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), left)));
      try {
        const result = await Promise.race([plugin.stop().then(() => 'stopped' as const), timeout]);
        if (result === 'timeout') this.log.warn({ plugin: plugin.name }, 'plug-in did not stop within the grace period');
        else this.log.debug({ plugin: plugin.name }, 'plug-in stopped');
      } catch (err) {
        this.log.warn({ plugin: plugin.name, err: describeError(err) }, 'plug-in failed to stop cleanly');
      } finally {
        clearTimeout(timer);
      }
    }
    this.started.length = 0;
    this.latest.stop();
    this.records?.appendAudit({ actor: 'system', action: 'hub.stop', subject: this.options.config.building.site.id, at: this.clock.now() });
    this.records?.close();
  }

  health(): HealthReport {
    const components: HealthReport['components'] = {};
    components.records = this.records ? { status: 'ok', detail: `SQLite schema v${this.records.schemaVersion()}` } : down('not open');
    for (const plugin of this.plugins) {
      const failure = this.failed.get(plugin.name);
      components[plugin.name] = failure ? down(`failed to start: ${failure}`) : plugin.health();
    }
    for (const [name, h] of Object.entries(components)) this.metrics.componentUp.set({ component: name }, h.status === 'ok' ? 2 : h.status === 'degraded' ? 1 : 0);
    const statuses = Object.values(components).map((c) => c.status);
    // Without records or the alarm engine the hub cannot do its safety job: that is 'down'.
    const critical = ['records', 'alarms'].some((name) => components[name]?.status === 'down');
    const status = critical ? 'down' : statuses.every((s) => s === 'ok') ? 'ok' : 'degraded';
    return { status, components };
  }
}
