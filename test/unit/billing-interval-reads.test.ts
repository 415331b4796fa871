import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { INTERVAL_READ_SETTINGS, IntervalReadQueue } from '../../gateway/billing/interval-reads.ts';
import { BillingPlugin } from '../../gateway/billing/plugin.ts';
import { billingRegisters } from '../../gateway/billing/registers.ts';
import type { NewRead } from '../../gateway/billing/types.ts';
import { EventBus } from '../../gateway/events.ts';
import { LatestValues } from '../../gateway/latest.ts';
import { billingRig, type BillingRig } from '../helpers/billing.ts';

// Interval reads are held in memory and stored together, off the 'meter.values'
// listener, which shares the event loop with fire signals (issue 15). The billing
// plug-in against a real records store, with fake time.

const rigs: BillingRig[] = [];

afterEach(() => {
  for (const r of rigs.splice(0)) r.close();
});

async function setup() {
  const rig = billingRig(undefined, 20);
  rigs.push(rig);
  const events = new EventBus();
  const logged: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) });
  const plugin = new BillingPlugin({ config: rig.config, records: rig.records, events, clock: rig.clock, log, latest: new LatestValues(events) });
  await plugin.start();
  const registers = [...billingRegisters(rig.config).values()];
  /** One poll sweep: a good billing-register value of every meter, as the Modbus driver publishes it. */
  const sweep = (value: number) => {
    for (const { meter, point } of registers) {
      events.emit('meter.values', { device: meter.id, values: [{ device: meter.id, point, value, unit: 'kWh', quality: 'good', sourceTime: rig.clock.now() }] });
    }
  };
  const stored = () => registers.flatMap(({ meter }) => rig.repo.readsOf(meter.id, 0, rig.clock.now() + 1));
  const insertReads = vi.spyOn(plugin.service.repo, 'insertReads');
  return { rig, plugin, registers, sweep, stored, insertReads, logged };
}

describe('interval reads are stored in batches (issue 15)', () => {
  it('a sweep of every meter is stored by one flush, and the listener itself writes nothing', async () => {
    const { rig, plugin, registers, sweep, stored, insertReads } = await setup();
    expect(registers.length).toBeGreaterThan(20);
    sweep(1234.5);
    expect(insertReads).not.toHaveBeenCalled();
    expect(stored()).toHaveLength(0);

    rig.clock.advance(INTERVAL_READ_SETTINGS.flushMs);
    expect(insertReads).toHaveBeenCalledTimes(1);
    expect(stored().map((r) => [r.meterId, r.source])).toEqual(registers.map(({ meter }) => [meter.id, 'interval']));
    // As before: interval reads are not audited.
    expect(rig.records.listAudit({ action: 'billing.', actionPrefix: true })).toEqual([]);
    await plugin.stop();
  });

  it('stop() stores the reads still waiting', async () => {
    const { registers, plugin, sweep, stored } = await setup();
    sweep(1234.5);
    await plugin.stop();
    expect(stored()).toHaveLength(registers.length);
  });

  it('a failed write keeps the reads, names the meters in the log, and a later flush stores them', async () => {
    const { rig, plugin, registers, sweep, stored, insertReads, logged } = await setup();
    insertReads.mockImplementationOnce(() => {
      throw new Error('SQLITE_FULL: database or disk is full');
    });
    sweep(1234.5);
    rig.clock.advance(INTERVAL_READ_SETTINGS.flushMs);
    expect(insertReads).toHaveBeenCalledTimes(1);
    expect(stored()).toHaveLength(0);
    expect(plugin.health()).toMatchObject({ status: 'degraded', detail: expect.stringContaining(`${registers.length} interval reads not stored yet: SQLITE_FULL`) });
    const failure = logged.find((l) => l.msg === 'interval reads not stored; they are held and tried again');
    expect(failure).toMatchObject({ level: 50, reads: registers.length, err: expect.stringContaining('SQLITE_FULL') });
    expect(String(failure!.meters).split(', ')).toEqual(expect.arrayContaining(registers.slice(0, 5).map(({ meter }) => meter.id)));

    rig.clock.advance(INTERVAL_READ_SETTINGS.retryMs);
    expect(stored()).toHaveLength(registers.length);
    expect(plugin.health().status).toBe('ok');
    await plugin.stop();
  });
});

describe('the interval read queue', () => {
  const read = (i: number): NewRead => ({ meterId: `M-${i}`, serial: `S-${i}`, readAt: i, value: '1.00', multiplier: '1', kind: 'actual', source: 'interval', quality: 'good' });

  it('holds at most maxHeld reads while the store fails, drops the oldest and counts them', async () => {
    const rig = billingRig();
    rigs.push(rig);
    let storeFails = true;
    const repo = {
      insertReads: vi.fn((reads: NewRead[]) => {
        if (storeFails) throw new Error('disk I/O error');
        return { inserted: reads.length, duplicates: 0 };
      }),
    };
    const queue = new IntervalReadQueue(repo, rig.clock, pino({ level: 'silent' }), { flushMs: 1_000, perFlush: 2, retryMs: 10_000, maxHeld: 3 });
    for (let i = 1; i <= 5; i++) queue.add(read(i));
    rig.clock.advance(1_000);
    expect(queue.status()).toEqual({ waiting: 3, dropped: 2, failing: 'disk I/O error' });

    storeFails = false;
    rig.clock.advance(10_000);
    // The failed batch, then perFlush 2: two transactions, the second on its own tick.
    expect(repo.insertReads.mock.calls.map(([reads]) => reads.map((r) => r.meterId))).toEqual([['M-3', 'M-4'], ['M-3', 'M-4'], ['M-5']]);
    expect(queue.status()).toEqual({ waiting: 0, dropped: 2 });
  });
});
