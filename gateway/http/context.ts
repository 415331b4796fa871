import type { SessionStore } from '../auth/sessions.ts';
import type { HubServices } from '../services.ts';

/** What every route module is given: the hub's services and the app's session store. */
export interface HttpContext {
  services: HubServices;
  sessions: SessionStore;
}
