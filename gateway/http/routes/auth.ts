import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { SESSION_COOKIE, tokenFrom, type Session } from '../../auth/sessions.ts';
import type { LoadedConfig } from '../../config/load.ts';
import { ROLES } from '../../config/schema.ts';
import { sendError } from '../access.ts';
import type { HttpContext } from '../context.ts';
import { dutyPostsOf, permissionsOf } from '../permissions.ts';

// POST /api/auth/login, POST /api/auth/logout, GET /api/auth/me. The login and /me
// also say what the role may do (permissions.ts), so the dashboard shows only those
// controls (issue 8); every route still checks the role itself.

const loginBody = z.object({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(256),
});

export function registerAuthRoutes(app: FastifyInstance, { services, sessions, logins }: HttpContext): void {
  const describe = (session: Session) => describeSession(session, services.config, services.clock.now());
  const users = new Map(services.config.building.users.map((u) => [u.username, u]));

  app.post('/api/auth/login', { config: { public: true } }, async (request, reply) => {
    const limited = logins.refuseIfLimited(request, reply);
    if (limited) return limited;
    const body = loginBody.safeParse(request.body);
    if (!body.success) return sendError(reply, 400, 'BOHUB_BAD_REQUEST', 'send {"username": "...", "password": "..."}');

    const { username, password } = body.data;
    const user = users.get(username);
    if (!(await logins.verify(password, user?.passwordHash)) || !user) {
      logins.failed(request, 'auth.login_failed', username);
      return sendError(reply, 401, 'BOHUB_AUTH_FAILED', 'wrong username or password');
    }

    const { token, session } = sessions.create(user);
    logins.setSessionCookie(request, reply, token, session);
    logins.audit(request, { actor: user.username, action: 'auth.login', subject: user.username, after: { ip: request.ip, role: user.role } });
    return { token, ...describe(session) };
  });

  app.post('/api/auth/logout', { config: { roles: ROLES } }, async (request, reply) => {
    const token = tokenFrom(request.headers, request.cookies);
    if (token) sessions.delete(token);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    const actor = request.session!.username;
    logins.audit(request, { actor, action: 'auth.logout', subject: actor });
    return reply.code(204).send();
  });

  app.get('/api/auth/me', { config: { roles: ROLES } }, async (request) => describe(request.session!));
}

function describeSession(session: Session, config: LoadedConfig, now: number) {
  return {
    user: { username: session.username, displayName: session.displayName, role: session.role },
    expiresAt: new Date(session.expiresAt).toISOString(),
    permissions: permissionsOf(session.role, config),
    /** Duty posts (config duty.roles) whose runbook steps this user may complete. */
    dutyPosts: dutyPostsOf(session.role, config),
    /** The hub's clock (ms): the page counts deadlines down on it, not on a phone's own clock. */
    now,
  };
}

/** GET /api/auth/me; the login answers the same plus the token. */
export type MeReply = ReturnType<typeof describeSession>;
export type LoginReply = MeReply & { token: string };
