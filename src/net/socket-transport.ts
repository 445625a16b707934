/**
 * `Transport` over a connected `net.Socket` (later also a `tls.TLSSocket`).
 * Reads are buffered as they arrive so the server is never blocked writing
 * replies while we write a long pipelined group (RFC 2920 §3.1 deadlock), but
 * reading pauses past a bound so a flooding server cannot fill our memory.
 */
import type { Socket } from 'node:net';
import { OutboxError } from '../errors.js';
import type { Transport } from '../smtp/transport.js';

const HIGH_WATER = 256 * 1024;
/** How long QUIT may take to leave once the outcome is known. */
const CLOSE_GRACE_MS = 5000;

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

  constructor(socket: Socket, peer: string) {
    this.socket = socket;
    this.peer = peer;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', (error) => this.onError(error));
    socket.on('close', () => this.onEnd());
  }

  read(timeoutMs: number): Promise<Uint8Array | null> {
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
    if (this.socket.destroyed) return;
    // Once our last bytes are out there is nothing left to hear: do not let a
    // server that never closes, or never reads, keep the process alive.
    const socket = this.socket;
    const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    socket.end(() => socket.destroy());
  }

  destroy(): void {
    this.socket.destroy();
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
    this.failure ??= connectionError(socketErrorText(error), error);
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(this.failure);
  }
}

function connectionError(message: string, cause?: unknown): OutboxError {
  return new OutboxError('E_CONNECTION', message, { transient: true, cause });
}

function socketErrorText(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNRESET': return 'the server reset the connection';
    case 'EPIPE': return 'the server closed the connection';
    default: return `network error: ${error.message}`;
  }
}
