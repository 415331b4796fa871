import mqtt, { type MqttClient } from 'mqtt';
import type { Clock } from '../gateway/clock.ts';
import type { LoadedConfig } from '../gateway/config/load.ts';
import type { Logger } from '../gateway/log.ts';
import { down, ok, type ComponentHealth, type Plugin } from '../gateway/plugin.ts';
import { SIGNAL_STATES, signalTopic } from '../gateway/signals/states.ts';

export interface SignalPanelOptions {
  config: LoadedConfig;
  url: () => string;
  clock: Clock;
  log: Logger;
}

/**
 * Simulates the fire panel zones, leak sensors and power-feeder monitors of the
 * building, publishing on the default topic layout with QoS 1. Each signal starts
 * in its quiet state (retained, as a real panel publishes its current state).
 */
export class SignalPanelSimulator implements Plugin {
  readonly name = 'simulators.signals';
  private client?: MqttClient;
  private seq = 0;
  private readonly current = new Map<string, string>();

  constructor(private readonly options: SignalPanelOptions) {}

  async start(): Promise<void> {
    const site = this.options.config.building.site.id;
    this.client = await mqtt.connectAsync(this.options.url(), { clientId: `bohub-${site}-signal-sim`, reconnectPeriod: 1000 });
    const s = this.options.config.building.signals;
    const quiet: Array<[string, string]> = [
      ...s.fireZones.map((z) => [z.id, SIGNAL_STATES['fire-zone'][0]] as [string, string]),
      ...s.leakSensors.map((l) => [l.id, SIGNAL_STATES.leak[0]] as [string, string]),
      ...s.powerFeeders.map((p) => [p.id, SIGNAL_STATES['power-feeder'][0]] as [string, string]),
    ];
    await Promise.all(quiet.map(([id, state]) => this.set(id, state)));
    this.options.log.info({ module: 'simulators.signals', signals: quiet.length }, 'signal simulator publishing');
  }

  /** Publishes a new state for one signal (e.g. `set('FZ-A-07', 'alarm')`). */
  async set(signal: string, state: string): Promise<void> {
    if (!this.client) throw new Error('signal simulator is not started');
    this.current.set(signal, state);
    const payload = JSON.stringify({ state, ts: this.options.clock.now(), seq: ++this.seq });
    await this.client.publishAsync(signalTopic(this.options.config.building.site.id, signal), payload, { qos: 1, retain: true });
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync();
  }

  health(): ComponentHealth {
    return this.client?.connected ? ok(`${this.current.size} signals simulated`) : down('not connected');
  }
}
