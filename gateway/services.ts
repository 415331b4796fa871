import type { AlarmService } from './alarms/types.ts';
import type { BillingService } from './billing/service.ts';
import type { Clock } from './clock.ts';
import type { ModbusDriverStats } from './drivers/modbus/driver.ts';
import type { LoadedConfig } from './config/load.ts';
import type { EventBus } from './events.ts';
import type { LatestValues } from './latest.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import type { ComponentHealth, HealthStatus } from './plugin.ts';
import type { RecordStore, TelemetryStore } from './storage/types.ts';
import type { IncidentService } from './runbooks/types.ts';
import type { DisplayService } from './display/types.ts';
import type { RecordQueries } from './work/queries.ts';

export interface HealthReport {
  status: HealthStatus;
  components: Record<string, ComponentHealth>;
}

/** What the composition root hands to the HTTP layer and to plug-ins. */
export interface HubServices {
  config: LoadedConfig;
  events: EventBus;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  records: RecordStore;
  telemetry: TelemetryStore;
  latest: LatestValues;
  /** The alarm engine (gateway/alarms); absent until the hub wires it, and the alarm API answers 503 meanwhile. */
  alarms?: AlarmService;
  /** Billing (gateway/billing); absent until the hub wires it, and the billing API answers 503 meanwhile. */
  billing?: BillingService;
  /** The runbook engine (gateway/runbooks); absent until the hub wires it, and the incident API answers 503 meanwhile. */
  incidents?: IncidentService;
  /** Lobby-screen content (gateway/display); absent until the hub wires it, and the display API answers 503 meanwhile. */
  display?: DisplayService;
  /** The Modbus driver's counters (GET /api/devices); absent when the hub runs without one, and the page lists no buses or meters. */
  modbus?: { stats(): ModbusDriverStats };
  /** Audit pages and incident history: read and serialised in the worker pool in the hub (gateway/work/queries.ts). */
  queries: RecordQueries;
  health(): HealthReport;
}
