import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { DATA_ROLES, sendError } from '../access.ts';
import type { HttpContext } from '../context.ts';

// GET /api/live/snapshot: the latest value of every point (first paint, and resync
// after a reconnect). GET /api/telemetry: one point's trend from the telemetry store.

/** Measurement meter readings are stored under; the tags are `device` and `point`. */
export const METER_MEASUREMENT = 'meter';
/** A longer range is refused so one request cannot scan the whole store. */
const MAX_RANGE_MS = 366 * 24 * 3600_000;

const time = z.union([z.coerce.number().int().nonnegative(), z.iso.datetime({ offset: true }).transform((s) => Date.parse(s))]);

const telemetryQuery = z
  .object({
    device: z.string().min(1).max(64),
    point: z.string().min(1).max(64),
    measurement: z.string().min(1).max(64).default(METER_MEASUREMENT),
    from: time,
    to: time,
    limit: z.coerce.number().int().min(1).max(10_000).default(1000),
  })
  .refine((q) => q.from < q.to, { message: 'from must be before to', path: ['from'] })
  .refine((q) => q.to - q.from <= MAX_RANGE_MS, { message: 'the range is longer than 366 days', path: ['to'] });

export function registerDataRoutes(app: FastifyInstance, { services }: HttpContext): void {
  app.get('/api/live/snapshot', { config: { roles: DATA_ROLES } }, async () => services.latest.snapshot());

  app.get('/api/telemetry', { config: { roles: DATA_ROLES } }, async (request, reply) => {
    const parsed = telemetryQuery.safeParse(request.query);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return sendError(reply, 400, 'BOHUB_BAD_REQUEST', `${issue.path.join('.') || 'query'}: ${issue.message}`);
    }
    const q = parsed.data;
    const series = await services.telemetry.query({
      measurement: q.measurement,
      tags: { device: q.device, point: q.point },
      from: q.from,
      to: q.to,
      limit: q.limit,
    });
    return { series };
  });
}
