import type { BuildingConfig } from '../config/schema.ts';
import { DEMO_PASSWORDS, verifyPassword } from './passwords.ts';

/**
 * Users of a real site (not `site.demo: true`) who still have a published demo
 * password. The hub refuses to start while there are any.
 */
export async function usersWithDemoPasswords(building: BuildingConfig): Promise<string[]> {
  if (building.site.demo) return [];
  const demo = Object.values(DEMO_PASSWORDS);
  const found = await Promise.all(
    building.users.map(async (u) => ((await Promise.all(demo.map((p) => verifyPassword(p, u.passwordHash)))).some(Boolean) ? u.username : undefined)),
  );
  return found.filter((u): u is string => u !== undefined);
}
