/**
 * One server-side SMTP or LMTP conversation (RFC 5321 §4.1, RFC 2033), without
 * sockets: bytes go in through `receive()`, reply text comes out. The caller
 * writes what one `receive()` returns in one write, which is how replies to a
 * pipelined group (RFC 2920) leave together and in order.
 *
 * The session is deliberately strict, because the client's tests trust it:
 * it wants HELO/EHLO (LHLO) before mail, checks paths and parameters against
 * the grammar, accepts only the parameters it advertises, and refuses bare
 * CR or LF in DATA instead of guessing what the client meant. BDAT chunks
 * (RFC 3030) are passed on byte for byte: they are counted, not delimited,
 * so nothing in them can end the message early or smuggle a command.
 *
 * The replies, and the error and junk-command limits that end a session
 * which only wastes the server's time, are session-output.ts's.
 *
 * STARTTLS (RFC 3207) is the connection's job; the session answers 220,
 * drops every byte the client sent after the command in the clear (the
 * command injection defence), and after `tlsStarted()` forgets the hello,
 * the transaction and any AUTH, as §4.2 asks.
 */
import { serverMechanisms } from '../sasl/server.js';
import { Authenticator, AUTH_SUCCEEDED, type AuthOutcome } from './auth.js';
import type { Backend, ConnectionInfo } from './backend.js';
import { CommandReader, type ReaderEvent } from './command-reader.js';
import { parseMailArgument, parseRcptArgument, type EnvelopeRefusal } from './envelope-command.js';
import { isDomainOrLiteral } from '../smtp/syntax.js';
import { advertisedExtensions, type Offer } from './extensions.js';
import { GuardedBackend } from './guarded-backend.js';
import { Intake } from './intake.js';
import type { SessionOptions } from './session-options.js';
import { SessionOutput } from './session-output.js';

export { SESSION_DEFAULTS, type SessionOptions } from './session-options.js';

export { DEFAULT_MAX_ERRORS, DEFAULT_MAX_JUNK_COMMANDS } from './session-output.js';

type Handler = (args: string | undefined) => void | Promise<void>;

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const LENIENT_UTF8 = new TextDecoder('utf-8');
const NOT_IMPLEMENTED = ['EXPN', 'STARTTLS', 'AUTH', 'BDAT', 'ETRN', 'TURN', 'ATRN', 'BURL', 'SEND', 'SOML', 'SAML'];
const JUNK = new Set(['NOOP', 'RSET', 'VRFY', 'HELP', 'EHLO', 'HELO', 'LHLO']);
const NO_CONNECTION: ConnectionInfo = { protocol: 'smtp', remoteAddress: '', remotePort: 0, localAddress: '', localPort: 0 };

export class Session {
  private readonly options: SessionOptions;
  private readonly connection: ConnectionInfo;
  private readonly backend: GuardedBackend;
  private readonly reader: CommandReader;
  private readonly handlers: ReadonlyMap<string, Handler>;
  private readonly authenticator: Authenticator | undefined;
  /** The domain from HELO, EHLO or LHLO; undefined until the client greets. */
  private helo: string | undefined;
  /** EHLO or LHLO rather than HELO: ESMTP parameters are allowed. */
  private extended = false;
  private secure: boolean;
  private tlsRequested = false;
  private user: string | undefined;
  private readonly intake: Intake;
  private readonly out: SessionOutput;

  constructor(options: SessionOptions, backend: Backend, connection?: ConnectionInfo) {
    this.options = options;
    this.out = new SessionOutput(options);
    this.connection = connection ?? { ...NO_CONNECTION, protocol: options.protocol };
    this.backend = new GuardedBackend(backend.newSession(this.connection), {
      hookTimeoutMs: options.hookTimeoutMs,
      commitTimeoutMs: options.commitTimeoutMs,
      log: (message) => options.onLog?.({ type: 'error', remoteAddress: this.connection.remoteAddress, message }),
    });
    this.reader = new CommandReader(options.maxLineLength);
    this.secure = options.tls === 'implicit';
    this.authenticator = options.full && options.auth ? new Authenticator(options.auth, options.sleep, options.hookTimeoutMs) : undefined;
    this.intake = new Intake({
      options,
      backend: this.backend,
      reader: this.reader,
      connection: this.connection,
      facts: () => ({ helo: this.helo ?? '', extended: this.extended, secure: this.secure, user: this.user }),
      reply: (code, text) => this.out.reply(code, text),
      replySpec: (spec) => this.out.replySpec(spec),
    });
    this.handlers = new Map<string, Handler>([
      ['EHLO', (args) => this.hello('EHLO', args)],
      ['HELO', (args) => this.hello('HELO', args)],
      ['LHLO', (args) => this.hello('LHLO', args)],
      ['MAIL', (args) => this.mail(args)],
      ['RCPT', (args) => this.rcpt(args)],
      ['DATA', (args) => this.data(args)],
      ['BDAT', (args) => this.bdat(args)],
      ['RSET', (args) => this.rset(args)],
      ['NOOP', () => this.out.reply(250, '2.0.0 Ok')],
      ['QUIT', (args) => this.quit(args)],
      ['VRFY', (args) => this.vrfy(args)],
      ['HELP', () => this.help()],
      ['STARTTLS', (args) => this.startTls(args)],
      ['AUTH', (args) => this.auth(args)],
    ]);
  }

  /** True once the session has said goodbye: write the output, then close. */
  get closed(): boolean {
    return this.out.closing;
  }

  /** Between commands, or inside message data (the connection's two timeouts). */
  get readingData(): boolean {
    return this.reader.readingData;
  }

  greeting(): string {
    const kind = this.options.protocol === 'lmtp' ? 'LMTP' : 'ESMTP';
    this.out.reply(220, `${this.options.hostname} ${kind} outbox`);
    return this.out.take();
  }

  /** The goodbye for a client that went quiet for too long. */
  timeout(): string {
    this.out.closing = true;
    this.out.reply(421, `4.4.2 ${this.options.hostname} Error: timeout exceeded`);
    return this.out.take();
  }

  /** Handles every event in `chunk` (and bytes left from earlier ones); returns the replies. */
  async receive(chunk: Buffer): Promise<string> {
    this.reader.push(chunk);
    for (let event = this.reader.next(); event && !this.out.closing && !this.tlsRequested; event = this.reader.next()) {
      await this.handle(event);
    }
    // Whatever came after STARTTLS was sent in the clear: none of it may count (RFC 3207 §5).
    if (this.tlsRequested) this.reader.discardBuffered();
    return this.out.take();
  }

  /** STARTTLS was answered with 220: the connection must start TLS now (once). */
  takeTlsUpgrade(): boolean {
    const requested = this.tlsRequested;
    this.tlsRequested = false;
    return requested;
  }

  /** TLS is up: start over as RFC 3207 §4.2 says, the client must greet again. */
  async tlsStarted(): Promise<void> {
    this.reader.discardBuffered();
    this.secure = true;
    this.helo = undefined;
    this.extended = false;
    this.user = undefined;
    await this.intake.reset();
  }

  /**
   * The connection is gone, said while a command may still be in progress
   * (the connection calls `end()` once it is over): stop reading, and cut
   * short a wait after a failed AUTH.
   */
  hangUp(): void {
    this.out.closing = true;
    this.authenticator?.hangUp();
  }

  /** The connection is gone: forget a half-received message. */
  async end(): Promise<void> {
    this.out.closing = true;
    await this.intake.drop();
    await this.backend.logout();
  }

  private async handle(event: ReaderEvent): Promise<void> {
    switch (event.type) {
      case 'line':
        return this.authenticator?.inProgress ? this.authResponse(event.line) : this.command(event.line);
      case 'line-too-long':
        this.options.onTranscript?.('C', '[line too long, discarded]');
        this.authenticator?.cancel();
        return this.out.reply(500, '5.5.2 Line too long');
      case 'data':
        return this.intake.bytes(event.bytes);
      case 'data-end':
        return this.intake.dataEnd(event.bareLineEnding);
      case 'chunk-end':
        return this.intake.chunkEnd();
    }
  }

  private async command(line: Buffer): Promise<void> {
    let text: string;
    try {
      text = UTF8.decode(line);
    } catch {
      this.options.onTranscript?.('C', LENIENT_UTF8.decode(line));
      return this.out.reply(500, '5.5.2 Error: invalid UTF-8 in command');
    }
    const space = text.indexOf(' ');
    const verb = (space === -1 ? text : text.slice(0, space)).toUpperCase();
    const args = space === -1 ? undefined : text.slice(space + 1);
    // An AUTH initial response is a password in base64: the transcript never shows it.
    this.options.onTranscript?.('C', verb === 'AUTH' && args?.includes(' ') ? `${text.slice(0, space + 1 + args.indexOf(' '))} [redacted]` : text);
    // CR, NUL and friends have no place in a command (RFC 5321 §4.1.1).
    if (/[\x00-\x1f\x7f]/.test(text)) return this.out.reply(500, '5.5.2 Error: control character in command');
    if (JUNK.has(verb) && !this.out.junkCommand()) return;
    const handler = this.handlers.get(verb);
    if (handler) return handler(args);
    if (NOT_IMPLEMENTED.includes(verb)) return this.notImplemented();
    return this.out.reply(500, '5.5.2 Error: command not recognized');
  }

  private async hello(verb: 'EHLO' | 'HELO' | 'LHLO', args: string | undefined): Promise<void> {
    const lmtp = this.options.protocol === 'lmtp';
    if (lmtp && verb !== 'LHLO') return this.out.reply(500, '5.5.1 Error: this is an LMTP server, use LHLO');
    if (!lmtp && verb === 'LHLO') return this.out.reply(500, '5.5.2 Error: command not recognized');
    if (args === undefined || !isDomainOrLiteral(args)) return this.out.reply(501, `5.5.4 Syntax: ${verb} hostname`);
    // A new greeting resets the transaction (RFC 5321 §4.1.4).
    await this.intake.reset();
    this.helo = args;
    this.extended = verb !== 'HELO';
    if (!this.extended) return this.out.reply(250, this.options.hostname);
    this.out.reply(250, [this.options.hostname, ...advertisedExtensions(this.offer())]);
  }

  /** What EHLO advertises now and what MAIL, RCPT, STARTTLS and AUTH accept. */
  private offer(): Offer {
    const full = this.options.full === true;
    return {
      sizeLimit: this.options.sizeLimit,
      full,
      startTls: full && this.options.tls === 'starttls' && !this.secure,
      auth: this.authenticator !== undefined && this.authAllowed(),
      authMechanisms: serverMechanisms(this.options.auth?.scram !== undefined),
    };
  }

  /** RFC 4954 §4: PLAIN and LOGIN carry the password readable, so only over TLS (or on loopback). */
  private authAllowed(): boolean {
    return this.secure || this.options.loopback === true;
  }

  private async mail(args: string | undefined): Promise<void> {
    if (this.helo === undefined) return this.needHello();
    if (this.intake.transaction) return this.out.reply(503, '5.5.1 Error: nested MAIL command');
    if (this.authenticator && this.user === undefined) return this.out.reply(530, '5.7.0 Authentication required');
    const argument = parseMailArgument(args, { extended: this.extended, sizeLimit: this.options.sizeLimit, offer: this.offer(), full: this.options.full === true });
    if (!argument.ok) return this.refuse(argument);
    const hook = await this.backend.mail(argument.address, argument.params);
    if (hook && hook.code >= 400) return this.out.replySpec(hook);
    this.intake.transaction = {
      mailFrom: argument.address,
      mailParams: argument.params,
      smtputf8: argument.params['SMTPUTF8'] === true,
      recipients: [],
      rcptParams: [],
    };
    this.out.mailAccepted();
    if (hook) return this.out.replySpec(hook);
    this.out.reply(250, '2.1.0 Ok');
  }

  private async rcpt(args: string | undefined): Promise<void> {
    if (this.helo === undefined) return this.needHello();
    const transaction = this.intake.transaction;
    if (!transaction) return this.out.reply(503, '5.5.1 Error: need MAIL command');
    if (this.intake.chunking) return this.out.reply(503, '5.5.1 Error: RCPT after BDAT');
    const argument = parseRcptArgument(args, this.options.full === true, transaction.smtputf8);
    if (!argument.ok) return this.refuse(argument);
    if (transaction.recipients.length >= this.options.maxRecipients) {
      return this.out.reply(452, '4.5.3 Error: too many recipients');
    }
    const testHook = this.options.refuseRecipient?.(argument.address);
    if (testHook && testHook.code >= 400) return this.out.replySpec(testHook);
    const hook = (await this.backend.rcpt(argument.address, argument.params)) ?? testHook;
    if (hook && hook.code >= 400) return this.out.replySpec(hook);
    transaction.recipients.push(argument.address);
    transaction.rcptParams.push(argument.params);
    if (hook) return this.out.replySpec(hook);
    this.out.reply(250, '2.1.5 Ok');
  }

  private async data(args: string | undefined): Promise<void> {
    if (args !== undefined) return this.out.reply(501, '5.5.4 Syntax: DATA');
    if (this.helo === undefined) return this.needHello();
    if (!this.intake.transaction) return this.out.reply(503, '5.5.1 Error: need MAIL command');
    return this.intake.data();
  }

  private async bdat(args: string | undefined): Promise<void> {
    if (!this.options.full) return this.notImplemented();
    const match = /^(\d{1,15})( LAST)?$/i.exec(args ?? '');
    // Without a size there is no telling where a chunk would end: what follows is read as commands.
    if (!match) return this.out.reply(501, '5.5.4 Syntax: BDAT chunk-size [LAST]');
    const early = this.helo === undefined ? { code: 503, text: `5.5.1 Error: send ${this.helloVerbs()} first` } : undefined;
    return this.intake.bdat(Number(match[1]), match[2] !== undefined, early);
  }

  private async rset(args: string | undefined): Promise<void> {
    if (args !== undefined) return this.out.reply(501, '5.5.4 Syntax: RSET');
    await this.intake.reset();
    this.out.reply(250, '2.0.0 Ok');
  }

  private quit(args: string | undefined): void {
    if (args !== undefined) return this.out.reply(501, '5.5.4 Syntax: QUIT');
    this.out.reply(221, `2.0.0 ${this.options.hostname} closing connection`);
    this.out.closing = true;
  }

  private vrfy(args: string | undefined): void {
    if (args === undefined || args === '') return this.out.reply(501, '5.5.4 Syntax: VRFY <address>');
    // RFC 5321 §3.5.3: 252 neither confirms nor denies the address.
    this.out.reply(252, '2.5.0 Cannot VRFY user, but will accept message and attempt delivery');
  }

  private help(): void {
    const hello = this.options.protocol === 'lmtp' ? 'LHLO' : 'EHLO HELO';
    const offer = this.offer();
    const extra = [...(offer.full ? ['BDAT'] : []), ...(offer.startTls ? ['STARTTLS'] : []), ...(this.authenticator ? ['AUTH'] : [])];
    this.out.reply(214, `2.0.0 Commands: ${[hello, 'MAIL RCPT DATA', ...extra, 'RSET NOOP QUIT VRFY HELP'].join(' ')}`);
  }

  private startTls(args: string | undefined): void {
    if (!this.options.full || this.options.tls !== 'starttls') return this.notImplemented();
    if (this.secure) return this.out.reply(503, '5.5.1 Error: TLS already active');
    if (args !== undefined) return this.out.reply(501, '5.5.4 Syntax: STARTTLS');
    if (this.helo === undefined) return this.needHello();
    this.out.reply(220, '2.0.0 Ready to start TLS');
    this.tlsRequested = true;
  }

  private async auth(args: string | undefined): Promise<void> {
    const authenticator = this.authenticator;
    if (!authenticator) return this.notImplemented();
    if (this.helo === undefined) return this.needHello();
    if (this.user !== undefined) return this.out.reply(503, '5.5.1 Error: already authenticated');
    if (this.intake.transaction) return this.out.reply(503, '5.5.1 Error: MAIL transaction in progress');
    if (!this.authAllowed()) return this.out.reply(530, '5.7.0 Must issue a STARTTLS command first');
    const match = /^([A-Za-z0-9_-]{1,20})(?: (\S+))?$/.exec(args ?? '');
    if (!match) return this.out.reply(501, '5.5.4 Syntax: AUTH mechanism [initial-response]');
    const outcome = await authenticator.begin(match[1]!, match[2]);
    if (!outcome) return this.out.reply(504, '5.5.4 Error: unsupported authentication mechanism');
    this.authEnds(outcome);
  }

  private async authResponse(line: Buffer): Promise<void> {
    this.options.onTranscript?.('C', '[AUTH response redacted]');
    this.authEnds(await this.authenticator!.respond(line.toString('latin1')));
  }

  private authEnds(outcome: AuthOutcome): void {
    if (outcome.kind === 'continue') return this.out.reply(334, outcome.challenge);
    if (outcome.kind === 'success') {
      this.user = outcome.user;
      return this.out.replySpec(AUTH_SUCCEEDED);
    }
    if (outcome.user !== undefined) {
      this.options.onLog?.({ type: 'auth-failed', remoteAddress: this.connection.remoteAddress, user: outcome.user });
    }
    this.out.replySpec(outcome.reply);
    this.out.countError(outcome.reply.code);
  }

  private notImplemented(): void {
    this.out.reply(502, '5.5.1 Error: command not implemented');
  }

  private helloVerbs(): string {
    return this.options.protocol === 'lmtp' ? 'LHLO' : 'EHLO/HELO';
  }

  private needHello(): void {
    this.out.reply(503, `5.5.1 Error: send ${this.helloVerbs()} first`);
  }

  /** A refused MAIL or RCPT argument; a syntax error counts towards the error limit, a refused parameter does not. */
  private refuse(refusal: EnvelopeRefusal): void {
    if (refusal.protocolError) this.out.reply(refusal.reply.code, refusal.reply.text);
    else this.out.replySpec(refusal.reply);
  }
}
