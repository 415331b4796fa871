// Modbus RTU framing (Modbus over Serial Line v1.02): a frame is
//   address (1) | function (1) | data (0..252) | CRC (2, low byte first)
// (§2.5.1, Figure 12) with CRC-16 over address..data, polynomial 0xA001 (the
// reflected 0x8005), initial value 0xFFFF (§2.5.1.2, §6.2.2). On a real line frames
// are delimited by 3.5 character times of silence (§2.5.1.1); over a pty or TCP
// the bytes may arrive in any chunks, so the parser finds a request's end from its
// function code instead and keeps silence only as a way to flush garbage.

/** CRC-16/MODBUS of `bytes` (Serial Line §6.2.2, the bitwise procedure). */
export function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** The frame with its CRC appended, low-order byte first (§2.5.1.2). */
export function withCrc(body: Uint8Array): Buffer {
  const frame = Buffer.alloc(body.length + 2);
  frame.set(body);
  frame.writeUInt16LE(crc16(body), body.length);
  return frame;
}

/** True if the frame's last two bytes are the CRC of the rest. */
export function crcValid(frame: Uint8Array): boolean {
  if (frame.length < 4) return false;
  const body = frame.subarray(0, frame.length - 2);
  return crc16(body) === (frame[frame.length - 2]! | (frame[frame.length - 1]! << 8));
}

/** A request the parser recognised. `count` and `address` are set for functions 3 and 4. */
export interface RtuRequest {
  unitId: number;
  fn: number;
  address: number;
  count: number;
  /** The whole frame, CRC included (for pacing: its length is wire time). */
  frame: Buffer;
}

/** A read reply: unit, function, byte count, the registers big-endian (Application Protocol §6.3/§6.4). */
export function readReply(unitId: number, fn: number, words: readonly number[]): Buffer {
  const body = Buffer.alloc(3 + words.length * 2);
  body[0] = unitId;
  body[1] = fn;
  body[2] = words.length * 2;
  words.forEach((w, i) => body.writeUInt16BE(w, 3 + i * 2));
  return withCrc(body);
}

/** An exception reply: the function code with its high bit set, then the code (Application Protocol §7). */
export function exceptionReply(unitId: number, fn: number, code: number): Buffer {
  return withCrc(Uint8Array.of(unitId, fn | 0x80, code));
}

/**
 * Splits a byte stream into request frames. Lengths by function (Application
 * Protocol §6): 1-6 have a fixed 4-byte body, 15/16 carry a byte count at offset
 * 6. A candidate whose CRC fails is not a frame; the parser drops one byte and
 * looks again, which finds the next frame after line noise.
 */
export class RtuRequestParser {
  private buffer = Buffer.alloc(0);

  /** Adds received bytes; returns the complete requests now available. */
  push(chunk: Uint8Array): RtuRequest[] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const requests: RtuRequest[] = [];
    for (;;) {
      const length = this.expectedLength(this.buffer);
      if (length === undefined) {
        // Not a function we can measure: noise, or a request for one we do not
        // serve (ended by silence, see flush). Skip to a valid frame further on.
        const next = this.nextValidFrame();
        if (next === undefined) break;
        this.buffer = this.buffer.subarray(next);
        continue;
      }
      if (this.buffer.length < length) break;
      const frame = this.buffer.subarray(0, length);
      if (!crcValid(frame)) {
        this.buffer = this.buffer.subarray(1);
        continue;
      }
      this.buffer = this.buffer.subarray(length);
      requests.push({ unitId: frame[0]!, fn: frame[1]!, address: frame.readUInt16BE(2), count: frame.readUInt16BE(4), frame: Buffer.from(frame) });
    }
    return requests;
  }

  /**
   * The line went quiet (t3.5 passed), so what is buffered is one whole frame
   * (§2.5.1.1). If its CRC holds it is a request of a function we do not parse, to
   * be answered 0x01; otherwise it is an incomplete or damaged frame, discarded.
   */
  flush(): RtuRequest | undefined {
    const frame = this.buffer;
    this.buffer = Buffer.alloc(0);
    if (!crcValid(frame)) return undefined;
    return { unitId: frame[0]!, fn: frame[1]!, address: 0, count: 0, frame: Buffer.from(frame) };
  }

  get pending(): number {
    return this.buffer.length;
  }

  /** The offset of the first complete, CRC-valid frame of a known function after the start, if any. */
  private nextValidFrame(): number | undefined {
    for (let i = 1; i + 8 <= this.buffer.length; i++) {
      const rest = this.buffer.subarray(i);
      const length = this.expectedLength(rest);
      if (length !== undefined && rest.length >= length && crcValid(rest.subarray(0, length))) return i;
    }
    return undefined;
  }

  /** A request's length from its function code (Application Protocol §6), or undefined if unknown yet. */
  private expectedLength(bytes: Buffer): number | undefined {
    if (bytes.length < 2) return undefined;
    const fn = bytes[1]!;
    if (fn >= 1 && fn <= 6) return 8;
    if (fn === 15 || fn === 16) return bytes.length < 7 ? undefined : 9 + bytes[6]!;
    // A function we do not know the length of: wait for silence to end it.
    return undefined;
  }
}

/**
 * Wire time of `bytes` characters at `baudRate`: every RTU character is 11 bits
 * (start, 8 data, parity or a second stop bit, stop; Serial Line §2.5.1).
 */
export function wireTimeMs(bytes: number, baudRate: number): number {
  return (bytes * 11 * 1000) / baudRate;
}

/** The inter-frame silence t3.5: 3.5 character times, fixed at 1.75 ms above 19200 baud (§2.5.1.1). */
export function t35Ms(baudRate: number): number {
  return baudRate > 19_200 ? 1.75 : wireTimeMs(3.5, baudRate);
}

/** How long one transaction occupies the line: request, t3.5, reply (what baud pacing waits). */
export function transactionTimeMs(requestBytes: number, replyBytes: number, baudRate: number): number {
  return wireTimeMs(requestBytes + replyBytes, baudRate) + t35Ms(baudRate);
}
