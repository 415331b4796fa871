import { BohubError } from '../../errors.ts';

// What went wrong with one Modbus transaction, in two forms: a BohubError (code and
// message, for logs, health and readNow's callers) and a short kind for the metrics
// (timeout, exception_0x0B, crc, malformed, connect).

export type ErrorKind = 'timeout' | 'connect' | 'crc' | 'malformed' | `exception_${string}`;

/** Modbus Application Protocol v1.1b3 §7, MODBUS Exception Codes. */
const EXCEPTION_NAMES: Record<number, string> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

/** Maps a modbus-serial error to our codes; `fallback` for anything unrecognised. */
export function toBohubError(err: unknown, where: string, fallback: 'BOHUB_MODBUS_CONNECT' | 'BOHUB_MODBUS_MALFORMED' = 'BOHUB_MODBUS_CONNECT'): BohubError {
  if (err instanceof BohubError) return err;
  const e = (err ?? {}) as { modbusCode?: unknown; errno?: unknown; code?: unknown; message?: unknown; name?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (typeof e.modbusCode === 'number')
    return new BohubError('BOHUB_MODBUS_EXCEPTION', `${where}: exception ${hex(e.modbusCode)} (${EXCEPTION_NAMES[e.modbusCode] ?? 'unknown'})`, { cause: err });
  if (e.errno === 'ETIMEDOUT' || e.name === 'TransactionTimedOutError')
    return new BohubError('BOHUB_MODBUS_TIMEOUT', `${where}: no answer (timed out)`, { cause: err });
  // Socket errors (ECONNRESET, EPIPE, ...), not Node's own ERR_* codes: modbus-serial
  // lets a RangeError (ERR_OUT_OF_RANGE) through when a reply is shorter than it says.
  const socketError = typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code);
  if (e.name === 'PortNotOpenError' || socketError || e.errno === 'ECONNREFUSED')
    return new BohubError('BOHUB_MODBUS_CONNECT', `${where}: ${socketError ? `${e.code} ` : ''}${message}`, { cause: err });
  // A CRC error or a malformed answer: the transaction failed, the line may be fine.
  return new BohubError(fallback, `${where}: ${message}`, { cause: err });
}

/** The metrics label for a failed transaction. */
export function errorKind(error: BohubError): ErrorKind {
  if (error.code === 'BOHUB_MODBUS_TIMEOUT') return 'timeout';
  if (error.code === 'BOHUB_MODBUS_CONNECT') return 'connect';
  const cause = (error.cause ?? {}) as { modbusCode?: unknown; message?: unknown };
  if (typeof cause.modbusCode === 'number') return `exception_${hex(cause.modbusCode)}`;
  // modbus-serial's wording for a frame whose CRC does not match (Modbus over serial line §2.5.1.2).
  if (typeof cause.message === 'string' && /CRC/i.test(cause.message)) return 'crc';
  return 'malformed';
}

/**
 * The checks modbus-serial 8.0.25 leaves out. It already drops an answer whose MBAP
 * transaction id matches no open request (the read then times out), and rejects one
 * whose unit id, function code, CRC or frame length is wrong. It does not compare the
 * PDU's byte count with the registers asked for: it parses as many registers as the
 * byte count claims. Modbus Application Protocol §6.3: the response carries
 * "Byte count 1 Byte 2 x N*" and then "N* x 2 Bytes", N = quantity of registers.
 */
export function checkRegisterReply(reply: { data?: unknown; buffer?: unknown }, count: number, where: string): number[] {
  const data = reply.data;
  if (!Array.isArray(data) || data.length !== count || !data.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff))
    throw malformed(where, `${count} registers asked for, ${Array.isArray(data) ? data.length : 'none'} returned`);
  if (Buffer.isBuffer(reply.buffer) && reply.buffer.length !== count * 2)
    throw malformed(where, `byte count ${reply.buffer.length}, expected ${count * 2}`);
  return data as number[];
}

function malformed(where: string, detail: string): BohubError {
  return new BohubError('BOHUB_MODBUS_MALFORMED', `${where}: malformed reply (${detail})`);
}

function hex(code: number): string {
  return `0x${code.toString(16).padStart(2, '0').toUpperCase()}`;
}
