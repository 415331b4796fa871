import type { FastifyInstance } from 'fastify';
import { DATA_ROLES } from '../access.ts';
import type { BusReport, DeviceReport, DevicesReply } from '../api-types.ts';
import type { HttpContext } from '../context.ts';

// GET /api/devices: the comm status of every Modbus bus and meter, every signal
// source's last supervision report and the payloads refused, for the control room's
// devices page (issue 8). Whoever reads the building may read it: a meter that does
// not answer is what the duty operator reports to maintenance (handbook 第一节, 值班
// 记录). Buses and meters are listed in config order; the counters are the driver's.

export function registerDeviceRoutes(app: FastifyInstance, { services }: HttpContext): void {
  const { modbus: config } = services.config.building;

  app.get('/api/devices', { config: { roles: DATA_ROLES } }, async (): Promise<DevicesReply> => {
    const rejected = services.latest.rejected();
    const sources = services.latest.sources().sort((a, b) => a.source.localeCompare(b.source));
    // A hub without a Modbus driver has no buses or meters to report: empty, not an error.
    const stats = services.modbus?.stats();
    if (!stats) return { buses: [], devices: [], sources, rejected };

    const buses = config.buses.map((bus): BusReport => {
      const s = stats.buses[bus.id];
      return {
        id: bus.id,
        transport: bus.transport,
        connected: s?.connected ?? false,
        requests: s?.requests ?? 0,
        errors: s?.errors ?? 0,
        ...(s?.lastError ? { lastError: s.lastError } : {}),
        cycles: s?.cycles ?? 0,
        ...(s?.lastCycleMs !== undefined ? { lastCycleMs: s.lastCycleMs } : {}),
      };
    });
    const devices = config.meters.map((meter): DeviceReport => {
      // Before the driver's first start a meter has no counters yet: unknown, nothing failed.
      const s = stats.devices[meter.id];
      return {
        id: meter.id,
        bus: meter.bus,
        unit: meter.unit,
        kind: meter.kind,
        status: s?.status ?? 'unknown',
        consecutiveFailures: s?.consecutiveFailures ?? 0,
        errors: s?.errors ?? 0,
        ...(s?.lastError ? { lastError: s.lastError } : {}),
        ...(s?.lastErrorAt !== undefined ? { lastErrorAt: s.lastErrorAt } : {}),
        ...(s?.lastGoodAt !== undefined ? { lastGoodAt: s.lastGoodAt } : {}),
      };
    });
    return { buses, devices, sources, rejected };
  });
}
