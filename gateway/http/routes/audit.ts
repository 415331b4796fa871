import type { Role } from '../../config/schema.ts';

/** Reading the audit log: supervisors and admins. */
export const AUDIT_ROLES: readonly Role[] = ['supervisor', 'admin'];
