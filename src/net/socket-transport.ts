/**
 * `Transport` over a connected `net.Socket` or `tls.TLSSocket`.
 * Reads are buffered as they arrive so the server is never blocked writing
 * replies while we write a long pipelined group (RFC 2920 §3.1 deadlock), but
 * reading pauses past a bound so a flooding server cannot fill our memory.
 * `detachSocket()` hands the socket over to TLS, and refuses while bytes
 * received in plaintext are still unread.
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { OutboxError } from '../errors.js';
import type { Transport } from '../transport.js';
import { handshakeError } from './tls-errors.js';

const HIGH_WATER = 256 * 1024;
/** How long QUIT may take to leave once the outcome is known. */
const CLOSE_GRACE_MS = 5000;

/**
 * The server behind a proxy (SOCKS5): the socket's peer is the proxy, so the
 * server's address is unknown to us and its port is the one asked for.
 */
export interface ProxiedServer {
  readonly port: number;
}

interface Waiter {
  resolve(chunk: Uint8Array | null): void;
  reject(error: unknown): void;
}

export class SocketTransport implements Transport {
  readonly peer: string;
  private readonly socket: Socket;
  private readonly received: Buffer[] = [];
  private receivedOctets = 0;
  private ended = false;
  private failure: OutboxError | undefined;
  private waiter: Waiter | undefined;
  private detached = false;
  private readonly listeners = {
    data: (chunk: Buffer) => this.onData(chunk),
    end: () => this.onEnd(),
    error: (error: NodeJS.ErrnoException) => this.onError(error),
    close: () => this.onEnd(),
  };

  private readonly proxied: ProxiedServer | undefined;

  constructor(socket: Socket, peer: string, proxied?: ProxiedServer) {
    this.socket = socket;
    this.peer = peer;
    this.proxied = proxied;
    socket.setNoDelay(true);
    socket.on('data', this.listeners.data);
    socket.on('end', this.listeners.end);
    socket.on('error', this.listeners.error);
    socket.on('close', this.listeners.close);
  }

  /** The server's address; none through a proxy, whose own address the socket knows. */
  get remoteAddress(): string | undefined {
    return this.proxied ? undefined : this.socket.remoteAddress;
  }

  /** The server's port (through a proxy, the one asked for). */
  get remotePort(): number | undefined {
    return this.proxied ? this.proxied.port : this.socket.remotePort;
  }

  /**
   * A transport over `socket`, which wraps this one's (TLS), saying the same
   * about the server: a proxied connection stays proxied after the handshake.
   */
  wrapping(socket: Socket): SocketTransport {
    return new SocketTransport(socket, this.peer, this.proxied);
  }

  /**
   * RFC 9266 `tls-exporter` on TLS 1.3; RFC 5929 `tls-unique` (the first
   * Finished message) on a full TLS 1.2 handshake. None on a resumed TLS 1.2
   * session, where tls-unique is open to the triple-handshake attack
   * (RFC 7627): the caller then picks a mechanism without channel binding.
   */
  channelBinding(): { type: 'tls-exporter' | 'tls-unique'; data: Uint8Array } | undefined {
    const socket = this.socket;
    if (!(socket instanceof TLSSocket) || !socket.encrypted) return undefined;
    const protocol = socket.getProtocol();
    if (protocol === 'TLSv1.3') {
      return { type: 'tls-exporter', data: socket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0)) };
    }
    if (protocol === 'TLSv1.2' && !socket.isSessionReused()) {
      const finished = socket.getFinished();
      return finished ? { type: 'tls-unique', data: finished } : undefined;
    }
    return undefined;
  }

  /**
   * Hands the socket over (to `tls.connect`) and leaves this transport
   * unusable. Throws E_PROTOCOL when the peer sent bytes nobody has read yet:
   * after STARTTLS they would be taken for part of the TLS session, which is
   * exactly the plaintext injection attack (CVE-2011-0411). Throws a transient
   * E_CONNECTION when the connection is already gone.
   */
  detachSocket(): Socket {
    if (this.detached) throw new Error('SocketTransport.detachSocket called twice');
    // Stop the flow first: with no 'data' listener a flowing socket would drop bytes unseen.
    this.socket.pause();
    const unread = this.receivedOctets + this.socket.readableLength;
    if (unread > 0) {
      throw new OutboxError('E_PROTOCOL', `${this.peer} sent ${unread} bytes that were not asked for before the TLS handshake; `
        + 'refusing to start TLS, since they would be read as if TLS protected them (a plaintext injection attack)');
    }
    if (this.failure) throw this.failure;
    if (this.ended || this.socket.destroyed) throw connectionError('the server closed the connection before the TLS handshake');
    this.detached = true;
    this.socket.off('data', this.listeners.data);
    this.socket.off('end', this.listeners.end);
    this.socket.off('error', this.listeners.error);
    this.socket.off('close', this.listeners.close);
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(new Error('SocketTransport: socket detached during a read'));
    return this.socket;
  }

  read(timeoutMs: number): Promise<Uint8Array | null> {
    if (this.detached) return Promise.reject(detachedError());
    const chunk = this.received.shift();
    if (chunk) {
      this.receivedOctets -= chunk.length;
      if (this.receivedOctets < HIGH_WATER) this.socket.resume();
      return Promise.resolve(chunk);
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new OutboxError('E_TIMEOUT', 'timed out', { transient: true }));
      }, timeoutMs);
      this.waiter = {
        resolve: (value) => { clearTimeout(timer); resolve(value); },
        reject: (error) => { clearTimeout(timer); reject(error); },
      };
    });
  }

  write(chunks: readonly Uint8Array[], timeoutMs: number): Promise<void> {
    if (this.detached) return Promise.reject(detachedError());
    if (this.failure) return Promise.reject(this.failure);
    if (this.socket.destroyed || this.socket.writableEnded) {
      return Promise.reject(connectionError('the connection is closed'));
    }
    // cork/uncork turns several writes into one writev: one segment on the wire.
    this.socket.cork();
    let flushed = true;
    for (const chunk of chunks) flushed = this.socket.write(chunk);
    this.socket.uncork();
    return flushed ? Promise.resolve() : this.drained(timeoutMs);
  }

  end(): void {
    // Once detached the socket belongs to the TLS transport; closing is its job.
    if (this.detached || this.socket.destroyed) return;
    // Once our last bytes are out there is nothing left to hear: do not let a
    // server that never closes, or never reads, keep the process alive.
    const socket = this.socket;
    const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    socket.end(() => socket.destroy());
  }

  destroy(): void {
    if (!this.detached) this.socket.destroy();
  }

  private drained(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (error?: unknown) => {
        clearTimeout(timer);
        this.socket.off('drain', onDrain);
        this.socket.off('close', onClose);
        if (error) reject(error);
        else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(this.failure ?? connectionError('the server closed the connection'));
      const timer = setTimeout(() => done(new OutboxError('E_TIMEOUT', 'timed out', { transient: true })), timeoutMs);
      this.socket.on('drain', onDrain);
      this.socket.on('close', onClose);
    });
  }

  private onData(chunk: Buffer): void {
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter.resolve(chunk);
      return;
    }
    this.received.push(chunk);
    this.receivedOctets += chunk.length;
    if (this.receivedOctets >= HIGH_WATER) this.socket.pause();
  }

  private onEnd(): void {
    if (this.ended) return;
    this.ended = true;
    const waiter = this.waiter;
    this.waiter = undefined;
    if (!waiter) return;
    if (this.failure) waiter.reject(this.failure);
    else waiter.resolve(null);
  }

  private onError(error: NodeJS.ErrnoException): void {
    this.failure ??= (error.code ?? '').startsWith('ERR_SSL_')
      // A TLS alert after the handshake (a TLS 1.3 server refusing our client certificate, a bad record): no retry helps.
      ? handshakeError(error, this.peer)
      : connectionError(socketErrorText(error), error);
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(this.failure);
  }
}

function connectionError(message: string, cause?: unknown): OutboxError {
  return new OutboxError('E_CONNECTION', message, { transient: true, cause });
}

function detachedError(): OutboxError {
  return new OutboxError('E_CONNECTION', 'the connection was handed over to TLS', { transient: true });
}

function socketErrorText(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNRESET': return 'the server reset the connection';
    case 'EPIPE': return 'the server closed the connection';
    default: return `network error: ${error.message}`;
  }
}
