// Synthetic data for `npm run bench -- billing`: a building of 2,500 units with one
// electricity and one water meter each (5,000 meters), and a month of 15-minute
// billing reads for period 2026-11, with a few of the anomalies a real month has
// (rollovers, glitch reads, a meter replacement, meters that stopped reporting, a
// frozen register, a conflicting duplicate, tenant changes). Deterministic: the
// same seed gives the same rows, byte for byte.
import { fileURLToPath } from 'node:url';
import { billingPeriod } from '../gateway/billing/calendar.ts';
import { crossCheck } from '../gateway/config/cross-check.ts';
import { loadConfig, type LoadedConfig } from '../gateway/config/load.ts';
import { buildingSchema } from '../gateway/config/schema.ts';
import type { NewRead, ReadKind, ReadSource } from '../gateway/billing/types.ts';

export const PERIOD = '2026-11';
export const DEFAULT_UNITS = 2500;
const SEED = 0x5eed_2026;
const TOWERS = ['A', 'B'];
const QUARTER_MS = 15 * 60_000;
const DAY_MS = 86_400_000;
/** Asia/Shanghai has had no daylight saving since 1991: local time is UTC+8 all year. */
const LOCAL_OFFSET_MS = 8 * 3_600_000;
const VACANT_SHARE = 0.08;

/** mulberry32: small, fast, seeded. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SyntheticUnit {
  id: string;
  tower: string;
  level: number;
  areaM2: number;
  /** The tenant in the building file; undefined for a vacant unit. */
  company?: string;
}

/** The layout: towers A and B, floors 1..N with 50 units each (plus an empty B1, as the demo has; at least the demo's 12 floors, which its signals name). */
export function layout(units = DEFAULT_UNITS): { floors: number; perFloor: number; units: SyntheticUnit[] } {
  const perFloor = 50;
  const floors = Math.max(12, Math.ceil(units / (TOWERS.length * perFloor)));
  const rand = prng(SEED);
  const out: SyntheticUnit[] = [];
  for (const tower of TOWERS)
    for (let level = 1; level <= floors; level++)
      for (let n = 1; n <= perFloor && out.length < units; n++) {
        const id = `${tower}-${String(level).padStart(2, '0')}${String(n).padStart(2, '0')}`;
        const areaM2 = 60 + 10 * Math.floor(rand() * 20);
        const vacant = rand() < VACANT_SHARE;
        out.push({ id, tower, level, areaM2, ...(vacant ? {} : { company: `上海${tower}${level}-${n}号贸易有限公司` }) });
      }
  return { floors, perFloor, units: out };
}

/**
 * The demo building (config/demo/building.yaml, its tariffs, billing settings and
 * Asia/Shanghai site) with the towers, buses and meters replaced by the synthetic
 * ones. Validated with the building schema and the cross-checks loadConfig uses.
 */
export function syntheticConfig(units = DEFAULT_UNITS, plan = anomalyPlan(units)): LoadedConfig {
  const demoFile = fileURLToPath(new URL('../config/demo/building.yaml', import.meta.url));
  const demo = loadConfig(demoFile, {});
  const { floors, units: list } = layout(units);
  const contact = (k: number) => ({ name: `联系人${k}`, phone: `021-6${String(k).padStart(7, '0')}` });
  let k = 0;
  const tenantOf = (company: string) => ({ company, occupancy: k % 5 === 0 ? 'owner' : 'tenant', contacts: { office: [contact(k++), contact(k++)], afterHours: [contact(k++), contact(k++)] } });
  // The building file names the tenant there now: after a change, the new one.
  const currentCompany = (u: SyntheticUnit) => plan.tenancy.get(u.id)?.moveIn?.company ?? u.company;
  const towers = TOWERS.map((t) => ({
    id: t,
    name: { zh: `${t}座`, en: `Tower ${t}` },
    floors: [
      { level: -1, units: [] },
      ...Array.from({ length: floors }, (_, i) => ({
        level: i + 1,
        units: list.filter((u) => u.tower === t && u.level === i + 1).map((u) => ({ id: u.id, areaM2: u.areaM2, ...(currentCompany(u) ? { tenant: tenantOf(currentCompany(u)!) } : {}) })),
      })),
    ],
  }));
  // One electricity and one water RS-485 line per floor, 50 meters each (Modbus addresses 1..50).
  const buses = TOWERS.flatMap((t, ti) =>
    Array.from({ length: floors }, (_, i) =>
      ['E', 'W'].map((kind, ki) => ({ id: `${t}-F${String(i + 1).padStart(2, '0')}-${kind}`, transport: kind === 'W' ? 'rtu-over-tcp' : 'tcp', host: '127.0.0.1', port: 20000 + ti * 200 + i * 2 + ki, timeoutMs: 500, interFrameDelayMs: 0 })),
    ).flat(),
  );
  const meters = list.flatMap((u) => {
    const n = Number(u.id.slice(-2));
    const bus = (kind: string) => `${u.tower}-F${String(u.level).padStart(2, '0')}-${kind}`;
    return [
      { id: `${u.id}-E`, unit: u.id, kind: 'electricity', bus: bus('E'), unitId: n, profile: 'chint-ddsu666', serial: `DDSU${u.id.replace('-', '')}` },
      { id: `${u.id}-W`, unit: u.id, kind: 'water', bus: bus('W'), unitId: n, profile: 'generic-water-rs485', serial: `WM${u.id.replace('-', '')}` },
    ];
  });
  const raw = JSON.parse(JSON.stringify(demo.building)) as Record<string, unknown>;
  Object.assign(raw, { towers, modbus: { buses, meters }, simulators: { enabled: false, ephemeralPorts: false, speedup: 60 } });
  const parsed = buildingSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`synthetic building does not validate: ${parsed.error.message}`);
  const issues = crossCheck(parsed.data, demo.profiles);
  if (issues.length) throw new Error(`synthetic building fails the cross-checks: ${issues.slice(0, 5).map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  if (parsed.data.site.timezone !== 'Asia/Shanghai') throw new Error(`expected the demo site in Asia/Shanghai, got ${parsed.data.site.timezone}`);
  return { file: `${demoFile} (synthetic: ${units} units)`, building: parsed.data, profiles: demo.profiles, runbooks: new Map(), contentTemplates: new Map() };
}

/** Which meters get which anomaly: fixed by the seed, a few of each, at realistic rates. */
export interface AnomalyPlan {
  /** Electricity (and one water) meters whose register passes its maximum during the period. */
  rollover: Set<string>;
  /** One read of 0 between two good ones (a Modbus glitch zero). */
  glitchZero: Set<string>;
  /** One read far above both neighbours (a garbled float). */
  glitchHigh: Set<string>;
  /** Meter replaced mid-period: final read of the old serial and initial read of the new one. */
  replaced: Set<string>;
  /** The last 3 days of reads never arrived (gateway or bus down over the reading day). */
  missingTail: Set<string>;
  /** Register stuck on one value for 4 days while the unit is occupied. */
  frozen: Set<string>;
  /** Two different values stored for one read time. */
  conflict: Set<string>;
  /** Units whose tenant changed (move-out, two empty days, move-in), or a vacant unit let mid-period. */
  tenancy: Map<string, { moveOut?: { company: string; at: number }; moveIn?: { company: string; at: number } }>;
}

export function anomalyPlan(units = DEFAULT_UNITS): AnomalyPlan {
  const list = layout(units).units;
  const rand = prng(SEED ^ 0xa11);
  const taken = new Set<string>();
  const pick = (n: number, filter: (u: SyntheticUnit) => boolean, suffix: 'E' | 'W'): Set<string> => {
    const pool = list.filter((u) => filter(u) && !taken.has(u.id));
    const out = new Set<string>();
    while (out.size < Math.min(n, pool.length)) {
      const u = pool[Math.floor(rand() * pool.length)]!;
      if (taken.has(u.id)) continue;
      taken.add(u.id);
      out.add(`${u.id}-${suffix}`);
    }
    return out;
  };
  const occupied = (u: SyntheticUnit) => u.company !== undefined;
  const scale = (n: number) => Math.max(1, Math.round((n * units) / DEFAULT_UNITS));
  const rollover = new Set([...pick(scale(3), occupied, 'E'), ...pick(1, occupied, 'W')]);
  const glitchZero = new Set([...pick(1, occupied, 'E'), ...pick(1, occupied, 'W')]);
  const glitchHigh = pick(1, occupied, 'E');
  const replaced = pick(1, occupied, 'E');
  const missingTailUnits = pick(scale(12), occupied, 'E'); // both meters of ~0.5 % of units
  const missingTail = new Set([...missingTailUnits].flatMap((id) => [id, id.replace(/-E$/, '-W')]));
  const frozen = pick(scale(2), occupied, 'E');
  const conflict = pick(1, occupied, 'E');
  const tenancy: AnomalyPlan['tenancy'] = new Map();
  const local = (day: number, hour: number) => Date.UTC(2026, 10, day, hour) - LOCAL_OFFSET_MS;
  for (const id of pick(scale(10), occupied, 'E')) {
    const unit = id.replace(/-E$/, '');
    const old = list.find((u) => u.id === unit)!.company!;
    tenancy.set(unit, { moveOut: { company: old, at: local(10, 10) }, moveIn: { company: `上海${unit}新租户有限公司`, at: local(12, 9) } });
  }
  for (const id of pick(scale(5), (u) => !occupied(u), 'E')) {
    const unit = id.replace(/-E$/, '');
    tenancy.set(unit, { moveIn: { company: `上海${unit}新租户有限公司`, at: local(5, 14) } });
  }
  return { rollover, glitchZero, glitchHigh, replaced, missingTail, frozen, conflict, tenancy };
}

export interface GenerateStats {
  meters: number;
  reads: number;
  tenancyEvents: number;
  /** The read window written: [from, to], ms since epoch. */
  from: number;
  to: number;
}

const fmt2 = (c: number) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`;
const fmt3 = (l: number) => `${Math.floor(l / 1000)}.${String(l % 1000).padStart(3, '0')}`;

/** What the generator needs of the records repository (gateway/billing/repository.ts). */
export interface ReadSink {
  insertReads(reads: NewRead[], actor: string): { inserted: number; duplicates: number };
  addTenancyEvent(event: { unitId: string; kind: 'move_in' | 'move_out'; at: number; company: string; occupancy: 'owner' | 'tenant' }, reads: NewRead[], actor: string): unknown;
}

/**
 * Stores the reads the way the hub does, through the repository's insertReads (so
 * whatever it does on the way in, such as classifying reads for the month-end run,
 * happens here too), in the order the hub stores them: every quarter hour one read of
 * every meter (one call, one transaction, per poll sweep), source 'interval'
 * ('snapshot' at the reading-day boundaries), recorded by 'system'. Move-outs and
 * move-ins are recorded afterwards with their hand reads, as finance enters them,
 * through addTenancyEvent. `onProgress` counts quarter hours.
 */
export function generateReads(
  repo: ReadSink,
  config: LoadedConfig,
  plan: AnomalyPlan,
  onProgress: (done: number, total: number) => void = () => {},
  /** Wraps a day of sweeps in one outer transaction (each insertReads becomes a savepoint): setup speed only. */
  transaction: (fn: () => void) => void = (fn) => fn(),
): GenerateStats {
  const { building } = config;
  const period = billingPeriod(PERIOD, building.billing, building.site.timezone);
  const from = period.opensAt - DAY_MS;
  const to = period.closesAt + DAY_MS;
  const companyOf = new Map(layout(building.modbus.meters.length / 2).units.map((u) => [u.id, u.company]));
  const meters = [...building.modbus.meters].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  /** The register of each meter at each move-out and move-in, for the hand reads. */
  const atMoves = new Map<string, NewRead>();
  let reads = 0;
  let events = 0;
  const streams = meters.map((m) => meterStream(m.id, m.serial, m.kind, m.unit));
  const ticks = Math.floor((to - from) / QUARTER_MS) + 1;
  const DAY_TICKS = DAY_MS / QUARTER_MS;
  for (let day = 0; day < ticks; day += DAY_TICKS) {
    transaction(() => {
      for (let i = day; i < Math.min(day + DAY_TICKS, ticks); i++) {
        const sweep: NewRead[] = [];
        for (const next of streams) next(i, sweep);
        reads += repo.insertReads(sweep, 'system').inserted;
      }
    });
    onProgress(Math.min(day + DAY_TICKS, ticks), ticks);
  }
  for (const [unitId, t] of [...plan.tenancy].sort(([a], [b]) => (a < b ? -1 : 1)))
    for (const [kind, e] of [['move_out', t.moveOut], ['move_in', t.moveIn]] as const) {
      if (!e) continue;
      const hand = [`${unitId}-E`, `${unitId}-W`].map((m) => atMoves.get(`${m}@${e.at}`)!);
      repo.addTenancyEvent({ unitId, kind, at: e.at, company: e.company, occupancy: 'tenant' }, hand, 'finance');
      events++;
      reads += hand.length;
    }
  return { meters: meters.length, reads, tenancyEvents: events, from, to };

  /** One meter's quarter-hour reads: the returned function appends those of quarter hour i. */
  function meterStream(meterId: string, serial: string, kind: 'electricity' | 'water', unitId: string): (i: number, out: NewRead[]) => void {
    let seed = 0;
    for (let i = 0; i < meterId.length; i++) seed = Math.imul(seed ^ meterId.charCodeAt(i), 0x01000193);
    const rand = prng(SEED ^ seed);
    const electric = kind === 'electricity';
    const tenancy = plan.tenancy.get(unitId);
    const occupiedAt = (at: number) => {
      if (tenancy?.moveOut && at >= tenancy.moveOut.at && (!tenancy.moveIn || at < tenancy.moveIn.at)) return false;
      if (tenancy?.moveIn && !tenancy.moveOut) return at >= tenancy.moveIn.at;
      return companyOf.get(unitId) !== undefined;
    };
    const size = 0.5 + rand() * 0.5;
    // The register: hundredths of a kWh, or litres; a rollover meter starts just below its maximum.
    const modulus = electric ? 100_000_000 : 4_294_967_296;
    let reg = plan.rollover.has(meterId) ? (electric ? 99_999_000 + Math.floor(rand() * 50_000) : 4_294_960_000 + Math.floor(rand() * 3000)) : electric ? 100_000 + Math.floor(rand() * 5_000_000) : Math.floor(rand() * 3_000_000);
    let currentSerial = serial;
    const fmt = electric ? fmt2 : fmt3;
    const last = plan.missingTail.has(meterId) ? to - 3 * DAY_MS : to;
    const n = Math.floor((last - from) / QUARTER_MS) + 1;
    const replaceAt = plan.replaced.has(meterId) ? Date.UTC(2026, 10, 15, 14) - LOCAL_OFFSET_MS : -1;
    const frozenFrom = plan.frozen.has(meterId) ? Date.UTC(2026, 10, 3) - LOCAL_OFFSET_MS : -1;
    const frozenTo = frozenFrom + 4 * DAY_MS;
    const glitchAt = plan.glitchZero.has(meterId) || plan.glitchHigh.has(meterId) ? from + Math.floor(n * (0.3 + 0.4 * rand())) * QUARTER_MS : -1;
    const conflictAt = plan.conflict.has(meterId) ? Date.UTC(2026, 10, 20, 3, 15) - LOCAL_OFFSET_MS : -1;
    const moves = [tenancy?.moveOut?.at, tenancy?.moveIn?.at].filter((m): m is number => m !== undefined);
    return (i, out) => {
      if (i >= n) return;
      const put = (at: number, value: string, kind: ReadKind = 'actual', source: ReadSource = 'interval') =>
        out.push({ meterId, serial: currentSerial, readAt: at, value, multiplier: '1', kind, source, quality: 'good' });
      const at = from + i * QUARTER_MS;
      if (i > 0 && !(at > frozenFrom && at < frozenTo)) reg = (reg + use(at)) % modulus;
      if (at === replaceAt) {
        // The old meter's final read and the new meter's initial read, taken by hand together.
        put(at, fmt(reg), 'replacement_final', 'manual');
        currentSerial = `${serial}R`;
        reg = 0;
        put(at, fmt(reg), 'replacement_initial', 'manual');
        return;
      }
      const boundary = at === period.opensAt || at === period.closesAt;
      if (at === glitchAt) put(at, plan.glitchHigh.has(meterId) ? fmt(reg + (electric ? 88_888_800 : 0)) : electric ? '0.00' : '0.000');
      else put(at, fmt(reg), 'actual', boundary ? 'snapshot' : 'interval');
      if (at === conflictAt) put(at, fmt(reg + 137), 'actual', 'import');
      for (const m of moves) if (m === at) atMoves.set(`${meterId}@${at}`, { meterId, serial: currentSerial, readAt: at, value: fmt(reg), multiplier: '1', kind: 'actual', source: 'manual', quality: 'good' });
    };

    /** Use in the quarter hour ending at `at`: office hours on weekdays, a base load otherwise. */
    function use(at: number): number {
      const local = at + LOCAL_OFFSET_MS;
      const hour = Math.floor(local / 3_600_000) % 24;
      const weekday = (Math.floor(local / DAY_MS) + 4) % 7; // 1970-01-01 was a Thursday; 0 = Sunday
      const working = weekday >= 1 && weekday <= 5 && hour >= 8 && hour < 19;
      const occupied = occupiedAt(at);
      if (electric) {
        if (!occupied) return rand() < 0.5 ? 1 + Math.floor(rand() * 4) : 0; // standby: 0-0.04 kWh
        const kwh = working ? 0.8 + rand() * 1.2 : 0.1 + rand() * 0.2;
        return Math.max(10, Math.round(kwh * size * 100));
      }
      if (!occupied) return 0;
      const p = working ? 0.35 : 0.06;
      return rand() < p ? Math.floor((working ? 5 + rand() * 55 : 1 + rand() * 9) * size) + 1 : 0;
    }
  }
}
