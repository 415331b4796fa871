import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, smallBuilding, tempDir, writeConfig } from '../helpers/config.ts';
import { freePort, waitFor } from '../helpers/ports.ts';

// `bohub start` as an operator runs it: bad input gets one clear message and a
// non-zero exit, never a stack trace; SIGTERM stops the hub cleanly.

const bohub = join(REPO, 'bin/bohub.js');
const quickBuilding = (extra: (raw: any) => void = () => {}) =>
  writeConfig((raw) => {
    smallBuilding(raw, 2);
    raw.storage.dataDir = tempDir();
    raw.simulators.ephemeralPorts = true;
    raw.broker.port = 0;
    extra(raw);
  });

function runStart(file: string, env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [bohub, 'start', '--config', file], { encoding: 'utf8', env: { ...process.env, BOHUB_LOG_LEVEL: 'silent', ...env }, timeout: 60_000 });
}

describe('bohub start refuses bad input with a clear message', () => {
  it('an invalid config: the same list as config check', () => {
    const run = runStart(quickBuilding((raw) => (raw.modbus.meters[1].profile = 'dtsu-666')));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('modbus.meters[1].profile: unknown profile "dtsu-666"');
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('a web port already in use', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
    try {
      const run = runStart(quickBuilding(), { BOHUB_HTTP_PORT: String(port) });
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`BOHUB_PORT_IN_USE.*${port}`));
    } finally {
      blocker.close();
    }
  });

  it('an unwritable data folder', () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'not a folder');
    const run = runStart(quickBuilding(), { BOHUB_DATA_DIR: join(file, 'data') });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(join(file, 'data'));
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('a real site whose users still have the demo passwords', () => {
    const run = runStart(quickBuilding((raw) => (raw.site.demo = false)));
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/users admin, .* still have the published demo passwords/);
    expect(run.stderr).toContain('mqtt:fp-a'); // device accounts too
  });
});

describe('bohub start lifecycle', () => {
  it('serves health, then stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [bohub, 'start', '--config', quickBuilding()], { env: { ...process.env, BOHUB_HTTP_PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await waitFor('health', async () => (await fetch(`http://127.0.0.1:${port}/api/health`)).ok, 30_000, 200);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      // Structured logs: one JSON line per change of state.
      const lines = out.trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['hub started', 'stopping']));
    } finally {
      child.kill('SIGKILL');
    }
  });
});
