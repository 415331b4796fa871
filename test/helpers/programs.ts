import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { describe } from 'vitest';

/**
 * Service-backed tests need a real program from a Debian package. Where it is
 * missing the suite is skipped with one line naming the package; with CI=true a
 * missing program is a failure instead (the brief: .ci/run must really run them).
 */
export function whichProgram(program: string): string | undefined {
  if (program.startsWith('/')) return existsSync(program) ? program : undefined;
  try {
    return execFileSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The imports test/fixtures/pymodbus_server.py needs. `import pymodbus` alone is not
 * enough: pymodbus 3.0's server package imports `serial` (python3-serial, pulled in
 * by python3-serial-asyncio, which python3-pymodbus only recommends), so with
 * `--no-install-recommends` the package imports but the server does not.
 */
const PYMODBUS_SERVER_IMPORTS = [
  'from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext',
  'from pymodbus.server import StartTcpServer',
].join('\n');

/** Python that can run the pymodbus server fixture (the system interpreter, not a pyenv one). */
export function pymodbusPython(): string | undefined {
  for (const py of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(py, ['-c', PYMODBUS_SERVER_IMPORTS], { stdio: 'ignore' });
      return py;
    } catch {
      /* try the next interpreter */
    }
  }
  return undefined;
}

export function describeWithProgram(found: string | undefined, what: string, debianPackage: string, body: (path: string) => void): void {
  if (found) {
    describe(what, () => body(found));
    return;
  }
  if (process.env.CI === 'true') {
    describe(what, () => {
      throw new Error(`${what} needs the Debian package ${debianPackage}, which is not installed (CI=true makes this a failure)`);
    });
    return;
  }
  console.warn(`skipping "${what}": install the Debian package ${debianPackage}`);
  describe.skip(what, () => body(''));
}
