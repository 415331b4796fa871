// The office of the alarm-under-work benchmark, in its own process (BENCHMARKS.md):
// finance, the supervisor and customer service working through the hub's public
// HTTP API (README "Month-end billing", "Control room", "Runbooks and incidents"),
// each with its own login and role, while the fire alarms are timed: one loop per
// job below (times `workers`), all side by side, each doing its tasks in turn again
// and again. Finance runs the period and then imports the bank file, one after the
// other as a person does (the hub refuses an import while a run is under way, 409).
// Every loop is bounded in count and time and stops by itself; 'finish' stops them sooner.
//   billing run        POST /api/billing/runs {period}                          finance
//   readings export    GET  /api/billing/export/readings?from&to (the period)    finance
//   payments import    POST /api/billing/import/payments (text/csv, a bank file) finance
//   audit pages        GET  /api/audit (three pages, then the alarm actions)     supervisor
//   incident reports   GET  /api/incidents?state=all, then /:id/report (html, json) supervisor
//   30-day trends      GET  /api/telemetry, four meters, hourly means (the trends page) viewer
//   logins             POST /api/auth/login, each user in turn                   all
// In 'billing' mode only finance works, running the period again and again.
import { performance } from 'node:perf_hooks';
import { DEMO_PASSWORDS } from '../gateway/auth/passwords.ts';
import { serve } from './fanout-ipc.ts';
import { BackgroundJob, call, login } from './hub-api.ts';

export interface OfficeArgs {
  http: string;
  mode: 'office' | 'billing';
  /** Loops per kind of work (people doing the same job side by side). */
  workers: number;
  /** Each loop's pause between two tasks (someone reading the answer); 0 is flat out. */
  pauseMs: number;
  period: string;
  /** The period's first and last moment, ISO 8601 with the building's offset (the export's from and to). */
  from: string;
  to: string;
  /** Units that pay (tenanted units of the building): the bank file's rows. */
  units: string[];
  /** Hard limits: the loops stop by themselves after these. */
  maxMs: number;
  maxRequests: number;
}

export interface TaskStats {
  n: number;
  errors: number;
  totalMs: number;
  maxMs: number;
  bytes: number;
}

export interface OfficeReport {
  seconds: number;
  tasks: Record<string, TaskStats>;
  /** The first few failures, for the progress line. */
  failures: string[];
}

type Task = (s: Session) => Promise<number>;
interface Session {
  args: OfficeArgs;
  tokens: Record<string, string>;
  /** Meters with their billing point, from GET /api/site, for the trends. */
  meters: { id: string; point: string }[];
  n: number;
}

const REQUEST_TIMEOUT_MS = 120_000;
const ERROR_PAUSE_MS = 100;

const TASKS: Record<string, Task> = {
  'billing.run': async (s) => (await call(s.args.http, s.tokens.finance!, 'POST', '/api/billing/runs', { body: { period: s.args.period }, timeoutMs: REQUEST_TIMEOUT_MS })).body.length,
  'billing.export.readings': async (s) => (await get(s, 'finance', `/api/billing/export/readings?from=${encodeURIComponent(s.args.from)}&to=${encodeURIComponent(s.args.to)}`)).length,
  'billing.import.payments': async (s) => {
    const n = ++s.n;
    const rows = s.args.units.map((u, i) => `${u},${new Date().toISOString().replace('Z', '+00:00')},${(100 + (i % 50)).toFixed(2)},BENCH-${process.pid}-${n}-${i}`);
    const csv = ['unit_id,paid_at,amount,reference', ...rows].join('\n') + '\n';
    return (await call(s.args.http, s.tokens.finance!, 'POST', '/api/billing/import/payments', { body: csv, type: 'text/csv', timeoutMs: REQUEST_TIMEOUT_MS })).body.length;
  },
  audit: async (s) => {
    let bytes = 0;
    let before: number | undefined;
    for (let page = 0; page < 3; page++) {
      const body = await get(s, 'supervisor', `/api/audit?limit=200${before ? `&before=${before}` : ''}`);
      bytes += body.length;
      before = (JSON.parse(body) as { next?: number }).next;
      if (!before) break;
    }
    return bytes + (await get(s, 'supervisor', '/api/audit?action=alarm.&limit=200')).length;
  },
  'incident.reports': async (s) => {
    const list = await get(s, 'supervisor', '/api/incidents?state=all');
    const ids = (JSON.parse(list) as { incidents: { id: number }[] }).incidents.map((i) => i.id);
    let bytes = list.length;
    // Two reports a time, a different pair each round.
    for (let k = 0; k < Math.min(2, ids.length); k++) {
      const id = ids[(s.n++ + k) % ids.length]!;
      bytes += (await get(s, 'supervisor', `/api/incidents/${id}/report?format=html`)).length;
      bytes += (await get(s, 'supervisor', `/api/incidents/${id}/report?format=json`)).length;
    }
    return bytes;
  },
  'telemetry.trends': async (s) => {
    const to = Date.now();
    const from = to - 30 * 86_400_000;
    let bytes = 0;
    for (let k = 0; k < 4; k++) {
      const m = s.meters[(s.n++ * 4 + k) % s.meters.length]!;
      bytes += (await get(s, 'viewer', `/api/telemetry?device=${encodeURIComponent(m.id)}&point=${encodeURIComponent(m.point)}&from=${from}&to=${to}&every=1h&limit=722`)).length;
    }
    return bytes;
  },
  login: async (s) => {
    const users = Object.keys(s.tokens);
    const user = users[s.n++ % users.length]!;
    s.tokens[user] = await login(s.args.http, user, DEMO_PASSWORDS[user]!);
    return 0;
  },
};

/** The office's jobs, one loop each: its tasks in turn. */
const OFFICE: string[][] = [['billing.run', 'billing.import.payments'], ['billing.export.readings'], ['audit'], ['incident.reports'], ['telemetry.trends'], ['login']];

const job = new BackgroundJob<OfficeReport>('the office');

serve({
  /** Starts the office's loops and answers at once; 'finish' stops them and reports. */
  async start(args: OfficeArgs): Promise<void> {
    const tokens: Record<string, string> = {};
    for (const user of args.mode === 'billing' ? ['finance'] : ['finance', 'supervisor', 'operator', 'viewer']) tokens[user] = await login(args.http, user, DEMO_PASSWORDS[user]!);
    const site = JSON.parse(await callBody(args.http, tokens.finance!, '/api/site')) as { towers: { floors: { units: { meters: { id: string; point: string }[] }[] }[] }[] };
    const meters = site.towers.flatMap((t) => t.floors.flatMap((f) => f.units.flatMap((u) => u.meters.map((m) => ({ id: m.id, point: m.point })))));
    job.start((state) => work(args, tokens, meters, state));
  },
  finish: () => job.finish(),
  stop: () => job.stop(),
});

async function work(args: OfficeArgs, tokens: Record<string, string>, meters: Session['meters'], state: { stop: boolean }): Promise<OfficeReport> {
  const began = performance.now();
  const tasks: Record<string, TaskStats> = {};
  const failures: string[] = [];
  const jobs = args.mode === 'billing' ? [['billing.run']] : OFFICE;
  let requests = 0;
  const over = () => state.stop || requests >= args.maxRequests || performance.now() - began > args.maxMs;
  const loop = async (names: string[], w: number) => {
    // Each loop has its own sessions, and its own place in the meters and incidents it goes through.
    const s: Session = { args, tokens: { ...tokens }, meters, n: w };
    for (let k = 0; !over(); k++) {
      const name = names[k % names.length]!;
      const t = (tasks[name] ??= { n: 0, errors: 0, totalMs: 0, maxMs: 0, bytes: 0 });
      requests++;
      const t0 = performance.now();
      try {
        t.bytes += await TASKS[name]!(s);
      } catch (err) {
        t.errors++;
        if (failures.length < 5) failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
        await new Promise((r) => setTimeout(r, ERROR_PAUSE_MS));
      }
      const ms = performance.now() - t0;
      t.n++;
      t.totalMs += ms;
      if (ms > t.maxMs) t.maxMs = ms;
      if (args.pauseMs && !over()) await new Promise((r) => setTimeout(r, args.pauseMs));
    }
  };
  await Promise.all(jobs.flatMap((names) => Array.from({ length: args.workers }, (_, w) => loop(names, w))));
  return { seconds: (performance.now() - began) / 1000, tasks, failures };
}

function get(s: Session, user: string, path: string): Promise<string> {
  return callBody(s.args.http, s.tokens[user]!, path);
}

async function callBody(http: string, token: string, path: string): Promise<string> {
  return (await call(http, token, 'GET', path, { timeoutMs: REQUEST_TIMEOUT_MS })).body;
}
