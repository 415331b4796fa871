import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { demoSourcePassword, hashPassword } from '../../gateway/auth/passwords.ts';
import { EmbeddedBroker } from '../../gateway/broker/embedded.ts';
import { checkConfig, loadConfig, type LoadedConfig } from '../../gateway/config/load.ts';
import { silentLogger } from '../../gateway/log.ts';
import { signalTopic } from '../../gateway/signals/states.ts';
import { tempDir, writeConfig, type RawConfig } from '../helpers/config.ts';
import { waitFor } from '../helpers/ports.ts';
import { startSignalRig, type SignalRig } from '../helpers/signal-rig.ts';
import { describeWithProgram, whichProgram } from '../helpers/programs.ts';

// Devices log in to the embedded broker's TLS port with a client certificate
// (broker.tls, accounts[].certificateCN) instead of a password.

const FIRE_PANEL_CN = 'FP-A panel, tower A';

describeWithProgram(whichProgram('openssl'), 'the embedded broker\'s TLS port with client certificates', 'openssl', () => {
  let pki: Pki;
  let config: LoadedConfig;
  /** The same building with requireClientCert off: the TLS handshake lets any certificate through. */
  let lenientConfig: LoadedConfig;
  const site = () => config.building.site.id;

  beforeAll(async () => {
    pki = makePki(tempDir('bohub-broker-tls-'));
    const accounts = [
      { username: 'fp-a', source: 'FP-A', certificateCN: FIRE_PANEL_CN, passwordHash: await hashPassword(demoSourcePassword('fp-a')) },
      { username: 'fp-b', source: 'FP-B', passwordHash: await hashPassword(demoSourcePassword('fp-b')) },
    ];
    const withBroker = (requireClientCert: boolean) => loadConfig(writeConfig((raw) => (raw.broker = {
      mode: 'embedded', host: '127.0.0.1', port: 0, accounts,
      tls: { port: 0, certFile: pki.serverCert, keyFile: pki.serverKey, caFile: pki.ca, requireClientCert },
    })), {});
    config = withBroker(true);
    lenientConfig = withBroker(false);
  });

  let rig: SignalRig;
  let broker: EmbeddedBroker;
  let received: SignalRig['received'];
  let denied: SignalRig['denied'];
  let audit: SignalRig['audit'];
  const clients: mqtt.MqttClient[] = [];

  /** An mqtts client that trusts the test CA, with the given client certificate (or none). */
  const connectTls = async (cert?: { cert: string; key: string }, opts: mqtt.IClientOptions = {}) => {
    const c = await mqtt.connectAsync(broker.tlsUrl()!, {
      ca: readFileSync(pki.ca), ...(cert ? { cert: readFileSync(cert.cert), key: readFileSync(cert.key) } : {}), reconnectPeriod: 0, connectTimeout: 5_000, ...opts,
    });
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    rig = await startSignalRig(config, { secured: true, panel: false });
    ({ broker, received, denied, audit } = rig);
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    await rig.stop();
  });

  it('logs a fire panel in by its certificate alone, with its account\'s ACLs', async () => {
    const panel = await connectTls(pki.firePanel); // no username, no password
    await panel.publishAsync(signalTopic(site(), 'FZ-A-07'), JSON.stringify({ state: 'alarm', ts: Date.now(), seq: 1 }), { qos: 1 });
    await waitFor('the alarm at the hub', () => received.find((s) => s.signal === 'FZ-A-07' && s.state === 'alarm'));
    expect(denied).toEqual([]);

    // Another panel's zone is not its topic: refused and dropped, as for a password login [MQTT-3.3.5-2].
    const closed = new Promise<void>((r) => panel.once('close', () => r()));
    panel.publish(signalTopic(site(), 'FZ-B-09'), JSON.stringify({ state: 'alarm', ts: Date.now(), seq: 2 }), { qos: 1 });
    await closed;
    expect(denied).toEqual([expect.objectContaining({ action: 'publish', username: 'fp-a', topic: signalTopic(site(), 'FZ-B-09'), reason: 'not a topic of source FP-A' })]);
    expect(received.filter((s) => s.signal === 'FZ-B-09' && s.state === 'alarm')).toEqual([]);
  });

  it('refuses a trusted certificate whose CN names no account, even with a good password, and audits it', async () => {
    // Without the certificate check fp-b's password would let it in.
    await expect(connectTls(pki.stranger, { username: 'fp-b', password: demoSourcePassword('fp-b') })).rejects.toThrow(/Bad username or password/i);
    expect(audit).toEqual([expect.objectContaining({
      actor: 'mqtt:fp-b', action: 'mqtt.connect_denied', after: expect.objectContaining({ reason: 'no account for client certificate CN "stranger"' }),
    })]);
    expect(denied.map((d) => d.action)).toEqual(['connect']);
  });

  it('with requireClientCert, refuses a client without a certificate in the TLS handshake, password or not, and audits it', async () => {
    await expect(connectTls(undefined, { username: 'fp-a', password: demoSourcePassword('fp-a') })).rejects.toThrow(/certificate/i);
    const refusal = await waitFor('the audited handshake', () => audit.find((e) => e.action === 'mqtt.connect_denied'));
    expect(refusal.after).toMatchObject({ reason: expect.stringMatching(/^TLS handshake refused: .*certificate/i) });
    expect(broker.health().detail).toContain('client certificate required');
  });

  it('without requireClientCert, refuses a certificate from another CA that copies a panel\'s CN, and audits it', async () => {
    const lenient = new EmbeddedBroker({ host: '127.0.0.1', port: 0, log: silentLogger, config: lenientConfig, audit: (e) => audit.push(e) });
    await lenient.start();
    try {
      const forged = { cert: readFileSync(pki.forged.cert), key: readFileSync(pki.forged.key) };
      // The handshake completes (socket.authorized is false); only the broker's check stands between it and fp-a.
      await expect(mqtt.connectAsync(lenient.tlsUrl()!, { ca: readFileSync(pki.ca), ...forged, reconnectPeriod: 0 })).rejects.toThrow(/Bad username or password/i);
      expect(audit).toEqual([expect.objectContaining({ action: 'mqtt.connect_denied', after: expect.objectContaining({ reason: expect.stringContaining('client certificate not trusted') }) })]);
      // A password login over the same encrypted port still works.
      clients.push(await mqtt.connectAsync(lenient.tlsUrl()!, { ca: readFileSync(pki.ca), username: 'fp-b', password: demoSourcePassword('fp-b'), reconnectPeriod: 0 }));
    } finally {
      await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
      await lenient.stop();
    }
  });

  it('rejects a config where two accounts share a certificate CN, or broker.tls lacks its files', () => {
    const result = checkConfig(writeConfig((raw: RawConfig) => {
      const [first, second] = raw.broker.accounts; // two of the demo's device accounts
      raw.broker.accounts = [{ ...first, certificateCN: 'panel' }, { ...second, certificateCN: 'panel' }];
      raw.broker.tls = { port: 0, certFile: pki.serverCert };
    }), {});
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues).toEqual(expect.arrayContaining([
      expect.objectContaining({ path: 'broker.accounts[1].certificateCN', message: expect.stringContaining('already used') }),
      expect.objectContaining({ path: 'broker.tls.keyFile' }),
      expect.objectContaining({ path: 'broker.tls.caFile' }),
    ]));
  });
});

interface Pki {
  ca: string;
  serverCert: string;
  serverKey: string;
  firePanel: { cert: string; key: string };
  stranger: { cert: string; key: string };
  /** Self-signed, with the fire panel's CN: not from our CA. */
  forged: { cert: string; key: string };
}

/** A throwaway CA, a server certificate for localhost/127.0.0.1, and two client certificates it signs. */
function makePki(dir: string): Pki {
  const f = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=bohub test CA', '-keyout', f('ca.key'), '-out', f('ca.crt'));
  const issue = (name: string, cn: string, ext: string) => {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`));
    writeFileSync(f(`${name}.ext`), ext);
    ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f(`${name}.ext`), '-out', f(`${name}.crt`));
    return { cert: f(`${name}.crt`), key: f(`${name}.key`) };
  };
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${FIRE_PANEL_CN}`, '-keyout', f('forged.key'), '-out', f('forged.crt'));
  const server = issue('server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  return {
    ca: f('ca.crt'), serverCert: server.cert, serverKey: server.key,
    firePanel: issue('fire-panel', FIRE_PANEL_CN, 'extendedKeyUsage=clientAuth\n'),
    stranger: issue('stranger', 'stranger', 'extendedKeyUsage=clientAuth\n'),
    forged: { cert: f('forged.crt'), key: f('forged.key') },
  };
}
