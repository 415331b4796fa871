import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { BohubError } from '../errors.ts';
import { buildingSchema, type BuildingConfig } from './schema.ts';
import { profileSchema, type DeviceProfile } from './profile.ts';
import { crossCheck } from './cross-check.ts';
import { checkDuty, loadRunbooks } from '../runbooks/load.ts';
import type { Runbook } from '../runbooks/schema.ts';
import { loadContentTemplates } from '../display/templates.ts';
import type { ContentTemplate } from '../display/types.ts';

export interface LoadedConfig {
  file: string;
  building: BuildingConfig;
  profiles: ReadonlyMap<string, DeviceProfile>;
  /** The runbooks of `runbooks.dir` (config/runbooks), by id; empty without one. */
  runbooks: ReadonlyMap<string, Runbook>;
  /** The lobby-screen content templates of `display.templatesDir` (config/display-templates), by id; empty without one. */
  contentTemplates: ReadonlyMap<string, ContentTemplate>;
}

export interface ConfigIssue {
  path: string;
  message: string;
}

/**
 * Environment overrides, so a test, a second instance or a container can change
 * ports, folders and services without editing the building file. They are applied
 * to the YAML before validation, so a bad value is reported like any other problem.
 */
export const ENV_OVERRIDES: ReadonlyArray<{ name: string; help: string; apply: (raw: Raw, value: string) => void }> = [
  { name: 'BOHUB_HTTP_HOST', help: 'address the web server listens on', apply: (raw, v) => (section(raw, 'web').host = v) },
  { name: 'BOHUB_HTTP_PORT', help: 'web server port', apply: (raw, v) => (section(raw, 'web').port = Number(v)) },
  { name: 'BOHUB_MQTT_PORT', help: 'embedded MQTT broker port', apply: (raw, v) => (section(raw, 'broker').port = Number(v)) },
  { name: 'BOHUB_MQTT_URL', help: 'use this external broker instead of the embedded one (mqtt://host:1883)', apply: (raw, v) => (raw.broker = { mode: 'external', url: v }) },
  { name: 'BOHUB_INFLUX_URL', help: 'store telemetry in this InfluxDB 1.x (http://host:8086) instead of SQLite', apply: (raw, v) => (section(raw, 'storage').telemetry = { backend: 'influxdb', url: v, database: 'bohub' }) },
  { name: 'BOHUB_INFLUX_DB', help: 'InfluxDB database name (default bohub)', apply: (raw, v) => (section(section(raw, 'storage'), 'telemetry').database = v) },
  { name: 'BOHUB_DATA_DIR', help: 'folder for the SQLite files', apply: (raw, v) => (section(raw, 'storage').dataDir = v) },
  { name: 'BOHUB_SIM_EPHEMERAL_PORTS', help: 'serve simulated Modbus buses on free ports (1 or true)', apply: (raw, v) => (section(raw, 'simulators').ephemeralPorts = v === '1' || v === 'true') },
];

type Raw = Record<string, unknown>;

function section(raw: Raw, key: string): Raw {
  if (typeof raw[key] !== 'object' || raw[key] === null) raw[key] = {};
  return raw[key] as Raw;
}

/** Reads, validates and cross-checks a building file. Throws BOHUB_CONFIG_INVALID with every issue. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const result = checkConfig(file, env);
  if (!result.ok) {
    const err = new BohubError('BOHUB_CONFIG_INVALID', `${file} has ${result.issues.length} problem(s):\n${formatIssues(result.issues)}`);
    throw Object.assign(err, { issues: result.issues });
  }
  return result.config;
}

export type CheckResult = { ok: true; config: LoadedConfig } | { ok: false; issues: ConfigIssue[] };

/** Like loadConfig, but returns the list of problems instead of throwing. */
export function checkConfig(file: string, env: NodeJS.ProcessEnv = process.env): CheckResult {
  const path = resolve(file);
  let raw: unknown;
  try {
    const doc = parseDocument(readFileSync(path, 'utf8'), { prettyErrors: true });
    if (doc.errors.length) return { ok: false, issues: doc.errors.map((e) => ({ path: '(yaml)', message: e.message })) };
    raw = doc.toJS();
  } catch (err) {
    throw new BohubError('BOHUB_CONFIG_UNREADABLE', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (typeof raw !== 'object' || raw === null) return { ok: false, issues: [{ path: '(root)', message: 'the file must be a YAML mapping' }] };
  applyEnv(raw as Record<string, unknown>, env);

  const parsed = buildingSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, issues: zodIssues(parsed.error) };
  const building = parsed.data;

  const devicesDir = resolve(dirname(path), building.devicesDir);
  const { profiles, issues: profileIssues } = loadProfiles(devicesDir);
  const rb = building.runbooks.dir ? loadRunbooks(resolve(dirname(path), building.runbooks.dir), building) : { runbooks: new Map<string, Runbook>(), issues: [] };
  const dt = building.display.templatesDir ? loadContentTemplates(resolve(dirname(path), building.display.templatesDir)) : { templates: new Map<string, ContentTemplate>(), issues: [] };
  const issues = [...profileIssues, ...crossCheck(building, profiles), ...checkDuty(building), ...rb.issues, ...dt.issues];
  if (issues.length) return { ok: false, issues };
  return { ok: true, config: deepFreeze({ file: path, building, profiles, runbooks: rb.runbooks, contentTemplates: dt.templates }) };
}

export function loadProfiles(dir: string): { profiles: Map<string, DeviceProfile>; issues: ConfigIssue[] } {
  const profiles = new Map<string, DeviceProfile>();
  const issues: ConfigIssue[] = [];
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch {
    return { profiles, issues: [{ path: 'devicesDir', message: `cannot read the device profile folder ${dir}` }] };
  }
  for (const f of files) {
    const parsed = profileSchema.safeParse(parseDocument(readFileSync(join(dir, f), 'utf8')).toJS());
    if (!parsed.success) {
      for (const i of zodIssues(parsed.error)) issues.push({ path: `devices/${f}: ${i.path}`, message: i.message });
      continue;
    }
    if (profiles.has(parsed.data.id)) issues.push({ path: `devices/${f}: id`, message: `profile "${parsed.data.id}" is defined twice` });
    profiles.set(parsed.data.id, parsed.data);
  }
  return { profiles, issues };
}

export function formatIssues(issues: ConfigIssue[]): string {
  return issues.map((i) => `  ${i.path}: ${i.message}`).join('\n');
}

/** `meters[12].profile` style paths, as a YAML author reads them. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${String(seg)}` : String(seg);
  return out || '(root)';
}

/** The JSON Schema of the config language, for editors that autocomplete YAML. */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(buildingSchema, { io: 'input', unrepresentable: 'any' });
}

export function zodIssues(error: z.ZodError): ConfigIssue[] {
  return error.issues.flatMap((issue) => {
    // A union failure is clearer as the failures of the branch the author meant.
    if (issue.code === 'invalid_union' && 'errors' in issue && issue.errors.length) {
      const best = issue.errors.reduce((a, b) => (b.length < a.length ? b : a));
      return best.map((sub) => ({ path: formatPath([...issue.path, ...sub.path]), message: sub.message }));
    }
    return [{ path: formatPath(issue.path), message: issue.message }];
  });
}

function applyEnv(raw: Raw, env: NodeJS.ProcessEnv): void {
  for (const o of ENV_OVERRIDES) {
    const value = env[o.name];
    if (value !== undefined && value !== '') o.apply(raw, value);
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    if (value instanceof Map) for (const v of value.values()) deepFreeze(v);
    else for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
