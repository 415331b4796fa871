import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { DateTime } from 'luxon';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../gateway/clock.ts';
import type { BuildingConfig, DutyConfig } from '../../gateway/config/schema.ts';
import { silentLogger, type Logger } from '../../gateway/log.ts';
import { WorkingCalendar } from '../../gateway/runbooks/calendar.ts';
import { buildSinks, LogSink, Notifier, recipientsFor, WebhookSink, type DeliveryUpdate, type NotificationSink, type OutgoingNotification } from '../../gateway/runbooks/notify.ts';
import { freePort, waitFor } from '../helpers/ports.ts';

// The notifier against a real HTTP receiver on 127.0.0.1 (no fetch mocks); retry
// delays run on a ManualClock, so the backoff is checked exactly.

type Webhook = NonNullable<BuildingConfig['runbooks']['webhook']>;

interface Received {
  headers: IncomingHttpHeaders;
  body: unknown;
}

/** A webhook receiver: `answer(n)` gives the status for the nth request (1-based), or 'hang' to never answer. */
async function receiver(answer: (n: number) => number | 'hang'): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (chunk: Buffer) => (data += chunk.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(data) });
      const status = answer(received.length);
      if (status === 'hang') return;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'gateway busy');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/notify?access_token=secret`, received, server };
}

const servers: Server[] = [];
const notifiers: Notifier[] = [];
afterEach(async () => {
  for (const n of notifiers.splice(0)) n.stop();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

function webhook(url: string, extra: Partial<Webhook> = {}): Webhook {
  return { url, timeoutMs: 2_000, retries: 3, retryDelayMs: 1_000, ...extra };
}

function start(sinks: NotificationSink[], options: { clock?: ManualClock; log?: Logger } = {}) {
  const clock = options.clock ?? new ManualClock();
  const updates: DeliveryUpdate[] = [];
  const notifier = new Notifier({ sinks, clock, log: options.log ?? silentLogger, onDelivery: (u) => updates.push(u) });
  notifiers.push(notifier);
  return { clock, updates, notifier };
}

/** Lets real I/O happen (the request after a timer fired on the fake clock) for a moment. */
const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms));

const message: OutgoingNotification = {
  site: 'demo-plaza',
  incident: { id: 7, runbook: 'fire-alarm', title: { zh: '火警', en: 'Fire alarm' }, tower: 'A', state: 'open' },
  notification: {
    id: 'n3',
    at: Date.UTC(2026, 0, 1, 2),
    reason: 'escalation',
    stepKey: 'verify',
    roles: ['csc', 'supervisor'],
    recipients: [
      { role: 'csc', name: 'Wang Fang', phone: '13800000001' },
      { role: 'supervisor', name: 'Li Qiang', phone: '13800000002' },
    ],
    text: { zh: '火警未在3分钟内核实', en: 'Fire alarm not verified within 3 minutes' },
    deliveries: [{ sink: 'webhook', status: 'pending', attempts: 0 }],
  },
};

describe('WebhookSink through the Notifier', () => {
  it('POSTs the incident, the recipients and the bilingual text as JSON, with the bearer token', async () => {
    const hook = await receiver(() => 200);
    const lines: Array<Record<string, unknown>> = [];
    const log = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s)) });
    const { clock, updates, notifier } = start([new LogSink(log), new WebhookSink(webhook(hook.url, { token: 'tok-123' }))]);

    expect(notifier.initialDeliveries()).toEqual([
      { sink: 'log', status: 'pending', attempts: 0 },
      { sink: 'webhook', status: 'pending', attempts: 0 },
    ]);
    notifier.send(message);
    expect(updates).toEqual([]); // results come later, never from inside send()
    await waitFor('both deliveries', () => updates.length === 2);

    expect(hook.received).toHaveLength(1);
    const { headers, body } = hook.received[0]!;
    expect(headers.authorization).toBe('Bearer tok-123');
    expect(headers['content-type']).toBe('application/json');
    expect(headers['idempotency-key']).toBe('demo-plaza/7/n3');
    const { deliveries: _stored, ...sent } = message.notification;
    expect(body).toEqual({ site: 'demo-plaza', incident: message.incident, notification: sent });

    expect(updates).toEqual(
      expect.arrayContaining([
        { incidentId: 7, notificationId: 'n3', sink: 'log', status: 'delivered', attempts: 1, deliveredAt: clock.now() },
        { incidentId: 7, notificationId: 'n3', sink: 'webhook', status: 'delivered', attempts: 1, deliveredAt: clock.now() },
      ]),
    );
    expect(lines).toEqual([
      expect.objectContaining({ level: 30, incident: 7, reason: 'escalation', roles: ['csc', 'supervisor'], recipients: ['Wang Fang', 'Li Qiang'], msg: 'notification: Fire alarm not verified within 3 minutes' }),
    ]);
  });

  it('sends no authorization header without a token', async () => {
    const hook = await receiver(() => 200);
    const { updates, notifier } = start([new WebhookSink(webhook(hook.url))]);
    notifier.send(message);
    await waitFor('delivery', () => updates.length === 1);
    expect(hook.received[0]!.headers.authorization).toBeUndefined();
  });

  it('retries a failing receiver after 1 s, then 2 s, on the clock, until it answers 200', async () => {
    const hook = await receiver((n) => (n <= 2 ? 500 : 200));
    const { clock, updates, notifier } = start([new WebhookSink(webhook(hook.url, { retries: 3, retryDelayMs: 1_000 }))]);
    const started = clock.now();
    notifier.send(message);

    await waitFor('first failure', () => updates.length === 1);
    expect(updates[0]).toEqual({ incidentId: 7, notificationId: 'n3', sink: 'webhook', status: 'pending', attempts: 1, lastError: 'HTTP 500: gateway busy' });

    clock.advance(999);
    await settle();
    expect(hook.received).toHaveLength(1); // not retried before the delay
    clock.advance(1);
    await waitFor('second failure', () => updates.length === 2);
    expect(hook.received).toHaveLength(2);
    expect(updates[1]).toMatchObject({ status: 'pending', attempts: 2, lastError: 'HTTP 500: gateway busy' });

    clock.advance(1_999); // the second wait is twice the first
    await settle();
    expect(hook.received).toHaveLength(2);
    clock.advance(1);
    await waitFor('delivery', () => updates.length === 3);
    expect(updates[2]).toEqual({ incidentId: 7, notificationId: 'n3', sink: 'webhook', status: 'delivered', attempts: 3, deliveredAt: started + 3_000 });
    expect(hook.received).toHaveLength(3);
  });

  it('marks a delivery failed after 1 + retries attempts, warning once at the first failure and once at the end', async () => {
    const hook = await receiver(() => 503);
    const lines: Array<{ level: number; msg: string; error?: string }> = [];
    const log = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s)) });
    const { clock, updates, notifier } = start([new WebhookSink(webhook(hook.url, { retries: 2, retryDelayMs: 100 }))], { log });
    notifier.send(message);

    await waitFor('first failure', () => updates.length === 1);
    clock.advance(100);
    await waitFor('second failure', () => updates.length === 2);
    clock.advance(200);
    await waitFor('given up', () => updates.length === 3);
    expect(updates.map((u) => [u.status, u.attempts])).toEqual([
      ['pending', 1],
      ['pending', 2],
      ['failed', 3],
    ]);
    expect(updates[2]!.lastError).toBe('HTTP 503: gateway busy');

    clock.advance(60_000);
    await settle();
    expect(hook.received).toHaveLength(3);
    expect(updates).toHaveLength(3);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [40, 'notification delivery failed; retrying'],
      [40, 'notification delivery failed; giving up'],
    ]);
    expect(lines[1]!.error).toBe('HTTP 503: gateway busy');
  });

  it('reports a refused connection as the reason', async () => {
    const url = `http://127.0.0.1:${await freePort()}/notify`; // nothing listens there
    const { clock, updates, notifier } = start([new WebhookSink(webhook(url, { retries: 1, retryDelayMs: 500 }))]);
    notifier.send(message);
    await waitFor('first failure', () => updates.length === 1);
    expect(updates[0]).toMatchObject({ status: 'pending', attempts: 1, lastError: 'connection refused (ECONNREFUSED)' });
    clock.advance(500);
    await waitFor('given up', () => updates.length === 2);
    expect(updates[1]).toMatchObject({ status: 'failed', attempts: 2, lastError: 'connection refused (ECONNREFUSED)' });
  });

  it('fails an attempt that gets no answer within timeoutMs', async () => {
    const hook = await receiver(() => 'hang');
    const { updates, notifier } = start([new WebhookSink(webhook(hook.url, { timeoutMs: 200, retries: 0 }))]);
    const sent = Date.now();
    notifier.send(message);
    await waitFor('timeout', () => updates.length === 1, 5_000);
    expect(Date.now() - sent).toBeGreaterThanOrEqual(190);
    expect(updates[0]).toMatchObject({ status: 'failed', attempts: 1, lastError: 'timed out after 200 ms' });
    expect(hook.received).toHaveLength(1);
  });

  it('keeps the URL (and a token in it) out of the reason shown on the incident', async () => {
    const hook = await receiver(() => 404);
    const { updates, notifier } = start([new WebhookSink(webhook(hook.url, { retries: 0 }))]);
    notifier.send(message);
    await waitFor('failure', () => updates.length === 1);
    expect(updates[0]!.lastError).toBe('HTTP 404: gateway busy');
    expect(updates[0]!.lastError).not.toContain('secret');
  });
});

describe('Notifier', () => {
  it('stop() cancels the pending retries and reports nothing more', async () => {
    const hook = await receiver(() => 500);
    const { clock, updates, notifier } = start([new WebhookSink(webhook(hook.url, { retries: 3, retryDelayMs: 1_000 }))]);
    notifier.send(message);
    await waitFor('first failure', () => updates.length === 1);
    notifier.stop();
    clock.advance(3_600_000);
    await settle();
    expect(hook.received).toHaveLength(1);
    expect(updates).toHaveLength(1);
    notifier.send(message); // ignored once stopped
    await settle();
    expect(hook.received).toHaveLength(1);
  });

  it('sends only to the named sinks, and fails at once a sink that is no longer configured', async () => {
    const hook = await receiver(() => 200);
    const { updates, notifier } = start([new LogSink(silentLogger), new WebhookSink(webhook(hook.url))]);
    notifier.send(message, ['webhook', 'sms']);
    await waitFor('two updates', () => updates.length === 2);
    await settle();
    expect(updates).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ sink: 'webhook', status: 'delivered', attempts: 1 }),
        { incidentId: 7, notificationId: 'n3', sink: 'sms', status: 'failed', attempts: 0, lastError: 'sink "sms" is not configured' },
      ]),
    );
    expect(updates.some((u) => u.sink === 'log')).toBe(false);
    expect(hook.received).toHaveLength(1);
  });

  it('keeps retrying when onDelivery throws, and survives a sink that throws synchronously', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const flaky: NotificationSink = {
      name: 'flaky',
      retries: 1,
      retryDelayMs: 10,
      deliver: () => {
        if (++calls === 1) throw new Error('not ready');
        return Promise.resolve();
      },
    };
    const updates: DeliveryUpdate[] = [];
    const notifier = new Notifier({
      sinks: [flaky],
      clock,
      log: silentLogger,
      onDelivery: (u) => {
        updates.push(u);
        throw new Error('database is locked');
      },
    });
    notifiers.push(notifier);
    expect(() => notifier.send(message)).not.toThrow();
    await waitFor('first failure', () => updates.length === 1);
    expect(updates[0]).toMatchObject({ status: 'pending', attempts: 1, lastError: 'not ready' });
    clock.advance(10);
    await waitFor('delivery', () => updates.length === 2);
    expect(updates[1]).toMatchObject({ status: 'delivered', attempts: 2 });
  });
});

describe('buildSinks', () => {
  it('always has the log, and the webhook when configured', () => {
    const without = buildSinks({ runbooks: {} } as BuildingConfig, silentLogger);
    expect(without.map((s) => s.name)).toEqual(['log']);
    const hook = webhook('http://127.0.0.1:9/notify', { retries: 4, retryDelayMs: 250 });
    const withHook = buildSinks({ runbooks: { webhook: hook } } as BuildingConfig, silentLogger);
    expect(withHook.map((s) => [s.name, s.retries, s.retryDelayMs])).toEqual([
      ['log', 0, 0],
      ['webhook', 4, 250],
    ]);
  });
});

describe('recipientsFor', () => {
  // Like the demo building: office 08:30-12:00 and 13:00-17:30, early 07:00-15:00,
  // late 15:00-20:00, Monday to Friday, and Labour Day (Friday 2026-05-01) off.
  const calendar = new WorkingCalendar(
    {
      shifts: { office: [{ start: '08:30', end: '12:00' }, { start: '13:00', end: '17:30' }], early: { start: '07:00', end: '15:00' }, late: { start: '15:00', end: '20:00' } },
      workingDays: [1, 2, 3, 4, 5],
      holidays: [{ date: '2026-05-01', name: '劳动节' }],
      extraWorkingDays: [],
    },
    'Asia/Shanghai',
  );
  const duty: DutyConfig = {
    roles: [],
    roster: [
      { role: 'csc', name: 'Day Wang', phone: '101', shift: 'office' },
      { role: 'csc', name: 'Early Zhao', phone: '102', shift: 'early' },
      { role: 'csc', name: 'Late Sun', phone: '103', shift: 'late' },
      { role: 'csc', name: 'Night Li', phone: '104', shift: 'night' },
      { role: 'engineer', name: 'Always Chen', phone: '201', shift: 'any' },
      { role: 'engineer', name: 'Office Liu', phone: '202', shift: 'office' },
      { role: 'director', name: 'Director Zhou', phone: '301', shift: 'office' },
    ],
  };
  const at = (local: string) => DateTime.fromISO(local, { zone: 'Asia/Shanghai' }).toMillis();
  const names = (roles: string[], when: string) => recipientsFor(roles, duty, calendar, at(when)).map((r) => `${r.role}:${r.name}`);

  it('picks the office and early shifts at 10:00 on a weekday, and the late shift at 16:00', () => {
    expect(names(['csc', 'engineer', 'director'], '2026-04-28T10:00')).toEqual(['csc:Day Wang', 'csc:Early Zhao', 'engineer:Always Chen', 'engineer:Office Liu', 'director:Director Zhou']);
    expect(names(['csc'], '2026-04-28T16:00')).toEqual(['csc:Day Wang', 'csc:Late Sun']);
  });

  it('picks the night shift at 23:00, on a Saturday afternoon and on a holiday morning', () => {
    for (const when of ['2026-04-28T23:00', '2026-05-02T14:00', '2026-05-01T10:00']) {
      expect(names(['csc', 'engineer'], when), when).toEqual(['csc:Night Li', 'engineer:Always Chen']);
    }
  });

  it('tells everyone rostered for a role when nobody is on shift for it', () => {
    expect(names(['director'], '2026-04-28T23:00')).toEqual(['director:Director Zhou']);
    expect(names(['director'], '2026-05-01T10:00')).toEqual(['director:Director Zhou']);
  });

  it('gives nobody for a role nobody holds, carries the phone, and names each role once', () => {
    expect(recipientsFor(['security'], duty, calendar, at('2026-04-28T10:00'))).toEqual([]);
    expect(recipientsFor(['director', 'director'], duty, calendar, at('2026-04-28T10:00'))).toEqual([{ role: 'director', name: 'Director Zhou', phone: '301' }]);
  });
});
