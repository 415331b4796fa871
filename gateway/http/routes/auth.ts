import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { hashPassword, verifyPassword } from '../../auth/passwords.ts';
import { SESSION_COOKIE, tokenFrom, type Session } from '../../auth/sessions.ts';
import { ROLES } from '../../config/schema.ts';
import type { AuditEntry } from '../../storage/types.ts';
import { sendError } from '../access.ts';
import type { HttpContext } from '../context.ts';
import { LoginLimiter } from '../login-limiter.ts';

// POST /api/auth/login, POST /api/auth/logout, GET /api/auth/me.

const loginBody = z.object({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(256),
});

export function registerAuthRoutes(app: FastifyInstance, { services, sessions }: HttpContext): void {
  const { config, metrics, records, clock } = services;
  const limiter = new LoginLimiter(clock, config.building.web.loginAttemptsPerMinute);
  const users = new Map(config.building.users.map((u) => [u.username, u]));
  // An unknown username is checked against this hash, so it costs the same scrypt
  // time as a wrong password and the answer time does not reveal which names exist.
  const decoyHash = hashPassword(randomBytes(16).toString('hex'));

  const audit = (request: FastifyRequest, entry: Omit<AuditEntry, 'at'>) => {
    try {
      records.appendAudit({ ...entry, at: clock.now() });
    } catch (err) {
      // A records-store outage must not lock the control room out; it is logged loudly.
      request.log.error({ err, action: entry.action }, 'could not write the audit entry');
    }
  };

  app.post('/api/auth/login', { config: { public: true } }, async (request, reply) => {
    const wait = limiter.retryAfterMs(request.ip);
    if (wait > 0) {
      reply.header('retry-after', String(Math.ceil(wait / 1000)));
      return sendError(reply, 429, 'BOHUB_RATE_LIMITED', 'too many failed logins from this address; try again later');
    }
    const body = loginBody.safeParse(request.body);
    if (!body.success) return sendError(reply, 400, 'BOHUB_BAD_REQUEST', 'send {"username": "...", "password": "..."}');

    const { username, password } = body.data;
    const user = users.get(username);
    const passwordOk = await verifyPassword(password, user?.passwordHash ?? (await decoyHash));
    if (!user || !passwordOk) {
      limiter.recordFailure(request.ip);
      metrics.loginFailures.inc();
      audit(request, { actor: 'anonymous', action: 'auth.login_failed', subject: username, after: { ip: request.ip } });
      return sendError(reply, 401, 'BOHUB_AUTH_FAILED', 'wrong username or password');
    }

    const { token, session } = sessions.create(user);
    reply.setCookie(SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      path: '/',
      // Secure only over https: the hub often runs on plain http inside the building LAN,
      // where a Secure cookie would never be sent back.
      secure: request.protocol === 'https',
      expires: new Date(session.expiresAt),
    });
    audit(request, { actor: user.username, action: 'auth.login', subject: user.username, after: { ip: request.ip, role: user.role } });
    return { token, ...describe(session) };
  });

  app.post('/api/auth/logout', { config: { roles: ROLES } }, async (request, reply) => {
    const token = tokenFrom(request.headers, request.cookies);
    if (token) sessions.delete(token);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    const actor = request.session!.username;
    audit(request, { actor, action: 'auth.logout', subject: actor });
    return reply.code(204).send();
  });

  app.get('/api/auth/me', { config: { roles: ROLES } }, async (request) => describe(request.session!));
}

function describe(session: Session) {
  return {
    user: { username: session.username, displayName: session.displayName, role: session.role },
    expiresAt: new Date(session.expiresAt).toISOString(),
  };
}

export type LoginReply = ReturnType<typeof describe> & { token: string };