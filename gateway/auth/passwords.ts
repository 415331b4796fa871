import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

// Passwords are stored as scrypt hashes: `scrypt$N$r$p$salt$hash`, base64 parts.
// N=2^15, r=8, p=1 follows OWASP's password-storage guidance for scrypt.

const N = 32768;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;

function scrypt(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LENGTH, { N, r: R, p: P, maxmem: 64 * 1024 * 1024 });
  return ['scrypt', N, R, P, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [tag, n, r, p, salt, hash] = stored.split('$');
  if (tag !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n), r: Number(r), p: Number(p), maxmem: 64 * 1024 * 1024,
  });
  return timingSafeEqual(key, expected);
}

/**
 * The demo building's passwords, published in README.md. A site that is not marked
 * `demo: true` and still has a user with one of these is refused at start.
 */
export const DEMO_PASSWORDS: Readonly<Record<string, string>> = {
  admin: 'admin-demo-2026',
  supervisor: 'supervisor-demo-2026',
  operator: 'operator-demo-2026',
  finance: 'finance-demo-2026',
  viewer: 'viewer-demo-2026',
  display: 'display-demo-2026',
};

/** The demo building's lobby screens log in with the display token `<screen id>-demo-2026` (e.g. A-lobby-demo-2026). */
export const demoDisplayToken = (screen: string): string => `${screen}-demo-2026`;

/** The demo building's MQTT device accounts (fire panels, leak and gas gateways, power monitors, the weather feed) use `<username>-demo-2026`. */
export const demoSourcePassword = (username: string): string => `${username}-demo-2026`;
