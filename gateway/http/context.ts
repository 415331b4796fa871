import type { SessionStore } from '../auth/sessions.ts';
import type { HubServices } from '../services.ts';
import type { LoginGuard } from './login-guard.ts';

/** What every route module is given: the hub's services, the app's session store and the logins' shared guard. */
export interface HttpContext {
  services: HubServices;
  sessions: SessionStore;
  logins: LoginGuard;
}
