/**
 * TLS against in-process servers on loopback, with certificates made for the
 * run: each verification rule passes where it should and fails with msmtp's
 * meaning where it should not (69 certificate, 76 handshake, 75 transient),
 * and no failure leaves a socket open.
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import { createSecureContext, TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { exitStatusFor } from '../../src/cli/exit-status.js';
import { OutboxError } from '../../src/errors.js';
import { connectTcp, type ConnectOptions } from '../../src/net/connector.js';
import { connectTls, startTls } from '../../src/net/tls-connect.js';
import type { TlsPolicy } from '../../src/net/tls-policy.js';
import { SmtpConnection } from '../../src/smtp/connection.js';
import { timeoutsFor } from '../../src/smtp/timeouts.js';
import type { Transport } from '../../src/transport.js';
import {
  expectClientsClosed, expectNoOpenHandles, greet, makeTestCertificates, startPlainServer, startTlsServer,
  type CertificateFiles, type LoopbackServer, type TestCertificates,
} from '../helpers/certs.js';

let certs: TestCertificates;
beforeAll(() => { certs = makeTestCertificates(); });
afterAll(() => certs.cleanup());

const servers: LoopbackServer[] = [];
const transports: Transport[] = [];
afterEach(async () => {
  // Connections a test kept on purpose are closed here; any other still open is a leak.
  for (const transport of transports.splice(0)) transport.destroy();
  const open = servers.splice(0);
  try {
    await expectClientsClosed(open);
  } finally {
    await Promise.all(open.map((server) => server.close()));
  }
  await expectNoOpenHandles();
});

function policy(overrides: Partial<TlsPolicy> = {}): TlsPolicy {
  return {
    mode: 'tls', trustFile: certs.caFile, crlFile: null, fingerprint: null, certcheck: true, hostOverride: null,
    certFile: null, keyFile: null, minDhPrimeBits: null, priorities: null, sessionCacheDir: null, ...overrides,
  };
}

function target(port: number, host = 'localhost'): ConnectOptions {
  return { host, port, timeoutMs: 2000, resolve: async () => [{ address: '127.0.0.1', family: 4 }] };
}

async function tlsServer(identity: CertificateFiles, extra: Parameters<typeof startTlsServer>[0] = {}, onSecure?: (socket: TLSSocket) => void): Promise<number> {
  const server = await startTlsServer({ key: identity.key, cert: identity.cert, ...extra }, onSecure);
  servers.push(server);
  return server.port;
}

async function plainServer(onSocket: (socket: Socket) => void): Promise<number> {
  const server = await startPlainServer(onSocket);
  servers.push(server);
  return server.port;
}

async function failure(promise: Promise<unknown>): Promise<OutboxError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(OutboxError);
  return error as OutboxError;
}

async function readText(transport: Transport): Promise<string> {
  const chunk = await transport.read(2000);
  return chunk === null ? '<end>' : Buffer.from(chunk).toString('latin1');
}

function fingerprint(pem: string, algorithm: 'sha256' | 'sha1' | 'md5'): string {
  const digest = createHash(algorithm).update(new X509Certificate(pem).raw).digest('hex');
  return digest.toUpperCase().match(/../g)!.join(':');
}

describe('implicit TLS', () => {
  it('connects with the test CA as trust file and reports the session', async () => {
    const port = await tlsServer(certs.server);
    const { transport, info } = await connectTls(target(port), policy());
    transports.push(transport);
    expect(await readText(transport)).toBe('220 ready\r\n');
    await transport.write([Buffer.from('EHLO me\r\n')], 2000);
    expect(await readText(transport)).toBe('250 ok EHLO me\r\n');
    expect(info).toMatchObject({ protocol: 'TLSv1.3', resumed: false });
    expect(info.cipher).toMatch(/^TLS_/);
    const server = new X509Certificate(certs.server.cert);
    expect(info.certificate).toEqual({
      subject: 'CN=localhost,O=Outbox Tests',
      issuer: 'CN=Outbox Test CA,O=Outbox Tests',
      validFrom: new Date(server.validFrom),
      validTo: new Date(server.validTo),
      sha256: server.fingerprint256,
      sha1: server.fingerprint,
    });
  });

  it('a group of chunks leaves as one TLS record (one pipelined write)', async () => {
    let firstRecord!: (text: string) => void;
    const received = new Promise<string>((resolve) => (firstRecord = resolve));
    const port = await tlsServer(certs.server, {}, (socket) => {
      socket.once('data', (chunk: Buffer) => firstRecord(chunk.toString()));
      socket.write('220 ready\r\n');
    });
    const { transport } = await connectTls(target(port), policy());
    transports.push(transport);
    await readText(transport);
    await transport.write([Buffer.from('MAIL FROM:<a@b>\r\n'), Buffer.from('RCPT TO:<c@d>\r\n'), Buffer.from('DATA\r\n')], 2000);
    // The server's first read is the first record: it holds all three.
    expect(await received).toBe('MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n');
  });

  it('sends the host name as SNI, or tls_host_override', async () => {
    const names: Array<string | false | null> = [];
    const port = await tlsServer(certs.server, {}, (socket) => { names.push(socket.servername); greet(socket); });
    for (const [host, hostOverride] of [['localhost', null], ['127.0.0.1', 'localhost'], ['127.0.0.1', null]] as const) {
      const { transport } = await connectTls(target(port, host), policy({ hostOverride }));
      transports.push(transport);
      await readText(transport); // the server has seen the handshake through
    }
    expect(names).toEqual(['localhost', 'localhost', false]); // never an IP literal
  });

  it('accepts an IP address the certificate names', async () => {
    const port = await tlsServer(certs.server);
    const { transport } = await connectTls(target(port, '127.0.0.1'), policy());
    transports.push(transport);
    expect(await readText(transport)).toBe('220 ready\r\n');
  });

  it('refuses a certificate from a CA it does not trust (69)', async () => {
    const port = await tlsServer(certs.server);
    const error = await failure(connectTls(target(port), policy({ trustFile: certs.otherCaFile })));
    expect(error.code).toBe('E_TLS_CERTIFICATE');
    expect(exitStatusFor(error)).toBe(69);
    expect(error.message).toContain(`is not signed by a trusted CA (tls_trust_file ${certs.otherCaFile})`);
  });

  it('refuses a self-signed certificate, pointing at tls_fingerprint', async () => {
    const port = await tlsServer(certs.selfSigned);
    const error = await failure(connectTls(target(port), policy()));
    expect(error.code).toBe('E_TLS_CERTIFICATE');
    expect(error.message).toMatch(/self-signed.*tls_fingerprint/);
  });

  it('refuses an expired certificate, saying when it expired', async () => {
    const port = await tlsServer(certs.expired);
    const error = await failure(connectTls(target(port), policy()));
    expect(error.code).toBe('E_TLS_CERTIFICATE');
    expect(exitStatusFor(error)).toBe(69);
    expect(error.message).toContain('has expired on 2020-01-31 00:00:00 UTC');
  });

  it('refuses a certificate that is not valid yet', async () => {
    const port = await tlsServer(certs.notYetValid);
    const error = await failure(connectTls(target(port), policy()));
    expect(error.code).toBe('E_TLS_CERTIFICATE');
    expect(error.message).toContain('is not valid yet');
  });

  it('refuses a certificate for another name, saying which names it has', async () => {
    const port = await tlsServer(certs.otherName);
    const error = await failure(connectTls(target(port), policy()));
    expect(error.code).toBe('E_TLS_CERTIFICATE');
    expect(error.message).toContain('is not valid for host localhost (it is for DNS:mail.example.org)');
  });

  it('tls_host_override makes a certificate for that name pass, and only that name', async () => {
    const port = await tlsServer(certs.otherName);
    const { transport } = await connectTls(target(port), policy({ hostOverride: 'mail.example.org' }));
    transports.push(transport);
    expect(await readText(transport)).toBe('220 ready\r\n');
    const error = await failure(connectTls(target(port), policy({ hostOverride: 'other.example.org' })));
    expect(error.message).toContain('not valid for host other.example.org');
  });

  it('refuses a revoked certificate when a CRL is given, and accepts the others', async () => {
    const revokedPort = await tlsServer(certs.revoked);
    const error = await failure(connectTls(target(revokedPort), policy({ crlFile: certs.crlFile })));
    expect(error.code).toBe('E_TLS_CERTIFICATE');
    expect(error.message).toContain('has been revoked');
    const goodPort = await tlsServer(certs.server);
    const { transport } = await connectTls(target(goodPort), policy({ crlFile: certs.crlFile }));
    transports.push(transport);
    // Without the CRL the revoked certificate is just a certificate.
    transports.push((await connectTls(target(revokedPort), policy())).transport);
  });

  describe('fingerprint pinning (replaces CA checking, as in msmtp)', () => {
    for (const algorithm of ['sha256', 'sha1', 'md5'] as const) {
      it(`accepts the pinned certificate by ${algorithm} even from an untrusted CA`, async () => {
        const port = await tlsServer(certs.otherCaServer);
        const pin = fingerprint(certs.otherCaServer.cert, algorithm).toLowerCase(); // any case
        const { transport, info } = await connectTls(target(port), policy({ trustFile: null, fingerprint: pin }));
        transports.push(transport);
        expect(info.certificate?.sha256).toBe(fingerprint(certs.otherCaServer.cert, 'sha256'));
        expect(await readText(transport)).toBe('220 ready\r\n');
      });
    }

    it('a pin replaces the trust file: an expired, misnamed certificate passes if pinned', async () => {
      const port = await tlsServer(certs.expired);
      const { transport, info } = await connectTls(target(port, 'mail.example.net'), policy({ fingerprint: fingerprint(certs.expired.cert, 'sha256') }));
      transports.push(transport);
      expect(info.certificate?.sha256).toBe(new X509Certificate(certs.expired.cert).fingerprint256);
      expect(await readText(transport)).toBe('220 ready\r\n');
    });

    it('refuses another certificate, even one a trusted CA signed, before reading anything', async () => {
      let received = '';
      const port = await tlsServer(certs.server, {}, (socket) => {
        socket.on('data', (chunk: Buffer) => { received += chunk.toString(); });
        greet(socket);
      });
      const pin = fingerprint(certs.otherName.cert, 'sha256');
      const error = await failure(connectTls(target(port), policy({ fingerprint: pin })));
      expect(error.code).toBe('E_TLS_CERTIFICATE');
      expect(exitStatusFor(error)).toBe(69);
      expect(error.message).toContain(`fingerprint mismatch: expected ${pin} (tls_fingerprint), got ${fingerprint(certs.server.cert, 'sha256')}`);
      expect(received).toBe('');
    });
  });

  it('tls_certcheck off accepts any certificate', async () => {
    const port = await tlsServer(certs.selfSigned);
    const { transport, info } = await connectTls(target(port, '127.0.0.1'), policy({ trustFile: null, certcheck: false }));
    transports.push(transport);
    expect(info.certificate?.subject).toBe('CN=localhost');
  });

  it('presents the client certificate when the server asks for one', async () => {
    const seen: Array<string | undefined> = [];
    const port = await tlsServer(certs.server, { requestCert: true, rejectUnauthorized: true, ca: certs.ca }, (socket) => {
      seen.push(socket.getPeerX509Certificate()?.subject);
      greet(socket);
    });
    const { transport } = await connectTls(target(port), policy({ certFile: certs.client.certFile, keyFile: certs.client.keyFile }));
    transports.push(transport);
    expect(await readText(transport)).toBe('220 ready\r\n');
    expect(seen).toEqual(['O=Outbox Tests\nCN=outbox client']);
  });

  it('without a client certificate, a server that requires one is a TLS failure (76), not a retry', async () => {
    const port = await tlsServer(certs.server, { requestCert: true, rejectUnauthorized: true, ca: certs.ca });
    // TLS 1.3: the client finishes first, so the server's refusal arrives with the first read.
    const error = await failure((async () => {
      const { transport } = await connectTls(target(port), policy());
      transports.push(transport);
      await transport.read(2000);
    })());
    expect(error.code).toBe('E_TLS_HANDSHAKE');
    expect(exitStatusFor(error)).toBe(76);
    expect(error.message).toMatch(/failed: the server requires a client certificate \(tlsv13 alert certificate required\); see tls_cert_file/);
  });

  it('a plaintext server behind implicit TLS is a handshake failure (76)', async () => {
    const port = await plainServer((socket) => socket.write('220 plain.example.org ESMTP\r\n'));
    const error = await failure(connectTls(target(port), policy()));
    expect(error.code).toBe('E_TLS_HANDSHAKE');
    expect(exitStatusFor(error)).toBe(76);
    expect(error.message).toMatch(/failed: the server does not speak TLS on this port \(wrong version number\); for a plaintext port use tls_starttls on$/);
  });

  it('no TLS version in common is a handshake failure (76)', async () => {
    const port = await tlsServer(certs.server, { maxVersion: 'TLSv1.2' });
    const error = await failure(connectTls(target(port), policy({ priorities: 'NORMAL:-VERS-ALL:+VERS-TLS1.3' })));
    expect(error.code).toBe('E_TLS_HANDSHAKE');
    expect(error.message).toContain('tls_priorities');
  });

  it('no cipher in common is a handshake failure (76)', async () => {
    const port = await tlsServer(certs.server, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    const error = await failure(connectTls(target(port), policy({ priorities: 'SECURE256' })));
    expect(error.code).toBe('E_TLS_HANDSHAKE');
  });

  it('SECURE192 gets a 256-bit cipher', async () => {
    const port = await tlsServer(certs.server);
    const { transport, info } = await connectTls(target(port), policy({ priorities: 'SECURE192' }));
    transports.push(transport);
    expect(info.cipher).toMatch(/^TLS_(AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)$/);
  });

  it('TLS 1.2 works when the priorities ask for it', async () => {
    const port = await tlsServer(certs.server);
    const { transport, info } = await connectTls(target(port), policy({ priorities: 'NORMAL:-VERS-TLS1.3' }));
    transports.push(transport);
    expect(info.protocol).toBe('TLSv1.2');
    expect(info.cipher).toMatch(/^TLS_ECDHE_ECDSA_WITH_/);
  });

  it('a reset during the handshake is transient (75)', async () => {
    const port = await plainServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
    const error = await failure(connectTls(target(port), policy()));
    expect(error.code).toBe('E_CONNECTION');
    expect(error.transient).toBe(true);
    expect(exitStatusFor(error)).toBe(75);
  });

  it('a server that never answers the handshake times out, transiently', async () => {
    const port = await plainServer(() => {});
    const error = await failure(connectTls({ ...target(port), timeoutMs: 300 }, policy()));
    expect(error).toMatchObject({ code: 'E_TIMEOUT', transient: true });
    expect(error.message).toContain('TLS handshake');
  });

  it('a configuration error is found before connecting', async () => {
    let connections = 0;
    const port = await plainServer(() => { connections++; });
    const error = await failure(connectTls(target(port), policy({ trustFile: '/nonexistent/ca.pem' })));
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toBe('tls_trust_file /nonexistent/ca.pem: no such file');
    expect(connections).toBe(0);
  });
});

describe('STARTTLS-style upgrade of a plain connection', () => {
  const serverContext = () => createSecureContext({ key: certs.server.key, cert: certs.server.cert });

  /** A plaintext SMTP server that answers STARTTLS with `reply` (written as given) and then speaks TLS. */
  async function startTlsServer(reply: string[], onSocket: (socket: Socket) => void = () => {}): Promise<number> {
    return plainServer((socket) => {
      onSocket(socket);
      socket.write('220 plain ESMTP\r\n');
      socket.once('data', async () => {
        // The first part and the TLS take-over happen at once, before the client can start its
        // handshake; later parts come after a pause, as a second segment.
        const [first = '', ...later] = reply;
        socket.write(first);
        const secure = new TLSSocket(socket, { isServer: true, secureContext: serverContext() });
        for (const part of later) {
          await new Promise((resolve) => setTimeout(resolve, 30));
          socket.write(part);
        }
        secure.on('error', () => {});
        secure.on('secure', () => {
          secure.on('data', (chunk: Buffer) => secure.write(`250 tls ${chunk.toString().trim()}\r\n`));
        });
      });
    });
  }

  it('upgrades after the 220 and talks TLS', async () => {
    const port = await startTlsServer(['220 go\r\n']);
    const plain = await connectTcp(target(port));
    expect(await readText(plain)).toBe('220 plain ESMTP\r\n');
    await plain.write([Buffer.from('STARTTLS\r\n')], 2000);
    expect(await readText(plain)).toBe('220 go\r\n');
    const { transport, info } = await startTls(plain, 'localhost', policy({ mode: 'starttls' }), 2000);
    transports.push(transport);
    expect(info.certificate?.subject).toBe('CN=localhost,O=Outbox Tests');
    await transport.write([Buffer.from('EHLO me\r\n')], 2000);
    expect(await readText(transport)).toBe('250 tls EHLO me\r\n');
    // The plain transport is spent: it neither reads nor closes the connection under TLS.
    plain.destroy();
    await expect(plain.read(100)).rejects.toThrow(/handed over to TLS/);
    await transport.write([Buffer.from('NOOP\r\n')], 2000);
    expect(await readText(transport)).toBe('250 tls NOOP\r\n');
  });

  it('refuses to start TLS when bytes arrived after the 220 (plaintext injection), and drops the connection', async () => {
    let closed!: Promise<void>;
    const port = await startTlsServer(['220 go\r\n', '250 injected\r\n'], (socket) => {
      closed = new Promise((resolve) => socket.on('close', () => resolve()));
    });
    const plain = await connectTcp(target(port));
    await readText(plain);
    await plain.write([Buffer.from('STARTTLS\r\n')], 2000);
    expect(await readText(plain)).toBe('220 go\r\n');
    await new Promise((resolve) => setTimeout(resolve, 100)); // the injected line is now buffered, unread
    const error = await failure(startTls(plain, 'localhost', policy({ mode: 'starttls' }), 2000));
    expect(error.code).toBe('E_PROTOCOL');
    expect(exitStatusFor(error)).toBe(76);
    expect(error.message).toContain('plaintext injection');
    await closed; // dropped: nothing more is said in plaintext
  });

  it('the injection written together with the 220 is caught by the reply reader, which leaves it unread', async () => {
    const port = await startTlsServer(['220 go\r\n250 injected\r\n']);
    const plain = await connectTcp(target(port));
    transports.push(plain);
    const connection = new SmtpConnection(plain, { timeouts: timeoutsFor(2) });
    expect((await connection.readGreeting()).code).toBe(220);
    expect((await connection.command({ verb: 'STARTTLS' })).code).toBe(220);
    // The session layer must refuse here (src/delivery/starttls.ts does); the transport alone cannot see it.
    expect(connection.hasUnsolicitedInput).toBe(true);
  });

  it('a certificate failure after STARTTLS drops the connection', async () => {
    const port = await startTlsServer(['220 go\r\n']);
    const plain = await connectTcp(target(port));
    await readText(plain);
    await plain.write([Buffer.from('STARTTLS\r\n')], 2000);
    await readText(plain);
    const error = await failure(startTls(plain, 'localhost', policy({ trustFile: certs.otherCaFile }), 2000));
    expect(error.code).toBe('E_TLS_CERTIFICATE');
  });

  it('only a socket transport can be upgraded', async () => {
    const fake: Transport = { peer: 'fake', read: async () => null, write: async () => {}, end: () => {}, destroy: () => {} };
    await expect(startTls(fake, 'localhost', policy(), 1000)).rejects.toThrow(TypeError);
  });
});
