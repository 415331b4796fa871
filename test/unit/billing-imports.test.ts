import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DateTime } from 'luxon';
import { afterEach, describe, expect, it } from 'vitest';
import { BillingImports } from '../../gateway/billing/imports.ts';
import { BillingService } from '../../gateway/billing/service.ts';
import { BillingWork } from '../../gateway/billing/work.ts';
import { EventBus } from '../../gateway/events.ts';
import { InlineWork } from '../../gateway/work/inline.ts';
import { JobTracker, type JobProgress } from '../../gateway/work/jobs.ts';
import { billingRig, type BillingRig } from '../helpers/billing.ts';

// Streamed imports (issue 15): checked whole before anything is written, written in
// short transactions, finished after a stop, and refused beside a billing run.

let rig: BillingRig;
afterEach(() => rig?.close());

const HEADER = 'meter_id,read_at,value,kind,serial';

/** A file of `rows` 15-minute reads of A-0101-E from 26 Nov, rising 0.1 kWh each. */
function readingsFile(rows: number): string {
  const serial = rig.config.building.modbus.meters.find((m) => m.id === 'A-0101-E')!.serial;
  const start = DateTime.fromISO('2026-11-26T00:00', { zone: rig.zone });
  const lines = Array.from({ length: rows }, (_, i) => `A-0101-E,${start.plus({ minutes: 15 * i }).toISO()},${(1510 + i / 10).toFixed(1)},actual,${serial}`);
  return `${HEADER}\n${lines.join('\n')}\n`;
}

function imports(service: BillingService, jobs: JobTracker): BillingImports {
  return new BillingImports(rig.records, service.repo, new InlineWork(service), jobs, rig.clock, rig.config.building.storage.dataDir);
}

function setUp() {
  rig = billingRig();
  const events = new EventBus();
  const progress: JobProgress[] = [];
  events.on('test', 'job.progress', (p) => progress.push(p));
  const jobs = new JobTracker(events, rig.clock);
  const service = new BillingService(rig.config, rig.records, rig.clock);
  // Runs and imports share one job tracker, as in the hub.
  const work = new BillingWork(service, new InlineWork(service), jobs, rig.zone);
  return { work, jobs, progress, importer: imports(service, jobs) };
}

const importDir = () => join(rig.config.building.storage.dataDir, 'imports');
const storedReads = () => rig.repo.readsOf('A-0101-E', rig.at('2026-11-26T00:00'), rig.at('2027-01-01T00:00'));

describe('streamed imports', () => {
  it('writes a clean file in several short transactions, audits it once, reports progress to the end, and leaves no files', async () => {
    const { importer, progress } = setUp();
    const report = await importer.upload('readings', Readable.from([readingsFile(1200)]), 'finance', Infinity);
    expect(report).toEqual({ ok: true, inserted: 1200, duplicates: 0 });
    expect(storedReads()).toHaveLength(1200);
    expect(rig.records.listAudit({ action: 'billing.reads.import' }).map((e) => [e.actor, e.subject, e.after])).toEqual([['finance', '1200 reads', { inserted: 1200, duplicates: 0 }]]);
    const writing = progress.filter((p) => p.stage === 'writing').map((p) => p.done);
    expect(writing).toEqual([250, 500, 750, 1000, 1200]);
    expect(progress.at(-1)).toMatchObject({ state: 'done', result: { inserted: 1200, duplicates: 0 } });
    expect(readdirSync(importDir())).toEqual([]);
  });

  it('stops an upload over the limit with 413 and keeps nothing', async () => {
    const { importer } = setUp();
    await expect(importer.upload('readings', Readable.from([readingsFile(2000)]), 'finance', 10_000)).rejects.toMatchObject({ code: 'BOHUB_BILLING_TOO_LARGE', status: 413 });
    expect(storedReads()).toEqual([]);
    expect(readdirSync(importDir())).toEqual([]);
  });

  it('a file with one bad row writes nothing and keeps no staged rows', async () => {
    const { importer } = setUp();
    const report = await importer.upload('readings', Readable.from([`${readingsFile(900)}A-0101-E,yesterday,1,actual,X\n`]), 'finance', Infinity);
    expect(report).toMatchObject({ ok: false, problemCount: 1, problems: [{ line: 902 }] });
    expect(storedReads()).toEqual([]);
    expect(readdirSync(importDir())).toEqual([]);
  });

  it('a hub stopped mid-write finishes the import at its next start, every row once, audited once', async () => {
    const first = setUp();
    // The hub stops as soon as the first transaction is in: the rest waits in the journal.
    let stopping: Promise<void> | undefined;
    const push = first.progress.push.bind(first.progress);
    first.progress.push = (p: JobProgress) => (p.stage === 'writing' && (stopping ??= first.importer.stop()), push(p));
    const stopped = first.importer.upload('readings', Readable.from([readingsFile(1200)]), 'finance', Infinity);
    await expect(stopped).rejects.toThrow(/stopping/);
    await stopping;
    expect(storedReads()).toHaveLength(250);
    expect(rig.records.listAudit({ action: 'billing.reads.import' })).toEqual([]);

    const jobs = new JobTracker(new EventBus(), rig.clock);
    await imports(new BillingService(rig.config, rig.records, rig.clock), jobs).resume();
    expect(storedReads()).toHaveLength(1200);
    expect(rig.records.listAudit({ action: 'billing.reads.import' }).map((e) => e.after)).toEqual([{ inserted: 1200, duplicates: 0 }]);
    expect(readdirSync(importDir())).toEqual([]);
  });

  it('a billing run is refused while an import is written, and an import while a run is under way', async () => {
    const { work, jobs, importer, progress } = setUp();
    const writing = importer.upload('readings', Readable.from([readingsFile(1200)]), 'finance', Infinity);
    await new Promise<void>((resolve) => {
      const check = setInterval(() => progress.some((p) => p.stage === 'writing') && (clearInterval(check), resolve()), 0);
    });
    await expect(work.run('2026-11', 'alice')).rejects.toMatchObject({ code: 'BOHUB_BILLING_RUNNING', message: expect.stringMatching(/import started by finance/) });
    await writing;
    const run = jobs.start('billing.run', '2026-11', 'alice');
    await expect(importer.upload('payments', Readable.from(['unit_id,paid_at,amount,reference\nA-0101,2026-12-03T10:00:00+08:00,1.00,B1\n']), 'finance', Infinity)).rejects.toMatchObject({
      code: 'BOHUB_BILLING_RUNNING',
      message: expect.stringMatching(/billing run of 2026-11 .*alice/),
    });
    run.finish(null);
  });
});
