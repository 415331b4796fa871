import { createServer, type Server, type Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import type { Answer } from './meter-bank.ts';
import { RtuRequestParser, exceptionReply, readReply, t35Ms, transactionTimeMs, type RtuRequest } from './rtu-frame.ts';

// A Modbus RTU server on one byte stream: a pty (the bus side of a socat pair) or
// one TCP connection of a serial device server. Requests are answered one at a
// time, as on a real RS-485 line where a server answers before the client speaks
// again (Serial Line §2.1). Optional baud pacing holds each reply until the wire
// time of request + t3.5 + reply has passed, so a client sees real RTU timing.

export interface RtuServerOptions {
  /** The meters' answer to one request (shared with the TCP server). */
  answer(request: RtuRequest): Answer;
  /**
   * Pace replies as a line at this baud rate would (Serial Line §2.5.1.1: 11 bits a
   * character, t3.5 between frames). Undefined: reply at once.
   */
  pacedBaudRate?: number;
  /** Extra real-time latency before each reply (test hook, as on the TCP server). */
  responseDelayMs?: number;
  /** Told when a request starts and when its reply (or silence) is done. */
  traffic?: { begin(): void; end(): void };
}

/** Serves RTU on one duplex byte stream until close(). */
export class RtuLink {
  private readonly parser = new RtuRequestParser();
  private queue: Promise<void> = Promise.resolve();
  private silence: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly onData = (chunk: Buffer) => this.receive(chunk);

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly opts: RtuServerOptions,
  ) {}

  start(): void {
    this.input.on('data', this.onData);
  }

  close(): void {
    this.closed = true;
    this.input.off('data', this.onData);
    clearTimeout(this.silence);
  }

  private receive(chunk: Buffer): void {
    for (const request of this.parser.push(chunk)) this.enqueue(request);
    clearTimeout(this.silence);
    if (this.parser.pending > 0) {
      // Real time, not the simulation clock: this is line silence, and a pty or TCP
      // hop adds jitter, so wait at least a few milliseconds before calling it t3.5.
      this.silence = setTimeout(() => {
        const leftover = this.parser.flush();
        if (leftover) this.enqueue(leftover);
      }, Math.max(5, t35Ms(this.opts.pacedBaudRate ?? 9600)));
    }
  }

  private enqueue(request: RtuRequest): void {
    this.queue = this.queue.then(() => this.serve(request));
  }

  private async serve(request: RtuRequest): Promise<void> {
    // Serial Line §2.1: unit 0 is a broadcast, which no server answers.
    if (this.closed || request.unitId === 0) return;
    this.opts.traffic?.begin();
    try {
      const answer = this.opts.answer(request);
      if (answer.kind === 'silence') return;
      const reply = answer.kind === 'registers' ? readReply(request.unitId, request.fn, answer.words) : exceptionReply(request.unitId, request.fn, answer.code);
      const baud = this.opts.pacedBaudRate;
      const delay = (this.opts.responseDelayMs ?? 0) + (baud ? transactionTimeMs(request.frame.length, reply.length, baud) : 0);
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      if (!this.closed && this.output.writable) this.output.write(reply);
    } finally {
      this.opts.traffic?.end();
    }
  }
}

/**
 * RTU over TCP, as a serial device server (e.g. a Moxa NPort in TCP server mode)
 * offers it: raw RTU frames, CRC and all, inside a TCP stream, no MBAP header.
 * Each connection gets its own RtuLink.
 */
export class RtuOverTcpServer {
  private server: Server | undefined;
  private readonly sockets = new Map<Socket, RtuLink>();

  constructor(private readonly opts: RtuServerOptions) {}

  /** Listens; resolves with the bound port (port 0 = any free port). */
  listen(host: string, port: number): Promise<number> {
    const server = createServer((socket) => {
      const link = new RtuLink(socket, socket, this.opts);
      this.sockets.set(socket, link);
      socket.on('error', () => undefined); // a client hanging up is not our error
      socket.on('close', () => {
        link.close();
        this.sockets.delete(socket);
      });
      link.start();
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve((server.address() as { port: number }).port);
      });
    });
  }

  close(): Promise<void> {
    for (const [socket, link] of this.sockets) {
      link.close();
      socket.destroy();
    }
    this.sockets.clear();
    const server = this.server;
    this.server = undefined;
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}
