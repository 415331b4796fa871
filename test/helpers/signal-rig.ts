import { EmbeddedBroker } from '../../gateway/broker/embedded.ts';
import { systemClock } from '../../gateway/clock.ts';
import type { LoadedConfig } from '../../gateway/config/load.ts';
import { MqttSignals } from '../../gateway/drivers/mqtt/signals.ts';
import { EventBus, type HubEvents } from '../../gateway/events.ts';
import { silentLogger } from '../../gateway/log.ts';
import { Metrics } from '../../gateway/metrics.ts';
import { SignalPanelSimulator, type SignalPanelOptions } from '../../simulators/signal-panel.ts';

/** An open embedded broker, the hub's MQTT signal intake and the simulated panel, with every event they raise recorded. */
export interface SignalRig {
  broker: EmbeddedBroker;
  signals: MqttSignals;
  panel: SignalPanelSimulator;
  events: EventBus;
  metrics: Metrics;
  received: Array<HubEvents['signal.state']>;
  status: Array<HubEvents['source.status']>;
  rejected: Array<HubEvents['input.rejected']>;
  stop(): Promise<void>;
}

export async function startSignalRig(config: LoadedConfig, panelOptions: Partial<SignalPanelOptions> = {}): Promise<SignalRig> {
  const events = new EventBus();
  const metrics = new Metrics();
  const received: SignalRig['received'] = [];
  const status: SignalRig['status'] = [];
  const rejected: SignalRig['rejected'] = [];
  events.on('test', 'signal.state', (s) => received.push(s));
  events.on('test', 'source.status', (s) => status.push(s));
  events.on('test', 'input.rejected', (r) => rejected.push(r));
  const broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0, log: silentLogger });
  await broker.start();
  const signals = new MqttSignals({ config, events, clock: systemClock, log: silentLogger, metrics, url: () => broker.url() });
  const panel = new SignalPanelSimulator({ config, url: () => broker.url(), clock: systemClock, log: silentLogger, ...panelOptions });
  await signals.start();
  await panel.start();
  return {
    broker, signals, panel, events, metrics, received, status, rejected,
    async stop() {
      await panel.stop();
      await signals.stop();
      await broker.stop();
    },
  };
}
