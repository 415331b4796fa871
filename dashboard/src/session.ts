import type { Role } from '../../gateway/config/schema.ts';
import type { Permission } from '../../gateway/http/permissions.ts';
import { api, sessionLost } from './api.ts';
import { Store, useStore } from './store.ts';

// Who is logged in and what their role may do (GET /api/auth/me). The page shows
// only the controls in `permissions`; the hub checks every request again.

export interface Me {
  user: { username: string; displayName: string; role: Role };
  expiresAt: string;
  permissions: Permission[];
  /** Duty posts (config duty.roles) whose runbook steps this user may complete. */
  dutyPosts: string[];
}

/** undefined while the first /api/auth/me is on its way; null when logged out. */
export const me = new Store<Me | null | undefined>(undefined);

sessionLost.subscribe((lost) => {
  if (lost) me.set(null);
});

export async function loadMe(): Promise<void> {
  try {
    me.set(await api<Me>('/api/auth/me'));
  } catch {
    me.set(null);
  }
}

/** Throws ApiError (401 BOHUB_AUTH_FAILED, 429 BOHUB_RATE_LIMITED, ...) for the login form to show. */
export async function login(username: string, password: string): Promise<void> {
  await api('/api/auth/login', { method: 'POST', body: { username, password } });
  sessionLost.set(false);
  await loadMe();
}

export async function logout(): Promise<void> {
  await api('/api/auth/logout', { method: 'POST' }).catch(() => undefined);
  me.set(null);
}

export function can(permission: Permission): boolean {
  return me.get()?.permissions.includes(permission) ?? false;
}

/** can() that re-renders when the session changes. */
export function useCan(): (permission: Permission) => boolean {
  const m = useStore(me);
  return (permission) => m?.permissions.includes(permission) ?? false;
}
