import type { Role } from '../../gateway/config/schema.ts';
import type { Permission } from '../../gateway/http/permissions.ts';
import { api, sessionLost } from './api.ts';
import { onResync } from './live.ts';
import { Store, useStore } from './store.ts';
import { setHubClock } from './time.ts';

// Who is logged in and what their role may do (GET /api/auth/me). The page shows
// only the controls in `permissions`; the hub checks every request again.

export interface Me {
  user: { username: string; displayName: string; role: Role };
  expiresAt: string;
  permissions: Permission[];
  /** Duty posts (config duty.roles) whose runbook steps this user may complete. */
  dutyPosts: string[];
  /** The hub's clock when it answered (ms). */
  now: number;
}

/** undefined while the first /api/auth/me is on its way; null when logged out. */
export const me = new Store<Me | null | undefined>(undefined);

sessionLost.subscribe((lost) => {
  if (lost) me.set(null);
});

/** GET /api/auth/me, reading the hub's clock from the answer. */
async function fetchMe(): Promise<Me> {
  const asked = Date.now();
  const answer = await api<Me>('/api/auth/me');
  setHubClock(answer.now, asked);
  return answer;
}

export async function loadMe(): Promise<void> {
  try {
    me.set(await fetchMe());
  } catch {
    me.set(null);
  }
}

// After a reconnect: the role may have changed with a restart, and the hub's clock is read again.
onResync(async () => {
  const answer = await fetchMe();
  const current = me.get();
  if (current && JSON.stringify(current.permissions) === JSON.stringify(answer.permissions) && current.user.role === answer.user.role) return;
  me.set(answer);
});

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
