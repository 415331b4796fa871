import { z } from 'zod';

// The config language: one YAML file describes a building. This zod schema is the
// single source of truth: defaults live here, cross-field checks live in
// superRefine with messages that name the path (CONVENTIONS.md habit 2).

const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'ids use letters, digits, "-", "_" and "."');
const bilingual = z.object({ zh: z.string().min(1), en: z.string().min(1) });
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'times are HH:MM, 24-hour');
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'dates are YYYY-MM-DD');
/** Money and prices are decimal strings, never binary floats (CONVENTIONS.md habit 7). */
const decimal = z.string().regex(/^\d+(\.\d+)?$/, 'amounts are decimal strings such as "1.0120"');
const port = z.number().int().min(0).max(65535);

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

// MQTT topic filters: levels split by "/", "+" a whole level, "#" only last
// (MQTT 3.1.1 §4.7.1, [MQTT-4.7.1-2], [MQTT-4.7.1-3]). "{site}" is replaced by the site id.
const topicFilter = z.string().min(1).max(256).refine(
  (f) => f.split('/').every((level, i, all) => (level.includes('#') ? level === '#' && i === all.length - 1 : !level.includes('+') || level === '+')),
  'not an MQTT topic filter: "+" must be a whole level and "#" the last level',
);
/** RFC 6901 JSON pointer: "" is the whole document, "/state" a member. */
const jsonPointer = z.string().regex(/^(\/.*)?$/, 'a JSON pointer such as "/state" or "" for the whole payload');
/** Vendor values (as text: true, 1, "ALM") mapped to the normalised states of signals/states.ts. */
const valueMap = z.record(z.string(), z.string());

/**
 * A vendor's own topic for one signal, so its panel works without code. Without
 * it the signal uses the default layout bohub/<site>/signal/<id> (signals/states.ts).
 */
const signalMapping = z.object({
  topic: topicFilter,
  /** 'text': the whole payload is the value; 'json': the value is at `pointer`. */
  format: z.enum(['json', 'text']).default('json'),
  pointer: jsonPointer.default('/state'),
  values: valueMap.optional(),
  /** Where the source's sequence number and time (ms epoch or ISO 8601) are, if it sends them. */
  seqPointer: jsonPointer.optional(),
  timePointer: jsonPointer.optional(),
});

const signals = z.object({
  fireZones: z.array(z.object({ id, tower: id, floor: z.number().int(), panel: id, zone: z.number().int().positive(), mqtt: signalMapping.optional() })).default([]),
  // `source` names the device that speaks for the signal (its MQTT account, LWT and heartbeat);
  // a fire zone's source is its panel. Defaults: LEAK-GW-<tower> and POWER-MON-<tower>.
  leakSensors: z.array(z.object({ id, tower: id, floor: z.number().int(), location: bilingual, source: id.optional(), mqtt: signalMapping.optional() })).default([]),
  powerFeeders: z.array(z.object({ id, tower: id, name: bilingual, source: id.optional(), mqtt: signalMapping.optional() })).default([]),
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

const tariffs = z.object({
  currency: z.string().length(3).default('CNY'),
  electricityPerKWh: decimal,
  waterPerM3: decimal,
  managementFeePerM2Month: decimal,
  /** Late fee (滞纳金) per day on the overdue amount. */
  lateFeePerDay: decimal,
});

// handbook 第三节: reads by the 25th, notices before the 1st, payment by the 5th,
// phone reminders on the 18th, dunning letters on the 23rd.
const billingCalendar = z.object({
  readingDay: z.number().int().min(1).max(28).default(25),
  noticeDay: z.number().int().min(1).max(28).default(1),
  paymentDueDay: z.number().int().min(1).max(28).default(5),
  reminderDay: z.number().int().min(1).max(28).default(18),
  dunningDay: z.number().int().min(1).max(28).default(23),
});

export const ROLES = ['viewer', 'operator', 'supervisor', 'finance', 'admin', 'display'] as const;
export type Role = (typeof ROLES)[number];

const scryptHash = z.string().regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/, 'not a scrypt hash; make one with `bohub user hash-password`');

const user = z.object({
  username: z.string().regex(/^[a-z][a-z0-9._-]{1,31}$/, 'usernames are lower case, 2-32 characters'),
  displayName: z.string().min(1),
  role: z.enum(ROLES),
  /** `scrypt$N$r$p$salt$hash` as written by `bohub user hash-password`. */
  passwordHash: scryptHash,
});

/** The embedded broker's reserved account for the hub itself (its password is made at each start). */
export const HUB_MQTT_USERNAME = 'bohub-hub';

/**
 * One MQTT account of the embedded broker. A device account names its `source`:
 * it may then publish its own signals (default layout or mapped topic), its LWT
 * status and its heartbeat, and nothing else unless `publish` adds filters.
 * Commands (bohub/<site>/cmd/#) and $SYS are never publishable by an account.
 */
const mqttAccount = z.object({
  username: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'MQTT usernames use letters, digits, "-", "_" and "."'),
  passwordHash: scryptHash,
  source: id.optional(),
  publish: z.array(topicFilter).default([]),
  /** Filters this account may read: it may subscribe where they overlap, and receives only matching topics. */
  read: z.array(topicFilter).default([]),
});

const broker = z.discriminatedUnion('mode', [
  z.object({
    mode: z.literal('embedded'),
    host: z.string().default('127.0.0.1'),
    port: port.default(1883),
    /** Anonymous clients are refused unless this says otherwise ([MQTT-3.1.4-2] lets the server refuse a CONNECT). */
    allowAnonymous: z.boolean().default(false),
    accounts: z.array(mqttAccount).default([]),
  }),
  z.object({
    mode: z.literal('external'),
    url: z.string().regex(/^(mqtt|mqtts|ws|wss):\/\//, 'a broker url such as mqtt://host:1883'),
    username: z.string().optional(),
    password: z.string().optional(),
    protocolVersion: z.union([z.literal(4), z.literal(5)]).default(4),
    /** CA that signed the broker's certificate (mqtts/wss); the broker's name is always verified. */
    caFile: z.string().optional(),
    /** Client certificate and key, for brokers that authenticate clients by certificate. */
    certFile: z.string().optional(),
    keyFile: z.string().optional(),
    /** Needed once several hubs share one broker; default bohub-<site>-signals. */
    clientId: z.string().min(1).max(64).optional(),
  }),
]);

const opcuaNode = z.object({
  signal: id,
  /** e.g. "ns=1;s=PF-A-1.On". */
  nodeId: z.string().min(1),
  /** Values as text ("true", "1") to normalised states; booleans default to true=on / false=off for feeders. */
  values: valueMap.optional(),
});

/**
 * An OPC-UA server the hub subscribes to (OPC-UA Part 4 §5.13 monitored items).
 * Security defaults to SignAndEncrypt with Basic256Sha256; `None` must be written
 * out for both mode and policy, so an insecure link is never an accident.
 */
const opcuaSource = z.object({
  id,
  endpoint: z.string().regex(/^opc\.tcp:\/\//, 'an OPC-UA endpoint such as opc.tcp://host:4840'),
  securityMode: z.enum(['None', 'Sign', 'SignAndEncrypt']).default('SignAndEncrypt'),
  securityPolicy: z.enum(['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss']).default('Basic256Sha256'),
  publishingIntervalMs: z.number().int().min(50).default(250),
  samplingIntervalMs: z.number().int().min(0).default(100),
  /** Server-side queue per monitored item, so quick on-off-on changes are not lost (Part 4 §5.12.1.5). */
  queueSize: z.number().int().min(1).max(1000).default(10),
  nodes: z.array(opcuaNode).min(1),
}).superRefine((s, ctx) => {
  if ((s.securityMode === 'None') !== (s.securityPolicy === 'None'))
    ctx.addIssue({ code: 'custom', path: ['securityPolicy'], message: 'securityMode None and securityPolicy None go together; write both to run without security' });
});

const opcua = z.object({ sources: z.array(opcuaSource).default([]) });

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

const displays = z.array(z.object({ id, tower: id, location: bilingual })).default([]);

const simulators = z.object({
  /** Serve every Modbus bus and signal source from the built-in simulators. */
  enabled: z.boolean().default(false),
  /** Bind the simulated buses to free ports instead of the configured ones (tests, a second instance). */
  ephemeralPorts: z.boolean().default(false),
  /** How much faster than real life the simulated meters consume. */
  speedup: z.number().positive().default(60),
});

// The alarm system (gateway/alarms): priorities, shelving, on/off delays and chatter as
// ISA-18.2 describes them; shelving as OPC-UA Part 9's ShelvedStateMachine (timed shelve).
// FIRE ALARMS ARE NEVER DELAYED, SHELVED OR SUPPRESSED, so nothing below has a fire
// delay: conditioning exists for leaks and supervisory (loss of communication) only.

const chatter = z.object({
  /** A condition that goes active this many times within windowSeconds is chattering (ISA-18.2 chattering alarm). */
  maxActivations: z.number().int().min(2).default(4),
  windowSeconds: z.number().int().positive().default(60),
});

/** On-delay: the condition must stay active this long before it alarms; off-delay: inactive this long before it clears. */
const conditioning = (onDelaySeconds: number, offDelaySeconds: number) => ({
  onDelaySeconds: z.number().int().min(0).max(600).default(onDelaySeconds),
  offDelaySeconds: z.number().int().min(0).max(3600).default(offDelaySeconds),
  chatter: chatter.prefault({}),
});

/** 1 is the highest priority. */
const priority = z.number().int().min(1).max(9);

const alarms = z.object({
  priorities: z
    .object({ fire: priority.default(1), powerLoss: priority.default(2), leak: priority.default(3), trouble: priority.default(4) })
    .superRefine((p, ctx) => {
      // Fire outranks everything (NFPA 72 signal priority: fire alarm signals come first).
      for (const k of ['powerLoss', 'leak', 'trouble'] as const)
        if (p[k] <= p.fire) ctx.addIssue({ code: 'custom', path: [k], message: `must be lower than fire's (a larger number than ${p.fire})` });
    })
    .prefault({}),
  /** Leak sensors: a splash is not a flood; a wet sensor must stay wet for the on-delay. */
  leak: z.object(conditioning(5, 30)).prefault({}),
  supervision: z
    .object({
      /** A source not heard from (heartbeat, online, or any of its signals) for this long raises a trouble alarm. */
      heartbeatTimeoutSeconds: z.number().int().min(5).default(90),
      /** How often silence is checked; the worst case to raise is timeout + check interval + on-delay. */
      checkIntervalSeconds: z.number().int().min(1).max(30).default(5),
      /**
       * Sources supervised besides the fire panels named in signals.fireZones (e.g. a
       * leak gateway), with the system whose maintenance window covers them. A source
       * that reports itself online later is supervised from then on.
       */
      sources: z.array(z.object({ id, system: z.enum(['fire', 'leak', 'power']) })).default([]),
      ...conditioning(0, 30),
    })
    .superRefine((s, ctx) => {
      // GB 50166 (issue 5): a fault is displayed within 100 s.
      const worst = s.heartbeatTimeoutSeconds + s.checkIntervalSeconds + s.onDelaySeconds;
      if (worst > 100) ctx.addIssue({ code: 'custom', path: ['heartbeatTimeoutSeconds'], message: `timeout + check interval + on-delay is ${worst} s; loss of communication must raise trouble within 100 s (GB 50166)` });
    })
    .prefault({}),
  /** The longest an operator may shelve an alarm (ISA-18.2: shelving is time-limited). */
  maxShelveMinutes: z.number().int().positive().default(8 * 60),
  /** Planned work per system: notifications of that system are silenced; alarms are still recorded and flagged. */
  maintenanceWindows: z
    .array(
      z
        .object({
          id,
          system: z.enum(['fire', 'leak', 'power']),
          from: z.iso.datetime({ offset: true }),
          to: z.iso.datetime({ offset: true }),
          reason: z.string().min(1),
        })
        .refine((w) => Date.parse(w.from) < Date.parse(w.to), { message: 'from must be before to', path: ['to'] }),
    )
    .default([]),
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
  signals: signals.default({ fireZones: [], leakSensors: [], powerFeeders: [] }),
  displays,
  calendar,
  tariffs,
  billing: billingCalendar.default({ readingDay: 25, noticeDay: 1, paymentDueDay: 5, reminderDay: 18, dunningDay: 23 }),
  users: z.array(user).min(1),
  broker: broker.default({ mode: 'embedded', host: '127.0.0.1', port: 1883, allowAnonymous: false, accounts: [] }),
  opcua: opcua.prefault({}),
  storage: storage.prefault({}),
  web: web.default({ host: '127.0.0.1', port: 8080, sessionTtlMinutes: 720, loginAttemptsPerMinute: 5 }),
  simulators: simulators.default({ enabled: false, ephemeralPorts: false, speedup: 60 }),
  alarms: alarms.prefault({}),
});

export type BuildingConfig = z.infer<typeof buildingSchema>;
export type BusConfig = BuildingConfig['modbus']['buses'][number];
export type MeterConfig = BuildingConfig['modbus']['meters'][number];
export type UnitConfig = BuildingConfig['towers'][number]['floors'][number]['units'][number];
export type UserConfig = BuildingConfig['users'][number];
export type BrokerConfig = BuildingConfig['broker'];
export type MqttAccountConfig = Extract<BrokerConfig, { mode: 'embedded' }>['accounts'][number];
export type SignalMappingConfig = z.infer<typeof signalMapping>;
export type OpcuaSourceConfig = BuildingConfig['opcua']['sources'][number];
export type AlarmsConfig = BuildingConfig['alarms'];

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
