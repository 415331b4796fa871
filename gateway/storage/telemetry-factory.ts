import type { BuildingConfig } from '../config/schema.ts';
import { InfluxTelemetryStore } from './telemetry-influx.ts';
import { SqliteTelemetryStore } from './telemetry-sqlite.ts';
import type { TelemetryStore } from './types.ts';

/** The embedded SQLite store unless an InfluxDB (or anything speaking its v1 API) is configured. */
export function openTelemetryStore(storage: BuildingConfig['storage'], dataDir: string): TelemetryStore {
  const t = storage.telemetry;
  if (t.backend === 'influxdb') return new InfluxTelemetryStore({ url: t.url, database: t.database, username: t.username, password: t.password });
  return new SqliteTelemetryStore(dataDir);
}
