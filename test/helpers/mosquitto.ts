import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort, waitFor } from './ports.ts';
import { tempDir } from './config.ts';

export interface RunningMosquitto {
  url: string;
  port: number;
  /** With tls: the CA that signed the broker's certificate. */
  caFile?: string;
  stop(): Promise<void>;
}

/**
 * Starts a real Mosquitto on a free loopback port, with its own config and no
 * persistence. With tls it listens for mqtts only, with a certificate for
 * "localhost" signed by a CA made for this run (openssl).
 */
export async function startMosquitto(program: string, opts: { tls?: boolean } = {}): Promise<RunningMosquitto> {
  const port = await freePort();
  const dir = tempDir('bohub-mosquitto-');
  const conf = join(dir, 'mosquitto.conf');
  const tls = opts.tls ? makeCertificates(dir) : undefined;
  const lines = [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stderr'];
  if (tls) lines.push(`cafile ${tls.ca}`, `certfile ${tls.cert}`, `keyfile ${tls.key}`, 'require_certificate false');
  writeFileSync(conf, lines.join('\n') + '\n');
  const child: ChildProcess = spawn(program, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d) => (log += d));
  await waitFor(`mosquitto on ${port} (${log})`, () => new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1', () => (s.end(), resolve(true)));
    s.on('error', () => resolve(false));
  }), 10_000);
  return {
    url: `${tls ? 'mqtts' : 'mqtt'}://${tls ? 'localhost' : '127.0.0.1'}:${port}`,
    port,
    caFile: tls?.ca,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const f = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=bohub test CA', '-keyout', f('ca.key'), '-out', f('ca.crt'));
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', f('server.key'), '-out', f('server.csr'));
  writeFileSync(f('san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f('san.ext'), '-out', f('server.crt'));
  // Run as root, Mosquitto drops to its own user, which must still read these (test keys only).
  chmodSync(dir, 0o755);
  chmodSync(f('server.key'), 0o644);
  return { ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key') };
}
