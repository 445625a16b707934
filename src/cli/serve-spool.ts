/**
 * The server's message stream turned into the client's spool, for the
 * backends that send or queue a mail as `outbox -f SENDER` would (relay,
 * queue): the client code needs the whole mail's size and 8-bit-ness before
 * it says MAIL, so the data is spooled (message/spool.ts: memory up to 1 MiB,
 * then a private file) while it arrives, and the handler gets the spool and
 * the envelope at commit. The spool is disposed whatever the handler does.
 *
 * The session pushes chunks (MessageSink.write); the spool pulls them (an
 * async iterable). Each write resolves only once the spool has taken its
 * chunk, so a slow disk pushes back on the client and memory holds one chunk.
 */
import type { Backend, BackendSession, ConnectionInfo, Delivery, Envelope, MessageSink } from '../server/backend.js';
import type { ReplySpec } from '../smtp/reply-format.js';
import { spoolMessage, type Spool, type SpoolOptions } from '../message/spool.js';

export type SpoolHandler = (spool: Spool, envelope: Envelope, connection: ConnectionInfo) => Promise<Delivery>;

/** A backend whose sinks spool and then hand the spool to `handler`. */
export function spoolingBackend(handler: SpoolHandler, checks: Pick<BackendSession, 'mail' | 'rcpt'> = {}, spoolOptions: SpoolOptions = {}): Backend {
  return {
    newSession(connection: ConnectionInfo): BackendSession {
      return { ...checks, open: async () => new SpoolingSink(handler, connection, spoolOptions) };
    },
  };
}

interface Pending {
  readonly bytes: Buffer;
  readonly taken: () => void;
  readonly failed: (error: unknown) => void;
}

/** Chunks pushed by the session, pulled by the spool. */
class Channel implements AsyncIterable<Buffer> {
  private readonly pending: Pending[] = [];
  private ended = false;
  private failure: unknown;
  private wake: (() => void) | undefined;

  push(bytes: Buffer): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    // A copy: the session may reuse its buffer once write() resolves, and the spool may keep the chunk a while.
    return new Promise((taken, failed) => {
      this.pending.push({ bytes: Buffer.from(bytes), taken, failed });
      this.wake?.();
    });
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  fail(error: unknown): void {
    if (this.failure === undefined) this.failure = error;
    for (const { failed } of this.pending.splice(0)) failed(error);
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      const next = this.pending.shift();
      if (next) {
        yield next.bytes;
        next.taken(); // the spool asked for more: this chunk is written
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

class SpoolingSink implements MessageSink {
  private readonly channel = new Channel();
  private readonly spooled: Promise<Spool>;
  private done = false;

  constructor(
    private readonly handler: SpoolHandler,
    private readonly connection: ConnectionInfo,
    spoolOptions: SpoolOptions,
  ) {
    this.spooled = spoolMessage(this.channel, spoolOptions);
    // A spool that fails (disk full) fails the writes still waiting, so the session stops sending.
    this.spooled.catch((error: unknown) => this.channel.fail(error));
  }

  write(bytes: Buffer): Promise<void> {
    return this.channel.push(bytes);
  }

  async commit(envelope: Envelope): Promise<Delivery> {
    this.done = true;
    this.channel.end();
    const spool = await this.spooled;
    try {
      return await this.handler(spool, envelope, this.connection);
    } finally {
      await spool.dispose();
    }
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.channel.fail(new Error('message aborted'));
    const spool = await this.spooled.catch(() => undefined);
    await spool?.dispose();
  }
}

/** One line of reply text from anything (an error message may hold several lines). */
export function oneLine(text: string, max = 300): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f]+/g, ' ').trim().slice(0, max);
}

export type { ReplySpec };
