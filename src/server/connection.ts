/**
 * Runs one session over one byte stream: a TCP socket, a TLS socket, or
 * stdin/stdout joined into a Duplex (--inetd). The session does the talking;
 * this file owns what only a stream has: reading one chunk at a time (the
 * stream stays paused while a chunk is handled, so a slow disk pushes back on
 * the client), one write per chunk's replies, the idle and data timeouts,
 * STARTTLS's change of socket, and a clean goodbye.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { formatReply } from '../smtp/reply-format.js';
import type { Session } from './session.js';

export interface ConnectionOptions {
  /** Close a connection whose client says nothing between commands for this long (RFC 5321 §4.5.3.2: 5 minutes). */
  readonly idleTimeoutMs: number;
  /** The same inside message data, between two chunks (RFC 5321 §4.5.3.2: 3 minutes per block); default the idle timeout. */
  readonly dataTimeoutMs?: number | undefined;
  /** After our last reply, how long the client gets to close before we drop it; 0: drop once the reply is flushed (pipes). */
  readonly lingerMs?: number;
  /** Makes the server's TLS socket over the plain one after STARTTLS's 220; without it STARTTLS cannot work. */
  readonly upgrade?: ((socket: Socket) => TLSSocket) | undefined;
  /** A fault in the server itself (the client is told 421 and disconnected). */
  readonly onError?: ((error: unknown) => void) | undefined;
  /** The client failed the TLS handshake after STARTTLS (its fault, not ours; the connection is dropped). */
  readonly onTlsError?: ((error: Error) => void) | undefined;
}

const DEFAULT_LINGER_MS = 2000;

/** A socket, or any Duplex (stdin and stdout joined). */
export type Wire = Duplex & { setNoDelay?: (noDelay?: boolean) => unknown };

/** Serves `wire` until it closes; never rejects. */
export function serveConnection(wire: Wire, session: Session, options: ConnectionOptions): Promise<void> {
  return new Promise((resolve) => new Connection(wire, session, options, resolve).start());
}

class Connection {
  private timer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private work: Promise<void> = Promise.resolve();
  /** We have said goodbye; input from now on is read and dropped. */
  private finished = false;
  private closed = false;
  private readonly onData = (chunk: Buffer): void => this.received(chunk);
  private readonly onClose = (): void => this.gone();

  constructor(
    private wire: Wire,
    private readonly session: Session,
    private readonly options: ConnectionOptions,
    private readonly done: () => void,
  ) {}

  start(): void {
    this.wire.setNoDelay?.(true);
    this.attach(this.wire);
    this.work = this.send(this.session.greeting()).then(() => this.armTimer());
  }

  private attach(wire: Wire): void {
    wire.on('data', this.onData);
    // A reset or broken pipe ends the conversation; there is nobody left to answer.
    wire.on('error', () => wire.destroy());
    // A client that closes its side without QUIT (a pipe at EOF) is gone: once our replies are out, so are we.
    wire.on('end', () => {
      this.work = this.work.then(() => this.finish());
    });
    wire.on('close', this.onClose);
  }

  private received(chunk: Buffer): void {
    if (this.finished) return;
    this.wire.pause();
    this.clearTimer();
    this.work = this.work.then(() => this.process(chunk));
  }

  private async process(chunk: Buffer): Promise<void> {
    if (this.finished) return;
    try {
      const output = await this.session.receive(chunk);
      if (this.wire.destroyed) return;
      await this.send(output);
      if (this.session.closed) return this.finish();
      if (this.session.takeTlsUpgrade()) return this.startTls();
      this.armTimer();
      this.wire.resume();
    } catch (error) {
      this.options.onError?.(error);
      await this.send(formatReply(421, '4.3.0 Error: internal server error, closing connection'));
      this.finish();
    }
  }

  /**
   * RFC 3207 after our 220: the plain socket stays paused and is handed to
   * TLS. What the session had buffered is dropped (session.receive); what the
   * kernel still holds is read by TLS as handshake bytes, so it can only fail
   * the handshake, never be taken for a command.
   */
  private startTls(): void {
    const upgrade = this.options.upgrade;
    const plain = this.wire as Socket;
    if (!upgrade) throw new Error('STARTTLS answered without a way to upgrade');
    plain.off('data', this.onData);
    const secure = upgrade(plain);
    this.wire = secure;
    let established = false;
    secure.once('secure', () => {
      established = true;
      this.work = this.work.then(async () => {
        await this.session.tlsStarted();
        this.armTimer();
      });
    });
    // Only a failed handshake is reported; a reset later is an ordinary goodbye.
    secure.on('error', (error: Error) => {
      if (!established) this.options.onTlsError?.(error);
    });
    this.attach(secure);
    // The handshake gets the idle timeout too; a client that never starts it is dropped without a word.
    this.timer = setTimeout(() => secure.destroy(), this.options.idleTimeoutMs);
  }

  /** One write per batch of replies; waits while the client is not reading. */
  private async send(text: string): Promise<void> {
    const wire = this.wire;
    if (text === '' || wire.destroyed || !wire.writable) return;
    if (wire.write(text)) return;
    await new Promise<void>((resolve) => {
      const settle = (): void => {
        wire.off('drain', settle);
        wire.off('close', settle);
        resolve();
      };
      wire.on('drain', settle);
      wire.on('close', settle);
    });
  }

  /** Between commands the idle timeout runs, inside message data the data timeout. */
  private armTimer(): void {
    if (this.finished || this.wire.destroyed) return;
    this.clearTimer();
    const ms = this.session.readingData ? (this.options.dataTimeoutMs ?? this.options.idleTimeoutMs) : this.options.idleTimeoutMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.work = this.work.then(async () => {
        await this.send(this.session.timeout());
        this.finish();
      });
    }, ms);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Half-closes and keeps reading (and dropping) until the client closes too:
   * closing with unread input would make the kernel send a reset, which can
   * destroy our last reply before the client has read it.
   */
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.clearTimer();
    const wire = this.wire;
    const destroy = (): void => {
      wire.destroy();
    };
    wire.end();
    wire.resume();
    const lingerMs = this.options.lingerMs ?? DEFAULT_LINGER_MS;
    // The client has closed its side already, or it is a pipe (no reset to fear): done once our last reply is out.
    if (wire.readableEnded || lingerMs === 0) {
      if (wire.writableFinished) return destroy();
      wire.once('finish', destroy);
      if (lingerMs === 0) return;
    }
    this.lingerTimer = setTimeout(destroy, lingerMs);
    this.lingerTimer.unref();
  }

  private gone(): void {
    if (this.closed) return;
    this.closed = true;
    this.finished = true;
    this.clearTimer();
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.session.hangUp();
    this.work = this.work
      .then(() => this.session.end())
      .catch((error: unknown) => this.options.onError?.(error))
      .finally(() => this.done());
  }
}
