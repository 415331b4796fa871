import { readFileSync } from 'node:fs';
import { TLSSocket, type TlsOptions } from 'node:tls';
import type { BrokerConfig } from '../config/schema.ts';
import { BohubError } from '../errors.ts';

// Logging in to the embedded broker with a client certificate instead of a
// password. The TLS handshake checks the certificate against broker.tls.caFile;
// here its subject CN is matched to the account that names it (certificateCN).

export type BrokerTlsConfig = NonNullable<Extract<BrokerConfig, { mode: 'embedded' }>['tls']>;

/** What a connection's certificate says about who it is. */
export type CertificateLogin =
  /** No certificate (plain port, or none presented on the TLS port): log in with a password. */
  | { kind: 'none' }
  | { kind: 'account'; username: string; cn: string }
  | { kind: 'refused'; reason: string };

/** Options for tls.createServer: the broker's certificate, and client certificates asked for and checked against the CA. */
export function tlsServerOptions(tls: BrokerTlsConfig): TlsOptions {
  const read = (field: 'certFile' | 'keyFile' | 'caFile') => {
    const file = tls[field];
    // The config cross-check asks for all three; this guards a config built by hand.
    if (!file) throw new BohubError('BOHUB_CONFIG_INVALID', `broker.tls.${field} is missing; the TLS port needs certFile, keyFile and caFile`);
    try {
      return readFileSync(file);
    } catch (err) {
      throw new BohubError('BOHUB_CONFIG_UNREADABLE', `cannot read broker.tls.${field} ${file}: ${(err as Error).message}`, { cause: err });
    }
  };
  return {
    cert: read('certFile'),
    key: read('keyFile'),
    // Node tls docs (tls.createSecureContext): `ca` replaces the default roots, so
    // only certificates signed by this CA make socket.authorized true.
    ca: read('caFile'),
    // Node tls docs (tls.createServer): requestCert asks the client for a certificate;
    // rejectUnauthorized then drops, in the handshake, a client without a valid one.
    requestCert: true,
    rejectUnauthorized: tls.requireClientCert,
  };
}

/** certificateCN → username, for the accounts that may log in with a certificate. */
export function accountsByCertificateCN(broker: BrokerConfig): Map<string, string> {
  const byCN = new Map<string, string>();
  if (broker.mode === 'embedded') for (const a of broker.accounts) if (a.certificateCN !== undefined) byCN.set(a.certificateCN, a.username);
  return byCN;
}

/**
 * Reads the client certificate of an aedes connection (client.conn). A certificate
 * that is presented must be trusted and name an account; otherwise it is refused,
 * never passed over for a password login.
 */
export function certificateLogin(conn: unknown, accountsByCN: ReadonlyMap<string, string>): CertificateLogin {
  if (!(conn instanceof TLSSocket)) return { kind: 'none' };
  // Node tls docs (tlsSocket.getPeerCertificate): an empty object when the peer sent
  // no certificate, null once the socket is destroyed.
  const cert = conn.getPeerCertificate() as ReturnType<TLSSocket['getPeerCertificate']> | null;
  if (!cert || Object.keys(cert).length === 0) return { kind: 'none' };
  // Node tls docs (tlsSocket.authorized): true only if the certificate was signed by one of our CAs.
  // Without requireClientCert an untrusted certificate still completes the handshake, so it is checked here.
  if (!conn.authorized) return { kind: 'refused', reason: `client certificate not trusted (${String(conn.authorizationError)})` };
  // A subject with several CNs comes as an array (Node tls docs, Certificate object): ambiguous, so refused.
  const cn: unknown = cert.subject?.CN;
  if (typeof cn !== 'string' || cn === '') return { kind: 'refused', reason: 'client certificate has no single subject CN' };
  const username = accountsByCN.get(cn);
  if (username === undefined) return { kind: 'refused', reason: `no account for client certificate CN "${cn}"` };
  return { kind: 'account', username, cn };
}
