import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { problemsSummary } from '../../billing/imports.ts';
import { BillingError } from '../../billing/repository.ts';
import type { BillingService } from '../../billing/service.ts';
import { localDate } from '../../billing/calendar.ts';
import type { Role } from '../../config/schema.ts';
import { DOCUMENT_CSP } from '../access.ts';
import type { HttpContext } from '../context.ts';
import { WorkError } from '../../work/types.ts';

// The billing API (issue 7). Who may do what:
//   read periods, statements, exceptions, reads, tasks    finance, supervisor, admin
//   run, close, import payments, export                    finance, admin
//   edit a read, accept an exception                       finance, supervisor (issue 7: "finance or supervisor role and a reason")
//   enter a hand read, import reads, move-in and move-out  operator, supervisor, finance, admin (maintenance reads the meters)
//   approve the suspension list                            supervisor, admin

export const BILLING_READ_ROLES: readonly Role[] = ['finance', 'supervisor', 'admin'];
export const BILLING_RUN_ROLES: readonly Role[] = ['finance', 'admin'];
export const BILLING_EDIT_ROLES: readonly Role[] = ['finance', 'supervisor'];
/** Approving the suspension list: the management office's head, here a supervisor or admin. */
export const BILLING_APPROVE_ROLES: readonly Role[] = ['supervisor', 'admin'];
export const BILLING_READING_ROLES: readonly Role[] = ['operator', 'supervisor', 'finance', 'admin'];

const period = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a period is YYYY-MM');
const isoTime = z.iso.datetime({ offset: true }).transform((s) => Date.parse(s));
const reason = z.string().trim().min(1, 'a reason is required').max(1000);
const reading = z.string().regex(/^\d+(\.\d+)?$/, 'a reading is a decimal such as 1234.56');
/** The largest import file: a year of 15-minute reads of the demo building is about 50 MB. */
const IMPORT_MAX_BYTES = 256 * 1024 * 1024;
const csvBody = z.custom<Readable>((v) => v instanceof Readable, 'send the CSV file as text/csv');
const FILE_TYPES: Record<string, string> = { csv: 'text/csv; charset=utf-8', json: 'application/json; charset=utf-8', html: 'text/html; charset=utf-8' };

const schemas = {
  run: z.object({ period }),
  periodParams: z.object({ period }),
  fileParams: z.object({ period, version: z.coerce.number().int().positive(), name: z.string().regex(/^[a-z.]+\.(csv|json|html)$/) }),
  accept: z.object({ id: z.string().min(1).max(200), reason }),
  readsQuery: z.object({ meter: z.string().min(1), from: isoTime, to: isoTime }),
  handRead: z.object({ meterId: z.string().min(1), readAt: isoTime, value: reading, kind: z.enum(['actual', 'replacement_final', 'replacement_initial']).default('actual'), serial: z.string().min(1).optional() }),
  edit: z.object({ value: reading.nullable(), reason }),
  idParams: z.object({ id: z.coerce.number().int().positive() }),
  tenancy: z.object({
    unitId: z.string().min(1),
    kind: z.enum(['move_in', 'move_out']),
    company: z.string().trim().min(1),
    occupancy: z.enum(['owner', 'tenant']).default('tenant'),
    at: isoTime.optional(),
    reads: z.array(z.object({ meterId: z.string().min(1), value: reading })).optional(),
  }),
  exportQuery: z.object({ from: isoTime, to: isoTime }),
  tasksQuery: z.object({ period: period.optional() }),
  // Approval has its own route and roles; the other states are working states.
  taskState: z.object({ state: z.enum(['open', 'done']) }),
  dunningQuery: z.object({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional() }),
};

export function registerBillingRoutes(app: FastifyInstance, { services }: HttpContext): void {
  // Imports arrive as the CSV file itself, as a stream: billing/imports.ts writes it
  // to disk as it comes and enforces IMPORT_MAX_BYTES, so a 50 MB file never sits in memory.
  app.addContentTypeParser('text/csv', (_req, payload, done) => done(null, payload));
  const roles = (r: readonly Role[]) => ({ config: { roles: r } });

  /** Parses, runs and maps billing errors to their status; 503 without billing. */
  function handle<S extends z.ZodType>(schema: S, source: 'body' | 'query' | 'params', fn: (b: BillingService, input: z.infer<S>, actor: string, reply: FastifyReply) => unknown) {
    return async (request: { body: unknown; query: unknown; params: unknown; session: { username: string } | null }, reply: FastifyReply) => {
      const billing = services.billing;
      if (!billing) return reply.code(503).send({ error: { code: 'BOHUB_BILLING_UNAVAILABLE', message: 'billing is not running' } });
      const input = schema.safeParse(source === 'body' ? request.body : source === 'query' ? request.query : request.params);
      if (!input.success) {
        const issue = input.error.issues[0]!;
        return reply.code(400).send({ error: { code: 'BOHUB_BAD_REQUEST', message: `${issue.path.join('.') || source}: ${issue.message}` } });
      }
      try {
        return await fn(billing, input.data, request.session!.username, reply);
      } catch (err) {
        if (err instanceof BillingError) return reply.code(err.status).send({ error: { code: err.code, message: err.message } });
        // A worker that threw or died: nothing was stored (workers only read), and the next request works.
        if (err instanceof WorkError) return reply.code(500).send({ error: { code: err.code, message: err.message } });
        throw err;
      }
    };
  }

  app.get('/api/billing/periods', roles(BILLING_READ_ROLES), handle(z.object({}), 'query', (b) => ({ runs: b.repo.runs() })));

  // Runs, documents and the run view are built in a worker (billing/work.ts): the event loop stays free for alarms (issue 15).
  app.post('/api/billing/runs', roles(BILLING_RUN_ROLES), handle(schemas.run, 'body', async (b, { period }, actor) => {
    const { outcome, run, summary } = await b.work.run(period, actor);
    return { outcome, run: meta(run), summary };
  }));

  app.get('/api/billing/runs/:period', roles(BILLING_READ_ROLES), handle(schemas.periodParams, 'params', async (b, { period }, _actor, reply) => {
    const view = await b.work.runView(period);
    if (view === null) return reply.code(404).send({ error: { code: 'BOHUB_BILLING_NOT_FOUND', message: `no billing run for ${period} yet` } });
    return reply.type(FILE_TYPES.json!).send(view);
  }));

  app.get('/api/billing/runs/:period/v/:version/files/:name', roles(BILLING_READ_ROLES), handle(schemas.fileParams, 'params', async (b, { period, version, name }, _actor, reply) => {
    const text = await b.work.file(period, version, name);
    if (!text) return reply.code(404).send({ error: { code: 'BOHUB_BILLING_NOT_FOUND', message: `no document ${name} for ${period} v${version}` } });
    if (name.endsWith('.html')) reply.header('content-security-policy', DOCUMENT_CSP); // its inline style must apply
    return reply.type(FILE_TYPES[name.split('.').at(-1)!]!).header('content-disposition', `inline; filename="${period}-v${version}-${name}"`).send(text);
  }));

  app.post('/api/billing/runs/:period/close', roles(BILLING_RUN_ROLES), handle(schemas.periodParams, 'params', (b, { period }, actor) => ({ run: meta(b.close(period, actor)) })));

  app.post('/api/billing/exceptions/accept', roles(BILLING_EDIT_ROLES), handle(schemas.accept, 'body', (b, { id, reason }, actor) => ({ acceptance: b.acceptances.accept(id, reason, actor) })));

  app.get('/api/billing/reads', roles(BILLING_READ_ROLES), handle(schemas.readsQuery, 'query', (b, q) => ({ reads: b.repo.readsOf(q.meter, q.from, q.to) })));

  app.post('/api/billing/reads', roles(BILLING_READING_ROLES), handle(schemas.handRead, 'body', (b, r, actor, reply) => {
    const meter = b.meter(r.meterId);
    if (!meter) return reply.code(404).send({ error: { code: 'BOHUB_BILLING_NOT_FOUND', message: `unknown meter "${r.meterId}"` } });
    const read = { meterId: r.meterId, serial: r.serial ?? meter.serial, readAt: r.readAt, value: r.value, multiplier: String(meter.ctRatio), kind: r.kind, source: 'manual' as const, quality: 'good' as const };
    return b.repo.insertReads([read], actor, { action: 'billing.read.manual', subject: `${r.meterId}@${new Date(r.readAt).toISOString()}` });
  }));

  app.post('/api/billing/reads/:id/edit', roles(BILLING_EDIT_ROLES), handle(schemas.idParams, 'params', async (b, { id }, actor, reply) => {
    const body = schemas.edit.safeParse((reply.request as { body: unknown }).body);
    if (!body.success) return reply.code(400).send({ error: { code: 'BOHUB_BAD_REQUEST', message: `${body.error.issues[0]!.path.join('.') || 'body'}: ${body.error.issues[0]!.message}` } });
    return { read: b.repo.editRead(id, body.data, actor) };
  }));

  for (const kind of ['readings', 'payments'] as const) {
    const who = kind === 'readings' ? BILLING_READING_ROLES : BILLING_RUN_ROLES;
    app.post(`/api/billing/import/${kind}`, roles(who), handle(csvBody, 'body', async (b, body, actor, reply) => {
      const report = await b.imports.upload(kind, body, actor, IMPORT_MAX_BYTES);
      if (report.ok) return report;
      return reply.code(400).send({ error: { code: 'BOHUB_BILLING_INVALID', message: `nothing imported: ${problemsSummary(report)}` }, problems: report.problems, problemCount: report.problemCount });
    }));
  }

  // Streamed from a worker, meter by meter, with backpressure: a client that goes away stops the export and frees its worker.
  app.get('/api/billing/export/readings', roles(BILLING_RUN_ROLES), handle(schemas.exportQuery, 'query', (b, q, actor, reply) => {
    const csv = b.work.exportReadings(q.from, q.to, actor);
    reply.raw.once('close', () => csv.destroy());
    return reply.type(FILE_TYPES.csv!).header('content-disposition', 'attachment; filename="readings.csv"').send(csv);
  }));
  app.get('/api/billing/export/payments', roles(BILLING_RUN_ROLES), handle(z.object({}), 'query', (b, _q, _actor, reply) => reply.type(FILE_TYPES.csv!).send(b.exportPayments())));

  app.post('/api/billing/tenancy', roles(BILLING_READING_ROLES), handle(schemas.tenancy, 'body', (b, input, actor) => b.recordTenancy(input, actor)));

  app.get('/api/billing/tasks', roles(BILLING_READ_ROLES), handle(schemas.tasksQuery, 'query', (b, q) => ({ tasks: b.repo.tasks(q.period) })));
  app.post('/api/billing/tasks/:id/state', roles(BILLING_READ_ROLES), handle(schemas.idParams, 'params', (b, { id }, actor, reply) => {
    const body = schemas.taskState.safeParse((reply.request as { body: unknown }).body);
    if (!body.success) return reply.code(400).send({ error: { code: 'BOHUB_BAD_REQUEST', message: `state: ${body.error.issues[0]!.message}` } });
    return { task: b.repo.setTaskState(id, body.data.state, actor) };
  }));

  // handbook 第三节: suspending a unit's services needs the head's signature (the director's approval).
  app.post('/api/billing/tasks/:id/approve', roles(BILLING_APPROVE_ROLES), handle(schemas.idParams, 'params', (b, { id }, actor) => ({ task: b.repo.setTaskState(id, 'approved', actor) })));

  app.get('/api/billing/dunning/:period', roles(BILLING_READ_ROLES), handle(schemas.periodParams, 'params', async (b, { period }, _actor, reply) => {
    const q = schemas.dunningQuery.safeParse((reply.request as { query: unknown }).query);
    const tz = services.config.building.site.timezone;
    const date = (q.success && q.data.date) || localDate(services.clock.now(), tz);
    return { date, lists: await b.work.dunning(period, date) };
  }));
}

function meta(run: { id: number; period: string; version: number; status: string; corrects?: number; outputsHash: string; createdAt: number; createdBy: string; closedAt?: number; closedBy?: string }) {
  const { id, period, version, status, corrects, outputsHash, createdAt, createdBy, closedAt, closedBy } = run;
  return { id, period, version, status, corrects, outputsHash, createdAt, createdBy, closedAt, closedBy };
}
