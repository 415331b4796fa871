import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Role } from '../../config/schema.ts';
import { itemInputSchema } from '../../display/items.ts';
import { DisplayError, ITEM_STATES, type DisplayActor, type DisplayService } from '../../display/types.ts';
import { DATA_ROLES, mayReadScreen, sendError, sendInvalid } from '../access.ts';
import type { HttpContext } from '../context.ts';

// The lobby-display API (issue 9; handbook 第七节 二、大堂液晶显示屏管理规程):
//   GET  /api/display/:screenId/now           what the screen shows now      display (its own screen only), DATA_ROLES
//   GET  /api/display/images/:sha             an item's image                display (images on its screen only), DATA_ROLES
//   GET  /api/display/items?state=&screen=    GET /api/display/items/:id     DATA_ROLES
//   POST /api/display/items                   ItemInput + {submit?}          editor roles (reception enters content)
//   PUT  /api/display/items/:id               ItemInput                      editor roles (an approved item goes back for approval)
//   POST /api/display/items/from-template     {template, values, screens, start, end, planWeek, planSlot, priority}   editor roles
//   POST /api/display/items/:id/submit                                       editor roles
//   POST /api/display/items/:id/approve       {note?, directorConsent?}      approver roles (the management office)
//   POST /api/display/items/:id/reject        {reason}                       approver roles
//   POST /api/display/items/:id/withdraw      {reason}                       editor and approver roles
//   GET  /api/display/templates               GET /api/display/emergency-templates   DATA_ROLES
//   POST /api/display/emergency-templates/:id/approve   {note}               approver roles
// The editor and approver roles are config display.editorRoles and .approverRoles.
// An emergency template's id is `<runbook>/<step>`: in the URL write it `<runbook>~<step>`
// (ids never contain "~"), or with the slash encoded as %2F.
// Times are ISO 8601 with an offset ("2026-03-09T08:00:00+08:00") or ms since the epoch.
// The page itself, GET /lobby/:screenId, is registerLobbyPage below.

/** A lobby screen's own session, and everyone who reads the building (to preview a screen). */
export const SCREEN_READ_ROLES: readonly Role[] = ['display', ...DATA_ROLES];

/** Images are addressed by their sha256, so a copy never goes stale. */
export const IMAGE_CACHE = 'private, max-age=31536000, immutable';

// The item's shape is the service's own schema (display/items.ts); over HTTP the
// schedule may also be given as ISO 8601 times with an offset.
const time = z.union([z.number().int().nonnegative(), z.iso.datetime({ offset: true }).transform((s) => Date.parse(s))]);
const text = (max: number) => z.string().trim().min(1).max(max);
const screenId = z.string().min(1).max(100);

const itemInput = itemInputSchema.extend({ start: time, end: time });
const schedule = itemInput.omit({ title: true, body: true });
const createBody = itemInput.extend({ submit: z.boolean().optional() });
const fromTemplateBody = schedule.extend({
  template: z.string().min(1).max(100),
  values: z.record(z.string().min(1).max(100), z.string().trim().max(2000)).default({}),
});
const approveBody = z
  .object({ note: text(1000).optional(), directorConsent: z.object({ director: text(100), note: text(1000) }).optional() })
  .prefault({});
const reasonBody = z.object({ reason: text(1000) });
const noteBody = z.object({ note: text(1000) });
const listQuery = z.object({ state: z.enum(ITEM_STATES).optional(), screen: screenId.optional(), week: z.string().regex(/^\d{4}-W\d{2}$/, 'a plan week such as 2026-W48').optional() });
const idParams = z.object({ id: z.coerce.number().int().positive() });
const screenParams = z.object({ screenId });
const shaParams = z.object({ sha: z.string().regex(/^[0-9a-f]{64}$/, 'an image is named by its sha256, 64 hex digits') });
// `fire-alarm~assess` and `fire-alarm%2Fassess` (decoded by the router) both mean fire-alarm/assess.
const templateParams = z.object({ id: z.string().min(3).max(201).transform((s) => (s.includes('/') ? s : s.replace('~', '/'))) });


export function registerDisplayRoutes(app: FastifyInstance, { services }: HttpContext): void {
  const { building } = services.config;
  const editors = building.display.editorRoles;
  const approvers = building.display.approverRoles;
  const withdrawers = [...new Set([...editors, ...approvers])];
  const screens = new Set(building.displays.map((d) => d.id));
  // An item may carry its image as base64 (4 characters per 3 bytes), plus its texts.
  const itemBodyLimit = Math.ceil(building.display.maxImageBytes / 3) * 4 + 64 * 1024;
  const roles = (r: readonly Role[]) => ({ config: { roles: r } });

  /** Runs fn on the service as the logged-in user; 503 without the service, a DisplayError answers its own status and code. */
  function act(request: FastifyRequest, reply: FastifyReply, fn: (display: DisplayService, by: DisplayActor) => unknown): unknown {
    const display = services.display;
    if (!display) return sendError(reply, 503, 'BOHUB_DISPLAY_UNAVAILABLE', 'the display service is not running');
    try {
      return fn(display, { username: request.session!.username, role: request.session!.role });
    } catch (err) {
      if (err instanceof DisplayError) return sendError(reply, err.status, err.code, err.message);
      throw err;
    }
  }

  app.get('/api/display/:screenId/now', roles(SCREEN_READ_ROLES), async (request, reply) => {
    const p = parse(reply, screenParams, request.params);
    if (!p) return reply;
    // Checked before the screen is looked up, so a screen's token learns nothing about other screens.
    if (!mayReadScreen(request.session!, p.screenId)) return sendError(reply, 403, 'BOHUB_FORBIDDEN', 'a display login reads only its own screen');
    if (!screens.has(p.screenId)) return sendError(reply, 404, 'BOHUB_DISPLAY_NOT_FOUND', `no screen ${p.screenId}`);
    return act(request, reply, (d) => d.now(p.screenId));
  });

  app.get('/api/display/images/:sha', roles(SCREEN_READ_ROLES), async (request, reply) => {
    const p = parse(reply, shaParams, request.params);
    if (!p) return reply;
    return act(request, reply, (d) => {
      const session = request.session!;
      if (session.role === 'display' && !(session.screen && imageOnScreen(d, session.screen, p.sha))) {
        throw new DisplayError('BOHUB_FORBIDDEN', 'a display login reads only the images of its own screen', 403);
      }
      const image = d.image(p.sha);
      if (!image) throw new DisplayError('BOHUB_DISPLAY_NOT_FOUND', `no image ${p.sha}`, 404);
      return reply.type(image.mime).header('cache-control', IMAGE_CACHE).send(image.bytes);
    });
  });

  app.get('/api/display/items', roles(DATA_ROLES), async (request, reply) => {
    const q = parse(reply, listQuery, request.query);
    return q ? act(request, reply, (d) => ({ items: d.list(q) })) : reply;
  });

  app.get('/api/display/items/:id', roles(DATA_ROLES), async (request, reply) => {
    const p = parse(reply, idParams, request.params);
    if (!p) return reply;
    return act(request, reply, (d) => {
      const item = d.get(p.id);
      if (!item) throw new DisplayError('BOHUB_DISPLAY_NOT_FOUND', `no display item ${p.id}`, 404);
      return { item };
    });
  });

  app.post('/api/display/items', { ...roles(editors), bodyLimit: itemBodyLimit }, async (request, reply) => {
    const b = parse(reply, createBody, request.body);
    if (!b) return reply;
    const { submit, ...input } = b;
    return created(reply, act(request, reply, (d, by) => ({ item: d.create(input, by, { submit: submit === true }) })));
  });

  app.put('/api/display/items/:id', { ...roles(editors), bodyLimit: itemBodyLimit }, async (request, reply) => {
    const p = parse(reply, idParams, request.params);
    if (!p) return reply;
    const b = parse(reply, itemInput, request.body);
    return b ? act(request, reply, (d, by) => ({ item: d.edit(p.id, b, by) })) : reply;
  });

  app.post('/api/display/items/from-template', { ...roles(editors), bodyLimit: itemBodyLimit }, async (request, reply) => {
    const b = parse(reply, fromTemplateBody, request.body);
    if (!b) return reply;
    const { template, values, ...rest } = b;
    return created(reply, act(request, reply, (d, by) => ({ item: d.createFromTemplate(template, values, rest, by) })));
  });

  app.post('/api/display/items/:id/submit', roles(editors), async (request, reply) => {
    const p = parse(reply, idParams, request.params);
    return p ? act(request, reply, (d, by) => ({ item: d.submit(p.id, by) })) : reply;
  });

  app.post('/api/display/items/:id/approve', roles(approvers), async (request, reply) => {
    const p = parse(reply, idParams, request.params);
    if (!p) return reply;
    const b = parse(reply, approveBody, request.body);
    return b ? act(request, reply, (d, by) => ({ item: d.approve(p.id, by, b) })) : reply;
  });

  app.post('/api/display/items/:id/reject', roles(approvers), async (request, reply) => {
    const p = parse(reply, idParams, request.params);
    if (!p) return reply;
    const b = parse(reply, reasonBody, request.body);
    return b ? act(request, reply, (d, by) => ({ item: d.reject(p.id, by, b.reason) })) : reply;
  });

  app.post('/api/display/items/:id/withdraw', roles(withdrawers), async (request, reply) => {
    const p = parse(reply, idParams, request.params);
    if (!p) return reply;
    const b = parse(reply, reasonBody, request.body);
    return b ? act(request, reply, (d, by) => ({ item: d.withdraw(p.id, by, b.reason) })) : reply;
  });

  app.get('/api/display/templates', roles(DATA_ROLES), async (request, reply) => act(request, reply, (d) => ({ templates: d.templates() })));

  app.get('/api/display/emergency-templates', roles(DATA_ROLES), async (request, reply) =>
    act(request, reply, (d) => ({ templates: d.emergencyTemplates() })),
  );

  app.post('/api/display/emergency-templates/:id/approve', roles(approvers), async (request, reply) => {
    const p = parse(reply, templateParams, request.params);
    if (!p) return reply;
    const b = parse(reply, noteBody, request.body);
    return b ? act(request, reply, (d, by) => ({ template: d.approveTemplate(p.id, by, b.note) })) : reply;
  });
}

/**
 * GET /lobby/:screenId: the kiosk page (dashboard/public/lobby.html, copied into dashboard/dist by the build) for a known screen, 404
 * for any other. Public, like the dashboard's own page: the page logs in with the
 * screen's display token before it reads anything. Register it in the scope that
 * holds @fastify/static, whose reply.sendFile it uses; the app's security headers
 * (CSP default-src 'self') apply as to every page.
 */
export function registerLobbyPage(scope: FastifyInstance, { services }: HttpContext): void {
  const screens = new Set(services.config.building.displays.map((d) => d.id));
  scope.get('/lobby/:screenId', { config: { public: true } }, async (request, reply) => {
    const { screenId } = request.params as { screenId: string };
    if (!screens.has(screenId)) return sendError(reply, 404, 'BOHUB_NOT_FOUND', `no screen ${screenId}`);
    return reply.sendFile('lobby.html');
  });
}

/** Whether the image is on the screen now, or on an approved item for it (the page may fetch it ahead). */
function imageOnScreen(display: DisplayService, screen: string, sha: string): boolean {
  if (display.now(screen).entries.some((e) => e.image === sha)) return true;
  return display.list({ state: 'approved', screen }).some((i) => i.image === sha && i.screens.includes(screen));
}

/** Parses one part of the request, or answers 400 naming the field and returns undefined. */
function parse<S extends z.ZodType>(reply: FastifyReply, schema: S, value: unknown): z.infer<S> | undefined {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  void sendInvalid(reply, result.error);
  return undefined;
}

/** A created item answers 201; an error already sent keeps its status. */
function created(reply: FastifyReply, result: unknown): unknown {
  return result === reply ? reply : reply.code(201).send(result);
}
