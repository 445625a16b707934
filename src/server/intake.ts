/**
 * A transaction's message, from DATA's 354 or the first BDAT (RFC 3030) to
 * the reply that ends it: the backend's sink (with the Received field first),
 * the size limit, the bare CR/LF rule for DATA, BDAT's counted chunks passed
 * on unchanged, SMTP's one reply or LMTP's one per recipient (RFC 2033 §4.2),
 * and the backend's reset after each transaction. The session owns the
 * command loop and the envelope; this owns the bytes.
 */
import type { ConnectionInfo, Delivery, Envelope, MessageSink } from './backend.js';
import type { CommandReader } from './command-reader.js';
import { LOCAL_ERROR, lmtpReply, smtpReply } from './delivery-reply.js';
import { TOO_BIG } from './extensions.js';
import { HookFailure, type GuardedBackend } from './guarded-backend.js';
import { protocolWord, receivedField, receivedId } from './received.js';
import { formatSpec, type ReplySpec } from '../smtp/reply-format.js';
import type { SessionOptions, Transaction } from './session-options.js';

/** What the intake needs of its session. */
export interface IntakeHost {
  readonly options: SessionOptions;
  readonly backend: GuardedBackend;
  readonly reader: CommandReader;
  readonly connection: ConnectionInfo;
  /** The session's state as the Received field and the envelope report it. */
  facts(): { helo: string; extended: boolean; secure: boolean; user: string | undefined };
  reply(code: number, text: string): void;
  replySpec(spec: ReplySpec): void;
}

/** The message being received, after 354 or from the first BDAT on. */
interface Incoming {
  sink: MessageSink | undefined;
  size: number;
  /** Set when the message is already refused; the rest of the data is counted and dropped. */
  refusal: ReplySpec | undefined;
}

/** The BDAT chunk being read. `discard`: the command was refused, its octets are read and dropped. */
interface Chunk {
  readonly size: number;
  readonly last: boolean;
  readonly discard: boolean;
}

const BARE_LINE_ENDING: ReplySpec = {
  code: 554,
  text: '5.6.0 Error: bare CR or LF in message data (RFC 5321 section 2.3.8)',
};

export class Intake {
  transaction: Transaction | undefined;
  private incoming: Incoming | undefined;
  private chunk: Chunk | undefined;

  constructor(private readonly host: IntakeHost) {}

  /** BDAT has begun this transaction's message (so DATA, and more RCPTs, are out of place). */
  get chunking(): boolean {
    return this.incoming !== undefined;
  }

  /** DATA's checks after the session's own (syntax, hello, MAIL); then 354. */
  async data(): Promise<void> {
    const host = this.host;
    const transaction = this.transaction!;
    // RFC 3030 §3: one transaction uses DATA or BDAT, never both.
    if (this.incoming) return host.reply(503, '5.5.1 Error: DATA after BDAT');
    if (transaction.recipients.length === 0) return host.reply(554, '5.5.1 Error: no valid recipients');
    const sink = await this.openSink(transaction);
    if (!('write' in sink)) return host.replySpec(sink);
    this.incoming = { sink, size: 0, refusal: undefined };
    host.reader.startData();
    host.reply(354, 'End data with <CR><LF>.<CR><LF>');
  }

  /** BDAT size [LAST] (RFC 3030 §2): the chunk follows the command at once, so even a refused one is read. */
  async bdat(size: number, last: boolean, refusal: { code: number; text: string } | undefined): Promise<void> {
    const host = this.host;
    const refuse = (code: number, text: string): void => {
      host.reply(code, text);
      this.skipChunk(size);
    };
    if (refusal) return refuse(refusal.code, refusal.text);
    const transaction = this.transaction;
    if (!transaction) return refuse(503, '5.5.1 Error: need MAIL command');
    if (transaction.recipients.length === 0) return refuse(554, '5.5.1 Error: no valid recipients');
    if (!this.incoming) {
      const sink = await this.openSink(transaction);
      if (!('write' in sink)) {
        // A transaction that lost a chunk cannot go on: the next chunk would be taken for the first.
        host.replySpec(sink);
        this.skipChunk(size);
        return this.reset();
      }
      this.incoming = { sink, size: 0, refusal: undefined };
    }
    this.chunk = { size, last, discard: false };
    host.reader.startChunk(size);
  }

  private skipChunk(size: number): void {
    this.chunk = { size, last: false, discard: true };
    this.host.reader.startChunk(size);
  }

  async chunkEnd(): Promise<void> {
    const chunk = this.chunk!;
    this.chunk = undefined;
    if (chunk.discard) return;
    this.host.options.onTranscript?.('C', `[${chunk.size} octets of chunk data]`);
    if (chunk.last || this.incoming!.refusal) return this.finish(chunk.last);
    this.host.reply(250, `2.0.0 ${chunk.size} octets received`);
  }

  /** The backend's sink, with the Received field already in it; or the reply (451) when that fails. */
  private async openSink(transaction: Transaction): Promise<MessageSink | ReplySpec> {
    let sink: MessageSink | undefined;
    try {
      sink = await this.host.backend.open();
      if (this.host.options.received) await sink.write(Buffer.from(this.receivedField(transaction), 'utf8'));
      return sink;
    } catch (error) {
      await sink?.abort();
      return error instanceof HookFailure ? error.reply : LOCAL_ERROR;
    }
  }

  private receivedField(transaction: Transaction): string {
    const { options, connection } = this.host;
    const facts = this.host.facts();
    const protocol = protocolWord({
      lmtp: options.protocol === 'lmtp',
      extended: facts.extended,
      smtputf8: transaction.smtputf8,
      tls: facts.secure,
      authenticated: facts.user !== undefined,
    });
    return receivedField({
      helo: facts.helo,
      remoteHost: connection.remoteHost,
      remoteAddress: connection.remoteAddress,
      hostname: options.hostname,
      protocol,
      id: receivedId(),
      recipients: transaction.recipients,
      date: options.now?.() ?? new Date(),
    });
  }

  async bytes(bytes: Buffer): Promise<void> {
    if (this.chunk?.discard) return;
    const incoming = this.incoming!;
    incoming.size += bytes.length;
    if (!incoming.sink) return;
    // Past the limit the message is refused; stop writing so a runaway client cannot fill the disk.
    const limit = this.host.options.sizeLimit;
    if (limit > 0 && incoming.size > limit) return this.refuseIncoming(TOO_BIG);
    try {
      await incoming.sink.write(bytes);
    } catch (error) {
      await this.refuseIncoming(error instanceof HookFailure ? error.reply : LOCAL_ERROR);
    }
  }

  private async refuseIncoming(refusal: ReplySpec): Promise<void> {
    const incoming = this.incoming!;
    incoming.refusal = refusal;
    const sink = incoming.sink;
    incoming.sink = undefined;
    await sink?.abort();
  }

  async dataEnd(bareLineEnding: boolean): Promise<void> {
    const incoming = this.incoming!;
    this.host.options.onTranscript?.('C', `[${incoming.size} octets of message data]`);
    if (!incoming.refusal && bareLineEnding) await this.refuseIncoming(BARE_LINE_ENDING);
    await this.finish(true);
  }

  /**
   * Ends the transaction: delivers the message, or replies with its refusal
   * (`final`: after the whole message, so LMTP answers once per recipient;
   * otherwise after a refused BDAT chunk, one reply). Then the backend's reset.
   */
  private async finish(final: boolean): Promise<void> {
    const incoming = this.incoming!;
    const transaction = this.transaction!;
    this.incoming = undefined;
    this.transaction = undefined;
    const replies: ReplySpec[] = [];
    const { sink, refusal } = incoming;
    try {
      if (refusal || !sink) {
        const count = final && this.host.options.protocol === 'lmtp' ? transaction.recipients.length : 1;
        for (let i = 0; i < count; i++) replies.push(refusal ?? LOCAL_ERROR);
      } else if (this.host.options.protocol === 'lmtp') {
        replies.push(...(await this.deliverLmtp(transaction, sink)));
      } else {
        const delivery = await sink.commit(this.envelope(transaction, transaction.recipients.map((_, i) => i)));
        replies.push(smtpReply(delivery));
      }
    } finally {
      await this.host.backend.reset();
    }
    for (const reply of replies) this.host.replySpec(reply);
    const first = replies[0]!;
    this.host.options.onLog?.({
      type: 'message',
      remoteAddress: this.host.connection.remoteAddress,
      mailFrom: transaction.mailFrom,
      recipients: [...transaction.recipients],
      size: incoming.size,
      reply: formatSpec(first).split('\r\n')[0]!,
    });
  }

  /** RFC 2033 §4.2: after the data, one reply for each recipient that RCPT accepted. */
  private async deliverLmtp(transaction: Transaction, sink: MessageSink): Promise<ReplySpec[]> {
    const outcomes = transaction.recipients.map((address) => this.host.options.lmtpDeliveryReply?.(address));
    const delivered = outcomes.flatMap((outcome, i) => (outcome && outcome.code >= 400 ? [] : [i]));
    let delivery: Delivery | undefined;
    if (delivered.length > 0) {
      delivery = await sink.commit(this.envelope(transaction, delivered));
    } else {
      await sink.abort();
    }
    let next = 0; // the index in the backend's envelope (only the recipients it was given)
    return transaction.recipients.map((address, i) => {
      const outcome = outcomes[i];
      if (outcome && outcome.code >= 400) return outcome;
      const reply = delivery ? lmtpReply(delivery, next++, address) : LOCAL_ERROR;
      return outcome && reply.code < 400 ? outcome : reply;
    });
  }

  private envelope(transaction: Transaction, indices: readonly number[]): Envelope {
    const facts = this.host.facts();
    return {
      protocol: this.host.options.protocol,
      helo: facts.helo,
      mailFrom: transaction.mailFrom,
      mailParams: transaction.mailParams,
      recipients: indices.map((i) => transaction.recipients[i]!),
      rcptParams: indices.map((i) => transaction.rcptParams[i]!),
      ...(facts.secure ? { tls: true } : {}),
      ...(facts.user !== undefined ? { authenticatedUser: facts.user } : {}),
    };
  }

  /** Forgets the transaction and a half-sent BDAT message; the backend is told. */
  async reset(): Promise<void> {
    await this.drop();
    await this.host.backend.reset();
  }

  /** The connection is gone: forget a half-received message without a reset. */
  async drop(): Promise<void> {
    const sink = this.incoming?.sink;
    this.incoming = undefined;
    this.transaction = undefined;
    await sink?.abort();
  }
}
