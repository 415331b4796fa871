// Request and reply over Node's IPC channel, between the fanout benchmark and its
// processes (hub, field simulators, clients): BENCHMARKS.md asks for the load
// generator and the system under test in separate processes, so every step of the
// benchmark is a message to one of them, answered when it is done.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pinned, progress } from './lib.ts';

interface Request {
  id: number;
  op: string;
  args: unknown;
}
type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export interface Peer {
  readonly name: string;
  readonly child: ChildProcess;
  /** Sends an operation and resolves with its result; rejects on the child's error, its exit, or after timeoutMs. */
  ask<T>(op: string, args?: unknown, timeoutMs?: number): Promise<T>;
  /** Asks the process to stop, and kills it if it has not exited within 15 s. */
  close(): Promise<void>;
}

/**
 * Starts bench/NAME.ts on a core, or a list of cores (taskset, where it exists), with an IPC channel
 * (and Node's own options first, e.g. --cpu-prof):
 * taskset execs node with the channel's descriptor and NODE_CHANNEL_FD intact, so
 * process.send works in the child as with fork().
 */
export function startPeer(name: string, cpu: number | string, nodeArgs: string[] = []): Peer {
  const script = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  const [cmd, argv] = pinned(cpu, process.execPath, [...nodeArgs, '--import', 'tsx', script]);
  // Its stdout goes to our stderr: only the benchmark itself prints on stdout, one figure a line (a library's warning would break that).
  const child = spawn(cmd, argv, { stdio: ['ignore', 2, 'inherit', 'ipc'] });
  let next = 0;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.on('message', (m: Reply) => {
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.ok) w.resolve(m.result);
    else w.reject(new Error(`${name}: ${m.error}`));
  });
  child.once('exit', (code, signal) => {
    for (const w of waiting.values()) w.reject(new Error(`${name} exited (${signal ?? code})`));
    waiting.clear();
  });
  const ask = <T>(op: string, args: unknown = null, timeoutMs = 120_000): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (child.exitCode !== null || !child.connected) return reject(new Error(`${name} is not running`));
      const id = ++next;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`${name}: ${op} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = <V>(f: (v: V) => void) => (v: V) => (clearTimeout(timer), f(v));
      waiting.set(id, { resolve: done(resolve as (v: unknown) => void), reject: done(reject) });
      child.send({ id, op, args } satisfies Request);
    });
  const close = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    await ask('stop', null, 15_000).catch((e: Error) => progress(`fanout: ${e.message}`));
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(killer);
  };
  return { name, child, ask, close };
}

export type Handlers = Record<string, (args: never) => unknown>;

/**
 * The child's side: answers each request with its handler's result. 'stop' runs the
 * handler, replies, then exits; losing the parent (its exit closes the channel) also
 * stops this process, so nothing is left running.
 */
export function serve(handlers: Handlers & { stop: () => Promise<void> | void }): void {
  if (!process.send) throw new Error('this script is started by bench/fanout.bench.ts, with an IPC channel');
  const send = process.send.bind(process);
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= Promise.resolve(handlers.stop()));
  process.on('message', async (m: Request) => {
    const handler = m.op === 'stop' ? stop : (handlers[m.op] as ((args: unknown) => unknown) | undefined);
    try {
      if (!handler) throw new Error(`unknown operation "${m.op}"`);
      const result = await handler(m.args);
      send({ id: m.id, ok: true, result: result ?? null } satisfies Reply, () => m.op === 'stop' && process.exit(0));
    } catch (err) {
      send({ id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies Reply);
    }
  });
  process.once('disconnect', async () => {
    await stop().catch(() => {});
    process.exit(0);
  });
}
