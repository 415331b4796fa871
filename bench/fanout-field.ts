// The building's field for the fanout benchmark, in its own process: the demo
// building's 272 simulated Modbus meters on their six buses, the OPC-UA power
// monitor and the MQTT fire/leak/gas/power panels. These are the simulators `bohub
// start` runs inside the hub for the demo; here they are load, not the system under
// test, so they run apart from it (BENCHMARKS.md) and their CPU is not the hub's.
// Each meter answers after responseDelayMs, as an RS-485 meter behind a Modbus TCP
// gateway does (tens of ms), rather than at once from memory: the hub's sweeps then
// spread over time instead of landing in one burst.
import { systemClock } from '../gateway/clock.ts';
import { loadConfig, type LoadedConfig } from '../gateway/config/load.ts';
import { silentLogger } from '../gateway/log.ts';
import { ModbusMeterSimulator } from '../simulators/modbus-meters.ts';
import { OpcuaPowerSimulator } from '../simulators/opcua-power.ts';
import { SignalPanelSimulator } from '../simulators/signal-panel.ts';
import { serve } from './fanout-ipc.ts';

export interface FieldStarted {
  /** Where each Modbus bus listens, by bus id. */
  buses: Record<string, { host: string; port: number }>;
  /** The OPC-UA power monitor's endpoint, or null when the building has no OPC-UA source. */
  opcua: string | null;
}

let config: LoadedConfig | undefined;
let modbus: ModbusMeterSimulator | undefined;
let opcua: OpcuaPowerSimulator | undefined;
let panels: SignalPanelSimulator | undefined;

serve({
  async start(args: { config: string; pkiDir: string; responseDelayMs: number }): Promise<FieldStarted> {
    config = loadConfig(args.config, {});
    modbus = new ModbusMeterSimulator({ config, clock: systemClock, log: silentLogger, ephemeralPorts: true, responseDelayMs: args.responseDelayMs });
    await modbus.start();
    if (config.building.opcua.sources.length) {
      opcua = new OpcuaPowerSimulator({ config, port: 0, pkiDir: args.pkiDir, log: silentLogger });
      await opcua.start();
    }
    return { buses: Object.fromEntries(modbus.endpoints()), opcua: opcua?.url() ?? null };
  },
  /** The panels publish into the hub's broker, so they start once the hub is up. */
  async panels(args: { broker: string }): Promise<number> {
    if (!config) throw new Error('start the field first');
    panels = new SignalPanelSimulator({ config, url: () => args.broker, clock: systemClock, log: silentLogger });
    await panels.start();
    return panels.sourceIds().length;
  },
  async stop() {
    await panels?.stop();
    await opcua?.stop();
    await modbus?.stop();
  },
});
