import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { hashPassword, verifyPassword } from '../../auth/passwords.ts';
import { SESSION_COOKIE, type Session } from '../../auth/sessions.ts';
import type { AuditEntry } from '../../storage/types.ts';
import { sendError } from '../access.ts';
import type { HttpContext } from '../context.ts';
import { LoginLimiter } from '../login-limiter.ts';

// POST /api/display/login {screen, token}: a lobby screen logs in with its own display
// token (config displays[].tokenHash). The session it gets has the role display and
// names its screen, so it may read that screen's content and nothing else (issue 9;
// handbook 第七节 二.5: the publishing password is never shared, so a screen's token
// can publish nothing). Answered like POST /api/auth/login: the token in the body and
// in the httpOnly session cookie.

const loginBody = z.object({
  screen: z.string().min(1).max(100),
  token: z.string().min(1).max(256),
});

/** The display login's answer: the user login's shape, plus the screen. */
export interface DisplayLoginReply {
  token: string;
  user: { username: string; displayName: string; role: 'display' };
  screen: string;
  expiresAt: string;
}

/** A screen's session user name: `display:<screen id>`. */
export const displayUsername = (screen: string): string => `display:${screen}`;

export function registerDisplayLoginRoute(app: FastifyInstance, { services, sessions }: HttpContext): void {
  const { config, metrics, records, clock } = services;
  // The same rule as the user login (login-limiter.ts): failures per address per minute.
  const limiter = new LoginLimiter(clock, config.building.web.loginAttemptsPerMinute);
  const screens = new Map(config.building.displays.map((d) => [d.id, d]));
  // A screen that is unknown or has no token costs the same scrypt time as a wrong token.
  const decoyHash = hashPassword(randomBytes(16).toString('hex'));

  const audit = (request: FastifyRequest, entry: Omit<AuditEntry, 'at'>) => {
    try {
      records.appendAudit({ ...entry, at: clock.now() });
    } catch (err) {
      request.log.error({ err, action: entry.action }, 'could not write the audit entry');
    }
  };

  app.post('/api/display/login', { config: { public: true } }, async (request, reply) => {
    const wait = limiter.retryAfterMs(request.ip);
    if (wait > 0) {
      reply.header('retry-after', String(Math.ceil(wait / 1000)));
      return sendError(reply, 429, 'BOHUB_RATE_LIMITED', 'too many failed logins from this address; try again later');
    }
    const body = loginBody.safeParse(request.body);
    if (!body.success) return sendError(reply, 400, 'BOHUB_BAD_REQUEST', 'send {"screen": "...", "token": "..."}');

    const { screen, token } = body.data;
    const display = screens.get(screen);
    const tokenOk = await verifyPassword(token, display?.tokenHash ?? (await decoyHash));
    if (!display?.tokenHash || !tokenOk) {
      limiter.recordFailure(request.ip);
      metrics.loginFailures.inc();
      audit(request, { actor: 'anonymous', action: 'display.login_failed', subject: screen, after: { ip: request.ip } });
      // One message for an unknown screen, a screen without a token and a wrong token.
      return sendError(reply, 401, 'BOHUB_AUTH_FAILED', 'wrong screen or display token');
    }

    const username = displayUsername(screen);
    const { token: sessionToken, session } = sessions.create({ username, displayName: display.location.en, role: 'display', screen });
    reply.setCookie(SESSION_COOKIE, sessionToken, {
      httpOnly: true,
      sameSite: 'strict',
      path: '/',
      secure: request.protocol === 'https',
      expires: new Date(session.expiresAt),
    });
    audit(request, { actor: username, action: 'display.login', subject: screen, after: { ip: request.ip } });
    return describe(sessionToken, session, screen);
  });
}

function describe(token: string, session: Session, screen: string): DisplayLoginReply {
  return {
    token,
    user: { username: session.username, displayName: session.displayName, role: 'display' },
    screen,
    expiresAt: new Date(session.expiresAt).toISOString(),
  };
}
