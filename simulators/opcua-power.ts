import { join } from 'node:path';
import {
  DataType, MessageSecurityMode, OPCUACertificateManager, OPCUAServer, SecurityPolicy, StatusCodes, Variant,
  type UAVariable,
} from 'node-opcua';
import type { LoadedConfig } from '../gateway/config/load.ts';
import type { Logger } from '../gateway/log.ts';
import { freePort } from './free-port.ts';
import { down, ok, type ComponentHealth, type Plugin } from '../gateway/plugin.ts';

export interface OpcuaPowerOptions {
  config: LoadedConfig;
  /** Which configured OPC-UA source to serve; default the first. */
  sourceId?: string;
  host?: string;
  /** 0 picks a free port once; restart() keeps it. */
  port: number;
  /** The server's own PKI (its certificate is made here on first start). */
  pkiDir: string;
  log: Logger;
}

/** Nominal line voltage of a building incomer (10 kV). */
const NOMINAL_VOLTS = 10_500;

/**
 * A power-monitoring OPC-UA server for the demo and the tests: for every node the
 * config maps to a power feeder it serves a Boolean (on) at that NodeId, and a
 * Double `<nodeId>.Voltage`. It offers SignAndEncrypt (Basic256Sha256) and None.
 */
export class OpcuaPowerSimulator implements Plugin {
  readonly name = 'simulators.opcua';
  private server?: OPCUAServer;
  private port = 0;
  private readonly on = new Map<string, boolean>();
  private readonly variables = new Map<string, UAVariable[]>();

  constructor(private readonly options: OpcuaPowerOptions) {}

  private source() {
    const sources = this.options.config.building.opcua.sources;
    const s = this.options.sourceId ? sources.find((x) => x.id === this.options.sourceId) : sources[0];
    if (!s) throw new Error(`no OPC-UA source ${this.options.sourceId ?? ''} in config`);
    return s;
  }

  async start(): Promise<void> {
    this.port ||= this.options.port || (await freePort());
    const serverCertificateManager = new OPCUACertificateManager({ rootFolder: join(this.options.pkiDir, 'server'), automaticallyAcceptUnknownCertificate: true });
    const server = new OPCUAServer({
      port: this.port,
      hostname: this.options.host ?? '127.0.0.1',
      resourcePath: '/bohub',
      serverCertificateManager,
      securityModes: [MessageSecurityMode.None, MessageSecurityMode.SignAndEncrypt],
      securityPolicies: [SecurityPolicy.None, SecurityPolicy.Basic256Sha256],
      allowAnonymous: true,
      buildInfo: { productName: 'bohub power-monitoring simulator' },
    });
    await server.initialize();
    const addressSpace = server.engine.addressSpace!;
    const ns = addressSpace.getOwnNamespace();
    const folder = ns.addObject({ organizedBy: addressSpace.rootFolder.objects, browseName: 'PowerMonitoring' });
    this.variables.clear();
    for (const node of this.source().nodes) {
      if (!this.on.has(node.signal)) this.on.set(node.signal, true);
      const on = ns.addVariable({
        componentOf: folder, browseName: `${node.signal}.On`, nodeId: node.nodeId, dataType: 'Boolean',
        value: { dataType: DataType.Boolean, value: this.on.get(node.signal) },
      });
      const volts = ns.addVariable({
        componentOf: folder, browseName: `${node.signal}.Voltage`, nodeId: `${node.nodeId}.Voltage`, dataType: 'Double',
        value: { dataType: DataType.Double, value: this.on.get(node.signal) ? NOMINAL_VOLTS : 0 },
      });
      this.variables.set(node.signal, [on, volts]);
    }
    await server.start();
    this.server = server;
    this.options.log.info({ module: 'simulators.opcua', url: this.url() }, 'OPC-UA power simulator listening');
  }

  /** opc.tcp://host:port/bohub */
  url(): string {
    return `opc.tcp://${this.options.host ?? '127.0.0.1'}:${this.port}/bohub`;
  }

  /** Switches a feeder on or off (e.g. `set('PF-A-GEN', 'off')`). */
  set(feeder: string, state: 'on' | 'off'): void {
    const vars = this.variables.get(feeder);
    if (!vars) throw new Error(`the OPC-UA simulator serves no feeder "${feeder}"`);
    this.on.set(feeder, state === 'on');
    const [on, volts] = vars as [UAVariable, UAVariable];
    on.setValueFromSource(new Variant({ dataType: DataType.Boolean, value: state === 'on' }), StatusCodes.Good);
    volts.setValueFromSource(new Variant({ dataType: DataType.Double, value: state === 'on' ? NOMINAL_VOLTS : 0 }), StatusCodes.Good);
  }

  /** Stops and starts again on the same port, as a server reboot would; feeder states are kept. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await server.shutdown(0);
  }

  health(): ComponentHealth {
    return this.server ? ok(`serving ${this.variables.size} feeders at ${this.url()}`) : down('not started');
  }
}
