import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort, waitFor } from './ports.ts';
import { tempDir } from './config.ts';

export interface RunningMosquitto {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Starts a real Mosquitto on a free loopback port, with its own config and no persistence. */
export async function startMosquitto(program: string): Promise<RunningMosquitto> {
  const port = await freePort();
  const dir = tempDir('bohub-mosquitto-');
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n`);
  const child: ChildProcess = spawn(program, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d) => (log += d));
  await waitFor(`mosquitto on ${port} (${log})`, () => new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1', () => (s.end(), resolve(true)));
    s.on('error', () => resolve(false));
  }), 10_000);
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}
