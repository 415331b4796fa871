import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './ports.ts';

/** A real InfluxDB 1.x server on loopback, in its own temp dir, for service tests. */
export interface Influxd {
  url: string;
  port: number;
  /** Stops the server and deletes its data. */
  stop(): Promise<void>;
  /** Kills the server (SIGKILL, as a crash or power cut would) and keeps its data dir: an outage. */
  kill(): Promise<void>;
  /** Starts it again on the same ports and data dir; resolves once /ping answers. */
  restart(): Promise<void>;
}

export interface InfluxdOptions {
  /** Run continuous queries (every second, so rollup tests need not wait a minute for the service). */
  continuousQueries?: boolean;
}

/**
 * Starts `influxd -config <temp>/influxdb.conf` with every listener on a free
 * 127.0.0.1 port. Both the HTTP API and the RPC service (backup/restore,
 * default :8088 on all interfaces) are moved: two test workers starting influxd
 * at once would otherwise fight over 8088, and nothing should listen beyond loopback.
 */
export async function startInfluxd(program: string, options: InfluxdOptions = {}): Promise<Influxd> {
  const dir = mkdtempSync(join(tmpdir(), 'bohub-influxd-'));
  const [httpPort, rpcPort] = [await freePort(), await freePort()];
  const conf = join(dir, 'influxdb.conf');
  writeFileSync(
    conf,
    [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpcPort}"`,
      '[meta]',
      `  dir = "${join(dir, 'meta')}"`,
      '[data]',
      `  dir = "${join(dir, 'data')}"`,
      `  wal-dir = "${join(dir, 'wal')}"`,
      '  query-log-enabled = false',
      '[http]',
      '  enabled = true',
      `  bind-address = "127.0.0.1:${httpPort}"`,
      '  log-enabled = false',
      // 0 = no row limit, so queries return what the contract expects.
      '  max-row-limit = 0',
      '[monitor]',
      '  store-enabled = false',
      '[[graphite]]',
      '  enabled = false',
      '[[udp]]',
      '  enabled = false',
      '[[collectd]]',
      '  enabled = false',
      '[[opentsdb]]',
      '  enabled = false',
      '[continuous_queries]',
      `  enabled = ${options.continuousQueries ? 'true' : 'false'}`,
      '  run-interval = "1s"',
      '',
    ].join('\n'),
  );

  let output = '';
  let child: ChildProcess | undefined;
  let exited = true;
  let exit: Promise<void> = Promise.resolve();
  const url = `http://127.0.0.1:${httpPort}`;

  const spawnServer = async () => {
    const c = spawn(program, ['-config', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    exited = false;
    c.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    c.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    exit = new Promise<void>((resolve) => c.once('exit', () => ((exited = true), resolve())));
    await waitFor(
      'influxd /ping 204',
      async () => {
        if (exited) throw new Error(`influxd exited:\n${output}`);
        const res = await fetch(`${url}/ping`);
        return res.status === 204;
      },
      20_000,
      100,
    );
  };

  const halt = async (signal: NodeJS.Signals) => {
    if (exited || !child) return;
    child.kill(signal);
    const killer = setTimeout(() => child?.kill('SIGKILL'), 5000);
    await exit;
    clearTimeout(killer);
  };

  const stop = async () => {
    await halt('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await spawnServer();
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n--- influxd output ---\n${output}`);
  }
  return { url, port: httpPort, stop, kill: () => halt('SIGKILL'), restart: spawnServer };
}
