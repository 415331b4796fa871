import type { CommStatus } from '../events.ts';
import type { StoredAuditEntry } from '../storage/types.ts';

// Answers of the routes added for the control-room dashboard (issue 8), shared by
// gateway/http/routes and dashboard/src so both sides agree on the shape.

/** GET /api/devices: the comm status of every bus, meter and signal source. */
export interface DevicesReply {
  buses: BusReport[];
  devices: DeviceReport[];
  /** Signal sources (fire panels, leak/power/gas publishers over MQTT, OPC-UA servers), from their supervision. */
  sources: SourceReport[];
  /** Payloads refused since start (malformed MQTT, unknown signals), with the last one named. */
  rejected: { count: number; last?: { source: string; reason: string; at: number } };
}

export interface BusReport {
  id: string;
  /** tcp | rtu | rtu-over-tcp (config modbus.buses[].transport or its equivalent). */
  transport: string;
  connected: boolean;
  requests: number;
  errors: number;
  lastError?: string;
  cycles: number;
  lastCycleMs?: number;
}

export interface DeviceReport {
  id: string;
  bus: string;
  unit: string;
  kind: 'electricity' | 'water';
  status: CommStatus | 'unknown';
  consecutiveFailures: number;
  /** Failed polls since start. */
  errors: number;
  lastError?: string;
  lastErrorAt?: number;
  /** The last poll that answered. */
  lastGoodAt?: number;
}

export interface SourceReport {
  source: string;
  status: CommStatus;
  /** What told us: 'lwt', 'heartbeat', 'keepalive', 'opcua', 'connect'. */
  via: string;
  reason?: string;
  at: number;
}

/**
 * GET /api/audit?actor=&action=&subject=&from=&to=&before=&limit=
 * `action` matches exactly, or as a prefix when it ends in `.` or `*` (`alarm.` → every alarm action);
 * `subject` matches exactly; from/to are ISO times or ms; `before` is an entry id, for the next page.
 */
export interface AuditReply {
  entries: StoredAuditEntry[];
  /** Pass as `before` for the next (older) page; absent on the last page. */
  next?: number;
}
