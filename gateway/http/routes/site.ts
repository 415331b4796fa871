import type { FastifyInstance } from 'fastify';
import type { BuildingConfig, Role, UnitConfig } from '../../config/schema.ts';
import { DATA_ROLES } from '../access.ts';
import type { HttpContext } from '../context.ts';

// GET /api/site: the building tree the dashboard draws, with each unit's meters and
// the point each meter is billed from (the one the dashboard shows), and where each
// safety signal is.

/** Roles that may see tenants' contact phone numbers; viewers (customer service screens) may not. */
const CONTACT_ROLES: readonly Role[] = ['operator', 'supervisor', 'finance', 'admin'];

export function registerSiteRoutes(app: FastifyInstance, { services }: HttpContext): void {
  const { building, profiles } = services.config;
  const metersByUnit = new Map<string, SiteMeter[]>();
  for (const m of building.modbus.meters) {
    const list = metersByUnit.get(m.unit) ?? [];
    const profile = profiles.get(m.profile);
    const point = profile?.billing.point ?? '';
    list.push({ id: m.id, kind: m.kind, point, unit: profile?.points.find((p) => p.id === point)?.unit ?? '' });
    metersByUnit.set(m.unit, list);
  }
  // The tree is fixed for the life of the process (config is frozen), so build it once per audience.
  const withContacts = siteTree(building, metersByUnit, true);
  const withoutContacts = siteTree(building, metersByUnit, false);

  app.get('/api/site', { config: { roles: DATA_ROLES } }, async (request) =>
    CONTACT_ROLES.includes(request.session!.role) ? withContacts : withoutContacts,
  );
}

export interface SiteMeter {
  id: string;
  kind: 'electricity' | 'water';
  /** The billing point: the one value per meter the dashboard shows. */
  point: string;
  unit: string;
}

/** GET /api/site's answer (the dashboard draws from it). */
export type SiteReply = ReturnType<typeof siteTree>;

function siteTree(building: BuildingConfig, metersByUnit: Map<string, SiteMeter[]>, contacts: boolean) {
  return {
    site: { id: building.site.id, name: building.site.name, timezone: building.site.timezone, demo: building.site.demo },
    signals: siteSignals(building),
    /** The lobby and lift screens (issue 9), for the content pages' screen choice and previews. */
    displays: building.displays.map(({ id, tower, location }) => ({ id, tower, location })),
    /** The duty posts runbook steps name (config duty.roles), for escalation and step lists. */
    dutyRoles: building.duty.roles.map(({ id, name }) => ({ id, name })),
    towers: building.towers.map((t) => ({
      id: t.id,
      name: t.name,
      floors: t.floors.map((f) => ({
        level: f.level,
        units: f.units.map((u) => ({
          id: u.id,
          areaM2: u.areaM2,
          tenant: tenantView(u, contacts),
          meters: metersByUnit.get(u.id) ?? [],
        })),
      })),
    })),
  };
}

/** Each safety signal's place, so the page files it under its tower without guessing from the id. */
function siteSignals(building: BuildingConfig): SiteSignal[] {
  const s = building.signals;
  return [
    ...s.fireZones.map((z) => ({ id: z.id, kind: 'fire-zone' as const, tower: z.tower, floor: z.floor })),
    ...s.leakSensors.map((z) => ({ id: z.id, kind: 'leak' as const, tower: z.tower, floor: z.floor, location: z.location })),
    ...s.powerFeeders.map((z) => ({ id: z.id, kind: 'power-feeder' as const, tower: z.tower, location: z.name })),
    ...s.gasDetectors.map((z) => ({ id: z.id, kind: 'gas' as const, tower: z.tower, floor: z.floor, location: z.location })),
  ];
}

export interface SiteSignal {
  id: string;
  kind: 'fire-zone' | 'leak' | 'power-feeder' | 'gas';
  tower: string;
  floor?: number;
  location?: { zh: string; en: string };
}

function tenantView(unit: UnitConfig, contacts: boolean) {
  if (!unit.tenant) return null;
  const { company, occupancy } = unit.tenant;
  if (!contacts) return { company, occupancy };
  return { company, occupancy, contacts: unit.tenant.contacts };
}
