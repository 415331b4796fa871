// Shared by the benchmarks: figures on stdout (one JSON object per line), progress
// on stderr, medians of rounds, and helper processes pinned to a core.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface Figure {
  bench: string;
  figure: string;
  value: number;
  peer: string;
  peer_value: number | null;
  ratio: number | null;
  target: string;
  ok: boolean | null;
}

export function report(f: Figure): void {
  process.stdout.write(JSON.stringify(f) + '\n');
}

export function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function hasProgram(program: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;
}

/** `taskset -c CPU` where taskset exists, so load generator and server do not share a core; `cpu` may be a list such as "1-3". */
export function pinned(cpu: number | string, command: string, args: string[]): [string, string[]] {
  return hasProgram('taskset') ? ['taskset', ['-c', String(cpu), command, ...args]] : [command, args];
}

/** Starts a bench server script (bench/servers/NAME.ts) on a core; resolves once it prints "ready". */
export async function startServer(name: string, args: string[], cpu = 1): Promise<{ child: ChildProcess; ready: string[] }> {
  const script = fileURLToPath(new URL(`./servers/${name}.ts`, import.meta.url));
  const [cmd, argv] = pinned(cpu, process.execPath, ['--import', 'tsx', script, ...args]);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  if (!line.startsWith('ready')) throw new Error(`${name}: ${line}`);
  return { child, ready: line.split(' ').slice(1) };
}

export function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
