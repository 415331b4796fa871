import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { DATA_ROLES, sendError } from '../access.ts';
import type { HttpContext } from '../context.ts';

// GET /api/live/snapshot: the latest value of every point (first paint, and resync
// after a reconnect). GET /api/telemetry: one point's trend from the telemetry store,
// raw points, or with every=5m|1h|1d|... one mean per bucket, the store reading the
// resolution that fits (raw, 1-minute or 1-hour rollups). Buckets follow the
// building's time zone (site.timezone): a day in Shanghai starts at local midnight.

/** Measurement meter readings are stored under; the tags are `device` and `point`. */
export const METER_MEASUREMENT = 'meter';
/** A longer range is refused so one request cannot scan the whole store. */
const MAX_RANGE_MS = 366 * 24 * 3600_000;

/** The most buckets one answer may hold. */
const MAX_BUCKETS = 10_000;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A bucket width: `30s`, `5m`, `1h`, `1d`, `7d`, ... in ms. */
const every = z
  .string()
  .regex(/^[1-9]\d{0,3}[smhd]$/, 'a duration such as 5m, 1h or 1d')
  .transform((s) => Number(s.slice(0, -1)) * UNIT_MS[s.slice(-1) as keyof typeof UNIT_MS]);

const time = z.union([z.coerce.number().int().nonnegative(), z.iso.datetime({ offset: true }).transform((s) => Date.parse(s))]);

const telemetryQuery = z
  .object({
    device: z.string().min(1).max(64),
    point: z.string().min(1).max(64),
    measurement: z.string().min(1).max(64).default(METER_MEASUREMENT),
    from: time,
    to: time,
    limit: z.coerce.number().int().min(1).max(10_000).default(1000),
    every: every.optional(),
  })
  .refine((q) => q.from < q.to, { message: 'from must be before to', path: ['from'] })
  .refine((q) => q.to - q.from <= MAX_RANGE_MS, { message: 'the range is longer than 366 days', path: ['to'] })
  .refine((q) => !q.every || (q.to - q.from) / q.every <= MAX_BUCKETS, { message: `more than ${MAX_BUCKETS} buckets; choose a longer every`, path: ['every'] });

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
      ...(q.every ? { every: q.every, timeZone: services.config.building.site.timezone } : {}),
    });
    return { series };
  });
}
