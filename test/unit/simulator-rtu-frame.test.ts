import { PassThrough } from 'node:stream';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { RtuLink } from '../../simulators/modbus/rtu-server.ts';
import { crc16, crcValid, exceptionReply, readReply, RtuRequestParser, t35Ms, transactionTimeMs, wireTimeMs, withCrc } from '../../simulators/modbus/rtu-frame.ts';

// RTU framing (Modbus over Serial Line v1.02 §2.5.1, CRC §6.2.2), the parser's
// handling of chunked and noisy input, and baud pacing.

// modbus-serial's own CRC, as an independent cross-check of ours.
const modbusSerialCrc16 = createRequire(import.meta.url)('modbus-serial/utils/crc16.js') as (b: Buffer) => number;
const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');

describe('RTU CRC-16', () => {
  it('matches the classic Modicon example: read 3 registers from 0x006B of unit 0x11 is "11 03 00 6B 00 03 76 87"', () => {
    expect(withCrc(hex('11 03 00 6B 00 03'))).toEqual(hex('11 03 00 6B 00 03 76 87'));
  });

  it('appends the CRC low byte first: "01 03 00 00 00 0A C5 CD"', () => {
    expect(crc16(hex('01 03 00 00 00 0A'))).toBe(0xcdc5);
    expect(withCrc(hex('01 03 00 00 00 0A')).subarray(6)).toEqual(hex('C5 CD'));
  });

  it("agrees with modbus-serial's CRC on random frames", () => {
    for (let n = 1; n < 60; n++) {
      const body = Buffer.from(Array.from({ length: n }, (_, i) => (i * 97 + n * 31) & 0xff));
      expect(crc16(body)).toBe(modbusSerialCrc16(body));
    }
  });

  it('rejects a frame with one bit flipped', () => {
    const frame = withCrc(hex('01 04 00 48 00 02'));
    expect(crcValid(frame)).toBe(true);
    frame[3]! ^= 0x01;
    expect(crcValid(frame)).toBe(false);
  });
});

describe('RTU frames', () => {
  it('builds a read reply: unit, function, byte count, registers big-endian, CRC', () => {
    const reply = readReply(1, 4, [0x4365, 0x8000]);
    expect(reply.subarray(0, 7)).toEqual(hex('01 04 04 43 65 80 00'));
    expect(crcValid(reply)).toBe(true);
  });

  it('builds an exception reply with the function high bit set (Application Protocol §7)', () => {
    expect(exceptionReply(5, 3, 0x0b).subarray(0, 3)).toEqual(hex('05 83 0B'));
  });

  it('parses requests that arrive split across chunks and back to back', () => {
    const parser = new RtuRequestParser();
    const a = withCrc(hex('01 03 20 00 00 10'));
    const b = withCrc(hex('02 04 00 48 00 02'));
    const both = Buffer.concat([a, b]);
    expect(parser.push(both.subarray(0, 5))).toEqual([]);
    const got = parser.push(both.subarray(5));
    expect(got.map((r) => [r.unitId, r.fn, r.address, r.count])).toEqual([
      [1, 3, 0x2000, 16],
      [2, 4, 0x48, 2],
    ]);
  });

  it('skips line noise before a frame instead of answering garbage', () => {
    const parser = new RtuRequestParser();
    const got = parser.push(Buffer.concat([hex('FF 03 12'), withCrc(hex('01 03 00 00 00 01'))]));
    expect(got.map((r) => r.unitId)).toEqual([1]);
  });

  it('times the line as the spec does: 11 bits a character, t3.5 = 3.5 characters, 1.75 ms above 19200 baud', () => {
    expect(wireTimeMs(8, 9600)).toBeCloseTo((8 * 11 * 1000) / 9600, 9);
    expect(t35Ms(9600)).toBeCloseTo((3.5 * 11 * 1000) / 9600, 9); // ≈ 4.01 ms
    expect(t35Ms(38_400)).toBe(1.75);
    // Read 2 registers: 8-byte request, 9-byte reply.
    expect(transactionTimeMs(8, 9, 9600)).toBeCloseTo(((8 + 9 + 3.5) * 11 * 1000) / 9600, 9);
  });
});

describe('RtuLink baud pacing', () => {
  /** The time from sending a request to the whole reply arriving, over an in-memory line. */
  async function roundTrip(pacedBaudRate?: number): Promise<{ ms: number; reply: Buffer }> {
    const toServer = new PassThrough();
    const toClient = new PassThrough();
    const link = new RtuLink(toServer, toClient, {
      answer: (r) => ({ kind: 'registers', words: new Array<number>(r.count).fill(0x1234) }),
      ...(pacedBaudRate ? { pacedBaudRate } : {}),
    });
    link.start();
    const started = performance.now();
    const reply = new Promise<Buffer>((resolve) => toClient.once('data', resolve));
    toServer.write(withCrc(hex('01 03 00 00 00 7D'))); // 125 registers: a 255-byte reply
    const got = await reply;
    link.close();
    return { ms: performance.now() - started, reply: got };
  }

  it('answers at once without pacing', async () => {
    const { ms, reply } = await roundTrip();
    expect(reply.length).toBe(255);
    expect(ms).toBeLessThan(30);
  });

  it('holds the reply for the wire time of request + t3.5 + reply at 9600 baud (≈ 296 ms for 125 registers)', async () => {
    const expected = transactionTimeMs(8, 255, 9600);
    const { ms } = await roundTrip(9600);
    expect(ms).toBeGreaterThanOrEqual(expected - 2);
    expect(ms).toBeLessThan(expected * 1.2 + 20);
  });
});
