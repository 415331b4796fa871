import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Session } from '../../auth/sessions.ts';
import { sendError } from '../access.ts';
import type { HttpContext } from '../context.ts';

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

export function registerDisplayLoginRoute(app: FastifyInstance, { services, sessions, logins }: HttpContext): void {
  const screens = new Map(services.config.building.displays.map((d) => [d.id, d]));

  app.post('/api/display/login', { config: { public: true } }, async (request, reply) => {
    const limited = logins.refuseIfLimited(request, reply);
    if (limited) return limited;
    const body = loginBody.safeParse(request.body);
    if (!body.success) return sendError(reply, 400, 'BOHUB_BAD_REQUEST', 'send {"screen": "...", "token": "..."}');

    const { screen, token } = body.data;
    const display = screens.get(screen);
    // An unknown screen, a screen without a token and a wrong token: the same time, the same answer.
    if (!(await logins.verify(token, display?.tokenHash)) || !display) {
      logins.failed(request, 'display.login_failed', screen);
      return sendError(reply, 401, 'BOHUB_AUTH_FAILED', 'wrong screen or display token');
    }

    const username = displayUsername(screen);
    const { token: sessionToken, session } = sessions.create({ username, displayName: display.location.en, role: 'display', screen });
    logins.setSessionCookie(request, reply, sessionToken, session);
    logins.audit(request, { actor: username, action: 'display.login', subject: screen, after: { ip: request.ip } });
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
