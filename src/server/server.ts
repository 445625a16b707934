/**
 * The product server's listener (`outbox serve`): TCP with STARTTLS, or TLS
 * from the first byte (RFC 8314), at most `maxSessions` sessions at once,
 * idle and data timeouts, log events; and `serveStreams`, one session on
 * stdin and stdout for `--inetd` (no STARTTLS there: a pipe is not a socket
 * TLS can take over, and inetd's own TLS wrappers, stunnel say, do it better).
 * The tests' capture server (test/helpers/capture-server.ts) runs on the same `listenForSessions`.
 */
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import type { Backend, ConnectionInfo } from './backend.js';
import { serveConnection, type ConnectionOptions } from './connection.js';
import { formatReply } from '../smtp/reply-format.js';
import type { RunningServer, ServerConfig, ServerLogEvent, ServerTls } from './server-config.js';
import { Session, type SessionOptions } from './session.js';

/** What `listenForSessions` needs; the product server and the capture server each make one. */
export interface Listener {
  readonly backend: Backend;
  readonly session: SessionOptions;
  readonly connection: ConnectionOptions;
  readonly maxSessions: number;
  /** Implicit TLS: each accepted socket is wrapped in TLS before the greeting. */
  readonly implicitTls?: ServerTls | undefined;
  readonly onLog?: ((event: ServerLogEvent) => void) | undefined;
  readonly onTranscript?: ((direction: 'C' | 'S', line: string) => void) | undefined;
}

export async function startServer(config: ServerConfig, listen: { host: string; port: number }): Promise<RunningServer> {
  const tls = config.tls;
  const connection: ConnectionOptions = {
    idleTimeoutMs: config.idleTimeoutMs,
    dataTimeoutMs: config.dataTimeoutMs,
    upgrade: tls && !tls.implicit ? (socket) => upgradeToTls(socket, tls) : undefined,
  };
  const server = await listenForSessions(
    {
      backend: config.backend,
      session: sessionOptions(config, tls ? (tls.implicit ? 'implicit' : 'starttls') : undefined),
      connection,
      maxSessions: config.maxSessions,
      implicitTls: tls?.implicit ? tls : undefined,
      onLog: config.onLog,
    },
    listen.host,
    listen.port,
  );
  config.onLog?.({ type: 'listening', address: server.host, port: server.port });
  return server;
}

/** One session on a pair of streams (--inetd: stdin and stdout); resolves when it is over. Never rejects. */
export async function serveStreams(
  config: ServerConfig,
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
  info: Partial<ConnectionInfo> = {},
): Promise<void> {
  const wire = Duplex.from({ readable: input, writable: output } as unknown as { readable: Duplex; writable: Duplex });
  const connection: ConnectionInfo = {
    protocol: config.protocol,
    remoteAddress: '',
    remotePort: 0,
    localAddress: '',
    localPort: 0,
    ...info,
  };
  const session = new Session(sessionOptions(config, undefined), config.backend, connection);
  config.onLog?.({ type: 'session', remoteAddress: connection.remoteAddress, phase: 'start' });
  await serveConnection(wire, session, {
    idleTimeoutMs: config.idleTimeoutMs,
    dataTimeoutMs: config.dataTimeoutMs,
    lingerMs: 0,
    onError: (error) => config.onLog?.({ type: 'error', remoteAddress: connection.remoteAddress, message: describe(error) }),
  });
  config.onLog?.({ type: 'session', remoteAddress: connection.remoteAddress, phase: 'end' });
}

function sessionOptions(config: ServerConfig, tls: SessionOptions['tls']): SessionOptions {
  return {
    protocol: config.protocol,
    hostname: config.hostname,
    sizeLimit: config.sizeLimit,
    maxRecipients: config.maxRecipients,
    maxLineLength: config.maxLineLength,
    full: true,
    tls,
    auth: config.auth,
    loopback: config.loopback,
    received: true,
    hookTimeoutMs: config.hookTimeoutMs,
    commitTimeoutMs: config.commitTimeoutMs,
    onLog: config.onLog,
  };
}

/** The server's side of STARTTLS: a TLS socket over the plain one, with our certificate. */
function upgradeToTls(socket: Socket, tls: ServerTls): TLSSocket {
  return new TLSSocket(socket, { isServer: true, secureContext: tls.context });
}

/**
 * TLS from the first byte (RFC 8314): the same wrapping as STARTTLS, before
 * the greeting; the session starts once the handshake is done, and a
 * handshake that fails or outlasts the idle limit ends the connection.
 */
function acceptAfterHandshake(socket: Socket, tls: ServerTls, listener: Listener, accept: (secure: Socket) => void): void {
  socket.on('error', () => socket.destroy());
  const secure = upgradeToTls(socket, tls);
  const handshake = setTimeout(() => secure.destroy(), listener.connection.idleTimeoutMs);
  const failed = (error: Error): void => {
    listener.onLog?.({ type: 'error', remoteAddress: plainAddress(socket.remoteAddress), message: `TLS handshake failed: ${error.message}` });
    secure.destroy();
  };
  secure.once('error', failed);
  secure.once('close', () => clearTimeout(handshake));
  secure.once('secure', () => {
    clearTimeout(handshake);
    secure.off('error', failed);
    accept(secure);
  });
}

/** Listens, runs a Session per connection, greets the one too many with 421. */
export async function listenForSessions(listener: Listener, host: string, port: number): Promise<RunningServer> {
  const sockets = new Set<Socket>();
  const sessions = new Set<Promise<void>>();
  const onLog = listener.onLog;

  const accept = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    if (sessions.size >= listener.maxSessions) {
      onLog?.({ type: 'error', remoteAddress: plainAddress(socket.remoteAddress), message: `too many sessions (${listener.maxSessions}): connection refused with 421` });
      return refuseConnection(socket, listener.onTranscript);
    }
    const info = connectionInfo(socket, listener.session.protocol);
    const session = new Session(listener.session, listener.backend, info);
    onLog?.({ type: 'session', remoteAddress: info.remoteAddress, phase: 'start' });
    // Faults and failed handshakes are logged with the client's address.
    const logError = (message: string): void => onLog?.({ type: 'error', remoteAddress: info.remoteAddress, message });
    const options: ConnectionOptions = {
      ...listener.connection,
      onError: (error) => {
        listener.connection.onError?.(error);
        logError(describe(error));
      },
      onTlsError: (error) => {
        listener.connection.onTlsError?.(error);
        logError(`TLS handshake failed: ${error.message}`);
      },
    };
    const running = serveConnection(socket, session, options).then(() => {
      onLog?.({ type: 'session', remoteAddress: info.remoteAddress, phase: 'end' });
    });
    sessions.add(running);
    void running.then(() => sessions.delete(running));
  };

  const implicit = listener.implicitTls;
  // Half-open allowed: a client that sends QUIT and closes its side at once still gets its 221 (connection.ts ends ours).
  const server = createTcpServer({ allowHalfOpen: true }, (socket) => {
    if (!implicit) return accept(socket);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    acceptAfterHandshake(socket, implicit, listener, accept);
  });
  await listen(server, host, port);
  const address = server.address() as AddressInfo;
  const close = async (graceMs: number): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    if (graceMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.race([Promise.all(sessions), grace]);
      clearTimeout(timer);
    }
    for (const socket of sockets) socket.destroy();
    await closed;
    await Promise.all(sessions);
  };
  return {
    host: address.address,
    port: address.port,
    close: () => close(0),
    drain: (graceMs) => close(graceMs),
  };
}

function connectionInfo(socket: Socket, protocol: SessionOptions['protocol']): ConnectionInfo {
  return {
    protocol,
    remoteAddress: plainAddress(socket.remoteAddress),
    remotePort: socket.remotePort ?? 0,
    localAddress: plainAddress(socket.localAddress),
    localPort: socket.localPort ?? 0,
  };
}

/** "::ffff:192.0.2.1" (an IPv4 client on a dual-stack socket) is 192.0.2.1. */
function plainAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** RFC 5321 §3.1: a server that cannot take the session now greets with 421 and closes. */
function refuseConnection(socket: Socket, onTranscript: Listener['onTranscript']): void {
  const text = '4.3.2 Too many connections, try again later';
  onTranscript?.('S', `421 ${text}`);
  socket.on('error', () => socket.destroy());
  socket.end(formatReply(421, text));
  socket.resume();
  setTimeout(() => socket.destroy(), 2000).unref();
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
