import { z } from 'zod';
import { bilingual, hhmm, id, isoDate, port, ROLES, scryptHash } from './primitives.ts';
import { broker, opcua, signals } from './schema-signals.ts';
import { alarms } from './schema-alarms.ts';
import { billing, BILLING_DEFAULTS, tariffs } from './schema-billing.ts';
import { duty, runbooks } from './schema-duty.ts';
import { display, displays } from './schema-display.ts';

export { HUB_MQTT_USERNAME } from './schema-signals.ts';

// The config language: one YAML file describes a building. This zod schema is the
// single source of truth: defaults live here, cross-field checks live in
// superRefine with messages that name the path (CONVENTIONS.md habit 2).

const contact = z.object({ name: z.string().min(1), phone: z.string().min(3), mobile: z.string().optional() });

// handbook 附件14 业户基本情况表: emergency contacts in and out of office hours, two people each.
const contacts = z.object({
  office: z.array(contact).length(2, 'two office-hours contacts (handbook 附件14)'),
  afterHours: z.array(contact).length(2, 'two after-hours contacts (handbook 附件14)'),
});

const unit = z.object({
  id,
  areaM2: z.number().positive(),
  tenant: z
    .object({
      company: z.string().min(1),
      legalRepresentative: z.string().optional(),
      /** An owner-occupier or a tenant: arrears letters differ (handbook 第三节, 附件1). */
      occupancy: z.enum(['owner', 'tenant']).default('tenant'),
      contacts,
    })
    .optional(),
});

const floor = z.object({ level: z.number().int(), units: z.array(unit) });
const tower = z.object({ id, name: bilingual, floors: z.array(floor).min(1) });

export const DEFAULT_FAST_POLL_MS = 5_000;
export const DEFAULT_SLOW_POLL_MS = 60_000;

const bus = z.discriminatedUnion('transport', [
  z.object({ id, transport: z.literal('tcp'), host: z.string().min(1), port }),
  z.object({ id, transport: z.literal('rtu-over-tcp'), host: z.string().min(1), port }),
  z.object({
    id,
    transport: z.literal('rtu'),
    path: z.string().min(1),
    baudRate: z.number().int().positive().default(9600),
    parity: z.enum(['none', 'even', 'odd']).default('even'),
  }),
]).and(
  z.object({
    timeoutMs: z.number().int().positive().default(1000),
    /** Silence between transactions; serial lines need it (Modbus over serial line §2.5.1.1, t3.5). */
    interFrameDelayMs: z.number().int().min(0).default(0),
    /** Poll class 'fast' (status values): how often each meter's fast points are read. */
    fastPollMs: z.number().int().positive().default(DEFAULT_FAST_POLL_MS),
    /** Poll class 'slow' (energy, volume): how often each meter's slow points are read. */
    slowPollMs: z.number().int().positive().default(DEFAULT_SLOW_POLL_MS),
    /** Extra attempts for a request that timed out or failed before it counts as a device failure. */
    retries: z.number().int().min(0).max(5).default(1),
    /** A point not read well for this many of its poll intervals is republished as 'stale'. */
    staleAfterPolls: z.number().int().min(1).default(3),
  }),
);

const meter = z.object({
  id,
  unit: id,
  kind: z.enum(['electricity', 'water']),
  bus: id,
  /** Modbus server address on the bus, 1..247 (Modbus over serial line §2.2). */
  unitId: z.number().int().min(1).max(247),
  profile: z.string(),
  serial: z.string().min(1),
  /** Current-transformer ratio applied to energy registers of CT-connected meters. */
  ctRatio: z.number().positive().default(1),
});

const shift = z.object({ start: hhmm, end: hhmm });

// handbook 第一节 一、值班制度
const calendar = z.object({
  shifts: z.object({
    office: z.array(shift).min(1),
    early: shift,
    late: shift,
  }),
  /** ISO weekday numbers, Monday = 1. */
  workingDays: z.array(z.number().int().min(1).max(7)).default([1, 2, 3, 4, 5]),
  holidays: z.array(z.object({ date: isoDate, name: z.string().min(1) })).default([]),
  /** Weekend days that are worked in exchange for a holiday (调休). */
  extraWorkingDays: z.array(isoDate).default([]),
});

export { ROLES };
export type Role = (typeof ROLES)[number];

const user = z.object({
  username: z.string().regex(/^[a-z][a-z0-9._-]{1,31}$/, 'usernames are lower case, 2-32 characters'),
  displayName: z.string().min(1),
  role: z.enum(ROLES),
  /** `scrypt$N$r$p$salt$hash` as written by `bohub user hash-password`. */
  passwordHash: scryptHash,
});

const MiB = 1024 * 1024;

/** Settings both telemetry backends share: the writer's disk spool, and how long each resolution is kept. */
const telemetryCommon = {
  /**
   * Bytes the disk spool (dataDir/telemetry-spool) may hold while the store cannot
   * be reached; beyond it the oldest telemetry is dropped and counted. 256 MiB is
   * about 45 minutes at 5,000 points/s, or days for a typical building.
   */
  spoolMaxBytes: z.number().int().min(MiB).default(256 * MiB),
  /** Raw points are kept this long. */
  rawRetentionDays: z.number().int().positive().default(30),
  /** 1-minute rollups (mean, min, max, count) are kept this long. */
  rollup1mRetentionDays: z.number().int().positive().default(365),
  /** 1-hour rollups are kept this long. */
  rollup1hRetentionDays: z.number().int().positive().default(3650),
};

const storage = z.object({
  dataDir: z.string().default('./data'),
  telemetry: z
    .discriminatedUnion('backend', [
      z.object({ backend: z.literal('embedded'), ...telemetryCommon }),
      z.object({
        backend: z.literal('influxdb'),
        /** Any server with the InfluxDB v1 write and query API. */
        url: z.string().url(),
        database: z.string().min(1),
        username: z.string().optional(),
        password: z.string().optional(),
        /** false for servers without retention policies and continuous queries (VictoriaMetrics, InfluxDB 2/3 v1 endpoints): raw points only, kept as the server keeps them. */
        rollups: z.boolean().default(true),
        ...telemetryCommon,
      }),
    ])
    .superRefine((t, ctx) => {
      // A coarser resolution is read for ranges a finer one no longer holds, so it must be kept at least as long.
      if (t.rollup1mRetentionDays < t.rawRetentionDays) ctx.addIssue({ code: 'custom', path: ['rollup1mRetentionDays'], message: `must be at least rawRetentionDays (${t.rawRetentionDays})` });
      if (t.rollup1hRetentionDays < t.rollup1mRetentionDays) ctx.addIssue({ code: 'custom', path: ['rollup1hRetentionDays'], message: `must be at least rollup1mRetentionDays (${t.rollup1mRetentionDays})` });
    })
    .prefault({ backend: 'embedded' }),
});

const web = z.object({
  host: z.string().default('127.0.0.1'),
  port: port.default(8080),
  sessionTtlMinutes: z.number().int().positive().default(12 * 60),
  /** Failed logins allowed per client address per minute before 429. */
  loginAttemptsPerMinute: z.number().int().positive().default(5),
});


const simulators = z.object({
  /** Serve every Modbus bus and signal source from the built-in simulators. */
  enabled: z.boolean().default(false),
  /** Bind the simulated buses to free ports instead of the configured ones (tests, a second instance). */
  ephemeralPorts: z.boolean().default(false),
  /** How much faster than real life the simulated meters consume. */
  speedup: z.number().positive().default(60),
});

export const buildingSchema = z.object({
  site: z.object({
    id,
    name: bilingual,
    timezone: z.string().refine(isTimeZone, 'not an IANA time zone, e.g. "Asia/Shanghai"'),
    /** A demo site may keep the demo passwords; any other site is refused at start if it does. */
    demo: z.boolean().default(false),
  }),
  /** Where device profiles live, relative to this file. */
  devicesDir: z.string().default('../../devices'),
  towers: z.array(tower).min(1),
  modbus: z.object({ buses: z.array(bus).default([]), meters: z.array(meter).default([]) }),
  signals: signals.prefault({}),
  displays,
  display: display.prefault({}),
  calendar,
  tariffs,
  billing: billing.default(BILLING_DEFAULTS),
  users: z.array(user).min(1),
  broker: broker.prefault({ mode: 'embedded' }),
  opcua: opcua.prefault({}),
  storage: storage.prefault({}),
  web: web.default({ host: '127.0.0.1', port: 8080, sessionTtlMinutes: 720, loginAttemptsPerMinute: 5 }),
  simulators: simulators.default({ enabled: false, ephemeralPorts: false, speedup: 60 }),
  alarms: alarms.prefault({}),
  duty: duty.prefault({}),
  runbooks: runbooks.prefault({}),
});

export type BuildingConfig = z.infer<typeof buildingSchema>;
export type BusConfig = BuildingConfig['modbus']['buses'][number];
export type MeterConfig = BuildingConfig['modbus']['meters'][number];
export type UnitConfig = BuildingConfig['towers'][number]['floors'][number]['units'][number];
export type UserConfig = BuildingConfig['users'][number];
export type BrokerConfig = BuildingConfig['broker'];
export type MqttAccountConfig = Extract<BrokerConfig, { mode: 'embedded' }>['accounts'][number];
export type SignalMappingConfig = NonNullable<BuildingConfig['signals']['fireZones'][number]['mqtt']>;
export type OpcuaSourceConfig = BuildingConfig['opcua']['sources'][number];
export type AlarmsConfig = BuildingConfig['alarms'];
export type TariffsConfig = BuildingConfig['tariffs'];
export type BillingConfig = BuildingConfig['billing'];
export type DutyConfig = BuildingConfig['duty'];
export type CalendarConfig = BuildingConfig['calendar'];
export type DisplayConfig = BuildingConfig['display'];
export type DisplayScreenConfig = BuildingConfig['displays'][number];

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
