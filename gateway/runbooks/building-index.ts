import type { BuildingConfig, UnitConfig } from '../config/schema.ts';
import { signalCatalogue, type SignalInfo } from '../signals/sources.ts';
import { SIGNAL_STATES } from '../signals/states.ts';
import type { Bilingual, Incident, TimeVariant, UnitContact } from './types.ts';

// What the runbook engine needs to know about the building, looked up once: where
// each signal is, which unit a leak sensor is in, the tenant directory (handbook
// 附件14 业户基本情况表), the duty roles' names and the lobby displays.

interface SignalPlace {
  info: SignalInfo;
  tower?: string;
  unit?: string;
  place?: Bilingual;
}

export class BuildingIndex {
  private readonly signals = new Map<string, SignalPlace>();
  private readonly units = new Map<string, UnitConfig>();
  private readonly towers: Map<string, Bilingual>;

  constructor(private readonly building: BuildingConfig) {
    this.towers = new Map(building.towers.map((t) => [t.id, t.name]));
    for (const t of building.towers) for (const f of t.floors) for (const u of f.units) this.units.set(u.id, u);
    const catalogue = signalCatalogue(building);
    const s = building.signals;
    const put = (id: string, extra: Omit<SignalPlace, 'info'>) => {
      const info = catalogue.get(id);
      if (info) this.signals.set(id, { info, ...extra });
    };
    for (const z of s.fireZones) put(z.id, { tower: z.tower, place: floorPlace(z.tower, z.floor, z.id) });
    for (const l of s.leakSensors) put(l.id, { tower: l.tower, unit: l.unit, place: l.location });
    for (const p of s.powerFeeders) put(p.id, { tower: p.tower, place: p.name });
    for (const g of s.gasDetectors) put(g.id, { tower: g.tower, place: g.location });
    for (const w of s.weather) put(w.id, {});
  }

  hasTower(id: string): boolean {
    return this.towers.has(id);
  }

  hasUnit(id: string): boolean {
    return this.units.has(id);
  }

  towerOf(signal: string): string | undefined {
    return this.signals.get(signal)?.tower;
  }

  unitsOf(signal: string): string[] {
    const unit = this.signals.get(signal)?.unit;
    return unit ? [unit] : [];
  }

  /** Every signal kind's first state is its quiet one (signals/states.ts). */
  isQuiet(signal: string, state: string): boolean {
    const kind = this.signals.get(signal)?.info.kind;
    return kind !== undefined && SIGNAL_STATES[kind][0] === state;
  }

  /** Where the incident is, in words: its signals' places, a place given at a manual start, or its tower. */
  placeOf(incident: Pick<Incident, 'signals' | 'fields' | 'tower'>): Bilingual | undefined {
    const places = incident.signals.map((m) => this.signals.get(m.signal)?.place).filter((p): p is Bilingual => p !== undefined);
    if (places.length) return { zh: places.map((p) => p.zh).join('、'), en: places.map((p) => p.en).join(', ') };
    const given = incident.fields.place?.trim();
    if (given) return { zh: given, en: given };
    return incident.tower ? this.towers.get(incident.tower) : undefined;
  }

  roleName(role: string): Bilingual {
    return this.building.duty.roles.find((r) => r.id === role)?.name ?? { zh: role, en: role };
  }

  /** A lobby effect's screens: the incident tower's displays, or every display. */
  displaysFor(screens: 'tower' | 'all', tower?: string): string[] {
    return this.building.displays.filter((d) => screens === 'all' || !tower || d.tower === tower).map((d) => d.id);
  }

  /**
   * The units' contacts from the tenant directory. Out of office hours the
   * after-hours contacts come first (附件14 lists both, two people each).
   */
  contactsOf(units: readonly string[], variant: TimeVariant): UnitContact[] {
    const out: UnitContact[] = [];
    for (const id of units) {
      const tenant = this.units.get(id)?.tenant;
      if (!tenant) continue;
      const order = variant === 'working' ? (['office', 'afterHours'] as const) : (['afterHours', 'office'] as const);
      for (const hours of order)
        for (const c of tenant.contacts[hours]) out.push({ unit: id, company: tenant.company, name: c.name, phone: c.phone, ...(c.mobile ? { mobile: c.mobile } : {}), hours });
    }
    return out;
  }
}

function floorPlace(tower: string, floor: number, id: string): Bilingual {
  return floor < 0
    ? { zh: `${tower}座地下${-floor}层(${id})`, en: `Tower ${tower} basement ${-floor} (${id})` }
    : { zh: `${tower}座${floor}层(${id})`, en: `Tower ${tower} floor ${floor} (${id})` };
}
