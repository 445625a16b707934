/**
 * TLS over a connected transport: right after connecting (implicit TLS,
 * `tls_starttls off`) or after the server's 220 to STARTTLS. The result is a
 * new transport; nothing is sent over it until the server is verified as the
 * policy asks, and a resumed session is held to the same checks as a full
 * handshake (Node skips the name check on resumption, and a resumed handshake
 * shows no certificate, so the one it was verified with comes from the cache).
 */
import { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import { checkServerIdentity, connect, type TLSSocket } from 'node:tls';
import { OutboxError } from '../errors.js';
import type { Transport } from '../transport.js';
import { connectTcp, type ConnectOptions, type Connector } from './connector.js';
import { SocketTransport } from './socket-transport.js';
import { certificateDigest, certificateInfo, colonHex, matchesFingerprint } from './tls-certificate.js';
import { certificateError, tlsFailure, type FailureContext } from './tls-errors.js';
import { prepareTls, type PreparedTls } from './tls-options.js';
import type { TlsPolicy, TlsSessionInfo } from './tls-policy.js';
import { openSessionCache, type CachedSession, type SessionCache } from './tls-session-cache.js';

export interface TlsConnection {
  /** The TLS transport; the one passed in is spent. */
  readonly transport: Transport;
  readonly info: TlsSessionInfo;
}

/**
 * Upgrades a connected `SocketTransport` to TLS within `timeoutMs`. The
 * policy may be given already prepared (`prepareTls`), so that configuration
 * errors can be found before connecting. On any failure the connection is
 * destroyed: once TLS is decided on, nothing more goes out in plaintext.
 */
export async function startTls(transport: Transport, host: string, policy: TlsPolicy | PreparedTls, timeoutMs: number): Promise<TlsConnection> {
  let setup: PreparedTls;
  let socket: Socket;
  let plain: SocketTransport;
  try {
    setup = 'settingsKey' in policy ? policy : prepareTls(policy, host);
    if (!(transport instanceof SocketTransport)) throw new TypeError(`startTls needs a SocketTransport, not ${transport.constructor.name}`);
    plain = transport;
    socket = transport.detachSocket();
  } catch (error) {
    transport.destroy();
    throw error;
  }
  const cache = setup.sessionCacheDir === null
    ? undefined
    : openSessionCache(setup.sessionCacheDir, host, plain.remotePort ?? 0, setup.settingsKey);
  const cached = cache?.load();
  const sessions = new SessionSaver(cache);
  // The TLS socket reports every error of the connection; the plain one must not crash the process meanwhile.
  socket.on('error', () => {});
  const context = (certificate?: X509Certificate): FailureContext => ({
    peer: transport.peer, verifyName: setup.verifyName, verification: setup.verification, certificate,
  });
  let tlsSocket: TLSSocket | undefined;
  let seen: X509Certificate | undefined;
  try {
    tlsSocket = connect({ ...setup.options, socket, ...(cached ? { session: cached.session } : {}) });
    tlsSocket.on('session', (session: Buffer) => sessions.offer(session));
    // Node emits the internal 'secure' before verifying and destroys the socket on a refusal, taking the
    // certificate with it: keep it for the error message ("expired on …", "it is for …"). Messages only.
    const socketNow = tlsSocket;
    tlsSocket.prependOnceListener('secure', () => { seen = peerCertificate(socketNow); });
    await handshake(tlsSocket, timeoutMs, transport.peer);
    const resumed = tlsSocket.isSessionReused();
    const certificate = serverCertificate(tlsSocket, resumed, cached);
    verify(setup, certificate, resumed, context(certificate));
    if (certificate) sessions.verified(certificate.raw);
    const cipher = tlsSocket.getCipher();
    const info: TlsSessionInfo = {
      protocol: tlsSocket.getProtocol() ?? 'unknown',
      cipher: cipher.standardName ?? cipher.name,
      resumed,
      certificate: certificate && certificateInfo(certificate),
    };
    return { transport: plain.wrapping(tlsSocket), info };
  } catch (error) {
    const certificate = seen ?? (tlsSocket && peerCertificate(tlsSocket));
    tlsSocket?.on('error', () => {}); // a late error after we gave up must not go unhandled
    tlsSocket?.destroy();
    socket.destroy();
    throw tlsFailure(error, context(certificate));
  }
}

/** Implicit TLS (`tls on`, `tls_starttls off`): connect, then TLS before the server says anything. */
export async function connectTls(options: ConnectOptions, policy: TlsPolicy, connector: Connector = connectTcp): Promise<TlsConnection> {
  // Settings first: a configuration error should not cost a connection.
  const setup = prepareTls(policy, options.host);
  const transport = await connector(options);
  return startTls(transport, options.host, setup, options.timeoutMs);
}

/** Resolves at 'secureConnect'; rejects on an error, a close, or the timeout. Leaves no listener behind. */
function handshake(socket: TLSSocket, timeoutMs: number, peer: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: unknown) => {
      clearTimeout(timer);
      socket.off('secureConnect', onSecure);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onSecure = () => done();
    const onError = (error: Error) => done(error);
    const onClose = () => done(new OutboxError('E_CONNECTION', `${peer} closed the connection during the TLS handshake`, { transient: true }));
    const timer = setTimeout(() => {
      done(new OutboxError('E_TIMEOUT', `the TLS handshake with ${peer} did not finish within ${timeoutMs / 1000} s`, { transient: true }));
    }, timeoutMs);
    socket.on('secureConnect', onSecure);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}

function serverCertificate(socket: TLSSocket, resumed: boolean, cached: CachedSession | undefined): X509Certificate | undefined {
  if (!resumed) return peerCertificate(socket);
  // Resumption proves the server holds the session's secret; the certificate it was verified with is ours to recall.
  return cached ? new X509Certificate(cached.certificate) : undefined;
}

/** The checks Node does not make: the pin, and on resumption the name and the dates again. */
function verify(setup: PreparedTls, certificate: X509Certificate | undefined, resumed: boolean, context: FailureContext): void {
  const verification = setup.verification;
  if (verification.kind === 'none') return;
  if (!certificate) throw certificateError('the server sent no certificate', context);
  if (verification.kind === 'fingerprint') {
    if (matchesFingerprint(certificate, verification.pin)) return;
    const actual = colonHex(certificateDigest(certificate, verification.pin.algorithm));
    throw certificateError(`fingerprint mismatch: expected ${colonHex(verification.pin.bytes)} (tls_fingerprint), got ${actual}`, context);
  }
  if (!resumed) return; // Node refused anything untrusted, out of date or misnamed before 'secureConnect'.
  const now = Date.now();
  if (now > new Date(certificate.validTo).getTime()) throw tlsFailure(Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' }), context);
  if (now < new Date(certificate.validFrom).getTime()) throw tlsFailure(Object.assign(new Error('certificate is not yet valid'), { code: 'CERT_NOT_YET_VALID' }), context);
  const mismatch = checkServerIdentity(setup.verifyName, certificate.toLegacyObject());
  if (mismatch) throw tlsFailure(mismatch, context);
}

/**
 * The server's certificate, through the legacy object: in Node 20 a call to
 * getPeerX509Certificate() empties what later calls (Node's own checks among
 * them) see of the chain, so it is never used here.
 */
function peerCertificate(socket: TLSSocket): X509Certificate | undefined {
  try {
    const raw = socket.getPeerCertificate().raw as Buffer | undefined;
    return raw ? new X509Certificate(raw) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Sessions arrive whenever the server sends a ticket: during a TLS 1.2
 * handshake, after a TLS 1.3 one (possibly after the first reads). None is
 * kept before the server is verified; after that each is saved at once.
 */
class SessionSaver {
  private pending: Buffer | undefined;
  private certificate: Buffer | undefined;

  constructor(private readonly cache: SessionCache | undefined) {}

  offer(session: Buffer): void {
    if (!this.cache) return;
    if (this.certificate) this.cache.save({ session, certificate: this.certificate });
    else this.pending = session;
  }

  verified(certificate: Buffer): void {
    this.certificate = certificate;
    if (this.pending) this.offer(this.pending);
    this.pending = undefined;
  }
}
