import { spawn } from 'node:child_process';
import { closeSync, constants, existsSync, lstatSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReadStream, WriteStream } from 'node:tty';
import { BohubError } from '../../gateway/errors.ts';

// A virtual RS-485 line: Debian's socat joins two pseudo-terminals, one for the
// simulated meters ("bus" side) and one the hub opens as if it were a USB-RS485
// adapter ("hub" side). The hub's real serial code path (serialport's termios,
// modbus-serial's RTU framing) runs unchanged.
//
//   socat -d -d pty,raw,echo=0,link=<bus> pty,raw,echo=0,link=<hub>

export interface PtyPair {
  /** The path the hub opens (a symlink to /dev/pts/N). */
  hubPath: string;
  /** Reads what the hub sends. */
  input: ReadStream;
  /** Writes to the hub. */
  output: WriteStream;
  close(): Promise<void>;
}

export interface PtyPairOptions {
  /** The socat program (default: socat on PATH). */
  socat?: string;
  /** Where the hub-side link goes; default a fresh temporary folder. */
  hubPath?: string;
  /** How long to wait for socat to create the links. */
  timeoutMs?: number;
}

export async function openPtyPair(opts: PtyPairOptions = {}): Promise<PtyPair> {
  const dir = mkdtempSync(join(tmpdir(), 'bohub-rtu-'));
  const busPath = join(dir, 'bus');
  const hubPath = opts.hubPath ?? join(dir, 'hub');
  if (opts.hubPath && existsSync(hubPath)) {
    rmSync(dir, { recursive: true, force: true });
    throw new BohubError('BOHUB_PORT_IN_USE', `cannot simulate an RTU line at ${hubPath}: something is already there`);
  }
  const socat = spawn(opts.socat ?? 'socat', ['-d', '-d', `pty,raw,echo=0,link=${busPath}`, `pty,raw,echo=0,link=${hubPath}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  socat.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => socat.once('exit', () => resolve()));
  const failed = new Promise<never>((_, reject) => {
    socat.once('error', (err) => reject(socatError(`cannot run socat (Debian package socat): ${err.message}`, err)));
    void exited.then(() => reject(socatError(`socat exited before the pty pair was ready:\n${log}`)));
  });
  failed.catch(() => undefined);

  const stop = async () => {
    if (socat.exitCode === null && socat.signalCode === null) {
      socat.kill('SIGTERM');
      await exited;
    }
    // socat removes its links on a clean exit; make sure, for a hub path outside dir.
    if (opts.hubPath && isSymlink(hubPath)) rmSync(hubPath, { force: true });
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    // socat logs "starting data transfer loop" once both ptys and links exist.
    await Promise.race([waitUntil(() => /starting data transfer loop/.test(log) && existsSync(busPath) && existsSync(hubPath), opts.timeoutMs ?? 5000), failed]);
  } catch (err) {
    await stop();
    throw err;
  }
  const { input, output } = openBusSide(busPath);
  return {
    hubPath,
    input,
    output,
    close: async () => {
      input.destroy();
      output.destroy();
      await stop();
    },
  };
}

/**
 * Opens the bus side twice, one descriptor to read and one to write, so that each
 * tty stream closes its own descriptor. O_NOCTTY: never become our controlling tty.
 */
function openBusSide(path: string): { input: ReadStream; output: WriteStream } {
  const readFd = openSync(path, constants.O_RDWR | constants.O_NOCTTY);
  let writeFd: number;
  try {
    writeFd = openSync(path, constants.O_RDWR | constants.O_NOCTTY);
  } catch (err) {
    closeSync(readFd);
    throw err;
  }
  const input = new ReadStream(readFd);
  input.setRawMode(true); // no line discipline: bytes as sent, 0x0A and 0x03 included
  const output = new WriteStream(writeFd);
  input.on('error', () => undefined); // EIO when socat goes away first
  output.on('error', () => undefined);
  return { input, output };
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

async function waitUntil(ready: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw socatError(`socat did not create the pty pair within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function socatError(message: string, cause?: unknown): BohubError {
  return new BohubError('BOHUB_SOCAT_FAILED', message, { cause });
}
