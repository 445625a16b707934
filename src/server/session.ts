/**
 * One server-side SMTP or LMTP conversation (RFC 5321 §4.1, RFC 2033), without
 * sockets: bytes go in through `receive()`, reply text comes out. The caller
 * writes what one `receive()` returns in one write, which is how replies to a
 * pipelined group (RFC 2920) leave together and in order.
 *
 * The session is deliberately strict, because the client's tests trust it:
 * it wants HELO/EHLO (LHLO) before mail, checks paths and parameters against
 * the grammar, accepts only the parameters it advertises, and refuses bare
 * CR or LF in message data instead of guessing what the client meant.
 */
import type { Backend, BackendSession, ConnectionInfo, Delivery, Envelope, MessageSink, ServerProtocol } from './backend.js';
import { CommandReader, DEFAULT_MAX_LINE_LENGTH, type ReaderEvent } from './command-reader.js';
import { type EsmtpParams, isDomainOrLiteral, parseParams, parsePath } from './envelope-syntax.js';
import { advertisedExtensions, checkMailParams, checkRcptParams, TOO_BIG } from './extensions.js';
import { formatReply, formatSpec, replyLines, type ReplySpec } from './reply.js';

export interface SessionOptions {
  readonly protocol: ServerProtocol;
  /** Our name in the greeting and in EHLO's reply. */
  readonly hostname: string;
  /** Largest message in octets; 0 means no limit (advertised as bare "SIZE"). */
  readonly sizeLimit: number;
  readonly maxRecipients: number;
  readonly maxLineLength: number;
  /** Test hook: a reply of 400 or more refuses the recipient at RCPT. */
  readonly refuseRecipient?: ((address: string) => ReplySpec | undefined) | undefined;
  /** Test hook (LMTP): a reply of 400 or more fails the recipient after the data. */
  readonly lmtpDeliveryReply?: ((address: string) => ReplySpec | undefined) | undefined;
  readonly onTranscript?: ((direction: 'C' | 'S', line: string) => void) | undefined;
}

export const SESSION_DEFAULTS = {
  protocol: 'smtp',
  sizeLimit: 0,
  maxRecipients: 1000,
  maxLineLength: DEFAULT_MAX_LINE_LENGTH,
} as const;

interface Transaction {
  readonly mailFrom: string;
  readonly mailParams: EsmtpParams;
  readonly smtputf8: boolean;
  readonly recipients: string[];
  readonly rcptParams: EsmtpParams[];
}

/** The message being received after 354. */
interface Incoming {
  sink: MessageSink | undefined;
  size: number;
  /** Set when the message is already refused; the rest of the data is counted and dropped. */
  refusal: ReplySpec | undefined;
}

type Handler = (args: string | undefined) => void | Promise<void>;

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const LENIENT_UTF8 = new TextDecoder('utf-8');
const NOT_IMPLEMENTED = ['EXPN', 'STARTTLS', 'AUTH', 'BDAT', 'ETRN', 'TURN', 'ATRN', 'BURL', 'SEND', 'SOML', 'SAML'];
const LOCAL_ERROR: ReplySpec = { code: 451, text: '4.3.0 Error: local error in processing' };
const BARE_LINE_ENDING: ReplySpec = {
  code: 554,
  text: '5.6.0 Error: bare CR or LF in message data (RFC 5321 section 2.3.8)',
};

export class Session {
  private readonly options: SessionOptions;
  private readonly backend: BackendSession;
  private readonly reader: CommandReader;
  private readonly handlers: ReadonlyMap<string, Handler>;
  /** The domain from HELO, EHLO or LHLO; undefined until the client greets. */
  private helo: string | undefined;
  /** EHLO or LHLO rather than HELO: ESMTP parameters are allowed. */
  private extended = false;
  private transaction: Transaction | undefined;
  private incoming: Incoming | undefined;
  private output = '';
  private closing = false;

  constructor(options: SessionOptions, backend: Backend, connection?: ConnectionInfo) {
    this.options = options;
    this.backend = backend.newSession(connection ?? { protocol: options.protocol, remoteAddress: '', remotePort: 0, localAddress: '', localPort: 0 });
    this.reader = new CommandReader(options.maxLineLength);
    this.handlers = new Map<string, Handler>([
      ['EHLO', (args) => this.hello('EHLO', args)],
      ['HELO', (args) => this.hello('HELO', args)],
      ['LHLO', (args) => this.hello('LHLO', args)],
      ['MAIL', (args) => this.mail(args)],
      ['RCPT', (args) => this.rcpt(args)],
      ['DATA', (args) => this.data(args)],
      ['RSET', (args) => this.rset(args)],
      ['NOOP', () => this.reply(250, '2.0.0 Ok')],
      ['QUIT', (args) => this.quit(args)],
      ['VRFY', (args) => this.vrfy(args)],
      ['HELP', () => this.help()],
    ]);
  }

  /** True once the session has said goodbye: write the output, then close. */
  get closed(): boolean {
    return this.closing;
  }

  greeting(): string {
    const kind = this.options.protocol === 'lmtp' ? 'LMTP' : 'ESMTP';
    return this.take(() => this.reply(220, `${this.options.hostname} ${kind} outbox`));
  }

  /** The goodbye for a client that went quiet for too long. */
  timeout(): string {
    this.closing = true;
    return this.take(() => this.reply(421, `4.4.2 ${this.options.hostname} Error: timeout exceeded`));
  }

  /** Handles every event in `chunk` (and bytes left from earlier ones); returns the replies. */
  async receive(chunk: Buffer): Promise<string> {
    this.reader.push(chunk);
    for (let event = this.reader.next(); event && !this.closing; event = this.reader.next()) {
      await this.handle(event);
    }
    return this.take(() => undefined);
  }

  /** The connection is gone: forget a half-received message. */
  async end(): Promise<void> {
    this.closing = true;
    const sink = this.incoming?.sink;
    this.incoming = undefined;
    await sink?.abort();
    await this.backend.logout?.();
  }

  private async handle(event: ReaderEvent): Promise<void> {
    switch (event.type) {
      case 'line':
        return this.command(event.line);
      case 'line-too-long':
        this.options.onTranscript?.('C', '[line too long, discarded]');
        return this.reply(500, '5.5.2 Line too long');
      case 'data':
        return this.messageBytes(event.bytes);
      case 'data-end':
        return this.messageEnd(event.bareLineEnding);
    }
  }

  private async command(line: Buffer): Promise<void> {
    let text: string;
    try {
      text = UTF8.decode(line);
    } catch {
      this.options.onTranscript?.('C', LENIENT_UTF8.decode(line));
      return this.reply(500, '5.5.2 Error: invalid UTF-8 in command');
    }
    this.options.onTranscript?.('C', text);
    // CR, NUL and friends have no place in a command (RFC 5321 §4.1.1).
    if (/[\x00-\x1f\x7f]/.test(text)) return this.reply(500, '5.5.2 Error: control character in command');
    const space = text.indexOf(' ');
    const verb = (space === -1 ? text : text.slice(0, space)).toUpperCase();
    const args = space === -1 ? undefined : text.slice(space + 1);
    const handler = this.handlers.get(verb);
    if (handler) return handler(args);
    if (NOT_IMPLEMENTED.includes(verb)) return this.reply(502, '5.5.1 Error: command not implemented');
    return this.reply(500, '5.5.2 Error: command not recognized');
  }

  private hello(verb: 'EHLO' | 'HELO' | 'LHLO', args: string | undefined): void {
    const lmtp = this.options.protocol === 'lmtp';
    if (lmtp && verb !== 'LHLO') return this.reply(500, '5.5.1 Error: this is an LMTP server, use LHLO');
    if (!lmtp && verb === 'LHLO') return this.reply(500, '5.5.2 Error: command not recognized');
    if (args === undefined || !isDomainOrLiteral(args)) return this.reply(501, `5.5.4 Syntax: ${verb} hostname`);
    // A new greeting resets the transaction (RFC 5321 §4.1.4).
    this.transaction = undefined;
    this.helo = args;
    this.extended = verb !== 'HELO';
    if (!this.extended) return this.reply(250, this.options.hostname);
    this.reply(250, [this.options.hostname, ...advertisedExtensions(this.options.sizeLimit)]);
  }

  private mail(args: string | undefined): void {
    if (this.helo === undefined) return this.needHello();
    if (this.transaction) return this.reply(503, '5.5.1 Error: nested MAIL command');
    if (args === undefined || args.slice(0, 5).toUpperCase() !== 'FROM:') {
      return this.reply(501, '5.5.4 Syntax: MAIL FROM:<address>');
    }
    const path = parsePath(args.slice(5), { allowNull: true });
    if (!path.ok) return this.reply(501, `5.1.7 Bad sender address: ${path.why}`);
    const params = parseParams(path.value.rest);
    if (!params.ok) return this.reply(501, `5.5.4 ${params.why}`);
    const refusal = checkMailParams(params.value, this.extended, this.options.sizeLimit);
    if (refusal) return this.replySpec(refusal);
    const smtputf8 = params.value['SMTPUTF8'] === true;
    if (path.value.nonAscii && !smtputf8) return this.needSmtputf8();
    this.transaction = {
      mailFrom: path.value.address,
      mailParams: params.value,
      smtputf8,
      recipients: [],
      rcptParams: [],
    };
    this.reply(250, '2.1.0 Ok');
  }

  private rcpt(args: string | undefined): void {
    if (this.helo === undefined) return this.needHello();
    const transaction = this.transaction;
    if (!transaction) return this.reply(503, '5.5.1 Error: need MAIL command');
    if (args === undefined || args.slice(0, 3).toUpperCase() !== 'TO:') {
      return this.reply(501, '5.5.4 Syntax: RCPT TO:<address>');
    }
    const path = parsePath(args.slice(3), { allowPostmaster: true });
    if (!path.ok) return this.reply(501, `5.1.3 Bad recipient address: ${path.why}`);
    const params = parseParams(path.value.rest);
    if (!params.ok) return this.reply(501, `5.5.4 ${params.why}`);
    const refusal = checkRcptParams(params.value);
    if (refusal) return this.replySpec(refusal);
    if (path.value.nonAscii && !transaction.smtputf8) return this.needSmtputf8();
    if (transaction.recipients.length >= this.options.maxRecipients) {
      return this.reply(452, '4.5.3 Error: too many recipients');
    }
    const hook = this.options.refuseRecipient?.(path.value.address);
    if (hook && hook.code >= 400) return this.replySpec(hook);
    transaction.recipients.push(path.value.address);
    transaction.rcptParams.push(params.value);
    if (hook) return this.replySpec(hook);
    this.reply(250, '2.1.5 Ok');
  }

  private async data(args: string | undefined): Promise<void> {
    if (args !== undefined) return this.reply(501, '5.5.4 Syntax: DATA');
    if (this.helo === undefined) return this.needHello();
    if (!this.transaction) return this.reply(503, '5.5.1 Error: need MAIL command');
    if (this.transaction.recipients.length === 0) return this.reply(554, '5.5.1 Error: no valid recipients');
    let sink: MessageSink;
    try {
      sink = await this.backend.open();
    } catch {
      return this.replySpec(LOCAL_ERROR);
    }
    this.incoming = { sink, size: 0, refusal: undefined };
    this.reader.startData();
    this.reply(354, 'End data with <CR><LF>.<CR><LF>');
  }

  private async messageBytes(bytes: Buffer): Promise<void> {
    const incoming = this.incoming!;
    incoming.size += bytes.length;
    if (!incoming.sink) return;
    // Past the limit the message is refused; stop writing so a runaway client cannot fill the disk.
    const limit = this.options.sizeLimit;
    if (limit > 0 && incoming.size > limit) return this.refuseIncoming(TOO_BIG);
    try {
      await incoming.sink.write(bytes);
    } catch {
      await this.refuseIncoming(LOCAL_ERROR);
    }
  }

  private async refuseIncoming(refusal: ReplySpec): Promise<void> {
    const incoming = this.incoming!;
    incoming.refusal = refusal;
    const sink = incoming.sink;
    incoming.sink = undefined;
    await sink?.abort();
  }

  private async messageEnd(bareLineEnding: boolean): Promise<void> {
    const incoming = this.incoming!;
    const transaction = this.transaction!;
    this.options.onTranscript?.('C', `[${incoming.size} octets of message data]`);
    if (!incoming.refusal && bareLineEnding) await this.refuseIncoming(BARE_LINE_ENDING);
    this.incoming = undefined;
    this.transaction = undefined;
    const { sink, refusal } = incoming;
    if (refusal || !sink) return this.replyPerRecipient(transaction, refusal ?? LOCAL_ERROR);
    if (this.options.protocol === 'lmtp') return this.deliverLmtp(transaction, sink);
    const delivery = await this.commit(sink, this.envelope(transaction, transaction.recipients.map((_, i) => i)));
    this.replySpec(smtpReply(delivery));
  }

  /** The backend's outcome; a failed commit is a local error, and the message is forgotten. */
  private async commit(sink: MessageSink, envelope: Envelope): Promise<Delivery> {
    try {
      return await sink.commit(envelope);
    } catch {
      await sink.abort();
      return { kind: 'refused', reply: LOCAL_ERROR };
    } finally {
      await this.backend.reset?.();
    }
  }

  /** RFC 2033 §4.2: after the data, one reply for each recipient that RCPT accepted. */
  private async deliverLmtp(transaction: Transaction, sink: MessageSink): Promise<void> {
    const outcomes = transaction.recipients.map((address) => this.options.lmtpDeliveryReply?.(address));
    const delivered = outcomes.flatMap((outcome, i) => (outcome && outcome.code >= 400 ? [] : [i]));
    let delivery: Delivery | undefined;
    if (delivered.length > 0) {
      delivery = await this.commit(sink, this.envelope(transaction, delivered));
    } else {
      await sink.abort();
    }
    let next = 0; // the index in the backend's envelope (only the recipients it was given)
    transaction.recipients.forEach((address, i) => {
      const outcome = outcomes[i];
      if (outcome && outcome.code >= 400) return this.replySpec(outcome);
      const reply = delivery ? lmtpReply(delivery, next++, address) : LOCAL_ERROR;
      this.replySpec(outcome && reply.code < 400 ? outcome : reply);
    });
  }

  private envelope(transaction: Transaction, indices: readonly number[]): Envelope {
    return {
      protocol: this.options.protocol,
      helo: this.helo ?? '',
      mailFrom: transaction.mailFrom,
      mailParams: transaction.mailParams,
      recipients: indices.map((i) => transaction.recipients[i]!),
      rcptParams: indices.map((i) => transaction.rcptParams[i]!),
    };
  }

  /** SMTP answers the data once; LMTP once per accepted recipient. */
  private replyPerRecipient(transaction: Transaction, spec: ReplySpec): void {
    const count = this.options.protocol === 'lmtp' ? transaction.recipients.length : 1;
    for (let i = 0; i < count; i++) this.replySpec(spec);
  }

  private async rset(args: string | undefined): Promise<void> {
    if (args !== undefined) return this.reply(501, '5.5.4 Syntax: RSET');
    this.transaction = undefined;
    await this.backend.reset?.();
    this.reply(250, '2.0.0 Ok');
  }

  private quit(args: string | undefined): void {
    if (args !== undefined) return this.reply(501, '5.5.4 Syntax: QUIT');
    this.reply(221, `2.0.0 ${this.options.hostname} closing connection`);
    this.closing = true;
  }

  private vrfy(args: string | undefined): void {
    if (args === undefined || args === '') return this.reply(501, '5.5.4 Syntax: VRFY <address>');
    // RFC 5321 §3.5.3: 252 neither confirms nor denies the address.
    this.reply(252, '2.5.0 Cannot VRFY user, but will accept message and attempt delivery');
  }

  private help(): void {
    const hello = this.options.protocol === 'lmtp' ? 'LHLO' : 'EHLO HELO';
    this.reply(214, `2.0.0 Commands: ${hello} MAIL RCPT DATA RSET NOOP QUIT VRFY HELP`);
  }

  private needHello(): void {
    const hello = this.options.protocol === 'lmtp' ? 'LHLO' : 'EHLO/HELO';
    this.reply(503, `5.5.1 Error: send ${hello} first`);
  }

  /** RFC 6531: a UTF-8 address belongs only in a transaction whose MAIL carried SMTPUTF8. */
  private needSmtputf8(): void {
    this.reply(553, '5.6.7 Error: non-ASCII address needs MAIL FROM parameter SMTPUTF8');
  }

  private reply(code: number, text: string | readonly string[]): void {
    this.emit(formatReply(code, text));
  }

  private replySpec(spec: ReplySpec): void {
    this.emit(formatSpec(spec));
  }

  private emit(formatted: string): void {
    const onTranscript = this.options.onTranscript;
    if (onTranscript) for (const line of replyLines(formatted)) onTranscript('S', line);
    this.output += formatted;
  }

  private take(produce: () => void): string {
    produce();
    const output = this.output;
    this.output = '';
    return output;
  }
}

/** SMTP's one reply for the message. */
function smtpReply(delivery: Delivery): ReplySpec {
  if (delivery.kind === 'delivered') return { code: 250, text: `2.0.0 Ok: queued as ${delivery.id}` };
  if (delivery.kind === 'refused') return delivery.reply;
  const failed = delivery.replies.find((reply) => reply.code >= 400);
  return failed ?? { code: 250, text: `2.0.0 Ok${delivery.id ? `: queued as ${delivery.id}` : ''}` };
}

/** LMTP's reply for the `index`th recipient the backend was given. */
function lmtpReply(delivery: Delivery, index: number, address: string): ReplySpec {
  if (delivery.kind === 'delivered') return { code: 250, text: `2.0.0 ${recipientTag(address)}Ok: queued as ${delivery.id}` };
  if (delivery.kind === 'refused') return delivery.reply;
  return delivery.replies[index] ?? LOCAL_ERROR;
}

/** LMTP replies name the recipient, as long as it stays plain ASCII reply text. */
function recipientTag(address: string): string {
  return /^[\x20-\x7e]+$/.test(address) ? `<${address}> ` : '';
}
