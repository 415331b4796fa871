import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Role } from '../config/schema.ts';

// Login sessions, kept in memory: a restart logs everyone out, which is acceptable
// for a control room (the wall screens log in again) and keeps secrets off disk.
// Only the SHA-256 of each token is stored, so a heap dump or a debug log of this
// map cannot be replayed as a login (OWASP Session Management Cheat Sheet).

/** The cookie that carries the token; the same token also works as `Authorization: Bearer`. */
export const SESSION_COOKIE = 'bohub_session';

export interface Session {
  /** SHA-256 of the token, hex: the key in the store, and what live sockets remember. */
  id: string;
  username: string;
  displayName: string;
  role: Role;
  /** A lobby screen's session (role display): the one screen it may read. */
  screen?: string;
  createdAt: number;
  expiresAt: number;
}

export interface SessionUser {
  username: string;
  displayName: string;
  role: Role;
  screen?: string;
}

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly endListeners = new Set<(sessionId: string) => void>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMinutes: number,
  ) {}

  /** Creates a session and returns the bearer token; the token itself is never stored. */
  create(user: SessionUser): { token: string; session: Session } {
    this.sweep();
    // 32 random bytes = 256 bits of entropy; base64url so it fits a cookie and a header unescaped.
    const token = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const session: Session = {
      id: hashToken(token),
      username: user.username,
      displayName: user.displayName,
      role: user.role,
      ...(user.screen ? { screen: user.screen } : {}),
      createdAt: now,
      expiresAt: now + this.ttlMinutes * 60_000,
    };
    this.sessions.set(session.id, session);
    return { token, session };
  }

  /** The live session for a token, or undefined if unknown or expired. */
  lookup(token: string | undefined): Session | undefined {
    if (!token) return undefined;
    const id = hashToken(token);
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= this.clock.now()) {
      this.end(id);
      return undefined;
    }
    return session;
  }

  /** Logout: forgets the token's session. Returns whether there was one. */
  delete(token: string): boolean {
    const id = hashToken(token);
    if (!this.sessions.has(id)) return false;
    this.end(id);
    return true;
  }

  /** Called when a session ends (logout or expiry), so live sockets on it can be dropped. */
  onEnd(fn: (sessionId: string) => void): () => void {
    this.endListeners.add(fn);
    return () => this.endListeners.delete(fn);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Drops expired sessions, so a long-running hub does not keep every login ever made. */
  sweep(): void {
    const now = this.clock.now();
    for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.end(id);
  }

  private end(id: string): void {
    this.sessions.delete(id);
    for (const fn of this.endListeners) fn(id);
  }
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The token from `Authorization: Bearer <token>`, else from the session cookie. */
export function tokenFrom(headers: { authorization?: string | undefined }, cookies: Record<string, string | undefined> | undefined): string | undefined {
  const auth = headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    if (m) return m[1];
  }
  return cookies?.[SESSION_COOKIE] || undefined;
}
