import { EmbeddedBroker, type BrokerDenial } from '../../gateway/broker/embedded.ts';
import { systemClock } from '../../gateway/clock.ts';
import type { LoadedConfig } from '../../gateway/config/load.ts';
import { MqttSignals } from '../../gateway/drivers/mqtt/signals.ts';
import { EventBus, type HubEvents } from '../../gateway/events.ts';
import { silentLogger } from '../../gateway/log.ts';
import { Metrics } from '../../gateway/metrics.ts';
import type { AuditEntry } from '../../gateway/storage/types.ts';
import { SignalPanelSimulator, type SignalPanelOptions } from '../../simulators/signal-panel.ts';

/**
 * An embedded broker, the hub's MQTT signal intake and (unless `panel: false`) the
 * simulated panel, with every event they raise recorded. `secured` gives the broker
 * the building's accounts and ACLs, records its refusals, and logs the hub in with
 * its own account; otherwise the broker is open.
 */
export interface SignalRigOptions {
  secured?: boolean;
  panel?: Partial<SignalPanelOptions> | false;
}

export interface SignalRig {
  broker: EmbeddedBroker;
  signals: MqttSignals;
  panel: SignalPanelSimulator;
  events: EventBus;
  metrics: Metrics;
  received: Array<HubEvents['signal.state']>;
  status: Array<HubEvents['source.status']>;
  rejected: Array<HubEvents['input.rejected']>;
  denied: BrokerDenial[];
  audit: AuditEntry[];
  stop(): Promise<void>;
}

export async function startSignalRig(config: LoadedConfig, options: SignalRigOptions = {}): Promise<SignalRig> {
  const events = new EventBus();
  const metrics = new Metrics();
  const received: SignalRig['received'] = [];
  const status: SignalRig['status'] = [];
  const rejected: SignalRig['rejected'] = [];
  const denied: BrokerDenial[] = [];
  const audit: AuditEntry[] = [];
  events.on('test', 'signal.state', (s) => received.push(s));
  events.on('test', 'source.status', (s) => status.push(s));
  events.on('test', 'input.rejected', (r) => rejected.push(r));
  const secured = options.secured ? { config, onDenied: (d: BrokerDenial) => denied.push(d), audit: (e: AuditEntry) => audit.push(e) } : {};
  const broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0, log: silentLogger, ...secured });
  await broker.start();
  const hubAccount = options.secured ? { credentials: () => broker.hubCredentials() } : {};
  const signals = new MqttSignals({ config, events, clock: systemClock, log: silentLogger, metrics, url: () => broker.url(), ...hubAccount });
  const panel = new SignalPanelSimulator({ config, url: () => broker.url(), clock: systemClock, log: silentLogger, ...(options.panel || {}) });
  await signals.start();
  if (options.panel !== false) await panel.start();
  return {
    broker, signals, panel, events, metrics, received, status, rejected, denied, audit,
    async stop() {
      await panel.stop();
      await signals.stop();
      await broker.stop();
    },
  };
}
