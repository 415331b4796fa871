import type { Clock } from '../clock.ts';
import type { DutyConfig } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { WorkingCalendar } from './calendar.ts';
import { Notifier, recipientsFor, type DeliveryUpdate, type NotificationSink, type OutgoingNotification } from './notify.ts';
import type { Incident, NotificationRecord } from './types.ts';

// The incident side of notifications: a notification is written onto the incident
// (who, why, to whom on the roster), stored with it, and only then sent; delivery
// results come back later and are written onto the same record. A delivery still
// pending when the hub stopped is sent again at start.

export class IncidentOutbox {
  private readonly notifier: Notifier;
  private queue: Array<{ incident: Incident; record: NotificationRecord; sinks?: string[] }> = [];

  constructor(
    private readonly options: { site: string; duty: DutyConfig; calendar: WorkingCalendar; clock: Clock; log: Logger; sinks: NotificationSink[]; onDelivery: (update: DeliveryUpdate) => void },
  ) {
    this.notifier = new Notifier({ sinks: options.sinks, clock: options.clock, log: options.log, onDelivery: options.onDelivery });
  }

  /** Writes a notification onto the incident; it is sent at the next flush(), after the incident is stored. */
  add(incident: Incident, reason: NotificationRecord['reason'], roles: string[], text: NotificationRecord['text'], stepKey?: string): void {
    const now = this.options.clock.now();
    const unique = [...new Set(roles)];
    const record: NotificationRecord = {
      id: `${incident.id}-${incident.notifications.length + 1}`, at: now, reason, ...(stepKey ? { stepKey } : {}), roles: unique,
      recipients: recipientsFor(unique, this.options.duty, this.options.calendar, now), text, deliveries: this.notifier.initialDeliveries(),
    };
    incident.notifications.push(record);
    this.queue.push({ incident, record });
  }

  /** Queues the deliveries a stopped hub left pending. */
  resume(incident: Incident): void {
    for (const record of incident.notifications) {
      const sinks = record.deliveries.filter((d) => d.status === 'pending').map((d) => d.sink);
      if (sinks.length) this.queue.push({ incident, record, sinks });
    }
  }

  flush(): void {
    for (const { incident, record, sinks } of this.queue.splice(0)) this.notifier.send(this.outgoing(incident, record), sinks);
  }

  /** Writes a delivery result onto its record; false when the incident no longer has it. */
  apply(incident: Incident, u: DeliveryUpdate): boolean {
    const delivery = incident.notifications.find((n) => n.id === u.notificationId)?.deliveries.find((d) => d.sink === u.sink);
    if (!delivery) return false;
    Object.assign(delivery, { status: u.status, attempts: u.attempts }, u.lastError ? { lastError: u.lastError } : {}, u.deliveredAt ? { deliveredAt: u.deliveredAt } : {});
    if (u.status === 'failed') incident.timeline.push({ at: this.options.clock.now(), by: 'system', what: `notification ${u.notificationId} via ${u.sink} failed after ${u.attempts} attempts`, ...(u.lastError ? { detail: u.lastError } : {}) });
    return true;
  }

  stop(): void {
    this.queue = [];
    this.notifier.stop();
  }

  private outgoing(incident: Incident, record: NotificationRecord): OutgoingNotification {
    return { site: this.options.site, incident: { id: incident.id, runbook: incident.runbook, title: incident.title, tower: incident.tower, state: incident.state }, notification: record };
  }
}
