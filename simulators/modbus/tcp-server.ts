import type { Server } from 'node:net';
import { ServerTCP, type IServiceVector } from 'modbus-serial';
import { BohubError } from '../../gateway/errors.ts';
import type { Answer, ReadFunction } from './meter-bank.ts';

// A Modbus TCP gateway in front of simulated meters: modbus-serial's ServerTCP
// does the MBAP framing; every read is handed to `answer`, shared with the RTU
// server, so faults look the same on both.

export interface TcpServerOptions {
  answer(request: { unitId: number; fn: ReadFunction; address: number; count: number }): Answer;
  /** Wire latency added before each answer (real time), so tests can see overlapping transactions. */
  responseDelayMs?: number;
  traffic?: { begin(): void; end(): void };
}

type Callback<T> = (err: Error | null, value: T) => void;

/** Starts a ServerTCP and resolves with it and the port it really bound. */
export function listenModbusTcp(opts: TcpServerOptions, host: string, port: number): Promise<{ server: ServerTCP; port: number }> {
  return new Promise((resolve, reject) => {
    // ServerTCP does `options.port || 502`, so port 0 would mean 502; the string "0"
    // gets past that and net.Server.listen reads it as "any free port".
    const modbus = new ServerTCP(vectorFor(opts), { host, port: (port === 0 ? '0' : port) as number });
    // The bound address is only on the wrapped net.Server.
    const server = (modbus as unknown as { _server: Server })._server;
    modbus.on('serverError', (error: Error | null) => {
      const err = error as NodeJS.ErrnoException;
      reject(err.code === 'EADDRINUSE' ? new BohubError('BOHUB_PORT_IN_USE', `cannot serve simulated Modbus on ${host}:${port}: the port is in use`, { cause: err }) : err);
    });
    modbus.on('socketError', () => undefined); // a client hanging up is not our error
    modbus.on('initialized', () => {
      const address = server.address();
      resolve({ server: modbus, port: typeof address === 'object' && address ? address.port : port });
    });
  });
}

export function closeModbusTcp(server: ServerTCP): Promise<void> {
  return new Promise<void>((resolve) => server.close(() => resolve()));
}

function vectorFor(opts: TcpServerOptions): IServiceVector {
  const serve = (fn: ReadFunction, address: number, count: number, unitId: number, cb: Callback<number[]>) => {
    opts.traffic?.begin();
    const answer = opts.answer({ unitId, fn, address, count });
    if (answer.kind === 'silence') {
      opts.traffic?.end();
      return; // never call back: ServerTCP sends nothing and the client times out
    }
    const reply = () => {
      opts.traffic?.end();
      if (answer.kind === 'exception') cb(modbusException(answer.code), []);
      else cb(null, answer.words);
    };
    const delay = opts.responseDelayMs ?? 0;
    if (delay > 0) setTimeout(reply, delay);
    else reply();
  };
  // modbus-serial calls getMultiple* for reads of 2+ registers and get* for one.
  return {
    getMultipleHoldingRegisters: (addr: number, length: number, unitId: number, cb: Callback<number[]>) => serve(3, addr, length, unitId, cb),
    getMultipleInputRegisters: (addr: number, length: number, unitId: number, cb: Callback<number[]>) => serve(4, addr, length, unitId, cb),
    getHoldingRegister: (addr: number, unitId: number, cb: Callback<number>) => serve(3, addr, 1, unitId, (e, v) => cb(e, v[0] ?? 0)),
    getInputRegister: (addr: number, unitId: number, cb: Callback<number>) => serve(4, addr, 1, unitId, (e, v) => cb(e, v[0] ?? 0)),
  };
}

/** modbus-serial's ServerTCP sends an exception reply for an error carrying modbusErrorCode. */
function modbusException(code: number): Error {
  return Object.assign(new Error(`modbus exception ${code}`), { modbusErrorCode: code });
}
