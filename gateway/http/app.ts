import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { SessionStore } from '../auth/sessions.ts';
import type { HubServices } from '../services.ts';
import { accessHook, sendError } from './access.ts';
import type { HttpContext } from './context.ts';
import { LoginGuard } from './login-guard.ts';
import { attachDisplayLive } from './display-live.ts';
import { attachLive } from './live.ts';
import { registerAlarmRoutes } from './routes/alarms.ts';
import { registerAuditRoutes } from './routes/audit.ts';
import { registerAuthRoutes } from './routes/auth.ts';
import { registerBillingRoutes } from './routes/billing.ts';
import { registerDisplayLoginRoute } from './routes/display-login.ts';
import { registerDisplayRoutes, registerLobbyPage } from './routes/display.ts';
import { registerDataRoutes } from './routes/data.ts';
import { registerDeviceRoutes } from './routes/devices.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerIncidentRoutes } from './routes/incidents.ts';
import { registerSiteRoutes } from './routes/site.ts';

// The HTTP app factory, kept apart from listen so tests can use app.inject()
// (fastify docs/Guides/Testing.md). The caller listens; app.close() tears down
// everything this file starts, including the socket.io server.

export interface AppOptions {
  /** The dashboard's built files; default <repo>/dashboard/dist (`npm run build`). */
  dashboardDir?: string;
}

export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard/dist/', import.meta.url));

export async function buildApp(services: HubServices, options: AppOptions = {}): Promise<FastifyInstance> {
  // request.ip is the socket's peer address: no trustProxy, because the login limiter
  // counts by address and a forged X-Forwarded-For must not reset it.
  // pino 10's Logger type is wider than fastify's FastifyBaseLogger; the instance is compatible.
  const log = services.log.child({ module: 'http' }) as unknown as FastifyBaseLogger;
  // One log line per change of state, not per request: request logging is off; errors are logged below.
  const app: FastifyInstance = Fastify({ loggerInstance: log, trustProxy: false, logController: new LogController({ disableRequestLogging: true }) });
  // Sessions are kept in the records store when it can (issue 8: a hub restart does not log the control room out).
  const persisted = services.records.sessions;
  const sessions = new SessionStore(services.clock, services.config.building.web.sessionTtlMinutes, persisted ? { records: persisted, config: services.config } : undefined);
  if (persisted) log.info(sessions.restored, 'login sessions restored');
  const ctx: HttpContext = { services, sessions, logins: new LoginGuard(services) };

  await app.register(fastifyCookie);
  app.decorateRequest('session', null);
  app.addHook('onRequest', accessHook(sessions));
  app.addHook('onSend', async (request, reply) => {
    // The dashboard loads only its own files; nothing may frame it or guess types.
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    // A route may set a stricter policy of its own (the printable incident report: inline CSS, nothing else).
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', "default-src 'self'; frame-ancestors 'none'");
    // A route may allow caching of its own (a display image, named by its hash); API answers are otherwise never stored.
    if (request.url.startsWith('/api/') && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return sendError(reply, 500, 'BOHUB_INTERNAL', 'internal error; see the hub log');
    }
    // Fastify's own 4xx errors (malformed JSON, body too large, ...) keep their status.
    return sendError(reply, status, 'BOHUB_BAD_REQUEST', error.message);
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, 404, 'BOHUB_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`));

  registerAuthRoutes(app, ctx);
  registerHealthRoutes(app, ctx);
  registerSiteRoutes(app, ctx);
  registerDataRoutes(app, ctx);
  registerAlarmRoutes(app, ctx);
  registerBillingRoutes(app, ctx);
  registerIncidentRoutes(app, ctx);
  registerDisplayLoginRoute(app, ctx);
  registerDisplayRoutes(app, ctx);
  registerDeviceRoutes(app, ctx);
  registerAuditRoutes(app, ctx);

  const dashboardDir = options.dashboardDir ?? DEFAULT_DASHBOARD_DIR;
  const built = existsSync(join(dashboardDir, 'index.html'));
  // `npm start` builds the dashboard first (prestart); a hub started otherwise says what is missing instead of a bare 404.
  if (!built) log.error({ dir: dashboardDir }, 'the dashboard is not built: run `npm run build`; the API and live updates work without it');

  await app.register(async (scope) => {
    // The page itself is public (it shows the login form); the data behind it is not.
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true };
    });
    if (built) await scope.register(fastifyStatic, { root: dashboardDir, prefix: '/' });
    else scope.get('/', async (_request, reply) => reply.code(503).type('text/plain; charset=utf-8').send('The bohub dashboard is not built. Run `npm run build` (npm start does it for you), then reload.\n'));
    // The lobby kiosk page (issue 9) is dashboard/lobby.html, sent with this scope's reply.sendFile.
    registerLobbyPage(scope, ctx);
  });

  const live = attachLive(app, ctx);
  attachDisplayLive(app, ctx, live);
  return app;
}
