import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { DEMO_PASSWORDS } from '../../gateway/auth/passwords.ts';
import { ManualClock } from '../../gateway/clock.ts';
import { buildApp } from '../../gateway/http/app.ts';
import { SqliteTelemetryStore } from '../../gateway/storage/telemetry-sqlite.ts';
import { fakeHub } from '../helpers/fake-stores.ts';

// GET /api/telemetry with every=: buckets in the building's time zone (the demo
// building is in Asia/Shanghai), read from the real embedded store.

const HOUR = 3_600_000;
const DAY = 86_400_000;
const MIDNIGHT = Date.UTC(2026, 1, 28, 16); // 2026-03-01 00:00 in Shanghai
let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

it('answers daily buckets that start at local midnight in Shanghai, with the resolution used', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bohub-api-'));
  const now = MIDNIGHT + 3 * DAY;
  const store = new SqliteTelemetryStore(dir, { now: () => now });
  await store.open();
  const tags = { device: 'A-0101-E', point: 'power' };
  // Hourly values for two local days; the value is the local day (1, 2).
  await store.write(Array.from({ length: 48 }, (_, i) => ({ measurement: 'meter', tags, value: i < 24 ? 1 : 2, quality: 'good' as const, time: MIDNIGHT + i * HOUR })));
  await store.maintain(now);
  const hub = fakeHub({ clock: new ManualClock(now) });
  hub.services.telemetry = store;
  const app = await buildApp(hub.services);
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }), () => store.close(), () => app.close());
  expect(hub.services.config.building.site.timezone).toBe('Asia/Shanghai');

  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'viewer', password: DEMO_PASSWORDS.viewer } });
  const headers = { authorization: `Bearer ${login.json().token}` };
  const res = await app.inject({ url: `/api/telemetry?device=A-0101-E&point=power&from=${MIDNIGHT}&to=${MIDNIGHT + 2 * DAY - 1}&every=1d`, headers });
  expect(res.statusCode).toBe(200);
  expect(res.json().series).toEqual([{ measurement: 'meter', tags, points: [[MIDNIGHT, 1], [MIDNIGHT + DAY, 2]], resolution: '1m' }]);

  for (const bad of ['every=1w', 'every=0m', `every=1s&from=0&to=${DAY * 300}`]) {
    const r = await app.inject({ url: `/api/telemetry?device=A-0101-E&point=power&from=0&to=${DAY}&${bad}`, headers });
    expect(r.statusCode, bad).toBe(400);
  }
});
