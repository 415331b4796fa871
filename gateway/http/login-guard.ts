import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hashPassword, verifyPassword } from '../auth/passwords.ts';
import { SESSION_COOKIE, type Session } from '../auth/sessions.ts';
import type { HubServices } from '../services.ts';
import type { AuditEntry } from '../storage/types.ts';
import { sendError } from './access.ts';
import { LoginLimiter } from './login-limiter.ts';

// What the user login (routes/auth.ts) and a lobby screen's login (routes/display-login.ts)
// share: one failure limit per client address for both, refusals that cost the same
// scrypt time whatever was wrong, the audit entry, and the session cookie.

export class LoginGuard {
  private readonly limiter: LoginLimiter;
  /** An unknown name is checked against this hash, so the answer time does not reveal which names exist. */
  private readonly decoyHash = hashPassword(randomBytes(16).toString('hex'));

  constructor(private readonly services: HubServices) {
    this.limiter = new LoginLimiter(services.clock, services.config.building.web.loginAttemptsPerMinute);
  }

  /** Answers 429 with retry-after while the address is over its limit; undefined to go on. */
  refuseIfLimited(request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined {
    const wait = this.limiter.retryAfterMs(request.ip);
    if (wait <= 0) return undefined;
    reply.header('retry-after', String(Math.ceil(wait / 1000)));
    return sendError(reply, 429, 'BOHUB_RATE_LIMITED', 'too many failed logins from this address; try again later');
  }

  /** Checks a secret against its hash, or against the decoy when there is none. */
  async verify(secret: string, hash: string | undefined): Promise<boolean> {
    const ok = await verifyPassword(secret, hash ?? (await this.decoyHash));
    return ok && hash !== undefined;
  }

  /** A refused login: counted per address and in metrics, and audited. */
  failed(request: FastifyRequest, action: string, subject: string): void {
    this.limiter.recordFailure(request.ip);
    this.services.metrics.loginFailures.inc();
    this.audit(request, { actor: 'anonymous', action, subject, after: { ip: request.ip } });
  }

  audit(request: FastifyRequest, entry: Omit<AuditEntry, 'at'>): void {
    try {
      this.services.records.appendAudit({ ...entry, at: this.services.clock.now() });
    } catch (err) {
      // A records-store outage must not lock the control room out; it is logged loudly.
      request.log.error({ err, action: entry.action }, 'could not write the audit entry');
    }
  }

  setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string, session: Session): void {
    reply.setCookie(SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      path: '/',
      // Secure only over https: the hub often runs on plain http inside the building LAN,
      // where a Secure cookie would never be sent back.
      secure: request.protocol === 'https',
      // maxAge, not expires: a browser whose clock differs from the hub's would otherwise
      // get a cookie that has already expired (or outlives its session).
      maxAge: Math.max(0, Math.floor((session.expiresAt - session.createdAt) / 1000)),
    });
  }
}
