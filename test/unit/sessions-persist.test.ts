import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hashToken, SessionStore, type SessionUser } from '../../gateway/auth/sessions.ts';
import { ManualClock } from '../../gateway/clock.ts';
import { loadConfig, type LoadedConfig } from '../../gateway/config/load.ts';
import type { UserConfig } from '../../gateway/config/schema.ts';
import { SqliteRecordStore } from '../../gateway/storage/records.ts';
import { tempDir } from '../helpers/config.ts';
import { DEMO_CONFIG_FILE } from '../helpers/fake-stores.ts';

// Sessions kept in the records store (migration 6), so a hub restart does not log the
// control room out (issue 8), and dropped at start when the config no longer backs them.

const TTL_MIN = 60;
let config: LoadedConfig;
let dir: string;
let records: SqliteRecordStore | undefined;
let clock: ManualClock;

beforeAll(() => {
  config = loadConfig(DEMO_CONFIG_FILE);
});
beforeEach(() => {
  dir = tempDir('bohub-sessions-');
  clock = new ManualClock(Date.UTC(2026, 2, 1, 8));
});
afterEach(() => {
  records?.close();
  records = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** A "hub start": the records store opened anew and a SessionStore over it. */
function restart(cfg: LoadedConfig = config, ttl = TTL_MIN): SessionStore {
  records?.close();
  records = SqliteRecordStore.open(dir, clock);
  return new SessionStore(clock, ttl, { records: records.sessions, config: cfg });
}

const rows = () => records!.db.prepare('SELECT * FROM sessions ORDER BY created_at').all() as Array<Record<string, unknown>>;
const user = (username: string): UserConfig => config.building.users.find((u) => u.username === username)!;
const withUsers = (users: UserConfig[]): LoadedConfig => ({ ...config, building: { ...config.building, users } });
const lobby: SessionUser = { username: 'display:A-lobby', displayName: 'Tower A lobby', role: 'display', screen: 'A-lobby' };

describe('sessions in the records store', () => {
  it('come back after a restart, with the same user, role, screen and expiry', () => {
    const first = restart();
    const op = first.create(user('operator'));
    const screen = first.create(lobby);
    clock.advance(5 * 60_000);

    const second = restart();
    expect(second.restored).toEqual({ kept: 2, dropped: 0 });
    expect(second.lookup(op.token)).toEqual(op.session);
    expect(second.lookup(screen.token)).toEqual({ ...screen.session, screen: 'A-lobby', role: 'display' });
    expect(second.size).toBe(2);
  });

  it('keep the SHA-256 of the token, never the token or the password hash', () => {
    const store = restart();
    const { token } = store.create(user('operator'));
    expect(rows()).toEqual([
      expect.objectContaining({ id: hashToken(token), username: 'operator', display_name: user('operator').displayName, role: 'operator', screen: null, expires_at: clock.now() + TTL_MIN * 60_000 }),
    ]);
    records!.close();
    // Neither the token nor the password hash is anywhere in the database files (WAL included).
    for (const file of readdirSync(dir).filter((f) => f.startsWith('records.db'))) {
      const bytes = readFileSync(join(dir, file)).toString('latin1');
      expect(bytes.includes(token), file).toBe(false);
      expect(bytes.includes(user('operator').passwordHash), file).toBe(false);
    }
    records = undefined;
  });

  it('are deleted at logout, and a logged-out token does not come back after a restart', () => {
    const store = restart();
    const ended: string[] = [];
    store.onEnd((id) => ended.push(id));
    const { token, session } = store.create(user('viewer'));
    const other = store.create(user('admin'));
    expect(store.delete(token)).toBe(true);
    expect(ended).toEqual([session.id]);
    expect(rows().map((r) => r.username)).toEqual(['admin']);

    const again = restart();
    expect(again.lookup(token)).toBeUndefined();
    expect(again.lookup(other.token)?.username).toBe('admin');
  });

  it('are deleted when they expire, on lookup and on sweep, and an expired one is not restored', () => {
    const store = restart();
    const ended: string[] = [];
    store.onEnd((id) => ended.push(id));
    const a = store.create(user('viewer'));
    clock.advance(10 * 60_000);
    const b = store.create(user('operator'));
    clock.advance(TTL_MIN * 60_000 - 10 * 60_000);
    expect(store.lookup(a.token)).toBeUndefined();
    expect(ended).toEqual([a.session.id]);
    expect(rows().map((r) => r.username)).toEqual(['operator']);

    // b expires while the hub is down: not restored, and its row is gone.
    records!.close();
    clock.advance(10 * 60_000);
    const again = restart();
    expect(again.restored.kept).toBe(0);
    expect(again.lookup(b.token)).toBeUndefined();
    expect(rows()).toEqual([]);

    const c = again.create(user('finance'));
    clock.advance(TTL_MIN * 60_000);
    again.sweep();
    expect(again.lookup(c.token)).toBeUndefined();
    expect(rows()).toEqual([]);
  });

  it('are dropped at start when the user was removed, their role or password changed, or the screen is gone', () => {
    const store = restart();
    const viewer = store.create(user('viewer'));
    const operator = store.create(user('operator'));
    const finance = store.create(user('finance'));
    const admin = store.create(user('admin'));
    const screenA = store.create(lobby);
    const screenB = store.create({ ...lobby, username: 'display:B-lobby', screen: 'B-lobby' });

    const changed: LoadedConfig = {
      ...withUsers(
        config.building.users
          .filter((u) => u.username !== 'viewer')
          .map((u) => (u.username === 'operator' ? { ...u, role: 'supervisor' as const } : u.username === 'finance' ? { ...u, passwordHash: user('admin').passwordHash } : u)),
      ),
    };
    changed.building = { ...changed.building, displays: changed.building.displays.filter((d) => d.id !== 'B-lobby') };

    const again = restart(changed);
    expect(again.restored).toEqual({ kept: 2, dropped: 4 });
    expect(again.lookup(viewer.token)).toBeUndefined();
    expect(again.lookup(operator.token)).toBeUndefined();
    expect(again.lookup(finance.token)).toBeUndefined();
    expect(again.lookup(screenB.token)).toBeUndefined();
    expect(again.lookup(admin.token)?.role).toBe('admin');
    expect(again.lookup(screenA.token)?.screen).toBe('A-lobby');
    expect(rows().map((r) => r.username).sort()).toEqual(['admin', 'display:A-lobby']);
  });

  it('obey a session TTL shortened in the config', () => {
    const store = restart(config, 120);
    const long = store.create(user('admin'));
    clock.advance(61 * 60_000);
    const again = restart(config, 60);
    expect(again.lookup(long.token)).toBeUndefined();
    expect(rows()).toEqual([]);
  });

  it('stay in memory only without a records store, as before', () => {
    const store = new SessionStore(clock, TTL_MIN);
    const { token } = store.create(user('viewer'));
    expect(store.lookup(token)?.username).toBe('viewer');
    records = SqliteRecordStore.open(dir, clock);
    expect(rows()).toEqual([]);
  });
});
