import { z } from 'zod';
import { bilingual, id, port, scryptHash } from './primitives.ts';

// The safety-signal part of the config language: signals and their vendor topic
// mappings, the MQTT broker and its accounts, and OPC-UA sources.

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

export const signals = z.object({
  fireZones: z.array(z.object({ id, tower: id, floor: z.number().int(), panel: id, zone: z.number().int().positive(), mqtt: signalMapping.optional() })).default([]),
  // `source` names the device that speaks for the signal (its MQTT account, LWT and heartbeat);
  // a fire zone's source is its panel. Defaults: LEAK-GW-<tower>, POWER-MON-<tower>,
  // GAS-GW-<tower> and WEATHER.
  leakSensors: z.array(z.object({
    id, tower: id, floor: z.number().int(), location: bilingual, source: id.optional(), mqtt: signalMapping.optional(),
    /** The unit the sensor is in, whose contacts are phoned when it floods (handbook 第九节 六.1). */
    unit: id.optional(),
  })).default([]),
  powerFeeders: z.array(z.object({ id, tower: id, name: bilingual, source: id.optional(), mqtt: signalMapping.optional() })).default([]),
  /** LPG and toxic-gas detectors (handbook 第九节 七): normal, alarm or fault. */
  gasDetectors: z.array(z.object({ id, tower: id, floor: z.number().int(), location: bilingual, source: id.optional(), mqtt: signalMapping.optional() })).default([]),
  /**
   * Weather warnings as the fire-control room relays them: the typhoon signal
   * (第九节 二) and the rainstorm warning (第九节 三). Recorded, never alarms.
   */
  weather: z.array(z.object({ id, kind: z.enum(['typhoon', 'rainstorm']), source: id.optional(), mqtt: signalMapping.optional() })).default([]),
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
  /**
   * The subject CN of this device's client certificate: on the broker's TLS port a
   * client whose certificate is signed by `broker.tls.caFile` and carries this CN is
   * logged in as this account without a password.
   */
  certificateCN: z.string().min(1).max(64).optional(),
});

/**
 * The embedded broker's MQTT-over-TLS listener (mqtts, next to the plain port).
 * Client certificates are always asked for and checked against `caFile`; with
 * `requireClientCert` a client without a valid one fails the TLS handshake,
 * otherwise it may still log in with a password over the encrypted link.
 */
const brokerTls = z.object({
  port: port.default(8883),
  certFile: z.string().min(1).optional(),
  keyFile: z.string().min(1).optional(),
  caFile: z.string().min(1).optional(),
  requireClientCert: z.boolean().default(false),
});

/**
 * What one client of the embedded broker may publish (issue 15: one panel's flood of
 * valid reports delayed another tower's fire alarms). A client over its rate is
 * throttled, never dropped: its socket is not read until its bucket refills. The
 * hub's own account is exempt. The defaults are generous for a fire panel: a panel
 * reports a handful of changes a second, and when a fire spreads, at most every
 * point it has, once (a 4-loop panel has about 1,000), which the burst takes at
 * once; 200/s sustained is far above any real panel and 40 times below the measured
 * flood (8,000/s). 64 KiB is a hundred times a JSON state report, room for a
 * device's status dump, and small enough that a runaway payload cannot stall the broker.
 */
const brokerLimits = z.object({
  /** Publishes per second a client may sustain (token bucket refill rate). */
  publishesPerSecond: z.number().positive().default(200),
  /** Publishes a client may send at once before it is held to publishesPerSecond (bucket size). */
  publishBurst: z.number().int().min(1).default(1000),
  /** Largest payload accepted; a bigger publish is refused and the client disconnected, as for any refused publish [MQTT-3.3.5-2]. */
  maxPayloadBytes: z.number().int().min(1).max(268_435_455).default(64 * 1024), // the largest Remaining Length (MQTT 3.1.1 §2.2.3)
});

export const broker = z.discriminatedUnion('mode', [
  z.object({
    mode: z.literal('embedded'),
    host: z.string().default('127.0.0.1'),
    port: port.default(1883),
    accounts: z.array(mqttAccount).default([]),
    tls: brokerTls.optional(),
    limits: brokerLimits.prefault({}),
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

export const opcua = z.object({ sources: z.array(opcuaSource).default([]) });
