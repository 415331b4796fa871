import { readdirSync, readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_PASSWORDS } from '../../gateway/auth/passwords.ts';
import { BillingService } from '../../gateway/billing/service.ts';
import { buildApp } from '../../gateway/http/app.ts';
import { silentLogger } from '../../gateway/log.ts';
import { JobTracker, type JobProgress } from '../../gateway/work/jobs.ts';
import { WorkPool } from '../../gateway/work/pool.ts';
import { directQueries, pooledQueries } from '../../gateway/work/queries.ts';
import { billingRig, plainMonth, type BillingRig } from '../helpers/billing.ts';
import { fakeHub } from '../helpers/fake-stores.ts';

// Billing's bulk work in the hub's worker threads (issue 15): a run is computed in
// a worker and stored by the main thread; progress is reported in order; a second
// run of a running period is refused; a worker that dies stores nothing; an export
// streams with backpressure. Real threads, real records file.

let rig: BillingRig;
let pool: WorkPool | undefined;
let app: FastifyInstance | undefined;

afterEach(async () => {
  await app?.close();
  await pool?.stop();
  app = pool = undefined;
  rig?.close();
});

/** A month of hourly reads for every meter of `units` units: enough rows that a run and an export take a while. */
function busyMonth(r: BillingRig): void {
  const hour = 3_600_000;
  const from = r.at('2026-10-24T00:00');
  for (const meter of r.config.building.modbus.meters) {
    const rows: Array<[string, string]> = [];
    for (let i = 0; i <= 33 * 24; i++) rows.push([new Date(from + i * hour).toISOString(), (1000 + i * 0.5).toFixed(2)]);
    r.reads(meter.id, rows);
  }
}

async function start(units: number, fill: (r: BillingRig) => void) {
  rig = billingRig(() => {}, units);
  fill(rig);
  const hub = fakeHub({ config: rig.config, clock: rig.clock });
  pool = new WorkPool({ config: rig.config, dataDir: rig.config.building.storage.dataDir, log: silentLogger });
  await pool.start();
  const progress: JobProgress[] = [];
  hub.services.events.on('test', 'job.progress', (p) => progress.push(p));
  hub.services.records = rig.records;
  hub.services.billing = new BillingService(rig.config, rig.records, rig.clock, undefined, { runner: pool, jobs: new JobTracker(hub.services.events, rig.clock) });
  const a = await buildApp(hub.services);
  await a.ready();
  app = a;
  const login = await a.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'finance', password: DEMO_PASSWORDS.finance } });
  const finance = { authorization: `Bearer ${login.json().token}` };
  const runPeriod = () => a.inject({ method: 'POST', url: '/api/billing/runs', headers: finance, payload: { period: '2026-11' } });
  return { app: a, finance, progress, runPeriod, pool: pool!, billing: hub.services.billing };
}

describe('billing work in worker threads (issue 15)', () => {
  it('a run computed in a worker is stored once, and its progress arrives in order and ends with the result', async () => {
    const { runPeriod, progress } = await start(4, plainMonth);
    const res = await runPeriod();
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ outcome: 'new', run: { period: '2026-11', version: 1 }, summary: { statements: 4, held: 0 } });
    expect(rig.records.db.prepare('SELECT count(*) AS n FROM billing_runs').get()).toEqual({ n: 1 });
    const stages = progress.map((p) => p.stage);
    expect(stages[0]).toBe('queued');
    expect(stages.slice(-3)).toEqual(['saving', 'rendering', 'done']);
    const meters = progress.filter((p) => p.stage === 'meters');
    expect(meters.length).toBeGreaterThan(0);
    expect(meters.map((p) => p.done)).toEqual([...meters.map((p) => p.done)].sort((a, b) => a - b));
    expect(meters.at(-1)).toMatchObject({ done: 8, total: 8 });
    expect(progress.slice(0, -1).every((p) => p.state === 'running')).toBe(true);
    expect(progress.at(-1)).toMatchObject({ state: 'done', kind: 'billing.run', subject: '2026-11', startedBy: 'finance', result: { version: 1, outcome: 'new' } });
  });

  it.runIf(process.platform === 'linux')('its worker threads, both lanes, run below the event loop, at nice 10', async () => {
    const { runPeriod, pool } = await start(4, plainMonth);
    // One task on each lane, so each lane's thread has loaded worker.ts, which sets its priority.
    expect((await runPeriod()).statusCode).toBe(200);
    await pooledQueries(pool).auditPage({ filter: {}, limit: 1 });
    // Field 19 of /proc/<pid>/task/<tid>/stat is the thread's nice value (proc(5)); the fields after the name in parentheses.
    const nice = (tid: string) => Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
    const threads = readdirSync('/proc/self/task').map((tid) => ({ tid, nice: nice(tid) }));
    expect(nice(String(process.pid))).toBe(0);
    expect(threads.filter((t) => t.nice === 10).length).toBeGreaterThanOrEqual(2);
  });

  it('a second run of a period while one runs gets 409 naming who started the first', async () => {
    const { runPeriod } = await start(20, busyMonth);
    const [first, second] = await Promise.all([runPeriod(), runPeriod()]);
    expect(first.statusCode).toBe(200);
    expect(second.statusCode).toBe(409);
    expect(second.json().error).toMatchObject({ code: 'BOHUB_BILLING_RUNNING' });
    expect(second.json().error.message).toMatch(/already running, started by finance at 2026-12-01 08:00/);
    // Once the first is over, the period can be run again.
    expect((await runPeriod()).json()).toMatchObject({ outcome: 'unchanged', run: { version: 1 } });
  });

  it('a worker killed mid-run stores nothing, names the error, and the next run works', async () => {
    const { runPeriod, progress, pool } = await start(20, busyMonth);
    const killed = new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (!progress.some((p) => p.stage === 'meters')) return;
        clearInterval(check);
        void Promise.all(pool.threads().map((t) => t.terminate())).then(() => resolve());
      }, 1);
    });
    const res = await runPeriod();
    await killed;
    expect(res.statusCode).toBe(500);
    expect(res.json().error).toMatchObject({ code: 'BOHUB_WORK_FAILED' });
    expect(res.json().error.message).toMatch(/^billing\.compute: /);
    expect(progress.at(-1)).toMatchObject({ state: 'failed', subject: '2026-11' });
    expect(rig.records.db.prepare('SELECT count(*) AS n FROM billing_runs').get()).toEqual({ n: 0 });
    expect(pool.health()).toMatchObject({ status: 'degraded' });
    const again = await runPeriod();
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ outcome: 'new', run: { version: 1 } });
  });

  it('a pool stopping mid-run (the hub stopping) cancels the run at once and stores nothing', async () => {
    const { runPeriod, progress, pool } = await start(20, busyMonth);
    const answer = runPeriod();
    while (!progress.some((p) => p.stage === 'meters')) await new Promise((r) => setImmediate(r));
    const stopped = pool.stop();
    const res = await answer;
    expect(res.statusCode).toBe(500);
    expect(res.json().error.code).toBe('BOHUB_WORK_FAILED');
    await stopped;
    expect(pool.health().status).toBe('down');
    expect(progress.at(-1)).toMatchObject({ state: 'failed', subject: '2026-11' });
    expect(rig.records.db.prepare('SELECT count(*) AS n FROM billing_runs').get()).toEqual({ n: 0 });
  });

  it('audit pages and the incident history read in a worker are the rows the store holds', async () => {
    const { pool } = await start(4, plainMonth);
    for (let i = 0; i < 5; i++) rig.records.appendAudit({ at: 1_000 + i, actor: 'finance', action: `billing.test.${i}`, subject: `s/${i}` });
    const pooled = pooledQueries(pool);
    const page = JSON.parse(await pooled.auditPage({ filter: { action: 'billing.test.', actionPrefix: true }, limit: 3 }));
    expect(page.entries.map((e: { subject: string }) => e.subject)).toEqual(['s/4', 's/3', 's/2']);
    expect(page.next).toBe(page.entries[2].id);
    expect(await pooled.auditPage({ filter: {}, limit: 50 })).toBe(await directQueries(() => ({ records: rig.records })).auditPage({ filter: {}, limit: 50 }));
    expect(JSON.parse(await pooled.incidentHistory())).toEqual({ incidents: [] });
  });

  it("an export's first bytes arrive before it is built, the worker waits for a slow reader while pages are still answered, and a reader that leaves stops it", async () => {
    const { progress, billing, pool } = await start(20, busyMonth);
    const stream = billing.work.exportReadings(rig.at('2026-10-25T00:00'), rig.at('2026-11-25T00:00'), 'finance');
    const first = await new Promise<string>((resolve) => stream.once('data', (chunk: Buffer) => resolve(chunk.toString())));
    stream.pause();
    expect(first.startsWith('meter_id,read_at,value,kind,serial\n')).toBe(true);
    // The reader holds one chunk; the worker may send at most the one more it was asked for.
    await new Promise((r) => setTimeout(r, 300));
    expect(stream.readableLength).toBeLessThanOrEqual(2 * 64 * 1024 + 16 * 1024);
    const exported = progress.filter((p) => p.kind === 'billing.export-readings');
    expect(exported.at(-1)!.state).toBe('running');
    expect(exported.at(-1)!.done).toBeLessThan(exported.at(-1)!.total);
    // The paused export holds its worker; a page someone waits for has a lane of its own.
    expect(JSON.parse(await pooledQueries(pool).auditPage({ filter: {}, limit: 5 }))).toHaveProperty('entries');
    expect(progress.filter((p) => p.kind === 'billing.export-readings').at(-1)!.state).toBe('running');
    const threads = pool.threads().map((t) => t.threadId);
    stream.destroy();
    await new Promise((r) => stream.once('close', r));
    expect(progress.at(-1)).toMatchObject({ kind: 'billing.export-readings', state: 'failed', error: 'the export was cancelled' });
    // The task stopped by itself: its thread lives on (terminating it would hold the event loop) and takes the next task.
    expect(JSON.parse(await pooledQueries(pool).incidentHistory())).toEqual({ incidents: [] });
    expect(pool.threads().map((t) => t.threadId)).toEqual(threads);
    expect(pool.health().status).toBe('ok');
  });
});
