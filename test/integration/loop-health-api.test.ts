import type { FastifyInstance } from 'fastify';
import { afterEach, expect, it } from 'vitest';
import { ManualClock } from '../../gateway/clock.ts';
import { buildApp } from '../../gateway/http/app.ts';
import { silentLogger } from '../../gateway/log.ts';
import { DEGRADED_AFTER_MS, LoopHealth, SAMPLE_INTERVAL_MS } from '../../gateway/loop-health.ts';
import { fakeHub } from '../helpers/fake-stores.ts';
import { scriptedSampler } from '../helpers/loop-delay.ts';

// Event-loop delay through the HTTP layer (issue 15): GET /api/health names the cause
// when the loop has been slow for a minute, and GET /metrics carries the histogram.
// The hub's own wiring of the plug-in is checked in hub-e2e.test.ts.

let app: FastifyInstance | undefined;
let plugin: LoopHealth | undefined;
afterEach(async () => {
  await app?.close();
  await plugin?.stop();
  app = plugin = undefined;
});

async function start() {
  const clock = new ManualClock();
  const hub = fakeHub({ clock });
  const sampler = scriptedSampler();
  const loop = new LoopHealth({ clock, log: silentLogger, metrics: hub.services.metrics, sampler });
  plugin = loop;
  // The hub's rule, for this one component: any component degraded makes the hub degraded.
  hub.services.health = () => ({ status: loop.health().status, components: { 'event-loop': loop.health() } });
  await loop.start();
  app = await buildApp(hub.services);
  return { app, clock, sampler };
}

it('GET /api/health is degraded, naming the event loop delay, after a minute of high p99, and ok again after', async () => {
  const { app, clock, sampler } = await start();
  sampler.p99Ms = 230;
  clock.advance(DEGRADED_AFTER_MS);
  const slow = await app.inject({ url: '/api/health' });
  expect(slow.statusCode).toBe(200);
  expect(slow.json()).toEqual({ status: 'degraded', components: { 'event-loop': { status: 'degraded', detail: 'event loop delay p99 230 ms or more for the last 60 s (limit 50 ms for 60 s)' } } });
  sampler.p99Ms = 2;
  clock.advance(SAMPLE_INTERVAL_MS);
  expect((await app.inject({ url: '/api/health' })).json().status).toBe('ok');
});

it('GET /metrics has bohub_event_loop_delay_seconds as a histogram of the samples', async () => {
  const { app, clock, sampler } = await start();
  sampler.p99Ms = 230;
  clock.advance(SAMPLE_INTERVAL_MS);
  const res = await app.inject({ url: '/metrics' });
  expect(res.body).toContain('# TYPE bohub_event_loop_delay_seconds histogram');
  expect(res.body).toMatch(/^bohub_event_loop_delay_seconds_bucket\{le="0.05"\} 98$/m);
  expect(res.body).toMatch(/^bohub_event_loop_delay_seconds_bucket\{le="0.25"\} 100$/m);
  expect(res.body).toMatch(/^bohub_event_loop_delay_seconds_count 100$/m);
});
