import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './ports.ts';

/** A real InfluxDB 1.x server on loopback, in its own temp dir, for service tests. */
export interface Influxd {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts `influxd -config <temp>/influxdb.conf` with every listener on a free
 * 127.0.0.1 port. Both the HTTP API and the RPC service (backup/restore,
 * default :8088 on all interfaces) are moved: two test workers starting influxd
 * at once would otherwise fight over 8088, and nothing should listen beyond loopback.
 */
export async function startInfluxd(program: string): Promise<Influxd> {
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
      '  enabled = false',
      '',
    ].join('\n'),
  );

  let output = '';
  const child: ChildProcess = spawn(program, ['-config', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));

  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${httpPort}`;
  try {
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
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n--- influxd output ---\n${output}`);
  }
  return { url, port: httpPort, stop };
}
