import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { AlarmError, ALARM_STATES, type AlarmService } from '../../alarms/types.ts';
import type { Role } from '../../config/schema.ts';
import { DATA_ROLES, sendError, sendInvalid } from '../access.ts';
import type { HttpContext } from '../context.ts';

// The alarm API (issue 5):
//   GET  /api/alarms?state=active   every role that reads the building
//   POST /api/alarms/:id/ack        {comment}          operator, supervisor, admin
//   POST /api/alarms/:id/reset      {comment}          operator, supervisor, admin (latched fire)
//   POST /api/alarms/:id/shelve     {reason, minutes}  supervisor, admin (never fire)
// Every action is done by the logged-in user, with a comment, and audited with it.

/** Acknowledging and resetting: the people on duty in the control room. */
export const ALARM_ACK_ROLES: readonly Role[] = ['operator', 'supervisor', 'admin'];
/** Shelving hides an alarm from the list for a while: supervisors only (ISA-18.2: shelving is an authorised action). */
export const ALARM_SHELVE_ROLES: readonly Role[] = ['supervisor', 'admin'];

const listQuery = z.object({ state: z.enum(['active', 'all', 'shelved', ...ALARM_STATES]).default('active') });
const idParams = z.object({ id: z.coerce.number().int().positive() });
const comment = z.string().trim().min(1, 'a comment is required').max(1000);
const commentBody = z.object({ comment });
const shelveBody = z.object({ reason: comment, minutes: z.number().int().min(1) });


export function registerAlarmRoutes(app: FastifyInstance, { services }: HttpContext): void {
  /** The engine, or a 503 when the hub runs without one. */
  const engine = (reply: FastifyReply): AlarmService | undefined => {
    if (!services.alarms) void sendError(reply, 503, 'BOHUB_ALARMS_UNAVAILABLE', 'the alarm engine is not running');
    return services.alarms;
  };

  app.get('/api/alarms', { config: { roles: DATA_ROLES } }, async (request, reply) => {
    const q = listQuery.safeParse(request.query);
    if (!q.success) return sendInvalid(reply, q.error);
    const alarms = engine(reply)?.list(q.data.state);
    return alarms && { alarms };
  });

  // Acknowledge and reset take the same body and the same roles; only the engine call differs.
  for (const action of ['ack', 'reset'] as const) {
    app.post(`/api/alarms/:id/${action}`, { config: { roles: ALARM_ACK_ROLES } }, async (request, reply) => {
      const p = idParams.safeParse(request.params);
      const b = commentBody.safeParse(request.body);
      if (!p.success) return sendInvalid(reply, p.error);
      if (!b.success) return sendInvalid(reply, b.error);
      return act(reply, (e) => e[action](p.data.id, request.session!.username, b.data.comment));
    });
  }

  app.post('/api/alarms/:id/shelve', { config: { roles: ALARM_SHELVE_ROLES } }, async (request, reply) => {
    const p = idParams.safeParse(request.params);
    const b = shelveBody.safeParse(request.body);
    if (!p.success) return sendInvalid(reply, p.error);
    if (!b.success) return sendInvalid(reply, b.error);
    return act(reply, (e) => e.shelve(p.data.id, request.session!.username, b.data.reason, b.data.minutes));
  });

  /** Runs a user action; a refused one answers its own status and code (404, 409, 400). */
  function act(reply: FastifyReply, fn: (e: AlarmService) => unknown) {
    const e = engine(reply);
    if (!e) return reply;
    try {
      return { alarm: fn(e) };
    } catch (err) {
      if (err instanceof AlarmError) return sendError(reply, err.status, err.code, err.message);
      throw err;
    }
  }
}
