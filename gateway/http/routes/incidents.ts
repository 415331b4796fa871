import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Role } from '../../config/schema.ts';
import { incidentReport, renderReportHtml } from '../../runbooks/report.ts';
import { IncidentError, type Actor, type Incident, type IncidentService } from '../../runbooks/types.ts';
import { DATA_ROLES, DOCUMENT_CSP, sendError, sendInvalid } from '../access.ts';
import type { HttpContext } from '../context.ts';

// The incident API (issue 6, handbook 第九节):
//   GET  /api/runbooks                                   every role that reads the building
//   GET  /api/incidents?state=active|all|open|stabilised|closed
//   GET  /api/incidents/:id
//   GET  /api/incidents/:id/report?format=json|html      the closing report (第九节 一: written summary)
//   POST /api/incidents                  {runbook, tower?, fields?, units?, level?, note?}   operator, supervisor, admin
//   POST /api/incidents/:id/steps/:stepKey/complete  {note?, value?, calls?}   operator, supervisor, finance, admin
//   POST /api/incidents/:id/stabilise    {note}       operator, supervisor, admin
//   POST /api/incidents/:id/close        {summary}    supervisor, admin
// The roles here are only the outer gate: the engine also checks the runbook's
// startRoles and each step's duty role against the user's login role (IncidentError 403).

/** The people on duty in the control room may start a procedure by hand. */
export const INCIDENT_START_ROLES: readonly Role[] = ['operator', 'supervisor', 'admin'];
/** Finance acts for some duty roles (tallying losses); the engine decides step by step. */
export const INCIDENT_STEP_ROLES: readonly Role[] = ['operator', 'supervisor', 'finance', 'admin'];
export const INCIDENT_STABILISE_ROLES: readonly Role[] = ['operator', 'supervisor', 'admin'];
/** Closing files the written summary for the director: supervisors only. */
export const INCIDENT_CLOSE_ROLES: readonly Role[] = ['supervisor', 'admin'];

/** The report page's own policy: its CSS is inline, and it loads nothing at all. */
export const REPORT_CSP = DOCUMENT_CSP;

const text = (max: number) => z.string().trim().max(max);
const listQuery = z.object({ state: z.enum(['active', 'all', 'open', 'stabilised', 'closed']).default('active') });
const reportQuery = z.object({ format: z.enum(['json', 'html']).default('json') });
const idParams = z.object({ id: z.coerce.number().int().positive() });
const stepParams = idParams.extend({ stepKey: z.string().min(1).max(200) });
const startBody = z.object({
  runbook: z.string().min(1).max(100),
  tower: z.string().min(1).max(100).optional(),
  fields: z.record(z.string().min(1).max(100), text(2000)).optional(),
  units: z.array(z.string().min(1).max(100)).max(1000).optional(),
  /** A signal runbook started by hand (the weather relayed by phone): its level, e.g. typhoon "3". */
  level: z.string().min(1).max(50).optional(),
  note: text(2000).optional(),
});
const call = z.object({
  name: text(200).min(1, 'who was called'),
  phone: text(50).min(3, 'the number called'),
  outcome: z.enum(['answered', 'no-answer', 'busy', 'wrong-number']),
  at: z.number().int().positive().optional(),
  note: text(1000).optional(),
});
// An empty body is a plain "done" for a step completed by its role.
const completeBody = z
  .object({ note: text(2000).optional(), value: z.union([z.number().finite(), text(500).min(1)]).optional(), calls: z.array(call).max(200).optional() })
  .prefault({});
const stabiliseBody = z.object({ note: text(2000).min(1, 'a note is required') });
const closeBody = z.object({ summary: text(20_000).min(1, 'the written summary is required') });


export function registerIncidentRoutes(app: FastifyInstance, { services }: HttpContext): void {
  /** The engine, or a 503 when the hub runs without one. */
  const engine = (reply: FastifyReply): IncidentService | undefined => {
    if (!services.incidents) void sendError(reply, 503, 'BOHUB_INCIDENTS_UNAVAILABLE', 'the runbook engine is not running');
    return services.incidents;
  };
  /** The incident, or a 404 (or the 503 above). */
  const found = (reply: FastifyReply, id: number): Incident | undefined => {
    const e = engine(reply);
    const incident = e?.get(id);
    if (e && !incident) void sendError(reply, 404, 'BOHUB_INCIDENT_NOT_FOUND', `no incident ${id}`);
    return incident;
  };

  app.get('/api/runbooks', { config: { roles: DATA_ROLES } }, async (_request, reply) => {
    const runbooks = engine(reply)?.runbooks();
    return runbooks && { runbooks };
  });

  app.get('/api/incidents', { config: { roles: DATA_ROLES } }, async (request, reply) => {
    const q = listQuery.safeParse(request.query);
    if (!q.success) return sendInvalid(reply, q.error);
    const live = engine(reply);
    if (!live) return;
    // The active ones are in memory; history (up to 500 with their timelines) is read and serialised in a worker in the hub.
    if (q.data.state === 'active') return { incidents: live.list('active') };
    return reply.type('application/json; charset=utf-8').send(await services.queries.incidentHistory(q.data.state === 'all' ? undefined : q.data.state));
  });

  app.get('/api/incidents/:id', { config: { roles: DATA_ROLES } }, async (request, reply) => {
    const p = idParams.safeParse(request.params);
    if (!p.success) return sendInvalid(reply, p.error);
    const incident = found(reply, p.data.id);
    return incident ? { incident } : reply;
  });

  app.get('/api/incidents/:id/report', { config: { roles: DATA_ROLES } }, async (request, reply) => {
    const p = idParams.safeParse(request.params);
    const q = reportQuery.safeParse(request.query);
    if (!p.success) return sendInvalid(reply, p.error);
    if (!q.success) return sendInvalid(reply, q.error);
    const incident = found(reply, p.data.id);
    if (!incident) return reply;
    const site = services.config.building.site;
    const report = incidentReport(incident, { site: { id: site.id, name: site.name }, timeZone: site.timezone, now: services.clock.now() });
    if (q.data.format === 'json') return report;
    // app.ts's onSend keeps a CSP the route set; the dashboard's default-src 'self' would block the inline CSS.
    return reply
      .type('text/html; charset=utf-8')
      .header('content-disposition', `inline; filename="incident-${incident.id}.html"`)
      .header('content-security-policy', REPORT_CSP)
      .send(renderReportHtml(report));
  });

  app.post('/api/incidents', { config: { roles: INCIDENT_START_ROLES } }, async (request, reply) => {
    const b = startBody.safeParse(request.body);
    if (!b.success) return sendInvalid(reply, b.error);
    const { runbook, ...input } = b.data;
    const result = act(request, reply, (e, by) => e.startRunbook(runbook, by, input));
    return result === reply ? reply : reply.code(201).send(result);
  });

  app.post('/api/incidents/:id/steps/:stepKey/complete', { config: { roles: INCIDENT_STEP_ROLES } }, async (request, reply) => {
    const p = stepParams.safeParse(request.params);
    const b = completeBody.safeParse(request.body);
    if (!p.success) return sendInvalid(reply, p.error);
    if (!b.success) return sendInvalid(reply, b.error);
    return act(request, reply, (e, by) => e.completeStep(p.data.id, p.data.stepKey, by, b.data));
  });

  app.post('/api/incidents/:id/stabilise', { config: { roles: INCIDENT_STABILISE_ROLES } }, async (request, reply) => {
    const p = idParams.safeParse(request.params);
    const b = stabiliseBody.safeParse(request.body);
    if (!p.success) return sendInvalid(reply, p.error);
    if (!b.success) return sendInvalid(reply, b.error);
    return act(request, reply, (e, by) => e.stabilise(p.data.id, by, b.data.note));
  });

  app.post('/api/incidents/:id/close', { config: { roles: INCIDENT_CLOSE_ROLES } }, async (request, reply) => {
    const p = idParams.safeParse(request.params);
    const b = closeBody.safeParse(request.body);
    if (!p.success) return sendInvalid(reply, p.error);
    if (!b.success) return sendInvalid(reply, b.error);
    return act(request, reply, (e, by) => e.close(p.data.id, by, b.data.summary));
  });

  /** Runs a user action as the logged-in user; a refused one answers its own status and code (404, 409, 403, 400). */
  function act(request: FastifyRequest, reply: FastifyReply, fn: (e: IncidentService, by: Actor) => Incident): { incident: Incident } | FastifyReply {
    const e = engine(reply);
    if (!e) return reply;
    try {
      return { incident: fn(e, { username: request.session!.username, role: request.session!.role }) };
    } catch (err) {
      if (err instanceof IncidentError) return sendError(reply, err.status, err.code, err.message);
      throw err;
    }
  }
}
