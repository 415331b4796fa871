import type { BuildingConfig } from '../config/schema.ts';
import { DEMO_PASSWORDS, demoDisplayToken, demoSourcePassword, verifyPassword } from './passwords.ts';

/**
 * Users, MQTT device accounts and lobby-screen tokens of a real site (not `site.demo: true`) who still
 * have a published demo password. The hub refuses to start while there are any.
 */
export async function usersWithDemoPasswords(building: BuildingConfig): Promise<string[]> {
  if (building.site.demo) return [];
  const demo = Object.values(DEMO_PASSWORDS);
  const found = await Promise.all(
    building.users.map(async (u) => ((await Promise.all(demo.map((p) => verifyPassword(p, u.passwordHash)))).some(Boolean) ? u.username : undefined)),
  );
  const accounts = building.broker.mode === 'embedded' ? building.broker.accounts : [];
  const devices = await Promise.all(accounts.map(async (a) => ((await verifyPassword(demoSourcePassword(a.username), a.passwordHash)) ? `mqtt:${a.username}` : undefined)));
  const screens = await Promise.all(building.displays.map(async (d) => (d.tokenHash && (await verifyPassword(demoDisplayToken(d.id), d.tokenHash)) ? `display:${d.id}` : undefined)));
  return [...found, ...devices, ...screens].filter((u): u is string => u !== undefined);
}
