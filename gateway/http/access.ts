import type { z } from 'zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from '../config/schema.ts';
import { tokenFrom, type Session, type SessionStore } from '../auth/sessions.ts';

// Deny by default: every route must say in its config who may call it, either
// `{ public: true }` or `{ roles: [...] }`. A route that says neither is refused to
// everyone, so forgetting the config fails closed (OWASP ASVS V4.1.3, least privilege).

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Anyone, without a session (the login form, health, metrics, static files). */
    public?: boolean;
    /** Only sessions whose role is listed. */
    roles?: readonly Role[];
  }
  interface FastifyRequest {
    /** The caller's session, set by the access hook; null when there is none. */
    session: Session | null;
  }
}

/** Roles that may read the building and its live values (everyone but the lobby screen). */
export const DATA_ROLES: readonly Role[] = ['viewer', 'operator', 'supervisor', 'finance', 'admin'];

export type HttpErrorCode =
  | 'BOHUB_AUTH_REQUIRED'
  | 'BOHUB_AUTH_FAILED'
  | 'BOHUB_FORBIDDEN'
  | 'BOHUB_BAD_REQUEST'
  | 'BOHUB_NOT_FOUND'
  | 'BOHUB_RATE_LIMITED'
  | 'BOHUB_INTERNAL';

/**
 * The CSP of a printable document the hub renders (incident report, billing notices):
 * its own inline stylesheet, nothing else loaded, never framed. The app's onSend hook
 * keeps a route's own CSP.
 */
export const DOCUMENT_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

/**
 * Whether a session may read what a lobby screen shows: a screen's own display
 * session reads only its own screen (issue 9: the display token "can read only its
 * own screen's content"); the roles that read the building may preview any screen.
 */
export function mayReadScreen(session: Session, screen: string): boolean {
  if (session.role === 'display') return session.screen !== undefined && session.screen === screen;
  return DATA_ROLES.includes(session.role);
}

/**
 * Every API error has the same body, so clients match on the code, not the wording.
 * The codes are these and the plug-ins' own (AlarmError, IncidentError, DisplayError).
 */
export function sendError(reply: FastifyReply, status: number, code: HttpErrorCode | `BOHUB_${string}`, message: string): FastifyReply {
  return reply.code(status).type('application/json').send({ error: { code, message } });
}

/** A 400 naming the first field the schema refused, e.g. `calls.0.outcome: …`. */
export function sendInvalid(reply: FastifyReply, error: z.ZodError): FastifyReply {
  const issue = error.issues[0]!;
  return sendError(reply, 400, 'BOHUB_BAD_REQUEST', `${issue.path.join('.') || 'body'}: ${issue.message}`);
}

/** The onRequest hook that enforces route access. */
export function accessHook(sessions: SessionStore) {
  return async function checkAccess(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    request.session = sessions.lookup(tokenFrom(request.headers, request.cookies)) ?? null;
    // No route matched: fastify answers 404, and there is nothing behind it to protect.
    if (request.is404) return;
    const config = request.routeOptions.config;
    if (config.public === true) return;
    if (!config.roles) {
      request.log.warn({ url: request.routeOptions.url }, 'route declares neither public nor roles; refused');
      await sendError(reply, 403, 'BOHUB_FORBIDDEN', 'this route is not open to anyone');
      return;
    }
    if (!request.session) {
      await sendError(reply, 401, 'BOHUB_AUTH_REQUIRED', 'log in first');
      return;
    }
    if (!config.roles.includes(request.session.role)) {
      await sendError(reply, 403, 'BOHUB_FORBIDDEN', `the role ${request.session.role} may not use this`);
    }
  };
}
