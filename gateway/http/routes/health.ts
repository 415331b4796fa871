import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../context.ts';

// GET /api/health and GET /metrics: both public.
//
// /metrics is public because Prometheus scrapers usually have no login, and the
// metrics hold counts and states, never readings, tenants or secrets. Where the
// hub's port is reachable from outside the building LAN, restrict /metrics at the
// reverse proxy or firewall instead.

export function registerHealthRoutes(app: FastifyInstance, { services }: HttpContext): void {
  app.get('/api/health', { config: { public: true } }, async (_request, reply) => {
    const report = services.health();
    // 503 only when the hub is down, so load balancers keep sending traffic to a degraded hub.
    return reply.code(report.status === 'down' ? 503 : 200).send(report);
  });

  app.get('/metrics', { config: { public: true } }, async (_request, reply) => {
    const registry = services.metrics.registry;
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
