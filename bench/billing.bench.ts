// npm run bench -- billing   (figures and targets: ../shared/BENCHMARKS.md)
// The month-end billing run (issue 7): 5,000 meters (2,500 units, each with an
// electricity and a water meter) with a month of 15-minute reads, period 2026-11.
//  setup (not timed, reported; its own child): a fresh records.db with ~15.8 M reads stored through
//     the repository's insertReads, one poll sweep of all meters at a time (bench/billing-data.ts);
//     that is what the hub does, and it takes minutes
//  1. BillingService.run('2026-11'): compute, store and render the documents, in a fresh
//     child process on a fresh copy of records.db, ROUNDS times: median wall seconds,
//     and the highest peak RSS (process.resourceUsage().maxRSS of that child, so the
//     setup's memory does not count). Target <= 10 s and <= 300 MB; there is no peer (—).
//  2. the same run taken apart in one more child, phase by phase (reading the series,
//     validation, boundaries and statements, JSON and hash, save, render).
// Options (bench/run.ts passes no arguments, so each has an environment variable too):
// --units=N / BOHUB_BENCH_BILLING_UNITS (default 2500), --rounds=N / BOHUB_BENCH_BILLING_ROUNDS
// (default 3), --cpu-prof=DIR / BOHUB_BENCH_BILLING_CPU_PROF (a V8 CPU profile of the first
// timed round), --keep / BOHUB_BENCH_BILLING_KEEP=1 (keep the temp dir and its records.db).
import { fork } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BillingService } from '../gateway/billing/service.ts';
import { EXCEPTION_CODES, type ExceptionCode, type RunResult, type StoredRead } from '../gateway/billing/types.ts';
import type { LoadedConfig } from '../gateway/config/load.ts';
import { median, progress, report } from './lib.ts';

// The billing code is imported by the children only. This process forks them, and on
// Linux a child's maxRSS starts at its parent's RSS at fork time (the pre-exec copy's
// high-water mark is carried over exec), so this process stays small and does no
// setup itself; each child also reports VmHWM, the peak of its own address space.

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const UNITS = Number(arg('units') ?? process.env.BOHUB_BENCH_BILLING_UNITS ?? 2500);
const ROUNDS = Number(arg('rounds') ?? process.env.BOHUB_BENCH_BILLING_ROUNDS ?? 3);
const CPU_PROF = arg('cpu-prof') ?? process.env.BOHUB_BENCH_BILLING_CPU_PROF;
const KEEP = process.argv.includes('--keep') || process.env.BOHUB_BENCH_BILLING_KEEP === '1';
const PERIOD = '2026-11';
const TARGET_S = 10;
const TARGET_MB = 300;
const CHILD_TIMEOUT_MS = 15 * 60_000;
const PEER = 'none (BENCHMARKS.md: —)';
/** The morning after the reading day, 09:00 in Shanghai: when finance runs the period. */
const RUN_AT = Date.UTC(2026, 10, 26, 1);
const RECORDS_FILE = 'records.db';

interface Memory {
  /** process.resourceUsage().maxRSS, KiB. */
  maxRssKiB: number;
  /** VmHWM from /proc/self/status, KiB (null where there is no /proc). */
  hwmKiB: number | null;
}

interface SetupMessage {
  kind: 'setup';
  seconds: number;
  meters: number;
  reads: number;
  tenancyEvents: number;
  anomalies: string;
}

interface RunMessage {
  kind: 'run';
  seconds: number;
  peak: Memory;
  /** Once node, tsx, the code, the config and the open store are loaded, before the run. */
  base: Memory;
  outcome: string;
  version: number;
  statements: number;
  held: number;
  exceptions: Partial<Record<ExceptionCode, number>>;
  exceptionsTotal: number;
  documentBytes: number;
}

interface Phase {
  name: string;
  ms: number;
  /** The memory high-water mark after the phase: where the peak was reached. */
  hwmKiB?: number;
  heapUsedMiB?: number;
}

interface PhasesMessage {
  kind: 'phases';
  phases: Phase[];
  meters: number;
  reads: number;
}

type Message = SetupMessage | RunMessage | PhasesMessage;
type Mode = Message['kind'];

const mb = (kib: number) => Math.round((kib / 1024) * 10) / 10;
const round = (n: number, places = 3) => Math.round(n * 10 ** places) / 10 ** places;
const figure = (figure: string, value: number, target = 'report', ok: boolean | null = null) =>
  report({ bench: 'billing', figure, value, peer: target === 'report' ? '' : PEER, peer_value: null, ratio: null, target, ok });

function memory(): Memory {
  let hwmKiB: number | null = null;
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) hwmKiB = Number(m[1]);
  } catch {
    // no /proc: maxRSS only
  }
  return { maxRssKiB: process.resourceUsage().maxRSS, hwmKiB };
}
const memText = (m: Memory) => `${mb(m.maxRssKiB)} MB${m.hwmKiB !== null ? ` (VmHWM ${mb(m.hwmKiB)} MB)` : ''}`;

if (process.argv[2] === '--child') await child(process.argv[3] as Mode, process.argv[4]!, Number(process.argv[5]));
else await main();

/** The newest modification time of the code under test, to notice it changing during a run. */
function codeStamp(): number {
  const root = fileURLToPath(new URL('../gateway/', import.meta.url));
  let newest = 0;
  for (const sub of ['billing', 'billing/outputs', 'storage', 'config'])
    for (const f of readdirSync(join(root, sub))) if (f.endsWith('.ts')) newest = Math.max(newest, statSync(join(root, sub, f)).mtimeMs);
  return newest;
}

async function main(): Promise<void> {
  const stamp = codeStamp();
  const dir = mkdtempSync(join(tmpdir(), 'bohub-bench-billing-'));
  const base = join(dir, 'base');
  try {
    const setup = (await runChild('setup', base, [])) as SetupMessage;
    progress(`billing: setup ${setup.seconds.toFixed(1)} s: ${setup.meters} meters, ${setup.reads} reads, ${setup.tenancyEvents} tenancy events`);
    progress(`billing: anomalies: ${setup.anomalies}`);
    const roundsStamp = codeStamp();
    if (roundsStamp !== stamp) progress('billing: note: gateway/ code changed during the setup; the timed rounds all run the newer code');

    // 1. The timed run, each round in a fresh process on a fresh copy of the file
    //    (a second run of an unchanged period only re-renders the stored version).
    const runs: RunMessage[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      const roundDir = freshCopy(base, join(dir, `round-${r}`));
      const prof = r === 1 && CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${resolve(CPU_PROF)}`] : [];
      const m = (await runChild('run', roundDir, prof)) as RunMessage;
      rmSync(roundDir, { recursive: true, force: true });
      runs.push(m);
      progress(`billing: round ${r}/${ROUNDS}: ${m.seconds.toFixed(2)} s, peak RSS ${memText(m.peak)}, before the run ${memText(m.base)}; ${m.outcome} v${m.version}, ${m.statements} statements (${m.held} held), ${m.exceptionsTotal} exceptions, documents ${(m.documentBytes / 2 ** 20).toFixed(1)} MB`);
    }
    if (CPU_PROF) progress(`billing: CPU profile of round 1 in ${resolve(CPU_PROF)}`);

    // 2. Where the time goes.
    const phasesDir = freshCopy(base, join(dir, 'phases'));
    const p = (await runChild('phases', phasesDir, [])) as PhasesMessage;
    rmSync(phasesDir, { recursive: true, force: true });
    const width = Math.max(...p.phases.map((x) => x.name.length));
    progress(`billing: phases (one more child; the repository handed the run ${p.reads} reads of ${p.meters} meters):`);
    for (const x of p.phases)
      progress(`  ${x.name.padEnd(width)}  ${(x.ms / 1000).toFixed(2).padStart(7)} s${x.hwmKiB !== undefined ? `   peak ${mb(x.hwmKiB).toFixed(0).padStart(5)} MB   heap ${x.heapUsedMiB!.toFixed(0).padStart(5)} MB` : ''}`);

    const seconds = median(runs.map((m) => m.seconds));
    const peakKiB = Math.max(...runs.map((m) => m.peak.maxRssKiB));
    const last = runs.at(-1)!;
    figure('setup_s', round(setup.seconds, 1));
    figure('run_s', round(seconds, 2), `<=${TARGET_S}`, seconds <= TARGET_S);
    figure('peak_rss_mb', mb(peakKiB), `<=${TARGET_MB}`, peakKiB / 1024 <= TARGET_MB);
    figure('rss_before_run_mb', mb(Math.max(...runs.map((m) => m.base.maxRssKiB))));
    const compute = p.phases.find((x) => x.name === 'computeRun');
    if (compute) figure('compute_s', round(compute.ms / 1000, 2));
    figure('meters', setup.meters);
    figure('reads', setup.reads);
    figure('statements', last.statements);
    figure('statements_held', last.held);
    figure('exceptions', last.exceptionsTotal);
    for (const code of Object.keys(EXCEPTION_CODES) as ExceptionCode[]) if (last.exceptions[code]) figure(`exceptions.${code}`, last.exceptions[code]!);
    if (runs.some((m) => m.statements !== last.statements || m.held !== last.held || m.exceptionsTotal !== last.exceptionsTotal || m.documentBytes !== last.documentBytes))
      progress('billing: WARNING: the rounds disagree on the counts or the documents');
    if (codeStamp() !== roundsStamp) progress('billing: WARNING: gateway/ code changed while the timed rounds ran; these figures mix versions, run it again');
  } finally {
    if (KEEP) progress(`billing: kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

function freshCopy(base: string, to: string): string {
  mkdirSync(to, { recursive: true });
  copyFileSync(join(base, RECORDS_FILE), join(to, RECORDS_FILE));
  return to;
}

/** Runs this file as a child (a fresh process: its memory is its own) and returns its one message. */
function runChild(mode: Mode, dbDir: string, execArgv: string[]): Promise<Message> {
  const file = fileURLToPath(import.meta.url);
  const child = fork(file, ['--child', mode, dbDir, String(UNITS)], { execArgv: ['--import', 'tsx', ...execArgv], stdio: ['ignore', 2, 'inherit', 'ipc'] });
  return new Promise((resolveMessage, reject) => {
    let message: Message | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.on('message', (m) => (message = m as Message));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (message) resolveMessage(message);
      else reject(new Error(`billing ${mode} child exited with ${signal ?? code} and no result`));
    });
  });
}

async function child(mode: Mode, dbDir: string, units: number): Promise<void> {
  const send = (m: Message) => new Promise<void>((done) => process.send!(m, () => done()));
  const { syntheticConfig, anomalyPlan, generateReads } = await import('./billing-data.ts');
  const { SqliteRecordStore } = await import('../gateway/storage/records.ts');
  const { ManualClock } = await import('../gateway/clock.ts');
  const { BillingService } = await import('../gateway/billing/service.ts');
  // Not timed: what the hub holds before anyone presses "run" (code, config, profiles, the open store).
  const t0 = performance.now();
  const config = syntheticConfig(units);
  const clock = new ManualClock(RUN_AT);
  const records = SqliteRecordStore.open(dbDir, clock);
  if (mode === 'setup') {
    // Setup only: the timed children reopen the file with the hub's own settings (WAL, synchronous FULL).
    records.db.pragma('synchronous = OFF');
    records.db.pragma('cache_size = -262144');
    const plan = anomalyPlan(units);
    let lastTenth = -1;
    const stats = generateReads(
      new BillingService(config, records, clock).repo,
      config,
      plan,
      (done, total) => {
        const tenth = Math.floor((done / total) * 10);
        if (tenth !== lastTenth) progress(`billing: setup ${done}/${total} quarter hours written (${((performance.now() - t0) / 1000).toFixed(0)} s)`), (lastTenth = tenth);
      },
      (fn) => records.transaction(fn),
    );
    records.db.pragma('wal_checkpoint(TRUNCATE)');
    records.close();
    const anomalies = `${plan.rollover.size} rollovers, ${plan.glitchZero.size} glitch zeros, ${plan.glitchHigh.size} glitch high, ${plan.replaced.size} replacement, ${plan.missingTail.size} meters missing the last 3 days, ${plan.frozen.size} frozen, ${plan.conflict.size} conflicting duplicate, ${plan.tenancy.size} tenancy changes`;
    await send({ kind: 'setup', seconds: (performance.now() - t0) / 1000, meters: stats.meters, reads: stats.reads, tenancyEvents: stats.tenancyEvents, anomalies });
    process.exit(0);
  }
  const service = new BillingService(config, records, clock);
  if (mode === 'run') {
    const base = memory();
    const t1 = performance.now();
    const out = service.run(PERIOD, 'bench');
    const seconds = (performance.now() - t1) / 1000;
    const peak = memory();
    const result: RunResult = out.run.result;
    const exceptions: Partial<Record<ExceptionCode, number>> = {};
    for (const e of result.exceptions) exceptions[e.code] = (exceptions[e.code] ?? 0) + 1;
    await send({
      kind: 'run', seconds, peak, base, outcome: out.outcome, version: out.run.version,
      statements: result.statements.length, held: result.statements.filter((s) => s.status === 'held').length,
      exceptions, exceptionsTotal: result.exceptions.length, documentBytes: [...out.files.values()].reduce((n, f) => n + Buffer.byteLength(f), 0),
    });
  } else {
    await send(await phases(config, service));
  }
  records.close();
  process.exit(0);
}

/** The run taken apart: the calls BillingService.run makes, each timed on its own. */
async function phases(config: LoadedConfig, service: BillingService): Promise<PhasesMessage> {
  const { createHash } = await import('node:crypto');
  const { computeRun } = await import('../gateway/billing/run.ts');
  const out: Phase[] = [];
  const mark = (name: string, ms: number) => out.push({ name, ms, hwmKiB: memory().hwmKiB ?? memory().maxRssKiB, heapUsedMiB: process.memoryUsage().heapUsed / 2 ** 20 });
  const timed = <T>(name: string, fn: () => T): T => {
    const t0 = performance.now();
    const v = fn();
    mark(name, performance.now() - t0);
    return v;
  };
  const repo = service.repo;
  mark('before (code, config, open store)', 0);
  // computeRun, with the repository's per-meter walk (any forEachMeter* method: it
  // reads a meter's reads and calls back with them) timed apart from the callbacks.
  let walkMs = 0;
  let perMeterMs = 0;
  let meters = 0;
  let reads = 0;
  const timedRepo = new Proxy(repo, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof key !== 'string' || !key.startsWith('forEachMeter') || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const fn = args.at(-1) as (id: string, series: StoredRead[]) => void;
        const t0 = performance.now();
        let inner = 0;
        const r = (value as (...a: unknown[]) => unknown).apply(target, [
          ...args.slice(0, -1),
          (id: string, series: StoredRead[]) => {
            meters++;
            reads += series.length;
            const t1 = performance.now();
            fn(id, series);
            inner += performance.now() - t1;
          },
        ]);
        walkMs += performance.now() - t0 - inner;
        perMeterMs += inner;
        return r;
      };
    },
  });
  const result = timed('computeRun', () => computeRun(PERIOD, { config, repo: timedRepo, accepted: service.acceptances.ids() }));
  const computeMs = out.at(-1)!.ms;
  out.push({ name: '  of which reading the reads (SQL, decoding)', ms: walkMs });
  out.push({ name: '  of which per meter (validate, boundaries, use)', ms: perMeterMs });
  out.push({ name: '  of which the rest (units, statements, holds)', ms: computeMs - walkMs - perMeterMs });
  const json = timed('JSON.stringify(result)', () => JSON.stringify(result));
  const hash = timed('sha256', () => createHash('sha256').update(json).digest('hex'));
  timed('latestRun + runs', () => [repo.latestRun(PERIOD), repo.runs(PERIOD)]);
  const run = timed('saveRun', () => repo.saveRun({ period: PERIOD, outputsHash: hash, result }, 'bench'));
  timed('render (6 documents)', () => service.render(run));
  return { kind: 'phases', phases: out, meters, reads };
}
