import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type Client } from 'aedes';
import { verifyPassword } from '../auth/passwords.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { LoadedConfig } from '../config/load.ts';
import { HUB_MQTT_USERNAME } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import { BohubError, describeError } from '../errors.ts';
import type { Metrics } from '../metrics.ts';
import { degraded, down, ok, type ComponentHealth, type Plugin } from '../plugin.ts';
import type { AuditEntry } from '../storage/types.ts';
import { BrokerAcl, type Principal } from './acl.ts';
import { accountsByCertificateCN, certificateLogin, tlsServerOptions } from './client-cert.ts';
import { PublishBucket, RefusalRuns } from './publish-limit.ts';

/** How long a throttled or refused account stays named in health(). */
const RECENT_MS = 60_000;

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  log: Logger;
  /**
   * The building config: its broker accounts and signal sources give the ACLs.
   * Without it the broker is open (any client may do anything): unit tests only.
   */
  config?: LoadedConfig;
  clock?: Clock;
  /** Called for every refused connect, publish or subscribe (e.g. a fake fire alarm). */
  onDenied?: (denial: BrokerDenial) => void;
  /** Writes the refusal to the audit log (RecordStore.appendAudit). */
  audit?: (entry: AuditEntry) => void;
  /** Counts throttled and oversized publishes (broker.limits). */
  metrics?: Metrics;
}

export interface BrokerDenial {
  action: 'connect' | 'publish' | 'subscribe';
  clientId: string;
  username?: string;
  /** The topic or filter refused. */
  topic?: string;
  reason: string;
  at: number;
}

/**
 * The embedded MQTT 3.1.1 broker (aedes) used when no external broker is
 * configured. Clients log in with an account from config (scrypt hashes, as for
 * users), or on the TLS port (broker.tls) with a client certificate whose CN an
 * account names (client-cert.ts); the hub has its own account with a password
 * made per process. Topic
 * ACLs come from signals/sources (acl.ts). Every refusal is reported through
 * onDenied and the audit log, so a fake fire alarm leaves a trace. Each device
 * client is held to broker.limits (publish rate and payload size, publish-limit.ts);
 * the hub's own client is not.
 */
export class EmbeddedBroker implements Plugin {
  readonly name = 'broker';
  private broker?: Aedes;
  private server?: Server;
  private tlsServer?: Server;
  private state: ComponentHealth = down('not started');
  private boundPort = 0;
  private boundTlsPort = 0;
  private denied = 0;
  private readonly principals = new WeakMap<Client, Principal>();
  private readonly buckets = new WeakMap<Client, PublishBucket>();
  /** When each account last had a publish held back. */
  private readonly throttledAt = new Map<string, number>();
  /** Runs of oversized publishes, per account: audited once per run. */
  private readonly oversized: RefusalRuns;
  private readonly clock: Clock;
  /** Passwords already checked against their scrypt hash: a reconnect storm must not cost 50 ms of scrypt each. */
  private readonly verified = new Map<string, Buffer>();
  // The hub's own password lives only in this process; it survives stop/start so clients reconnect.
  private readonly hubPassword = randomBytes(24).toString('base64url');

  constructor(private readonly options: EmbeddedBrokerOptions) {
    this.clock = options.clock ?? systemClock;
    this.oversized = new RefusalRuns(this.clock, RECENT_MS, (account, refused) =>
      options.log.info({ module: 'broker', account, refused }, 'MQTT account no longer sending oversized publishes'));
  }

  /** What the hub's own clients (MqttSignals) log in with. */
  hubCredentials(): { username: string; password: string } {
    return { username: HUB_MQTT_USERNAME, password: this.hubPassword };
  }

  async start(): Promise<void> {
    const log = this.options.log.child({ module: 'broker' });
    const acl = this.options.config ? new BrokerAcl(this.options.config) : undefined;
    if (!acl) log.warn('embedded broker started without config: no authentication, no ACLs');
    this.broker = await Aedes.createBroker({
      // A frozen subscriber must not stall the broker: drop its connection after 10 s
      // of a full socket buffer (aedes docs, drainTimeout).
      drainTimeout: 10_000,
      ...(acl ? this.hooks(acl) : {}),
    });
    this.broker.on('clientError', (client, err) => log.warn({ client: client.id, err: err.message }, 'MQTT client error'));
    const { host } = this.options;
    const server = createServer(this.broker.handle);
    this.server = server;
    // A restart keeps the port it had, so clients find the broker again.
    this.boundPort = await listen(server, host, this.boundPort || this.options.port, 'broker.port or BOHUB_MQTT_PORT');
    const tls = this.options.config?.building.broker.mode === 'embedded' ? this.options.config.building.broker.tls : undefined;
    if (tls) {
      // Same aedes instance: a client on either port sees the same sessions and retained messages.
      const tlsServer = createTlsServer(tlsServerOptions(tls), this.broker.handle);
      this.tlsServer = tlsServer;
      // Node tls docs (event 'tlsClientError'): a handshake that fails, e.g. with
      // requireClientCert and no trusted certificate, never reaches aedes; it is refused here.
      tlsServer.on('tlsClientError', (err: NodeJS.ErrnoException, socket) => {
        if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return; // the peer hung up: nothing was refused
        this.deny({ action: 'connect', clientId: `tls:${socket.remoteAddress}:${socket.remotePort}`, reason: `TLS handshake refused: ${err.message}` });
      });
      this.boundTlsPort = await listen(tlsServer, host, this.boundTlsPort || tls.port, 'broker.tls.port');
      tlsServer.on('error', (err) => (this.state = degraded(describeError(err))));
    }
    server.on('error', (err) => (this.state = degraded(describeError(err))));
    const tlsDetail = tls ? `, TLS on ${this.boundTlsPort}${tls.requireClientCert ? ' (client certificate required)' : ''}` : '';
    this.state = ok(`listening on ${host}:${this.boundPort}${tlsDetail}${acl ? '' : ' (open: no ACLs)'}`);
    log.info({ host, port: this.boundPort, ...(tls ? { tlsPort: this.boundTlsPort } : {}) }, 'embedded MQTT broker listening');
  }

  private hooks(acl: BrokerAcl) {
    const { building } = this.options.config!;
    const site = building.site.id;
    const byCertificateCN = accountsByCertificateCN(building.broker);
    const limits = building.broker.mode === 'embedded' ? building.broker.limits : undefined;
    return {
      authenticate: (client: Client, username: string | undefined, password: Buffer | undefined, done: (err: (Error & { returnCode: number }) | null, ok: boolean | null) => void) => {
        const refuse = (reason: string, returnCode: number, who = username) => {
          this.deny({ action: 'connect', clientId: client.id, username: who, reason });
          // 4 = bad user name or password, 5 = not authorized (MQTT 3.1.1 §3.2.2.3, Table 3.1).
          done(Object.assign(new Error(reason), { returnCode }), false);
        };
        // A certificate, when presented, decides: a bad one is refused like a wrong
        // password (4) rather than passed over for the CONNECT's username and password.
        const cert = certificateLogin(client.conn, byCertificateCN);
        if (cert.kind === 'refused') return refuse(cert.reason, 4);
        if (cert.kind === 'account' && username !== undefined && username !== cert.username)
          return refuse(`client certificate CN "${cert.cn}" belongs to "${cert.username}", not "${username}"`, 4);
        const name = cert.kind === 'account' ? cert.username : username;
        if (!name || (cert.kind === 'none' && !password)) return refuse('anonymous clients are not allowed', 5);
        const principal = acl.principalOf(name);
        if (!principal) return refuse(`unknown account "${name}"`, 4);
        // The hub's persistent session must not be taken over by a device [MQTT-3.1.4-2].
        if (!principal.hub && client.id.startsWith(`bohub-${site}-signals`)) return refuse(`client id "${client.id}" is reserved for the hub`, 5, name);
        if (cert.kind === 'account') {
          // The handshake proved the key; the ACLs are the account's, exactly as for a password login.
          this.principals.set(client, principal);
          return done(null, true);
        }
        this.checkPassword(acl, name, password!).then(
          (good) => {
            if (!good) return refuse(`wrong password for "${name}"`, 4);
            this.principals.set(client, principal);
            done(null, true);
          },
          (err) => refuse(`password check failed: ${describeError(err)}`, 4),
        );
      },
      authorizePublish: (client: Client | null, packet: { topic: string; payload: Buffer | string }, done: (err?: Error | null) => void) => {
        if (!client) return done(null); // the broker's own $SYS messages
        const principal = this.principals.get(client);
        const authorize = () => {
          const decision = principal ? acl.canPublish(principal, packet.topic) : { ok: false as const, reason: 'not logged in' };
          if (!decision.ok) {
            this.deny({ action: 'publish', clientId: client.id, username: principal?.username, topic: packet.topic, reason: decision.reason }, payloadPreview(packet.payload));
            // aedes closes the connection of a client whose publish is refused; for
            // MQTT 3.1.1 there is no negative PUBACK, and dropping the client is the spec's answer ([MQTT-3.3.5-2]).
            return done(new Error(decision.reason));
          }
          const size = Buffer.byteLength(packet.payload);
          if (limits && !principal!.hub && size > limits.maxPayloadBytes)
            return this.refuseOversized(client, principal!.username, packet, `payload of ${size} bytes is over broker.limits.maxPayloadBytes (${limits.maxPayloadBytes})`, done);
          done(null);
        };
        // Not limited: the hub, and a will, which aedes publishes once as the connection closes.
        if (!limits || !principal || principal.hub || client.closed) return authorize();
        // aedes reads a client's socket again only when every packet of the last read
        // has finished its handlers (lib/client.js nextBatch, _parsingBatch), and
        // authorizePublish is one of them: a publish held here stops that client's
        // reading, so TCP slows the sender, while other clients go on. conn.pause()
        // would not: aedes reads on 'readable', where pause() has no effect (Node stream docs).
        if (this.bucketOf(client, principal.username, limits).admit(authorize)) {
          this.throttledAt.set(principal.username, this.clock.now());
          this.options.metrics?.brokerThrottled.inc({ account: principal.username });
        }
      },
      authorizeSubscribe: <S extends { topic: string }>(client: Client, sub: S, done: (err: Error | null, sub?: S | null) => void) => {
        const principal = this.principals.get(client);
        const decision = principal ? acl.canSubscribe(principal, sub.topic) : { ok: false as const, reason: 'not logged in' };
        if (decision.ok) return done(null, sub);
        this.deny({ action: 'subscribe', clientId: client.id, username: principal?.username, topic: sub.topic, reason: decision.reason });
        done(null, null); // SUBACK 0x80 for this filter [MQTT-3.9.3-2]; the client stays connected
      },
      // Retained and live messages alike pass here before delivery: a reader whose
      // subscription overlaps a topic it may not read never sees it.
      authorizeForward: <P extends { topic: string }>(client: Client, packet: P): P | null => {
        const principal = this.principals.get(client);
        return principal && acl.canRead(principal, packet.topic) ? packet : null;
      },
    };
  }

  private bucketOf(client: Client, account: string, limits: { publishesPerSecond: number; publishBurst: number }): PublishBucket {
    const known = this.buckets.get(client);
    if (known) return known;
    const log = this.options.log.child({ module: 'broker', client: client.id, account });
    const bucket = new PublishBucket({
      perSecond: limits.publishesPerSecond,
      burst: limits.publishBurst,
      clock: this.clock,
      onThrottle: ({ throttled, held, dropped }) => {
        if (throttled) log.warn({ limit: limits.publishesPerSecond, burst: limits.publishBurst }, 'MQTT client over broker.limits.publishesPerSecond: its publishes are held back');
        else log.info({ held, ...(dropped ? { dropped } : {}) }, dropped ? 'throttled MQTT client disconnected; its held publishes were not acknowledged' : 'MQTT client back within its publish rate');
      },
    });
    this.buckets.set(client, bucket);
    client.conn.once('close', () => bucket.close());
    return bucket;
  }

  /** Refuses (and disconnects, like any refusal) an oversized publish; only the first of a run is logged and audited. */
  private refuseOversized(client: Client, account: string, packet: { topic: string; payload: Buffer | string }, reason: string, done: (err: Error) => void): void {
    this.options.metrics?.brokerOversized.inc({ account });
    if (this.oversized.note(account)) {
      this.deny({ action: 'publish', clientId: client.id, username: account, topic: packet.topic, reason }, payloadPreview(packet.payload));
    } else this.denied++;
    done(new Error(reason));
  }

  private async checkPassword(acl: BrokerAcl, username: string, password: Buffer): Promise<boolean> {
    const digest = createHash('sha256').update(password).digest();
    if (username === HUB_MQTT_USERNAME) return timingSafeEqual(digest, createHash('sha256').update(this.hubPassword).digest());
    const known = this.verified.get(username);
    if (known) return timingSafeEqual(known, digest);
    const account = acl.account(username);
    if (!account || !(await verifyPassword(password.toString('utf8'), account.passwordHash))) return false;
    this.verified.set(username, digest);
    return true;
  }

  private deny(d: Omit<BrokerDenial, 'at'>, payload?: string): void {
    const denial: BrokerDenial = { ...d, at: this.clock.now() };
    this.denied++;
    this.options.log.warn({ module: 'broker', ...denial }, 'MQTT request refused');
    try {
      this.options.onDenied?.(denial);
      this.options.audit?.({
        actor: `mqtt:${denial.username ?? 'anonymous'}`,
        action: `mqtt.${denial.action}_denied`,
        subject: denial.topic ?? denial.clientId,
        after: { clientId: denial.clientId, reason: denial.reason, ...(payload !== undefined ? { payload } : {}) },
        at: denial.at,
      });
    } catch (err) {
      // A failing audit must not take the broker down; it is logged loudly instead.
      this.options.log.error({ module: 'broker', err: describeError(err) }, 'could not record an MQTT refusal');
    }
  }

  /** The URL clients use, with the port actually bound (it may have been 0). */
  url(): string {
    return `mqtt://${this.options.host}:${this.boundPort}`;
  }

  /** The mqtts URL of the TLS port, when broker.tls is configured and the broker has started. */
  tlsUrl(): string | undefined {
    return this.boundTlsPort ? `mqtts://${this.options.host}:${this.boundTlsPort}` : undefined;
  }

  async stop(): Promise<void> {
    const { server, tlsServer, broker } = this;
    this.server = this.tlsServer = undefined;
    this.broker = undefined;
    if (broker) await new Promise<void>((r) => broker.close(() => r()));
    for (const s of [server, tlsServer]) if (s) await new Promise<void>((r) => s.close(() => r()));
    this.oversized.close();
    this.throttledAt.clear();
    this.state = down('stopped');
  }

  health(): ComponentHealth {
    const refused = this.denied ? `, ${this.denied} requests refused` : '';
    if (!this.broker || this.state.status !== 'ok') return this.state;
    const detail = `${this.state.detail}, ${this.broker.connectedClients} clients${refused}`;
    const limited = this.limitedAccounts();
    return limited ? degraded(`${detail}; ${limited}`) : ok(detail);
  }

  /** The accounts held to broker.limits in the last minute, for health(). */
  private limitedAccounts(): string {
    const since = this.clock.now() - RECENT_MS;
    for (const [account, at] of this.throttledAt) if (at <= since) this.throttledAt.delete(account);
    const throttled = [...this.throttledAt.keys()];
    const oversized = [...this.oversized.current()].map(([account, n]) => `${account} (${n})`);
    return [
      throttled.length ? `throttled in the last minute: ${throttled.join(', ')}` : '',
      oversized.length ? `oversized publishes refused in the last minute: ${oversized.join(', ')}` : '',
    ].filter(Boolean).join('; ');
  }
}

/** Listens on host:port and returns the port bound; a port in use gets a message naming the setting. */
function listen(server: Server, host: string, port: number, setting: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE'
        ? new BohubError('BOHUB_PORT_IN_USE', `MQTT port ${host}:${port} is already in use; set ${setting}`)
        : err));
    server.listen(port, host, () => resolve((server.address() as { port: number }).port));
  });
}

/** The start of a refused payload, for the audit log: enough to see what it was, never the whole of a large one. */
function payloadPreview(payload: Buffer | string): string {
  return Buffer.from(payload).subarray(0, 200).toString('utf8');
}
