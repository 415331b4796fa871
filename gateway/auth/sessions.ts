import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { LoadedConfig } from '../config/load.ts';
import { ROLES, type Role } from '../config/schema.ts';
import type { SessionRecords } from '../storage/types.ts';

// Login sessions. They are kept in memory and, when the store is given a place to
// keep them (the records store's `sessions` table, migration 6), also on disk, so a
// hub restart does not log the control room out: issue 8 asks that after a restart
// the page reconnects and resyncs without logging in again. Only the SHA-256 of each
// token is kept, in memory and on disk, so a heap dump, a debug log or a copy of
// records.db cannot be replayed as a login (OWASP Session Management Cheat Sheet).
//
// A kept session is bound to what its login was checked against: at start, a session
// whose user was removed from the config, whose role or password changed, or whose
// lobby screen or display token is gone, is dropped, not restored (OWASP: a changed
// credential ends the sessions made with the old one).

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

/** Where and against what sessions are kept across a restart. */
export interface SessionPersistence {
  records: SessionRecords;
  /** The users and screens sessions are checked against when they are restored. */
  config: LoadedConfig;
}

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly endListeners = new Set<(sessionId: string) => void>();
  /** What the start restored from the records store, and what it dropped as no longer matching the config (expired ones are just deleted). */
  readonly restored = { kept: 0, dropped: 0 };

  constructor(
    private readonly clock: Clock,
    private readonly ttlMinutes: number,
    private readonly persist?: SessionPersistence,
  ) {
    if (persist) this.restore(persist);
  }

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
    const binding = this.persist && bindingOf(session, this.persist.config);
    // A login the config does not know (none today) is simply not kept across a restart.
    if (binding) this.persist!.records.saveSession({ ...session, binding });
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
    this.persist?.records.deleteSession(id);
    for (const fn of this.endListeners) fn(id);
  }

  /** Loads the unexpired sessions that still match the config; deletes the rest from the records store. */
  private restore({ records, config }: SessionPersistence): void {
    const now = this.clock.now();
    for (const stored of records.loadSessions(now)) {
      const role = ROLES.find((r) => r === stored.role);
      // A session TTL shortened in the config applies to the sessions made before.
      const expiresAt = Math.min(stored.expiresAt, stored.createdAt + this.ttlMinutes * 60_000);
      const session: Session | undefined = role && {
        id: stored.id,
        username: stored.username,
        displayName: stored.displayName,
        role,
        ...(stored.screen !== undefined ? { screen: stored.screen } : {}),
        createdAt: stored.createdAt,
        expiresAt,
      };
      if (session && expiresAt > now && bindingOf(session, config) === stored.binding) {
        this.sessions.set(session.id, session);
        continue;
      }
      records.deleteSession(stored.id);
      if (expiresAt > now) this.restored.dropped++;
    }
    this.restored.kept = this.sessions.size;
  }
}

/**
 * SHA-256 of what a session's login was checked against: the role, the user and the
 * password hash for a person; the screen and its display token hash for a lobby
 * screen. Undefined when the config no longer has that user with that role, or that
 * screen with a token: such a session must not come back after a restart.
 */
function bindingOf(session: SessionUser, config: LoadedConfig): string | undefined {
  const { building } = config;
  let material: string[];
  if (session.screen !== undefined) {
    // A lobby screen's own login (POST /api/display/login).
    const screen = building.displays.find((d) => d.id === session.screen);
    if (session.role !== 'display' || !screen?.tokenHash) return undefined;
    material = ['display', session.username, screen.id, screen.tokenHash];
  } else {
    const user = building.users.find((u) => u.username === session.username);
    if (!user || user.role !== session.role) return undefined;
    material = [user.role, user.username, user.passwordHash];
  }
  return createHash('sha256').update(JSON.stringify(material)).digest('hex');
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
