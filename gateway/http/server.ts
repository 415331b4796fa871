import type { FastifyInstance } from 'fastify';
import { BohubError, describeError } from '../errors.ts';
import { down, ok, type ComponentHealth, type Plugin } from '../plugin.ts';
import type { HubServices } from '../services.ts';
import { buildApp } from './app.ts';

export interface HttpServerOptions {
  services: HubServices;
  dashboardDir?: string;
}

/** The web server as a plug-in: builds the fastify app (REST, socket.io, pages) and listens. */
export class HttpServer implements Plugin {
  readonly name = 'http';
  private app?: FastifyInstance;
  private address = '';

  constructor(private readonly options: HttpServerOptions) {}

  async start(): Promise<void> {
    const { host, port } = this.options.services.config.building.web;
    const app = await buildApp(this.options.services, { dashboardDir: this.options.dashboardDir });
    try {
      await app.listen({ host, port });
    } catch (err) {
      await app.close();
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
        throw new BohubError('BOHUB_PORT_IN_USE', `web port ${host}:${port} is already in use (another bohub?); set web.port or BOHUB_HTTP_PORT`);
      throw new BohubError('BOHUB_PORT_IN_USE', `cannot listen on ${host}:${port}: ${describeError(err)}`, { cause: err });
    }
    this.app = app;
    const bound = app.server.address();
    const boundPort = typeof bound === 'object' && bound ? bound.port : port;
    this.address = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
    this.options.services.log.info({ module: 'http', url: this.address }, 'web server listening');
  }

  /** The base URL with the port actually bound (web.port may be 0 in tests). */
  url(): string {
    return this.address;
  }

  async stop(): Promise<void> {
    const app = this.app;
    this.app = undefined;
    if (app) await app.close();
  }

  health(): ComponentHealth {
    return this.app ? ok(`listening on ${this.address}`) : down('not listening');
  }
}
