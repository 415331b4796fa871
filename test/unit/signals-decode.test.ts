import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../gateway/clock.ts';
import { loadConfig } from '../../gateway/config/load.ts';
import { MqttSignals } from '../../gateway/drivers/mqtt/signals.ts';
import { EventBus } from '../../gateway/events.ts';
import { silentLogger } from '../../gateway/log.ts';
import { Metrics } from '../../gateway/metrics.ts';
import { MAX_PAYLOAD_BYTES, compileMapping, decodeDefault, decodeHeartbeat, decodeMapped, decodeSourceStatus, resolvePointer } from '../../gateway/signals/decode.ts';
import { ReplayFilter } from '../../gateway/signals/replay.ts';
import { heartbeatTopic, signalTopic, sourceStatusTopic } from '../../gateway/signals/states.ts';
import { writeConfig } from '../helpers/config.ts';

const mapping = compileMapping({ format: 'json', pointer: '/data/st', values: { ALM: 'alarm', NRM: 'normal' }, seqPointer: '/n', timePointer: '/time' });
const enc = (s: string) => Buffer.from(s, 'utf8');

// Payloads a hostile or broken device might send: random bytes, random JSON,
// JSON with prototype-polluting keys, deep nesting and oversized documents.
const hostileKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'state', 'ts', 'seq', 'data', 'st', 'n', 'time');
const hostileJson = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, fc.jsonValue(), fc.dictionary(hostileKey, tie('value'), { maxKeys: 5 }), fc.array(tie('value'), { maxLength: 4 })),
})).value;
const payloads = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc.string({ unit: 'binary' }).map(enc),
  hostileJson.map((v) => enc(JSON.stringify(v) ?? 'null')),
  hostileJson.map((v) => enc(JSON.stringify({ state: 'alarm', __proto__: v, constructor: v }))),
  fc.constantFrom('{"__proto__":{"state":"alarm"}}', '{"constructor":{"prototype":{"state":"alarm"}}}', '{"state":"toString"}', '{"state":"alarm","seq":-1}', '{"state":"alarm","ts":1e400}', '['.repeat(5000), `{"state":"${'x'.repeat(MAX_PAYLOAD_BYTES)}"}`).map(enc),
);

describe('payload decoders under fuzzing', () => {
  it('never throw, and accept only valid states', () => {
    fc.assert(fc.property(payloads, (p) => {
      for (const kind of ['fire-zone', 'leak', 'power-feeder'] as const) {
        const d = decodeDefault(p, kind);
        const m = decodeMapped(p, kind, mapping);
        for (const r of [d, m]) if (r.ok) expect(['normal', 'alarm', 'fault', 'test', 'dry', 'wet', 'on', 'off', 'on-backup']).toContain(r.state);
      }
      decodeSourceStatus(p);
      decodeHeartbeat(p);
    }), { numRuns: 2000 });
  });

  it('never read through the prototype chain', () => {
    expect(resolvePointer({}, '/__proto__').found).toBe(false);
    expect(resolvePointer({}, '/constructor/prototype').found).toBe(false);
    expect(decodeDefault(enc('{"__proto__":{"state":"alarm"}}'), 'fire-zone').ok).toBe(false);
    expect(decodeMapped(enc('{"data":{"st":"toString"},"n":1,"time":1}'), 'fire-zone', mapping)).toEqual({ ok: false, reason: 'vendor value "toString" is not in the value map' });
    expect(({} as Record<string, unknown>).state).toBeUndefined();
  });

  it('refuse huge payloads before parsing them', () => {
    expect(decodeDefault(Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 32), 'leak')).toMatchObject({ ok: false, reason: expect.stringMatching(/over/) });
  });
});

describe('the MQTT signal path under fuzzing', () => {
  it('stays up, rejects and counts every bad payload on every topic it reads', async () => {
    const config = loadConfig(writeConfig(), {});
    const site = config.building.site.id;
    const events = new EventBus();
    const metrics = new Metrics();
    let rejected = 0;
    let accepted = 0;
    events.on('t', 'input.rejected', () => rejected++);
    events.on('t', 'signal.state', () => accepted++);
    events.on('t', 'source.status', () => accepted++);
    const signals = new MqttSignals({ config, url: () => '', events, clock: systemClock, log: silentLogger, metrics });
    const topics = fc.constantFrom(signalTopic(site, 'FZ-A-07'), signalTopic(site, 'LK-A-R08'), signalTopic(site, 'PF-A-1'), signalTopic(site, '__proto__'), sourceStatusTopic(site, 'FP-A'), heartbeatTopic(site, 'constructor'), `bohub/${site}/x`);
    fc.assert(fc.property(topics, payloads, fc.boolean(), (t, p, retained) => {
      const before = rejected + accepted;
      signals.handle(t, p, retained);
      // Each message is accepted or rejected (and counted); silence only for an exact replay of a valid event.
      if (rejected + accepted === before) expect(t.includes('/signal/') && decodeDefault(p, t.endsWith('PF-A-1') ? 'power-feeder' : t.includes('LK') ? 'leak' : 'fire-zone').ok).toBe(true);
    }), { numRuns: 2000 });
    expect(rejected).toBeGreaterThan(1000);
    expect(await metrics.registry.getSingleMetricAsString('bohub_input_rejected_total')).toContain(`bohub_input_rejected_total{source="mqtt"} ${rejected}`);
  });
});

describe('replay filter', () => {
  it('drops exact replays only: a new seq, time or state always passes', () => {
    const f = new ReplayFilter();
    expect(f.isReplay({ signal: 'FZ-A-07', state: 'alarm', seq: 5, sourceTime: 100, retained: false })).toBe(false);
    expect(f.isReplay({ signal: 'FZ-A-07', state: 'alarm', seq: 5, sourceTime: 100, retained: true })).toBe(true);
    expect(f.isReplay({ signal: 'FZ-A-07', state: 'alarm', seq: 6, sourceTime: 200, retained: false })).toBe(false);
    // A panel restarted and reused seq 5, at a new time: a new alarm.
    expect(f.isReplay({ signal: 'FZ-A-07', state: 'alarm', seq: 5, sourceTime: 900, retained: false })).toBe(false);
    expect(f.isReplay({ signal: 'FZ-A-08', state: 'alarm', seq: 5, sourceTime: 100, retained: false })).toBe(false);
    // No seq, no source time: only a retained copy of the state already held is dropped.
    expect(f.isReplay({ signal: 'LK-A-R08', state: 'wet', retained: false })).toBe(false);
    expect(f.isReplay({ signal: 'LK-A-R08', state: 'wet', retained: false })).toBe(false);
    expect(f.isReplay({ signal: 'LK-A-R08', state: 'wet', retained: true })).toBe(true);
  });

  it('never drops an event whose seq or time was not seen with that state', () => {
    fc.assert(fc.property(fc.array(fc.record({ state: fc.constantFrom('alarm', 'normal'), seq: fc.nat(20), sourceTime: fc.nat(20), retained: fc.boolean() }), { maxLength: 40 }), (events) => {
      const f = new ReplayFilter();
      const seen: typeof events = [];
      for (const e of events) {
        const dropped = f.isReplay({ signal: 'S', ...e });
        const wasSeen = seen.slice(-16).some((s) => s.state === e.state && (s.seq === e.seq ? s.sourceTime === e.sourceTime : s.sourceTime === e.sourceTime));
        if (!wasSeen) expect(dropped).toBe(false);
        if (!dropped) seen.push(e);
      }
    }));
  });
});
