import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The hub's Prometheus metrics (served at GET /metrics). One registry per hub, so
 * two hubs in one test process do not share counters.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly modbusRequests = new Counter({ name: 'bohub_modbus_requests_total', help: 'Modbus read transactions sent', labelNames: ['bus'], registers: [this.registry] });
  readonly modbusErrors = new Counter({ name: 'bohub_modbus_errors_total', help: 'Modbus transactions that failed, by error code', labelNames: ['bus', 'code'], registers: [this.registry] });
  readonly modbusDeviceRequests = new Counter({ name: 'bohub_modbus_device_requests_total', help: 'Modbus read transactions sent, per device (retries included)', labelNames: ['bus', 'device'], registers: [this.registry] });
  readonly modbusDeviceErrors = new Counter({
    name: 'bohub_modbus_device_errors_total',
    help: 'Failed Modbus transactions per device, by kind: timeout, exception_0xNN, crc, malformed, connect',
    labelNames: ['bus', 'device', 'kind'],
    registers: [this.registry],
  });
  readonly modbusDeviceRoundTrip = new Gauge({ name: 'bohub_modbus_device_round_trip_seconds', help: 'The latest answered Modbus transaction round trip, per device', labelNames: ['bus', 'device'], registers: [this.registry] });
  readonly modbusRoundTrip = new Histogram({
    name: 'bohub_modbus_round_trip_seconds',
    help: 'Time from sending a Modbus request to its answer, per bus (answered transactions only)',
    labelNames: ['bus'],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly devicesOnline = new Gauge({ name: 'bohub_devices_online', help: 'Devices answering their polls', labelNames: ['bus'], registers: [this.registry] });
  readonly telemetryWritten = new Counter({ name: 'bohub_telemetry_points_written_total', help: 'Telemetry points stored', labelNames: ['backend'], registers: [this.registry] });
  readonly telemetryErrors = new Counter({ name: 'bohub_telemetry_write_errors_total', help: 'Telemetry batches that failed to store', labelNames: ['backend'], registers: [this.registry] });
  readonly inputRejected = new Counter({ name: 'bohub_input_rejected_total', help: 'Payloads that could not be decoded, by source', labelNames: ['source'], registers: [this.registry] });
  readonly signalEvents = new Counter({ name: 'bohub_signal_events_total', help: 'Safety signal state changes received', labelNames: ['kind'], registers: [this.registry] });
  readonly loginFailures = new Counter({ name: 'bohub_login_failures_total', help: 'Failed login attempts', registers: [this.registry] });
  readonly socketClients = new Gauge({ name: 'bohub_socket_clients', help: 'Connected live-update clients', registers: [this.registry] });
  readonly liveRefusedEvents = new Counter({ name: 'bohub_live_refused_events_total', help: 'Events live-update clients sent up the socket, all refused (the dashboard only listens), by event name', labelNames: ['event'], registers: [this.registry] });
  readonly incidentsOpened = new Counter({ name: 'bohub_incidents_opened_total', help: 'Incidents opened, by runbook', labelNames: ['runbook'], registers: [this.registry] });
  readonly incidentEscalations = new Counter({ name: 'bohub_incident_escalations_total', help: 'Runbook steps escalated past their deadline, by runbook', labelNames: ['runbook'], registers: [this.registry] });
  readonly notificationFailures = new Counter({ name: 'bohub_notification_failures_total', help: 'Incident notifications given up after every retry, by sink', labelNames: ['sink'], registers: [this.registry] });
  // Labelled by account, not client id: accounts are the config's, client ids are anyone's.
  readonly brokerThrottled = new Counter({ name: 'bohub_broker_throttled_total', help: 'Publishes the embedded broker held back because their client was over broker.limits.publishesPerSecond, by account', labelNames: ['account'], registers: [this.registry] });
  readonly brokerOversized = new Counter({ name: 'bohub_broker_oversized_total', help: 'Publishes the embedded broker refused for a payload over broker.limits.maxPayloadBytes, by account', labelNames: ['account'], registers: [this.registry] });
  readonly componentUp = new Gauge({ name: 'bohub_component_status', help: 'Plug-in health: 2 ok, 1 degraded, 0 down', labelNames: ['component'], registers: [this.registry] });
  // Every sample of perf_hooks.monitorEventLoopDelay, observed once (gateway/loop-health.ts).
  // The default metrics' bohub_nodejs_eventloop_lag_* gauges are one scrape's percentiles,
  // which cannot be summed over time or instances; a histogram can. Buckets bracket the
  // ~20 ms task budget and the 50 ms health limit (ARCHITECTURE.md).
  readonly eventLoopDelay = new Histogram({
    name: 'bohub_event_loop_delay_seconds',
    help: 'Main-thread event-loop delay: how late each tick of a 10 ms timer fired (perf_hooks.monitorEventLoopDelay)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'bohub_' });
  }
}
