import type { Clock, Timer } from '../clock.ts';
import type { BuildingConfig, DutyConfig } from '../config/schema.ts';
import { describeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { WorkingCalendar } from './calendar.ts';
import type { Bilingual, DeliveryStatus, IncidentState, NotificationRecord } from './types.ts';

// Notifications of the runbook engine: who is told (the people on duty for the
// step's roles, from the roster and the working calendar, handbook 第一节 一、值班制度)
// and how (one interface, several sinks). The log always receives them; a webhook
// can be configured so that an SMS, WeCom or DingTalk gateway forwards them. A
// failed delivery is retried with a doubling delay on the injected clock, and every
// change of a delivery's state is reported back, so the incident shows it.

export interface NotificationSink {
  readonly name: string;
  /** Attempts after the first before the delivery is marked failed (0 for the log). */
  readonly retries: number;
  /** Delay before the first retry; doubles each retry. */
  readonly retryDelayMs: number;
  /** Resolves when delivered; rejects with an Error whose message says why (HTTP status, timeout, refused). */
  deliver(message: OutgoingNotification): Promise<void>;
}

export interface OutgoingNotification {
  site: string;
  incident: { id: number; runbook: string; title: Bilingual; tower?: string; state: IncidentState };
  /** Its `deliveries` are not sent. */
  notification: NotificationRecord;
}

export type DeliveryUpdate = {
  incidentId: number;
  notificationId: string;
  sink: string;
  status: DeliveryStatus;
  attempts: number;
  lastError?: string;
  deliveredAt?: number;
};

/**
 * Who is on duty now for each role: the roster entries whose shift is on at `at`.
 * When nobody on the roster is on shift for a role, everyone rostered for it is
 * told, so an emergency never goes unannounced; a role nobody holds gets nobody.
 */
export function recipientsFor(roles: string[], duty: DutyConfig, calendar: WorkingCalendar, at: number): NotificationRecord['recipients'] {
  return [...new Set(roles)].flatMap((role) => {
    const rostered = duty.roster.filter((e) => e.role === role);
    const onShift = rostered.filter((e) => calendar.onShift(e.shift, at));
    return (onShift.length ? onShift : rostered).map((e) => ({ role, name: e.name, phone: e.phone }));
  });
}

/** The log sink and, when configured, the webhook. */
export function buildSinks(config: BuildingConfig, log: Logger): NotificationSink[] {
  const sinks: NotificationSink[] = [new LogSink(log)];
  if (config.runbooks.webhook) sinks.push(new WebhookSink(config.runbooks.webhook));
  return sinks;
}

/** One info line per notification: the control room's record even when nothing else is attached. */
export class LogSink implements NotificationSink {
  readonly name = 'log';
  readonly retries = 0;
  readonly retryDelayMs = 0;

  constructor(private readonly log: Logger) {}

  async deliver({ incident, notification: n }: OutgoingNotification): Promise<void> {
    this.log.info(
      { incident: incident.id, runbook: incident.runbook, reason: n.reason, stepKey: n.stepKey, roles: n.roles, recipients: n.recipients.map((r) => r.name) },
      `notification: ${n.text.en}`,
    );
  }
}

/**
 * POSTs each notification as JSON. Any answer other than 2xx is a failure. The
 * idempotency-key header lets a gateway drop the repeat when a retry follows a
 * request that arrived but timed out on its way back.
 */
export class WebhookSink implements NotificationSink {
  readonly name = 'webhook';
  readonly retries: number;
  readonly retryDelayMs: number;

  constructor(private readonly config: NonNullable<BuildingConfig['runbooks']['webhook']>) {
    this.retries = config.retries;
    this.retryDelayMs = config.retryDelayMs;
  }

  async deliver(message: OutgoingNotification): Promise<void> {
    const { deliveries: _notSent, ...notification } = message.notification;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'idempotency-key': `${message.site}/${message.incident.id}/${notification.id}`,
    };
    if (this.config.token) headers.authorization = `Bearer ${this.config.token}`;
    let res: Response;
    try {
      res = await fetch(this.config.url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ site: message.site, incident: message.incident, notification }),
        signal: AbortSignal.timeout(this.config.timeoutMs),
      });
    } catch (err) {
      throw new Error(failureReason(err, this.config.timeoutMs), { cause: err });
    }
    if (res.ok) {
      await res.body?.cancel(); // frees the connection; the answer's content does not matter
      return;
    }
    // Never the URL in the message: it is shown on the incident, and DingTalk-style URLs carry the access token.
    const detail = await res.text().then(oneLine, () => '');
    throw new Error(`HTTP ${res.status}${detail ? `: ${detail}` : ''}`);
  }
}

/**
 * Delivers notifications to the sinks, retrying failures, and reports every change
 * of a delivery through `onDelivery` (always later, never from inside `send`).
 * Logs once when a delivery first fails and once when it is given up, in the manner
 * of "log when unavailable"; the attempts in between are logged at debug.
 */
export class Notifier {
  private readonly timers = new Set<Timer>();
  private stopped = false;

  constructor(
    private readonly options: { sinks: NotificationSink[]; clock: Clock; log: Logger; onDelivery: (update: DeliveryUpdate) => void },
  ) {}

  /** Starts delivery to every sink, or only the named ones (to resume pending deliveries after a restart). Returns at once. */
  send(message: OutgoingNotification, sinks?: string[]): void {
    if (this.stopped) return;
    for (const name of sinks ?? this.options.sinks.map((s) => s.name)) {
      const sink = this.options.sinks.find((s) => s.name === name);
      if (sink) this.attempt(sink, message, 1);
      // A sink named in a stored record but no longer configured: say so rather than leave it pending forever.
      else queueMicrotask(() => this.report(message, { sink: name, status: 'failed', attempts: 0, lastError: `sink "${name}" is not configured` }));
    }
  }

  /** The delivery list to store on a new NotificationRecord: one 'pending' entry per sink. */
  initialDeliveries(): NotificationRecord['deliveries'] {
    return this.options.sinks.map((s) => ({ sink: s.name, status: 'pending' as const, attempts: 0 }));
  }

  /** Cancels retry timers; requests in flight may finish, but nothing is reported after this. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) t.cancel();
    this.timers.clear();
  }

  private attempt(sink: NotificationSink, message: OutgoingNotification, attempt: number): void {
    // Through a promise even for a sink that throws synchronously: send() never throws, onDelivery never re-enters the caller.
    void Promise.resolve()
      .then(() => sink.deliver(message))
      .then(
        () => this.delivered(sink, message, attempt),
        (err: unknown) => this.failed(sink, message, attempt, err instanceof Error ? err.message : String(err)),
      );
  }

  private delivered(sink: NotificationSink, message: OutgoingNotification, attempts: number): void {
    if (this.stopped) return;
    if (attempts > 1) this.options.log.info(this.context(sink, message, { attempts }), 'notification delivered after retrying');
    this.report(message, { sink: sink.name, status: 'delivered', attempts, deliveredAt: this.options.clock.now() });
  }

  private failed(sink: NotificationSink, message: OutgoingNotification, attempts: number, error: string): void {
    if (this.stopped) return;
    const { log, clock } = this.options;
    const context = this.context(sink, message, { attempts, error });
    if (attempts > sink.retries) {
      log.warn(context, 'notification delivery failed; giving up');
      this.report(message, { sink: sink.name, status: 'failed', attempts, lastError: error });
      return;
    }
    const delayMs = sink.retryDelayMs * 2 ** (attempts - 1);
    if (attempts === 1) log.warn({ ...context, retries: sink.retries }, 'notification delivery failed; retrying');
    else log.debug({ ...context, delayMs }, 'notification delivery failed again');
    this.report(message, { sink: sink.name, status: 'pending', attempts, lastError: error });
    if (this.stopped) return; // onDelivery may have stopped us
    const timer = clock.setTimeout(() => {
      this.timers.delete(timer);
      this.attempt(sink, message, attempts + 1);
    }, delayMs);
    this.timers.add(timer);
  }

  private report(message: OutgoingNotification, update: Omit<DeliveryUpdate, 'incidentId' | 'notificationId'>): void {
    if (this.stopped) return;
    try {
      this.options.onDelivery({ incidentId: message.incident.id, notificationId: message.notification.id, ...update });
    } catch (err) {
      this.options.log.error({ ...this.context({ name: update.sink }, message, {}), error: describeError(err) }, 'notification delivery update not recorded');
    }
  }

  private context(sink: { name: string }, message: OutgoingNotification, extra: Record<string, unknown>): Record<string, unknown> {
    return { incident: message.incident.id, notification: message.notification.id, sink: sink.name, ...extra };
  }
}

/** Why a request did not get an answer: a timeout, a refused connection, or the socket error. */
function failureReason(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && err.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  // fetch hides the socket error in err.cause (ECONNREFUSED, ECONNRESET, ...), several of them when happy-eyeballs tried more than one address.
  let cause = (err as { cause?: unknown }).cause ?? err;
  if (cause instanceof AggregateError && cause.errors.length) cause = cause.errors[0];
  const code = (cause as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return 'connection refused (ECONNREFUSED)';
  return describeError(cause);
}

/** The start of an error answer, on one line, to show on the incident. */
function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}
