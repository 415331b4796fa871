// A Modbus TCP server for benchmarks, run as its own process (the load generator
// and the system under test must be separate processes: BENCHMARKS.md). It answers
// function 3 and 4 for any unit id and address with a fixed pattern, after an
// optional delay that stands in for a gateway's RS-485 turnaround.
// usage: register-bank.ts DELAY_MS PORT [PORT ...]   prints "ready PORT ..." when listening
import modbusSerial from 'modbus-serial';

const { ServerTCP } = modbusSerial as unknown as { ServerTCP: typeof import('modbus-serial').ServerTCP };
const [delayArg, ...portArgs] = process.argv.slice(2);
const delayMs = Number(delayArg ?? 0);

const registers = (addr: number, length: number) => Array.from({ length }, (_, i) => (addr + i) & 0xffff);
type Reply = (err: Error | null, values: number[]) => void;
// modbus-serial takes the callback form (4 arguments) for a delayed multi-register answer.
const answer = (addr: number, length: number, _unit: number, reply: Reply) => {
  if (delayMs > 0) setTimeout(() => reply(null, registers(addr, length)), delayMs);
  else reply(null, registers(addr, length));
};

const vector = { getMultipleHoldingRegisters: answer, getMultipleInputRegisters: answer };

const bound = await Promise.all(
  portArgs.map(
    (p) =>
      new Promise<number>((resolve, reject) => {
        const server = new ServerTCP(vector, { host: '127.0.0.1', port: Number(p) });
        server.on('initialized', () => resolve(Number(p)));
        server.on('serverError', reject);
      }),
  ),
);
process.stdout.write(`ready ${bound.join(' ')}\n`);
process.on('SIGTERM', () => process.exit(0));
