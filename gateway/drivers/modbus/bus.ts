import modbusSerial from 'modbus-serial';
import type { Clock } from '../../clock.ts';
import type { BusConfig } from '../../config/schema.ts';
import { BohubError, describeError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { Metrics } from '../../metrics.ts';
import { checkRegisterReply, errorKind, toBohubError } from './errors.ts';

// One connection per bus, and one transaction at a time on it. Behind a Modbus TCP
// gateway sits an RS-485 line where only one request may be outstanding: a server
// answers before the client may talk again (Modbus over serial line §2.1,
// "only one master ... one transaction at a time"). Home Assistant keeps one lock
// per bus for the same reason (modbus.py).

/** Where to reach a bus instead of its configured address: a TCP endpoint, or a serial device (a simulator's pty). */
export type BusEndpoint = { host: string; port: number } | { path: string };

export interface BusStats {
  connected: boolean;
  /** Transactions sent. */
  requests: number;
  /** Transactions that failed, plus failed connection attempts. */
  errors: number;
  lastError?: string;
}

export interface ModbusBusOptions {
  config: BusConfig;
  /** Where to connect instead of the configured host/port (a simulator on an ephemeral port). */
  endpoint?: BusEndpoint;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  /** Reconnect backoff: first wait after a failed connection, doubling up to maxMs. */
  reconnect?: { initialMs: number; maxMs: number };
}

export type RegisterFunction = 3 | 4;

// modbus-serial is CommonJS: `module.exports` is the client class and `.default`
// points back at it; under NodeNext TypeScript only sees the class as `.default`.
const ModbusClient = modbusSerial.default;
type ModbusRTU = InstanceType<typeof ModbusClient>;

export const DEFAULT_RECONNECT = { initialMs: 1_000, maxMs: 30_000 } as const;

export class ModbusBus {
  readonly id: string;
  private client: ModbusRTU | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  private requests = 0;
  private errors = 0;
  private lastError: string | undefined;
  private nextConnectAt = 0;
  private backoffMs: number;
  /** For logging once per change of state, never per attempt. */
  private linkState: 'unknown' | 'up' | 'down' = 'unknown';

  constructor(private readonly opts: ModbusBusOptions) {
    this.id = opts.config.id;
    this.backoffMs = (opts.reconnect ?? DEFAULT_RECONNECT).initialMs;
  }

  get connected(): boolean {
    return this.client?.isOpen === true;
  }

  /** Connects (through the queue). Never throws: a failure is logged and retried on the next read. */
  async open(): Promise<boolean> {
    this.closed = false;
    return this.enqueue(() => this.ensureConnected()).then(
      () => true,
      () => false,
    );
  }

  /**
   * Reads `count` registers (function 3 holding, 4 input) from one unit. Queued
   * behind every earlier transaction on this bus. Resolves only with exactly `count`
   * registers; rejects with a BohubError: BOHUB_MODBUS_TIMEOUT, BOHUB_MODBUS_EXCEPTION
   * (an exception answer, a CRC error or a malformed reply) or BOHUB_MODBUS_CONNECT.
   * `device` labels the per-device metrics.
   */
  read(unitId: number, fn: RegisterFunction, address: number, count: number, device = `unit-${unitId}`): Promise<number[]> {
    return this.enqueue(() => this.transact(unitId, fn, address, count, device));
  }

  /** Closes the connection; queued reads fail with BOHUB_MODBUS_CONNECT. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    if (client) await destroy(client);
  }

  stats(): BusStats {
    return { connected: this.connected, requests: this.requests, errors: this.errors, ...(this.lastError ? { lastError: this.lastError } : {}) };
  }

  /** FIFO: each job starts after the previous one settled and the inter-frame silence passed. */
  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job, job);
    this.tail = result.then(
      () => this.interFrameDelay(),
      () => this.interFrameDelay(),
    );
    return result;
  }

  /** Modbus over serial line §2.5.1.1: at least 3.5 character times of silence between frames. */
  private interFrameDelay(): Promise<void> {
    const ms = this.opts.config.interFrameDelayMs;
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => this.opts.clock.setTimeout(resolve, ms));
  }

  private async transact(unitId: number, fn: RegisterFunction, address: number, count: number, device: string): Promise<number[]> {
    const where = `bus ${this.id} unit ${unitId} fc${fn} @${address}+${count}`;
    let client: ModbusRTU;
    try {
      client = await this.ensureConnected();
    } catch (err) {
      this.opts.metrics.modbusDeviceErrors.inc({ bus: this.id, device, kind: 'connect' });
      throw err;
    }
    client.setID(unitId);
    this.requests++;
    this.opts.metrics.modbusRequests.inc({ bus: this.id });
    this.opts.metrics.modbusDeviceRequests.inc({ bus: this.id, device });
    const sentAt = performance.now();
    try {
      const res = fn === 3 ? await client.readHoldingRegisters(address, count) : await client.readInputRegisters(address, count);
      this.roundTrip(device, sentAt);
      return checkRegisterReply(res, count, where);
    } catch (err) {
      const error = toBohubError(err, where, 'BOHUB_MODBUS_MALFORMED');
      this.countError(error);
      const kind = errorKind(error);
      this.opts.metrics.modbusDeviceErrors.inc({ bus: this.id, device, kind });
      // An exception or a malformed frame is still an answer; its round trip counts.
      if (kind !== 'timeout' && kind !== 'connect') this.roundTrip(device, sentAt);
      // A timeout or an exception is one device's problem; the connection stays.
      if (error.code === 'BOHUB_MODBUS_CONNECT') this.dropConnection(client, error);
      throw error;
    }
  }

  /** A per-bus histogram, and each device's latest round trip (a gauge keeps one series per device). */
  private roundTrip(device: string, sentAt: number): void {
    const seconds = (performance.now() - sentAt) / 1000;
    this.opts.metrics.modbusRoundTrip.observe({ bus: this.id }, seconds);
    this.opts.metrics.modbusDeviceRoundTrip.set({ bus: this.id, device }, seconds);
  }

  /** The open client, connecting first if needed; while backing off, fails fast so a poll does not wait. */
  private async ensureConnected(): Promise<ModbusRTU> {
    if (this.closed) throw new BohubError('BOHUB_MODBUS_CONNECT', `bus ${this.id} is closed`);
    if (this.client?.isOpen) return this.client;
    if (this.client) this.dropConnection(this.client, new BohubError('BOHUB_MODBUS_CONNECT', 'connection closed'));
    const now = this.opts.clock.now();
    if (now < this.nextConnectAt)
      throw new BohubError('BOHUB_MODBUS_CONNECT', `bus ${this.id} not connected (${this.lastError ?? 'unknown'}); next attempt in ${Math.ceil((this.nextConnectAt - now) / 1000)} s`);
    try {
      const client = await this.connect();
      if (this.closed) {
        await destroy(client);
        throw new BohubError('BOHUB_MODBUS_CONNECT', `bus ${this.id} is closed`);
      }
      this.client = client;
      this.backoffMs = (this.opts.reconnect ?? DEFAULT_RECONNECT).initialMs;
      this.nextConnectAt = 0;
      if (this.linkState !== 'up') this.opts.log.info({ endpoint: this.target() }, this.linkState === 'down' ? 'bus reconnected' : 'bus connected');
      this.linkState = 'up';
      return client;
    } catch (err) {
      const error = toBohubError(err, `bus ${this.id} connect ${this.target()}`, 'BOHUB_MODBUS_CONNECT');
      this.countError(error);
      this.nextConnectAt = this.opts.clock.now() + this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, (this.opts.reconnect ?? DEFAULT_RECONNECT).maxMs);
      if (this.linkState !== 'down' && !this.closed) this.opts.log.warn({ err: describeError(error) }, 'bus not connected; retrying with backoff');
      this.linkState = 'down';
      throw error;
    }
  }

  private async connect(): Promise<ModbusRTU> {
    const cfg = this.opts.config;
    const client = new ModbusClient();
    // An 'error' event without a listener would crash the process; failures surface as rejected reads.
    client.on('error', () => undefined);
    client.setTimeout(cfg.timeoutMs);
    const endpoint = this.opts.endpoint;
    const { host, port } = endpoint && 'host' in endpoint ? endpoint : 'host' in cfg ? cfg : { host: '', port: 0 };
    const path = endpoint && 'path' in endpoint ? endpoint.path : 'path' in cfg ? cfg.path : '';
    const connecting =
      cfg.transport === 'tcp'
        ? client.connectTCP(host, { port, timeout: cfg.timeoutMs })
        : cfg.transport === 'rtu-over-tcp'
          ? // A transparent serial device server passes RTU frames (address, PDU, CRC;
            // Modbus over Serial Line §2.5.1) through unchanged. modbus-serial's
            // "telnet" port speaks exactly that; its "TcpRTUBuffered" port speaks MBAP.
            client.connectTelnet(host, { port })
          : client.connectRTUBuffered(path, { baudRate: cfg.baudRate, parity: cfg.parity });
    // A host that drops SYNs would leave connect() pending; bound it by the bus timeout.
    let guard: { cancel(): void } | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      guard = this.opts.clock.setTimeout(() => reject(new BohubError('BOHUB_MODBUS_CONNECT', `connect timed out after ${cfg.timeoutMs} ms`)), Math.max(cfg.timeoutMs, 1000));
    });
    try {
      await Promise.race([connecting, timedOut]);
    } catch (err) {
      void destroy(client);
      throw err;
    } finally {
      guard?.cancel();
    }
    client.on('close', () => {
      if (this.client === client) this.dropConnection(client, new BohubError('BOHUB_MODBUS_CONNECT', 'connection closed by peer'));
    });
    return client;
  }

  private dropConnection(client: ModbusRTU, why: BohubError): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.lastError = describeError(why);
    void destroy(client);
    if (this.linkState === 'up' && !this.closed) this.opts.log.warn({ err: this.lastError }, 'bus connection lost; reconnecting');
    this.linkState = 'down';
  }

  private countError(error: BohubError): void {
    this.errors++;
    this.lastError = describeError(error);
    this.opts.metrics.modbusErrors.inc({ bus: this.id, code: error.code });
  }

  private target(): string {
    const cfg = this.opts.config;
    const endpoint = this.opts.endpoint;
    if (endpoint) return 'path' in endpoint ? endpoint.path : `${endpoint.host}:${endpoint.port}`;
    return 'host' in cfg ? `${cfg.host}:${cfg.port}` : cfg.path;
  }
}

/** Closes a client without waiting forever: a socket already gone never calls back. */
function destroy(client: ModbusRTU): Promise<void> {
  return new Promise((resolve) => {
    const done = setTimeout(resolve, 500);
    done.unref();
    try {
      client.destroy(() => {
        clearTimeout(done);
        resolve();
      });
    } catch {
      clearTimeout(done);
      resolve();
    }
  });
}
