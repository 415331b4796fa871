import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from '../log.ts';
import { BohubError, describeError } from '../errors.ts';
import { degraded, down, ok, type ComponentHealth, type Plugin } from '../plugin.ts';

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  log: Logger;
}

/**
 * The embedded MQTT broker (aedes) used when no external broker is configured.
 * Per-client authentication and topic ACLs arrive with the safety-signals issue;
 * until then it listens on the configured address only (loopback by default).
 */
export class EmbeddedBroker implements Plugin {
  readonly name = 'broker';
  private broker?: Aedes;
  private server?: Server;
  private state: ComponentHealth = down('not started');
  private boundPort = 0;

  constructor(private readonly options: EmbeddedBrokerOptions) {}

  async start(): Promise<void> {
    const log = this.options.log.child({ module: 'broker' });
    this.broker = await Aedes.createBroker({
      // A frozen subscriber must not stall the broker: drop its connection after 10 s
      // of a full socket buffer (aedes docs, drainTimeout).
      drainTimeout: 10_000,
    });
    this.broker.on('clientError', (client, err) => log.warn({ client: client.id, err: err.message }, 'MQTT client error'));
    const server = createServer(this.broker.handle);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'EADDRINUSE'
          ? new BohubError('BOHUB_PORT_IN_USE', `MQTT port ${this.options.host}:${this.options.port} is already in use; set broker.port or BOHUB_MQTT_PORT`)
          : err));
      server.listen(this.options.port, this.options.host, () => resolve());
    });
    this.boundPort = (server.address() as { port: number }).port;
    server.on('error', (err) => (this.state = degraded(describeError(err))));
    this.state = ok(`listening on ${this.options.host}:${this.boundPort}`);
    log.info({ host: this.options.host, port: this.boundPort }, 'embedded MQTT broker listening');
  }

  /** The URL clients use, with the port actually bound (it may have been 0). */
  url(): string {
    return `mqtt://${this.options.host}:${this.boundPort}`;
  }

  async stop(): Promise<void> {
    const { server, broker } = this;
    this.server = undefined;
    this.broker = undefined;
    if (broker) await new Promise<void>((r) => broker.close(() => r()));
    if (server) await new Promise<void>((r) => server.close(() => r()));
    this.state = down('stopped');
  }

  health(): ComponentHealth {
    if (this.broker && this.state.status === 'ok') return ok(`${this.state.detail}, ${this.broker.connectedClients} clients`);
    return this.state;
  }
}
