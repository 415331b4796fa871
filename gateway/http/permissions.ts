import type { LoadedConfig } from '../config/load.ts';
import type { Role } from '../config/schema.ts';
import { DATA_ROLES } from './access.ts';
import { ALARM_ACK_ROLES, ALARM_SHELVE_ROLES } from './routes/alarms.ts';
import { AUDIT_ROLES } from './routes/audit.ts';
import { BILLING_APPROVE_ROLES, BILLING_EDIT_ROLES, BILLING_READ_ROLES, BILLING_RUN_ROLES } from './routes/billing.ts';
import { INCIDENT_CLOSE_ROLES, INCIDENT_STABILISE_ROLES, INCIDENT_START_ROLES, INCIDENT_STEP_ROLES } from './routes/incidents.ts';

// What a role may do, told to the dashboard by GET /api/auth/me so it shows only
// those controls (issue 8: "the UI shows only what the role may do"). Computed from
// the same role lists the routes enforce, so the page and the server cannot disagree;
// the server still checks every request itself.

export const PERMISSIONS = [
  'building.read',
  'alarms.ack',
  'alarms.shelve',
  'incidents.start',
  'incidents.step',
  'incidents.stabilise',
  'incidents.close',
  'billing.read',
  'billing.run',
  'billing.edit',
  'billing.approve',
  'display.edit',
  'display.approve',
  'audit.read',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export function permissionsOf(role: Role, config: LoadedConfig): Permission[] {
  const display = config.building.display;
  const rolesOf: Record<Permission, readonly Role[]> = {
    'building.read': DATA_ROLES,
    'alarms.ack': ALARM_ACK_ROLES,
    'alarms.shelve': ALARM_SHELVE_ROLES,
    'incidents.start': INCIDENT_START_ROLES,
    'incidents.step': INCIDENT_STEP_ROLES,
    'incidents.stabilise': INCIDENT_STABILISE_ROLES,
    'incidents.close': INCIDENT_CLOSE_ROLES,
    'billing.read': BILLING_READ_ROLES,
    'billing.run': BILLING_RUN_ROLES,
    'billing.edit': BILLING_EDIT_ROLES,
    'billing.approve': BILLING_APPROVE_ROLES,
    'display.edit': display.editorRoles,
    'display.approve': display.approverRoles,
    'audit.read': AUDIT_ROLES,
  };
  return PERMISSIONS.filter((p) => rolesOf[p].includes(role));
}

/** The duty posts (config duty.roles) whose runbook steps this login role may complete; admin may act for all. */
export function dutyPostsOf(role: Role, config: LoadedConfig): string[] {
  return config.building.duty.roles.filter((d) => role === 'admin' || d.actedBy.includes(role)).map((d) => d.id);
}
