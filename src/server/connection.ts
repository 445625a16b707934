/**
 * Runs one session over one socket. The session does the talking; this file
 * owns what only a socket has: reading one chunk at a time (the socket stays
 * paused while a chunk is handled, so a slow disk pushes back on the client),
 * one write per chunk's replies, the idle timeout, and a clean goodbye.
 */
import type { Socket } from 'node:net';
import { formatReply } from './reply.js';
import type { Session } from './session.js';

export interface ConnectionOptions {
  /** Close a connection whose client says nothing for this long (RFC 5321 §4.5.3.2 suggests 5 minutes). */
  readonly idleTimeoutMs: number;
  /** After our last reply, how long the client gets to close before we drop it. */
  readonly lingerMs?: number;
  /** A fault in the server itself (the client is told 421 and disconnected). */
  readonly onError?: ((error: unknown) => void) | undefined;
}

const DEFAULT_LINGER_MS = 2000;

/** Serves `socket` until it closes; never rejects. */
export function serveConnection(socket: Socket, session: Session, options: ConnectionOptions): Promise<void> {
  return new Promise((resolve) => new Connection(socket, session, options, resolve).start());
}

class Connection {
  private idleTimer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private work: Promise<void> = Promise.resolve();
  /** We have said goodbye; input from now on is read and dropped. */
  private finished = false;

  constructor(
    private readonly socket: Socket,
    private readonly session: Session,
    private readonly options: ConnectionOptions,
    private readonly done: () => void,
  ) {}

  start(): void {
    const socket = this.socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // A reset or broken pipe ends the conversation; there is nobody left to answer.
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.onClose());
    this.work = this.send(this.session.greeting()).then(() => this.armIdleTimer());
  }

  private onData(chunk: Buffer): void {
    if (this.finished) return;
    this.socket.pause();
    this.clearIdleTimer();
    this.work = this.work.then(() => this.process(chunk));
  }

  private async process(chunk: Buffer): Promise<void> {
    try {
      const output = await this.session.receive(chunk);
      if (this.socket.destroyed) return;
      await this.send(output);
      if (this.session.closed) return this.finish();
      this.armIdleTimer();
      this.socket.resume();
    } catch (error) {
      this.options.onError?.(error);
      await this.send(formatReply(421, '4.3.0 Error: internal server error, closing connection'));
      this.finish();
    }
  }

  /** One write per batch of replies; waits while the client is not reading. */
  private async send(text: string): Promise<void> {
    const socket = this.socket;
    if (text === '' || socket.destroyed || !socket.writable) return;
    if (socket.write(text)) return;
    await new Promise<void>((resolve) => {
      const settle = (): void => {
        socket.off('drain', settle);
        socket.off('close', settle);
        resolve();
      };
      socket.on('drain', settle);
      socket.on('close', settle);
    });
  }

  private armIdleTimer(): void {
    if (this.finished || this.socket.destroyed) return;
    this.clearIdleTimer();
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      this.work = this.work.then(async () => {
        await this.send(this.session.timeout());
        this.finish();
      });
    }, this.options.idleTimeoutMs);
  }

  private clearIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  /**
   * Half-closes and keeps reading (and dropping) until the client closes too:
   * closing with unread input would make the kernel send a reset, which can
   * destroy our last reply before the client has read it.
   */
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.clearIdleTimer();
    this.socket.end();
    this.socket.resume();
    this.lingerTimer = setTimeout(() => this.socket.destroy(), this.options.lingerMs ?? DEFAULT_LINGER_MS);
  }

  private onClose(): void {
    this.finished = true;
    this.clearIdleTimer();
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.work = this.work
      .then(() => this.session.end())
      .catch((error: unknown) => this.options.onError?.(error))
      .finally(() => this.done());
  }
}
