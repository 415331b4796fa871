import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Role } from '../../config/schema.ts';
import type { AuditFilter } from '../../storage/types.ts';
import { sendError, sendInvalid } from '../access.ts';
import type { HttpContext } from '../context.ts';

// GET /api/audit: the audit log for the control room's audit page (issue 8), newest
// first, a page at a time. Reading it is for supervisors and admins: it names who did
// what to which alarm, incident, bill and screen (handbook 第一节: the duty log is
// checked by the supervisor).

/** Reading the audit log: supervisors and admins. */
export const AUDIT_ROLES: readonly Role[] = ['supervisor', 'admin'];

export const AUDIT_PAGE_DEFAULT = 200;
export const AUDIT_PAGE_MAX = 1000;

/** An ISO time with an offset, or ms since the epoch. */
const time = z.union([
  z.string().regex(/^\d{1,15}$/, 'ms since the epoch').transform(Number),
  z.iso.datetime({ offset: true, message: 'an ISO time with an offset (2026-03-01T08:00:00+08:00) or ms since the epoch' }).transform((s) => Date.parse(s)),
]);

const text = z.string().min(1).max(200);

const auditQuery = z
  // Strict: a misspelt filter must not quietly answer the whole log.
  .strictObject({
    actor: text.optional(),
    /** Exact, or a prefix when it ends in `.` or `*` (`alarm.` or `alarm.*`: every alarm action). */
    action: text.optional(),
    subject: text.optional(),
    from: time.optional(),
    to: time.optional(),
    before: z.string().regex(/^[1-9]\d{0,15}$/, 'an audit entry id').transform(Number).optional(),
    limit: z.coerce.number().int().min(1).max(AUDIT_PAGE_MAX).default(AUDIT_PAGE_DEFAULT),
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, { message: 'from must not be after to', path: ['from'] })
  .refine((q) => q.action === undefined || q.action.replace(/\*$/, '') !== '', { message: 'name at least the start of an action', path: ['action'] });

/** The query as the records store's filter: `alarm.*` → prefix `alarm.`, `alarm.` → prefix `alarm.`. */
export function auditFilterOf(q: z.output<typeof auditQuery>): AuditFilter {
  const filter: AuditFilter = { limit: q.limit };
  if (q.actor !== undefined) filter.actor = q.actor;
  if (q.subject !== undefined) filter.subject = q.subject;
  if (q.action !== undefined) {
    const prefix = q.action.endsWith('*') || q.action.endsWith('.');
    filter.action = q.action.endsWith('*') ? q.action.slice(0, -1) : q.action;
    if (prefix) filter.actionPrefix = true;
  }
  if (q.from !== undefined) filter.since = q.from;
  if (q.to !== undefined) filter.until = q.to;
  if (q.before !== undefined) filter.before = q.before;
  return filter;
}

export function registerAuditRoutes(app: FastifyInstance, { services }: HttpContext): void {
  app.get('/api/audit', { config: { roles: AUDIT_ROLES } }, async (request, reply) => {
    const q = auditQuery.safeParse(request.query);
    if (!q.success) {
      const unknown = q.error.issues.find((i) => i.code === 'unrecognized_keys');
      if (unknown) return sendError(reply, 400, 'BOHUB_BAD_REQUEST', `query: unknown parameter ${unknown.keys.join(', ')}; use actor, action, subject, from, to, before, limit`);
      return sendInvalid(reply, q.error);
    }
    // One more than asked is read, so whether a next page exists is known without a second query; in a worker in the hub.
    return reply.type('application/json; charset=utf-8').send(await services.queries.auditPage({ filter: auditFilterOf(q.data), limit: q.data.limit }));
  });
}
