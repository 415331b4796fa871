import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../../gateway/clock.ts';
import { loadConfig, type LoadedConfig } from '../../gateway/config/load.ts';
import { ModbusBus } from '../../gateway/drivers/modbus/bus.ts';
import { ModbusDriver } from '../../gateway/drivers/modbus/driver.ts';
import { BohubError } from '../../gateway/errors.ts';
import { EventBus, type PointValue } from '../../gateway/events.ts';
import { silentLogger } from '../../gateway/log.ts';
import { Metrics } from '../../gateway/metrics.ts';

// A rogue Modbus TCP server built on plain node:net, answering with hand-built MBAP
// frames (Modbus Messaging on TCP/IP v1.0b §3.1.3: transaction id 2 bytes, protocol
// id 2 bytes = 0, length 2 bytes = bytes that follow, unit id 1 byte, then the PDU).
// Each wrong answer must fail the read with a BohubError and never be decoded.

type Mode = 'good' | 'wrong-tid' | 'wrong-unit' | 'wrong-function' | 'short-byte-count' | 'short-frame' | 'long-byte-count' | 'exception-0x0B';

let mode: Mode = 'good';
let server: Server;
let port: number;
const sockets = new Set<Socket>();
/** The registers every good answer carries: 0x4366 0x0000 is float32 230.0. */
const WORDS = [0x4366, 0x0000, 0x0001, 0x0002];

function answer(request: Buffer): Buffer {
  const tid = request.readUInt16BE(0);
  const unit = request.readUInt8(6);
  const fn = request.readUInt8(7);
  const count = request.readUInt16BE(10);
  const words = Array.from({ length: count }, (_, i) => WORDS[i % WORDS.length]!);
  let byteCount = count * 2;
  let payload = Buffer.alloc(count * 2);
  words.forEach((w, i) => payload.writeUInt16BE(w, i * 2));
  let [replyTid, replyUnit, replyFn] = [tid, unit, fn];
  if (mode === 'wrong-tid') replyTid = (tid + 7) & 0xffff;
  if (mode === 'wrong-unit') replyUnit = unit + 1;
  if (mode === 'wrong-function') replyFn = fn === 3 ? 4 : 3;
  if (mode === 'short-byte-count') byteCount -= 2; // the frame is full length, the byte count is not
  if (mode === 'long-byte-count') byteCount += 2; // claims more than the frame holds
  if (mode === 'short-frame') (byteCount -= 2), (payload = payload.subarray(0, byteCount)); // consistent, but one register short
  if (mode === 'exception-0x0B') return frame(replyTid, replyUnit, Buffer.from([fn | 0x80, 0x0b]));
  return frame(replyTid, replyUnit, Buffer.concat([Buffer.from([replyFn, byteCount]), payload]));
}

function frame(tid: number, unit: number, pdu: Buffer): Buffer {
  const head = Buffer.alloc(7);
  head.writeUInt16BE(tid, 0);
  head.writeUInt16BE(0, 2); // protocol id: 0 = Modbus
  head.writeUInt16BE(pdu.length + 1, 4);
  head.writeUInt8(unit, 6);
  return Buffer.concat([head, pdu]);
}

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 6 && pending.length >= 6 + pending.readUInt16BE(4)) {
        const length = 6 + pending.readUInt16BE(4);
        socket.write(answer(pending.subarray(0, length)));
        pending = pending.subarray(length);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  mode = 'good';
});

function newBus(metrics = new Metrics()) {
  const config = { id: 'ROGUE', transport: 'tcp', host: '127.0.0.1', port, timeoutMs: 200, interFrameDelayMs: 0, fastPollMs: 1000, slowPollMs: 1000, retries: 0, staleAfterPolls: 3 } as const;
  return new ModbusBus({ config, clock: systemClock, log: silentLogger, metrics });
}

async function kinds(metrics: Metrics): Promise<Record<string, number>> {
  return Object.fromEntries((await metrics.modbusDeviceErrors.get()).values.map((v) => [String(v.labels.kind), v.value]));
}

describe('replies that do not match the request are errors, never data', () => {
  it('a good answer is returned as registers, and /metrics shows requests, errors and round trips', async () => {
    const metrics = new Metrics();
    const bus = newBus(metrics);
    expect(await bus.read(1, 3, 0, 4, 'M-1')).toEqual(WORDS);
    mode = 'wrong-unit';
    await expect(bus.read(1, 3, 0, 4, 'M-1')).rejects.toBeInstanceOf(BohubError);
    await bus.close();
    const text = await metrics.registry.metrics();
    expect(text).toContain('bohub_modbus_device_requests_total{bus="ROGUE",device="M-1"} 2');
    expect(text).toContain('bohub_modbus_device_errors_total{bus="ROGUE",device="M-1",kind="malformed"} 1');
    expect(text).toContain('bohub_modbus_round_trip_seconds_count{bus="ROGUE"} 2');
    expect(text).toMatch(/^bohub_modbus_device_round_trip_seconds\{bus="ROGUE",device="M-1"\} \d/m);
  });

  const cases: Array<[Mode, RegExp, string, string]> = [
    // modbus-serial drops an answer whose transaction id matches no open request; the read times out.
    ['wrong-tid', /BOHUB_MODBUS_TIMEOUT/, 'no answer', 'timeout'],
    ['wrong-unit', /BOHUB_MODBUS_MALFORMED/, 'expected address 1 got 2', 'malformed'],
    ['wrong-function', /BOHUB_MODBUS_MALFORMED/, 'expected code 3 got 4', 'malformed'],
    // Our own check: the byte count must be 2 x the registers asked for (spec §6.3).
    ['short-byte-count', /BOHUB_MODBUS_MALFORMED/, 'malformed reply (4 registers asked for, 3 returned)', 'malformed'],
    ['long-byte-count', /BOHUB_MODBUS_MALFORMED/, '', 'malformed'],
    ['short-frame', /BOHUB_MODBUS_MALFORMED/, 'Data length error', 'malformed'],
    ['exception-0x0B', /BOHUB_MODBUS_EXCEPTION/, 'exception 0x0B (gateway target device failed to respond)', 'exception_0x0B'],
  ];
  for (const [m, code, text, kind] of cases) {
    it(`${m}: the read fails with ${code.source} and counts as "${kind}"`, async () => {
      const metrics = new Metrics();
      const bus = newBus(metrics);
      mode = m;
      const failure = await bus.read(1, 3, 0, 4).then(
        (data) => ({ data }),
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(BohubError);
      expect(`${(failure as BohubError).code}: ${(failure as BohubError).message}`).toMatch(code);
      expect((failure as BohubError).message).toContain(text);
      expect(await kinds(metrics)).toEqual({ [kind]: 1 });
      // The connection survives a bad answer: the next good one is read.
      mode = 'good';
      expect(await bus.read(1, 3, 0, 4)).toEqual(WORDS);
      await bus.close();
    });
  }

  it('through the driver: every point of a meter answered wrongly is bad, with no value', async () => {
    const demo = loadConfig('config/demo/building.yaml');
    const meter = demo.building.modbus.meters.find((m) => m.profile === 'chint-ddsu666')!;
    const config: LoadedConfig = {
      ...demo,
      building: {
        ...demo.building,
        modbus: {
          buses: [{ id: 'ROGUE', transport: 'tcp', host: '127.0.0.1', port, timeoutMs: 150, interFrameDelayMs: 0, fastPollMs: 60_000, slowPollMs: 60_000, retries: 1, staleAfterPolls: 3 }],
          meters: [{ ...meter, bus: 'ROGUE', unitId: 1 }],
        },
      },
    };
    const events = new EventBus();
    const published: PointValue[] = [];
    events.on('test', 'meter.values', (v) => published.push(...v.values));
    mode = 'short-byte-count';
    const driver = new ModbusDriver({ config, events, clock: new ManualClock(), log: silentLogger, metrics: new Metrics() });
    await driver.start();
    try {
      for (const m of ['wrong-tid', 'wrong-unit', 'wrong-function', 'short-byte-count', 'short-frame'] as Mode[]) {
        mode = m;
        await expect(driver.readNow(meter.id), m).rejects.toBeInstanceOf(BohubError);
      }
      // The first poll (started with the driver) failed too: nothing good was ever published.
      expect(published.length).toBeGreaterThan(0);
      expect(published.every((v) => v.quality === 'bad' && v.value === null)).toBe(true);
    } finally {
      await driver.stop();
    }
  });
});
