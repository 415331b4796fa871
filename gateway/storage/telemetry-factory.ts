import { join } from 'node:path';
import type { BuildingConfig } from '../config/schema.ts';
import { InfluxTelemetryStore } from './telemetry-influx.ts';
import { SqliteTelemetryStore } from './telemetry-sqlite.ts';
import type { RetentionSettings, SpoolSettings, TelemetryStore } from './types.ts';

/** The spool folder and dead-letter file under the data dir. */
export const SPOOL_DIR = 'telemetry-spool';
export const DEAD_LETTER_FILE = 'telemetry-dead-letter.lp';

/** The embedded SQLite store unless an InfluxDB (or anything speaking its v1 API) is configured. */
export function openTelemetryStore(storage: BuildingConfig['storage'], dataDir: string): TelemetryStore {
  const t = storage.telemetry;
  const retention: RetentionSettings = { rawDays: t.rawRetentionDays, rollup1mDays: t.rollup1mRetentionDays, rollup1hDays: t.rollup1hRetentionDays };
  const spool: SpoolSettings = { dir: join(dataDir, SPOOL_DIR), maxBytes: t.spoolMaxBytes, deadLetterFile: join(dataDir, DEAD_LETTER_FILE) };
  if (t.backend === 'influxdb') return new InfluxTelemetryStore({ url: t.url, database: t.database, username: t.username, password: t.password, rollups: t.rollups, retention, spool });
  return new SqliteTelemetryStore(dataDir, { retention, spool });
}
